// Dates and timestamps in CSV fields: a layout detected from a column's samples, parsed to
// seconds since 1970-01-01T00:00:00 UTC and written back in the same layout. Proleptic Gregorian
// calendar, years 0001-9999, ASCII only; no Foundation, no locale, no time-zone database.

/// A date/time layout detected from a column's text, able to parse and write back identically.
///
/// Supported layouts, in strftime's pattern syntax (`%-m` is GNU's "no zero padding"):
/// - a date: year first (`%Y-%m-%d`, `%Y/%m/%d`, `%Y.%m.%d`), month first (`%m/%d/%Y`,
///   `%m-%d-%Y`, `%m.%d.%Y`) or day first (`%d/%m/%Y`, `%d-%m-%Y`, `%d.%m.%Y`); month and day
///   may each be unpadded (`%-m`, `%-d`); the year always has four digits;
/// - optionally, after `T` or a space, a time: `%H:%M`, `%H:%M:%S` or `%H:%M:%S.%Nf` with N =
///   1...9 fraction digits; the hour may be unpadded (`%-H`), minutes and seconds never are;
/// - after a time, optionally `Z` (UTC) or a fixed offset written `+02:00` or `+0200`.
///
/// Times without `Z` or an offset are taken as UTC. A padded field (`%m`) must have two digits;
/// an unpadded one (`%-m`) takes one or two ("3" and "03"), and is written without a leading zero.
/// A fraction format (`%3f`) also reads a fraction of another length or none (Python writes no
/// fraction for whole seconds) and writes exactly N digits. An offset format reads any offset of
/// the same shape and converts it; it writes the offset in its pattern. Leap seconds (`:60`),
/// `24:00`, 12-hour clocks and years outside 0001-9999 are not supported.
///
/// Precision: values are Double seconds, so a fraction survives to the digit only while the
/// spacing of Doubles is below its unit: milliseconds for every year, microseconds for about
/// 1700-2240, nanoseconds only within about 97 days of 1970-01-01.
public struct DateFormat: Codable, Equatable, Sendable {
  /// The order of the date fields.
  enum FieldOrder: Equatable, Sendable {
    case yearMonthDay
    case monthDayYear
    case dayMonthYear
  }

  /// How much of the time of day is written.
  enum TimePrecision: Equatable, Sendable {
    case none
    case minutes
    case seconds
  }

  /// What follows the time.
  enum Zone: Equatable, Sendable {
    /// Nothing: the time is taken as UTC.
    case none
    /// A literal `Z`.
    case utc
    /// A fixed offset east of UTC in minutes, written `+hh:mm` (colon) or `+hhmm`.
    case offset(minutes: Int, colon: Bool)
  }

  let order: FieldOrder
  let dateSeparator: UInt8  // '-', '/' or '.'
  let monthPadded: Bool
  let dayPadded: Bool
  let time: TimePrecision
  let timeSeparator: UInt8  // 'T' or ' '
  let hourPadded: Bool
  let fractionDigits: Int  // 0...9, only with seconds
  let zone: Zone

  /// Creates a layout; fields that do not apply are normalized so that equal patterns compare
  /// equal.
  init(
    order: FieldOrder, dateSeparator: UInt8, monthPadded: Bool, dayPadded: Bool,
    time: TimePrecision = .none, timeSeparator: UInt8 = UInt8(ascii: "T"),
    hourPadded: Bool = true, fractionDigits: Int = 0, zone: Zone = .none
  ) {
    precondition(0...9 ~= fractionDigits, "fraction digits must be 0...9")
    self.order = order
    self.dateSeparator = dateSeparator
    self.monthPadded = monthPadded
    self.dayPadded = dayPadded
    self.time = time
    self.timeSeparator = time == .none ? UInt8(ascii: "T") : timeSeparator
    self.hourPadded = time == .none ? true : hourPadded
    self.fractionDigits = time == .seconds ? fractionDigits : 0
    self.zone = time == .none ? .none : zone
  }

  // MARK: Pattern

  /// The strftime-like pattern, e.g. "%Y-%m-%d %H:%M:%S" or "%-m/%-d/%Y %-H:%M"; also the
  /// format's Codable identity.
  public var pattern: String {
    let year = "%Y"
    let month = monthPadded ? "%m" : "%-m"
    let day = dayPadded ? "%d" : "%-d"
    let separator = String(UnicodeScalar(dateSeparator))
    var text: String
    switch order {
    case .yearMonthDay: text = year + separator + month + separator + day
    case .monthDayYear: text = month + separator + day + separator + year
    case .dayMonthYear: text = day + separator + month + separator + year
    }
    guard time != .none else { return text }
    text += String(UnicodeScalar(timeSeparator))
    text += hourPadded ? "%H:%M" : "%-H:%M"
    if time == .seconds { text += ":%S" }
    if fractionDigits > 0 { text += ".%\(fractionDigits)f" }
    switch zone {
    case .none: break
    case .utc: text += "Z"
    case .offset(let minutes, let colon):
      let hours = minutes.magnitude / 60
      let rest = minutes.magnitude % 60
      text += minutes < 0 ? "-" : "+"
      text += (hours < 10 ? "0" : "") + String(hours)
      text += colon ? ":" : ""
      text += (rest < 10 ? "0" : "") + String(rest)
    }
    return text
  }

  /// Creates the format a stored pattern names; nil if the pattern is not a supported layout.
  public init?(pattern: String) {
    var reader = PatternReader(bytes: Array(pattern.utf8))
    guard let first = reader.field(), let separator = reader.byte(in: "-/."),
      let second = reader.field(), reader.take(separator), let third = reader.field()
    else { return nil }
    let y = UInt8(ascii: "Y")
    let m = UInt8(ascii: "m")
    let d = UInt8(ascii: "d")
    let order: FieldOrder
    let month: PatternReader.Field
    let day: PatternReader.Field
    let year: PatternReader.Field
    switch (first.letter, second.letter, third.letter) {
    case (y, m, d): (order, year, month, day) = (.yearMonthDay, first, second, third)
    case (m, d, y): (order, month, day, year) = (.monthDayYear, first, second, third)
    case (d, m, y): (order, day, month, year) = (.dayMonthYear, first, second, third)
    default: return nil
    }
    guard year.padded else { return nil }
    if reader.atEnd {
      self.init(
        order: order, dateSeparator: separator, monthPadded: month.padded, dayPadded: day.padded)
      return
    }

    guard let timeSeparator = reader.byte(in: "T "), let hour = reader.field(),
      hour.letter == UInt8(ascii: "H"), reader.take(UInt8(ascii: ":")),
      let minute = reader.field(), minute.letter == UInt8(ascii: "M"), minute.padded
    else { return nil }
    var time = TimePrecision.minutes
    var fractionDigits = 0
    if reader.take(UInt8(ascii: ":")) {
      guard let second = reader.field(), second.letter == UInt8(ascii: "S"), second.padded
      else { return nil }
      time = .seconds
      if reader.take(UInt8(ascii: ".")) {
        guard let digits = reader.fraction() else { return nil }
        fractionDigits = digits
      }
    }
    var zone = Zone.none
    if reader.take(UInt8(ascii: "Z")) {
      zone = .utc
    } else if let sign = reader.byte(in: "+-") {
      guard let hours = reader.twoDigits(), hours < 24 else { return nil }
      let colon = reader.take(UInt8(ascii: ":"))
      guard let minutes = reader.twoDigits(), minutes < 60 else { return nil }
      let offset = hours * 60 + minutes
      zone = .offset(minutes: sign == UInt8(ascii: "-") ? -offset : offset, colon: colon)
    }
    guard reader.atEnd else { return nil }
    self.init(
      order: order, dateSeparator: separator, monthPadded: month.padded, dayPadded: day.padded,
      time: time, timeSeparator: timeSeparator, hourPadded: hour.padded,
      fractionDigits: fractionDigits, zone: zone)
  }

  /// Decodes a format from its pattern string.
  /// - Throws: `DecodingError.dataCorrupted` if the pattern is not a supported layout.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let pattern = try container.decode(String.self)
    guard let format = DateFormat(pattern: pattern) else {
      throw DecodingError.dataCorruptedError(
        in: container, debugDescription: "unsupported date pattern \"\(pattern)\"")
    }
    self = format
  }

  /// Encodes the format as its pattern string.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(pattern)
  }

  // MARK: Properties

  /// The most bytes `format(_:into:)` writes.
  public var maxLength: Int {
    var length = 10  // yyyy-mm-dd
    if time != .none { length += 6 }  // Thh:mm
    if time == .seconds { length += 3 }  // :ss
    if fractionDigits > 0 { length += 1 + fractionDigits }  // .fff
    switch zone {
    case .none: break
    case .utc: length += 1
    case .offset(_, let colon): length += colon ? 6 : 5
    }
    return length
  }

  /// The unit the format resolves, in seconds: 86400 for a date, 60 for minutes, 1 for
  /// seconds, 0.001 for three fraction digits. Generated values are rounded to it.
  public var resolution: Double {
    switch time {
    case .none: return 86400
    case .minutes: return 60
    case .seconds: return Self.fractionUnits[fractionDigits]
    }
  }

  /// 10^-n for n = 0...9.
  static let fractionUnits: [Double] = [1, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9]

  /// 10^n for n = 0...9.
  static let fractionScales: [Int] = [
    1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
  ]

  // MARK: Parsing

  /// Parses a field to seconds since 1970-01-01T00:00:00 UTC, fractional seconds kept.
  ///
  /// Spaces around the field are ignored. An offset is subtracted to give UTC.
  /// - Returns: nil if the field does not match this layout or names no real date or time
  ///   (February 30, month 13, hour 24, minute 60, year 0).
  public func parse(_ bytes: UnsafeRawBufferPointer) -> Double? {
    var i = 0
    var end = bytes.count
    while i < end && bytes[i] == UInt8(ascii: " ") { i += 1 }
    while end > i && bytes[end - 1] == UInt8(ascii: " ") { end -= 1 }

    let monthDigits = monthPadded ? 2 : 1
    let dayDigits = dayPadded ? 2 : 1
    let year: Int
    let month: Int
    let day: Int
    switch order {
    case .yearMonthDay:
      guard let y = Self.number(bytes, &i, end, min: 4, max: 4),
        Self.take(dateSeparator, bytes, &i, end),
        let m = Self.number(bytes, &i, end, min: monthDigits, max: 2),
        Self.take(dateSeparator, bytes, &i, end),
        let d = Self.number(bytes, &i, end, min: dayDigits, max: 2)
      else { return nil }
      (year, month, day) = (y, m, d)
    case .monthDayYear:
      guard let m = Self.number(bytes, &i, end, min: monthDigits, max: 2),
        Self.take(dateSeparator, bytes, &i, end),
        let d = Self.number(bytes, &i, end, min: dayDigits, max: 2),
        Self.take(dateSeparator, bytes, &i, end),
        let y = Self.number(bytes, &i, end, min: 4, max: 4)
      else { return nil }
      (year, month, day) = (y, m, d)
    case .dayMonthYear:
      guard let d = Self.number(bytes, &i, end, min: dayDigits, max: 2),
        Self.take(dateSeparator, bytes, &i, end),
        let m = Self.number(bytes, &i, end, min: monthDigits, max: 2),
        Self.take(dateSeparator, bytes, &i, end),
        let y = Self.number(bytes, &i, end, min: 4, max: 4)
      else { return nil }
      (year, month, day) = (y, m, d)
    }
    guard Self.isValidDate(year: year, month: month, day: day) else { return nil }
    var seconds = Self.days(year: year, month: month, day: day) * 86400
    var fraction = 0.0

    if time != .none {
      guard Self.take(timeSeparator, bytes, &i, end),
        let hour = Self.number(bytes, &i, end, min: hourPadded ? 2 : 1, max: 2), hour < 24,
        Self.take(UInt8(ascii: ":"), bytes, &i, end),
        let minute = Self.number(bytes, &i, end, min: 2, max: 2), minute < 60
      else { return nil }
      seconds += hour * 3600 + minute * 60
      if time == .seconds {
        guard Self.take(UInt8(ascii: ":"), bytes, &i, end),
          let second = Self.number(bytes, &i, end, min: 2, max: 2), second < 60
        else { return nil }
        seconds += second
        if fractionDigits > 0 && Self.take(UInt8(ascii: "."), bytes, &i, end) {
          let first = i
          guard let units = Self.number(bytes, &i, end, min: 1, max: 9) else { return nil }
          fraction = Double(units) / Double(Self.fractionScales[i - first])
        }
      }
      switch zone {
      case .none: break
      case .utc:
        guard Self.take(UInt8(ascii: "Z"), bytes, &i, end) else { return nil }
      case .offset(_, let colon):
        guard i < end, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")
        else { return nil }
        let east = bytes[i] == UInt8(ascii: "+")
        i += 1
        guard let hours = Self.number(bytes, &i, end, min: 2, max: 2), hours < 24,
          !colon || Self.take(UInt8(ascii: ":"), bytes, &i, end),
          let minutes = Self.number(bytes, &i, end, min: 2, max: 2), minutes < 60
        else { return nil }
        let offset = hours * 3600 + minutes * 60
        seconds -= east ? offset : -offset  // local = UTC + offset
      }
    }
    guard i == end else { return nil }
    return Double(seconds) + fraction
  }

  /// Reads `min`...`max` ASCII digits at `i` and advances past them; nil if fewer than `min`.
  @inline(__always)
  static func number(
    _ bytes: UnsafeRawBufferPointer, _ i: inout Int, _ end: Int, min: Int, max: Int
  ) -> Int? {
    var value = 0
    var count = 0
    while count < max && i < end {
      let digit = bytes[i] &- UInt8(ascii: "0")
      guard digit < 10 else { break }
      value = value * 10 + Int(digit)
      count += 1
      i += 1
    }
    return count >= min ? value : nil
  }

  /// Advances past `byte` if it is at `i`.
  @inline(__always)
  static func take(_ byte: UInt8, _ bytes: UnsafeRawBufferPointer, _ i: inout Int, _ end: Int)
    -> Bool
  {
    guard i < end && bytes[i] == byte else { return false }
    i += 1
    return true
  }

  // MARK: Formatting

  /// Writes `seconds` (since the epoch, UTC) in this layout, in the layout's offset if it has
  /// one.
  ///
  /// Rounds half up to the layout's resolution (the nearest day for a date, minute, second, or
  /// fraction digit). Values outside years 0001-9999 (±infinity included) are clamped to the
  /// first or last instant the layout can write; NaN writes nothing (an empty field).
  /// - Returns: The number of bytes written at the start of `buffer`.
  /// - Precondition: `buffer.count >= maxLength`.
  public func format(_ seconds: Double, into buffer: UnsafeMutableRawBufferPointer) -> Int {
    precondition(buffer.count >= maxLength, "buffer smaller than maxLength")
    guard !seconds.isNaN else { return 0 }
    var offset = 0
    if case .offset(let minutes, _) = zone { offset = minutes * 60 }
    // Clamped in local time, which also keeps every conversion to Int in range.
    let local = min(
      max(seconds, Self.firstSecond - Double(offset)), Self.lastSecond - Double(offset))
    let whole = local.rounded(.down)
    let below = local - whole  // exact: the fractional bits of `local`
    var total = Int(whole) + offset
    var units = 0
    if fractionDigits > 0 {
      let scale = Self.fractionScales[fractionDigits]
      units = Int((below * Double(scale)).rounded(.toNearestOrAwayFromZero))
      if units >= scale {
        units -= scale
        total += 1
      }
    } else {
      // Round to the unit: up when the part past the last whole unit is at least half of it.
      let unit = time == .none ? 86400 : (time == .minutes ? 60 : 1)
      let past = Self.floorMod(total, unit)
      total -= past
      if Double(past) + below >= Double(unit) / 2 { total += unit }
    }
    if total > Int(Self.lastSecond) {  // rounded past 9999-12-31 23:59:59: stay on its last unit
      total = Int(Self.lastSecond)
      units = 0
      if fractionDigits == 0 {
        let unit = time == .none ? 86400 : (time == .minutes ? 60 : 1)
        total -= Self.floorMod(total, unit)
      }
    }

    let day = Self.floorDivide(total, 86400)
    let secondOfDay = total - day * 86400
    let (year, month, dayOfMonth) = Self.civil(days: day)
    var n = 0
    switch order {
    case .yearMonthDay:
      Self.write(year, digits: 4, into: buffer, at: &n)
      buffer[n] = dateSeparator
      n += 1
      Self.writeTwo(month, padded: monthPadded, into: buffer, at: &n)
      buffer[n] = dateSeparator
      n += 1
      Self.writeTwo(dayOfMonth, padded: dayPadded, into: buffer, at: &n)
    case .monthDayYear:
      Self.writeTwo(month, padded: monthPadded, into: buffer, at: &n)
      buffer[n] = dateSeparator
      n += 1
      Self.writeTwo(dayOfMonth, padded: dayPadded, into: buffer, at: &n)
      buffer[n] = dateSeparator
      n += 1
      Self.write(year, digits: 4, into: buffer, at: &n)
    case .dayMonthYear:
      Self.writeTwo(dayOfMonth, padded: dayPadded, into: buffer, at: &n)
      buffer[n] = dateSeparator
      n += 1
      Self.writeTwo(month, padded: monthPadded, into: buffer, at: &n)
      buffer[n] = dateSeparator
      n += 1
      Self.write(year, digits: 4, into: buffer, at: &n)
    }
    guard time != .none else { return n }

    buffer[n] = timeSeparator
    n += 1
    Self.writeTwo(secondOfDay / 3600, padded: hourPadded, into: buffer, at: &n)
    buffer[n] = UInt8(ascii: ":")
    n += 1
    Self.writeTwo(secondOfDay / 60 % 60, padded: true, into: buffer, at: &n)
    if time == .seconds {
      buffer[n] = UInt8(ascii: ":")
      n += 1
      Self.writeTwo(secondOfDay % 60, padded: true, into: buffer, at: &n)
      if fractionDigits > 0 {
        buffer[n] = UInt8(ascii: ".")
        n += 1
        Self.write(units, digits: fractionDigits, into: buffer, at: &n)
      }
    }
    switch zone {
    case .none: break
    case .utc:
      buffer[n] = UInt8(ascii: "Z")
      n += 1
    case .offset(let minutes, let colon):
      buffer[n] = minutes < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")
      n += 1
      Self.writeTwo(Int(minutes.magnitude / 60), padded: true, into: buffer, at: &n)
      if colon {
        buffer[n] = UInt8(ascii: ":")
        n += 1
      }
      Self.writeTwo(Int(minutes.magnitude % 60), padded: true, into: buffer, at: &n)
    }
    return n
  }

  /// Writes `value` (0...99) with two digits, or one when `padded` is false and it is below 10.
  @inline(__always)
  static func writeTwo(
    _ value: Int, padded: Bool, into buffer: UnsafeMutableRawBufferPointer, at n: inout Int
  ) {
    if value >= 10 || padded {
      buffer[n] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value / 10)
      n += 1
    }
    buffer[n] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value % 10)
    n += 1
  }

  /// Writes `value` (0..<10^digits) with exactly `digits` digits, zero-padded on the left.
  @inline(__always)
  static func write(
    _ value: Int, digits: Int, into buffer: UnsafeMutableRawBufferPointer, at n: inout Int
  ) {
    var rest = value
    var k = n + digits
    while k > n {
      k -= 1
      buffer[k] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
      rest /= 10
    }
    n += digits
  }

  // MARK: Calendar

  /// 0001-01-01T00:00:00, the first instant a format writes: days(year: 1, month: 1, day: 1)
  /// · 86400, written out so that it folds to a constant.
  static let firstSecond: Double = -62_135_596_800
  /// 9999-12-31T23:59:59, the last whole second a format writes: days(year: 9999, month: 12,
  /// day: 31) · 86400 + 86399.
  static let lastSecond: Double = 253_402_300_799

  /// Whether `year`-`month`-`day` names a day of the proleptic Gregorian calendar in 0001-9999.
  static func isValidDate(year: Int, month: Int, day: Int) -> Bool {
    guard 1...9999 ~= year, 1...12 ~= month, day >= 1 else { return false }
    return day <= daysInMonth(year: year, month: month)
  }

  /// 28...31: the length of `month` in `year`.
  static func daysInMonth(year: Int, month: Int) -> Int {
    switch month {
    case 2: return isLeapYear(year) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  /// Gregorian rule: every fourth year, except centuries not divisible by 400.
  static func isLeapYear(_ year: Int) -> Bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
  }

  /// Days from 1970-01-01 to the given proleptic Gregorian date (negative before it).
  ///
  /// Counts from 0000-03-01 in 400-year eras of 146097 days (the Gregorian cycle repeats
  /// exactly). Years start in March so that a leap day is the last day of its year: a year of
  /// the era `yoe` (0...399) begins 365·yoe + yoe/4 - yoe/100 days into the era, and the March-
  /// based month `mp` (0 = March ... 11 = February) begins (153·mp + 2) / 5 days into the year,
  /// because 31/30-day months repeat in blocks of five (153 days) from March to January.
  /// 719468 is the count from 0000-03-01 to 1970-01-01.
  static func days(year: Int, month: Int, day: Int) -> Int {
    let marchYear = month <= 2 ? year - 1 : year
    let era = floorDivide(marchYear, 400)
    let yearOfEra = marchYear - era * 400
    let marchMonth = (month + 9) % 12
    let dayOfYear = (153 * marchMonth + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146097 + dayOfEra - 719468
  }

  /// The proleptic Gregorian date `days` after 1970-01-01: the inverse of `days(year:month:day:)`.
  ///
  /// The year of the era undoes the leap-day count: of the day of the era, one day in 1460
  /// (four common years) is a leap day, except one in 36524 (a century) and the era's last day
  /// (146096), so subtracting those leaves a count of 365-day years. The March-based month
  /// inverts (153·mp + 2) / 5 as (5·doy + 2) / 153.
  static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
    let shifted = days + 719468
    let era = floorDivide(shifted, 146097)
    let dayOfEra = shifted - era * 146097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let marchMonth = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * marchMonth + 2) / 5 + 1
    let month = marchMonth < 10 ? marchMonth + 3 : marchMonth - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }

  /// ⌊a / b⌋ for b > 0 (Swift's `/` truncates toward zero).
  @inline(__always)
  static func floorDivide(_ a: Int, _ b: Int) -> Int {
    let quotient = a / b
    return a % b < 0 ? quotient - 1 : quotient
  }

  /// a - b·⌊a / b⌋, in 0..<b for b > 0.
  @inline(__always)
  static func floorMod(_ a: Int, _ b: Int) -> Int {
    let remainder = a % b
    return remainder < 0 ? remainder + b : remainder
  }

  // MARK: Detection

  /// Picks the one supported layout under which every non-empty sample parses.
  ///
  /// The layout is read off the samples' shape (field order and separators, time precision,
  /// zone), then every sample must parse under it. Rules, where the samples alone cannot say:
  /// - Day or month first (slash, dash or dot dates with the year last): a sample whose first
  ///   field is above 12 makes it day first, one whose second field is above 12 month first;
  ///   both kinds of sample: nil. With no such sample, month first (US).
  /// - Padding: month, day and hour are each unpadded if any sample writes that field with one
  ///   digit, else padded. A column where no value is below 10 (all months 10-12) cannot show
  ///   which; it is taken as padded.
  /// - Fraction digits: the most any sample has (samples with fewer or none also parse).
  /// - Offsets: all samples must have the same shape; the offset written back is the most
  ///   common one (the first seen on a tie).
  ///
  /// Empty (or all-space) samples are ignored. Pure numbers ("20240307", "2024") are not dates.
  /// - Returns: nil if no non-empty sample, a sample that is not a supported date, samples of
  ///   different layouts, or a sample that names no real date.
  public static func detect<S: Sequence>(_ samples: S) -> DateFormat? where S.Element == String {
    var texts: [[UInt8]] = []
    var consensus: SampleShape?
    var dayFirstSeen = false  // a first field above 12
    var monthFirstSeen = false  // a second field above 12
    var shortFirst = false  // a one-digit first field (the month if year first)
    var shortSecond = false
    var shortHour = false
    var fractionDigits = 0
    var offsets: [(minutes: Int, count: Int)] = []

    for sample in samples {
      let text = Array(sample.utf8)
      if text.allSatisfy({ $0 == UInt8(ascii: " ") }) { continue }  // blank: ignored
      guard let shape = text.withUnsafeBytes({ shape(of: $0) }) else { return nil }
      if let consensus {
        guard consensus.isSameLayout(as: shape) else { return nil }
      } else {
        consensus = shape
      }
      texts.append(text)
      if !shape.yearFirst {
        if shape.first > 12 { dayFirstSeen = true }
        if shape.second > 12 { monthFirstSeen = true }
      }
      if shape.firstDigits == 1 { shortFirst = true }
      if shape.secondDigits == 1 { shortSecond = true }
      if shape.hourDigits == 1 { shortHour = true }
      fractionDigits = max(fractionDigits, shape.fractionDigits)
      if case .offset(let minutes, _) = shape.zone {
        if let k = offsets.firstIndex(where: { $0.minutes == minutes }) {
          offsets[k].count += 1
        } else {
          offsets.append((minutes, 1))
        }
      }
    }
    guard let consensus else { return nil }

    let order: FieldOrder
    if consensus.yearFirst {
      order = .yearMonthDay
    } else if dayFirstSeen && monthFirstSeen {
      return nil
    } else {
      order = dayFirstSeen ? .dayMonthYear : .monthDayYear
    }
    let (shortMonth, shortDay) =
      order == .dayMonthYear ? (shortSecond, shortFirst) : (shortFirst, shortSecond)
    var zone = consensus.zone
    if case .offset(_, let colon) = zone {
      var best = offsets[0]
      for candidate in offsets.dropFirst() where candidate.count > best.count { best = candidate }
      zone = .offset(minutes: best.minutes, colon: colon)
    }
    let format = DateFormat(
      order: order, dateSeparator: consensus.dateSeparator, monthPadded: !shortMonth,
      dayPadded: !shortDay, time: consensus.time, timeSeparator: consensus.timeSeparator,
      hourPadded: !shortHour, fractionDigits: fractionDigits, zone: zone)
    for text in texts {
      guard text.withUnsafeBytes({ format.parse($0) }) != nil else { return nil }
    }
    return format
  }

  /// The layout features of one sample, read without knowing the layout.
  struct SampleShape {
    var yearFirst: Bool
    var dateSeparator: UInt8
    /// Year first: the month. Year last: the first field (month or day).
    var first: Int
    var firstDigits: Int
    /// Year first: the day. Year last: the middle field (day or month).
    var second: Int
    var secondDigits: Int
    var time: TimePrecision = .none
    var timeSeparator = UInt8(ascii: "T")
    var hourDigits = 2
    var fractionDigits = 0
    var zone = Zone.none

    /// Whether two samples can share one format (fields values, padding, fraction length and
    /// offset value may differ).
    func isSameLayout(as other: SampleShape) -> Bool {
      guard
        yearFirst == other.yearFirst && dateSeparator == other.dateSeparator
          && time == other.time && timeSeparator == other.timeSeparator
      else { return false }
      switch (zone, other.zone) {
      case (.none, .none), (.utc, .utc): return true
      case (.offset(_, let colon), .offset(_, let otherColon)): return colon == otherColon
      default: return false
      }
    }
  }

  /// Reads the shape of a sample: digits, separators and zone, with no range checks (those are
  /// left to `parse`); nil if it is not shaped like any supported layout.
  static func shape(of bytes: UnsafeRawBufferPointer) -> SampleShape? {
    var i = 0
    var end = bytes.count
    while i < end && bytes[i] == UInt8(ascii: " ") { i += 1 }
    while end > i && bytes[end - 1] == UInt8(ascii: " ") { end -= 1 }

    var start = i
    guard let a = number(bytes, &i, end, min: 1, max: 4) else { return nil }
    let aDigits = i - start
    guard i < end else { return nil }
    let separator = bytes[i]
    guard
      separator == UInt8(ascii: "-") || separator == UInt8(ascii: "/")
        || separator == UInt8(ascii: ".")
    else { return nil }
    i += 1
    start = i
    guard let b = number(bytes, &i, end, min: 1, max: 2) else { return nil }
    let bDigits = i - start
    guard take(separator, bytes, &i, end) else { return nil }
    start = i
    guard let c = number(bytes, &i, end, min: 1, max: 4) else { return nil }
    let cDigits = i - start

    var shape: SampleShape
    if aDigits == 4 && cDigits <= 2 {
      shape = SampleShape(
        yearFirst: true, dateSeparator: separator, first: b, firstDigits: bDigits, second: c,
        secondDigits: cDigits)
    } else if aDigits <= 2 && cDigits == 4 {
      shape = SampleShape(
        yearFirst: false, dateSeparator: separator, first: a, firstDigits: aDigits, second: b,
        secondDigits: bDigits)
    } else {
      return nil
    }
    guard i < end else { return shape }

    guard bytes[i] == UInt8(ascii: "T") || bytes[i] == UInt8(ascii: " ") else { return nil }
    shape.timeSeparator = bytes[i]
    i += 1
    start = i
    guard number(bytes, &i, end, min: 1, max: 2) != nil else { return nil }
    shape.hourDigits = i - start
    guard take(UInt8(ascii: ":"), bytes, &i, end), number(bytes, &i, end, min: 2, max: 2) != nil
    else { return nil }
    shape.time = .minutes
    if take(UInt8(ascii: ":"), bytes, &i, end) {
      guard number(bytes, &i, end, min: 2, max: 2) != nil else { return nil }
      shape.time = .seconds
      if take(UInt8(ascii: "."), bytes, &i, end) {
        start = i
        guard number(bytes, &i, end, min: 1, max: 9) != nil else { return nil }
        shape.fractionDigits = i - start
      }
    }
    if take(UInt8(ascii: "Z"), bytes, &i, end) {
      shape.zone = .utc
    } else if i < end && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) {
      let east = bytes[i] == UInt8(ascii: "+")
      i += 1
      guard let hours = number(bytes, &i, end, min: 2, max: 2) else { return nil }
      let colon = take(UInt8(ascii: ":"), bytes, &i, end)
      guard let minutes = number(bytes, &i, end, min: 2, max: 2) else { return nil }
      let offset = hours * 60 + minutes
      shape.zone = .offset(minutes: east ? offset : -offset, colon: colon)
    }
    guard i == end else { return nil }
    return shape
  }
}

/// A cursor over a pattern's bytes for `DateFormat.init?(pattern:)`.
private struct PatternReader {
  /// A `%X` or `%-X` field.
  struct Field {
    var letter: UInt8
    var padded: Bool
  }

  let bytes: [UInt8]
  var index = 0

  var atEnd: Bool { index == bytes.count }

  /// Advances past `byte` if it is next.
  mutating func take(_ byte: UInt8) -> Bool {
    guard index < bytes.count && bytes[index] == byte else { return false }
    index += 1
    return true
  }

  /// Takes the next byte if it is one of `choices`.
  mutating func byte(in choices: StaticString) -> UInt8? {
    guard index < bytes.count else { return nil }
    let byte = bytes[index]
    for k in 0..<choices.utf8CodeUnitCount where choices.utf8Start[k] == byte {
      index += 1
      return byte
    }
    return nil
  }

  /// Takes `%X` or `%-X` for X in Y, m, d, H, M, S.
  mutating func field() -> Field? {
    let start = index
    guard take(UInt8(ascii: "%")) else { return nil }
    let padded = !take(UInt8(ascii: "-"))
    guard let letter = byte(in: "YmdHMS") else {
      index = start
      return nil
    }
    return Field(letter: letter, padded: padded)
  }

  /// Takes `%Nf` for N in 1...9 and returns N.
  mutating func fraction() -> Int? {
    guard take(UInt8(ascii: "%")), let digit = byte(in: "123456789"), take(UInt8(ascii: "f"))
    else { return nil }
    return Int(digit - UInt8(ascii: "0"))
  }

  /// Takes two ASCII digits and returns their value.
  mutating func twoDigits() -> Int? {
    guard index + 1 < bytes.count else { return nil }
    let high = bytes[index] &- UInt8(ascii: "0")
    let low = bytes[index + 1] &- UInt8(ascii: "0")
    guard high < 10 && low < 10 else { return nil }
    index += 2
    return Int(high) * 10 + Int(low)
  }
}
