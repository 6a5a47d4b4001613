// The report as text for a terminal (standard output) and as JSON (--json).

import Foundation

extension ScoreReport {
  /// A readable summary: headline figures, gates, then per-column and worst pairs.
  public func text() -> String {
    var lines: [String] = []
    func number(_ v: Double) -> String { v.isNaN ? "n/a" : String(format: "%.4f", v) }
    lines.append(
      "tab-score: \(synthetic.path) (\(synthetic.rows) rows) against \(real.path) (\(real.rows) rows)"
        + (holdout.map { ", holdout \($0.path) (\($0.rows) rows)" } ?? ""))
    if !skippedColumns.isEmpty {
      lines.append("columns left out (IDs): \(skippedColumns.joined(separator: ", "))")
    }
    lines.append("")
    let labelWidth = headline.map(\.label.count).max() ?? 10
    for figure in headline {
      let gate = gates.first { $0.name == figure.name }
      let mark =
        gate.map {
          $0.passed
            ? "  pass (\($0.relation) \(number($0.bound)))"
            : "  FAIL (\($0.relation) \(number($0.bound)))"
        } ?? ""
      let arrow = figure.higherIsBetter ? "↑" : "↓"
      lines.append(
        "  \(figure.label.padding(toLength: labelWidth, withPad: " ", startingAt: 0))  \(number(figure.value).leftPad(8)) \(arrow)  [\(figure.name)]\(mark)"
      )
    }
    if let u = utility {
      lines.append(
        "  (target '\(u.target)', \(u.task); trained on synthetic vs real, tested on the holdout)")
    }
    if let trees = detection.first(where: { $0.detector == "xgboost" }), !trees.telling.isEmpty {
      let top = trees.telling.prefix(5).map {
        "\($0.column) \(String(format: "%.0f%%", 100 * $0.share))"
      }
      lines.append("  most telling columns for the tree detector: \(top.joined(separator: ", "))")
    }
    lines.append("")
    lines.append(
      "column shapes (1 - KS for numbers, 1 - TV for categories; missing share real/synthetic):")
    let nameWidth = min(max(shapes.map(\.column.count).max() ?? 6, 6), 28)
    for s in shapes {
      lines.append(
        "  \(s.column.padding(toLength: nameWidth, withPad: " ", startingAt: 0))  \(number(s.score))  \(s.metric == "KSComplement" ? "KS" : "TV")"
          + (s.realMissing > 0 || s.syntheticMissing > 0
            ? String(format: "  missing %.3f/%.3f", s.realMissing, s.syntheticMissing) : ""))
    }
    let worst = trends.filter { !$0.score.isNaN }.sorted { $0.score < $1.score }.prefix(5)
    if !worst.isEmpty {
      lines.append("")
      lines.append("weakest column pairs (of \(trends.count)):")
      for t in worst {
        lines.append(
          "  \(number(t.score))  \(t.first) × \(t.second)  (\(t.metric == "CorrelationSimilarity" ? "correlation" : "contingency"))"
        )
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Every figure as JSON (snake_case keys; an incomputable score is the string "nan").
  public func json() throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return Array(try encoder.encode(self)) + [10]
  }
}

extension String {
  func leftPad(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}
