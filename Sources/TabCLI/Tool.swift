// What every tabpipe executable shares around its command: signals, turning errors into one
// stderr line and a documented exit status, and a quiet exit on a closed pipe.

import ArgumentParser
import TabStream
import TabTable

#if canImport(Glibc)
  import Glibc
#endif

/// Exit statuses, in the BSD sysexits spirit; every man page lists them.
public enum ExitStatus {
  public static let success: Int32 = 0
  /// A quality gate was not met (tab-score --min).
  public static let gateFailed: Int32 = 1
  /// Bad command line.
  public static let usage: Int32 = 64
  /// Bad data: malformed CSV, wrong stream kind, corrupt or truncated stream, schema mismatch.
  public static let dataError: Int32 = 65
  /// An input file cannot be opened.
  public static let noInput: Int32 = 66
  /// Internal error (a bug).
  public static let software: Int32 = 70
  /// An output file cannot be created.
  public static let cannotCreate: Int32 = 73
  /// Reading or writing failed.
  public static let ioError: Int32 = 74
  /// Interrupted by SIGINT or SIGTERM.
  public static let interrupted: Int32 = 130
}

/// A user-facing failure raised by a tool itself (not by a library module).
public struct ToolError: Error, CustomStringConvertible {
  public var message: String
  public var status: Int32
  public init(_ message: String, status: Int32 = ExitStatus.usage) {
    self.message = message
    self.status = status
  }
  public var description: String { message }
}

/// The program name for messages ("tab-encode").
public nonisolated(unsafe) var programName = "tabpipe"

/// Runs a tool's root command.
public enum Tool {
  /// Parses the command line, runs the command, and exits with the right status.
  /// Never returns.
  public static func run<Command: ParsableCommand>(_ command: Command.Type) -> Never {
    programName = Command.configuration.commandName ?? programName
    // Writes to a closed pipe must fail with EPIPE (handled quietly), not kill us.
    signal(SIGPIPE, SIG_IGN)
    TemporaryFiles.installSignalHandlers()
    var parsed: ParsableCommand
    do {
      parsed = try Command.parseAsRoot()
    } catch {
      exitForParserError(error, Command.self)
    }
    // `tab-vae` alone is a usage error, not a help request: the help goes to standard error
    // and the status says the command did nothing, so `tab-vae > out` in a script fails loudly.
    if type(of: parsed) == Command.self, !Command.configuration.subcommands.isEmpty {
      let names = Command.configuration.subcommands.map { $0._commandName }
      let help = Command.helpMessage(columns: nil)
      writeToStandardError(help.hasSuffix("\n") ? help : help + "\n")
      report("missing subcommand (\(names.joined(separator: ", ")))")
      exit(ExitStatus.usage)
    }
    do {
      try parsed.run()
      exit(ExitStatus.success)
    } catch {
      // Help requests, validation and other parser outcomes surface here too (--help runs a
      // command that throws): ArgumentParser prints and exits for its own errors.
      if isArgumentParserError(error) { exitForParserError(error, Command.self) }
      let (message, status) = describe(error)
      TemporaryFiles.removeAll()
      if let message { report(message) }
      exit(status)
    }
  }

  /// Help and version requests print as ArgumentParser does; usage errors become the house
  /// one-line message ("tab-encode: --level must be 1 to 19 (got 40); see tab-encode --help").
  static func exitForParserError<Command: ParsableCommand>(_ error: Error, _ command: Command.Type) -> Never {
    let code = Command.exitCode(for: error)
    guard code != .success else { Command.exit(withError: error) }
    var message = Command.message(for: error)
    if message.hasSuffix(".") { message.removeLast() }
    // ArgumentParser reads "--seed -1" as an option without its value followed by an unknown
    // option "-1"; say how to write a negative number instead of only "Missing value".
    let arguments = Array(CommandLine.arguments.dropFirst())
    if message.hasPrefix("Missing value"),
      let index = arguments.indices.dropFirst().first(where: {
        arguments[$0].count > 1 && arguments[$0].first == "-" && Double(arguments[$0]) != nil
          && arguments[$0 - 1].hasPrefix("-")
      })
    {
      message += " (a negative number needs '=': \(arguments[index - 1])=\(arguments[index]))"
    }
    report("\(message); see '\(programName) --help'")
    exit(code.rawValue)
  }

  /// True for errors ArgumentParser raises and knows how to report (help, usage, exit codes).
  static func isArgumentParserError(_ error: Error) -> Bool {
    error is ExitCode || error is ValidationError || error is CleanExit
      || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
  }

  /// The one-line message and exit status for an error; no message for a closed pipe.
  public static func describe(_ error: Error) -> (String?, Int32) {
    switch error {
    case let error as ToolError: return (error.message, error.status)
    case let error as IOError:
      switch error {
      case .brokenPipe: return (nil, ExitStatus.success)
      case .cannotOpen(let path, let reason): return ("\(path): \(reason)", ExitStatus.noInput)
      case .cannotCreate(let path, let reason): return ("\(path): cannot create: \(reason)", ExitStatus.cannotCreate)
      case .readFailed(let path, let reason): return ("\(path): read failed: \(reason)", ExitStatus.ioError)
      case .writeFailed(let path, let reason): return ("\(path): write failed: \(reason)", ExitStatus.ioError)
      }
    case let error as BadDataError: return ("\(error)", ExitStatus.dataError)
    default: return ("internal error: \(error)", ExitStatus.software)
    }
  }

  /// Writes "program: message" as one line to standard error.
  public static func report(_ message: String) {
    writeToStandardError("\(programName): \(message)\n")
  }

  /// Writes `text` to file descriptor 2 in one call, unbuffered.
  static func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
  }
}
