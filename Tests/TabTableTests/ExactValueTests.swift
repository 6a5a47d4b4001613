// Exact values through fit, encode and decode: zeros never gain a minus sign, integers beyond
// what a double holds keep their digits, and values a double cannot tell apart are reported.

import Testing

@testable import TabStream
@testable import TabTable

/// Fits on `csv`, encodes, decodes; returns (decoded text, encoder, fit warnings).
private func roundTrip(_ csv: String, options: FitOptions = FitOptions(), format: TableFormat = .csv)
  throws -> (String, TableEncoder, [String])
{
  let input = CSVInputOptions()
  let reader = CSVReader(source: MemoryInput(csv, name: "t.csv"), dialect: input.dialect)
  let store = try ColumnStore.read(reader, options: input)
  let (encoder, warnings) = try TableFitter.fit(store, options: options)
  let header = StreamHeader(kind: .tokens, layout: encoder.layout, encoder: try JSONValue(encoding: encoder))
  let streamBytes = MemoryOutput()
  let writer = try StreamWriter(sink: streamBytes, header: header)
  try StoreEncoding.write(store, encoder: encoder, seed: options.seed, blockRows: 7, to: writer)
  try writer.finish()

  let streamReader = try StreamReader(source: MemoryInput(streamBytes.bytes, name: "s.bin"))
  let decoded = try TableEncoder.from(streamReader.header, path: streamReader.path)
  let out = MemoryOutput()
  let decoder = TableDecoder(encoder: decoded, format: format, sink: out)
  try decoder.begin()
  var block = RowBlock(layout: streamReader.header.layout)
  while try streamReader.read(into: &block) { try decoder.write(block) }
  try decoder.finish()
  return (String(decoding: out.bytes, as: UTF8.self), encoder, warnings)
}

/// The cells of column `column` of a decoded CSV (no quoting in these tables), header dropped.
private func cells(_ csv: String, column: Int = 0) -> [String] {
  csv.split(separator: "\n").dropFirst().map { line in
    String(line.split(separator: ",", omittingEmptySubsequences: false)[column])
  }
}

/// The value of a number's text, nil if it is not one.
private func number(_ text: String) -> Double? {
  var text = text
  return text.withUTF8 { NumberText.parse(UnsafeRawBufferPointer($0)) }?.value
}

/// "-0", "-0.0", "-0e5": a zero written with a minus sign.
private func isNegativeZeroText(_ text: String) -> Bool {
  text.hasPrefix("-") && number(text) == 0
}

// MARK: Zero

@Test(arguments: [NumericTransform.quantile, .gmm])
func zeroNeverComesBackWithAMinusSign(transform: NumericTransform) throws {
  // "-0" is the most frequent text of the value zero; the unsigned texts must still win.
  let rows = ["0", "+0.0", "-0.0", "-0", "-0", "-0", "1.5", "2.25", "-3", "0", "7.125", "+0.0"]
  var options = FitOptions()
  options.numeric = transform
  let (csv, _, _) = try roundTrip("x,y\n" + rows.map { "\($0),a" }.joined(separator: "\n") + "\n", options: options)
  let back = cells(csv)
  #expect(back.count == rows.count)
  for (input, output) in zip(rows, back) {
    #expect(!isNegativeZeroText(output), "\(input) came back as \(output)")
    #expect(number(output) == number(input), "\(input) came back as \(output)")
  }
  // Ordinary values keep their text.
  #expect(back[6] == "1.5" && back[7] == "2.25" && back[8] == "-3" && back[10] == "7.125")
  // Zero is written with one of its unsigned input texts.
  #expect(Set(back.indices.filter { number(rows[$0]) == 0 }.map { back[$0] }).isSubset(of: ["0", "+0.0"]))
}

@Test func aColumnWhoseZerosAllHadAMinusSignKeepsIt() throws {
  // The input really was -0: byte for byte, as every column with few values.
  let (csv, _, _) = try roundTrip("x\n-0.0\n1.5\n-0.0\n2.5\n")
  #expect(cells(csv) == ["-0.0", "1.5", "-0.0", "2.5"])
}

@Test func zeroInAContinuousColumnIsWrittenWithoutSign() throws {
  // More than 1000 distinct values: decoding goes through the inverse transform, not the
  // value set, and values near zero on either side must not print as "-0".
  var rows: [String] = []
  for k in 0..<1500 { rows.append(String(Double(k - 750) / 1000)) }
  for _ in 0..<300 { rows.append("0") }
  for format in [TableFormat.csv, .jsonl] {
    let (text, _, _) = try roundTrip("x\n" + rows.joined(separator: "\n") + "\n", format: format)
    let values: [String] =
      format == .csv
      ? cells(text)
      : text.split(separator: "\n").map { String($0.dropFirst(5).dropLast()) }  // {"x":…}
    #expect(values.count == rows.count)
    #expect(!values.contains(where: isNegativeZeroText))
    #expect(values.suffix(300).allSatisfy { number($0) == 0 })
  }
}
