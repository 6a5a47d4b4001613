// The tables tab-score compares, held column by column in one shared typing: numerical
// columns (numbers and datetimes) as Doubles with NaN for missing cells, categorical ones as
// codes into labels shared by the real, synthetic and holdout tables.

import TabStream
import TabTable

/// A column as the metrics see it.
public enum ScoreColumnKind: String, Codable, Sendable {
  case numerical
  case categorical
}

/// One column of one table.
public struct ScoreColumn: Sendable {
  /// Numerical values (NaN: missing); empty for a categorical column.
  public var values: [Double]
  /// Category codes into `ScoreTables.labels[c]`; empty for a numerical column.
  public var codes: [Int32]
  /// Missing cells (numerical NaN, or a categorical cell holding a missing marker).
  public var missing: [Bool]
}

/// One table: its columns in the shared order.
public struct ScoreTable: Sendable {
  public var path: String
  public var rows: Int
  public var columns: [ScoreColumn]
}

/// Errors of reading and matching the tables (exit status 65).
public enum ScoreError: Error, BadDataError, Equatable {
  case missingColumn(path: String, column: String, reference: String)
  case extraColumn(path: String, column: String, reference: String)
  case badValue(path: String, line: Int, column: String, expected: String, found: String)
  case unknownTarget(column: String, path: String)
  /// The target is a column typed identifier: left out of scoring.
  case identifierTarget(column: String)
  case unusableTarget(column: String, detail: String)
  case tooFewRows(path: String, rows: Int, needed: Int, metric: String)

  public var description: String {
    switch self {
    case .missingColumn(let path, let column, let reference):
      return "\(path): column '\(column)' of \(reference) is missing"
    case .extraColumn(let path, let column, let reference):
      return "\(path): column '\(column)' is not in \(reference)"
    case .badValue(let path, let line, let column, let expected, let found):
      return "\(path):\(line): column '\(column)': expected \(expected), found \"\(found)\""
    case .unknownTarget(let column, let path):
      return "--target '\(column)' is not a column of \(path)"
    case .identifierTarget(let column):
      return
        "--target '\(column)' is an ID column, which is not scored and cannot be a target; "
        + "give it another type in --schema to score it"
    case .unusableTarget(let column, let detail):
      return "--target '\(column)': \(detail)"
    case .tooFewRows(let path, let rows, let needed, let metric):
      return "\(path): \(rows) rows; \(metric) needs at least \(needed)"
    }
  }
}

/// The real, synthetic and (optional) holdout tables in one typing.
public struct ScoreTables: Sendable {
  /// Column names, in the real table's order (modelled columns only: identifiers are left out).
  public var names: [String]
  public var kinds: [ScoreColumnKind]
  /// labels[c]: every category of column c (real's first, then synthetic-only, then holdout-only).
  public var labels: [[String]]
  /// realCategories[c]: how many of labels[c] occur in the real table (they come first).
  public var realCategories: [Int]
  public var real: ScoreTable
  public var synthetic: ScoreTable
  public var holdout: ScoreTable?
  /// Columns left out (identifiers), for the report.
  public var skipped: [String]

  public var width: Int { names.count }

  /// Builds the tables from whole CSVs. Column kinds come from `encoder` (an encoder fitted
  /// by tab-encode) or else from fitting one on `real` with `options` (schema, markers).
  /// - Throws: `ScoreError` (columns differ, a cell is not of its column's type),
  ///   `EncodeError` (schema problems).
  public static func make(
    real: ColumnStore, synthetic: ColumnStore, holdout: ColumnStore?, encoder: TableEncoder?,
    options: FitOptions
  ) throws -> ScoreTables {
    let fitted = try encoder ?? TableFitter.fit(real, options: options).0
    let markers = Set((encoder?.missingMarkers ?? options.missingMarkers).map { Array($0.utf8) })
    for other in [synthetic] + (holdout.map { [$0] } ?? []) {
      try checkColumns(other, against: real)
    }
    var tables = ScoreTables(
      names: [], kinds: [], labels: [], realCategories: [],
      real: ScoreTable(path: real.path, rows: real.rows, columns: []),
      synthetic: ScoreTable(path: synthetic.path, rows: synthetic.rows, columns: []),
      holdout: holdout.map { ScoreTable(path: $0.path, rows: $0.rows, columns: []) }, skipped: [])
    for column in fitted.columns {
      guard real.names.contains(column.name) else {
        throw ScoreError.missingColumn(
          path: real.path, column: column.name, reference: "the encoder")
      }
      let kind: ScoreColumnKind
      switch column.kind {
      case .identifier:
        tables.skipped.append(column.name)
        continue
      case .numerical, .datetime: kind = .numerical
      case .categorical, .constant: kind = .categorical
      }
      tables.names.append(column.name)
      tables.kinds.append(kind)
      let stores = [real, synthetic] + (holdout.map { [$0] } ?? [])
      if kind == .numerical {
        let format = column.dateFormat.flatMap { DateFormat(pattern: $0) }
        var parsed: [ScoreColumn] = []
        for store in stores {
          let index = store.names.firstIndex(of: column.name)!
          parsed.append(try numbers(store, column: index, markers: markers, format: format))
        }
        tables.labels.append([])
        tables.realCategories.append(0)
        tables.assign(parsed)
      } else {
        var dictionary = ByteDictionary()
        var parsed: [ScoreColumn] = []
        var realCount = 0
        for (s, store) in stores.enumerated() {
          let index = store.names.firstIndex(of: column.name)!
          let source = store.dictionaries[index]
          // Map the store's own codes to shared ones, then every row through that map.
          var map = [Int32](repeating: 0, count: source.count)
          var missingCode = [Bool](repeating: false, count: source.count)
          for code in 0..<source.count {
            let key = Array(source.key(code))
            map[code] = key.withUnsafeBytes { dictionary.insert($0).code }
            missingCode[code] = markers.contains(key)
          }
          if s == 0 { realCount = dictionary.count }
          let codes = store.codes[index].map { map[Int($0)] }
          let missing = store.codes[index].map { missingCode[Int($0)] }
          parsed.append(ScoreColumn(values: [], codes: codes, missing: missing))
        }
        tables.labels.append((0..<dictionary.count).map { dictionary.string($0) })
        tables.realCategories.append(realCount)
        tables.assign(parsed)
      }
    }
    return tables
  }

  private mutating func assign(_ parsed: [ScoreColumn]) {
    real.columns.append(parsed[0])
    synthetic.columns.append(parsed[1])
    if holdout != nil { holdout!.columns.append(parsed[2]) }
  }

  /// Same names in any order; a missing or extra column is an error naming it.
  static func checkColumns(_ other: ColumnStore, against real: ColumnStore) throws {
    for name in real.names where !other.names.contains(name) {
      throw ScoreError.missingColumn(path: other.path, column: name, reference: real.path)
    }
    for name in other.names where !real.names.contains(name) {
      throw ScoreError.extraColumn(path: other.path, column: name, reference: real.path)
    }
  }

  /// Parses a column's distinct cells once: numbers (or dates with `format`), markers missing.
  static func numbers(
    _ store: ColumnStore, column c: Int, markers: Set<[UInt8]>, format: DateFormat?
  ) throws
    -> ScoreColumn
  {
    let dictionary = store.dictionaries[c]
    var table = [Double](repeating: .nan, count: dictionary.count)
    for code in 0..<dictionary.count {
      let key = Array(dictionary.key(code))
      if markers.contains(key) { continue }
      let value: Double? = key.withUnsafeBytes { bytes in
        if let format { return format.parse(bytes) }
        return NumberText.parse(bytes)?.value
      }
      guard let value, value.isFinite else {
        throw ScoreError.badValue(
          path: store.path, line: Int(store.firstLines[c][code]), column: store.names[c],
          expected: format.map { "a date like \($0.pattern)" } ?? "a number",
          found: dictionary.string(code))
      }
      table[code] = value
    }
    let values = store.codes[c].map { table[Int($0)] }
    return ScoreColumn(values: values, codes: [], missing: values.map(\.isNaN))
  }

  /// Index of a column by name.
  public func index(of name: String) -> Int? { names.firstIndex(of: name) }

  /// The index of the target column `name`.
  /// - Throws: `ScoreError.identifierTarget` for an ID column (left out of scoring),
  ///   `ScoreError.unknownTarget` for a name that is no column at all.
  func targetIndex(_ name: String) throws -> Int {
    if let t = index(of: name) { return t }
    if skipped.contains(name) {
      throw ScoreError.identifierTarget(column: name)
    }
    throw ScoreError.unknownTarget(column: name, path: real.path)
  }

  /// The classes of a categorical target `t` in the holdout rows that can be scored (present,
  /// and a class of the real table); nil without a holdout or for a numerical target.
  func holdoutClasses(target t: Int) -> Set<Int32>? {
    guard let holdout, kinds[t] == .categorical else { return nil }
    return Set(holdout.columns[t].codes.filter { Int($0) < realCategories[t] })
  }
}

extension ScoreTables {
  /// Reads whole tables from paths ("-": standard input, for one of them at most): CSVs, or
  /// token streams (tab-encode's output, or a model's decoded output), decoded back to their
  /// CSV form first with the encoder they carry.
  /// - Throws: `CSVError`, `StreamError` (a corrupt stream, or one that is not tokens),
  ///   `ScoreError`, `EncodeError`, `IOError`.
  public static func read(
    real: String, synthetic: String, holdout: String?, encoder: TableEncoder?, options: FitOptions,
    csv: CSVInputOptions = CSVInputOptions()
  ) throws -> ScoreTables {
    func load(_ path: String) throws -> ColumnStore {
      let source = try FileInput(path: path == "-" ? nil : path)
      let bytes = try source.readAll()
      if bytes.starts(with: StreamFormat.magic) {
        let csvBytes = try decodeTokens(bytes, name: source.name)
        let reader = CSVReader(
          source: MemoryInput(csvBytes, name: source.name), dialect: CSVDialect())
        return try ColumnStore.read(reader, options: CSVInputOptions())
      }
      let reader = CSVReader(source: MemoryInput(bytes, name: source.name), dialect: csv.dialect)
      return try ColumnStore.read(reader, options: csv)
    }
    return try make(
      real: try load(real), synthetic: try load(synthetic), holdout: try holdout.map(load),
      encoder: encoder, options: options)
  }

  /// A token stream back to CSV bytes (comma-separated, with a header row).
  static func decodeTokens(_ bytes: [UInt8], name: String) throws -> [UInt8] {
    let reader = try StreamReader(source: MemoryInput(bytes, name: name))
    try reader.require([.tokens], hint: "tab-score reads CSVs or token streams")
    var encoder = try TableEncoder.from(reader.header, path: name)
    encoder.delimiter = ","
    let sink = MemoryOutput(name: name)
    let decoder = TableDecoder(encoder: encoder, format: .csv, sink: sink, header: true, path: name)
    try decoder.begin()
    var block = RowBlock(layout: reader.header.layout)
    while try reader.read(into: &block) { try decoder.write(block) }
    try decoder.finish()
    return sink.bytes
  }
}
