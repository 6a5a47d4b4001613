// Outputs named with -o are written to a temporary file beside the target and renamed over it
// only when complete, so a failure or an interrupt never leaves a half-written file where a
// good one stood (zstd's fileio.c INThandler does the same).

import TabStream

#if canImport(Glibc)
  import Glibc
#endif

/// The temporary files in flight, removed on error or on SIGINT/SIGTERM.
public enum TemporaryFiles {
  // The signal handler can only read C data: paths are kept as strdup'ed C strings.
  private nonisolated(unsafe) static var paths: [UnsafeMutablePointer<CChar>] = []
  private nonisolated(unsafe) static var interruptedMessage: UnsafeMutablePointer<CChar>?

  static func register(_ path: String) {
    paths.append(strdup(path))
  }

  static func unregister(_ path: String) {
    if let i = paths.firstIndex(where: { String(cString: $0) == path }) {
      free(paths.remove(at: i))
    }
  }

  /// Removes every temporary file still registered.
  public static func removeAll() {
    for path in paths { unlink(path) }
    paths.removeAll()
  }

  /// Removes the temporary files, says "interrupted" and exits 130; async-signal-safe.
  static func immediateExit() -> Never {
    for path in TemporaryFiles.paths { unlink(path) }
    if let message = TemporaryFiles.interruptedMessage { _ = write(2, message, strlen(message)) }
    _exit(ExitStatus.interrupted)
  }

  static func installSignalHandlers() {
    if interruptedMessage == nil { interruptedMessage = strdup("\(programName): interrupted\n") }
    // Only async-signal-safe calls in the handler: unlink, write, _exit (no allocation).
    let handler: @convention(c) (Int32) -> Void = { _ in TemporaryFiles.immediateExit() }
    signal(SIGINT, handler)
    signal(SIGTERM, handler)
    // A parent may have left these blocked (the mask is inherited across exec): then Ctrl-C
    // would never reach the handler.
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    sigaddset(&set, SIGPIPE)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
  }
}

/// Where a tool writes its result: standard output, or a path written atomically.
public final class OutputTarget {
  public let sink: FileOutput
  /// The final path, or nil for standard output.
  public let path: String?
  private let temporaryPath: String?

  /// Opens `path` (nil or "-": standard output).
  /// - Parameters:
  ///   - binary: refuse a terminal on stdout unless `force` (binary streams garble terminals).
  ///   - inputs: paths this run reads; writing over one of them is refused.
  public init(path: String?, binary: Bool, force: Bool, inputs: [String?] = []) throws {
    guard let path, path != "-" else {
      let out = FileOutput.standardOutput()
      if binary && out.isTerminal && !force {
        throw ToolError("refusing to write a binary stream to a terminal; redirect it or use -o FILE (--force overrides)")
      }
      sink = out
      self.path = nil
      temporaryPath = nil
      return
    }
    for input in inputs {
      if let input, input != "-", Self.sameFile(input, path) {
        throw ToolError("\(path): is also an input; write to another file", status: ExitStatus.cannotCreate)
      }
    }
    let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
    let base = path.contains("/") ? String(path[path.index(after: path.lastIndex(of: "/")!)...]) : path
    let temporary = "\(directory.isEmpty ? "/" : directory)/.\(base).tmp-\(getpid())"
    TemporaryFiles.register(temporary)
    do {
      sink = try FileOutput(creating: temporary, exclusive: false)
    } catch {
      TemporaryFiles.unregister(temporary)
      throw IOError.cannotCreate(path: path, reason: errnoText(errno))
    }
    self.path = path
    temporaryPath = temporary
  }

  /// Makes the output visible: fsync, then rename over the target path.
  public func commit() throws {
    guard let path, let temporaryPath else { return }
    try sink.synchronize()
    guard rename(temporaryPath, path) == 0 else {
      let reason = errnoText(errno)
      unlink(temporaryPath)
      TemporaryFiles.unregister(temporaryPath)
      throw IOError.cannotCreate(path: path, reason: reason)
    }
    TemporaryFiles.unregister(temporaryPath)
  }

  /// Removes the temporary file (on failure).
  public func discard() {
    guard let temporaryPath else { return }
    unlink(temporaryPath)
    TemporaryFiles.unregister(temporaryPath)
  }

  /// Runs `body` writing to this target; commits on success, discards on failure.
  public func write(_ body: (FileOutput) throws -> Void) throws {
    do {
      try body(sink)
      try commit()
    } catch {
      discard()
      throw error
    }
  }

  private static func sameFile(_ a: String, _ b: String) -> Bool {
    var sa = stat()
    var sb = stat()
    guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
  }
}
