// What the training tools (tab-vae, tab-diffuse, tab-gan) share: where models live by default,
// the options every training run takes, a graceful stop on SIGINT/SIGTERM, the epoch line on
// stderr and the --log JSON lines.

import ArgumentParser
import TabStream

#if canImport(Glibc)
  import Glibc
#endif

// MARK: - Model files

/// -m/--model FILE, defaulting to `$TABPIPE_MODEL_DIR/NAME.model`, else `./tabpipe-models/NAME.model`.
public struct ModelOptions: ParsableArguments {
  @Option(name: [.customShort("m"), .long], help: "Model file (default: $TABPIPE_MODEL_DIR/<tool>.model, else ./tabpipe-models/<tool>.model).")
  public var model: String?

  public init() {}

  /// The folder default model files live in.
  public static var defaultDirectory: String {
    if let dir = getenv("TABPIPE_MODEL_DIR"), dir.pointee != 0 { return String(cString: dir) }
    return "tabpipe-models"
  }

  /// The model path for this run: -m, or the default for `name` ("vae", "diffusion", "gan").
  public func path(defaultName name: String) -> String {
    model ?? "\(Self.defaultDirectory)/\(name).model"
  }

  /// The path of a model to read; a missing default model gets a message saying how to make one.
  public func existingPath(defaultName name: String, trainHint: String) throws -> String {
    let path = path(defaultName: name)
    if model == nil && access(path, F_OK) != 0 {
      throw ToolError(
        "no model at \(path); train one first (\(trainHint)) or name one with -m FILE",
        status: ExitStatus.noInput)
    }
    return path
  }

  /// The path of a model to write; creates the default folder when it is used.
  public func pathForWriting(defaultName name: String) throws -> String {
    let path = path(defaultName: name)
    if model == nil {
      let dir = Self.defaultDirectory
      if mkdir(dir, 0o755) != 0 && errno != EEXIST {
        throw IOError.cannotCreate(path: dir, reason: errnoText(errno))
      }
    }
    return path
  }
}

// MARK: - Training options

/// --epochs, --max-time, --seed, --threads, --log: what every training command takes.
public struct TrainingOptions: ParsableArguments {
  @Option(help: "Training epochs (passes over the training rows); the tool's default when absent.")
  public var epochs: Int?

  @Option(help: "Wall-clock budget, e.g. 90s, 5m, 1h: stop cleanly when spent and keep the best model.")
  public var maxTime: String?

  @Option(help: "Random seed: the same seed, input and --threads give a bit-identical model.")
  public var seed: UInt64 = 0

  @Option(help: "Threads for matrix products and parallel loops (default: 2).")
  public var threads: Int?

  @Option(help: "Append one JSON object per epoch to FILE.")
  public var log: String?

  public init() {}

  public func validate() throws {
    if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1 (got \(epochs)).") }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads)).") }
    if let maxTime, Self.parseDuration(maxTime) == nil {
      throw ValidationError("--max-time must be a duration such as 90, 90s, 5m or 1h (got '\(maxTime)').")
    }
  }

  /// The budget in seconds, or nil for none.
  public var maxSeconds: Double? { maxTime.flatMap(Self.parseDuration) }

  /// "90", "90s", "1.5m", "5m", "1h", "2d" -> seconds.
  public static func parseDuration(_ text: String) -> Double? {
    var number = Substring(text)
    var scale = 1.0
    switch text.last {
    case "s": number = number.dropLast()
    case "m": number = number.dropLast(); scale = 60
    case "h": number = number.dropLast(); scale = 3600
    case "d": number = number.dropLast(); scale = 86400
    default: break
    }
    guard let value = Double(number), value.isFinite, value > 0 else { return nil }
    return value * scale
  }
}

/// Seconds on the monotonic clock.
public func monotonicSeconds() -> Double { Progress.now() }

/// "42s", "3m05s", "1h02m".
public func formatDuration(_ seconds: Double) -> String {
  let s = Int(seconds.rounded())
  if s < 60 { return "\(s)s" }
  if s < 3600 { return "\(s / 60)m\(s % 60 < 10 ? "0" : "")\(s % 60)s" }
  return "\(s / 3600)h\(s % 3600 / 60 < 10 ? "0" : "")\(s % 3600 / 60)m"
}

// MARK: - Graceful stop

/// SIGINT/SIGTERM during training ask the loop to stop after the current step, so the best
/// model so far is saved; a second signal falls back to the immediate exit (temporary files
/// removed, status 130).
public enum TrainingInterrupt {
  private nonisolated(unsafe) static var flag: sig_atomic_t = 0

  /// True once a stop was asked for.
  public static var requested: Bool { flag != 0 }

  /// Installs the graceful handler; call before the training loop.
  public static func install() {
    let handler: @convention(c) (Int32) -> Void = { _ in
      if TrainingInterrupt.flag != 0 {
        // Second signal: behave as every other tool does.
        TemporaryFiles.immediateExit()
      }
      TrainingInterrupt.flag = 1
    }
    TemporaryFiles.handle(handler)
  }

  /// Restores the immediate-exit handlers (after the loop, while saving is atomic anyway).
  public static func uninstall() {
    TemporaryFiles.installSignalHandlers()
  }
}

// MARK: - Epoch reporting

/// The epoch line on stderr (progress) and the --log JSON lines (one object per epoch).
public final class EpochReporter {
  private let progress: Bool
  private let log: FileOutput?
  private let start = Progress.now()
  private let totalEpochs: Int
  private let maxSeconds: Double?

  /// - Parameter files: the other files this run reads or writes (input, model): a --log that
  ///   names one of them is refused, as appending to it would corrupt it.
  public init(
    reporting: ReportingOptions, training: TrainingOptions, totalEpochs: Int, files: [String?] = []
  ) throws {
    progress = !reporting.quiet && (reporting.progress || isatty(2) == 1)
    self.totalEpochs = max(totalEpochs, 1)
    maxSeconds = training.maxSeconds
    if let path = training.log {
      for case let file? in files where file != "-" {
        if OutputTarget.sameFile(path, file) || OutputTarget.canonical(path) == OutputTarget.canonical(file) {
          throw ToolError(
            "\(path): --log names a file this run reads or writes; log to another file",
            status: ExitStatus.cannotCreate)
        }
      }
      let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
      guard fd >= 0 else { throw IOError.cannotCreate(path: path, reason: errnoText(errno)) }
      log = FileOutput(descriptor: fd, name: path)
    } else {
      log = nil
    }
  }

  /// Seconds since training started.
  public var elapsed: Double { Progress.now() - start }

  /// True when the --max-time budget is spent.
  public var outOfTime: Bool { maxSeconds.map { elapsed >= $0 } ?? false }

  /// Reports epoch `epoch` (1-based): `fields` are shown in order and logged with "epoch",
  /// "seconds" and "rows_per_s"; `note` (e.g. "best") ends the line.
  public func epoch(_ epoch: Int, rows: Int, epochSeconds: Double, fields: [(String, Double)], note: String = "") throws {
    let rate = Double(rows) / max(epochSeconds, 1e-9)
    if progress {
      let remaining = Double(totalEpochs - epoch) * elapsed / Double(epoch)
      let eta = maxSeconds.map { min(remaining, max($0 - elapsed, 0)) } ?? remaining
      var line = "\(programName): epoch \(epoch)/\(totalEpochs)"
      for (name, value) in fields { line += " \(name) \(Self.short(value))" }
      line += " \(Int(rate)) rows/s ETA \(formatDuration(eta))"
      if !note.isEmpty { line += " " + note }
      Tool.report(String(line.dropFirst(programName.count + 2)))
    }
    if let log {
      // Written by hand to keep the fields in order (JSONValue objects are unordered).
      var text = "{\"epoch\":\(epoch),\"seconds\":\(Self.json(elapsed)),\"rows_per_s\":\(Self.json(rate))"
      for (name, value) in fields { text += ",\"\(name)\":\(Self.json(value))" }
      if !note.isEmpty { text += ",\"note\":\"\(note)\"" }
      try log.write(Array((text + "}\n").utf8))
    }
  }

  /// A message line on stderr (unless quiet).
  public func say(_ message: String) {
    if progress { Tool.report(message) }
  }

  static func json(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }

  /// About four significant digits without Foundation: 0.01234, 12.35, 1234.5, 1.234e-05.
  static func short(_ value: Double) -> String {
    guard value.isFinite else { return "\(value)" }
    if value == 0 { return "0" }
    let magnitude = abs(value)
    guard magnitude >= 1e-3 && magnitude < 1e6 else {
      var exponent = Int(log10(magnitude).rounded(.down))
      var mantissa = value / pow(10, Double(exponent))
      if abs(mantissa) >= 9.9995 { mantissa /= 10; exponent += 1 }
      return fixed(mantissa, decimals: 3) + "e" + (exponent < 0 ? "-" : "+") + (abs(exponent) < 10 ? "0" : "") + "\(abs(exponent))"
    }
    let decimals = magnitude >= 1000 ? 1 : magnitude >= 1 ? 3 : 3 - Int(log10(magnitude).rounded(.down))
    return fixed(value, decimals: min(decimals, 6))
  }

  static func fixed(_ value: Double, decimals: Int) -> String {
    var scale = 1
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((abs(value) * Double(scale)).rounded())
    var text = "\(scaled / scale)"
    if decimals > 0 {
      var fraction = "\(scaled % scale)"
      while fraction.count < decimals { fraction = "0" + fraction }
      while fraction.hasSuffix("0") { fraction.removeLast() }
      if !fraction.isEmpty { text += "." + fraction }
    }
    return (value < 0 && scaled != 0 ? "-" : "") + text
  }
}
