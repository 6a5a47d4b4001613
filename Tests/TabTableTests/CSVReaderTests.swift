// Tests of CSVReader: RFC 4180 edge cases, every read-buffer split point, agreement with
// Python's csv module on a fixture, each error with its one-line message, and UTF-8 checks.

import Foundation  // JSONDecoder and URL, for the fixture only.
import TabStream
import TabTable
import Testing

/// A record as plain values, to compare readings.
struct CSVParsedRecord: Equatable, CustomStringConvertible {
  var line: Int
  var fields: [String]
  var quoted: [Bool]

  var description: String { "\(line): \(fields.map { $0.debugDescription }) \(quoted)" }
}

/// Everything a reading produced: records and the reader's flags.
struct CSVReading: Equatable {
  var records: [CSVParsedRecord]
  var sawCRLF: Bool
  var sawBOM: Bool
  var bytesRead: Int
}

/// Reads all of `bytes` with the given chunking and buffer size.
func csvRead(
  _ bytes: [UInt8], dialect: CSVDialect = CSVDialect(), chunk: Int = .max,
  bufferSize: Int = 1 << 20, recordSizeLimit: Int = 64 << 20, columnNames: [String]? = nil
) throws -> CSVReading {
  let reader = CSVReader(
    source: MemoryInput(bytes, name: "t.csv", chunk: chunk), dialect: dialect,
    bufferSize: bufferSize, recordSizeLimit: recordSizeLimit)
  reader.columnNames = columnNames
  var record = CSVRecord()
  var records: [CSVParsedRecord] = []
  while try reader.read(into: &record) {
    records.append(
      CSVParsedRecord(
        line: record.line, fields: (0..<record.count).map { record.string($0) },
        quoted: (0..<record.count).map { record.wasQuoted($0) }))
  }
  return CSVReading(
    records: records, sawCRLF: reader.sawCRLF, sawBOM: reader.sawBOM,
    bytesRead: reader.bytesRead)
}

func csvRead(_ text: String, dialect: CSVDialect = CSVDialect()) throws -> CSVReading {
  try csvRead(Array(text.utf8), dialect: dialect)
}

/// The fields of each record of `text`.
func csvFields(_ text: String, dialect: CSVDialect = CSVDialect()) throws -> [[String]] {
  try csvRead(text, dialect: dialect).records.map(\.fields)
}

/// The CSVError reading `bytes` throws, or nil.
func csvError(_ bytes: [UInt8], columnNames: [String]? = nil, chunk: Int = .max) -> CSVError? {
  do {
    _ = try csvRead(bytes, chunk: chunk, columnNames: columnNames)
    return nil
  } catch let error as CSVError {
    return error
  } catch {
    Issue.record("unexpected error \(error)")
    return nil
  }
}

func csvError(_ text: String, columnNames: [String]? = nil) -> CSVError? {
  csvError(Array(text.utf8), columnNames: columnNames)
}

@Suite struct CSVReaderTests {
  // MARK: - RFC 4180 edge cases

  @Test func quotedFieldsHoldDelimiters() throws {
    let reading = try csvRead("a,\"b,c\",d\n\"x,\",\",y\"\n")
    #expect(reading.records.map(\.fields) == [["a", "b,c", "d"], ["x,", ",y"]])
    #expect(reading.records[0].quoted == [false, true, false])
    #expect(reading.records[1].quoted == [true, true])
  }

  @Test func doubledQuotesAreUnescaped() throws {
    #expect(
      try csvFields("\"he said \"\"hi\"\"\",\"\"\"\"\n\"\"\"\"\"\"\n")
        == [["he said \"hi\"", "\""], ["\"\""]])
  }

  @Test func lineEndsInsideQuotesAreKeptVerbatim() throws {
    let reading = try csvRead("\"a\nb\",\"c\r\nd\",\"e\rf\"\nnext,\"\r\n\"\nlast\n")
    #expect(
      reading.records.map(\.fields) == [["a\nb", "c\r\nd", "e\rf"], ["next", "\r\n"], ["last"]])
    #expect(reading.records.map(\.line) == [1, 4, 6])
    #expect(!reading.sawCRLF)  // The CRLF was inside quotes, not a record's end.
  }

  @Test func crlfRecords() throws {
    let crlf = try csvRead("a,b\r\nc,\"d\"\r\ne,\r\n")
    #expect(crlf.records.map(\.fields) == [["a", "b"], ["c", "d"], ["e", ""]])
    #expect(crlf.records.map(\.line) == [1, 2, 3])
    #expect(crlf.sawCRLF)
    let lf = try csvRead("a,b\nc,d\n")
    #expect(!lf.sawCRLF)
  }

  @Test func byteOrderMarkIsSkipped() throws {
    let text = "\u{FEFF}a,b\n1,2\n"
    for chunk in [1, 2, 3, 4, Int.max] {
      let reading = try csvRead(Array(text.utf8), chunk: chunk)
      #expect(reading.records.map(\.fields) == [["a", "b"], ["1", "2"]], "chunk \(chunk)")
      #expect(reading.sawBOM)
      #expect(reading.bytesRead == text.utf8.count)
    }
    // A BOM anywhere else is data, and a BOM alone is an empty input.
    let later = try csvRead("a,\u{FEFF}b\n")
    #expect(later.records.map(\.fields) == [["a", "\u{FEFF}b"]])
    #expect(!later.sawBOM)
    let alone = try csvRead("\u{FEFF}")
    #expect(alone.records.isEmpty && alone.sawBOM)
    // Quoted first field right after the BOM.
    #expect(try csvFields("\u{FEFF}\"a,b\",c") == [["a,b", "c"]])
  }

  @Test func lastRecordNeedsNoLineEnd() throws {
    #expect(try csvFields("a,b\nc,d") == [["a", "b"], ["c", "d"]])
    #expect(try csvFields("a,b\n\"c\",\"d\"") == [["a", "b"], ["c", "d"]])
    #expect(try csvFields("a,") == [["a", ""]])
    #expect(try csvFields("x") == [["x"]])
    #expect(try csvFields("") == [])
  }

  @Test func emptyFields() throws {
    let reading = try csvRead(",a,,\n,\n")
    #expect(reading.records.map(\.fields) == [["", "a", "", ""], ["", ""]])
    #expect(reading.records[0].quoted == [false, false, false, false])
  }

  @Test func emptyQuotedFields() throws {
    let reading = try csvRead("\"\",\"\"\n\"\"\n\"\",x,\"\"")
    #expect(reading.records.map(\.fields) == [["", ""], [""], ["", "x", ""]])
    #expect(reading.records.map(\.quoted) == [[true, true], [true], [true, false, true]])
  }

  @Test func loneCarriageReturnIsData() throws {
    #expect(try csvFields("a\rb,c\r\n\r,d\n") == [["a\rb", "c"], ["\r", "d"]])
    #expect(try csvFields("x\r") == [["x\r"]])
    #expect(try csvFields("\r") == [["\r"]])
    #expect(try csvFields("a,\r") == [["a", "\r"]])
    #expect(try csvFields("\r\r\n") == [["\r"]])
  }

  @Test func customDelimiters() throws {
    let semicolon = CSVDialect(delimiter: UInt8(ascii: ";"))
    #expect(
      try csvFields("a;\"b;c\";d,e\n;\n", dialect: semicolon) == [["a", "b;c", "d,e"], ["", ""]])
    let tab = CSVDialect(delimiter: 9)
    #expect(
      try csvFields("a\t\"b\tc\"\td,e\n\"x\"\"\"\t\n", dialect: tab)
        == [["a", "b\tc", "d,e"], ["x\"", ""]])
    let singleQuote = CSVDialect(delimiter: UInt8(ascii: ","), quote: UInt8(ascii: "'"))
    #expect(try csvFields("'it''s',\"x\"\n", dialect: singleQuote) == [["it's", "\"x\""]])
  }

  @Test func emptyLinesAreSkipped() throws {
    let reading = try csvRead("\n\na\n\r\n\nb,c\n\n\r\n")
    #expect(reading.records.map(\.fields) == [["a"], ["b", "c"]])
    #expect(reading.records.map(\.line) == [3, 6])
    // A line holding only a quoted empty field is a record.
    #expect(try csvFields("a\n\"\"\n\nb") == [["a"], [""], ["b"]])
  }

  @Test func quoteInsideUnquotedFieldIsData() throws {
    let reading = try csvRead("ab\"c,x\"\" ,\"\"\"\"\n \"q\",5 \"\n")
    #expect(reading.records.map(\.fields) == [["ab\"c", "x\"\" ", "\""], [" \"q\"", "5 \""]])
    #expect(reading.records[1].quoted == [false, false])
  }

  @Test func lineNumbersCountLinesInsideQuotedFields() throws {
    let text = "h1,h2\n\"1\n2\n3\",x\nplain,y\n\"a\r\nb\",\"c\nd\"\r\n\n\"\n\"\nend"
    let reading = try csvRead(text)
    #expect(reading.records.map(\.line) == [1, 2, 5, 6, 10, 12])
    #expect(reading.records.last?.fields == ["end"])
  }

  @Test func recordIsReusedAndViewsHoldUnescapedBytes() throws {
    let reader = CSVReader(source: MemoryInput("\"a\"\"b\",cd\nefg,\"\"\n"))
    var record = CSVRecord()
    #expect(try reader.read(into: &record))
    #expect(Array(record.unsafeField(0)) == Array("a\"b".utf8))
    #expect(Array(record.unsafeField(1)) == Array("cd".utf8))
    #expect(try reader.read(into: &record))
    #expect(record.count == 2 && record.line == 2)
    #expect(Array(record.unsafeField(0)) == Array("efg".utf8))
    #expect(record.unsafeField(1).count == 0)
    #expect(!(try reader.read(into: &record)))
    #expect(record.count == 2)  // Unchanged at the end of input.
    #expect(!(try reader.read(into: &record)))
  }

  @Test func readHeaderSetsColumnNames() throws {
    let reader = CSVReader(source: MemoryInput("age,name\n1,\"x", name: "h.csv"))
    #expect(try reader.readHeader() == ["age", "name"])
    #expect(reader.columnNames == ["age", "name"])
    var record = CSVRecord()
    #expect(
      throws: CSVError.unterminatedQuote(path: "h.csv", line: 2, column: 2, name: "name")
    ) { try reader.read(into: &record) }

    let empty = CSVReader(source: MemoryInput("\n\r\n", name: "e.csv"))
    #expect(throws: CSVError.emptyInput(path: "e.csv")) { try empty.readHeader() }
  }

  @Test func largeRecordsGrowTheBuffer() throws {
    let big = String(repeating: "x\"y,", count: 5000)
    let text = "a,\"\(big.replacingOccurrences(of: "\"", with: "\"\""))\",b\nshort\n"
    let reading = try csvRead(Array(text.utf8), chunk: 100, bufferSize: 16)
    #expect(reading.records.map(\.fields) == [["a", big, "b"], ["short"]])
    #expect(reading.bytesRead == text.utf8.count)
  }

  // MARK: - Every split point

  /// Input that puts every construct next to every other.
  static let tricky: [UInt8] = Array(
    ("\u{FEFF}id,\"na,me\",note\r\n1,\"a \"\"q\"\" b\",\"multi\nline\r\nfield\"\n\n"
      + "2,,\"\"\r\n\r\n3,ab\"c,\"\"\"\"\n4,\r,x\r\r\n\"é€😀\",\"\",\"end\"\n,\n"
      + "5,\"x\ny\",last").utf8)

  @Test func everyChunkSizeGivesTheSameRecords() throws {
    let expected = try csvRead(Self.tricky)
    #expect(expected.records.count == 8)
    #expect(expected.records[1].fields == ["1", "a \"q\" b", "multi\nline\r\nfield"])
    #expect(expected.records.map(\.line) == [1, 2, 6, 8, 9, 10, 11, 12])
    #expect(expected.sawBOM && expected.sawCRLF)
    for chunk in 1...Self.tricky.count {
      let reading = try csvRead(Self.tricky, chunk: chunk)
      #expect(reading == expected, "chunk \(chunk)")
    }
  }

  @Test(arguments: [1, 2, 3, 4, 5, 7, 16, 31])
  func tinyBuffersGiveTheSameRecords(bufferSize: Int) throws {
    let expected = try csvRead(Self.tricky)
    for chunk in [1, 2, 3, 5, 8, 13, Int.max] {
      let reading = try csvRead(Self.tricky, chunk: chunk, bufferSize: bufferSize)
      #expect(reading == expected, "bufferSize \(bufferSize) chunk \(chunk)")
    }
  }

  // MARK: - Agreement with Python's csv module

  struct PythonRecord: Decodable {
    var line: Int
    var fields: [String]
  }

  @Test func agreesWithPythonCSVModule() throws {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Fixtures/csv")
    let text = try FileInput(path: directory.appendingPathComponent("tricky.csv").path).readAll()
    let json = try FileInput(path: directory.appendingPathComponent("tricky.json").path).readAll()
    let expected = try JSONDecoder().decode([PythonRecord].self, from: Data(json))
    #expect(expected.count > 300)

    for (chunk, bufferSize) in [(Int.max, 1 << 20), (7, 64)] {
      let records = try csvRead(text, chunk: chunk, bufferSize: bufferSize).records
      #expect(records.count == expected.count)
      for (index, (record, python)) in zip(records, expected).enumerated() {
        #expect(record.fields == python.fields, "record \(index)")
        #expect(record.line == python.line, "record \(index)")
      }
    }
  }

  // MARK: - Errors

  @Test func unterminatedQuote() {
    let error = csvError("a,b\nc,\"d\ne\n", columnNames: ["a", "b"])
    #expect(error == .unterminatedQuote(path: "t.csv", line: 2, column: 2, name: "b"))
    #expect(error?.description == "t.csv:2: column 'b' (2): unterminated quoted field")

    let unnamed = csvError("x\n\"")
    #expect(unnamed == .unterminatedQuote(path: "t.csv", line: 2, column: 1, name: nil))
    #expect(unnamed?.description == "t.csv:2: column 1: unterminated quoted field")

    // The line is where the quote opened, after a multi-line field in the same record.
    #expect(
      csvError("\"a\nb\",\"c\n\nd")
        == .unterminatedQuote(path: "t.csv", line: 2, column: 2, name: nil))
    // Names past the header's width are unknown.
    #expect(
      csvError("a,b,\"c", columnNames: ["a"])
        == .unterminatedQuote(path: "t.csv", line: 1, column: 3, name: nil))
  }

  @Test func textAfterClosingQuote() {
    let error = csvError("h\n\"ab\"x,c\n", columnNames: ["h"])
    #expect(
      error
        == .textAfterClosingQuote(
          path: "t.csv", line: 2, column: 1, name: "h", found: UInt8(ascii: "x")))
    #expect(
      error?.description
        == "t.csv:2: column 'h' (1): text after closing quote, found \"x\"; "
        + "a quoted field ends at a delimiter or a line end")

    // The line is that of the offending byte.
    #expect(
      csvError("1,\"a\nb\" \n")
        == .textAfterClosingQuote(path: "t.csv", line: 2, column: 2, name: nil, found: 0x20))
    // A CR after a closing quote must begin a CRLF.
    let carriageReturn = csvError("\"a\"\rb\n")
    #expect(
      carriageReturn
        == .textAfterClosingQuote(path: "t.csv", line: 1, column: 1, name: nil, found: 13))
    #expect(
      carriageReturn?.description
        == "t.csv:1: column 1: text after closing quote, found byte 0x0D; "
        + "a quoted field ends at a delimiter or a line end")
    #expect(
      csvError("a,\"b\"\r")
        == .textAfterClosingQuote(path: "t.csv", line: 1, column: 2, name: nil, found: 13))
  }

  @Test func errorsAreTheSameAtEverySplitPoint() {
    let bytes = Array("a,b\n\"x\"\"\n\",\"y\"z\n".utf8)
    let expected = CSVError.textAfterClosingQuote(
      path: "t.csv", line: 3, column: 2, name: nil, found: UInt8(ascii: "z"))
    for chunk in 1...bytes.count {
      #expect(csvError(bytes, chunk: chunk) == expected, "chunk \(chunk)")
    }
    let open = Array("a,b\n\"x\"\"\n".utf8)
    for chunk in 1...open.count {
      #expect(
        csvError(open, chunk: chunk)
          == .unterminatedQuote(path: "t.csv", line: 2, column: 1, name: nil), "chunk \(chunk)")
    }
  }

  @Test func invalidUTF8() {
    let error = csvError([UInt8]("n,c\n1,ab".utf8) + [0xFF] + [10], columnNames: ["n", "c"])
    #expect(error == .invalidUTF8(path: "t.csv", line: 2, column: 2, name: "c"))
    #expect(error?.description == "t.csv:2: column 'c' (2): invalid UTF-8")

    // In a quoted, multi-line, unescaped field: the line of the bad byte.
    let quoted = [UInt8]("x,\"o\"\"k\n".utf8) + [0xC3, 0x28] + [UInt8]("\"\n".utf8)
    #expect(csvError(quoted) == .invalidUTF8(path: "t.csv", line: 2, column: 2, name: nil))
    // A sequence cut short by the end of the field or of the input.
    #expect(
      csvError([0xE2, 0x82, 0x2C, 0x61])
        == .invalidUTF8(path: "t.csv", line: 1, column: 1, name: nil))
    #expect(
      csvError([0x61, 0x2C, 0xF0, 0x9F, 0x98])
        == .invalidUTF8(path: "t.csv", line: 1, column: 2, name: nil))
    // A half BOM is not skipped, and is not text.
    #expect(
      csvError([0xEF, 0xBB, 0x2C]) == .invalidUTF8(path: "t.csv", line: 1, column: 1, name: nil))
  }

  @Test func recordTooLarge() {
    let long = String(repeating: "y", count: 100)
    let bytes = Array("a,b\nx,\(long)\nz\n".utf8)
    for bufferSize in [16, 1 << 20] {
      do {
        _ = try csvRead(bytes, bufferSize: bufferSize, recordSizeLimit: 64)
        Issue.record("no error with bufferSize \(bufferSize)")
      } catch let error as CSVError {
        #expect(error == .recordTooLarge(path: "t.csv", line: 2, limit: 64))
        #expect(error.description == "t.csv:2: record larger than 64 bytes; refusing to buffer it")
      } catch {
        Issue.record("unexpected error \(error)")
      }
    }
    // Records within the limit are read, however small the buffer starts.
    #expect(
      (try? csvRead(bytes, chunk: 3, bufferSize: 4, recordSizeLimit: 110))?.records.count == 3)
    #expect(
      CSVError.recordTooLarge(path: "big.csv", line: 7, limit: 64 << 20).description
        == "big.csv:7: record larger than 64 MiB; refusing to buffer it")
  }

  @Test func callerErrorDescriptions() {
    #expect(
      CSVError.raggedRow(path: "adult.csv", line: 1043, expected: 15, found: 14).description
        == "adult.csv:1043: expected 15 fields, found 14")
    #expect(
      CSVError.emptyInput(path: "<stdin>").description
        == "<stdin>: empty input; expected a header line")
    #expect(CSVError.headerOnly(path: "a.csv").description == "a.csv: header but no rows")
    #expect(
      CSVError.invalidUTF8(path: "adult.csv", line: 1043, column: 3, name: "age").description
        == "adult.csv:1043: column 'age' (3): invalid UTF-8")
  }

  // MARK: - UTF-8 validation against the standard library

  /// True when reading `field` as the one field of a record succeeds.
  func readsAsValid(_ field: [UInt8]) -> Bool {
    let reader = CSVReader(source: MemoryInput(field), bufferSize: 16)
    var record = CSVRecord()
    do {
      _ = try reader.read(into: &record)
      return true
    } catch {
      return false
    }
  }

  static let structural: Set<UInt8> = [10, 13, 34, 44]

  @Test func utf8ValidationMatchesStandardLibraryOnAllTwoByteSequences() {
    var mismatches: [[UInt8]] = []
    for first in 0...255 {
      for second in 0...255 {
        let bytes = [UInt8(first), UInt8(second)]
        if bytes.contains(where: Self.structural.contains) { continue }
        let expected = String(validating: bytes, as: UTF8.self) != nil
        if readsAsValid(bytes) != expected { mismatches.append(bytes) }
      }
    }
    #expect(mismatches.isEmpty, "first of \(mismatches.count): \(mismatches.first ?? [])")
  }

  @Test func utf8ValidationMatchesStandardLibraryOnBoundaries() {
    // Every lead byte with continuation bytes at and around the edges of their ranges.
    let edges: [UInt8] = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0]
    var mismatches: [[UInt8]] = []
    var candidates: [[UInt8]] = []
    for lead in UInt8(0xC0)...0xFF {
      for second in edges {
        candidates.append([lead, second])
        for third in edges {
          candidates.append([lead, second, third])
          for fourth in edges { candidates.append([lead, second, third, fourth]) }
        }
      }
    }
    for bytes in candidates {
      let expected = String(validating: bytes, as: UTF8.self) != nil
      if readsAsValid(bytes) != expected { mismatches.append(bytes) }
    }
    #expect(mismatches.isEmpty, "first of \(mismatches.count): \(mismatches.first ?? [])")
  }

  @Test func utf8ValidationMatchesStandardLibraryOnRandomBytes() {
    var generator = SplitMix64(seed: 8)
    var mismatches: [[UInt8]] = []
    for _ in 0..<20000 {
      let length = Int.random(in: 1...12, using: &generator)
      let bytes = (0..<length).map { _ -> UInt8 in
        // Mostly high bytes, some ASCII, never a structural byte.
        let byte =
          Bool.random(using: &generator)
          ? UInt8.random(in: 0x80...0xFF, using: &generator)
          : UInt8.random(in: 0x41...0x7A, using: &generator)
        return byte
      }
      let expected = String(validating: bytes, as: UTF8.self) != nil
      if readsAsValid(bytes) != expected { mismatches.append(bytes) }
    }
    #expect(mismatches.isEmpty, "first of \(mismatches.count): \(mismatches.first ?? [])")
    // Well-formed text of every length class is accepted, long or short.
    let text = String(repeating: "aé€😀\u{7FF}\u{800}\u{FFFF}\u{10000}\u{10FFFF}", count: 20)
    #expect(readsAsValid(Array(text.utf8)))
  }
}
