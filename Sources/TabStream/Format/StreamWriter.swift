// Writes a stream segment: preamble and header at once, then one record per block, each sent
// to the sink in a single write so a consumer downstream can start on it immediately.

/// Writes one segment of a stream to a sink.
public final class StreamWriter {
  public let header: StreamHeader
  public let sink: ByteSink
  public private(set) var rowsWritten = 0
  public private(set) var blocksWritten = 0
  private let compressor: ZstdCompressor
  private var frame: [UInt8] = []
  private var record: [UInt8] = []
  private var finished = false

  /// Writes the preamble and header.
  /// - Parameter level: zstd level for every record (1-19).
  /// - Throws: `IOError` from the sink.
  public init(sink: ByteSink, header: StreamHeader, level: Int32 = 3) throws {
    self.header = header
    self.sink = sink
    compressor = ZstdCompressor(level: level)
    var preamble = StreamFormat.magic
    preamble.appendLittleEndian(StreamFormat.major)
    preamble.appendLittleEndian(StreamFormat.minor)
    try sink.write(preamble)
    let json = try header.encodedJSON()
    try json.withUnsafeBytes { try writeRecord(.header, count: 0, payload: $0) }
  }

  /// Writes `block` as one record (nothing for an empty block).
  public func write(_ block: RowBlock) throws {
    precondition(
      block.floatWidth == header.layout.floatWidth && block.intWidth == header.layout.intWidth,
      "block width does not match the stream's layout")
    try block.floats.withUnsafeBytes { floats in
      try block.ints.withUnsafeBytes { ints in
        try write(rows: block.rows, floats: floats, ints: ints)
      }
    }
  }

  /// Writes `rows` rows given as a row-major float32 section and a row-major int32 section.
  public func write(rows: Int, floats: UnsafeRawBufferPointer, ints: UnsafeRawBufferPointer) throws {
    precondition(!finished, "write after finish")
    guard rows > 0 else { return }
    let floatBytes = rows * header.layout.floatWidth * 4
    let intBytes = rows * header.layout.intWidth * 4
    precondition(floats.count >= floatBytes && ints.count >= intBytes)
    precondition(floatBytes + intBytes <= StreamFormat.maxRecordBytes, "block too large")
    // Both sections go into one frame; when the int section is empty the float bytes are
    // compressed in place, without a copy.
    if intBytes == 0 {
      try writeRecord(.rows, count: rows, payload: UnsafeRawBufferPointer(rebasing: floats[0..<floatBytes]))
    } else if floatBytes == 0 {
      try writeRecord(.rows, count: rows, payload: UnsafeRawBufferPointer(rebasing: ints[0..<intBytes]))
    } else {
      var joined = [UInt8](repeating: 0, count: floatBytes + intBytes)
      joined.withUnsafeMutableBytes { out in
        out.baseAddress!.copyMemory(from: floats.baseAddress!, byteCount: floatBytes)
        (out.baseAddress! + floatBytes).copyMemory(from: ints.baseAddress!, byteCount: intBytes)
      }
      try joined.withUnsafeBytes { try writeRecord(.rows, count: rows, payload: $0) }
    }
    rowsWritten += rows
    blocksWritten += 1
  }

  /// Writes the end record. A stream without one reads as truncated.
  public func finish() throws {
    precondition(!finished, "finish called twice")
    finished = true
    var counts: [UInt8] = []
    counts.appendLittleEndian(UInt64(rowsWritten))
    counts.appendLittleEndian(UInt64(blocksWritten))
    try counts.withUnsafeBytes { try writeRecord(.end, count: 0, payload: $0) }
  }

  private func writeRecord(_ tag: RecordTag, count: Int, payload: UnsafeRawBufferPointer) throws {
    compressor.compress(payload, into: &frame)
    record.removeAll(keepingCapacity: true)
    record.appendLittleEndian(tag.rawValue)
    record.appendLittleEndian(UInt32(count))
    record.appendLittleEndian(UInt32(frame.count))
    record.append(contentsOf: frame)
    try sink.write(record)
  }
}

extension Array where Element == UInt8 {
  /// Appends an integer's bytes, least significant first.
  @inlinable
  public mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
    var v = value.littleEndian
    Swift.withUnsafeBytes(of: &v) { append(contentsOf: $0) }
  }
}
