// Machine-learning efficiency: an XGBoost model trained on the synthetic table and one trained
// on the real table, both tested on the holdout table. ROC AUC for a binary target, macro F1
// for a multi-class one, RMSE for a numerical one (in the target's own units).

/// Machine-learning efficiency figures.
public struct UtilityScore: Codable, Sendable {
  public var target: String
  /// "binary", "multiclass" or "regression".
  public var task: String
  /// "auc", "macro_f1" or "rmse".
  public var metric: String
  /// The figure of the model trained on synthetic rows, and on real rows.
  public var synthetic: Double
  public var real: Double
  /// Higher is better for auc and macro_f1, lower for rmse.
  public var higherIsBetter: Bool
}

public enum Utility {
  /// Trains and tests both models (100 rounds, depth 6, eta 0.3; seeded).
  /// A two-class target with one class only in the holdout has no ROC AUC: both figures are
  /// then NaN (not available), as without feature columns.
  /// - Throws: `ScoreError.unusableTarget` (a constant target, no holdout rows with a
  ///   target), `ScoreError.unknownTarget`, `ScoreError.identifierTarget`, `XGBoostError`.
  public static func score(_ tables: ScoreTables, target name: String, seed: UInt64, threads: Int)
    throws
    -> UtilityScore
  {
    let t = try tables.targetIndex(name)
    guard let holdout = tables.holdout else {
      throw ScoreError.unusableTarget(
        column: name, detail: "machine-learning efficiency needs --holdout")
    }
    let numerical = tables.kinds[t] == .numerical
    let classes = numerical ? 0 : tables.realCategories[t]
    if !numerical && classes < 2 {
      throw ScoreError.unusableTarget(column: name, detail: "the real table has one class only")
    }
    let task = numerical ? "regression" : classes == 2 ? "binary" : "multiclass"
    var parameters: [(String, String)] = [
      ("max_depth", "6"), ("eta", "0.3"), ("tree_method", "hist"),
      (
        "nthread",
        "\(xgboostThreads(rows: tables.real.rows + tables.synthetic.rows, requested: threads))"
      ), ("seed", "\(seed)"),
    ]
    switch task {
    case "regression": parameters.append(("objective", "reg:squarederror"))
    case "binary": parameters.append(("objective", "binary:logistic"))
    default: parameters += [("objective", "multi:softprob"), ("num_class", "\(classes)")]
    }
    let metric = task == "regression" ? "rmse" : task == "binary" ? "auc" : "macro_f1"
    guard tables.width > 1 else {
      // The target is the only column: no features (XGBoost refuses 0), so not available.
      return UtilityScore(
        target: name, task: task, metric: metric, synthetic: .nan, real: .nan, higherIsBetter: task != "regression")
    }
    let (testX, testY) = design(tables, holdout, target: t)
    guard !testY.isEmpty else {
      throw ScoreError.unusableTarget(
        column: name, detail: "no holdout row has a usable target value")
    }
    if task == "binary" && Set(testY).count < 2 {
      // ROC AUC ranks positives against negatives: with one class there is nothing to rank.
      return UtilityScore(
        target: name, task: task, metric: metric, synthetic: .nan, real: .nan, higherIsBetter: true)
    }
    let test = try testX.withUnsafeBufferPointer {
      try XGBMatrix(features: $0, rows: testY.count, width: tables.width - 1, labels: [])
    }
    func evaluate(_ table: ScoreTable) throws -> Double {
      let (x, y) = design(tables, table, target: t)
      guard !y.isEmpty else { return task == "regression" ? .infinity : 0 }
      let train = try x.withUnsafeBufferPointer {
        try XGBMatrix(features: $0, rows: y.count, width: tables.width - 1, labels: y)
      }
      let booster = try XGBBooster(train: train, parameters: parameters, rounds: 100)
      let predicted = try booster.predict(test).map(Double.init)
      switch task {
      case "regression":
        var sum = 0.0
        for i in testY.indices {
          sum += (predicted[i] - Double(testY[i])) * (predicted[i] - Double(testY[i]))
        }
        return (sum / Double(testY.count)).squareRoot()
      case "binary":
        return Detection.auc(scores: predicted, labels: testY.map { $0 == 1 })
      default:
        let chosen = testY.indices.map { i in
          (0..<classes).max { predicted[i * classes + $0] < predicted[i * classes + $1] }!
        }
        return macroF1(predicted: chosen, truth: testY.map { Int($0) }, classes: classes)
      }
    }
    return UtilityScore(
      target: name, task: task,
      metric: metric,
      synthetic: try evaluate(tables.synthetic), real: try evaluate(tables.real),
      higherIsBetter: task != "regression")
  }

  /// Features (every other column: numbers, missing as NaN; category codes as ordinal
  /// numbers) and labels of the rows with a usable target (present, and a class the real
  /// table has).
  static func design(_ tables: ScoreTables, _ table: ScoreTable, target t: Int) -> (
    [Float], [Float]
  ) {
    var x: [Float] = []
    var y: [Float] = []
    let numerical = tables.kinds[t] == .numerical
    for r in 0..<table.rows {
      let label: Float
      if numerical {
        let v = table.columns[t].values[r]
        if v.isNaN { continue }
        label = xgbFloat(v)
      } else {
        let code = table.columns[t].codes[r]
        if Int(code) >= tables.realCategories[t] { continue }
        label = Float(code)
      }
      for c in 0..<tables.width where c != t {
        x.append(
          tables.kinds[c] == .numerical
            ? xgbFloat(table.columns[c].values[r]) : Float(table.columns[c].codes[r]))
      }
      y.append(label)
    }
    return (x, y)
  }

  /// Unweighted mean of per-class F1 over classes present in truth or predictions (sklearn's
  /// f1_score(average="macro") over the labels seen).
  public static func macroF1(predicted: [Int], truth: [Int], classes: Int) -> Double {
    var tp = [Double](repeating: 0, count: classes)
    var fp = tp
    var fn = tp
    for i in truth.indices {
      if predicted[i] == truth[i] {
        tp[truth[i]] += 1
      } else {
        fp[predicted[i]] += 1
        fn[truth[i]] += 1
      }
    }
    var sum = 0.0
    var seen = 0
    for k in 0..<classes where tp[k] + fp[k] + fn[k] > 0 {
      seen += 1
      sum += 2 * tp[k] / (2 * tp[k] + fp[k] + fn[k])
    }
    return seen > 0 ? sum / Double(seen) : 0
  }
}
