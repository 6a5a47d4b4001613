// Valid tables at the edges: numbers near ±1e308 or beyond float32's range, and tables with no
// feature column left. tab-score must score them (or say a figure is not available), never trap
// or pass inf to XGBoost; and --json and --report must not name one file.

import Foundation
import Testing

@Suite struct ExtremeTableTests {
  let dir: URL
  init() throws { dir = try scratchDirectory("extreme-\(UUID().uuidString.prefix(8))") }

  /// A CSV of `rows` rows, columns a (cycling through `numbers`) and b (x/y).
  private func table(_ name: String, _ numbers: [String], rows: Int = 12) throws -> String {
    var text = "a,b\n"
    for r in 0..<rows { text += "\(numbers[r % numbers.count]),\(r % 2 == 0 ? "x" : "y")\n" }
    let url = dir.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
  }

  @Test func numbersNearTheDoubleLimitsScore() throws {
    // high - low overflows to inf: every scaled value was NaN and the neighbour search
    // returned index -1 (index out of range in Quality).
    let path = try table("huge.csv", ["1e308", "-1e308", "0.5", "1e308", "0.5"])
    let result = try runScore(["--threads", "1", "--no-detection", "--real", path, "--synthetic", path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("Alpha-precision"))
  }

  @Test func numbersBeyondFloat32ReachXGBoostFinite() throws {
    let path = try table("big.csv", ["1e160", "1", "2", "4e38"])
    let json = dir.appendingPathComponent("big.json").path
    let result = try runScore([
      "--threads", "1", "-q", "--no-distances", "--real", path, "--synthetic", path, "--holdout", path, "--target", "b",
      "--json", json,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
    let trees = (report["detection"] as! [[String: Any]]).first { $0["detector"] as? String == "xgboost" }!
    #expect(trees["score"] is Double)
    #expect((report["utility"] as! [String: Any])["synthetic"] is Double)
  }

  @Test func noFeatureColumnsMakeDetectionAndUtilityNotAvailable() throws {
    let ids = dir.appendingPathComponent("id.csv")
    try ("id\n" + (0..<12).map { "\($0)\n" }.joined()).write(to: ids, atomically: true, encoding: .utf8)
    let json = dir.appendingPathComponent("id.json").path
    let only = try runScore(["--threads", "1", "--real", ids.path, "--synthetic", ids.path, "--json", json])
    #expect(only.status == 0, "\(only.stderr)")
    #expect(
      only.stderr
        == "tab-score: warning: no column to score (IDs left out: id): detection, alpha-precision, "
        + "beta-recall, privacy not available\n")
    let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
    #expect((report["detection"] as! [[String: Any]]).map { $0["score"] as? String } == ["nan", "nan"])
    #expect(report["quality"] is NSNull || report["quality"] == nil)

    // The target as the only column: no features to predict it from.
    let singleURL = dir.appendingPathComponent("single.csv")
    try ("b\n" + (0..<12).map { $0 % 2 == 0 ? "x\n" : "y\n" }.joined()).write(to: singleURL, atomically: true, encoding: .utf8)
    let single = singleURL.path
    let target = try runScore([
      "--threads", "1", "--no-distances", "--no-detection", "--real", single, "--synthetic", single,
      "--holdout", single, "--target", "b",
    ])
    #expect(target.status == 0, "\(target.stderr)")
    #expect(target.stderr.contains("warning: 'b' is the only column scored: no features to predict it from"), "\(target.stderr)")
    #expect(target.stdout.contains("ML efficiency (auc, synthetic)       n/a"), "\(target.stdout)")
  }

  @Test func jsonAndReportMustDiffer() throws {
    let path = try table("t.csv", ["1.5", "2.5", "3.5"])
    let same = dir.appendingPathComponent("same.out").path
    let result = try runScore(["--real", path, "--synthetic", path, "--json", same, "--report", same])
    #expect(result.status == 64, "\(result.stderr)")
    #expect(result.stderr.hasPrefix("tab-score: --json and --report name the same file"))
    #expect(!FileManager.default.fileExists(atPath: same))
  }
}
