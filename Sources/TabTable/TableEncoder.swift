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
    do {
      return try json.decode(as: TableEncoder.self)
    } catch {
      throw EncodeError.noEncoder(path: path, detail: "unreadable table encoder in the stream header: \(error)")
    }
  }
}

extension TableEncoder {
  /// The column types as a schema file would give them (what --print-schema writes).
  public var schema: TableSchema {
    TableSchema(columns: columns.map { ($0.name, TableSchema.Column(kind: $0.kind, format: $0.dateFormat)) })
  }
}
