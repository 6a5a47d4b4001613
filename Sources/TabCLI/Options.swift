// Option groups shared by the tools, and the progress line on stderr.

import ArgumentParser
import TabStream

#if canImport(Glibc)
  import Glibc
#endif

/// The tabpipe version, recorded in every stream's provenance.
public let tabpipeVersion = "0.1.0"

/// -o/--output, --force, --level: where and how a stream is written.
public struct StreamOutputOptions: ParsableArguments {
  @Option(name: .shortAndLong, help: "Write to FILE (atomically: a temporary file renamed when complete) instead of standard output.")
  public var output: String?

  @Flag(help: "Write a binary stream even to a terminal.")
  public var force = false

  @Option(help: "zstd compression level, 1 (fastest; 4% larger than 3 on token streams, 30% faster) to 19.")
  public var level: Int32 = 1

  public init() {}

  public func validate() throws {
    guard (1...19).contains(level) else { throw ValidationError("--level must be 1 to 19 (got \(level)).") }
  }
}

/// -q/--quiet and --progress.
public struct ReportingOptions: ParsableArguments {
  @Flag(name: .shortAndLong, help: "Print no progress and no warnings.")
  public var quiet = false

  @Flag(help: "Show progress on standard error even when it is not a terminal.")
  public var progress = false

  public init() {}

  /// A progress line, shown only when stderr is a terminal (or --progress), never with -q.
  public func makeProgress(_ label: String) -> Progress {
    Progress(label: label, enabled: !quiet && (progress || isatty(2) == 1))
  }

  /// Prints a warning line unless -q.
  public func warn(_ message: String) {
    if !quiet { Tool.report("warning: " + message) }
  }
}

/// A throttled one-line progress display on standard error.
public final class Progress {
  let label: String
  let enabled: Bool
  private var last: Double = 0
  private let start: Double

  init(label: String, enabled: Bool) {
    self.label = label
    self.enabled = enabled
    start = Progress.now()
    last = start
  }

  static func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
  }

  /// Shows `rows` done, at most four times a second.
  public func update(rows: Int) {
    guard enabled else { return }
    let now = Progress.now()
    guard now - last >= 0.25 else { return }
    last = now
    show(rows: rows, now: now, final: false)
  }

  /// Shows the final count and ends the line.
  public func finish(rows: Int) {
    guard enabled else { return }
    show(rows: rows, now: Progress.now(), final: true)
  }

  private func show(rows: Int, now: Double, final: Bool) {
    let seconds = max(now - start, 1e-9)
    let rate = Int(Double(rows) / seconds)
    let line = "\r\(programName): \(label) \(rows) rows, \(rate) rows/s" + (final ? "\n" : "")
    _ = line.withCString { write(2, $0, strlen($0)) }
  }
}

/// The provenance step for this run: tool, version, the options given, the seed.
public func provenanceStep(seed: UInt64? = nil) -> ProvenanceStep {
  ProvenanceStep(
    tool: programName, version: tabpipeVersion, options: Array(CommandLine.arguments.dropFirst()), seed: seed)
}

/// Parses a delimiter option: one character, or "tab"/"\t".
public func parseDelimiter(_ text: String) throws -> UInt8 {
  if text == "tab" || text == "\\t" { return 9 }
  let bytes = Array(text.utf8)
  guard bytes.count == 1, bytes[0] != 34, bytes[0] != 10, bytes[0] != 13 else {
    throw ValidationError("--delimiter must be one ASCII character other than a quote or newline (got '\(text)').")
  }
  return bytes[0]
}

/// Opens a tool's input (nil or "-": standard input) and refuses a terminal there: a tool
/// waiting for a stream typed at the keyboard would look hung. A terminal named as a path
/// (/dev/tty) is the user's explicit choice and is read.
public func openInput(_ path: String?, reading what: String, example: String) throws -> FileInput {
  let source = try FileInput(path: path)
  if source.isTerminal && (path == nil || path == "-") {
    throw ToolError("reading \(what) from a terminal; give a file or redirect one in (\(example))")
  }
  return source
}
