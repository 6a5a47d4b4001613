// tab-score as a user runs it: the summary, --json, --report, gates and their exit status,
// determinism, and one test per documented error.

import Foundation
import TabStream
import TabTable
import TestSupport
import Testing

/// Runs the built tab-score; returns status, stdout and stderr.
func runScore(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
  let executable = URL(fileURLWithPath: BuiltTools.path("tab-score"))
  let process = Process()
  process.executableURL = executable
  process.arguments = arguments
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  process.standardInput = FileHandle.nullDevice
  try process.run()
  nonisolated(unsafe) var stdout = Data()
  nonisolated(unsafe) var stderr = Data()
  let group = DispatchGroup()
  DispatchQueue.global().async(group: group) {
    stdout = out.fileHandleForReading.readDataToEndOfFile()
  }
  DispatchQueue.global().async(group: group) {
    stderr = err.fileHandleForReading.readDataToEndOfFile()
  }
  process.waitUntilExit()
  group.wait()
  return (
    process.terminationStatus, String(decoding: stdout, as: UTF8.self),
    String(decoding: stderr, as: UTF8.self)
  )
}

func scratchDirectory(_ name: String) throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent(
    "tabscore-tests-\(getpid())/\(name)")
  try? FileManager.default.removeItem(at: url)
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

@Suite struct ScoreToolTests {
  let real = Fixture.path("beijing-real.csv")
  let synthetic = Fixture.path("beijing-synthetic.csv")
  let holdout = Fixture.path("beijing-holdout.csv")

  @Test func summaryJSONAndReport() throws {
    let dir = try scratchDirectory("outputs")
    let json = dir.appendingPathComponent("score.json").path
    let html = dir.appendingPathComponent("report.html").path
    let result = try runScore([
      "--real", real, "--synthetic", synthetic, "--holdout", holdout, "--target", "cbwd", "--json",
      json,
      "--report", html, "--seed", "3", "--min", "shape=0.5",
    ])
    #expect(result.status == 0, "stderr: \(result.stderr)")
    #expect(result.stdout.contains("Column shapes") && result.stdout.contains("pass (>= 0.5000)"))
    let object =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))
      as! [String: Any]
    let headline = object["headline"] as! [[String: Any]]
    let names = Set(headline.map { $0["name"] as! String })
    #expect(
      names.isSuperset(of: [
        "shape", "trend", "logistic", "trees", "alpha", "beta", "utility", "dcr", "copies",
      ]))
    let shape = headline.first { $0["name"] as! String == "shape" }!["value"] as! Double
    let expected = try Fixture.expected("beijing")["shape_score"] as! Double
    #expect(abs(shape - expected) < 1e-9)
    let page = try String(contentsOfFile: html, encoding: .utf8)
    #expect(
      page.hasPrefix("<!DOCTYPE html>") && page.contains("<svg") && page.contains("1 of 1") == false
    )
    #expect(page.contains("all 1 gates pass"))
    #expect(!page.contains("http://") && !page.contains("https://") && !page.contains("<script"))
  }

  @Test func sameSeedSameFigures() throws {
    let dir = try scratchDirectory("seed")
    var outputs: [String] = []
    for k in 0..<2 {
      let json = dir.appendingPathComponent("s\(k).json").path
      let result = try runScore([
        "--real", real, "--synthetic", synthetic, "--holdout", holdout, "--seed", "9", "--json",
        json, "-q",
      ])
      #expect(result.status == 0 && result.stdout.isEmpty, "stderr: \(result.stderr)")
      // Everything but the timings.
      var object =
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))
        as! [String: Any]
      #expect(object["timings"] != nil && object["seconds"] != nil)
      object["timings"] = nil
      object["seconds"] = nil
      let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
      outputs.append(String(decoding: data, as: UTF8.self))
    }
    #expect(outputs[0] == outputs[1])
  }

  @Test func failingGateExitsOneNamingTheFigure() throws {
    let result = try runScore([
      "--real", real, "--synthetic", synthetic, "--no-detection", "--no-distances", "--min",
      "trend=0.999",
      "--min", "shape=0.1", "--max", "copies=0",
    ])
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("tab-score: quality gate failed: trend "), "\(result.stderr)")
    #expect(!result.stderr.contains("shape") && result.stderr.contains("copies"))
    #expect(result.stdout.contains("FAIL (>= 0.9990)"))
  }

  @Test func mismatchedColumnsAreBadData() throws {
    let dir = try scratchDirectory("columns")
    let fewer = dir.appendingPathComponent("fewer.csv")
    try "year,month\n2010,1\n2011,2\n".write(to: fewer, atomically: true, encoding: .utf8)
    let missing = try runScore(["--real", real, "--synthetic", fewer.path])
    #expect(missing.status == 65)
    #expect(missing.stderr == "tab-score: \(fewer.path): column 'hour' of \(real) is missing\n")
    let extra = dir.appendingPathComponent("extra.csv")
    let text = try String(contentsOfFile: real, encoding: .utf8).split(separator: "\n")
      .enumerated().map { $0.offset == 0 ? $0.element + ",bonus" : $0.element + ",1" }.joined(
        separator: "\n")
    try text.write(to: extra, atomically: true, encoding: .utf8)
    let more = try runScore(["--real", real, "--synthetic", extra.path])
    #expect(more.status == 65 && more.stderr.contains("column 'bonus' is not in"))
  }

  @Test func emptyTableIsBadData() throws {
    let dir = try scratchDirectory("empty")
    let header = dir.appendingPathComponent("header.csv")
    try "year,month,hour,pm2.5,DEWP,TEMP,PRES,cbwd,Iws,Is,Ir\n".write(
      to: header, atomically: true, encoding: .utf8)
    let result = try runScore(["--real", real, "--synthetic", header.path])
    #expect(result.status == 65, "\(result.stderr)")
    #expect(result.stderr.hasPrefix("tab-score: \(header.path)"))
    let nothing = dir.appendingPathComponent("nothing.csv")
    try "".write(to: nothing, atomically: true, encoding: .utf8)
    #expect(try runScore(["--real", nothing.path, "--synthetic", synthetic]).status == 65)
  }

  @Test func unknownTargetIsBadData() throws {
    let result = try runScore([
      "--real", real, "--synthetic", synthetic, "--holdout", holdout, "--target", "income",
    ])
    #expect(result.status == 65)
    #expect(result.stderr == "tab-score: --target 'income' is not a column of \(real)\n")
    let noHoldout = try runScore([
      "--real", real, "--synthetic", synthetic, "--target", "cbwd", "--no-detection",
    ])
    #expect(noHoldout.status == 65 && noHoldout.stderr.contains("needs --holdout"))
  }

  @Test func usageErrors() throws {
    let badGate = try runScore(["--real", real, "--synthetic", synthetic, "--min", "shine=0.9"])
    #expect(badGate.status == 64 && badGate.stderr.contains("unknown figure 'shine'"))
    let missingFile = try runScore(["--real", real, "--synthetic", "/nonexistent/s.csv"])
    #expect(missingFile.status == 66)
  }

  @Test func badNumberNamesFileLineAndColumn() throws {
    let dir = try scratchDirectory("badnumber")
    let bad = dir.appendingPathComponent("bad.csv")
    var lines = try String(contentsOfFile: synthetic, encoding: .utf8).split(separator: "\n").map(
      String.init)
    var fields = lines[3].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    fields[4] = "cold"  // DEWP
    lines[3] = fields.joined(separator: ",")
    try (lines.joined(separator: "\n") + "\n").write(to: bad, atomically: true, encoding: .utf8)
    let result = try runScore(["--real", real, "--synthetic", bad.path])
    #expect(result.status == 65)
    #expect(
      result.stderr
        == "tab-score: \(bad.path):4: column 'DEWP': expected a number, found \"cold\"\n")
  }
}

@Suite struct TokenInputTests {
  /// The beijing synthetic fixture as a token stream, encoded in-process as tab-encode does.
  static func tokenStream(_ csv: String, to path: String) throws {
    let store = try ColumnStore.read(
      CSVReader(source: try FileInput(path: csv), dialect: CSVDialect()), options: CSVInputOptions()
    )
    let (fitted, _) = try TableFitter.fit(store, options: FitOptions())
    let header = StreamHeader(
      kind: .tokens, layout: fitted.layout, encoder: try JSONValue(encoding: fitted))
    let sink = try FileOutput(creating: path)
    let writer = try StreamWriter(sink: sink, header: header)
    try StoreEncoding.write(store, encoder: fitted, seed: 0, blockRows: 100, to: writer)
    try writer.finish()
  }

  @Test func aTokenStreamScoresAsItsCSV() throws {
    let dir = try scratchDirectory("tokens")
    let tokens = dir.appendingPathComponent("synthetic.tok").path
    try Self.tokenStream(Fixture.path("beijing-synthetic.csv"), to: tokens)
    var results: [String] = []
    for synthetic in [Fixture.path("beijing-synthetic.csv"), tokens] {
      let json = dir.appendingPathComponent("out.json").path
      let run = try runScore([
        "--real", Fixture.path("beijing-real.csv"), "--synthetic", synthetic, "--no-detection",
        "--no-distances", "--json", json, "-q",
      ])
      #expect(run.status == 0, "\(run.stderr)")
      let object =
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))
        as! [String: Any]
      let figures = try JSONSerialization.data(
        withJSONObject: [object["shapes"]!, object["trends"]!], options: [.sortedKeys])
      results.append(String(decoding: figures, as: UTF8.self))
    }
    #expect(results[0] == results[1])
  }
}
