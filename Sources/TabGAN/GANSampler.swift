// Sampling token rows from a trained generator (ctgan-infogan.md §1.7 with its bugs fixed):
// BatchNorm in evaluation mode, conditions for unconditional rows drawn from the empirical
// category frequencies, `--where` categorical conditions put in the conditional vector at their
// own column's offset, and every condition checked on each emitted row (rejection tops the
// output up when the generator misses). InfoGAN codes come from the prior unless fixed.
//
// Shapes: S rows per generation batch, I generator input, W data width.

import TabCore
import TabStream
import TabTable

#if canImport(Glibc)
  import Glibc
#endif

/// A user condition that cannot be used (exit status 64 in the tool).
public struct ConditionError: Error, Equatable, Sendable, CustomStringConvertible {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// One `--where` condition.
public struct SampleCondition: Sendable, Equatable {
  public enum Test: Sendable, Equatable {
    /// Categorical column: int field `field` must be `code`; the condition vector gets a one at
    /// `conditionIndex`.
    case category(field: Int, code: Int, conditionIndex: Int)
    /// Numerical column: the decoded value compared with `threshold`.
    case range(value: Int, mode: Int, column: Int, comparison: Comparison, threshold: Double)
  }
  public enum Comparison: String, Sendable {
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
  }
  public let text: String
  public let test: Test

  /// Parses `col=value`, `col>=x`, `col>x`, `col<=x`, `col<x` against the model's encoder.
  /// - Throws: `ConditionError` for an unknown column or category, a wrong operator for the
  ///   column's kind, or a numeric bound outside the column's range.
  public init(_ text: String, encoder: TableEncoder, layout: GANLayout) throws {
    self.text = text
    // The first '<', '>' or '=' starts the operator; '<=' and '>=' take two characters.
    var found: (name: String, op: String, value: String)?
    let characters = Array(text)
    if let at = characters.firstIndex(where: { $0 == "<" || $0 == ">" || $0 == "=" }) {
      var end = at + 1
      if characters[at] != "=" && end < characters.count && characters[end] == "=" { end += 1 }
      found = (String(characters[..<at]), String(characters[at..<end]), String(characters[end...]))
    }
    guard let (name, op, value) = found, !name.isEmpty else {
      throw ConditionError(
        "--where '\(text)': expected COLUMN=VALUE or COLUMN>=NUMBER (also >, <=, <)")
    }
    guard let c = encoder.columns.firstIndex(where: { $0.name == name }) else {
      throw ConditionError(
        "--where '\(text)': no column '\(name)' in the model's table (columns: "
          + encoder.columns.map(\.name).joined(separator: ", ") + ")")
    }
    let column = encoder.columns[c]
    let positions = encoder.positions[c]
    switch column.kind {
    case .categorical:
      guard op == "=" else {
        throw ConditionError(
          "--where '\(text)': column '\(name)' is categorical; use \(name)=VALUE")
      }
      let labels = column.labels ?? []
      guard let code = labels.firstIndex(of: value) else {
        let shown = labels.prefix(12).joined(separator: ", ") + (labels.count > 12 ? ", ..." : "")
        throw ConditionError(
          "--where '\(text)': column '\(name)' has no category '\(value)' (categories: \(shown))")
      }
      guard let s = layout.spans.firstIndex(where: { $0.field == positions.code }) else {
        throw ConditionError("--where '\(text)': column '\(name)' is not modelled")
      }
      test = .category(
        field: positions.code, code: code, conditionIndex: layout.spans[s].conditionOffset + code)
    case .numerical:
      guard op != "=", let threshold = Double(value), threshold.isFinite else {
        throw ConditionError(
          "--where '\(text)': column '\(name)' is numerical; use a range such as \(name)>=NUMBER")
      }
      guard positions.value >= 0, positions.code >= 0 else {
        throw ConditionError("--where '\(text)': column '\(name)' is not modelled")
      }
      let comparison = Comparison(rawValue: op)!
      test = .range(
        value: positions.value, mode: positions.code, column: c, comparison: comparison,
        threshold: threshold)
      if let lo = column.minimum, let hi = column.maximum {
        let impossible: Bool
        switch comparison {
        case .less: impossible = threshold <= lo
        case .lessOrEqual: impossible = threshold < lo
        case .greater: impossible = threshold >= hi
        case .greaterOrEqual: impossible = threshold > hi
        }
        if impossible {
          throw ConditionError(
            "--where '\(text)': column '\(name)' ranges over \(lo)...\(hi) in the training table; no row can satisfy it"
          )
        }
      }
    default:
      throw ConditionError(
        "--where '\(text)': column '\(name)' is \(column.kind.rawValue), not modelled by tab-gan")
    }
  }
}

/// Generates token rows block by block.
public final class GANSampler {
  public let model: GANModel
  public let encoder: TableEncoder
  public let conditions: [SampleCondition]
  /// Fixed codes: index into codes (0 = categorical if K > 0) -> value.
  public let fixedCodes: [Int: Float]
  /// Rows per generation batch.
  public let batchRows: Int
  let pass: GeneratorPass
  var random: SeededGenerator
  /// Cumulative empirical shares per conditionable span.
  let cumulative: [[Float]]
  let categoryConditions: [(field: Int, code: Int, index: Int)]
  /// Rows generated and accepted so far.
  public private(set) var generated = 0
  public private(set) var accepted = 0

  /// - Throws: `ConditionError` for a code name or value out of range.
  public init(
    model: GANModel, encoder: TableEncoder, conditions: [SampleCondition], codes: [Int: Float],
    seed: UInt64, batchRows: Int = 1000
  ) throws {
    self.model = model
    self.encoder = encoder
    self.conditions = conditions
    let config = model.config
    for (index, value) in codes {
      guard index >= 0 && index < config.codeCount else {
        throw ConditionError(
          "--code c\(index): the model has \(config.codeCount) code(s)"
            + (config.codeCount > 0 ? " (c0...c\(config.codeCount - 1))" : ""))
      }
      if index == 0 && config.categoricalCode > 0 {
        guard value == value.rounded(), value >= 0, Int(value) < config.categoricalCode else {
          throw ConditionError(
            "--code c0=\(value): the categorical code takes 0...\(config.categoricalCode - 1)")
        }
      } else if !(value >= -1 && value <= 1) {
        throw ConditionError("--code c\(index)=\(value): continuous codes lie in -1...1")
      }
    }
    fixedCodes = codes
    self.batchRows = batchRows
    pass = model.makePass(rows: batchRows, training: false)
    random = SeededGenerator(seed: seed)
    cumulative = model.info.counts.map { counts in
      let total = Float(max(counts.reduce(0, +), 1))
      var running: Float = 0
      return counts.map {
        running += Float($0)
        return running / total
      }
    }
    categoryConditions = conditions.compactMap {
      if case .category(let field, let code, let index) = $0.test { return (field, code, index) }
      return nil
    }
  }

  /// Fills the generator input: z, a condition per row, codes.
  func drawInputs() {
    let config = model.config
    let z = config.noiseWidth
    let c = model.layout.conditionWidth
    let k = config.categoricalCode
    for r in 0..<pass.rows {
      let row = pass.input.row(r)
      fillNormal(row, count: z, using: &random)
      let condition = row + z
      for j in 0..<c { condition[j] = 0 }
      if !categoryConditions.isEmpty {
        // One of the categorical conditions per row (the vector holds one column at a time);
        // rejection enforces the others.
        let pick =
          categoryConditions.count == 1 ? 0 : random.uniformInt(below: categoryConditions.count)
        condition[categoryConditions[pick].index] = 1
      } else if c > 0 {
        let s = random.uniformInt(below: cumulative.count)
        let u = random.uniformFloat()
        var category = 0
        while category < cumulative[s].count - 1 && cumulative[s][category] <= u { category += 1 }
        condition[model.layout.spans[model.layout.conditionSpans[s]].conditionOffset + category] = 1
      }
      let codes = condition + c
      if k > 0 {
        let value = fixedCodes[0].map { Int($0) } ?? random.uniformInt(below: k)
        for j in 0..<k { codes[j] = 0 }
        codes[value] = 1
      }
      let first = k > 0 ? 1 : 0
      for j in 0..<config.continuousCodes {
        let draw = 2 * random.uniformFloat() - 1
        codes[k + j] = fixedCodes[first + j] ?? draw
      }
    }
  }

  /// Generates one batch and appends the rows meeting every condition to `block`, at most
  /// `limit` of them. Returns how many were appended.
  public func generate(into block: inout RowBlock, limit: Int) -> Int {
    drawInputs()
    model.forward(pass, training: false)
    model.drawNoise(pass, using: &random)
    let layout = model.layout
    let f = layout.floatCount
    let iw = layout.tokenLayout.intWidth
    var floats = [Float](repeating: 0, count: f)
    var ints = [Int32](repeating: 0, count: iw)
    var added = 0
    for r in 0..<pass.rows {
      if added == limit { break }
      generated += 1
      let raw = pass.raw.row(r)
      let noise = pass.noise.row(r)
      // Values: tanh; codes: argmax(logits + Gumbel) is an exact draw from softmax(logits).
      for j in 0..<f { floats[j] = max(-1, min(1, tanhf(raw[j]))) }
      for span in layout.spans {
        var best = 0
        var value = -Float.infinity
        for j in 0..<span.width {
          let v = raw[span.start + j] + noise[span.start + j]
          if v > value {
            value = v
            best = j
          }
        }
        ints[span.field] = Int32(best)
      }
      guard satisfies(floats, ints) else { continue }
      let at = block.rows
      block.resize(rows: at + 1)
      for j in 0..<f { block.floats[at * f + j] = floats[j] }
      for j in 0..<iw { block.ints[at * iw + j] = ints[j] }
      added += 1
      accepted += 1
    }
    return added
  }

  /// Whether a token row meets every condition.
  func satisfies(_ floats: [Float], _ ints: [Int32]) -> Bool {
    for condition in conditions {
      switch condition.test {
      case .category(let field, let code, _):
        if Int(ints[field]) != code { return false }
      case .range(let value, let mode, let c, let comparison, let threshold):
        let column = encoder.columns[c]
        guard let mixture = column.mixture else { return false }
        let k = min(max(Int(ints[mode]), 0), mixture.count - 1)
        var x = Double(max(-1, min(1, floats[value]))) * 4 * mixture.stds[k] + mixture.means[k]
        if let lo = column.minimum, let hi = column.maximum { x = max(lo, min(hi, x)) }
        let ok: Bool
        switch comparison {
        case .less: ok = x < threshold
        case .lessOrEqual: ok = x <= threshold
        case .greater: ok = x > threshold
        case .greaterOrEqual: ok = x >= threshold
        }
        if !ok { return false }
      }
    }
    return true
  }

  /// Writes `rows` rows in blocks of at most `blockRows` through `write`, calling `progress`
  /// after each batch.
  /// - Throws: `GANError.hopelessCondition` when, after at least `minimumTries` generated rows,
  ///   fewer than one in 1000 met the conditions; whatever `write` throws.
  public func sample(
    rows: Int, blockRows: Int, minimumTries: Int = 20_000, write: (RowBlock) throws -> Void,
    progress: (GANSampler) -> Void = { _ in }
  ) throws {
    var block = RowBlock(layout: model.layout.tokenLayout, capacity: blockRows)
    var done = 0
    while done < rows {
      let added = generate(into: &block, limit: min(rows - done, blockRows - block.rows))
      done += added
      if block.rows == blockRows || (done == rows && block.rows > 0) {
        try write(block)
        block.removeAll()
      }
      progress(self)
      if generated >= minimumTries && accepted * 1000 < generated {
        throw GANError.hopelessCondition(
          condition: conditions.map { "'\($0.text)'" }.joined(separator: " and "),
          accepted: accepted, generated: generated)
      }
    }
  }
}
