// The container's constants and its record envelope. A stream is one or more segments:
//
//   segment  = preamble HEAD ROWS* ENDS
//   preamble = 89 'T' 'A' 'B' 0D 0A 1A 0A, major u16 LE, minor u16 LE       (12 bytes)
//   record   = tag (4 ASCII bytes), count u32 LE, length u32 LE, payload     (12 + length bytes)
//
// Every payload is one zstd frame with its content size and a content checksum. The full
// byte-level description, with a worked example, is docs/stream-format.md.

/// Constants of the stream format.
public enum StreamFormat {
  /// A reader refuses streams with a higher major version.
  public static let major: UInt16 = 1
  /// Minor versions add optional things only; readers accept any minor version.
  public static let minor: UInt16 = 0
  /// PNG-style magic: a high byte (catches 7-bit transfers), "TAB", CR LF (catches newline
  /// conversion), ^Z (stops DOS `type`), LF.
  public static let magic: [UInt8] = [0x89, 0x54, 0x41, 0x42, 0x0D, 0x0A, 0x1A, 0x0A]
  public static let preambleBytes = 12
  public static let envelopeBytes = 12
  /// The largest record payload or decoded block a reader accepts (guards against absurd sizes
  /// from a corrupt length field).
  public static let maxRecordBytes = 1 << 30
  /// Default uncompressed bytes per block: big enough for zstd and for BLAS-sized batches,
  /// small enough that a consumer starts early and memory stays bounded.
  public static let targetBlockBytes = 1 << 20

  /// The default number of rows per block for rows of `rowBytes` bytes.
  public static func defaultBlockRows(rowBytes: Int) -> Int {
    max(1, min(1 << 16, targetBlockBytes / max(1, rowBytes)))
  }
}

/// The four-byte tag that opens a record.
public enum RecordTag: UInt32, Sendable {
  /// The header: JSON, exactly once at the start of each segment.
  case header = 0x4441_4548  // "HEAD"
  /// A block of rows: `count` rows, float section then int section.
  case rows = 0x5357_4F52  // "ROWS"
  /// The end of a segment: rows and blocks in this segment, as two u64.
  case end = 0x5344_4E45  // "ENDS"

  /// A tag whose first byte is a lowercase letter marks an optional record that readers
  /// which do not know it skip (how later minor versions add things); any other unknown
  /// tag is an error.
  public static func isSkippable(_ raw: UInt32) -> Bool {
    let first = UInt8(truncatingIfNeeded: raw)
    return first >= 0x61 && first <= 0x7A
  }

  /// The tag as text, for messages.
  public static func text(_ raw: UInt32) -> String {
    let bytes = (0..<4).map { UInt8(truncatingIfNeeded: raw >> (8 * $0)) }
    if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
      return "'" + String(decoding: bytes, as: UTF8.self) + "'"
    }
    return bytes.map { String($0, radix: 16) }.joined(separator: " ")
  }
}

#if _endian(big)
  #error("tabpipe streams are little-endian; a big-endian port must byte-swap blocks")
#endif
