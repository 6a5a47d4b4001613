// --target at its edges: a two-class target with one class only in the holdout has no ROC AUC
// (not available, with a warning, never a made-up 0.5), and an ID column as the target is
// named as such rather than as no column at all.

import Foundation
import TabStream
import TabTable
import Testing

@testable import TabScore

@Suite struct TargetTests {
  let dir: URL
  init() throws { dir = try scratchDirectory("target-\(UUID().uuidString.prefix(8))") }

  /// id (a row number, left out), a (numbers), b (p/q) and y, whose class is `label(row)`.
  private func csv(rows: Int, _ label: (Int) -> String) -> String {
    "id,a,b,y\n" + (0..<rows).map { r in "\(r),\(Double(r * 37 % 101) / 10),\(r % 3 == 0 ? "p" : "q"),\(label(r))\n" }.joined()
  }

  private func write(_ name: String, _ text: String) throws -> String {
    let url = dir.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
  }

  private func tables(real: String, holdout: String) throws -> ScoreTables {
    func store(_ text: String, _ name: String) throws -> ColumnStore {
      try ColumnStore.read(CSVReader(source: MemoryInput(text, name: name)), options: CSVInputOptions())
    }
    return try ScoreTables.make(
      real: store(real, "r.csv"), synthetic: store(real, "s.csv"), holdout: store(holdout, "h.csv"), encoder: nil,
      options: FitOptions())
  }

  @Test func aHoldoutWithOneClassHasNoAUC() throws {
    let real = csv(rows: 60) { $0 % 2 == 0 ? "x" : "z" }
    let holdout = csv(rows: 20) { _ in "x" }
    let both = try tables(real: real, holdout: holdout)
    let score = try Utility.score(both, target: "y", seed: 0, threads: 1)
    #expect(score.metric == "auc" && score.task == "binary")
    #expect(score.synthetic.isNaN && score.real.isNaN)
    var options = ScoreOptions()
    options.target = "y"
    #expect(Scorer.unavailable(both, options: options) == ["'y' has one class only in h.csv (x): ROC AUC needs both; ML efficiency not available"])

    // Both classes in the holdout: a real AUC, and no warning.
    let mixed = try tables(real: real, holdout: csv(rows: 20) { $0 % 4 == 0 ? "z" : "x" })
    let figures = try Utility.score(mixed, target: "y", seed: 0, threads: 1)
    #expect(!figures.synthetic.isNaN && !figures.real.isNaN)
    #expect(Scorer.unavailable(mixed, options: options).isEmpty)
  }

  @Test func theToolShowsTheAUCAsNotAvailable() throws {
    let real = try write("real.csv", csv(rows: 60) { $0 % 2 == 0 ? "x" : "z" })
    let holdout = try write("holdout.csv", csv(rows: 20) { _ in "z" })
    let json = dir.appendingPathComponent("score.json").path
    let result = try runScore([
      "--threads", "1", "--no-detection", "--no-distances", "--real", real, "--synthetic", real, "--holdout", holdout,
      "--target", "y", "--json", json,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      result.stderr
        == "tab-score: warning: 'y' has one class only in \(holdout) (z): ROC AUC needs both; ML efficiency not available\n")
    #expect(result.stdout.contains("ML efficiency (auc, synthetic)       n/a"), "\(result.stdout)")
    #expect(result.stdout.contains("ML efficiency (auc, real)            n/a"), "\(result.stdout)")
    #expect(!result.stdout.contains("0.5000"), "\(result.stdout)")
    let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
    let utility = report["utility"] as! [String: Any]
    #expect(utility["synthetic"] as? String == "nan" && utility["real"] as? String == "nan")

    // A gate on it fails: a figure that is not available passes no gate.
    let gated = try runScore([
      "--threads", "1", "-q", "--no-detection", "--no-distances", "--real", real, "--synthetic", real, "--holdout",
      holdout, "--target", "y", "--min", "utility=0.5",
    ])
    #expect(gated.status == 1, "\(gated.stderr)")
  }

  @Test func anIDColumnAsTargetIsNamedAsOne() throws {
    let real = csv(rows: 30) { $0 % 2 == 0 ? "x" : "z" }
    let both = try tables(real: real, holdout: real)
    #expect(both.skipped == ["id"])
    #expect(throws: ScoreError.identifierTarget(column: "id")) { try Utility.score(both, target: "id", seed: 0, threads: 1) }
    var options = ScoreOptions()
    options.target = "id"
    #expect(throws: ScoreError.identifierTarget(column: "id")) { try Scorer.score(both, options: options, version: "test") }

    let path = try write("ids.csv", real)
    let result = try runScore([
      "--threads", "1", "--no-detection", "--no-distances", "--real", path, "--synthetic", path, "--holdout", path,
      "--target", "id",
    ])
    #expect(result.status == 65)
    #expect(
      result.stderr
        == "tab-score: --target 'id' is an ID column, which is not scored and cannot be a target; "
        + "give it another type in --schema to score it\n")
    // A name that is no column at all keeps its message.
    let unknown = try runScore(["--no-detection", "--real", path, "--synthetic", path, "--holdout", path, "--target", "nope"])
    #expect(unknown.status == 65 && unknown.stderr == "tab-score: --target 'nope' is not a column of \(path)\n")
  }
}
