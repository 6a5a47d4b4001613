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

  /// Whether SIGINT was ignored when the process started (`cmd &` in a script, nohup): it must
  /// stay ignored, or a Ctrl-C meant for the foreground job would stop this one too.
  private nonisolated(unsafe) static var interruptIgnoredAtStart: Bool?

  /// Sets the handler of SIGINT (unless it was ignored at start) and SIGTERM.
  static func handle(_ handler: @convention(c) (Int32) -> Void) {
    if interruptIgnoredAtStart == nil {
      var current = sigaction()
      sigaction(SIGINT, nil, &current)
      // SIG_IGN is the handler value 1 (a C cast macro Swift does not import).
      interruptIgnoredAtStart =
        current.__sigaction_handler.sa_handler.map { unsafeBitCast($0, to: Int.self) == 1 } ?? false
    }
    if interruptIgnoredAtStart != true { signal(SIGINT, handler) }
    signal(SIGTERM, handler)
  }

  static func installSignalHandlers() {
    if interruptedMessage == nil { interruptedMessage = strdup("\(programName): interrupted\n") }
    // Only async-signal-safe calls in the handler: unlink, write, _exit (no allocation).
    let handler: @convention(c) (Int32) -> Void = { _ in TemporaryFiles.immediateExit() }
    handle(handler)
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
  public convenience init(path: String?, binary: Bool, force: Bool, inputs: [String?] = []) throws {
    guard let path, path != "-" else {
      let out = FileOutput.standardOutput()
      if binary && out.isTerminal && !force {
        throw ToolError("refusing to write a binary stream to a terminal; redirect it or use -o FILE (--force overrides)")
      }
      self.init(sink: out, path: nil, temporaryPath: nil)
      return
    }
    for input in inputs {
      if let input, input != "-", Self.sameFile(input, path) {
        throw ToolError("\(path): is also an input; write to another file", status: ExitStatus.cannotCreate)
      }
    }
    // Two outputs of one run on the same file would share the temporary file and overwrite
    // each other.
    let key = Self.canonical(path)
    if Self.opened.contains(key) {
      throw ToolError("\(path): named for two outputs of this run", status: ExitStatus.usage)
    }
    Self.opened.insert(key)
    var existing = stat()
    var target = path
    if lstat(path, &existing) == 0 && (existing.st_mode & S_IFMT) == S_IFLNK {
      // Write through a symbolic link to the file it names (rename would replace the link).
      guard let resolved = realpath(path, nil) else {
        throw IOError.cannotCreate(path: path, reason: "a symbolic link to nothing")
      }
      target = String(cString: resolved)
      free(resolved)
    }
    let opened = try Self.open(target, shownAs: path)
    self.init(sink: opened.sink, path: opened.path, temporaryPath: opened.temporary)
  }

  private init(sink: FileOutput, path: String?, temporaryPath: String?) {
    self.sink = sink
    self.path = path
    self.temporaryPath = temporaryPath
  }

  /// Opens `target` (no symbolic link): a device, FIFO or socket directly (a rename would
  /// replace /dev/null with a regular file), a regular file through a temporary file that
  /// keeps the old file's permissions. Returns the sink, the path to rename onto and the
  /// temporary file (both nil when writing directly).
  private static func open(_ target: String, shownAs path: String) throws -> (
    sink: FileOutput, path: String?, temporary: String?
  ) {
    var existing = stat()
    let exists = stat(target, &existing) == 0
    let kind = existing.st_mode & S_IFMT
    if exists && kind != S_IFREG && kind != S_IFDIR {
      do {
        return (try FileOutput(creating: target, exclusive: false), nil, nil)
      } catch {
        throw IOError.cannotCreate(path: path, reason: errnoText(errno))
      }
    }
    let (directory, base) = split(target)
    let temporary = "\(directory)/.\(base).tmp-\(getpid())"
    TemporaryFiles.register(temporary)
    let sink: FileOutput
    do {
      sink = try FileOutput(creating: temporary, exclusive: false)
    } catch {
      TemporaryFiles.unregister(temporary)
      throw IOError.cannotCreate(path: path, reason: errnoText(errno))
    }
    // A replaced file keeps its permissions (a private table's mode 600 must not become 644).
    if exists && kind == S_IFREG { chmod(temporary, existing.st_mode & 0o7777) }
    return (sink, target, temporary)
  }

  /// A path's directory ("." without one, "/" at the root) and last component.
  private static func split(_ path: String) -> (directory: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let directory = String(path[..<slash])
    return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
  }

  /// Every output path opened by this process, made absolute.
  private nonisolated(unsafe) static var opened: Set<String> = []

  /// `path` made absolute (its directory resolved when it exists), for comparing outputs.
  static func canonical(_ path: String) -> String {
    if let resolved = realpath(path, nil) {
      defer { free(resolved) }
      return String(cString: resolved)
    }
    let (directory, name) = split(path)
    if let resolved = realpath(directory, nil) {
      defer { free(resolved) }
      return String(cString: resolved) + "/" + name
    }
    return path
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

  static func sameFile(_ a: String, _ b: String) -> Bool {
    var sa = stat()
    var sb = stat()
    guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
  }
}
