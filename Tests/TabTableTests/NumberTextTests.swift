// NumberText: parsing checked bit for bit against Glibc's strtod, formatting checked by
// re-writing random texts exactly.

import TabTable
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif


/// NumberText.parse on the bytes of `text`.
private func parse(_ text: String) -> ParsedNumber? {
  var text = text
  return text.withUTF8 { NumberText.parse(UnsafeRawBufferPointer($0)) }
}

/// Glibc's strtod on `text`, the reference.
private func referenceValue(_ text: String) -> Double {
  text.withCString { strtod($0, nil) }
}

/// NumberText.format as a String.
private func format(_ value: Double, decimals: Int, trimZeros: Bool = false) -> String {
  let capacity = NumberText.maxFormattedLength(decimals: decimals)
  return String(unsafeUninitializedCapacity: capacity) { buffer in
    NumberText.format(
      value, decimals: decimals, trimZeros: trimZeros, into: UnsafeMutableRawBufferPointer(buffer))
  }
}

/// NumberText.formatShortest as a String.
private func formatShortest(_ value: Double) -> String {
  String(unsafeUninitializedCapacity: NumberText.maxShortestLength) { buffer in
    NumberText.formatShortest(value, into: UnsafeMutableRawBufferPointer(buffer))
  }
}

/// `count` random decimal digits, the first of which is not zero when `leadingNonZero`.
private func randomDigits(
  _ count: Int, leadingNonZero: Bool, using random: inout SplitMix64
) -> String {
  var text = ""
  for k in 0..<count {
    let low = k == 0 && leadingNonZero ? 1 : 0
    text.append(
      Character(
        Unicode.Scalar(UInt8(ascii: "0") + UInt8.random(in: UInt8(low)...9, using: &random))))
  }
  return text
}

/// Expects parse(text) to be bit for bit strtod(text); returns whether it was.
@discardableResult
private func expectMatchesStrtod(_ text: String, sourceLocation: SourceLocation = #_sourceLocation)
  -> Bool
{
  let expected = referenceValue(text)
  guard let parsed = parse(text) else {
    Issue.record(
      "parse(\"\(text)\") is nil, strtod gives \(expected)", sourceLocation: sourceLocation)
    return false
  }
  let same = parsed.value.bitPattern == expected.bitPattern
  #expect(
    same, "parse(\"\(text)\") = \(parsed.value), strtod = \(expected)",
    sourceLocation: sourceLocation)
  return same
}

@Suite struct NumberTextParseTests {
  @Test func tricky() {
    let texts = [
      "0", "-0", "-0.0", "+0.0", "0.0e10", "0e-999", "1", "-1", "+7", " 12 ", "\t3.5\t",
      "1.", ".5", "-.5", "5.e3", "0.1", "0.2", "0.3", "0.30000000000000004", "0.1e1",
      "1e308", "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
      "1e309", "-1e400", "4.9e-324", "5e-324", "2.4703282292062327e-324",
      "2.4703282292062328e-324", "1e-400", "2.2250738585072011e-308",
      "2.2250738585072014e-308", "9007199254740992", "9007199254740993", "9007199254740994",
      "9007199254740995", "18446744073709551615", "18446744073709551616",
      "123456789012345678901234567890", "1234567890123456789", "12345678901234567890",
      "0.000000000000000000000000000001", "1e22", "1e23", "3e22", "123e25", "1.5e37",
      "9e37", "1e-22", "1e-23", "8.98846567431158e307", "7.038531e-26", "3.14159265358979323846",
      "2.718281828459045235360287", "0.1000000000000000055511151231257827021181583404541015625",
      "1.00000000000000011102230246251565404236316680908203125",
      "1.00000000000000011102230246251565404236316680908203124",
      "1.00000000000000011102230246251565404236316680908203126",
      "00000000000000000000000000000000001.5", "1.50000000000000000000000000000000000",
      "1E5", "1e+5", "1e-5", "1E-0", "123.456E+02",
    ]
    for text in texts { expectMatchesStrtod(text) }
  }

  @Test func randomTexts() {
    var random = SplitMix64(state: 1)
    var failures = 0
    for _ in 0..<50_000 {
      var text = ["", "-", "+"].randomElement(using: &random)!
      let integerDigits = Int.random(in: 0...24, using: &random)
      let fractionDigits = Int.random(in: 0...24, using: &random)
      let point = fractionDigits > 0 || Bool.random(using: &random)
      guard integerDigits + fractionDigits > 0 else { continue }
      text += randomDigits(integerDigits, leadingNonZero: false, using: &random)
      if point { text += "." + randomDigits(fractionDigits, leadingNonZero: false, using: &random) }
      switch Int.random(in: 0..<4, using: &random) {
      case 0: text += "e\(Int.random(in: -350...350, using: &random))"
      case 1: text += "E\(Int.random(in: -30...30, using: &random))"
      default: break
      }
      if !expectMatchesStrtod(text) { failures += 1 }
      if failures > 10 { break }
    }
  }

  @Test func randomShortTexts() {
    // The fast path: up to 19 digits, small exponents, and values that need the fallback
    // because the mantissa passes 2^53 or the exponent passes 22.
    var random = SplitMix64(state: 2)
    var failures = 0
    for _ in 0..<50_000 {
      let digits = Int.random(in: 1...19, using: &random)
      let point = Int.random(in: 0...digits, using: &random)
      let body = randomDigits(digits, leadingNonZero: true, using: &random)
      var text = String(body.prefix(point)) + "." + String(body.dropFirst(point))
      if Bool.random(using: &random) { text += "e\(Int.random(in: -40...40, using: &random))" }
      if !expectMatchesStrtod(text) { failures += 1 }
      if failures > 10 { break }
    }
  }

  @Test func randomDoublesRoundTripThroughShortestText() {
    var random = SplitMix64(state: 3)
    for _ in 0..<20_000 {
      let value = Double(bitPattern: random.next())
      guard value.isFinite else { continue }
      let text = value.description.split(separator: "+").joined()  // "1e+16" -> "1e16"
      expectMatchesStrtod(text)
    }
  }

  @Test func rejects() {
    let texts = [
      "", " ", "-", "+", ".", "-.", "1e", "1e+", "1e-", "e5", "abc", "1,000", "1 000", "nan",
      "NaN", "inf", "-inf", "Infinity", "0x10", "0X1p3", "1..2", "1.2.3", "--1", "+-1", "1-",
      "1e5.5", "1ee5", "١", "1d", "1f", "12a", "a12", "1_000",
    ]
    for text in texts {
      #expect(
        parse(text) == nil,
        "parse(\"\(text)\") should be nil, is \(String(describing: parse(text)))")
    }
  }

  @Test func shape() {
    let cases: [(String, decimals: Int, hasExponent: Bool, isInteger: Bool)] = [
      ("42", 0, false, true), ("-42", 0, false, true), (" 7 ", 0, false, true),
      ("-0", 0, false, true), ("1.50", 2, false, false), ("5.", 0, false, false),
      (".5", 1, false, false), ("0.000", 3, false, false), ("1e3", 0, true, false),
      ("2.5E-4", 1, true, false), ("9007199254740992", 0, false, true),
      ("-9007199254740992", 0, false, true), ("9007199254740993", 0, false, false),
      ("12345678901234567890", 0, false, false), ("0000000000000000000000001", 0, false, true),
      ("1.00000000000000000000000000", 26, false, false),
    ]
    for (text, decimals, hasExponent, isInteger) in cases {
      let parsed = parse(text)
      #expect(parsed?.decimals == decimals, "decimals of \"\(text)\"")
      #expect(parsed?.hasExponent == hasExponent, "hasExponent of \"\(text)\"")
      #expect(parsed?.isInteger == isInteger, "isInteger of \"\(text)\"")
    }
  }
}

@Suite struct NumberTextFormatTests {
  @Test func randomIntegersRoundTrip() {
    var random = SplitMix64(state: 4)
    for k in 0..<20_000 {
      let limit = k % 2 == 0 ? Int64(1) << 53 : 100_000
      let text = String(Int64.random(in: -limit...limit, using: &random))
      let parsed = parse(text)
      #expect(parsed?.isInteger == true, "\(text)")
      #expect(format(parsed?.value ?? .nan, decimals: 0) == text, "\(text)")
    }
  }

  @Test func randomDecimalTextsRoundTrip() {
    // Up to 15 significant digits: every such text is recovered from its nearest Double.
    var random = SplitMix64(state: 5)
    var failures = 0
    for _ in 0..<50_000 {
      let decimals = Int.random(in: 0...12, using: &random)
      let integerDigits = Int.random(in: 0...(15 - min(decimals, 14)), using: &random)
      var text = Bool.random(using: &random) ? "-" : ""
      text +=
        integerDigits == 0 ? "0" : randomDigits(integerDigits, leadingNonZero: true, using: &random)
      if decimals > 0 {
        text += "." + randomDigits(decimals, leadingNonZero: false, using: &random)
      }
      if text.allSatisfy({ $0 == "-" || $0 == "0" || $0 == "." }) { text.removeAll { $0 == "-" } }
      guard let parsed = parse(text) else {
        Issue.record("parse(\"\(text)\") is nil")
        break
      }
      #expect(parsed.decimals == decimals)
      let written = format(parsed.value, decimals: decimals)
      if written != text {
        Issue.record("format(parse(\"\(text)\"), decimals: \(decimals)) = \"\(written)\"")
        failures += 1
        if failures > 10 { break }
      }
    }
  }

  @Test func sixteenAndSeventeenDigitTextsBelowTwoToThe53RoundTrip() {
    // 16 and 17 significant digits: the product can miss by a unit, which the neighbour check
    // fixes. Some such texts share their Double with a neighbour ("87.93108509284945" and
    // "...44"): then any of them is right, as long as it parses back to the same Double.
    var random = SplitMix64(state: 6)
    var failures = 0
    func text(_ units: UInt64, _ decimals: Int) -> String {
      var digits = String(units)
      while digits.count <= decimals { digits = "0" + digits }
      digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
      return digits
    }
    for _ in 0..<50_000 {
      let units = UInt64.random(in: 1_000_000_000_000_000...(1 << 53) - 1, using: &random)
      let decimals = Int.random(in: 1...16, using: &random)
      let original = text(units, decimals)
      guard let value = parse(original)?.value else { continue }
      let written = format(value, decimals: decimals)
      let unique =
        parse(text(units - 1, decimals))?.value != value
        && parse(text(units + 1, decimals))?.value != value
      let ok = parse(written)?.value == value && (!unique || written == original)
      if !ok {
        Issue.record("format(parse(\"\(original)\"), decimals: \(decimals)) = \"\(written)\"")
        failures += 1
        if failures > 10 { break }
      }
    }
  }

  @Test func roundsHalfAwayFromZero() {
    #expect(format(2.5, decimals: 0) == "3")
    #expect(format(-2.5, decimals: 0) == "-3")
    #expect(format(0.125, decimals: 2) == "0.13")
    #expect(format(-0.125, decimals: 2) == "-0.13")
    #expect(format(0.15, decimals: 1) == "0.2")  // 0.1499999... in binary, 0.15 as written
    #expect(format(1.005, decimals: 4) == "1.0050")
    #expect(format(123.456, decimals: 1) == "123.5")
    #expect(format(0.05, decimals: 2) == "0.05")
    #expect(format(7, decimals: 3) == "7.000")
  }

  @Test func negativeZero() {
    #expect(format(-0.0, decimals: 0) == "0")
    #expect(format(-0.0, decimals: 2) == "0.00")
    #expect(format(-0.0001, decimals: 2) == "0.00")
    #expect(format(-0.0001, decimals: 2, trimZeros: true) == "0")
    #expect(format(-1e-30, decimals: 25) == "0.0000000000000000000000000")
    #expect(format(-1e-30, decimals: 25, trimZeros: true) == "0")
  }

  @Test func trimZeros() {
    #expect(format(1.5, decimals: 3, trimZeros: true) == "1.5")
    #expect(format(2, decimals: 3, trimZeros: true) == "2")
    #expect(format(-20, decimals: 2, trimZeros: true) == "-20")
    #expect(format(0.1, decimals: 6, trimZeros: true) == "0.1")
    #expect(format(100, decimals: 0, trimZeros: true) == "100")
    #expect(format(1e20, decimals: 3, trimZeros: true) == "100000000000000000000")
    #expect(format(1.25e20, decimals: 3, trimZeros: false) == "125000000000000000000.000")
  }

  @Test func largeValuesUsePrintf() {
    #expect(format(1e22, decimals: 0) == "10000000000000000000000")
    #expect(format(-1e22, decimals: 1) == "-10000000000000000000000.0")
    #expect(format(Double(123_456_789_012_345_678 as Int64), decimals: 1) == "123456789012345680.0")
    #expect(format(Double(9_007_199_254_740_993 as Int64), decimals: 0) == "9007199254740992")
    let largest = format(-Double.greatestFiniteMagnitude, decimals: 4)
    #expect(largest.utf8.count <= NumberText.maxFormattedLength(decimals: 4))
    #expect(referenceValue(largest) == -Double.greatestFiniteMagnitude)
  }

  @Test func nonFinite() {
    #expect(format(.nan, decimals: 2) == "nan")
    #expect(format(.infinity, decimals: 2) == "inf")
    #expect(format(-.infinity, decimals: 0) == "-inf")
    #expect(formatShortest(.nan) == "nan")
    #expect(formatShortest(-.infinity) == "-inf")
  }

  @Test func shortestExamples() {
    let cases: [(Double, String)] = [
      (0, "0"), (-0.0, "0"), (0.1, "0.1"), (-2.5, "-2.5"), (123, "123"), (5, "5"),
      (1e15, "1000000000000000"), (9_007_199_254_740_992, "9007199254740992"),
      (1_234_567_890_123_456, "1234567890123456"), (1e16, "1e16"), (1.5e16, "1.5e16"),
      (1e-6, "0.000001"), (1.25e-6, "0.00000125"), (1e-7, "1e-7"), (-2.5e-10, "-2.5e-10"),
      (0.1 + 0.2, "0.30000000000000004"), (Double.leastNonzeroMagnitude, "5e-324"),
      (Double.greatestFiniteMagnitude, "1.7976931348623157e308"), (100.5, "100.5"),
      (1.0 / 3, "0.3333333333333333"), (1e100, "1e100"),
    ]
    for (value, text) in cases {
      #expect(formatShortest(value) == text, "formatShortest(\(value))")
    }
  }

  @Test func shortestRoundTripsRandomDoubles() {
    var random = SplitMix64(state: 7)
    var failures = 0
    for k in 0..<50_000 {
      // Half random bit patterns (any magnitude), half values in the no-exponent range.
      let value =
        k % 2 == 0
        ? Double(bitPattern: random.next())
        : Double.random(in: -1...1, using: &random)
          * pow(10, Double(Int.random(in: -6...15, using: &random)))
      guard value.isFinite && value != 0 else { continue }
      let text = formatShortest(value)
      let back = parse(text)?.value
      let exponentExpected = value.magnitude < 1e-6 || value.magnitude >= 1e16
      let ok =
        back?.bitPattern == value.bitPattern && text.contains("e") == exponentExpected
        && text.utf8.count <= NumberText.maxShortestLength
      if !ok {
        Issue.record(
          "formatShortest(\(value)) = \"\(text)\", parses back to \(String(describing: back))")
        failures += 1
        if failures > 10 { break }
      }
    }
  }
}
