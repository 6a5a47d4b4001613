// Fitting, encoding and decoding a table in process: type inference, exact round trips for
// every column kind, apply mode agreeing with fit mode, and the errors users meet.

import Testing

@testable import TabStream
@testable import TabTable

/// Fits on `csv`, encodes, decodes; returns (decoded text, encoder, stream bytes).
private func roundTrip(
  _ csv: String, options: FitOptions = FitOptions(), input: CSVInputOptions = CSVInputOptions(),
  format: TableFormat = .csv, blockRows: Int = 3
) throws -> (String, TableEncoder, [UInt8]) {
  let (text, encoder, bytes, _) = try fitEncodeDecode(csv, options: options, input: input, format: format, blockRows: blockRows)
  return (text, encoder, bytes)
}

/// Fits on `csv`, encodes it in blocks of `blockRows`, decodes: (decoded text, encoder, stream
/// bytes, the fit's warnings).
func fitEncodeDecode(
  _ csv: String, options: FitOptions = FitOptions(), input: CSVInputOptions = CSVInputOptions(),
  format: TableFormat = .csv, blockRows: Int = 3
) throws -> (String, TableEncoder, [UInt8], [String]) {
  let reader = CSVReader(source: MemoryInput(csv, name: "t.csv"), dialect: input.dialect)
  let store = try ColumnStore.read(reader, options: input)
  let (encoder, warnings) = try TableFitter.fit(store, options: options)
  let header = StreamHeader(kind: .tokens, layout: encoder.layout, encoder: try JSONValue(encoding: encoder))
  let streamBytes = MemoryOutput()
  let writer = try StreamWriter(sink: streamBytes, header: header)
  try StoreEncoding.write(store, encoder: encoder, seed: options.seed, blockRows: blockRows, to: writer)
  try writer.finish()
  return (try decode(streamBytes.bytes, format: format), encoder, streamBytes.bytes, warnings)
}

/// A token stream's bytes decoded to a table with the encoder in its header.
func decode(_ bytes: [UInt8], format: TableFormat = .csv) throws -> String {
  let reader = try StreamReader(source: MemoryInput(bytes, name: "s.bin"))
  let encoder = try TableEncoder.from(reader.header, path: reader.path)
  let out = MemoryOutput()
  let decoder = TableDecoder(encoder: encoder, format: format, sink: out)
  try decoder.begin()
  var block = RowBlock(layout: reader.header.layout)
  while try reader.read(into: &block) { try decoder.write(block) }
  try decoder.finish()
  return String(decoding: out.bytes, as: UTF8.self)
}

/// Applies a fitted encoder to `csv` in streaming mode; returns the stream's blocks' values.
private func apply(_ encoder: TableEncoder, _ csv: String, policy: UnknownPolicy = .error) throws -> RowBlock {
  let reader = CSVReader(source: MemoryInput(csv, name: "new.csv"))
  let encoding = StreamingEncoder(encoder: encoder, seed: 0, policy: policy, path: "new.csv")
  var record = CSVRecord()
  _ = try reader.read(into: &record)
  try encoding.checkHeader((0..<record.count).map { record.string($0) })
  var block = RowBlock(layout: encoder.layout)
  while try reader.read(into: &record) { try encoding.encode(record, into: &block) }
  if let error = encoding.unknownCategoriesError() { throw error }
  return block
}

private func tokens(_ bytes: [UInt8]) throws -> RowBlock {
  let reader = try StreamReader(source: MemoryInput(bytes))
  var all = RowBlock(layout: reader.header.layout)
  var block = RowBlock(layout: reader.header.layout)
  while try reader.read(into: &block) {
    let start = all.rows
    all.resize(rows: start + block.rows)
    for i in 0..<block.floats.count { all.floats[start * block.floatWidth + i] = block.floats[i] }
    for i in 0..<block.ints.count { all.ints[start * block.intWidth + i] = block.ints[i] }
  }
  return all
}

private let mixed = #"""
  id,age,city,price,when,flag,note,score
  1,34,Paris,3.50,2024-03-07,TRUE,x,0.125
  2,,Lyon,12.00,2024-03-08,FALSE,x,1e-3
  3,51,"Saint-Étienne, Loire",7.25,2023-12-31,TRUE,x,2.5
  4,28,Paris,3.50,,TRUE,x,NA
  5,77,"Quote ""here""",0.99,2024-02-29,FALSE,x,-4
  6,34,Lyon,100.00,2024-03-07,TRUE,x,0.125

  """#

@Test func inferenceGivesEachColumnItsKind() throws {
  let (_, encoder, _) = try roundTrip(mixed)
  let kinds = Dictionary(uniqueKeysWithValues: encoder.columns.map { ($0.name, $0.kind) })
  #expect(kinds["id"] == .identifier)
  #expect(kinds["age"] == .numerical || kinds["age"] == .categorical)
  #expect(kinds["city"] == .categorical)
  #expect(kinds["price"] == .numerical)
  #expect(kinds["when"] == .datetime)
  #expect(kinds["flag"] == .categorical)
  #expect(kinds["note"] == .constant)
  #expect(kinds["score"] == .numerical)
  let price = encoder.columns.first { $0.name == "price" }!
  #expect(price.style == NumberStyle(integer: false, decimals: 2, fixed: true, exponent: false))
}

@Test func mixedTableRoundTripsByteForByte() throws {
  var options = FitOptions()
  options.maxIntegerCategories = 2  // keep age numerical
  let (text, encoder, _) = try roundTrip(mixed, options: options)
  #expect(encoder.columns[1].kind == .numerical)
  #expect(encoder.columns[1].missing == 1)
  // Everything but the blank line (skipped on read) comes back identically.
  #expect(text == mixed.replacingOccurrences(of: "\n\n", with: "\n"))
}

@Test func gmmRoundTripsColumnsWithFewDistinctValuesExactly() throws {
  var options = FitOptions()
  options.numeric = .gmm
  options.maxIntegerCategories = 2
  let (text, encoder, bytes) = try roundTrip(mixed, options: options)
  #expect(text == mixed.replacingOccurrences(of: "\n\n", with: "\n"))
  #expect(encoder.layout.intFields.contains { $0.role == "mode" })
  // Same seed, same stream; the mode draws depend only on (seed, row, column).
  #expect(try roundTrip(mixed, options: options).2 == bytes)
}

@Test func continuousColumnsRoundTripWithinTheGridResolution() throws {
  // 3000 distinct values (more than the snap limit): decoded values stay within the local
  // quantile spacing and in [min, max], written with at most the input's decimals.
  var lines = ["x"]
  var state: UInt64 = 42
  var values: [Double] = []
  for _ in 0..<3000 {
    state = state &* 6364136223846793005 &+ 1442695040888963407
    let v = Double(state >> 40) / Double(1 << 24) * 1000
    let text = String(format: "%.4f", v)
    values.append(Double(text)!)
    lines.append(text)
  }
  let (text, encoder, _) = try roundTrip(lines.joined(separator: "\n") + "\n", blockRows: 1000)
  let decoded = text.split(separator: "\n").dropFirst().map { Double($0)! }
  let q = encoder.columns[0].quantiles!.quantiles
  let spacing = zip(q, q.dropFirst()).map { $1 - $0 }.max()!
  for (x, y) in zip(values, decoded) {
    #expect(abs(x - y) <= spacing * 1e-3, "\(x) decoded as \(y)")
  }
  #expect(decoded.min()! >= values.min()! && decoded.max()! <= values.max()!)
}

@Test func applyModeEqualsFitMode() throws {
  var options = FitOptions()
  options.maxIntegerCategories = 2
  let (_, encoder, bytes) = try roundTrip(mixed, options: options)
  let applied = try apply(encoder, mixed)
  let fitted = try tokens(bytes)
  #expect(applied.rows == fitted.rows)
  #expect(applied.floats == fitted.floats)
  #expect(applied.ints == fitted.ints)
}

@Test func unknownCategoriesAreListedOrSubstituted() throws {
  let (_, encoder, _) = try roundTrip(mixed)
  let unseen = mixed.replacingOccurrences(of: "1,34,Paris", with: "1,34,Berlin")
    .replacingOccurrences(of: "6,34,Lyon", with: "6,34,Rome")
  #expect(throws: EncodeError.self) { _ = try apply(encoder, unseen) }
  do {
    _ = try apply(encoder, unseen)
  } catch {
    let text = "\(error)"
    #expect(text.contains("'city': \"Berlin\" (line 2), \"Rome\" (line 7)"), "\(text)")
  }
  let block = try apply(encoder, unseen, policy: .frequent)
  #expect(block.rows == 6)
  // 'city' has no missing category: --unknown missing cannot map to one and says what to do.
  do {
    _ = try apply(encoder, unseen, policy: .missing)
    Issue.record("--unknown missing encoded a column without a missing category")
  } catch {
    let text = "\(error)"
    #expect(text.contains("had no missing values") && text.contains("--unknown frequent"), "\(text)")
    #expect(!text.contains("use --unknown missing"), "\(text)")
  }
}

@Test func identifierSequenceAndConstantComeBack() throws {
  let csv = "No,k,v\n10,a,1.5\n11,a,2.5\n12,a,3.5\n13,a,4.5\n"
  let (text, encoder, _) = try roundTrip(csv)
  #expect(encoder.columns[0].kind == .identifier)
  #expect(encoder.columns[1].kind == .constant)
  #expect(encoder.layout.floatWidth == 1 && encoder.layout.intWidth == 0)
  #expect(text == csv)
}

@Test func missingNumericCellsKeepTheirMarkerAndPlace() throws {
  let csv = "a,b\n1.5,x\n?,y\n2.5,x\n?,y\n3.25,z\n"
  let (text, encoder, _) = try roundTrip(csv)
  #expect(encoder.columns[0].missingMarker == "?")
  #expect(encoder.layout.intFields.map(\.name) == ["a.missing", "b"])
  #expect(text == csv)
}

@Test func crlfSemicolonsAndNoHeaderRoundTrip() throws {
  let csv = "1;x y;2.5\r\n2;\"a;b\";3.5\r\n3;c;4.5\r\n4;c;5.5\r\n"
  let input = CSVInputOptions(dialect: CSVDialect(delimiter: UInt8(ascii: ";")), hasHeader: false, names: ["n", "s", "v"])
  let (text, encoder, _) = try roundTrip(csv, input: input)
  #expect(encoder.lineEnding == .crlf && encoder.delimiter == ";" && !encoder.header)
  #expect(text == csv)
}

@Test func jsonLinesHaveNumbersStringsAndNulls() throws {
  let csv = "a,b\n1.5,x\n?,\"q\"\"uote\"\n"
  var options = FitOptions()
  options.maxIntegerCategories = 0
  let (text, _, _) = try roundTrip(csv, options: options, format: .jsonl)
  #expect(text == "{\"a\":1.5,\"b\":\"x\"}\n{\"a\":null,\"b\":\"q\\\"uote\"}\n")
}

@Test func allMissingColumnIsAnError() throws {
  #expect(throws: EncodeError.allMissing(path: "t.csv", column: "b")) {
    _ = try roundTrip("a,b\n1,NA\n2,\n3,?\n")
  }
}

@Test func duplicateColumnNamesAreAnError() throws {
  #expect(throws: EncodeError.duplicateColumn(path: "t.csv", column: "a")) {
    _ = try roundTrip("a,b,a\n1,2,3\n")
  }
}

@Test func schemaOverridesInferenceAndMismatchesAreNamed() throws {
  let schemaText = #"{"columns": {"age": "categorical", "score": {"type": "numerical"}}}"#
  var options = FitOptions()
  options.schema = try TableSchema(json: Array(schemaText.utf8), path: "s.json")
  options.schemaPath = "s.json"
  let (_, encoder, _) = try roundTrip(mixed, options: options)
  #expect(encoder.columns.first { $0.name == "age" }!.kind == .categorical)

  options.schema = try TableSchema(json: Array(#"{"columns": {"height": "numerical"}}"#.utf8), path: "s.json")
  #expect(throws: EncodeError.schemaColumnNotInTable(schema: "s.json", column: "height", table: "t.csv")) {
    _ = try roundTrip(mixed, options: options)
  }
  options.schema = try TableSchema(json: Array(#"{"columns": {"city": "numerical"}}"#.utf8), path: "s.json")
  #expect(
    throws: EncodeError.badValue(path: "t.csv", line: 2, column: "city", expected: "a number", found: "Paris")
  ) { _ = try roundTrip(mixed, options: options) }
  #expect(throws: EncodeError.self) {
    _ = try TableSchema(json: Array(#"{"columns": {"a": "bogus"}}"#.utf8), path: "s.json")
  }
}

@Test func integerCategoryCodesKeepNumericOrder() throws {
  let (_, encoder, _) = try roundTrip("k\n10\n9\n-1\n9\n10\n2\n")
  #expect(encoder.columns[0].labels == ["-1", "2", "9", "10"])
}

@Test func gmmKeepsRareValuesThatNoHeavyModeCovers() throws {
  // Regression (#2): like beijing's snow hours, 0.4% of rows hold 1...8 and the rest 0. CTGAN's
  // weight threshold drops their mode, and every one of them decoded as 0.
  var lines = ["hours"]
  for i in 0..<2000 { lines.append(i % 250 == 7 ? String(1 + (i / 250)) : "0") }
  let csv = lines.joined(separator: "\n") + "\n"
  var options = FitOptions()
  options.numeric = .gmm
  options.maxIntegerCategories = 0
  let (text, encoder, _) = try roundTrip(csv, options: options, blockRows: 500)
  #expect(encoder.columns[0].kind == .numerical && encoder.columns[0].mixture!.count >= 2)
  #expect(text == csv)
}
