// The example scripts, run as a user runs them: the TabSyn pipeline in one command, and the
// nightly cron job with its quality gate (issue #8). Tiny budgets: these check the wiring and
// the guarantees, not the quality (bench/quality does that).

import Foundation
import XCTest

final class ExampleScriptTests: XCTestCase {
  /// The first `rows` data rows of the bundled adult sample.
  func smallTable(rows: Int, in dir: URL) throws -> URL {
    let text = try String(contentsOf: Paths.root.appendingPathComponent("examples/data/adult-2k.csv"), encoding: .utf8)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let url = dir.appendingPathComponent("small.csv")
    try (lines[0...rows].joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
    return url
  }

  func script(_ path: String, _ arguments: [String], environment: [String: String]) throws -> ToolResult {
    let saved = ProcessInfo.processInfo.environment
    for (key, value) in environment { setenv(key, value, 1) }
    defer {
      for key in environment.keys {
        if let old = saved[key] { setenv(key, old, 1) } else { unsetenv(key) }
      }
    }
    return try runBash([Paths.root.appendingPathComponent(path).path] + arguments)
  }

  var quickTraining: [String: String] {
    [
      "TABPIPE_BIN": Paths.binaries.path,
      "VAE_OPTIONS": "--epochs 2 --batch-size 64 --ff-width 16",
      "DIFFUSE_OPTIONS": "--epochs 2 --batch-size 64 --width 32 --depth 2",
    ]
  }

  func testSynthesizeWritesATableOfTheSameShape() throws {
    let dir = try Paths.scratch("synthesize")
    let input = try smallTable(rows: 120, in: dir)
    let output = dir.appendingPathComponent("synthetic.csv")
    let result = try script("examples/synthesize.sh", [input.path, output.path, "50"], environment: quickTraining)
    XCTAssertEqual(result.status, 0, result.stderr)
    let rows = simpleRows(try Data(contentsOf: output))
    let header = simpleRows(try Data(contentsOf: input))[0]
    XCTAssertEqual(rows.first, header)
    XCTAssertEqual(rows.count, 51)
    XCTAssertTrue(rows.dropFirst().allSatisfy { $0.count == header.count })
    // Nothing left behind in the output folder but the result and the input.
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    XCTAssertEqual(leftovers, ["small.csv", "synthetic.csv"])
  }

  func testSynthesizeGANHonoursItsCondition() throws {
    let dir = try Paths.scratch("synthesize-gan")
    let input = try smallTable(rows: 120, in: dir)
    let output = dir.appendingPathComponent("synthetic.csv")
    var environment = quickTraining
    environment["GAN_OPTIONS"] = "--epochs 1 --batch 60 --width 32"
    environment["WHERE"] = "sex=Female"
    let result = try script("examples/synthesize-gan.sh", [input.path, output.path, "40"], environment: environment)
    XCTAssertEqual(result.status, 0, result.stderr)
    let rows = simpleRows(try Data(contentsOf: output))
    let sex = try XCTUnwrap(rows.first?.firstIndex(of: "sex"))
    XCTAssertEqual(rows.count, 41)
    XCTAssertTrue(rows.dropFirst().allSatisfy { $0[sex] == "Female" })
  }

  func testSynthesizeRefusesWrongArguments() throws {
    let result = try script("examples/synthesize.sh", ["only-one.csv"], environment: quickTraining)
    XCTAssertEqual(result.status, 64)
    XCTAssertTrue(result.stderr.contains("usage:"), result.stderr)
  }

  /// Two nights: the first publishes an extract; the second is forced to fail its gate and
  /// must leave the first night's extract untouched, complete and alone in its folder.
  func testNightlyJobPublishesAtomicallyAndKeepsTheLastGoodExtract() throws {
    let dir = try Paths.scratch("nightly")
    let source = try smallTable(rows: 150, in: dir)
    let share = dir.appendingPathComponent("share")
    try FileManager.default.createDirectory(at: share, withIntermediateDirectories: true)
    let extract = share.appendingPathComponent("extract.csv")
    let state = dir.appendingPathComponent("state")
    var environment = quickTraining
    environment["SEED"] = "3"
    environment["BUDGET"] = "60s"
    environment["GATES"] = "shape=0.01"

    let first = try script("examples/cron/nightly.sh", [source.path, extract.path, state.path], environment: environment)
    XCTAssertEqual(first.status, 0, first.stderr)
    XCTAssertTrue(first.stderr.contains("<6>"), first.stderr)
    XCTAssertTrue(first.stderr.contains("published"), first.stderr)
    let published = try Data(contentsOf: extract)
    XCTAssertEqual(simpleRows(published).count, 151)
    XCTAssertTrue(FileManager.default.fileExists(atPath: state.appendingPathComponent("models/vae.model").path))

    // Night two: same source (the models are reused), an impossible gate.
    environment["GATES"] = "shape=1.01"
    environment["SEED"] = "4"
    let second = try script("examples/cron/nightly.sh", [source.path, extract.path, state.path], environment: environment)
    XCTAssertEqual(second.status, 1, second.stderr)
    XCTAssertTrue(second.stderr.contains("reusing the models"), second.stderr)
    XCTAssertTrue(second.stderr.contains("<3>"), second.stderr)
    XCTAssertTrue(second.stderr.contains("kept the previous extract"), second.stderr)
    // What a reader sees: the first night's extract, byte for byte, and nothing half-written.
    XCTAssertEqual(try Data(contentsOf: extract), published)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: share.path), ["extract.csv"])
    let stateFiles = try FileManager.default.contentsOfDirectory(atPath: state.path)
    XCTAssertFalse(stateFiles.contains { $0.hasPrefix(".work") }, "\(stateFiles)")
  }
}

/// Runs bash with `arguments` (XCTestCase's own run() hides the free function inside tests).
func runBash(_ arguments: [String]) throws -> ToolResult {
  try run(executable: "/bin/bash", arguments)
}
