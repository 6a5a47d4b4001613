// Byte sources and sinks over read(2)/write(2): the one place where tabpipe touches file
// descriptors, retries on EINTR and turns errno into typed errors. Also the seam for tests
// (memory sources that deliver data in chunks of any size, sinks that fail on demand).

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// An I/O failure, named by the path (or "<stdin>"/"<stdout>") it happened on.
public enum IOError: Error, Equatable, Sendable {
  /// The input could not be opened (missing, unreadable, a directory).
  case cannotOpen(path: String, reason: String)
  /// The output could not be created.
  case cannotCreate(path: String, reason: String)
  /// read(2) failed.
  case readFailed(path: String, reason: String)
  /// write(2) failed for another reason than a closed pipe.
  case writeFailed(path: String, reason: String)
  /// The reader of our standard output went away (EPIPE). Tools exit quietly on it.
  case brokenPipe
}

/// The text of an errno value, e.g. "No such file or directory".
public func errnoText(_ code: Int32) -> String {
  guard let text = strerror(code) else { return "errno \(code)" }
  return String(cString: text)
}

/// Something bytes are read from, in chunks.
public protocol ByteSource: AnyObject {
  /// A name for messages: the path, or "<stdin>".
  var name: String { get }
  /// Reads up to `buffer.count` bytes into `buffer`; returns how many, 0 at end of input.
  /// - Throws: `IOError.readFailed`.
  func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Something bytes are written to.
public protocol ByteSink: AnyObject {
  /// A name for messages: the path, or "<stdout>".
  var name: String { get }
  /// Writes all of `bytes` or throws.
  /// - Throws: `IOError.writeFailed` or `IOError.brokenPipe`.
  func write(_ bytes: UnsafeRawBufferPointer) throws
}

extension ByteSink {
  /// Writes the bytes of an array.
  public func write(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try write($0) }
  }
}

extension ByteSource {
  /// Reads until `buffer` is full or the input ends; returns how many bytes were read.
  public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    var filled = 0
    while filled < buffer.count {
      let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
      if n == 0 { break }
      filled += n
    }
    return filled
  }

  /// Reads everything that is left. Used for small inputs (schema files, models).
  public func readAll() throws -> [UInt8] {
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
      if n == 0 { return result }
      result.append(contentsOf: chunk[0..<n])
    }
  }
}

/// A file descriptor opened for reading: a path, or standard input for nil or "-".
public final class FileInput: ByteSource {
  public let name: String
  public let descriptor: Int32
  private let owned: Bool

  /// Opens `path` for reading; nil or "-" means standard input.
  /// - Throws: `IOError.cannotOpen` with the system's reason.
  public init(path: String?) throws {
    guard let path, path != "-" else {
      name = "<stdin>"
      descriptor = 0
      owned = false
      return
    }
    name = path
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw IOError.cannotOpen(path: path, reason: errnoText(errno)) }
    var info = stat()
    if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
      close(fd)
      throw IOError.cannotOpen(path: path, reason: "Is a directory")
    }
    descriptor = fd
    owned = true
  }

  deinit { if owned { close(descriptor) } }

  public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
    while true {
      let n = Glibc.read(descriptor, base, buffer.count)
      if n >= 0 { return n }
      if errno == EINTR { continue }
      throw IOError.readFailed(path: name, reason: errnoText(errno))
    }
  }

  /// True when this input is a terminal (a user forgot the `<`).
  public var isTerminal: Bool { isatty(descriptor) == 1 }
}

/// A file descriptor opened for writing. Writes go straight to write(2); callers batch.
public final class FileOutput: ByteSink {
  public let name: String
  public let descriptor: Int32
  private let owned: Bool

  /// Standard output.
  public static func standardOutput() -> FileOutput { FileOutput(descriptor: 1, name: "<stdout>") }

  /// Wraps a descriptor this object does not own.
  public init(descriptor: Int32, name: String) {
    self.descriptor = descriptor
    self.name = name
    self.owned = false
  }

  /// Creates (or truncates) `path` for writing, with mode 0644 before the umask.
  /// - Throws: `IOError.cannotCreate`.
  public init(creating path: String, exclusive: Bool = false) throws {
    let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC)
    let fd = open(path, flags, 0o644)
    guard fd >= 0 else { throw IOError.cannotCreate(path: path, reason: errnoText(errno)) }
    name = path
    descriptor = fd
    owned = true
  }

  deinit { if owned { close(descriptor) } }

  public func write(_ bytes: UnsafeRawBufferPointer) throws {
    guard var base = bytes.baseAddress else { return }
    var left = bytes.count
    while left > 0 {
      let n = Glibc.write(descriptor, base, left)
      if n < 0 {
        if errno == EINTR { continue }
        if errno == EPIPE { throw IOError.brokenPipe }
        throw IOError.writeFailed(path: name, reason: errnoText(errno))
      }
      base += n
      left -= n
    }
  }

  /// Flushes the file's data to disk (before a rename makes it visible).
  public func synchronize() throws {
    if fsync(descriptor) != 0 && errno != EINVAL && errno != EROFS {
      throw IOError.writeFailed(path: name, reason: errnoText(errno))
    }
  }

  /// True when this output is a terminal.
  public var isTerminal: Bool { isatty(descriptor) == 1 }
}

/// Bytes in memory, delivered at most `chunk` bytes per read: tests use every chunk size
/// to exercise each buffer split point.
public final class MemoryInput: ByteSource {
  public let name: String
  private let bytes: [UInt8]
  private let chunk: Int
  private var offset = 0

  public init(_ bytes: [UInt8], name: String = "<memory>", chunk: Int = Int.max) {
    self.bytes = bytes
    self.name = name
    self.chunk = max(1, chunk)
  }

  public convenience init(_ text: String, name: String = "<memory>", chunk: Int = Int.max) {
    self.init(Array(text.utf8), name: name, chunk: chunk)
  }

  public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    let n = min(buffer.count, chunk, bytes.count - offset)
    if n <= 0 { return 0 }
    bytes.withUnsafeBytes { source in
      buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: n)
    }
    offset += n
    return n
  }
}

/// Collects written bytes in memory; can be told to fail after a number of bytes.
public final class MemoryOutput: ByteSink {
  public let name: String
  public private(set) var bytes: [UInt8] = []
  private let failAfter: Int?

  public init(name: String = "<memory>", failAfter: Int? = nil) {
    self.name = name
    self.failAfter = failAfter
  }

  public func write(_ data: UnsafeRawBufferPointer) throws {
    if let failAfter, bytes.count + data.count > failAfter {
      throw IOError.writeFailed(path: name, reason: "injected failure")
    }
    bytes.append(contentsOf: data)
  }
}
