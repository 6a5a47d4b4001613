// How a token row (tab-encode --numeric gmm) maps to CTGAN's data vector (ctgan-infogan.md §1.1)
// and back: each float "value" field is one tanh column; each int field (category, mode,
// missing indicator) is a one-hot softmax span. Categorical fields also own a block of the
// conditional vector (§1.2), at their own offset (the upstream offset bug is not repeated).
//
// Shapes: F float fields, W data width = F + Σ span widths, C condition width = Σ category widths.

import TabStream

/// A fault in the input that makes it unusable for tab-gan (exit status 65).
public enum GANError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A numerical column has a value field but no mode field: the stream is quantile-encoded.
  case notModeEncoded(path: String, column: String)
  /// The stream has no fields: every column of its table is constant or an ID.
  case noColumns(path: String)
  /// The stream holds no rows, or fewer than a batch needs.
  case tooFewRows(path: String, rows: Int, needed: Int)
  /// A token is out of its field's range, in `row` (from 1) and `block` (from 1) when known.
  case codeOutOfRange(path: String, row: Int?, block: Int?, field: String, code: Int, cardinality: Int)
  /// A float token is NaN or infinite, in `row` (from 1) and `block` (from 1) when known.
  case notFinite(path: String, row: Int?, block: Int?, field: String, value: Float)
  /// The model file is not a tab-gan model.
  case notGANModel(path: String, detail: String)
  /// Sampling under the conditions accepts almost no generated row.
  case hopelessCondition(condition: String, accepted: Int, generated: Int)

  public var description: String {
    switch self {
    case .notModeEncoded(let path, let column):
      return "\(path): column '\(column)' has no mode field (a quantile-encoded stream); "
        + "tab-gan needs CTGAN's mode-specific normalisation: tab-encode --numeric gmm"
    case .noColumns(let path):
      return "\(path): no columns to learn (every column is constant or an ID)"
    case .tooFewRows(let path, let rows, let needed):
      // Two rows are BatchNorm's minimum whatever the batch; beyond that a smaller batch helps.
      return "\(path): \(rows) row\(rows == 1 ? "" : "s"), tab-gan needs at least \(needed)"
        + (needed > 2 ? " (lower --batch?)" : "")
    case .codeOutOfRange(let path, let row, let block, let field, let code, let cardinality):
      return "\(path): \(Self.place(row, block))field '\(field)': code \(code) outside 0..<\(cardinality)"
    case .notFinite(let path, let row, let block, let field, let value):
      return "\(path): \(Self.place(row, block))field '\(field)': not a finite number (\(value))"
    case .notGANModel(let path, let detail):
      return "\(path): not a tab-gan model: \(detail)"
    case .hopelessCondition(let condition, let accepted, let generated):
      return "condition \(condition) held for \(accepted) of \(generated) generated rows; "
        + "the model almost never produces such rows (relax the condition)"
    }
  }
}

extension GANError: BadDataError {
  /// "row 7 (block 2): ", "row 7: " or nothing, as known.
  static func place(_ row: Int?, _ block: Int?) -> String {
    guard let row else { return "" }
    return "row \(row)" + (block.map { " (block \($0))" } ?? "") + ": "
  }
}

/// The data-vector layout of a token stream's rows.
public struct GANLayout: Sendable, Equatable {
  /// One int field's one-hot span in the data vector.
  public struct Span: Sendable, Equatable {
    /// Index of the int field in the token row.
    public var field: Int
    /// First column of the span in the data vector.
    public var start: Int
    public var width: Int
    /// The field's role: "category", "mode" or "missing".
    public var role: String
    /// The table column the field belongs to.
    public var column: String
    /// Offset of the span's block in the condition vector, or -1 (modes and missing flags are
    /// not conditionable, as in CTGAN).
    public var conditionOffset: Int
    public var range: Range<Int> { start..<start + width }
  }

  public let tokenLayout: RowLayout
  /// F: float fields, columns 0..<F of the data vector.
  public let floatCount: Int
  /// Every int field's span, in field order.
  public let spans: [Span]
  /// Indices into `spans` of the conditionable (categorical) spans, in order.
  public let conditionSpans: [Int]
  /// W.
  public let dataWidth: Int
  /// C.
  public let conditionWidth: Int

  /// The layout for a token stream.
  /// - Throws: `GANError.notModeEncoded` when a value field has no mode field (quantile
  ///   encoding), naming the stream `path`.
  public init(_ layout: RowLayout, path: String) throws {
    for field in layout.floatFields where field.role == "value" {
      let column = field.column ?? field.name
      if !layout.intFields.contains(where: { $0.role == "mode" && ($0.column ?? $0.name) == column }
      ) {
        throw GANError.notModeEncoded(path: path, column: column)
      }
    }
    tokenLayout = layout
    floatCount = layout.floatWidth
    var spans: [Span] = []
    var conditionSpans: [Int] = []
    var start = floatCount
    var offset = 0
    for (k, field) in layout.intFields.enumerated() {
      let width = max(field.cardinality ?? 2, 1)
      let conditionable = field.role == "category"
      if conditionable { conditionSpans.append(spans.count) }
      spans.append(
        Span(
          field: k, start: start, width: width, role: field.role,
          column: field.column ?? field.name,
          conditionOffset: conditionable ? offset : -1))
      start += width
      if conditionable { offset += width }
    }
    self.spans = spans
    self.conditionSpans = conditionSpans
    dataWidth = start
    conditionWidth = offset
  }

  /// The spans' ranges, for the Gumbel-softmax head.
  public var softmaxRanges: [Range<Int>] { spans.map(\.range) }

  /// The conditionable span of table column `name`, if any (an index into `spans`).
  public func conditionSpan(column name: String) -> Int? {
    conditionSpans.first { spans[$0].column == name }
  }

  /// Writes one token row as a data row: floats copied (clipped to ±1), one-hot spans.
  /// - Parameters:
  ///   - rowNumber: the row's number (from 1) in its stream, and `block` its block's, for
  ///     messages; nil when not known.
  /// - Throws: `GANError` for a code out of range or a non-finite value.
  public func encode(
    floats: UnsafePointer<Float>, ints: UnsafePointer<Int32>, into row: UnsafeMutablePointer<Float>,
    path: String, row rowNumber: Int? = nil, block: Int? = nil
  ) throws {
    for j in 0..<floatCount {
      let x = floats[j]
      guard x.isFinite else {
        throw GANError.notFinite(
          path: path, row: rowNumber, block: block, field: tokenLayout.floatFields[j].name, value: x)
      }
      row[j] = max(-1, min(1, x))
    }
    for span in spans {
      let code = Int(ints[span.field])
      guard code >= 0 && code < span.width else {
        throw GANError.codeOutOfRange(
          path: path, row: rowNumber, block: block, field: tokenLayout.intFields[span.field].name,
          code: code, cardinality: span.width)
      }
      for j in span.range { row[j] = 0 }
      row[span.start + code] = 1
    }
  }

  /// Writes a token row from a data row: floats clipped to ±1, each span's argmax as its code.
  public func decode(
    _ row: UnsafePointer<Float>, floats: UnsafeMutablePointer<Float>,
    ints: UnsafeMutablePointer<Int32>
  ) {
    for j in 0..<floatCount { floats[j] = max(-1, min(1, row[j])) }
    for span in spans { ints[span.field] = Int32(Self.argmax(row + span.start, count: span.width)) }
  }

  /// Index of the largest of `count` values (the first on ties).
  @inline(__always)
  public static func argmax(_ x: UnsafePointer<Float>, count: Int) -> Int {
    var best = 0
    var value = x[0]
    for j in 1..<count where x[j] > value {
      best = j
      value = x[j]
    }
    return best
  }
}
