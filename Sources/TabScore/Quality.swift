// Alpha-precision and beta-recall, the "naive" variant TabSyn reports (synthcity's
// AlphaPrecision without the one-class embedding; Alaa et al., ICML 2022), and the feature
// space they are measured in. docs/metrics.md has the definitions.

/// Alpha-precision (synthetic rows inside the real support) and beta-recall (real rows
/// covered by synthetic ones), both in [0, 1], higher is better.
public struct PrecisionRecall: Codable, Sendable {
  public var alphaPrecision: Double
  public var betaRecall: Double
}

public enum Quality {
  /// The space of TabSyn's eval_quality.py: [numerical | one-hot categorical (fitted on real,
  /// labels sorted)], the very last indicator dropped (synthcity takes the last column as the
  /// target), min-max scaled on real. Missing numbers take the real mean; a category the real
  /// table lacks has no indicator (all zeros).
  /// - Returns: rows of the real and synthetic tables, and for each table the exact squared
  ///   distance of each row to a center given as a per-table closure.
  static func space(_ tables: ScoreTables) -> (
    real: DistanceRows, synthetic: DistanceRows, lastCategorical: Int?, dropped: Int32?
  ) {
    var realNumbers: [[Double]] = []
    var syntheticNumbers: [[Double]] = []
    var realCodes: [[Int32]] = []
    var syntheticCodes: [[Int32]] = []
    var realWeights: [[Double]] = []
    var syntheticWeights: [[Double]] = []
    let lastCategorical = tables.kinds.lastIndex(of: .categorical)
    var dropped: Int32? = nil
    for c in 0..<tables.width where tables.kinds[c] == .numerical {
      let real = tables.real.columns[c].values
      let present = real.filter { !$0.isNaN }
      let mean = present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count)
      let low = present.min() ?? 0
      let high = present.max() ?? 0
      let scale = high > low ? high - low : 1
      // A range beyond Double's (values near ±1e308) would make every row inf/inf = NaN: halve
      // both sides, which stays finite and is the same ratio.
      let halved = !scale.isFinite
      func scaled(_ v: Double) -> Double {
        let x = v.isNaN ? mean : v
        return halved ? (x / 2 - low / 2) / (high / 2 - low / 2) : (x - low) / scale
      }
      realNumbers.append(real.map(scaled))
      syntheticNumbers.append(tables.synthetic.columns[c].values.map(scaled))
    }
    for c in 0..<tables.width where tables.kinds[c] == .categorical {
      let known = tables.realCategories[c]
      var weight = [Double](repeating: 0, count: tables.labels[c].count)
      for k in 0..<known { weight[k] = 1 }
      if c == lastCategorical {
        // sklearn's OneHotEncoder sorts labels; the last column is the largest label.
        let largest = (0..<known).max {
          Array(tables.labels[c][$0].utf8).lexicographicallyPrecedes(
            Array(tables.labels[c][$1].utf8))
        }
        if let largest {
          weight[largest] = 0
          dropped = Int32(largest)
        }
      }
      realCodes.append(tables.real.columns[c].codes)
      syntheticCodes.append(tables.synthetic.columns[c].codes)
      realWeights.append(tables.real.columns[c].codes.map { weight[Int($0)] })
      syntheticWeights.append(tables.synthetic.columns[c].codes.map { weight[Int($0)] })
    }
    return (
      DistanceRows(
        rows: tables.real.rows, numbers: realNumbers, codes: realCodes, weights: realWeights),
      DistanceRows(
        rows: tables.synthetic.rows, numbers: syntheticNumbers, codes: syntheticCodes,
        weights: syntheticWeights),
      lastCategorical, dropped
    )
  }

  /// Euclidean distance of every row of `rows` to the mean of `centerRows`, in the one-hot
  /// space: numerical parts directly; a categorical feature j contributes
  /// Σ_k (indicator_k(row) - mean_k)² over its kept indicators (weight 1 in `weights`).
  static func distancesToCenter(_ rows: DistanceRows, center centerRows: DistanceRows) -> [Double] {
    var squared = [Double](repeating: 0, count: rows.rows)
    for f in 0..<rows.numbers.count {
      let mean = centerRows.numbers[f].reduce(0, +) / Double(centerRows.rows)
      for r in 0..<rows.rows {
        let d = rows.numbers[f][r] - mean
        squared[r] += d * d
      }
    }
    for j in 0..<rows.codes.count {
      // Indicator k is kept when its rows carry weight 1; its mean over the center rows is the
      // share of those rows holding k. A row with code a has indicator a on, the others off:
      // Σ_k mean_k² + [a kept] (1 - 2 mean_a).
      // An array, not a dictionary: the sums below must run in the same order every time.
      let categories = Int(max(rows.codes[j].max() ?? 0, centerRows.codes[j].max() ?? 0)) + 1
      var share = [Double](repeating: 0, count: categories)
      for r in 0..<centerRows.rows where centerRows.weights[j][r] > 0 {
        share[Int(centerRows.codes[j][r])] += 1
      }
      for k in share.indices { share[k] /= Double(centerRows.rows) }
      let base = share.reduce(0) { $0 + $1 * $1 }
      for r in 0..<rows.rows {
        var value = base
        if rows.weights[j][r] > 0 {
          let m = share[Int(rows.codes[j][r])]
          value += 1 - 2 * m
        }
        squared[r] += value
      }
    }
    return squared.map { $0.squareRoot() }
  }

  /// numpy's default (linear) quantile of sorted values.
  static func quantile(_ sorted: [Double], _ q: Double) -> Double {
    let position = q * Double(sorted.count - 1)
    let below = Int(position.rounded(.down))
    let above = min(below + 1, sorted.count - 1)
    let fraction = position - Double(below)
    return sorted[below] + (sorted[above] - sorted[below]) * fraction
  }

  /// Alpha-precision and beta-recall.
  /// - Precondition: both tables have at least 2 rows.
  public static func precisionRecall(_ tables: ScoreTables, threads: Int = 2) -> PrecisionRecall {
    let (real, synthetic, _, _) = space(tables)
    let alphas = (0..<30).map { Double($0) / 29 }
    let realToCenter = distancesToCenter(real, center: real).sorted()
    let radii = alphas.map { quantile(realToCenter, $0) }
    let syntheticToCenter = distancesToCenter(synthetic, center: real)
    let realToReal = NearestNeighbours.search(
      queries: real, references: real, norm: .euclidean, excludingSelf: true, threads: threads)
    let realToSynthetic = NearestNeighbours.search(
      queries: real, references: synthetic, norm: .euclidean, threads: threads)
    // s(x): distance of x's nearest synthetic row to the synthetic center.
    let syntheticToOwnCenter = distancesToCenter(synthetic, center: synthetic)
    let closest = realToSynthetic.map { syntheticToOwnCenter[$0.index] }
    let closestRadii = alphas.map { quantile(closest.sorted(), $0) }
    var precisionError = 0.0
    var recallError = 0.0
    let sortedSynthetic = syntheticToCenter.sorted()
    for k in alphas.indices {
      let inside = upperBound(sortedSynthetic, radii[k])
      let precision = Double(inside) / Double(synthetic.rows)
      var covered = 0
      for r in 0..<real.rows
      where realToSynthetic[r].first <= realToReal[r].first && closest[r] <= closestRadii[k] {
        covered += 1
      }
      let recall = Double(covered) / Double(real.rows)
      precisionError += abs(alphas[k] - precision)
      recallError += abs(alphas[k] - recall)
    }
    let total = alphas.reduce(0, +)
    return PrecisionRecall(
      alphaPrecision: 1 - precisionError / total, betaRecall: 1 - recallError / total)
  }

  /// How many of `sorted` are <= value.
  static func upperBound(_ sorted: [Double], _ value: Double) -> Int {
    var low = 0
    var high = sorted.count
    while low < high {
      let mid = (low + high) / 2
      if sorted[mid] <= value { low = mid + 1 } else { high = mid }
    }
    return low
  }
}
