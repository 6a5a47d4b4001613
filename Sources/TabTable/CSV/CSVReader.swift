// A byte-level RFC 4180 CSV reader: records are parsed in place in one read buffer and handed
// out as views, so reading allocates nothing per record once the buffers have warmed up.
// Also holds the dialect (delimiter and quote) and the record type the reader fills.

import TabStream

/// The bytes that structure a CSV file. TSV is the same format with `delimiter` 9 (tab).
public struct CSVDialect: Sendable, Equatable, Codable {
  /// The byte between fields, 44 (`,`) by default.
  public var delimiter: UInt8
  /// The byte that opens and closes a quoted field, 34 (`"`) by default.
  public var quote: UInt8

  /// A dialect; the defaults are RFC 4180's comma and double quote.
  public init(delimiter: UInt8 = 44, quote: UInt8 = 34) {
    self.delimiter = delimiter
    self.quote = quote
  }

  /// True when the delimiter and quote differ, are ASCII and are neither CR nor LF.
  /// Readers and writers require a valid dialect; tools check this when parsing options.
  public var isValid: Bool {
    delimiter != quote && delimiter < 0x80 && quote < 0x80
      && delimiter != 10 && delimiter != 13 && quote != 10 && quote != 13
  }
}

/// Where one field lies, in bytes from the start of its record.
@usableFromInline
struct CSVField {
  /// Offset of the first content byte (after an opening quote).
  @usableFromInline var start: Int
  /// Offset one past the last content byte (before a closing quote, after unescaping).
  @usableFromInline var end: Int
  /// Line ends inside earlier quoted fields of the record: the field starts on the record's
  /// line plus this.
  @usableFromInline var lineOffset: Int
  /// The field was quoted in the input.
  @usableFromInline var quoted: Bool
}

/// One CSV record, filled by `CSVReader.read(into:)`.
///
/// Reuse one value for every read: its storage keeps its capacity, so reading allocates nothing
/// per record after warm-up. Field views point into the reader's buffer and are valid until the
/// reader's next read (or until the reader is released).
public struct CSVRecord {
  @usableFromInline var fields: [CSVField] = []
  @usableFromInline var base: UnsafeRawPointer?
  /// The 1-based physical line where the record starts.
  public internal(set) var line: Int = 0

  /// An empty record, to be filled by a reader.
  public init() {}

  /// The number of fields.
  @inlinable public var count: Int { fields.count }

  /// The bytes of field `i`, with the quotes removed and doubled quotes unescaped.
  /// The bytes are valid UTF-8.
  /// - Precondition: `0 <= i < count`.
  /// - Important: the view is valid until the reader's next read.
  @inlinable
  public func unsafeField(_ i: Int) -> UnsafeRawBufferPointer {
    let field = fields[i]  // Bounds-checked; base is set whenever fields is not empty.
    return UnsafeRawBufferPointer(start: base! + field.start, count: field.end - field.start)
  }

  /// Field `i` as a string (allocates).
  /// - Precondition: `0 <= i < count`.
  public func string(_ i: Int) -> String {
    String(decoding: unsafeField(i), as: UTF8.self)
  }

  /// Copies `newFields` over the fields, in place when the count is unchanged (the usual case
  /// for a table), so that no array work beyond one copy happens per record.
  mutating func replaceFields(with newFields: UnsafeBufferPointer<CSVField>) {
    if fields.count == newFields.count {
      fields.withUnsafeMutableBufferPointer { old in
        guard let base = old.baseAddress, let source = newFields.baseAddress else { return }
        base.update(from: source, count: newFields.count)
      }
    } else {
      fields.removeAll(keepingCapacity: true)
      fields.append(contentsOf: newFields)
    }
  }

  /// True when field `i` was quoted in the input (`""` is an empty quoted field).
  /// - Precondition: `0 <= i < count`.
  @inlinable
  public func wasQuoted(_ i: Int) -> Bool { fields[i].quoted }
}

/// Reads RFC 4180 CSV from a byte source, one record at a time.
///
/// - Fields are separated by the dialect's delimiter and records by LF or CRLF. A lone CR
///   outside quotes is data.
/// - A field that starts with the quote byte is quoted: it may hold delimiters, doubled quotes
///   (read as one quote) and line ends (CR, LF and CRLF are kept verbatim). After its closing
///   quote only a delimiter, a line end or the end of the input may follow. A quote anywhere
///   else in an unquoted field is data (`ab"c`), as in Python's `csv` module.
/// - A UTF-8 byte order mark at the very start is skipped. The last record needs no line end.
/// - A completely empty line (nothing between two line ends) is skipped, as pandas does. Such a
///   line would otherwise be a record with one empty field; `CSVWriter` writes that record as
///   `""` so single-column tables round-trip.
/// - Every field is checked to be valid UTF-8.
///
/// Bytes are read in chunks into one buffer; a record that crosses the end of the buffer is
/// moved to the front before the next read, and the buffer doubles only when one record does
/// not fit in it, up to `recordSizeLimit`.
public final class CSVReader {
  /// The dialect being read.
  public let dialect: CSVDialect
  /// Column names, set by the caller after reading a header; used only in error messages.
  public var columnNames: [String]?
  /// True once some record has ended with CRLF.
  public private(set) var sawCRLF = false
  /// True when the input began with a UTF-8 byte order mark (which is skipped).
  public private(set) var sawBOM = false
  /// Bytes read from the source so far, including a byte order mark.
  public private(set) var bytesRead = 0
  /// The largest record, in bytes including its line end, that the reader accepts; it throws
  /// `recordTooLarge` for a longer one, as soon as that many bytes are buffered.
  public let recordSizeLimit: Int
  /// The source's name, for messages.
  public var path: String { source.name }

  private let source: ByteSource
  /// The read buffer: `capacity` bytes, of which `start..<end` are read but not yet parsed.
  private var bytes: UnsafeMutablePointer<UInt8>
  private var capacity: Int
  private var start = 0
  private var end = 0
  private var atEndOfInput = false
  private var checkedBOM = false
  /// The physical line at `start`.
  private var nextLine = 1
  /// Fields of the record being parsed, copied into the caller's record when it is complete.
  private var fields: UnsafeMutablePointer<CSVField>
  private var fieldCapacity = 64

  private static let lineFeed: UInt8 = 10
  private static let carriageReturn: UInt8 = 13

  /// A reader of `source`.
  /// - Parameters:
  ///   - bufferSize: bytes asked of the source per read; also the initial buffer size.
  ///   - recordSizeLimit: the largest record, in bytes, the reader accepts. The buffer holds at
  ///     most this plus one byte (or `bufferSize`, if larger).
  /// - Precondition: `dialect.isValid`, `bufferSize >= 1`, `recordSizeLimit >= 1`.
  public init(
    source: ByteSource, dialect: CSVDialect = CSVDialect(), bufferSize: Int = 1 << 20,
    recordSizeLimit: Int = 64 << 20
  ) {
    precondition(dialect.isValid, "invalid CSV dialect \(dialect)")
    precondition(bufferSize >= 1 && recordSizeLimit >= 1)
    self.source = source
    self.dialect = dialect
    self.recordSizeLimit = recordSizeLimit
    // At least 4 bytes, so that the byte order mark check can see 3 bytes at once.
    capacity = max(bufferSize, 4)
    bytes = .allocate(capacity: capacity)
    fields = .allocate(capacity: fieldCapacity)
  }

  deinit {
    bytes.deallocate()
    fields.deallocate()
  }

  /// Reads the first record as the header: returns its fields and sets `columnNames`.
  /// - Throws: `CSVError.emptyInput` when there is no record, any error of `read(into:)`.
  public func readHeader() throws -> [String] {
    var record = CSVRecord()
    guard try read(into: &record) else { throw CSVError.emptyInput(path: path) }
    let names = (0..<record.count).map { record.string($0) }
    columnNames = names
    return names
  }

  /// Reads the next record into `record`, skipping empty lines.
  /// - Returns: false at the end of the input (then `record` is unchanged).
  /// - Throws: `CSVError.unterminatedQuote`, `.textAfterClosingQuote`, `.invalidUTF8`,
  ///   `.recordTooLarge`; `IOError` from the source. The reader is not usable after a throw.
  public func read(into record: inout CSVRecord) throws -> Bool {
    if !checkedBOM { try skipByteOrderMark() }
    guard try skipEmptyLines() else { return false }
    let recordLine = nextLine
    let (fieldCount, length, lines) = try parseRecord(line: recordLine)
    // Checked here too, so that the outcome does not depend on how the input was buffered.
    if length > recordSizeLimit {
      throw CSVError.recordTooLarge(path: path, line: recordLine, limit: recordSizeLimit)
    }
    let recordBytes = bytes + start
    start += length
    nextLine += lines
    try validateUTF8(recordBytes, length: length, fieldCount: fieldCount, line: recordLine)

    record.line = recordLine
    record.base = UnsafeRawPointer(recordBytes)
    record.replaceFields(with: UnsafeBufferPointer(start: fields, count: fieldCount))
    return true
  }

  // MARK: - Buffering

  /// Reads once from the source into the free space after `end`. When there is none, first
  /// moves the unparsed bytes `start..<end` to the front, and doubles the buffer when they fill
  /// all of it. Positions held across a call must be offsets from `start`.
  /// - Returns: false at the end of the input.
  private func fill() throws -> Bool {
    if atEndOfInput { return false }
    if start == end {
      start = 0
      end = 0
    } else if end == capacity && start > 0 {
      // moveInitialize allows overlapping regions (memmove); UInt8 is trivial.
      bytes.moveInitialize(from: bytes + start, count: end - start)
      end -= start
      start = 0
    }
    if end == capacity {
      // Double, but to no more than one byte over the limit: a record that fills that much
      // is refused by `fillRecord` before the buffer would grow again.
      let grownCapacity = max(min(capacity * 2, recordSizeLimit + 1), capacity + 1)
      let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: grownCapacity)
      grown.initialize(from: bytes, count: end)
      bytes.deallocate()
      bytes = grown
      capacity = grownCapacity
    }
    let free = UnsafeMutableRawBufferPointer(start: bytes + end, count: capacity - end)
    let n = try source.read(into: free)
    if n == 0 {
      atEndOfInput = true
      return false
    }
    end += n
    bytesRead += n
    return true
  }

  /// `fill()` for a record in progress at `start`, refusing records over the size limit.
  private func fillRecord(line: Int) throws -> Bool {
    if end - start > recordSizeLimit {
      throw CSVError.recordTooLarge(path: path, line: line, limit: recordSizeLimit)
    }
    return try fill()
  }

  private func skipByteOrderMark() throws {
    checkedBOM = true
    while end - start < 3, try fill() {}
    if end - start >= 3 && bytes[start] == 0xEF && bytes[start + 1] == 0xBB
      && bytes[start + 2] == 0xBF
    {
      start += 3
      sawBOM = true
    }
  }

  /// Skips lines holding nothing but LF or CRLF.
  /// - Returns: false at the end of the input, else true with a record starting at `start`.
  private func skipEmptyLines() throws -> Bool {
    while true {
      if start == end {
        if try fill() { continue }
        return false
      }
      let byte = bytes[start]
      if byte == Self.lineFeed {
        start += 1
        nextLine += 1
        continue
      }
      if byte == Self.carriageReturn {
        if start + 1 == end {
          if try fill() { continue }
          return true  // A CR at the very end: a record holding one CR.
        }
        if bytes[start + 1] == Self.lineFeed {
          start += 2
          nextLine += 1
          continue
        }
      }
      return true
    }
  }

  // MARK: - Parsing

  /// Parses the record at `start` into `fields`, unescaping quoted fields in place. Offsets
  /// are kept relative to `start`, which `fill()` may move.
  /// - Returns: the field count, the record's length in bytes including its line end, and the
  ///   physical lines it spans (line ends inside quotes plus its own line end).
  private func parseRecord(line: Int) throws -> (fields: Int, length: Int, lines: Int) {
    let delimiter = dialect.delimiter
    let quote = dialect.quote
    let lineFeed = Self.lineFeed
    let carriageReturn = Self.carriageReturn
    let fieldEnds = BytePairFinder(delimiter, lineFeed)  // Ends of unquoted fields.
    let quotesAndLines = BytePairFinder(quote, lineFeed)  // Inside quoted fields.

    var fieldCount = 0
    var fieldStart = 0  // Offset of the current field's first byte.
    var lineOffset = 0  // Line ends inside the quoted fields before the current field.
    // State of the current field's scan, kept across refills so that no byte is scanned twice.
    var scan = 0  // Offset where the scan resumes.
    var quotedLines = 0  // Line feeds seen so far inside the current quoted field.
    var escaped = false  // The current quoted field holds a doubled quote.

    while true {
      if start + fieldStart == end {
        if try fillRecord(line: line) { continue }
        // The input ends right after a delimiter: one more, empty, field.
        append(
          CSVField(start: fieldStart, end: fieldStart, lineOffset: lineOffset, quoted: false),
          &fieldCount)
        return (fieldCount, fieldStart, lineOffset)
      }
      let first = start + fieldStart  // Absolute position of the field's first byte.

      if bytes[first] != quote {
        // Unquoted: everything up to the delimiter or LF; a CR before the LF is the line end.
        let limit = end
        let p = fieldEnds.firstMatch(in: bytes, from: start + max(scan, fieldStart), to: limit)
        if p == limit {
          scan = p - start
          if try fillRecord(line: line) { continue }
          // The input ends inside the field. `fill()` may have moved the bytes: use offsets.
          append(
            CSVField(start: fieldStart, end: scan, lineOffset: lineOffset, quoted: false),
            &fieldCount)
          return (fieldCount, scan, lineOffset)
        }
        if bytes[p] == delimiter {
          append(
            CSVField(start: fieldStart, end: p - start, lineOffset: lineOffset, quoted: false),
            &fieldCount)
          fieldStart = p + 1 - start
          scan = fieldStart
          continue
        }
        var fieldEnd = p
        if p > first && bytes[p - 1] == carriageReturn {
          fieldEnd -= 1
          sawCRLF = true
        }
        append(
          CSVField(start: fieldStart, end: fieldEnd - start, lineOffset: lineOffset, quoted: false),
          &fieldCount)
        return (fieldCount, p + 1 - start, lineOffset + 1)
      }

      // Quoted: find the closing quote, stepping over doubled quotes and counting line feeds.
      var p = start + max(scan, fieldStart + 1)
      while true {
        let limit = end
        p = quotesAndLines.firstMatch(in: bytes, from: p, to: limit)
        if p < limit && bytes[p] == lineFeed {
          quotedLines += 1
          p += 1
          continue
        }
        // Resuming at a quote is safe: the scan stops there again without counting anything.
        if p == limit || p + 1 == limit { break }
        if bytes[p + 1] == quote {
          escaped = true
          p += 2
          continue
        }
        break
      }
      if p == end {
        scan = p - start
        if try fillRecord(line: line) { continue }
        throw CSVError.unterminatedQuote(
          path: path, line: line + lineOffset, column: fieldCount + 1, name: name(fieldCount))
      }
      // bytes[p] is the closing quote, unless it is the last byte read and the next read
      // brings a second quote. From here on positions are offsets from `start`, which a
      // `fill()` that finds the end of the input may still have moved.
      let closing = p - start
      var after: UInt8? = nil  // The byte after the closing quote; nil at the end of input.
      if start + closing + 1 == end {
        scan = closing
        if try fillRecord(line: line) { continue }
      } else {
        after = bytes[start + closing + 1]
      }
      var length = closing + 1  // Where the field's bytes, closing quote included, end.
      var lines = 0
      switch after {
      case nil:
        break
      case delimiter?:
        length += 1
      case lineFeed?:
        length += 1
        lines = 1
      case carriageReturn?:
        if start + closing + 2 == end {
          scan = closing
          if try fillRecord(line: line) { continue }
        }
        guard start + closing + 2 < end && bytes[start + closing + 2] == lineFeed else {
          throw textAfterQuote(carriageReturn, line + lineOffset + quotedLines, fieldCount)
        }
        sawCRLF = true
        length += 2
        lines = 1
      case let other?:
        throw textAfterQuote(other, line + lineOffset + quotedLines, fieldCount)
      }

      var contentEnd = closing
      if escaped {
        contentEnd =
          unescape(from: start + fieldStart + 1, to: start + closing, quote: quote) - start
      }
      append(
        CSVField(start: fieldStart + 1, end: contentEnd, lineOffset: lineOffset, quoted: true),
        &fieldCount)
      lineOffset += quotedLines
      if after != delimiter {
        return (fieldCount, length, lineOffset + lines)
      }
      fieldStart = length
      scan = fieldStart
      quotedLines = 0
      escaped = false
    }
  }

  /// Turns each doubled quote in `from..<to` into one, moving bytes left.
  /// - Precondition: every quote in the range is part of a doubled pair (the scan checked).
  /// - Returns: the new end of the field.
  private func unescape(from: Int, to: Int, quote: UInt8) -> Int {
    var read = from
    var write = from
    while read < to {
      let byte = bytes[read]
      bytes[write] = byte
      write += 1
      read += byte == quote ? 2 : 1
    }
    return write
  }

  @inline(__always)
  private func append(_ field: CSVField, _ count: inout Int) {
    if count == fieldCapacity {
      let grown = UnsafeMutablePointer<CSVField>.allocate(capacity: fieldCapacity * 2)
      grown.initialize(from: fields, count: count)
      fields.deallocate()
      fields = grown
      fieldCapacity *= 2
    }
    (fields + count).initialize(to: field)
    count += 1
  }

  private func name(_ index: Int) -> String? {
    guard let columnNames, index < columnNames.count else { return nil }
    return columnNames[index]
  }

  private func textAfterQuote(_ found: UInt8, _ line: Int, _ index: Int) -> CSVError {
    .textAfterClosingQuote(
      path: path, line: line, column: index + 1, name: name(index), found: found)
  }

  // MARK: - UTF-8

  /// Checks every field of the record at `record`: one pass over the raw bytes looks for any
  /// byte >= 0x80, and only if there is one is each field validated in full.
  private func validateUTF8(
    _ record: UnsafeMutablePointer<UInt8>, length: Int, fieldCount: Int, line: Int
  ) throws {
    guard UTF8Validation.hasHighBytes(UnsafeRawPointer(record), count: length) else { return }
    for i in 0..<fieldCount {
      let field = fields[i]
      let start = UnsafeRawPointer(record + field.start)
      let count = field.end - field.start
      guard UTF8Validation.hasHighBytes(start, count: count),
        let bad = UTF8Validation.firstInvalidByte(start, count: count)
      else { continue }
      var lineFeeds = 0
      for j in 0..<bad where start.load(fromByteOffset: j, as: UInt8.self) == Self.lineFeed {
        lineFeeds += 1
      }
      throw CSVError.invalidUTF8(
        path: path, line: line + field.lineOffset + lineFeeds, column: i + 1, name: name(i))
    }
  }
}

/// Finds the first occurrence of either of two byte values, 8 bytes at a time (SWAR: SIMD within
/// a register).
private struct BytePairFinder {
  private let first: UInt8
  private let second: UInt8
  private let firstLanes: UInt64  // `first` in each of the 8 byte lanes.
  private let secondLanes: UInt64

  private static let ones: UInt64 = 0x0101_0101_0101_0101
  private static let highBits: UInt64 = 0x8080_8080_8080_8080

  init(_ first: UInt8, _ second: UInt8) {
    self.first = first
    self.second = second
    firstLanes = Self.ones &* UInt64(first)
    secondLanes = Self.ones &* UInt64(second)
  }

  /// The position of the first byte in `from..<to` equal to either value, or `to` if none.
  @inline(__always)
  func firstMatch(in bytes: UnsafeMutablePointer<UInt8>, from: Int, to limit: Int) -> Int {
    var p = from
    while p + 8 <= limit {
      // This is safe: p + 8 <= limit, so the 8 bytes are inside the buffer.
      let word = UInt64(littleEndian: UnsafeRawPointer(bytes + p).loadUnaligned(as: UInt64.self))
      let matches = Self.zeroLanes(word ^ firstLanes) | Self.zeroLanes(word ^ secondLanes)
      if matches != 0 { return p + matches.trailingZeroBitCount >> 3 }
      p += 8
    }
    while p < limit {
      let byte = bytes[p]
      if byte == first || byte == second { return p }
      p += 1
    }
    return limit
  }

  /// The high bit of each zero lane of `v`. Lanes above a zero lane can be wrongly marked (the
  /// subtraction borrows into them) but the lowest marked lane is always the first zero one,
  /// which is all `firstMatch` uses.
  @inline(__always)
  private static func zeroLanes(_ v: UInt64) -> UInt64 {
    (v &- ones) & ~v & highBits
  }
}

/// UTF-8 checks over raw bytes.
private enum UTF8Validation {
  /// True when some byte is >= 0x80; looks at 8 bytes at a time.
  static func hasHighBytes(_ start: UnsafeRawPointer, count: Int) -> Bool {
    let highBits: UInt64 = 0x8080_8080_8080_8080
    var i = 0
    var any: UInt64 = 0
    while i + 8 <= count {
      any |= start.loadUnaligned(fromByteOffset: i, as: UInt64.self)
      i += 8
    }
    while i < count {
      any |= UInt64(start.load(fromByteOffset: i, as: UInt8.self))
      i += 1
    }
    return any & highBits != 0
  }

  /// The offset of the first byte that does not start a well-formed UTF-8 sequence, or nil when
  /// all are well formed. Rejects stray continuation bytes, overlong forms, surrogates
  /// (U+D800...U+DFFF), code points above U+10FFFF and sequences cut short.
  static func firstInvalidByte(_ start: UnsafeRawPointer, count: Int) -> Int? {
    @inline(__always) func byte(_ i: Int) -> UInt8 { start.load(fromByteOffset: i, as: UInt8.self) }
    @inline(__always) func isContinuation(_ i: Int) -> Bool { i < count && byte(i) & 0xC0 == 0x80 }

    var i = 0
    while i < count {
      let lead = byte(i)
      if lead < 0x80 {
        i += 1
        continue
      }
      // The second byte's range depends on the lead: this is what excludes overlong forms,
      // surrogates and code points above U+10FFFF (Unicode Table 3-7).
      let (length, low, high): (Int, UInt8, UInt8)
      switch lead {
      case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
      case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)  // No overlong 3-byte forms.
      case 0xE1...0xEC, 0xEE...0xEF: (length, low, high) = (3, 0x80, 0xBF)
      case 0xED: (length, low, high) = (3, 0x80, 0x9F)  // No surrogates.
      case 0xF0: (length, low, high) = (4, 0x90, 0xBF)  // No overlong 4-byte forms.
      case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
      case 0xF4: (length, low, high) = (4, 0x80, 0x8F)  // Nothing above U+10FFFF.
      default: return i  // 0x80...0xC1 (continuation or overlong lead), 0xF5...0xFF.
      }
      guard i + 1 < count, byte(i + 1) >= low, byte(i + 1) <= high else { return i }
      for k in 2..<length where !isContinuation(i + k) { return i }
      i += length
    }
    return nil
  }
}
