// A stream header's encoder is checked when it is loaded: hand-edited or buggy encoders
// (checksums cannot catch them) are a corrupt stream, not a trap in the decoder's loop.

import Testing

@testable import TabStream
@testable import TabTable

/// An encoder fitted on a small table with an id, a numeric and a categorical column.
private func fitted(_ options: FitOptions = FitOptions()) throws -> TableEncoder {
  var csv = "id,n,c\n"
  for i in 1...30 { csv += "\(i),\(Double(i % 7) + 0.25),\(["x", "y", "z"][i % 3])\n" }
  let reader = CSVReader(source: MemoryInput(csv, name: "t.csv"))
  let store = try ColumnStore.read(reader, options: CSVInputOptions())
  let encoder = try TableFitter.fit(store, options: options).0
  #expect(encoder.columns.map(\.kind) == [.identifier, .numerical, .categorical])
  return encoder
}

/// Loads `edited` from a tokens header whose layout is the unedited encoder's.
private func load(_ edited: TableEncoder, layoutOf original: TableEncoder) throws -> TableEncoder {
  let header = StreamHeader(kind: .tokens, layout: original.layout, encoder: try JSONValue(encoding: edited))
  return try TableEncoder.from(header, path: "s.tok")
}

/// The detail `from` refuses `edit` with.
private func refusal(_ options: FitOptions = FitOptions(), _ edit: (inout TableEncoder) -> Void) throws -> String? {
  let original = try fitted(options)
  var edited = original
  edit(&edited)
  do {
    _ = try load(edited, layoutOf: original)
    return nil
  } catch let error as EncodeError {
    guard case .badEncoder(let path, let detail) = error else { return "unexpected: \(error)" }
    #expect(path == "s.tok")
    #expect("\(error)".hasPrefix("s.tok: corrupt stream: "))
    return detail
  }
}

@Test func aFittedEncoderLoads() throws {
  for numeric in [NumericTransform.quantile, .gmm] {
    var options = FitOptions()
    options.numeric = numeric
    let encoder = try fitted(options)
    #expect(try load(encoder, layoutOf: encoder) == encoder)
  }
}

@Test func inconsistentEncodersAreRefused() throws {
  #expect(try refusal { $0.columns[1].style?.decimals = -3 } == "column \"n\": decimals -3 outside 0...1074")
  #expect(try refusal { $0.columns[1].style?.decimals = 100_000_000 } == "column \"n\": decimals 100000000 outside 0...1074")
  #expect(try refusal { $0.delimiter = "\"" } == "delimiter \"\\\"\" is not one ASCII byte other than a quote, CR or LF")
  #expect(try refusal { $0.delimiter = "\n" } != nil)
  #expect(try refusal { $0.delimiter = ";;" } != nil)
  #expect(try refusal { $0.columns[1].valueTexts?.removeLast() } == "column \"n\": 7 values but 6 value texts")
  #expect(try refusal { $0.columns[1].quantiles = nil } == "column \"n\": a quantile transform without its grid")
  #expect(try refusal { $0.columns[1].maximum = nil } == "column \"n\": no finite minimum <= maximum")
  #expect(try refusal { $0.columns[1].maximum = -1 } == "column \"n\": no finite minimum <= maximum")
  #expect(try refusal { $0.columns[1].dateFormat = "%Q" } == "column \"n\": unsupported date format \"%Q\"")
  #expect(try refusal { $0.columns[0].sequenceStart = 9.2e18 } == "column \"id\": sequenceStart 9.2e+18 is not an integer within ±2^53")
  #expect(try refusal { $0.columns[0].sequenceStep = 0.5 } != nil)
  // Labels the stream's codes would index past.
  #expect(
    try refusal { $0.columns[2].labels?.removeLast() }
      == "int field \"c\" is a category with 3 codes in the stream, a category with 2 in the encoder")
  #expect(try refusal { $0.columns[2].labels = nil } == "column \"c\": a categorical column without labels")
  // Columns that do not make the stream's fields.
  #expect(try refusal { $0.columns = [] } == "no columns")
  #expect(
    try refusal { $0.columns.removeLast() } == "its columns make 1 float + 0 int fields, the stream's rows have 1 + 1")
}

@Test func gmmWithoutItsMixtureIsRefused() throws {
  var options = FitOptions()
  options.numeric = .gmm
  #expect(try refusal(options) { $0.columns[1].mixture = nil } == "column \"n\": a gmm transform without its mixture")
  #expect(try refusal(options) { $0.columns[1].mixture?.stds.removeLast() }?.hasPrefix("column \"n\": mixture with") == true)
  // A quantile encoder relabelled gmm has no mixture either.
  #expect(try refusal { $0.columns[1].transform = .gmm } != nil)
}

@Test func outOfRangeCodesNameTheStreamRowAndBlock() throws {
  let encoder = try fitted()
  var block = RowBlock(layout: encoder.layout)
  block.resize(rows: 2)
  let decoder = TableDecoder(encoder: encoder, format: .csv, sink: MemoryOutput(), path: "s.tok")
  try decoder.write(block)  // codes 0: fine
  block.ints[encoder.positions[2].code + encoder.layout.intWidth] = 99
  #expect(
    throws: EncodeError.codeOutOfRange(path: "s.tok", row: 4, block: 2, column: "c", code: 99, cardinality: 3)
  ) { try decoder.write(block) }
  #expect(
    "\(EncodeError.codeOutOfRange(path: "s.tok", row: 4, block: 2, column: "c", code: 99, cardinality: 3))"
      == "s.tok: row 4 (block 2): column 'c': code 99 outside 0..<3; the stream is corrupt")
}
