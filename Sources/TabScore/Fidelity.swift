// Column shapes, missing-value rates and column-pair trends, computed as SDMetrics' quality
// report computes them (KSComplement, TVComplement, CorrelationSimilarity with Pearson,
// ContingencySimilarity with the numerical side cut into 10 equal-width bins, real and
// synthetic each on their own range). docs/metrics.md gives the definitions and the quirks.

/// The shape score of one column.
public struct ColumnShape: Codable, Sendable {
  public var column: String
  /// "KSComplement" or "TVComplement".
  public var metric: String
  public var score: Double
  /// Missing-cell share in the real and the synthetic table.
  public var realMissing: Double
  public var syntheticMissing: Double
}

/// The trend score of one column pair.
public struct PairTrend: Codable, Sendable {
  public var first: String
  public var second: String
  /// "CorrelationSimilarity" or "ContingencySimilarity".
  public var metric: String
  /// NaN (written as null) when incomputable (a constant column).
  public var score: Double
  /// Pearson correlations (CorrelationSimilarity only).
  public var realCorrelation: Double?
  public var syntheticCorrelation: Double?
}

public enum Fidelity {
  /// Shape score of column `c`.
  public static func shape(_ tables: ScoreTables, column c: Int) -> ColumnShape {
    let real = tables.real.columns[c]
    let synthetic = tables.synthetic.columns[c]
    let realMissing = Double(real.missing.count { $0 }) / Double(max(tables.real.rows, 1))
    let syntheticMissing =
      Double(synthetic.missing.count { $0 }) / Double(max(tables.synthetic.rows, 1))
    if tables.kinds[c] == .numerical {
      let score = 1 - kolmogorovSmirnov(real.values, synthetic.values)
      return ColumnShape(
        column: tables.names[c], metric: "KSComplement", score: score, realMissing: realMissing,
        syntheticMissing: syntheticMissing)
    }
    let score = totalVariationComplement(
      real: real.codes, synthetic: synthetic.codes, categories: tables.labels[c].count)
    return ColumnShape(
      column: tables.names[c], metric: "TVComplement", score: score, realMissing: realMissing,
      syntheticMissing: syntheticMissing)
  }

  /// The two-sample Kolmogorov-Smirnov statistic sup |F_a - F_b| over non-NaN values
  /// (scipy's `ks_2samp` statistic). Returns 1 when either side has no values.
  public static func kolmogorovSmirnov(_ a: [Double], _ b: [Double]) -> Double {
    let x = a.filter { !$0.isNaN }.sorted()
    let y = b.filter { !$0.isNaN }.sorted()
    guard !x.isEmpty && !y.isEmpty else { return 1 }
    var i = 0
    var j = 0
    var d = 0.0
    let n = Double(x.count)
    let m = Double(y.count)
    // Walk both sorted samples; at each distinct value, step past all its copies on both
    // sides, then compare the two empirical CDFs there.
    while i < x.count && j < y.count {
      let v = Swift.min(x[i], y[j])
      while i < x.count && x[i] == v { i += 1 }
      while j < y.count && y[j] == v { j += 1 }
      d = Swift.max(d, abs(Double(i) / n - Double(j) / m))
    }
    return d
  }

  /// 1 - TVD of the category frequencies, with SDMetrics' 1e-6 pseudo-count in the real
  /// table for categories only the synthetic one has (it enters the real total too).
  public static func totalVariationComplement(real: [Int32], synthetic: [Int32], categories: Int)
    -> Double
  {
    var realCounts = [Double](repeating: 0, count: categories)
    var syntheticCounts = [Double](repeating: 0, count: categories)
    for code in real { realCounts[Int(code)] += 1 }
    for code in synthetic { syntheticCounts[Int(code)] += 1 }
    var realTotal = Double(real.count)
    for k in 0..<categories where realCounts[k] == 0 && syntheticCounts[k] > 0 {
      realCounts[k] = 1e-6
      realTotal += 1e-6
    }
    let syntheticTotal = Double(synthetic.count)
    var variation = 0.0
    for k in 0..<categories where realCounts[k] > 0 {
      variation += abs(syntheticCounts[k] / syntheticTotal - realCounts[k] / realTotal)
    }
    return 1 - 0.5 * variation
  }

  /// Trend score of the pair (c1, c2).
  public static func trend(_ tables: ScoreTables, _ c1: Int, _ c2: Int) -> PairTrend {
    let names = (tables.names[c1], tables.names[c2])
    if tables.kinds[c1] == .numerical && tables.kinds[c2] == .numerical {
      let r = pearson(tables.real.columns[c1].values, tables.real.columns[c2].values)
      let s = pearson(tables.synthetic.columns[c1].values, tables.synthetic.columns[c2].values)
      return PairTrend(
        first: names.0, second: names.1, metric: "CorrelationSimilarity", score: 1 - abs(r - s) / 2,
        realCorrelation: r, syntheticCorrelation: s)
    }
    let (realA, sizeA) = discrete(tables, tables.real, c1)
    let (realB, sizeB) = discrete(tables, tables.real, c2)
    let (synA, _) = discrete(tables, tables.synthetic, c1)
    let (synB, _) = discrete(tables, tables.synthetic, c2)
    let score = contingencySimilarity(
      realA: realA, realB: realB, syntheticA: synA, syntheticB: synB, sizeA: sizeA, sizeB: sizeB)
    return PairTrend(first: names.0, second: names.1, metric: "ContingencySimilarity", score: score)
  }

  /// Every pair's trend, in SDMetrics' order (c1 < c2 in table order).
  public static func trends(_ tables: ScoreTables) -> [PairTrend] {
    var result: [PairTrend] = []
    for c1 in 0..<tables.width {
      for c2 in (c1 + 1)..<max(tables.width, c1 + 1) { result.append(trend(tables, c1, c2)) }
    }
    return result
  }

  /// A column as small integers: category codes, or the digitized bin (0...11) of a
  /// numerical column on its own table's 10 equal-width bins.
  static func discrete(_ tables: ScoreTables, _ table: ScoreTable, _ c: Int) -> ([Int32], Int) {
    if tables.kinds[c] == .categorical { return (table.columns[c].codes, tables.labels[c].count) }
    return (digitize(table.columns[c].values), 12)
  }

  /// numpy's `digitize(x, histogram_bin_edges(x[~isnan(x)]))`: 10 equal-width bins over
  /// [min, max] (±0.5 when constant); bin i + 1 holds edges[i] <= x < edges[i + 1], the
  /// maximum lands in bin 11 and so does NaN (it sorts after every edge).
  public static func digitize(_ values: [Double]) -> [Int32] {
    var low = Double.infinity
    var high = -Double.infinity
    for v in values where !v.isNaN {
      low = min(low, v)
      high = max(high, v)
    }
    if low > high { return values.map { _ in 11 } }
    if low == high {
      low -= 0.5
      high += 0.5
    }
    // np.linspace(low, high, 11): edge i = i * step + low, the last exactly high.
    let step = (high - low) / 10
    var edges = (0...10).map { Double($0) * step + low }
    edges[10] = high
    return values.map { v in
      if v.isNaN { return 11 }
      var bin: Int32 = 0
      for edge in edges where edge <= v { bin += 1 }
      return bin
    }
  }

  /// 1 - TVD of the joint frequencies of two discrete columns, over the union of cells.
  public static func contingencySimilarity(
    realA: [Int32], realB: [Int32], syntheticA: [Int32], syntheticB: [Int32], sizeA: Int, sizeB: Int
  ) -> Double {
    var real = [Double](repeating: 0, count: sizeA * sizeB)
    var synthetic = [Double](repeating: 0, count: sizeA * sizeB)
    for r in realA.indices { real[Int(realA[r]) * sizeB + Int(realB[r])] += 1 }
    for r in syntheticA.indices { synthetic[Int(syntheticA[r]) * sizeB + Int(syntheticB[r])] += 1 }
    let n = Double(realA.count)
    let m = Double(syntheticA.count)
    var variation = 0.0
    for k in real.indices { variation += abs(real[k] / n - synthetic[k] / m) }
    return 1 - variation / 2
  }

  /// Pearson correlation over rows where both values are present; NaN if either is constant.
  public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
    var n = 0.0
    var sx = 0.0
    var sy = 0.0
    for i in x.indices where !x[i].isNaN && !y[i].isNaN {
      n += 1
      sx += x[i]
      sy += y[i]
    }
    guard n > 1 else { return .nan }
    let mx = sx / n
    let my = sy / n
    var sxy = 0.0
    var sxx = 0.0
    var syy = 0.0
    for i in x.indices where !x[i].isNaN && !y[i].isNaN {
      let dx = x[i] - mx
      let dy = y[i] - my
      sxy += dx * dy
      sxx += dx * dx
      syy += dy * dy
    }
    guard sxx > 0 && syy > 0 else { return .nan }
    return max(-1, min(1, sxy / (sxx.squareRoot() * syy.squareRoot())))
  }
}
