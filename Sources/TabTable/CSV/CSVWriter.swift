// A buffered RFC 4180 CSV writer with minimal quoting: fields are appended to one buffer that
// goes to the sink when it passes a threshold at the end of a record, and on flush().

import TabStream

/// The bytes that end a record.
public enum LineEnding: String, Sendable, Codable {
  /// `\n`.
  case lf
  /// `\r\n`.
  case crlf
}

/// Writes CSV records field by field.
///
/// A field is quoted only when it must be: when it holds the delimiter, the quote, CR or LF
/// (quotes inside are doubled), or when it is empty and the only field of its record. Such a
/// record is written as `""` because an empty line is skipped by readers (`CSVReader`, pandas).
/// TSV is the same writer with delimiter 9.
///
/// Output is buffered; a record is never split across sink writes by `endRecord()`. Call
/// `flush()` at the end: bytes still buffered when the writer is released are lost.
public final class CSVWriter {
  /// The dialect being written.
  public let dialect: CSVDialect
  /// The bytes written after each record.
  public let lineEnding: LineEnding

  private let sink: ByteSink
  /// The output buffer: `capacity` bytes, of which the first `count` wait for the sink.
  private var bytes: UnsafeMutablePointer<UInt8>
  private var capacity: Int
  private var count = 0
  /// `endRecord()` hands the buffer to the sink once it holds this many bytes.
  private let threshold: Int
  /// Fields started in the current record.
  private var fieldsInRecord = 0
  /// Some field of the current record has at least one byte.
  private var recordHasBytes = false
  /// 256 entries: 1 for the bytes that make a field need quotes (delimiter, quote, CR, LF).
  private let needsQuotes: UnsafeMutablePointer<UInt8>

  private static let lineFeed: UInt8 = 10
  private static let carriageReturn: UInt8 = 13

  /// A writer to `sink`.
  /// - Parameter bufferSize: bytes buffered before `endRecord()` writes to the sink. The
  ///   buffer grows beyond it only to hold a record that is larger.
  /// - Precondition: `dialect.isValid`, `bufferSize >= 1`.
  public init(
    sink: ByteSink, dialect: CSVDialect = CSVDialect(), lineEnding: LineEnding = .lf,
    bufferSize: Int = 1 << 20
  ) {
    precondition(dialect.isValid, "invalid CSV dialect \(dialect)")
    precondition(bufferSize >= 1)
    self.sink = sink
    self.dialect = dialect
    self.lineEnding = lineEnding
    threshold = bufferSize
    // Room for a typical last record past the threshold without growing.
    capacity = bufferSize + 4096
    bytes = .allocate(capacity: capacity)
    needsQuotes = .allocate(capacity: 256)
    needsQuotes.initialize(repeating: 0, count: 256)
    for byte in [dialect.delimiter, dialect.quote, Self.lineFeed, Self.carriageReturn] {
      needsQuotes[Int(byte)] = 1
    }
  }

  deinit {
    bytes.deallocate()
    needsQuotes.deallocate()
  }

  /// Appends a field, quoting it when it holds the delimiter, the quote, CR or LF.
  public func writeField(_ field: UnsafeRawBufferPointer) {
    let n = field.count
    reserve(n + 1)
    startField()
    guard n > 0, let source = field.baseAddress else { return }
    recordHasBytes = true
    // Copy optimistically while noting whether any byte needs quoting: one pass for the
    // common field that does not. This is safe: reserve(n + 1) made room for the delimiter
    // and the n bytes.
    let out = bytes + count
    var special: UInt8 = 0
    for i in 0..<n {
      let byte = source.load(fromByteOffset: i, as: UInt8.self)
      out[i] = byte
      special |= needsQuotes[Int(byte)]
    }
    if special == 0 {
      count += n
      return
    }
    reserve(2 * n + 2)  // Every byte a quote, doubled, plus the two around.
    let quote = dialect.quote
    var p = count
    bytes[p] = quote
    p += 1
    for byte in field {
      bytes[p] = byte
      p += 1
      if byte == quote {
        bytes[p] = quote
        p += 1
      }
    }
    bytes[p] = quote
    count = p + 1
  }

  /// Appends a field given as text; see `writeField(_:)` for quoting.
  public func writeField(_ text: String) {
    var text = text
    text.withUTF8 { writeField(UnsafeRawBufferPointer($0)) }
  }

  /// Appends a field as it is, never quoted.
  /// - Precondition: `field` holds no delimiter, quote, CR or LF (numbers, checked labels).
  public func writeUnquotedField(_ field: UnsafeRawBufferPointer) {
    assert(
      !field.contains { needsQuotes[Int($0)] != 0 },
      "writeUnquotedField given a byte that needs quoting")
    let n = field.count
    reserve(n + 1)
    startField()
    guard n > 0, let source = field.baseAddress else { return }
    recordHasBytes = true
    UnsafeMutableRawPointer(bytes + count).copyMemory(from: source, byteCount: n)
    count += n
  }

  /// Starts a field and lets `body` write it straight into the buffer, for number formatting.
  /// `body` gets `maxBytes` writable bytes and returns how many it used; they are not quoted.
  /// - Precondition: `body` returns a count in `0...maxBytes` and writes no delimiter, quote,
  ///   CR or LF.
  public func writeField(reserving maxBytes: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
    precondition(maxBytes >= 0)
    reserve(maxBytes + 1)
    startField()
    let used = body(UnsafeMutableRawBufferPointer(start: bytes + count, count: maxBytes))
    precondition(used >= 0 && used <= maxBytes, "writeField(reserving:) body used \(used) bytes")
    count += used
    if used > 0 { recordHasBytes = true }
  }

  /// Ends the record with the line ending, and writes the buffer to the sink when it has
  /// passed the threshold. A record of one empty field is written as `""`; a record with no
  /// fields as an empty line (which readers skip).
  /// - Throws: the sink's `IOError`.
  public func endRecord() throws {
    reserve(4)
    if fieldsInRecord == 1 && !recordHasBytes {
      bytes[count] = dialect.quote
      bytes[count + 1] = dialect.quote
      count += 2
    }
    if lineEnding == .crlf {
      bytes[count] = Self.carriageReturn
      count += 1
    }
    bytes[count] = Self.lineFeed
    count += 1
    fieldsInRecord = 0
    recordHasBytes = false
    if count >= threshold { try flush() }
  }

  /// Writes a whole record of text fields and ends it.
  /// - Throws: the sink's `IOError`.
  public func writeRecord(_ fields: [String]) throws {
    for field in fields { writeField(field) }
    try endRecord()
  }

  /// Writes everything buffered to the sink. The buffer is emptied even when the sink throws.
  /// - Throws: the sink's `IOError`.
  public func flush() throws {
    guard count > 0 else { return }
    defer { count = 0 }
    try sink.write(UnsafeRawBufferPointer(start: bytes, count: count))
  }

  /// Adds the delimiter before every field but the first of a record.
  /// - Precondition: room for one byte was reserved.
  @inline(__always)
  private func startField() {
    if fieldsInRecord > 0 {
      bytes[count] = dialect.delimiter
      count += 1
    }
    fieldsInRecord += 1
  }

  /// Makes room for `n` more bytes.
  @inline(__always)
  private func reserve(_ n: Int) {
    if count + n > capacity { grow(toHold: n) }
  }

  /// Doubles the buffer, or more, so that `n` more bytes fit.
  @inline(never)
  private func grow(toHold n: Int) {
    let grownCapacity = max(capacity * 2, count + n)
    let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: grownCapacity)
    grown.initialize(from: bytes, count: count)
    bytes.deallocate()
    bytes = grown
    capacity = grownCapacity
  }
}
