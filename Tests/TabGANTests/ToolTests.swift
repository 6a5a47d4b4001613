// tab-gan as a user runs it: the pipeline tab-encode --numeric gmm | tab-gan train, then
// tab-gan sample | tab-decode; seeds; --where; and the documented failures with their one
// stderr line and exit status.

import Foundation
import TestSupport
import Testing

private var binaries: URL { BuiltTools.directory }

private struct Run {
  var status: Int32
  var stdout: Data
  var stderr: String
}

/// Runs a tool with `stdin` from a file (or nothing); collects stdout and stderr.
private func tool(_ name: String, _ arguments: [String], stdin: URL? = nil) throws -> Run {
  let process = Process()
  process.executableURL = binaries.appendingPathComponent(name)
  process.arguments = arguments
  let directory = FileManager.default.temporaryDirectory
  let out = directory.appendingPathComponent("tab-gan-test-\(UUID().uuidString).out")
  let err = directory.appendingPathComponent("tab-gan-test-\(UUID().uuidString).err")
  _ = FileManager.default.createFile(atPath: out.path, contents: nil)
  _ = FileManager.default.createFile(atPath: err.path, contents: nil)
  defer {
    try? FileManager.default.removeItem(at: out)
    try? FileManager.default.removeItem(at: err)
  }
  process.standardOutput = try FileHandle(forWritingTo: out)
  process.standardError = try FileHandle(forWritingTo: err)
  process.standardInput =
    try stdin.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
  try process.run()
  process.waitUntilExit()
  return Run(
    status: process.terminationStatus, stdout: try Data(contentsOf: out),
    stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
}

private func scratch(_ name: String) throws -> URL {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("tab-gan-tests-\(getpid())").appendingPathComponent(name)
  try? FileManager.default.removeItem(at: url)
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// Tiny widths and one short epoch: the tool path, not the model's quality.
private let shape = ["--batch", "50", "--pac", "5", "--width", "16", "--noise", "8", "-q"]
private let tiny = ["--epochs", "2"] + shape

@Suite(.serialized) struct ToolTests {
  @Test func pipelineWritesACSVThatHonoursWhere() throws {
    let dir = try scratch("pipeline")
    let csv = dir.appendingPathComponent("t.csv")
    try Data(syntheticCSV(rows: 200).utf8).write(to: csv)
    let tokens = dir.appendingPathComponent("t.tok")
    let encoded = try tool("tab-encode", ["--numeric", "gmm", csv.path, "-o", tokens.path])
    #expect(encoded.status == 0, "\(encoded.stderr)")
    let model = dir.appendingPathComponent("g.model").path
    let trained = try tool("tab-gan", ["train", "-m", model, "--seed", "3"] + tiny, stdin: tokens)
    #expect(trained.status == 0, "\(trained.stderr)")
    let sampled = dir.appendingPathComponent("s.tok")
    let s1 = try tool(
      "tab-gan",
      [
        "sample", "-m", model, "-n", "120", "--seed", "4", "--where", "flag=yes", "-o",
        sampled.path,
      ])
    #expect(s1.status == 0, "\(s1.stderr)")
    let s2 = try tool(
      "tab-gan",
      ["sample", "-m", model, "-n", "120", "--seed", "4", "--where", "flag=yes", "--force"])
    let again = dir.appendingPathComponent("again.tok")
    try s2.stdout.write(to: again)
    let decoded = try tool("tab-decode", [sampled.path])
    // The headers differ in the recorded options (-o, --force); the rows must not.
    let decodedAgain = try tool("tab-decode", [again.path])
    #expect(decoded.stdout == decodedAgain.stdout, "same seed, same rows")
    #expect(decoded.status == 0, "\(decoded.stderr)")
    let lines = String(decoding: decoded.stdout, as: UTF8.self).split(separator: "\n")
    #expect(lines.first == "age,color,size,flag")
    #expect(lines.count == 121)
    #expect(lines.dropFirst().allSatisfy { $0.hasSuffix(",yes") })
    let codes = try tool("tab-gan", ["codes", "-m", model, "--rows", "50"])
    #expect(codes.status == 0, "\(codes.stderr)")
    let text = String(decoding: codes.stdout, as: UTF8.self)
    #expect(
      text.hasPrefix("c0 (categorical, values 0-9):") && text.contains("\nc1 (continuous"),
      "\(text)")
    #expect(
      text.split(separator: "\n").count == 3
        && text.split(separator: "\n").allSatisfy { $0.contains("(noise floor 0.") })
    // codes takes --threads like the other commands; the tiny products run on one thread anyway.
    let oneThread = try tool("tab-gan", ["codes", "-m", model, "--rows", "50", "--threads", "1"])
    #expect(oneThread.status == 0 && oneThread.stdout == codes.stdout, "\(oneThread.stderr)")
    #expect(try tool("tab-gan", ["codes", "-m", model, "--threads", "0"]).status == 64)
    // -n 0 is an empty but valid stream (as for tab-diffuse sample): the header line comes back.
    let none = dir.appendingPathComponent("none.tok")
    let empty = try tool("tab-gan", ["sample", "-m", model, "-n", "0", "-o", none.path])
    #expect(empty.status == 0, "\(empty.stderr)")
    let header = try tool("tab-decode", [none.path])
    #expect(header.status == 0 && String(decoding: header.stdout, as: UTF8.self) == "age,color,size,flag\n")
    #expect(try tool("tab-gan", ["sample", "-m", model, "-n=-1"]).status == 64)
  }

  /// Two cores (products in halves on TabCore's helper thread, parallel Adam, BatchNorm and
  /// heads): the same seed still gives the same model, hence the same rows. The widths are large
  /// enough that the critic's products go through the two-way split.
  @Test func twoThreadTrainingIsReproducible() throws {
    let dir = try scratch("two-threads")
    let csv = dir.appendingPathComponent("t.csv")
    try Data(syntheticCSV(rows: 400).utf8).write(to: csv)
    let tokens = dir.appendingPathComponent("t.tok")
    #expect(try tool("tab-encode", ["--numeric", "gmm", csv.path, "-o", tokens.path]).status == 0)
    var decoded: [Data] = []
    for run in 0..<2 {
      let model = dir.appendingPathComponent("g\(run).model").path
      let trained = try tool(
        "tab-gan",
        ["train", "-m", model, "--seed", "9", "--threads", "2", "--epochs", "2", "--batch", "200",
         "--pac", "5", "--width", "64", "-q"], stdin: tokens)
      #expect(trained.status == 0, "\(trained.stderr)")
      let rows = dir.appendingPathComponent("s\(run).tok")
      let sampled = try tool(
        "tab-gan", ["sample", "-m", model, "-n", "300", "--seed", "2", "--threads", "2", "-o", rows.path])
      #expect(sampled.status == 0, "\(sampled.stderr)")
      decoded.append(try tool("tab-decode", [rows.path]).stdout)
    }
    #expect(decoded[0].count > 1000)
    #expect(decoded[0] == decoded[1], "same seed on two threads, same rows")
  }

  /// Regression: an epoch cut short by --max-time was reported as epoch 0 (a division by 0).
  @Test func timeBudgetStopsCleanlyAndSaves() throws {
    let dir = try scratch("budget")
    let csv = dir.appendingPathComponent("t.csv")
    try Data(syntheticCSV(rows: 2000).utf8).write(to: csv)
    let tokens = dir.appendingPathComponent("t.tok")
    _ = try tool("tab-encode", ["--numeric", "gmm", csv.path, "-o", tokens.path])
    let model = dir.appendingPathComponent("g.model")
    let log = dir.appendingPathComponent("log.jsonl")
    let run = try tool(
      "tab-gan",
      [
        "train", "-m", model.path, tokens.path, "--max-time", "0.3s", "--epochs", "1000", "--log",
        log.path,
      ]
        + shape)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(FileManager.default.fileExists(atPath: model.path))
    let lines = String(decoding: try Data(contentsOf: log), as: UTF8.self).split(separator: "\n")
    #expect(!lines.isEmpty && lines.count < 1000)
    #expect(lines.allSatisfy { $0.hasPrefix("{\"epoch\":") && !$0.hasPrefix("{\"epoch\":0,") })
  }

  @Test func quantileStreamIsABadDataError() throws {
    let dir = try scratch("quantile")
    let csv = dir.appendingPathComponent("t.csv")
    try Data(syntheticCSV(rows: 60).utf8).write(to: csv)
    let tokens = dir.appendingPathComponent("q.tok")
    _ = try tool("tab-encode", [csv.path, "-o", tokens.path])
    let run = try tool(
      "tab-gan", ["train", "-m", dir.appendingPathComponent("g.model").path, tokens.path] + tiny)
    #expect(run.status == 65)
    #expect(
      run.stderr == "tab-gan: \(tokens.path): column 'age' has no mode field (a quantile-encoded "
        + "stream); tab-gan needs CTGAN's mode-specific normalisation: tab-encode --numeric gmm\n")
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("g.model").path))
  }

  @Test func unknownWhereColumnIsAUsageError() throws {
    let dir = try scratch("where")
    let csv = dir.appendingPathComponent("t.csv")
    try Data(syntheticCSV(rows: 60).utf8).write(to: csv)
    let tokens = dir.appendingPathComponent("t.tok")
    _ = try tool("tab-encode", ["--numeric", "gmm", csv.path, "-o", tokens.path])
    let model = dir.appendingPathComponent("g.model").path
    _ = try tool("tab-gan", ["train", "-m", model, tokens.path] + tiny)
    let run = try tool(
      "tab-gan", ["sample", "-m", model, "-n", "5", "--where", "height=3", "--force"])
    #expect(run.status == 64)
    #expect(
      run.stderr
        == "tab-gan: --where 'height=3': no column 'height' in the model's table (columns: age, color, size, flag)\n"
    )
    #expect(run.stdout.isEmpty)
    let missing = try tool(
      "tab-gan", ["sample", "-m", dir.appendingPathComponent("none.model").path, "-n", "5"])
    #expect(missing.status == 66)
    let wrongKind = try tool("tab-gan", ["sample", "-m", tokens.path, "-n", "5", "--force"])
    #expect(wrongKind.status == 65, "\(wrongKind.stderr)")
  }
}
