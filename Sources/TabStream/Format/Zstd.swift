// One-shot zstd frames for the container's records: every frame carries its content size and
// a content checksum, so a flipped bit or a cut frame is caught by libzstd on decompression.

import CZstd

/// Compresses whole records into single zstd frames with a content checksum.
public final class ZstdCompressor {
  private let context: OpaquePointer
  public let level: Int32

  /// - Parameter level: zstd level, 1 (fastest) to 19.
  public init(level: Int32) {
    guard let context = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx: out of memory") }
    self.context = context
    self.level = level
    ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
    ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
    ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1)
  }

  deinit { ZSTD_freeCCtx(context) }

  /// Compresses `source` into `frame` (resized to fit the frame exactly).
  public func compress(_ source: UnsafeRawBufferPointer, into frame: inout [UInt8]) {
    let bound = ZSTD_compressBound(source.count)
    if frame.count < bound { frame = [UInt8](repeating: 0, count: bound) }
    let written = frame.withUnsafeMutableBytes { out in
      ZSTD_compress2(context, out.baseAddress, out.count, source.baseAddress, source.count)
    }
    // Compression into a buffer of compressBound bytes cannot fail but for memory exhaustion.
    precondition(ZSTD_isError(written) == 0, "zstd: \(String(cString: ZSTD_getErrorName(written)))")
    frame.removeLast(frame.count - written)
  }
}

/// Decompresses single zstd frames whose content size is known in advance.
public final class ZstdDecompressor {
  private let context: OpaquePointer

  public init() {
    guard let context = ZSTD_createDCtx() else { fatalError("ZSTD_createDCtx: out of memory") }
    self.context = context
  }

  deinit { ZSTD_freeDCtx(context) }

  /// The content size a frame declares, or nil if the frame does not declare one or is not a frame.
  public static func declaredSize(of frame: UnsafeRawBufferPointer) -> Int? {
    let size = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
    if size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN { return nil }
    return size > UInt64(Int.max) ? nil : Int(size)
  }

  /// Decompresses `frame` into exactly `destination.count` bytes.
  /// - Returns: nil on success, else libzstd's reason (checksum mismatch, corrupted block, ...).
  public func decompress(_ frame: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer)
    -> String?
  {
    let written = ZSTD_decompressDCtx(
      context, destination.baseAddress, destination.count, frame.baseAddress, frame.count)
    if ZSTD_isError(written) != 0 { return String(cString: ZSTD_getErrorName(written)) }
    if written != destination.count { return "frame holds \(written) bytes, expected \(destination.count)" }
    return nil
  }
}
