// Quality gates for scripts: "--min shape=0.99" or "--max copies=0" against the headline
// figures; a gate that falls short makes tab-score exit with status 1.

/// A bound on one headline figure.
public struct Gate: Sendable, Equatable {
  public var name: String
  public var bound: Double
  /// true: the figure must be at least `bound` (--min); false: at most (--max).
  public var isMinimum: Bool

  /// Parses "NAME=VALUE".
  /// - Throws: a message for the user when the text is malformed.
  public init(parsing text: String, isMinimum: Bool) throws {
    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
    guard parts.count == 2, let bound = Double(parts[1]), bound.isFinite else {
      throw GateError(message: "'\(text)' is not NAME=NUMBER (for example shape=0.99)")
    }
    guard Gate.names.contains(parts[0]) else {
      throw GateError(
        message:
          "unknown figure '\(parts[0])' in '\(text)'; one of \(Gate.names.joined(separator: ", "))")
    }
    name = parts[0]
    self.bound = bound
    self.isMinimum = isMinimum
  }

  /// Every figure a gate may name.
  public static let names = [
    "shape", "trend", "missing", "logistic", "trees", "alpha", "beta", "utility", "utility-real",
    "dcr", "copies",
    "nndr",
  ]
}

public struct GateError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}

/// The outcome of one gate.
public struct GateResult: Codable, Sendable {
  public var name: String
  /// ">=" or "<=".
  public var relation: String
  public var bound: Double
  /// nil when the figure was not computed (a failure).
  public var value: Double?
  public var passed: Bool
}

extension Gate {
  /// Checks the gate against a report's headline figures.
  public func check(_ report: ScoreReport) -> GateResult {
    let value = report.headline.first { $0.name == name }?.value
    let passed = value.map { !$0.isNaN && (isMinimum ? $0 >= bound : $0 <= bound) } ?? false
    return GateResult(
      name: name, relation: isMinimum ? ">=" : "<=", bound: bound, value: value, passed: passed)
  }
}
