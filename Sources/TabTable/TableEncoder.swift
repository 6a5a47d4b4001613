// The fitted encoder of a whole table: every column's encoding, how the CSV was written
// (delimiter, header, line ending, missing markers), and the stream layout it produces.
// It travels in every stream header (`encoder`), so tab-decode needs no side files.

import TabStream

/// A fitted table encoder.
public struct TableEncoder: Codable, Equatable, Sendable {
  /// Version of this JSON layout; readers refuse a higher one.
  public static let currentVersion = 1
  public var version: Int
  public var columns: [ColumnEncoding]
  /// The input's delimiter byte, as text (",", ";", "\t").
  public var delimiter: String
  /// The input had a header row.
  public var header: Bool
  /// The input's line ending.
  public var lineEnding: LineEnding
  /// Cell texts that mean "missing" (case-sensitive, exact).
  public var missingMarkers: [String]
  /// Rows the encoder was fitted on.
  public var rows: Int

  public init(
    columns: [ColumnEncoding], delimiter: String, header: Bool, lineEnding: LineEnding,
    missingMarkers: [String], rows: Int
  ) {
    version = Self.currentVersion
    self.columns = columns
    self.delimiter = delimiter
    self.header = header
    self.lineEnding = lineEnding
    self.missingMarkers = missingMarkers
    self.rows = rows
  }

  /// The CSV dialect to write with.
  public var dialect: CSVDialect { CSVDialect(delimiter: delimiter.utf8.first ?? 44) }

  /// Where each column's fields sit in a row.
  public struct FieldPositions: Sendable {
    /// Index into the float section, or -1.
    public var value: Int = -1
    /// Index into the int section: the category code or the mixture mode, or -1.
    public var code: Int = -1
    /// Index into the int section: the missing indicator, or -1.
    public var missing: Int = -1
  }

  /// The stream layout: floats are the value fields in column order; ints are, in column
  /// order, each column's code (category or mode) then its missing indicator.
  public var layout: RowLayout {
    var layout = RowLayout()
    for column in columns {
      if column.hasValueField {
        layout.floatFields.append(FieldDescriptor(name: column.name, column: column.name, role: "value"))
      }
      switch column.kind {
      case .categorical:
        layout.intFields.append(
          FieldDescriptor(
            name: column.name, column: column.name, role: "category", cardinality: column.labels?.count ?? 0))
      case .numerical, .datetime:
        if column.transform == .gmm {
          layout.intFields.append(
            FieldDescriptor(
              name: column.name + ".mode", column: column.name, role: "mode",
              cardinality: column.mixture?.count ?? 1))
        }
        if column.hasMissingField {
          layout.intFields.append(
            FieldDescriptor(name: column.name + ".missing", column: column.name, role: "missing", cardinality: 2))
        }
      case .constant, .identifier:
        break
      }
    }
    return layout
  }

  /// Field positions per column, matching `layout`.
  public var positions: [FieldPositions] {
    var floats = 0
    var ints = 0
    return columns.map { column in
      var p = FieldPositions()
      if column.hasValueField {
        p.value = floats
        floats += 1
      }
      if column.kind == .categorical || ((column.kind == .numerical || column.kind == .datetime) && column.transform == .gmm) {
        p.code = ints
        ints += 1
      }
      if column.hasMissingField {
        p.missing = ints
        ints += 1
      }
      return p
    }
  }

  /// The encoder carried in a stream header.
  /// - Throws: `EncodeError.noEncoder` if absent or of a newer version.
  public static func from(_ header: StreamHeader, path: String) throws -> TableEncoder {
    guard let json = header.encoder else {
      throw EncodeError.noEncoder(path: path, detail: "the stream carries no table encoder")
    }
    if case .number(let version)? = json["version"], Int(version) > currentVersion {
      throw EncodeError.noEncoder(
        path: path, detail: "the stream's encoder is version \(Int(version)), newer than this tool reads; upgrade tabpipe")
    }
    let encoder: TableEncoder
    do {
      encoder = try json.decode(as: TableEncoder.self)
    } catch {
      throw EncodeError.noEncoder(path: path, detail: "unreadable table encoder in the stream header: \(describeDecodingError(error))")
    }
    // A checksum only proves the header arrived as written; a hand-edited or buggy encoder
    // would otherwise trap in the decoder's hot loop.
    if let problem = encoder.inconsistency(layout: header.kind == .tokens ? header.layout : nil) {
      throw EncodeError.badEncoder(path: path, detail: problem)
    }
    return encoder
  }

  /// What makes this encoder unusable (or does not match the token layout it came with), or
  /// nil: every value the decoder indexes, divides by or formats with lies in range.
  public func inconsistency(layout given: RowLayout? = nil) -> String? {
    guard !columns.isEmpty else { return "no columns" }
    let bytes = Array(delimiter.utf8)
    guard bytes.count == 1, CSVDialect(delimiter: bytes[0]).isValid else {
      return "delimiter \(quoted(delimiter)) is not one ASCII byte other than a quote, CR or LF"
    }
    for column in columns {
      if let problem = column.inconsistency { return "column \(quoted(column.name)): \(problem)" }
    }
    if let given {
      let expected = layout
      if given.floatWidth != expected.floatWidth || given.intWidth != expected.intWidth {
        return
          "its columns make \(expected.floatWidth) float + \(expected.intWidth) int fields, "
          + "the stream's rows have \(given.floatWidth) + \(given.intWidth)"
      }
      // Readers index labels and modes by the stream's codes: the counts must agree.
      for (field, want) in zip(given.intFields, expected.intFields)
      where field.role != want.role || (field.cardinality ?? 0) != (want.cardinality ?? 0) {
        return
          "int field \(quoted(field.name)) is a \(field.role) with \(field.cardinality ?? 0) codes in the stream, "
          + "a \(want.role) with \(want.cardinality ?? 0) in the encoder"
      }
    }
    return nil
  }
}

extension ColumnEncoding {
  /// What makes this column undecodable, or nil.
  var inconsistency: String? {
    switch kind {
    case .categorical:
      guard let labels, !labels.isEmpty else { return "a categorical column without labels" }
    case .numerical, .datetime:
      guard let low = minimum, let high = maximum, low.isFinite, high.isFinite, low <= high else {
        return "no finite minimum <= maximum"
      }
      if let style, !(0...NumberStyle.maxDecimals).contains(style.decimals) {
        return "decimals \(style.decimals) outside 0...\(NumberStyle.maxDecimals)"
      }
      if transform == .gmm {
        guard let mixture, mixture.count > 0 else { return "a gmm transform without its mixture" }
        guard mixture.stds.count == mixture.count, mixture.weights.count == mixture.count else {
          return "mixture with \(mixture.count) means, \(mixture.stds.count) stds, \(mixture.weights.count) weights"
        }
      } else {
        // inverse() interpolates between neighbouring grid points: it needs two.
        guard let quantiles, quantiles.quantiles.count >= 2 else { return "a quantile transform without its grid" }
      }
      if let values, !values.isEmpty, valueTexts?.count != values.count {
        return "\(values.count) values but \(valueTexts?.count ?? 0) value texts"
      }
      if let pattern = dateFormat, DateFormat(pattern: pattern) == nil {
        return "unsupported date format \(quoted(pattern))"
      }
    case .identifier:
      // Decoded rows continue the sequence as exact integers.
      let limit = 9_007_199_254_740_992.0  // 2^53
      for (name, x) in [("sequenceStart", sequenceStart), ("sequenceStep", sequenceStep)] {
        if let x, !(abs(x) <= limit && x == x.rounded()) { return "\(name) \(x) is not an integer within ±2^53" }
      }
    case .constant:
      break
    }
    return nil
  }
}

extension TableEncoder {
  /// The column types as a schema file would give them (what --print-schema writes).
  public var schema: TableSchema {
    TableSchema(columns: columns.map { ($0.name, TableSchema.Column(kind: $0.kind, format: $0.dateFormat)) })
  }
}
