// Detection (C2ST): can a classifier tell real rows from synthetic ones? Two detectors, each
// cross-validated over 3 stratified folds: SDMetrics' LogisticDetection (imputed, robust-scaled,
// one-hot, L2 logistic regression with C = 1 fitted by L-BFGS) and a gradient-boosted-tree
// detector (XGBoost, as TabPC's C2ST-XGB). Score = 1 - (2 max(AUC, 1/2) - 1), averaged over
// folds: 1 means indistinguishable.

/// One detector's result.
public struct DetectionScore: Codable, Sendable {
  /// "logistic" or "xgboost".
  public var detector: String
  /// Mean ROC AUC over the folds (real rows are the positive class).
  public var auc: Double
  /// Mean over folds of 1 - (2 max(AUC, 1/2) - 1).
  public var score: Double
  /// Per column: its share of the detector's total split gain (trees only), largest first.
  public var telling: [TellingColumn]
}

/// A column that helps the detector.
public struct TellingColumn: Codable, Sendable {
  public var column: String
  public var share: Double
}

/// A small seeded generator (SplitMix64): fold assignment and sampling repeat across runs.
public struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

public enum Detection {
  /// Fold (0, 1, 2) of each stacked row (real rows first, then synthetic), stratified by
  /// table: each table's rows are shuffled and dealt round-robin.
  static func folds(real: Int, synthetic: Int, seed: UInt64, count: Int = 3) -> [Int] {
    var generator = SplitMix(seed: seed)
    var fold = [Int](repeating: 0, count: real + synthetic)
    for (start, n) in [(0, real), (real, synthetic)] {
      var order = Array(0..<n)
      order.shuffle(using: &generator)
      for (position, r) in order.enumerated() { fold[start + r] = position % count }
    }
    return fold
  }

  /// ROC AUC of `scores` for binary `labels` (1 positive), ties counted half (Mann-Whitney).
  public static func auc(scores: [Double], labels: [Bool]) -> Double {
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    var rankSum = 0.0
    var i = 0
    while i < order.count {
      var j = i
      while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
      let rank = Double(i + j) / 2 + 1  // average 1-based rank of the tie group
      for k in i...j where labels[order[k]] { rankSum += rank }
      i = j + 1
    }
    let positives = Double(labels.count { $0 })
    let negatives = Double(labels.count) - positives
    guard positives > 0 && negatives > 0 else { return 0.5 }
    return (rankSum - positives * (positives + 1) / 2) / (positives * negatives)
  }

  static func foldScore(_ auc: Double) -> Double { 1 - (2 * max(auc, 0.5) - 1) }

  // MARK: logistic

  /// SDMetrics' LogisticDetection on our column types (categorical columns one-hot, including
  /// integer-coded ones, which SDMetrics would treat as numbers from their pandas dtype).
  public static func logistic(_ tables: ScoreTables, seed: UInt64) -> DetectionScore {
    let stacked = LogisticFeatures(tables)
    let fold = folds(real: tables.real.rows, synthetic: tables.synthetic.rows, seed: seed)
    var aucs: [Double] = []
    var scores: [Double] = []
    for k in 0..<3 {
      let train = fold.indices.filter { fold[$0] != k }
      let test = fold.indices.filter { fold[$0] == k }
      let model = LogisticModel.fit(stacked, rows: train)
      let predictions = test.map { model.margin(stacked, row: $0) }
      let value = auc(scores: predictions, labels: test.map { stacked.labels[$0] })
      aucs.append(value)
      scores.append(foldScore(value))
    }
    return DetectionScore(
      detector: "logistic", auc: aucs.reduce(0, +) / 3, score: scores.reduce(0, +) / 3, telling: [])
  }

  // MARK: trees

  /// The tree detector: XGBoost (100 rounds, depth 6, eta 0.3: XGBClassifier's defaults) on
  /// numbers as they are (missing as missing) and category codes as ordinal numbers.
  public static func trees(_ tables: ScoreTables, seed: UInt64, threads: Int) throws
    -> DetectionScore
  {
    let rows = tables.real.rows + tables.synthetic.rows
    let width = tables.width
    var features = [Float](repeating: .nan, count: rows * width)
    for (offset, table) in [(0, tables.real), (tables.real.rows, tables.synthetic)] {
      for c in 0..<width {
        let column = table.columns[c]
        for r in 0..<table.rows {
          features[(offset + r) * width + c] =
            tables.kinds[c] == .numerical ? xgbFloat(column.values[r]) : Float(column.codes[r])
        }
      }
    }
    let labels = (0..<rows).map { $0 < tables.real.rows }
    let fold = folds(real: tables.real.rows, synthetic: tables.synthetic.rows, seed: seed)
    var aucs: [Double] = []
    var scores: [Double] = []
    var gains = [Double](repeating: 0, count: width)
    for k in 0..<3 {
      let train = fold.indices.filter { fold[$0] != k }
      let test = fold.indices.filter { fold[$0] == k }
      let trainMatrix = try matrix(features, width: width, rows: train, labels: labels)
      let testMatrix = try matrix(features, width: width, rows: test, labels: [])
      let booster = try XGBBooster(
        train: trainMatrix,
        parameters: [
          ("objective", "binary:logistic"), ("max_depth", "6"), ("eta", "0.3"),
          ("tree_method", "hist"),
          ("nthread", "\(xgboostThreads(rows: train.count, requested: threads))"),
          ("seed", "\(seed &+ UInt64(k))"),
        ], rounds: 100)
      let predictions = try booster.predict(testMatrix).map(Double.init)
      let value = auc(scores: predictions, labels: test.map { labels[$0] })
      aucs.append(value)
      scores.append(foldScore(value))
      for (c, gain) in try booster.totalGain(width: width).enumerated() { gains[c] += gain }
    }
    let total = gains.reduce(0, +)
    let telling = gains.indices.map {
      TellingColumn(column: tables.names[$0], share: total > 0 ? gains[$0] / total : 0)
    }
    .sorted { $0.share > $1.share }
    return DetectionScore(
      detector: "xgboost", auc: aucs.reduce(0, +) / 3, score: scores.reduce(0, +) / 3,
      telling: telling)
  }

  /// An XGBoost matrix of the chosen rows (labels: 1 for true, or none).
  static func matrix(_ features: [Float], width: Int, rows: [Int], labels: [Bool]) throws
    -> XGBMatrix
  {
    var selected = [Float](repeating: 0, count: rows.count * width)
    for (i, r) in rows.enumerated() {
      for c in 0..<width { selected[i * width + c] = features[r * width + c] }
    }
    return try selected.withUnsafeBufferPointer {
      try XGBMatrix(
        features: $0, rows: rows.count, width: width,
        labels: labels.isEmpty ? [] : rows.map { labels[$0] ? 1 : 0 })
    }
  }
}
