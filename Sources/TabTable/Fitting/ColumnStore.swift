// A whole CSV held column by column as codes into per-column dictionaries of distinct cells:
// 4 bytes a cell, and every distinct cell is parsed and transformed once, not once per row.

import TabStream

/// How to read the CSV's first line and columns.
public struct CSVInputOptions: Sendable {
  public var dialect: CSVDialect
  /// The first record is the header.
  public var hasHeader: Bool
  /// Column names to use instead of a header row (with `hasHeader == false`).
  public var names: [String]?

  public init(dialect: CSVDialect = CSVDialect(), hasHeader: Bool = true, names: [String]? = nil) {
    self.dialect = dialect
    self.hasHeader = hasHeader
    self.names = names
  }
}

/// Every cell of a table, dictionary-coded per column.
public struct ColumnStore {
  public var path: String
  public var names: [String]
  /// Distinct cells of each column, coded in order of first appearance.
  public var dictionaries: [ByteDictionary]
  /// codes[c][r]: the dictionary code of row r's cell in column c.
  public var codes: [[Int32]]
  /// firstLines[c][code]: the line a distinct cell first appeared on (for messages).
  public var firstLines: [[Int32]]
  public var rows: Int { codes.first?.count ?? 0 }
  public var sawCRLF: Bool
  public var hasHeader: Bool
  public var dialect: CSVDialect

  /// Reads all records of `reader`.
  /// - Throws: `CSVError` (syntax, ragged rows, empty input, header only),
  ///   `EncodeError.duplicateColumn`, `IOError`.
  public static func read(_ reader: CSVReader, options: CSVInputOptions) throws -> ColumnStore {
    let path = reader.path
    var record = CSVRecord()
    var names: [String]
    var pending = false  // the first record is data (no header)
    if options.hasHeader {
      guard try reader.read(into: &record) else { throw CSVError.emptyInput(path: path) }
      names = (0..<record.count).map { record.string($0) }
    } else {
      guard try reader.read(into: &record) else { throw CSVError.emptyInput(path: path) }
      names = options.names ?? (1...record.count).map { "column\($0)" }
      pending = true
    }
    try checkNames(names, path: path)
    reader.columnNames = names
    let width = names.count
    var store = ColumnStore(
      path: path, names: names, dictionaries: Array(repeating: ByteDictionary(), count: width),
      codes: Array(repeating: [], count: width), firstLines: Array(repeating: [], count: width),
      sawCRLF: false, hasHeader: options.hasHeader, dialect: options.dialect)
    while true {
      if pending {
        pending = false
      } else if try !reader.read(into: &record) {
        break
      }
      guard record.count == width else {
        throw CSVError.raggedRow(path: path, line: record.line, expected: width, found: record.count)
      }
      for c in 0..<width {
        let (code, inserted) = store.dictionaries[c].insert(record.unsafeField(c))
        store.codes[c].append(code)
        if inserted { store.firstLines[c].append(Int32(truncatingIfNeeded: record.line)) }
      }
    }
    if store.rows == 0 {
      throw options.hasHeader ? CSVError.headerOnly(path: path) : CSVError.emptyInput(path: path)
    }
    store.sawCRLF = reader.sawCRLF
    return store
  }

  /// Rejects duplicate names (they would make fields ambiguous).
  static func checkNames(_ names: [String], path: String) throws {
    var seen = Set<String>()
    for name in names where !seen.insert(name).inserted {
      throw EncodeError.duplicateColumn(path: path, column: name)
    }
  }

  /// How many rows hold each distinct cell of column `c`.
  public func counts(column c: Int) -> [Int] {
    var counts = [Int](repeating: 0, count: dictionaries[c].count)
    for code in codes[c] { counts[Int(code)] += 1 }
    return counts
  }
}
