// Exact values through fit, encode and decode: zeros never gain a minus sign, integers beyond
// what a double holds keep their digits, and values a double cannot tell apart are reported.

import Testing

@testable import TabStream
@testable import TabTable

/// Fits on `csv`, encodes, decodes; returns (decoded text, encoder, fit warnings).
private func roundTrip(_ csv: String, options: FitOptions = FitOptions(), format: TableFormat = .csv)
  throws -> (String, TableEncoder, [String])
{
  let (text, encoder, _, warnings) = try fitEncodeDecode(csv, options: options, format: format, blockRows: 7)
  return (text, encoder, warnings)
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

// MARK: Integers beyond 2^53

/// A table of `rows` lines (after a header) from `cell(row)`.
private func table(_ header: String, rows: Int, _ cell: (Int) -> String) -> String {
  header + "\n" + (0..<rows).map(cell).joined(separator: "\n") + "\n"
}

@Test func integersBeyondTwoToThe53ComeBackDigitForDigit() throws {
  // 805, 806 and 807 are one double (2^63); so are the two negatives.
  let n = [
    "9223372036854775805", "9223372036854775806", "9223372036854775807", "-9223372036854775807",
    "-9223372036854775806", "9007199254740993", "9007199254740992", "12",
  ]
  let csv = table("n,v", rows: 40) { "\(n[$0 % n.count]),\($0 % 7)" }
  let (back, encoder, warnings) = try roundTrip(csv)
  #expect(back == csv)
  #expect(encoder.columns[0].kind == .categorical)
  #expect(warnings.isEmpty)
  // Codes in numeric order, the digits deciding where the doubles are equal.
  #expect(
    encoder.columns[0].labels == [
      "-9223372036854775807", "-9223372036854775806", "12", "9007199254740992", "9007199254740993",
      "9223372036854775805", "9223372036854775806", "9223372036854775807",
    ])
}

@Test func distinctLargeIntegersAreIdentifiersLikeText() throws {
  let key = { (row: Int) in String(UInt64(1) << 62 + UInt64(row) * 7919) }
  // A name like an identifier and three rows, or any name and 20 rows: not modelled.
  let (_, named, namedWarnings) = try roundTrip(table("user_id,v", rows: 3) { "\(key($0)),\($0 % 2)" })
  #expect(named.columns[0].kind == .identifier)
  #expect(namedWarnings.count == 1 && namedWarnings[0].contains("'user_id'"))
  let (_, many, _) = try roundTrip(table("hash,v", rows: 20) { "\(key($0)),\($0 % 2)" })
  #expect(many.columns[0].kind == .identifier)
  // --keep-ids models them as categories, exactly.
  var options = FitOptions()
  options.keepIdentifiers = true
  let csv = table("hash,v", rows: 20) { "\(key($0)),\($0 % 2)" }
  let (back, kept, _) = try roundTrip(csv, options: options)
  #expect(kept.columns[0].kind == .categorical)
  #expect(back == csv)
}

@Test func largeIntegerColumnsWithManyValuesStayNumerical() throws {
  // More than 1000 distinct values, not all rows distinct: numbers within a float's precision,
  // as the man page says of every column with that many values.
  let (_, encoder, warnings) = try roundTrip(table("n", rows: 2400) { String(UInt64(1) << 60 + UInt64($0 % 1200) << 20) })
  #expect(encoder.columns[0].kind == .numerical)
  #expect(warnings.isEmpty)
}

@Test func numbersADoubleCannotTellApartAreReportedByColumn() throws {
  // Typed numerical by the schema, the three large values collapse: a warning names the column.
  var options = FitOptions()
  options.schema = try TableSchema(json: Array(#"{"columns": {"n": "numerical"}}"#.utf8), path: "s.json")
  let csv = table("n,v", rows: 9) { ["9223372036854775805", "9223372036854775806", "9223372036854775807"][$0 % 3] + ",\($0 % 2)" }
  let (_, _, warnings) = try roundTrip(csv, options: options)
  #expect(warnings.count == 1)
  #expect(warnings.first?.hasPrefix("column 'n': 2 values equal to another as a double") == true)
  #expect(warnings.first?.contains("categorical") == true)
  #expect(warnings.first?.contains("\n") == false)

  // So do decimals past 17 significant digits, inferred numerical.
  let (_, _, decimals) = try roundTrip("x\n0.1\n0.10000000000000000001\n2.5\n")
  #expect(decimals.count == 1 && decimals[0].hasPrefix("column 'x': 1 value "))

  // Different texts of one number are not a loss: "1", "1.0", "+1.00", "10e-1"; nor are zeros.
  let (back, _, none) = try roundTrip("x\n1\n1.0\n+1.00\n10e-1\n0\n-0.0\n2.5\n1\n")
  #expect(none.isEmpty)
  #expect(cells(back) == ["1", "1", "1", "1", "0", "0", "2.5", "1"])
}

@Test func canonicalDecimalTextsAreEqualExactlyForEqualNumbers() {
  func canonical(_ text: String) -> String { DecimalText.canonical(ArraySlice(text.utf8)) }
  #expect(canonical("-1.50") == "-15e-1")
  #expect(canonical("-0015E-1") == "-15e-1")
  #expect(canonical(" +100 ") == "1e2")
  #expect(canonical("0.05") == "5e-2")
  #expect(canonical("-0.000") == "0" && canonical("0e99") == "0")
  #expect(canonical("9223372036854775806") != canonical("9223372036854775807"))
  #expect(canonical("0.10000000000000000001") != canonical("0.1"))
  func compare(_ a: String, _ b: String) -> Int? { DecimalText.compareIntegers(ArraySlice(a.utf8), ArraySlice(b.utf8)) }
  #expect(compare("-9223372036854775807", "-9223372036854775806") == -1)
  #expect(compare("9223372036854775807", "+009223372036854775806") == 1)
  #expect(compare("-0", "0") == 0)
  #expect(compare("12", "1.5") == nil)
}
