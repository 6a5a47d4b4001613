// Reads a stream block by block in bounded memory, checking everything on the way: magic,
// version, header, each frame's checksum and size, the end record's counts, and that
// concatenated parts (shards) share one header. Nothing is returned that was not verified.

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Reads a stream (one or more concatenated segments) from a byte source.
public final class StreamReader {
  /// The first segment's header. Later segments must be compatible with it.
  public let header: StreamHeader
  /// Headers of every segment met so far (their provenance may differ).
  public private(set) var segmentHeaders: [StreamHeader]
  public private(set) var rowsRead = 0
  public private(set) var blocksRead = 0
  public let path: String
  /// The format version (major, minor) the first part was written with.
  public let formatVersion: (major: Int, minor: Int)

  private let input: BufferedInput
  private let decompressor = ZstdDecompressor()
  private var frame: [UInt8] = []
  private var payload: [UInt8] = []
  private var segmentRows = 0
  private var segmentBlocks = 0
  private var ended = false

  /// Reads and checks the preamble and header.
  /// - Throws: `StreamError` (empty, not a stream, newer version, bad header, truncated),
  ///   `IOError`.
  public init(source: ByteSource) throws {
    path = source.name
    input = BufferedInput(source: source)
    guard let version = try Self.readPreamble(input, path: source.name, first: true) else {
      throw StreamError.empty(path: source.name)
    }
    formatVersion = version
    let first = try Self.readHeader(input, path: source.name, decompressor: decompressor)
    header = first
    segmentHeaders = [first]
  }

  /// Checks that the stream is of one of `kinds`.
  /// - Throws: `StreamError.wrongKind` with `hint` appended to the message.
  public func require(_ kinds: [StreamKind], hint: String? = nil) throws {
    guard kinds.contains(header.kind) else {
      throw StreamError.wrongKind(path: path, found: header.kind, expected: kinds, hint: hint)
    }
  }

  /// Reads the next block into `block` (reusing its storage); false at the verified end.
  /// - Throws: `StreamError` (truncated, corrupt, count mismatch, incompatible part), `IOError`.
  public func read(into block: inout RowBlock) throws -> Bool {
    precondition(
      block.floatWidth == header.layout.floatWidth && block.intWidth == header.layout.intWidth)
    while true {
      if ended { return false }
      guard let envelope = try readEnvelope() else {
        throw StreamError.truncated(path: path, rows: rowsRead, blocks: blocksRead)
      }
      switch envelope.tag {
      case RecordTag.rows.rawValue:
        try readRows(count: envelope.count, length: envelope.length, into: &block)
        return true
      case RecordTag.end.rawValue:
        try readEnd(length: envelope.length)
        // Another segment may follow (concatenated shards), or the input ends here.
        if try Self.readPreamble(input, path: path, first: false) != nil {
          let next = try Self.readHeader(input, path: path, decompressor: decompressor)
          guard next.isCompatible(with: header) else {
            throw StreamError.incompatibleSegment(path: path, segment: segmentHeaders.count)
          }
          segmentHeaders.append(next)
          segmentRows = 0
          segmentBlocks = 0
        } else {
          ended = true
          return false
        }
      case RecordTag.header.rawValue:
        throw corrupt("a second header inside a segment")
      default:
        guard RecordTag.isSkippable(envelope.tag) else {
          throw corrupt("unknown record type \(RecordTag.text(envelope.tag))")
        }
        try skip(envelope.length)
      }
    }
  }

  // MARK: - Records

  private struct Envelope {
    var tag: UInt32
    var count: Int
    var length: Int
  }

  private func readEnvelope() throws -> Envelope? {
    var bytes = (UInt64(0), UInt32(0))  // 12 bytes of scratch
    let got = try withUnsafeMutableBytes(of: &bytes) {
      try input.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<StreamFormat.envelopeBytes]))
    }
    if got < StreamFormat.envelopeBytes { return nil }
    return withUnsafeBytes(of: &bytes) { raw in
      let length = Int(raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian)
      return Envelope(
        tag: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian,
        count: Int(raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian),
        length: length)
    }
  }

  private func readRows(count: Int, length: Int, into block: inout RowBlock) throws {
    let rowBytes = header.layout.rowBytes
    guard count > 0, count.multipliedReportingOverflow(by: rowBytes).overflow == false,
      count * rowBytes <= StreamFormat.maxRecordBytes
    else { throw corrupt("implausible row count \(count)") }
    let expected = count * rowBytes
    try readFrame(length: length, expectedSize: expected)
    block.resize(rows: count)
    let floatBytes = count * header.layout.floatWidth * 4
    payload.withUnsafeBytes { source in
      block.floats.withUnsafeMutableBytes { out in
        if floatBytes > 0 { out.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: floatBytes) }
      }
      block.ints.withUnsafeMutableBytes { out in
        if expected > floatBytes {
          out.baseAddress!.copyMemory(from: source.baseAddress! + floatBytes, byteCount: expected - floatBytes)
        }
      }
    }
    rowsRead += count
    segmentRows += count
    blocksRead += 1
    segmentBlocks += 1
  }

  private func readEnd(length: Int) throws {
    try readFrame(length: length, expectedSize: 16)
    // Compared as unsigned: a corrupt count near 2^64 must not print as a negative number.
    let (rows, blocks) = payload.withUnsafeBytes {
      (
        $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian,
        $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian
      )
    }
    guard rows == UInt64(segmentRows) else {
      throw StreamError.countMismatch(path: path, declared: rows, read: segmentRows)
    }
    guard blocks == UInt64(segmentBlocks) else {
      throw corrupt("end record declares \(blocks) blocks, \(segmentBlocks) were read")
    }
  }

  /// Reads a frame of `length` bytes and decompresses it into `payload`, which must come to
  /// exactly `expectedSize` bytes.
  private func readFrame(length: Int, expectedSize: Int) throws {
    guard length > 0, length <= StreamFormat.maxRecordBytes else {
      throw corrupt("implausible record length \(length)")
    }
    if frame.count < length { frame = [UInt8](repeating: 0, count: length) }
    let got = try frame.withUnsafeMutableBytes {
      try input.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<length]))
    }
    guard got == length else {
      throw StreamError.truncated(path: path, rows: rowsRead, blocks: blocksRead)
    }
    if payload.count != expectedSize { payload = [UInt8](repeating: 0, count: expectedSize) }
    let failure = frame.withUnsafeBytes { frameBytes -> String? in
      let data = UnsafeRawBufferPointer(rebasing: frameBytes[0..<length])
      guard let declared = ZstdDecompressor.declaredSize(of: data) else {
        return "record is not a zstd frame with a known size"
      }
      guard declared == expectedSize else {
        return "record holds \(declared) bytes, its envelope implies \(expectedSize)"
      }
      return payload.withUnsafeMutableBytes { decompressor.decompress(data, into: $0) }
    }
    if let failure { throw corrupt(failure) }
  }

  private func skip(_ length: Int) throws {
    guard length >= 0, length <= StreamFormat.maxRecordBytes else {
      throw corrupt("implausible record length \(length)")
    }
    var scratch = [UInt8](repeating: 0, count: min(length, 1 << 16))
    var left = length
    while left > 0 {
      let n = try scratch.withUnsafeMutableBytes {
        try input.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<min(left, $0.count)]))
      }
      if n == 0 { throw StreamError.truncated(path: path, rows: rowsRead, blocks: blocksRead) }
      left -= n
    }
  }

  private func corrupt(_ detail: String) -> StreamError {
    .corrupt(path: path, block: blocksRead + 1, detail: detail)
  }

  // MARK: - Preamble and header

  /// Reads a preamble; returns its version, or nil on a clean end of input (no bytes at all).
  private static func readPreamble(_ input: BufferedInput, path: String, first: Bool) throws -> (major: Int, minor: Int)? {
    var bytes = [UInt8](repeating: 0, count: StreamFormat.preambleBytes)
    let got = try bytes.withUnsafeMutableBytes { try input.read(into: $0) }
    if got == 0 { return nil }
    let magicBytes = StreamFormat.magic.count
    if got < magicBytes && Array(bytes[0..<got]) == Array(StreamFormat.magic[0..<got]) {
      throw StreamError.truncated(path: path, rows: 0, blocks: 0)  // cut inside the magic
    }
    guard got >= magicBytes, Array(bytes[0..<magicBytes]) == StreamFormat.magic else {
      if first { throw StreamError.notAStream(path: path, hint: guess(Array(bytes[0..<got]))) }
      throw StreamError.corrupt(path: path, block: 0, detail: "unexpected bytes after an end record")
    }
    guard got == StreamFormat.preambleBytes else {
      throw StreamError.truncated(path: path, rows: 0, blocks: 0)
    }
    let major = Int(bytes[8]) | Int(bytes[9]) << 8
    let minor = Int(bytes[10]) | Int(bytes[11]) << 8
    guard major <= Int(StreamFormat.major) else {
      throw StreamError.newerVersion(path: path, major: major, minor: minor)
    }
    return (major, minor)
  }

  private static func readHeader(
    _ input: BufferedInput, path: String, decompressor: ZstdDecompressor
  ) throws -> StreamHeader {
    var envelope = [UInt8](repeating: 0, count: StreamFormat.envelopeBytes)
    let got = try envelope.withUnsafeMutableBytes { try input.read(into: $0) }
    guard got == StreamFormat.envelopeBytes else {
      throw StreamError.truncated(path: path, rows: 0, blocks: 0)
    }
    let (tag, length) = envelope.withUnsafeBytes {
      (
        $0.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian,
        Int($0.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian)
      )
    }
    guard tag == RecordTag.header.rawValue else {
      throw StreamError.badHeader(path: path, detail: "first record is \(RecordTag.text(tag)), not 'HEAD'")
    }
    guard length > 0, length <= StreamFormat.maxRecordBytes else {
      throw StreamError.badHeader(path: path, detail: "implausible header length \(length)")
    }
    var frame = [UInt8](repeating: 0, count: length)
    guard try frame.withUnsafeMutableBytes({ try input.read(into: $0) }) == length else {
      throw StreamError.truncated(path: path, rows: 0, blocks: 0)
    }
    let json: [UInt8] = try frame.withUnsafeBytes { data in
      guard let size = ZstdDecompressor.declaredSize(of: data), size <= StreamFormat.maxRecordBytes
      else { throw StreamError.badHeader(path: path, detail: "header is not a zstd frame") }
      var json = [UInt8](repeating: 0, count: size)
      if let failure = json.withUnsafeMutableBytes({ decompressor.decompress(data, into: $0) }) {
        throw StreamError.badHeader(path: path, detail: failure)
      }
      return json
    }
    do {
      return try JSONDecoder().decode(StreamHeader.self, from: Data(json))
    } catch {
      throw StreamError.badHeader(path: path, detail: describeDecodingError(error))
    }
  }

  /// A guess at what a non-stream input is, for the error message.
  static func guess(_ bytes: [UInt8]) -> String {
    if bytes.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) {
      return "it is zstd-compressed data; decompress it first (zstd -dc)"
    }
    if bytes.starts(with: [0x1F, 0x8B]) { return "it is gzip data; decompress it first (gzip -dc)" }
    let printable = bytes.allSatisfy { $0 == 9 || $0 == 10 || $0 == 13 || ($0 >= 0x20 && $0 < 0x7F) || $0 >= 0x80 }
    if printable && !bytes.isEmpty {
      return "it looks like text (a CSV?); turn a CSV into a stream with tab-encode"
    }
    return "unrecognised data"
  }
}

/// A read buffer in front of a byte source, so small reads (envelopes) do not each cost a
/// system call, while large reads (frames) go straight through.
final class BufferedInput {
  private let source: ByteSource
  private var buffer = [UInt8](repeating: 0, count: 1 << 16)
  private var start = 0
  private var end = 0

  init(source: ByteSource) { self.source = source }

  /// Fills `destination` completely unless the input ends; returns the bytes delivered.
  func read(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
    var filled = 0
    while filled < destination.count {
      if start == end {
        let want = destination.count - filled
        if want >= buffer.count {
          // Large read: bypass the buffer.
          let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: destination[filled...]))
          if n == 0 { return filled }
          filled += n
          continue
        }
        let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        if n == 0 { return filled }
        start = 0
        end = n
      }
      let n = min(end - start, destination.count - filled)
      buffer.withUnsafeBytes { source in
        (destination.baseAddress! + filled).copyMemory(from: source.baseAddress! + start, byteCount: n)
      }
      start += n
      filled += n
    }
    return filled
  }
}
