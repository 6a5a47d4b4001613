// Numbers in CSV fields: parsing that gives the same Double as strtod, and formatting that writes
// a value back with the digits it was read with. ASCII only, no locale, no Foundation.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// What a numeric field looked like, for exact re-writing.
public struct ParsedNumber: Equatable, Sendable {
  /// The value, correctly rounded: the same Double `strtod` gives for the text.
  public var value: Double
  /// Digits written after the point, 0 if none ("1.50" → 2, "5." → 0, "2.5e3" → 1).
  public var decimals: Int
  /// Whether the text had an exponent ("1e3", "2.5E-4").
  public var hasExponent: Bool
  /// Whether the text was a plain integer (no point, no exponent) that the Double holds exactly,
  /// that is |n| ≤ 2^53.
  public var isInteger: Bool

  /// Creates a description of a numeric field.
  public init(value: Double, decimals: Int, hasExponent: Bool, isInteger: Bool) {
    self.value = value
    self.decimals = decimals
    self.hasExponent = hasExponent
    self.isInteger = isInteger
  }
}

/// Parsing and formatting of decimal numbers in CSV field bytes.
///
/// Accepted text: optional spaces around, an optional sign, digits with an optional fraction
/// (".5" and "5." both read), an optional exponent (`e`/`E`, optional sign, digits). Hexadecimal,
/// `inf`, `nan` and thousands separators are not numbers here.
public enum NumberText {
  /// 2^53: every integer up to this magnitude is exact in a Double.
  static let exactIntegerLimit: UInt64 = 1 << 53

  /// 10^0 through 10^22: the powers of ten a Double holds exactly (5^22 < 2^53, and the factor
  /// 2^22 only moves the exponent).
  static let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
  ]

  /// 10^0 through 10^15 as integers, to shift a short mantissa left before a multiply by 10^22.
  static let integerPowersOfTen: [UInt64] = [
    1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
    10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000,
    100_000_000_000_000, 1_000_000_000_000_000,
  ]

  /// The most significant digits kept in a UInt64 mantissa: 10^19 - 1 < 2^64.
  static let maxMantissaDigits = 19

  private static let space = UInt8(ascii: " ")
  private static let tab = UInt8(ascii: "\t")
  private static let zero = UInt8(ascii: "0")
  private static let dot = UInt8(ascii: ".")
  private static let plus = UInt8(ascii: "+")
  private static let minus = UInt8(ascii: "-")
  private static let lowercaseE = UInt8(ascii: "e")

  // MARK: Parsing

  /// Parses an ASCII number; nil if the bytes are not one.
  ///
  /// Accepts optional surrounding spaces or tabs, an optional sign (`+`/`-`), digits with an
  /// optional `.` fraction (".5" and "5." are numbers, "." is not), and an optional exponent
  /// (`e`/`E`, optional sign, at least one digit). Rejects hexadecimal, `inf`, `nan` and
  /// thousands separators.
  ///
  /// The value is correctly rounded, bit for bit the Double `strtod` returns: up to 19
  /// significant digits whose mantissa fits in 2^53 and whose decimal exponent is within ±22
  /// (or a little beyond, when the mantissa has room) are computed with one exact multiply or
  /// divide by a power of ten (Clinger's fast path: both operands are exact, so the single IEEE
  /// rounding is the correct one); anything else is handed to `strtod` on a NUL-terminated copy.
  /// As with `strtod`, a value too large for a Double is ±infinity and one too small is ±0.
  ///
  /// - Complexity: O(n) in the length of the field; no allocation for fields under a page.
  public static func parse(_ bytes: UnsafeRawBufferPointer) -> ParsedNumber? {
    var start = 0
    var end = bytes.count
    while start < end && (bytes[start] == space || bytes[start] == tab) { start += 1 }
    while end > start && (bytes[end - 1] == space || bytes[end - 1] == tab) { end -= 1 }
    guard start < end else { return nil }

    var i = start
    var negative = false
    if bytes[i] == minus || bytes[i] == plus {
      negative = bytes[i] == minus
      i += 1
    }

    // The digits read so far are mantissa · 10^exponent10. Leading zeros never enter the
    // mantissa; digits beyond the 19th are dropped (an integer digit then scales by ten), and
    // `truncated` records whether a dropped digit was non-zero (the fast path is then unsafe).
    var mantissa: UInt64 = 0
    var significantDigits = 0
    var exponent10 = 0
    var truncated = false
    var digits = 0

    while i < end {
      let digit = bytes[i] &- zero
      guard digit < 10 else { break }
      digits += 1
      if significantDigits < maxMantissaDigits {
        mantissa = mantissa &* 10 &+ UInt64(digit)
        if mantissa != 0 { significantDigits += 1 }
      } else {
        exponent10 += 1
        if digit != 0 { truncated = true }
      }
      i += 1
    }

    var hasPoint = false
    var decimals = 0
    if i < end && bytes[i] == dot {
      hasPoint = true
      i += 1
      while i < end {
        let digit = bytes[i] &- zero
        guard digit < 10 else { break }
        digits += 1
        decimals += 1
        if significantDigits < maxMantissaDigits {
          mantissa = mantissa &* 10 &+ UInt64(digit)
          if mantissa != 0 { significantDigits += 1 }
          exponent10 -= 1
        } else if digit != 0 {
          truncated = true
        }
        i += 1
      }
    }
    guard digits > 0 else { return nil }

    var hasExponent = false
    if i < end && bytes[i] | 0x20 == lowercaseE {  // | 0x20 folds 'E' to 'e'
      hasExponent = true
      i += 1
      var exponentNegative = false
      if i < end && (bytes[i] == minus || bytes[i] == plus) {
        exponentNegative = bytes[i] == minus
        i += 1
      }
      var written = 0
      var exponentDigits = 0
      while i < end {
        let digit = bytes[i] &- zero
        guard digit < 10 else { break }
        // Past 10^5 the value is 0 or infinity whatever follows; stop growing to avoid overflow.
        if written < 100_000 { written = written * 10 + Int(digit) }
        exponentDigits += 1
        i += 1
      }
      guard exponentDigits > 0 else { return nil }
      exponent10 += exponentNegative ? -written : written
    }
    guard i == end else { return nil }

    let isInteger =
      !hasPoint && !hasExponent && !truncated && exponent10 == 0
      && mantissa <= exactIntegerLimit

    let value: Double
    if mantissa == 0 {
      value = negative ? -0.0 : 0.0  // "0e999" and "-0.000" included, as strtod
    } else if !truncated, let magnitude = exactValue(mantissa, exponent10) {
      value = negative ? -magnitude : magnitude
    } else {
      value = strtodValue(bytes, from: start, to: end)
    }
    return ParsedNumber(
      value: value, decimals: decimals, hasExponent: hasExponent, isInteger: isInteger)
  }

  /// mantissa · 10^exponent10 with one exact rounding, or nil when that is not possible.
  @inline(__always)
  static func exactValue(_ mantissa: UInt64, _ exponent10: Int) -> Double? {
    guard mantissa <= exactIntegerLimit else { return nil }
    if exponent10 >= 0 {
      if exponent10 < exactPowersOfTen.count {
        return Double(mantissa) * exactPowersOfTen[exponent10]
      }
      // 123e25 = 123000e22: shift the extra powers into the mantissa while it stays exact.
      let shift = exponent10 - (exactPowersOfTen.count - 1)
      guard shift < integerPowersOfTen.count else { return nil }
      let (shifted, overflow) = mantissa.multipliedReportingOverflow(by: integerPowersOfTen[shift])
      guard !overflow && shifted <= exactIntegerLimit else { return nil }
      return Double(shifted) * exactPowersOfTen[exactPowersOfTen.count - 1]
    }
    guard -exponent10 < exactPowersOfTen.count else { return nil }
    return Double(mantissa) / exactPowersOfTen[-exponent10]
  }

  /// `strtod` on a NUL-terminated copy of `bytes[start..<end]` (already validated, sign included).
  static func strtodValue(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Double {
    let count = end - start
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { text in
      // This is safe: `text` has count + 1 elements and `bytes` has at least `end`.
      for k in 0..<count { text[k] = CChar(bitPattern: bytes[start + k]) }
      text[count] = 0
      return strtod(text.baseAddress!, nil)
    }
  }

  // MARK: Fixed-point formatting

  /// The most bytes `format(_:decimals:trimZeros:into:)` writes for `decimals`: a sign, the 309
  /// integer digits of the largest Double, the point and the fraction.
  /// - Precondition: `decimals >= 0`.
  public static func maxFormattedLength(decimals: Int) -> Int {
    precondition(decimals >= 0, "decimals must not be negative")
    return 311 + decimals
  }

  /// Writes `value` with exactly `decimals` digits after the point (no point when 0).
  ///
  /// Rounds half away from zero on the decimal text the value came from: while
  /// |value|·10^decimals < 2^53 the digits are the integer round(|value|·10^decimals), so a value
  /// parsed from text with `decimals` digits comes back as that text (for 16 and 17 significant
  /// digits, where the product can be off by one unit, the neighbour n with n / 10^decimals ==
  /// |value| is taken: that is the one `parse` read). Larger values, or more than 22 decimals, go
  /// through `snprintf("%.*f")`, which rounds the exact binary value.
  ///
  /// If `trimZeros`, trailing fractional zeros are dropped, and the point when nothing is left.
  /// Negative zero, or a negative value that rounds to zero, is written without a sign ("0",
  /// "0.00"). Non-finite values are written as `nan`, `inf` and `-inf`.
  ///
  /// - Returns: The number of bytes written at the start of `buffer`.
  /// - Precondition: `decimals >= 0` and `buffer.count >= maxFormattedLength(decimals:)`.
  public static func format(
    _ value: Double, decimals: Int, trimZeros: Bool, into buffer: UnsafeMutableRawBufferPointer
  ) -> Int {
    precondition(decimals >= 0, "decimals must not be negative")
    guard value.isFinite else { return writeNonFinite(value, into: buffer) }
    let magnitude = value.magnitude
    if decimals < exactPowersOfTen.count {
      let scale = exactPowersOfTen[decimals]
      let scaled = magnitude * scale
      if scaled < Double(exactIntegerLimit) {
        var units = scaled.rounded(.toNearestOrAwayFromZero)
        // Below 10^15 units the product errs by at most 10^15 · 2^-52 < 0.25 of a unit, so the
        // rounding already recovers the text; above, check it against what parse computes.
        if decimals > 0 && units >= 1e15 {
          units = unitsParsingBack(to: magnitude, near: units, scale: scale)
        }
        return writeUnits(
          UInt64(units), negative: value < 0, decimals: decimals, trimZeros: trimZeros,
          into: buffer)
      }
    }
    return formatWithPrintf(value, decimals: decimals, trimZeros: trimZeros, into: buffer)
  }

  /// Of `units` and its neighbours, the one n with n / scale == magnitude (the same division
  /// `parse` does for a text of n with that many decimals); `units` when none is.
  static func unitsParsingBack(to magnitude: Double, near units: Double, scale: Double) -> Double {
    if units / scale == magnitude { return units }
    if (units - 1) / scale == magnitude { return units - 1 }
    if (units + 1) / scale == magnitude && units + 1 <= Double(exactIntegerLimit) {
      return units + 1
    }
    return units
  }

  /// Writes units / 10^decimals: the digits of `units` with a point `decimals` from the right.
  static func writeUnits(
    _ units: UInt64, negative: Bool, decimals: Int, trimZeros: Bool,
    into buffer: UnsafeMutableRawBufferPointer
  ) -> Int {
    var units = units
    var decimals = decimals
    if trimZeros {
      while decimals > 0 && units % 10 == 0 {
        units /= 10
        decimals -= 1
      }
    }
    let signed = negative && units != 0  // "-0.00" is written "0.00"
    var digitCount = 1
    var rest = units
    while rest >= 10 {
      rest /= 10
      digitCount += 1
    }
    let written = max(digitCount, decimals + 1)  // "0.05": a zero before the point, then padding
    let length = (signed ? 1 : 0) + written + (decimals > 0 ? 1 : 0)
    precondition(buffer.count >= length, "buffer smaller than maxFormattedLength(decimals:)")
    var position = length
    rest = units
    for k in 0..<written {
      if k == decimals && decimals > 0 {
        position -= 1
        buffer[position] = dot
      }
      position -= 1
      buffer[position] = zero + UInt8(truncatingIfNeeded: rest % 10)
      rest /= 10
    }
    if signed { buffer[0] = minus }
    return length
  }

  /// The `snprintf("%.*f")` path, for magnitudes past 2^53 units; fixes "-0.0" and trims zeros.
  static func formatWithPrintf(
    _ value: Double, decimals: Int, trimZeros: Bool, into buffer: UnsafeMutableRawBufferPointer
  ) -> Int {
    let capacity = maxFormattedLength(decimals: decimals) + 1  // + the NUL snprintf writes
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { text in
      let printed = withVaList([Int32(clamping: decimals), value]) { arguments in
        Int(vsnprintf(text.baseAddress!, capacity, "%.*f", arguments))
      }
      var start = 0
      var end = min(max(printed, 0), capacity - 1)
      if end > 0 && text[0] == CChar(bitPattern: minus) {
        var allZero = true
        for k in 1..<end
        where text[k] != CChar(bitPattern: zero) && text[k] != CChar(bitPattern: dot) {
          allZero = false
        }
        if allZero { start = 1 }
      }
      if trimZeros && decimals > 0 {
        while end > start && text[end - 1] == CChar(bitPattern: zero) { end -= 1 }
        if end > start && text[end - 1] == CChar(bitPattern: dot) { end -= 1 }
      }
      let length = end - start
      precondition(buffer.count >= length, "buffer smaller than maxFormattedLength(decimals:)")
      // This is safe: `text` holds `end` initialized bytes and `buffer` has room for `length`.
      for k in 0..<length { buffer[k] = UInt8(bitPattern: text[start + k]) }
      return length
    }
  }

  /// Writes "nan", "inf" or "-inf".
  static func writeNonFinite(_ value: Double, into buffer: UnsafeMutableRawBufferPointer) -> Int {
    let text: StaticString = value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf")
    precondition(buffer.count >= text.utf8CodeUnitCount, "buffer too small")
    for k in 0..<text.utf8CodeUnitCount { buffer[k] = text.utf8Start[k] }
    return text.utf8CodeUnitCount
  }

  // MARK: Shortest formatting

  /// The most bytes `formatShortest(_:into:)` writes: "-0.000001" and 17 digits, or a sign, 17
  /// digits, a point and "e-324".
  public static let maxShortestLength = 32

  /// Writes the shortest text that parses back to the same Double.
  ///
  /// The digits are Swift's `description` (the shortest that round-trip), laid out without an
  /// exponent for magnitudes in [1e-6, 1e16) ("0.000001", "1234567890123456") and as
  /// `d.ddde-7`/`d.ddde16` (no `+`, no leading zeros in the exponent) outside. Integral values
  /// have no point ("5", not "5.0"); both zeros are written "0"; non-finite values as `nan`,
  /// `inf`, `-inf`.
  ///
  /// - Returns: The number of bytes written at the start of `buffer`.
  /// - Precondition: `buffer.count >= maxShortestLength`.
  public static func formatShortest(_ value: Double, into buffer: UnsafeMutableRawBufferPointer)
    -> Int
  {
    precondition(buffer.count >= maxShortestLength, "buffer smaller than maxShortestLength")
    guard value.isFinite else { return writeNonFinite(value, into: buffer) }
    if value == 0 {
      buffer[0] = zero
      return 1
    }
    var text = value.magnitude.description
    return text.withUTF8 { utf8 in
      layOutShortest(utf8, negative: value < 0, into: buffer)
    }
  }

  /// Rewrites a Swift `description` ("1.5e-07", "1000.0", "1e+16") in tabpipe's layout.
  static func layOutShortest(
    _ description: UnsafeBufferPointer<UInt8>, negative: Bool,
    into buffer: UnsafeMutableRawBufferPointer
  ) -> Int {
    // A description has at most 17 significant digits, plus the ".0" of integral values.
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { digits in
      // The significant digits d1 d2 ... dn, and the exponent e of d1.d2...dn · 10^e.
      var count = 0
      var integerDigits = 0  // digits before the point, leading zeros excluded
      var leadingFractionZeros = 0  // "0.0001": zeros after the point before the first digit
      var seenPoint = false
      var i = 0
      while i < description.count && description[i] | 0x20 != lowercaseE {
        let byte = description[i]
        if byte == dot {
          seenPoint = true
        } else if count == 0 && byte == zero {
          if seenPoint { leadingFractionZeros += 1 }
        } else if count < digits.count {
          digits[count] = byte
          count += 1
          if !seenPoint { integerDigits += 1 }
        }
        i += 1
      }
      var written = 0  // the exponent after 'e', if any
      if i < description.count {
        i += 1
        let exponentNegative = description[i] == minus
        if description[i] == minus || description[i] == plus { i += 1 }
        while i < description.count {
          written = written * 10 + Int(description[i] &- zero)
          i += 1
        }
        if exponentNegative { written = -written }
      }
      let exponent =
        integerDigits > 0 ? integerDigits - 1 + written : written - leadingFractionZeros - 1
      while count > 1 && digits[count - 1] == zero { count -= 1 }  // "1000.0" is one digit

      var length = 0
      func put(_ byte: UInt8) {
        buffer[length] = byte
        length += 1
      }
      if negative { put(minus) }
      if exponent >= -6 && exponent < 16 {
        if exponent >= 0 {  // "123", "1000", "12.5"
          for k in 0...exponent { put(k < count ? digits[k] : zero) }
          if count > exponent + 1 {
            put(dot)
            for k in (exponent + 1)..<count { put(digits[k]) }
          }
        } else {  // "0.000125"
          put(zero)
          put(dot)
          for _ in 0..<(-exponent - 1) { put(zero) }
          for k in 0..<count { put(digits[k]) }
        }
      } else {  // "1.25e-7", "1e16"
        put(digits[0])
        if count > 1 {
          put(dot)
          for k in 1..<count { put(digits[k]) }
        }
        put(lowercaseE)
        if exponent < 0 { put(minus) }
        let magnitude = Int(exponent.magnitude)  // at most 324
        if magnitude >= 100 { put(zero + UInt8(magnitude / 100)) }
        if magnitude >= 10 { put(zero + UInt8(magnitude / 10 % 10)) }
        put(zero + UInt8(magnitude % 10))
      }
      return length
    }
  }
}
