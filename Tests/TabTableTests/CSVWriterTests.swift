// Tests of CSVWriter: exact minimal quoting, line endings, direct field writes, buffering
// against the sink, and reader(writer(records)) == records on seeded random records.

import TabStream
import TabTable
import Testing


/// The text a writer produces for `records`.
func csvWritten(
  _ records: [[String]], dialect: CSVDialect = CSVDialect(), lineEnding: LineEnding = .lf,
  bufferSize: Int = 1 << 20
) throws -> String {
  let output = MemoryOutput()
  let writer = CSVWriter(
    sink: output, dialect: dialect, lineEnding: lineEnding, bufferSize: bufferSize)
  for record in records {
    for field in record { writer.writeField(field) }
    try writer.endRecord()
  }
  try writer.flush()
  return String(decoding: output.bytes, as: UTF8.self)
}

@Suite struct CSVWriterTests {
  @Test func quotesOnlyWhenNeeded() throws {
    let cases: [(field: String, written: String)] = [
      ("plain", "plain"),
      ("a,b", "\"a,b\""),
      ("a\"b", "\"a\"\"b\""),
      ("\"", "\"\"\"\""),
      ("a\nb", "\"a\nb\""),
      ("a\rb", "\"a\rb\""),
      ("a\r\nb", "\"a\r\nb\""),
      ("", ""),
      (" lead and trail ", " lead and trail "),
      ("tab\there", "tab\there"),
      ("semi;colon", "semi;colon"),
      ("é€😀", "é€😀"),
    ]
    for (field, written) in cases {
      #expect(try csvWritten([[field, "x"]]) == written + ",x\n", "\(field.debugDescription)")
      #expect(try csvWritten([["x", field]]) == "x," + written + "\n", "\(field.debugDescription)")
    }
  }

  @Test func loneEmptyFieldIsQuoted() throws {
    #expect(try csvWritten([[""]]) == "\"\"\n")
    #expect(try csvWritten([["", ""]]) == ",\n")
    #expect(try csvWritten([["a"], [""], ["b"]]) == "a\n\"\"\nb\n")
    #expect(try csvWritten([[]]) == "\n")
    // The same through the other ways of writing a field.
    let output = MemoryOutput()
    let writer = CSVWriter(sink: output)
    writer.writeUnquotedField(UnsafeRawBufferPointer(start: nil, count: 0))
    try writer.endRecord()
    writer.writeField(reserving: 8) { _ in 0 }
    try writer.endRecord()
    try writer.flush()
    #expect(output.bytes == Array("\"\"\n\"\"\n".utf8))
  }

  @Test func otherDialects() throws {
    let tab = CSVDialect(delimiter: 9)
    #expect(try csvWritten([["a,b", "c\td", ""]], dialect: tab) == "a,b\t\"c\td\"\t\n")
    let semicolon = CSVDialect(delimiter: UInt8(ascii: ";"), quote: UInt8(ascii: "'"))
    #expect(
      try csvWritten([["it's", "a;b", "\"x\""]], dialect: semicolon) == "'it''s';'a;b';\"x\"\n")
  }

  @Test func crlfLineEnding() throws {
    #expect(
      try csvWritten([["a", "b"], [""], ["c\nd"]], lineEnding: .crlf)
        == "a,b\r\n\"\"\r\n\"c\nd\"\r\n")
  }

  @Test func unquotedAndReservedFields() throws {
    let output = MemoryOutput()
    let writer = CSVWriter(sink: output)
    Array("12".utf8).withUnsafeBytes { writer.writeUnquotedField($0) }
    writer.writeField(reserving: 20) { buffer in
      let digits = Array("-3.5".utf8)
      for (i, digit) in digits.enumerated() { buffer[i] = digit }
      return digits.count
    }
    writer.writeField("x y")
    try writer.writeRecord(["tail"])  // Continues the open record, then ends it.
    try writer.writeRecord(["h1", "h,2"])
    try writer.flush()
    #expect(String(decoding: output.bytes, as: UTF8.self) == "12,-3.5,x y,tail\nh1,\"h,2\"\n")
  }

  @Test func buffersUntilThresholdAndFlush() throws {
    let output = MemoryOutput()
    let writer = CSVWriter(sink: output, bufferSize: 10)
    writer.writeField("abc")
    try writer.endRecord()
    #expect(output.bytes.isEmpty)  // 4 bytes, under the threshold.
    writer.writeField("defgh")
    #expect(output.bytes.isEmpty)  // Nothing goes out in the middle of a record.
    try writer.endRecord()
    #expect(output.bytes == Array("abc\ndefgh\n".utf8))  // 10 bytes: the threshold.
    writer.writeField("i")
    try writer.endRecord()
    #expect(output.bytes.count == 10)
    try writer.flush()
    try writer.flush()  // Nothing left: writes nothing.
    #expect(output.bytes == Array("abc\ndefgh\ni\n".utf8))
  }

  @Test func recordsLargerThanTheBuffer() throws {
    let field = String(repeating: "q\"\n,", count: 3000)
    let text = try csvWritten([[field, "x"], ["y"]], bufferSize: 8)
    let expected = "\"" + String(repeating: "q\"\"\n,", count: 3000) + "\",x\ny\n"
    #expect(text == expected)
  }

  @Test func sinkErrorsAreThrown() {
    let output = MemoryOutput(name: "out.csv", failAfter: 5)
    let writer = CSVWriter(sink: output, bufferSize: 4)
    writer.writeField("abcdef")
    #expect(throws: IOError.writeFailed(path: "out.csv", reason: "injected failure")) {
      try writer.endRecord()
    }
  }

  /// A random field: pieces that include every byte the writer must quote.
  static func randomField(_ generator: inout SplitMix64) -> String {
    let pieces = ["a", "bc", "7", ",", "\"", "\n", "\r", "\r\n", "\t", ";", " ", "é", "😀", "\"\""]
    let count = Int.random(in: 0...6, using: &generator)
    return (0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined()
  }

  @Test(arguments: [UInt8(ascii: ","), 9, UInt8(ascii: ";")], [LineEnding.lf, .crlf])
  func roundTripsRandomRecords(delimiter: UInt8, lineEnding: LineEnding) throws {
    var generator = SplitMix64(seed: UInt64(delimiter) * 2 + (lineEnding == .lf ? 0 : 1))
    let records = (0..<2000).map { _ in
      (0..<Int.random(in: 1...6, using: &generator)).map { _ in Self.randomField(&generator) }
    }
    let dialect = CSVDialect(delimiter: delimiter)
    let text = try csvWritten(records, dialect: dialect, lineEnding: lineEnding, bufferSize: 64)
    #expect(text == (try csvWritten(records, dialect: dialect, lineEnding: lineEnding)))
    for (chunk, bufferSize) in [(Int.max, 1 << 20), (5, 7)] {
      let reading = try csvRead(
        Array(text.utf8), dialect: dialect, chunk: chunk, bufferSize: bufferSize)
      #expect(reading.records.count == records.count)
      let firstDifference = zip(reading.records, records).enumerated()
        .first { $0.element.0.fields != $0.element.1 }?.offset
      #expect(
        firstDifference == nil,
        "record \(firstDifference ?? -1): read \(firstDifference.map { reading.records[$0] }.debugDescription), wrote \(firstDifference.map { records[$0] }.debugDescription)"
      )
      #expect(reading.sawCRLF == (lineEnding == .crlf))
    }
  }
}
