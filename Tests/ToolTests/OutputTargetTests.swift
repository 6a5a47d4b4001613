// What -o, -m and --log do to what is already at the path (found by a fuzzing sweep): a device
// or FIFO is written into, not replaced by a regular file; a symbolic link is written through;
// a replaced file keeps its permissions; two outputs of one run, or a log onto the input or
// the model, are refused before anything is written.

import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct OutputTargets {
  let dir: URL
  let csv: URL
  let tokens: URL

  init() throws {
    dir = try Paths.scratch("outputs-\(UUID().uuidString.prefix(8))")
    csv = dir.appendingPathComponent("t.csv")
    var text = "age,job\n"
    for i in 0..<60 { text += "\(20 + i % 40),\(["a", "b", "c"][i % 3])\n" }
    try Data(text.utf8).write(to: csv)
    tokens = dir.appendingPathComponent("t.tok")
    try #require(try run("tab-encode", [csv.path, "-o", tokens.path]).status == 0)
  }

  private func kind(_ url: URL) -> mode_t {
    var s = stat()
    lstat(url.path, &s)
    return s.st_mode & S_IFMT
  }

  @Test func aFIFOIsWrittenIntoNotReplaced() throws {
    let fifo = dir.appendingPathComponent("out.fifo")
    #expect(mkfifo(fifo.path, 0o600) == 0)
    // A reader on the FIFO, as a shell's `cat` would be.
    nonisolated(unsafe) var received = Data()
    let reader = Thread {
      if let handle = FileHandle(forReadingAtPath: fifo.path) { received = handle.readDataToEndOfFile() }
    }
    reader.start()
    let result = try run("tab-decode", [tokens.path, "-o", fifo.path])
    while !reader.isFinished { usleep(10_000) }
    #expect(result.status == 0, "\(result.stderr)")
    #expect(kind(fifo) == S_IFIFO)
    #expect(String(decoding: received, as: UTF8.self) == (try String(contentsOf: csv, encoding: .utf8)))
  }

  @Test func aSymbolicLinkIsWrittenThrough() throws {
    let real = dir.appendingPathComponent("real.csv")
    try Data("old\n".utf8).write(to: real)
    let link = dir.appendingPathComponent("link.csv")
    #expect(symlink(real.lastPathComponent, link.path) == 0)
    let result = try run("tab-decode", [tokens.path, "-o", link.path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(kind(link) == S_IFLNK)
    #expect(try Data(contentsOf: real) == (try Data(contentsOf: csv)))
  }

  @Test func aReplacedFileKeepsItsPermissions() throws {
    let out = dir.appendingPathComponent("private.csv")
    try Data("old\n".utf8).write(to: out)
    chmod(out.path, 0o600)
    #expect(try run("tab-decode", [tokens.path, "-o", out.path]).status == 0)
    var s = stat()
    stat(out.path, &s)
    #expect(s.st_mode & 0o777 == 0o600)
    #expect(try Data(contentsOf: out) == (try Data(contentsOf: csv)))
  }

  @Test func twoOutputsOnOneFileAreRefused() throws {
    let same = dir.appendingPathComponent("same")
    let result = try run("tab-encode", [csv.path, "--fit", same.path, "-o", same.path])
    #expect(result.status == 64)
    #expect(result.stderr == "tab-encode: \(same.path): named for two outputs of this run\n")
    #expect(!FileManager.default.fileExists(atPath: same.path))
  }

  @Test func aLogOntoTheInputIsRefusedAndTheInputSurvives() throws {
    let before = try Data(contentsOf: tokens)
    let model = dir.appendingPathComponent("m.vae")
    let result = try run(
      "tab-vae", ["train", "-q", "--epochs", "1", "--threads", "1", "-m", model.path, "--log", tokens.path, tokens.path])
    #expect(result.status == 73)
    #expect(result.stderr.contains("--log names a file this run reads or writes"), "\(result.stderr)")
    #expect(try Data(contentsOf: tokens) == before)
    #expect(!FileManager.default.fileExists(atPath: model.path))
  }

  @Test func encodingOverTheModelIsRefused() throws {
    let model = dir.appendingPathComponent("m.vae")
    #expect(try run("tab-vae", ["train", "-q", "--epochs", "1", "--threads", "1", "-m", model.path, tokens.path]).status == 0)
    let before = try Data(contentsOf: model)
    for command in [["encode", tokens.path]] {
      let result = try run("tab-vae", command + ["-m", model.path, "-o", model.path])
      #expect(result.status == 73, "\(result.stderr)")
    }
    #expect(try Data(contentsOf: model) == before)
  }
}

/// tab-gan's options: values that used to crash, write a NaN model or run a whole training
/// before failing are refused up front (64), and a diverging run fails without a model (70).
@Suite struct GANOptionChecks {
  let dir: URL
  let tokens: URL

  init() throws {
    dir = try Paths.scratch("gan-options-\(UUID().uuidString.prefix(8))")
    var text = "x,y\n"
    for i in 0..<80 { text += "\(Double(i % 17) * 1.5),\(["p", "q"][i % 2])\n" }
    let csv = dir.appendingPathComponent("t.csv")
    try Data(text.utf8).write(to: csv)
    tokens = dir.appendingPathComponent("t.tok")
    try #require(try run("tab-encode", ["--numeric", "gmm", csv.path, "-o", tokens.path]).status == 0)
  }

  @Test(arguments: [
    ["--lr", "0"], ["--lr=-1"], ["--lr", "nan"], ["--lambda", "inf"], ["--lambda-cont", "nan"],
    ["--codes", "cat:0"], ["--codes", "cat:10,"], ["--codes", "cat:99999999999"],
    ["--pac", "1", "--batch", "1"], ["--width", "100000"],
  ])
  func badTrainingOptionsAreUsageErrors(options: [String]) throws {
    let model = dir.appendingPathComponent("x-\(UUID().uuidString.prefix(6)).gan")
    let result = try run("tab-gan", ["train", "-q", "--epochs", "1", "--threads", "1"] + options + ["-m", model.path, tokens.path])
    #expect(result.status == 64, "\(options): \(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1)
    #expect(!FileManager.default.fileExists(atPath: model.path))
  }

  @Test func aDivergingRunLeavesNoModel() throws {
    let model = dir.appendingPathComponent("nan.gan")
    let result = try run(
      "tab-gan", ["train", "-q", "--epochs", "3", "--threads", "1", "--batch", "20", "--pac", "10", "--lr", "1e30", "-m", model.path, tokens.path])
    #expect(result.status == 70, "\(result.stderr)")
    #expect(result.stderr.contains("training diverged"))
    #expect(!FileManager.default.fileExists(atPath: model.path))
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
    #expect(leftovers.isEmpty)
  }
}
