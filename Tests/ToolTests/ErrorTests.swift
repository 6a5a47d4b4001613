// One test per documented failure: the one stderr line (program, file, line, column, what)
// and the exit status from the man pages; and that a failure never clobbers a good file.

import Foundation
import Testing

@testable import TabStream

private func expectFailure(
  _ result: ToolResult, status: Int32, message: String, sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(result.status == status, "status \(result.status), stderr: \(result.stderr)", sourceLocation: sourceLocation)
  #expect(result.stderr == message + "\n", "stderr: \(result.stderr)", sourceLocation: sourceLocation)
  #expect(result.stdout.isEmpty || result.status == 0, sourceLocation: sourceLocation)
}

private func write(_ text: String, _ name: String, in dir: URL) throws -> URL {
  let url = dir.appendingPathComponent(name)
  try Data(text.utf8).write(to: url)
  return url
}

@Suite struct BadInput {
  let dir: URL
  init() throws { dir = try Paths.scratch("errors-\(UUID().uuidString.prefix(8))") }

  @Test func raggedRow() throws {
    let file = try write("a,b,c\n1,2,3\n4,5\n", "r.csv", in: dir)
    expectFailure(try run("tab-encode", [file.path]), status: 65, message: "tab-encode: \(file.path):3: expected 3 fields, found 2")
  }

  @Test func unterminatedQuote() throws {
    let file = try write("a,b\n1,\"open\n2,3\n", "q.csv", in: dir)
    let result = try run("tab-encode", [file.path])
    #expect(result.status == 65)
    #expect(result.stderr.hasPrefix("tab-encode: \(file.path):2: column 'b' (2): unterminated"), "\(result.stderr)")
  }

  @Test func invalidUTF8() throws {
    let url = dir.appendingPathComponent("u.csv")
    try Data([0x61, 0x2C, 0x62, 0x0A, 0x31, 0x2C, 0xFF, 0xFE, 0x0A]).write(to: url)
    let result = try run("tab-encode", [url.path])
    #expect(result.status == 65)
    #expect(result.stderr.hasPrefix("tab-encode: \(url.path):2: column 'b' (2): "), "\(result.stderr)")
    #expect(result.stderr.contains("UTF-8"))
  }

  @Test func emptyInput() throws {
    let result = try run("tab-encode", input: Data())
    #expect(result.status == 65)
    #expect(result.stderr.hasPrefix("tab-encode: <stdin>: empty input"), "\(result.stderr)")
  }

  @Test func headerOnly() throws {
    let result = try run("tab-encode", input: Data("a,b\n".utf8))
    #expect(result.status == 65)
    #expect(result.stderr.hasPrefix("tab-encode: <stdin>: header but no rows"), "\(result.stderr)")
  }

  @Test func columnAllMissing() throws {
    expectFailure(
      try run("tab-encode", input: Data("a,b\n1,NA\n2,\n".utf8)), status: 65,
      message: "tab-encode: <stdin>: column 'b' is missing in every row; drop it, or give it a type in --schema")
  }

  @Test func schemaNamesAColumnTheTableLacks() throws {
    let schema = try write(#"{"columns": {"height": "numerical"}}"#, "s.json", in: dir)
    expectFailure(
      try run("tab-encode", ["--schema", schema.path], input: Data("a,b\n1,x\n2,y\n".utf8)), status: 65,
      message: "tab-encode: \(schema.path): column 'height' is not in <stdin>'s header")
  }

  @Test func schemaTypeTheValuesDoNotFit() throws {
    let schema = try write(#"{"columns": {"b": "numerical"}}"#, "s.json", in: dir)
    expectFailure(
      try run("tab-encode", ["--schema", schema.path], input: Data("a,b\n1,3\n2,4O\n".utf8)), status: 65,
      message: "tab-encode: <stdin>:3: column 'b': expected a number, found \"4O\"")
  }

  @Test func wrongStreamKind() throws {
    let model = dir.appendingPathComponent("enc.model").path
    #expect(try run("tab-encode", ["--fit", model, "-o", "/dev/null"], input: Data("a,b\n1,x\n2,y\n3,x\n".utf8)).status == 0)
    expectFailure(
      try run("tab-decode", [model]), status: 65,
      message: "tab-decode: \(model): stream of kind 'encoder', expected 'tokens'; tab-decode reads what tab-encode writes")
  }

  @Test func csvFedToADecoder() throws {
    expectFailure(
      try run("tab-decode", input: Data("a,b\n1,2\n".utf8)), status: 65,
      message: "tab-decode: <stdin>: not a tabpipe stream; it looks like text (a CSV?); turn a CSV into a stream with tab-encode")
  }

  @Test func truncatedStream() throws {
    let stream = try run("tab-encode", ["--force"], input: try Paths.table("shoppers")).stdout
    let cut = stream.prefix(stream.count - 5)
    let result = try run("tab-decode", input: cut)
    #expect(result.status == 65)
    #expect(result.stderr.hasPrefix("tab-decode: <stdin>: truncated stream"), "\(result.stderr)")
  }

  @Test func corruptStream() throws {
    var stream = try run("tab-encode", input: try Paths.table("shoppers")).stdout
    stream[stream.count / 2] ^= 0x10
    let result = try run("tab-decode", input: stream)
    #expect(result.status == 65)
    #expect(result.stderr.hasPrefix("tab-decode: <stdin>: corrupt stream at block 1"), "\(result.stderr)")
  }

  @Test func missingInputFile() throws {
    expectFailure(
      try run("tab-encode", ["/nonexistent/t.csv"]), status: 66,
      message: "tab-encode: /nonexistent/t.csv: No such file or directory")
  }

  @Test func badOption() throws {
    expectFailure(
      try run("tab-encode", ["--numeric", "fancy"], input: Data()), status: 64,
      message: "tab-encode: --numeric must be quantile or gmm (got 'fancy'); see 'tab-encode --help'")
    expectFailure(
      try run("tab-decode", ["--bogus"]), status: 64,
      message: "tab-decode: Unknown option '--bogus'; see 'tab-decode --help'")
  }

  @Test func helpIsPrintedWithStatusZero() throws {
    for tool in ["tab-encode", "tab-decode", "tab-info"] {
      let result = try run(tool, ["--help"])
      #expect(result.status == 0, "\(tool): \(result.stderr)")
      #expect(result.stdoutText.hasPrefix("OVERVIEW: "), "\(tool)")
    }
  }

  @Test func outputDirectoryMissing() throws {
    let result = try run("tab-encode", ["-o", "/nonexistent/dir/x.bin"], input: Data("a\n1\n2\n".utf8))
    #expect(result.status == 73, "\(result.stderr)")
    #expect(result.stderr.hasPrefix("tab-encode: /nonexistent/dir/x.bin: cannot create"))
  }

  @Test func failureLeavesTheExistingOutputAlone() throws {
    let target = dir.appendingPathComponent("good.bin")
    #expect(try run("tab-encode", ["-o", target.path], input: Data("a,b\n1,x\n2,y\n".utf8)).status == 0)
    let good = try Data(contentsOf: target)
    let failed = try run("tab-encode", ["-o", target.path], input: Data("a,b\n1,x\n2\n".utf8))
    #expect(failed.status == 65)
    #expect(try Data(contentsOf: target) == good)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
    #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
  }

  @Test func unknownCategoriesAreListed() throws {
    let model = dir.appendingPathComponent("enc.model").path
    #expect(try run("tab-encode", ["--fit", model, "-o", "/dev/null"], input: Data("k,v\na,1.5\nb,2.5\nc,3.5\n".utf8)).status == 0)
    let result = try run("tab-encode", ["--encoder", model, "--force"], input: Data("k,v\na,1\nz,2\ny,3\nz,4\n".utf8))
    #expect(result.status == 65)
    #expect(
      result.stderr == "tab-encode: <stdin>: categories not seen when the encoder was fitted: 'k': \"z\" (line 3), "
        + "\"y\" (line 4); use --unknown missing or --unknown frequent to encode them anyway\n")
    // No block may be written once an unknown category is met; the stream is left without
    // an end record, so a reader downstream fails too.
    let reader = try StreamReader(source: MemoryInput(Array(result.stdout)))
    var block = RowBlock(layout: reader.header.layout)
    #expect(throws: StreamError.truncated(path: "<memory>", rows: 0, blocks: 0)) { _ = try reader.read(into: &block) }
    let lenient = try run("tab-encode", ["--encoder", model, "--unknown", "frequent", "--force"], input: Data("k,v\na,1\nz,2\n".utf8))
    #expect(lenient.status == 0, "\(lenient.stderr)")
  }

  @Test func columnsDifferFromTheEncoder() throws {
    let model = dir.appendingPathComponent("enc.model").path
    #expect(try run("tab-encode", ["--fit", model, "-o", "/dev/null"], input: Data("k,v\na,1.5\nb,2.5\nc,3.5\n".utf8)).status == 0)
    expectFailure(
      try run("tab-encode", ["--encoder", model], input: Data("k,w\na,1\n".utf8)), status: 65,
      message: "tab-encode: <stdin>:1: columns differ from the encoder's: column 2 is 'w', the encoder expects 'v'")
  }
}
