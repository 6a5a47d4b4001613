// Streams whose checksums are valid but whose content is inconsistent (a hand-edited header
// encoder, a code outside its field): readers exit 65 with one line, never trap, and tab-info's
// exit 0 keeps meaning "intact".

import Foundation
import Testing

@testable import TabStream
@testable import TabTable

@Suite struct CraftedStreams {
  let dir: URL
  /// id, a number with few values, and a categorical with 3 labels; 6 rows in 2 blocks.
  let csv = "n,c\n1.5,x\n2.5,y\n3.5,z\n1.5,x\n2.5,y\n3.5,z\n"

  init() throws { dir = try Paths.scratch("crafted-\(UUID().uuidString.prefix(8))") }

  /// tab-encode's stream for `csv`, rewritten with `edit` applied to its encoder and rows.
  private func crafted(
    _ name: String, encoder edit: (inout TableEncoder) -> Void = { _ in }, rows: (inout RowBlock) -> Void = { _ in }
  ) throws -> String {
    let encoded = try run("tab-encode", ["-q", "--block-rows", "3"], input: Data(csv.utf8))
    #expect(encoded.status == 0, "\(encoded.stderr)")
    let reader = try StreamReader(source: MemoryInput(Array(encoded.stdout)))
    var encoder = try TableEncoder.from(reader.header, path: "s")
    edit(&encoder)
    var header = reader.header
    header.encoder = try JSONValue(encoding: encoder)
    let out = MemoryOutput()
    let writer = try StreamWriter(sink: out, header: header)
    var block = RowBlock(layout: reader.header.layout)
    var first = true
    while try reader.read(into: &block) {
      if first { rows(&block) }
      first = false
      try writer.write(block)
    }
    try writer.finish()
    let url = dir.appendingPathComponent(name)
    try Data(out.bytes).write(to: url)
    return url.path
  }

  @Test func tabInfoRefusesTooFewLabels() throws {
    let path = try crafted("labels.tok", encoder: { $0.columns[1].labels?.removeLast() })
    let result = try run("tab-info", [path])
    #expect(result.status == 65, "\(result.stderr)")
    #expect(
      result.stderr
        == "tab-info: \(path): corrupt stream: the table encoder in its header is inconsistent: "
        + "int field \"c\" is a category with 3 codes in the stream, a category with 2 in the encoder\n")
    #expect(result.stdout.isEmpty)
  }

  @Test func tabDecodeRefusesAnInconsistentEncoder() throws {
    let path = try crafted("decimals.tok", encoder: { $0.columns[0].style?.decimals = -3 })
    let result = try run("tab-decode", [path])
    #expect(result.status == 65, "\(result.stderr)")
    #expect(
      result.stderr
        == "tab-decode: \(path): corrupt stream: the table encoder in its header is inconsistent: "
        + "column \"n\": decimals -3 outside 0...1074\n")
    #expect(result.stdout.isEmpty)
  }

  @Test func outOfRangeCodesAreCorruptForTabInfoToo() throws {
    // Row 2 of block 1, field c (the only int field).
    let path = try crafted("code99.tok", rows: { $0.ints[1] = 99 })
    let info = try run("tab-info", [path])
    #expect(info.status == 65, "\(info.stderr)")
    #expect(info.stderr == "tab-info: \(path): corrupt stream at block 1: row 2: field 'c': code 99 outside 0..<3\n")
    let decode = try run("tab-decode", [path])
    #expect(decode.status == 65)
    #expect(decode.stderr.contains("row 2 (block 1): column 'c': code 99 outside 0..<3"), "\(decode.stderr)")
    // The untouched stream is still intact.
    #expect(try run("tab-info", [try crafted("good.tok")]).status == 0)
  }
}
