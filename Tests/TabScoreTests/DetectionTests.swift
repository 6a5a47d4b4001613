// The two detectors, AUC and F1 helpers, and the logistic objective's gradient.

import Foundation
import TabTable
import Testing

@testable import TabScore

@Suite struct DetectionTests {
  static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("examples/data/adult-2k.csv").path

  /// adult-2k as real; synthetic: every column shuffled on its own (right marginals, no
  /// dependence between columns).
  static func independentColumns() throws -> ScoreTables {
    var tables = try ScoreTables.read(
      real: examples, synthetic: examples, holdout: nil, encoder: nil, options: FitOptions())
    var generator = SplitMix(seed: 11)
    for c in 0..<tables.width {
      let order = Array(0..<tables.real.rows).shuffled(using: &generator)
      let column = tables.real.columns[c]
      tables.synthetic.columns[c] = ScoreColumn(
        values: column.values.isEmpty ? [] : order.map { column.values[$0] },
        codes: column.codes.isEmpty ? [] : order.map { column.codes[$0] },
        missing: order.map { column.missing[$0] })
    }
    return tables
  }

  @Test func independentColumnsFoolTheLogisticDetectorButNotTheTrees() throws {
    let tables = try Self.independentColumns()
    let logistic = Detection.logistic(tables, seed: 3)
    let trees = try Detection.trees(tables, seed: 3, threads: 2)
    #expect(logistic.score > 0.85, "logistic \(logistic.score) (AUC \(logistic.auc))")
    #expect(trees.score < 0.35, "trees \(trees.score) (AUC \(trees.auc))")
    #expect(trees.telling.reduce(0) { $0 + $1.share } > 0.999)
  }

  @Test func theSameTableIsIndistinguishable() throws {
    let tables = try ScoreTables.read(
      real: Self.examples, synthetic: Self.examples, holdout: nil, encoder: nil,
      options: FitOptions())
    // Each real row has an identical synthetic twin: no detector can beat a coin.
    #expect(Detection.logistic(tables, seed: 1).score > 0.9)
    #expect(try Detection.trees(tables, seed: 1, threads: 1).score > 0.9)
  }

  @Test func detectorsAreDeterministicForASeed() throws {
    let tables = try Self.independentColumns()
    let a = try Detection.trees(tables, seed: 5, threads: 2)
    let b = try Detection.trees(tables, seed: 5, threads: 2)
    #expect(a.auc == b.auc)
    #expect(Detection.logistic(tables, seed: 5).auc == Detection.logistic(tables, seed: 5).auc)
  }

  @Test func aucMatchesPairCounting() {
    var generator = SplitMix(seed: 2)
    let scores = (0..<200).map { _ in Double(Int.random(in: 0..<15, using: &generator)) }
    let labels = (0..<200).map { _ in Bool.random(using: &generator) }
    var wins = 0.0
    var pairs = 0.0
    for i in scores.indices where labels[i] {
      for j in scores.indices where !labels[j] {
        pairs += 1
        wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0
      }
    }
    #expect(abs(Detection.auc(scores: scores, labels: labels) - wins / pairs) < 1e-12)
  }

  @Test func macroF1ByHand() {
    // Class 0: tp 1, fp 1, fn 1 -> 0.5; class 1: tp 1, fp 1, fn 1 -> 0.5; class 2: tp 1 -> 1.
    let f1 = Utility.macroF1(predicted: [0, 1, 1, 0, 2], truth: [0, 0, 1, 1, 2], classes: 4)
    #expect(abs(f1 - 2.0 / 3) < 1e-12)
  }

  @Test func logisticObjectiveGradientMatchesFiniteDifferences() throws {
    let tables = try Fixture.tables("beijing", holdout: false)
    let data = LogisticFeatures(tables)
    let rows = Array(stride(from: 0, to: data.rows, by: 7))
    let (model, x, y) = LogisticModel.prepare(data, rows: rows)
    let width = data.numbers.count + model.off.count
    var generator = SplitMix(seed: 4)
    let p = (0...width).map { _ in Double.random(in: -0.5...0.5, using: &generator) }
    var gradient = [Double](repeating: 0, count: width + 1)
    _ = model.objective(data, rows: rows, scaled: x, labels: y, parameters: p, gradient: &gradient)
    var worst = (0.0, 0)
    for k in 0...width {
      var plus = p
      var minus = p
      plus[k] += 1e-5
      minus[k] -= 1e-5
      var scratch = gradient
      let numeric =
        (model.objective(
          data, rows: rows, scaled: x, labels: y, parameters: plus, gradient: &scratch)
          - model.objective(
            data, rows: rows, scaled: x, labels: y, parameters: minus, gradient: &scratch)) / 2e-5
      let error = abs(numeric - gradient[k]) / max(1, abs(numeric))
      if error > worst.0 { worst = (error, k) }
    }
    #expect(worst.0 < 1e-6, "parameter \(worst.1): relative error \(worst.0)")
  }

  @Test func lbfgsFindsTheMinimumOfAQuadratic() {
    // f(x) = Σ_k (k + 1)(x_k - k)², minimum at x_k = k.
    let x = LBFGS.minimize([Double](repeating: 0, count: 6), iterations: 100, tolerance: 1e-10) {
      p, g in
      var f = 0.0
      for k in p.indices {
        f += Double(k + 1) * (p[k] - Double(k)) * (p[k] - Double(k))
        g[k] = 2 * Double(k + 1) * (p[k] - Double(k))
      }
      return f
    }
    for k in x.indices { #expect(abs(x[k] - Double(k)) < 1e-6, "x[\(k)] = \(x[k])") }
  }

  @Test func utilityOnTheFixture() throws {
    let tables = try Fixture.tables("adult")
    let utility = try Utility.score(tables, target: "income", seed: 0, threads: 2)
    #expect(utility.task == "binary" && utility.metric == "auc")
    // Income is predictable from adult's columns: both models beat chance clearly.
    #expect(
      utility.real > 0.75 && utility.synthetic > 0.7,
      "real \(utility.real), synthetic \(utility.synthetic)")
    let regression = try Utility.score(tables, target: "age", seed: 0, threads: 2)
    #expect(regression.metric == "rmse" && regression.real > 0 && regression.real < 15)
    let multiclass = try Utility.score(tables, target: "race", seed: 0, threads: 2)
    #expect(multiclass.metric == "macro_f1" && multiclass.real > 0 && multiclass.real <= 1)
    #expect(throws: ScoreError.self) {
      try Utility.score(tables, target: "nope", seed: 0, threads: 1)
    }
  }

  @Test func gates() throws {
    let tables = try Fixture.tables("adult")
    var options = ScoreOptions()
    options.detection = false
    let report = try Scorer.score(tables, options: options, version: "test")
    let shape = report.headline.first { $0.name == "shape" }!.value
    #expect(try Gate(parsing: "shape=\(shape - 0.01)", isMinimum: true).check(report).passed)
    #expect(try !Gate(parsing: "shape=\(shape + 0.01)", isMinimum: true).check(report).passed)
    #expect(try Gate(parsing: "copies=0", isMinimum: false).check(report).passed)
    // A figure that was not computed fails its gate.
    #expect(try !Gate(parsing: "trees=0.5", isMinimum: true).check(report).passed)
    #expect(throws: GateError.self) { try Gate(parsing: "shape", isMinimum: true) }
    #expect(throws: GateError.self) { try Gate(parsing: "shine=0.9", isMinimum: true) }
  }
}

@Suite struct LogisticAgreementTests {
  /// One fit on every stacked row against sklearn's pipeline solved to 1e-10
  /// (make_fixtures.py: logistic_full_fit): the same problem has the same optimum.
  @Test(arguments: ["adult", "beijing"])
  func logisticFitMatchesSklearn(pair: String) throws {
    let tables = try Fixture.tables(pair, holdout: false)
    let expected = try Fixture.expected(pair)
    let data = LogisticFeatures(tables)
    let rows = Array(0..<data.rows)
    var (model, x, y) = LogisticModel.prepare(data, rows: rows)
    let width = data.numbers.count + model.off.count
    // Solved far past the detector's 100 iterations, to compare optima.
    let frozen = model
    let solution = LBFGS.minimize(
      [Double](repeating: 0, count: width + 1), iterations: 3000, tolerance: 1e-7
    ) { p, g in
      frozen.objective(data, rows: rows, scaled: x, labels: y, parameters: p, gradient: &g)
    }
    model.weights = Array(solution[0..<width])
    model.intercept = solution[width]
    var gradient = [Double](repeating: 0, count: width + 1)
    let objective = model.objective(
      data, rows: rows, scaled: x, labels: y, parameters: solution, gradient: &gradient)
    let want = expected["logistic_full_fit_objective"] as! Double
    #expect(
      objective >= want - 1e-6 && objective - want < 1e-6 * want,
      "ours \(objective), sklearn \(want)")
    let margins = rows.map { model.margin(data, row: $0) }
    let auc = Detection.auc(scores: margins, labels: data.labels)
    let wantAUC = expected["logistic_full_fit_auc"] as! Double
    #expect(abs(auc - wantAUC) < 1e-3, "AUC ours \(auc), sklearn \(wantAUC)")
  }
}
