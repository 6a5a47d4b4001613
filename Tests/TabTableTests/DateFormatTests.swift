// DateFormat: the calendar checked day by day over 0001-9999, parsing checked against
// Foundation's Gregorian calendar and ISO8601DateFormatter (1900-2100), and every layout
// written back exactly as read.

import Foundation
import TabTable
import Testing


/// A date and time of day as written, with the fraction as its digits.
private struct Moment {
  var year: Int
  var month: Int
  var day: Int
  var hour = 0
  var minute = 0
  var second = 0
  var fraction = ""  // the digits after the point, as many as the pattern writes
}

private func isLeap(_ year: Int) -> Bool {
  year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

private func monthLength(_ year: Int, _ month: Int) -> Int {
  [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
}

private func randomMoment(
  years: ClosedRange<Int>, months: ClosedRange<Int> = 1...12, fractionDigits: Int,
  using random: inout SplitMix64
) -> Moment {
  let year = Int.random(in: years, using: &random)
  let month = Int.random(in: months, using: &random)
  var moment = Moment(
    year: year, month: month, day: Int.random(in: 1...monthLength(year, month), using: &random))
  moment.hour = Int.random(in: 0...23, using: &random)
  moment.minute = Int.random(in: 0...59, using: &random)
  moment.second = Int.random(in: 0...59, using: &random)
  moment.fraction = String(
    (0..<fractionDigits).map { _ in "0123456789".randomElement(using: &random)! })
  return moment
}

/// Writes `moment` by substituting the pattern's fields: an implementation independent of
/// DateFormat.format.
private func render(_ pattern: String, _ moment: Moment) -> String {
  func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
  var text = pattern
  let fields: [(String, String)] = [
    ("%Y", String(format: "%04d", moment.year)), ("%-m", "\(moment.month)"),
    ("%m", two(moment.month)), ("%-d", "\(moment.day)"), ("%d", two(moment.day)),
    ("%-H", "\(moment.hour)"), ("%H", two(moment.hour)), ("%M", two(moment.minute)),
    ("%S", two(moment.second)),
  ]
  for (field, value) in fields { text = text.replacingOccurrences(of: field, with: value) }
  for n in 1...9 { text = text.replacingOccurrences(of: "%\(n)f", with: moment.fraction) }
  return text
}

/// The UTC offset in seconds a pattern ends with ("+02:00", "-0530"), 0 if none.
private func offsetSeconds(_ pattern: String) -> Int {
  guard let match = pattern.range(of: "[+-][0-9]{2}:?[0-9]{2}$", options: .regularExpression)
  else { return 0 }
  let digits = pattern[match].filter(\.isNumber)
  let hours = Int(digits.prefix(2))!
  let minutes = Int(digits.suffix(2))!
  return (pattern[match].first == "-" ? -1 : 1) * (hours * 3600 + minutes * 60)
}

/// Seconds since the epoch from Foundation's Gregorian calendar in UTC (sound for 1900-2100).
private func foundationSeconds(_ moment: Moment, offset: Int) -> Double {
  var calendar = Calendar(identifier: .gregorian)
  calendar.timeZone = TimeZone(identifier: "UTC")!
  let components = DateComponents(
    year: moment.year, month: moment.month, day: moment.day, hour: moment.hour,
    minute: moment.minute, second: moment.second)
  let whole = calendar.date(from: components)!.timeIntervalSince1970
  let fraction = moment.fraction.isEmpty ? 0 : Double("0." + moment.fraction)!
  return whole + fraction - Double(offset)
}

private func parse(_ format: DateFormat, _ text: String) -> Double? {
  var text = text
  return text.withUTF8 { format.parse(UnsafeRawBufferPointer($0)) }
}

private func write(_ format: DateFormat, _ seconds: Double) -> String {
  String(unsafeUninitializedCapacity: format.maxLength) { buffer in
    format.format(seconds, into: UnsafeMutableRawBufferPointer(buffer))
  }
}

private func format(_ pattern: String) -> DateFormat {
  guard let format = DateFormat(pattern: pattern) else {
    Issue.record("DateFormat(pattern: \"\(pattern)\") is nil")
    return DateFormat(pattern: "%Y-%m-%d")!
  }
  return format
}

private let layouts = [
  "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%m-%d-%Y",
  "%d-%m-%Y", "%-m/%-d/%Y", "%-d/%-m/%Y", "%-d.%-m.%Y", "%Y-%-m-%-d", "%Y-%m-%dT%H:%M",
  "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S.%1f",
  "%Y-%m-%dT%H:%M:%S.%2f", "%Y-%m-%dT%H:%M:%S.%3f", "%Y-%m-%d %H:%M:%S.%6f",
  "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%3fZ", "%Y-%m-%dT%H:%MZ",
  "%Y-%m-%dT%H:%M:%S+02:00", "%Y-%m-%dT%H:%M:%S.%6f-05:30", "%Y-%m-%d %H:%M:%S+0100",
  "%Y-%m-%dT%H:%M-08:00", "%m/%d/%Y %H:%M", "%-m/%-d/%Y %-H:%M", "%-m/%-d/%Y %-H:%M:%S",
  "%d/%m/%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%-d.%-m.%Y %-H:%M:%S", "%Y/%m/%d %H:%M:%S",
  "%m-%d-%Y %H:%M:%S", "%d-%m-%Y %H:%M",
]

/// Fraction digits a pattern writes ("%6f" → 6).
private func fractionDigits(_ pattern: String) -> Int {
  (1...9).first { pattern.contains("%\($0)f") } ?? 0
}

@Suite struct DateFormatCalendarTests {
  @Test func calendarFromYear1To9999() {
    // Walk the calendar month by month and compare with a running day count: 0001-01-01 is
    // 719162 days before 1970-01-01. Every day of 1800-2200 is checked; elsewhere the first,
    // middle and last days of each month (year ends, leap days).
    let iso = format("%Y-%m-%d")
    var monthStart = -719_162
    var text = Array("0000-00-00".utf8)
    var buffer = [UInt8](repeating: 0, count: iso.maxLength)
    var failures = 0
    func put(_ value: Int, at start: Int, digits: Int) {
      var rest = value
      for k in stride(from: start + digits - 1, through: start, by: -1) {
        text[k] = UInt8(ascii: "0") + UInt8(rest % 10)
        rest /= 10
      }
    }
    for year in 1...9999 {
      put(year, at: 0, digits: 4)
      for month in 1...12 {
        put(month, at: 5, digits: 2)
        let length = monthLength(year, month)
        let days = 1800...2200 ~= year ? Array(1...length) : [1, 15] + Array(28...length)
        for day in days {
          put(day, at: 8, digits: 2)
          let seconds = Double((monthStart + day - 1) * 86400)
          let parsed = text.withUnsafeBytes { iso.parse($0) }
          let count = buffer.withUnsafeMutableBytes { iso.format(seconds, into: $0) }
          if parsed != seconds || buffer[..<count] != text[...] {
            failures += 1
            Issue.record(
              "\(String(decoding: text, as: UTF8.self)): parse \(String(describing: parsed)), expected \(seconds); format \(String(decoding: buffer[..<count], as: UTF8.self))"
            )
            if failures > 10 { return }
          }
        }
        monthStart += length
      }
    }
    #expect(monthStart == 2_932_897)  // 10000-01-01, from Python's date.toordinal
  }

  @Test func agreesWithISO8601DateFormatter() {
    let reference = ISO8601DateFormatter()
    reference.timeZone = TimeZone(identifier: "UTC")!
    let referenceMilliseconds = ISO8601DateFormatter()
    referenceMilliseconds.timeZone = TimeZone(identifier: "UTC")!
    referenceMilliseconds.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    let referenceOffset = ISO8601DateFormatter()
    referenceOffset.timeZone = TimeZone(secondsFromGMT: 2 * 3600 + 30 * 60)!

    let seconds = format("%Y-%m-%dT%H:%M:%SZ")
    let milliseconds = format("%Y-%m-%dT%H:%M:%S.%3fZ")
    let offset = format("%Y-%m-%dT%H:%M:%S+02:30")
    let first = -2_208_988_800  // 1900-01-01
    let last = 4_102_444_800  // 2100-01-01
    var random = SplitMix64(state: 11)
    for _ in 0..<5_000 {
      let whole = Int.random(in: first..<last, using: &random)
      let date = Date(timeIntervalSince1970: Double(whole))
      let text = reference.string(from: date)
      #expect(parse(seconds, text) == Double(whole), "\(text)")
      #expect(write(seconds, Double(whole)) == text)

      let offsetText = referenceOffset.string(from: date)
      #expect(parse(offset, offsetText) == Double(whole), "\(offsetText)")
      #expect(write(offset, Double(whole)) == offsetText)

      let millisecond = Int.random(in: 0..<1000, using: &random)
      let exact = Double(whole) + Double(millisecond) / 1000
      let fractionText = referenceMilliseconds.string(from: Date(timeIntervalSince1970: exact))
      guard let parsed = parse(milliseconds, fractionText) else {
        Issue.record("\(fractionText) does not parse")
        continue
      }
      // Foundation may write the millisecond below when the binary value is just under it.
      #expect(abs(parsed - exact) < 0.0011, "\(fractionText): \(parsed) vs \(exact)")
      #expect(write(milliseconds, parsed) == fractionText)
    }
  }
}

@Suite struct DateFormatLayoutTests {
  @Test(arguments: layouts)
  func roundTripsRandomDates(pattern: String) {
    let format = format(pattern)
    #expect(format.pattern == pattern)
    let digits = fractionDigits(pattern)
    let offset = offsetSeconds(pattern)
    var random = SplitMix64(state: UInt64(pattern.utf8.count) &* 31 &+ UInt64(digits))
    var texts: [String] = []
    var failures = 0
    for _ in 0..<300 {
      var moment = randomMoment(years: 1900...2100, fractionDigits: digits, using: &random)
      if !pattern.contains("%S") { moment.second = 0 }
      let text = render(pattern, moment)
      texts.append(text)
      let expected =
        pattern.contains(":%M")
        ? foundationSeconds(moment, offset: offset)
        : foundationSeconds(
          Moment(year: moment.year, month: moment.month, day: moment.day), offset: 0)
      guard let parsed = parse(format, text) else {
        Issue.record("\(pattern): \"\(text)\" does not parse")
        failures += 1
        if failures > 5 { return }
        continue
      }
      #expect(
        abs(parsed - expected) < 1e-6,
        "\(pattern): \"\(text)\" parses to \(parsed), expected \(expected)")
      let written = write(format, parsed)
      #expect(written == text, "\(pattern): \"\(text)\" written back as \"\(written)\"")
      #expect(written.utf8.count <= format.maxLength)
    }
    let detected = DateFormat.detect(texts)
    #expect(detected == format, "\(pattern): detected \(detected?.pattern ?? "nil")")
  }

  @Test(arguments: ["%Y-%m-%d", "%d.%m.%Y", "%-m/%-d/%Y %-H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"])
  func roundTripsAllYears(pattern: String) {
    let format = format(pattern)
    var random = SplitMix64(state: 12)
    for _ in 0..<2_000 {
      let text = render(pattern, randomMoment(years: 1...9999, fractionDigits: 0, using: &random))
      let parsed = parse(format, text)
      #expect(parsed != nil && write(format, parsed!) == text, "\(pattern): \"\(text)\"")
    }
  }

  @Test(arguments: 1...9)
  func roundTripsFractionDigits(digits: Int) {
    // A Double's 53 bits hold the fraction to the digit while ulp(seconds) < 10^-digits: six
    // digits for 1900-2100 (2^32 s), seven for 1960-1979, eight for 1969-1970 and nine only
    // for the first months of 1970 (2^23 s). Negative seconds (1969) included.
    let (years, months): (ClosedRange<Int>, ClosedRange<Int>) =
      switch digits {
      case 1...6: (1900...2100, 1...12)
      case 7: (1960...1979, 1...12)
      case 8: (1969...1970, 1...12)
      default: (1970...1970, 1...3)
      }
    let pattern = "%Y-%m-%dT%H:%M:%S.%\(digits)f"
    let format = format(pattern)
    #expect(format.resolution == pow(10, Double(-digits)))
    var random = SplitMix64(state: UInt64(digits))
    for _ in 0..<1_000 {
      let moment = randomMoment(
        years: years, months: months, fractionDigits: digits, using: &random)
      let text = render(pattern, moment)
      let parsed = parse(format, text)
      #expect(parsed != nil && write(format, parsed!) == text, "\(pattern): \"\(text)\"")
    }
  }

  @Test func rejectsInvalidDates() {
    let cases: [(String, String)] = [
      ("%Y-%m-%d", "2023-02-29"), ("%Y-%m-%d", "1900-02-29"), ("%Y-%m-%d", "2024-02-30"),
      ("%Y-%m-%d", "2024-04-31"), ("%Y-%m-%d", "2024-13-01"), ("%Y-%m-%d", "2024-00-10"),
      ("%Y-%m-%d", "2024-01-00"), ("%Y-%m-%d", "0000-01-01"), ("%Y-%m-%d", "2024-3-07"),
      ("%Y-%m-%d", "2024/03/07"), ("%Y-%m-%d", "2024-03-07T09:05"), ("%Y-%m-%d", "20240307"),
      ("%Y-%m-%d", "24-03-07"), ("%Y-%m-%d", "2024-03-071"), ("%Y-%m-%d", ""),
      ("%Y-%m-%dT%H:%M:%S", "2024-03-07T24:00:00"), ("%Y-%m-%dT%H:%M:%S", "2024-03-07T23:60:00"),
      ("%Y-%m-%dT%H:%M:%S", "2024-03-07T23:59:60"), ("%Y-%m-%dT%H:%M:%S", "2024-03-07 23:59:59"),
      ("%Y-%m-%dT%H:%M:%S", "2024-03-07T23:59"), ("%Y-%m-%dT%H:%M:%S", "2024-03-07T9:05:00"),
      ("%Y-%m-%dT%H:%M:%S", "2024-03-07T09:05:00.5"), ("%Y-%m-%dT%H:%M:%S", "2024-03-07T09:05:00Z"),
      ("%Y-%m-%dT%H:%M:%S.%3f", "2024-03-07T09:05:00.1234567890"),
      ("%Y-%m-%dT%H:%M:%S.%3f", "2024-03-07T09:05:00."),
      ("%Y-%m-%dT%H:%M:%SZ", "2024-03-07T09:05:00"),
      ("%Y-%m-%dT%H:%M:%S+02:00", "2024-03-07T09:05:00Z"),
      ("%Y-%m-%dT%H:%M:%S+02:00", "2024-03-07T09:05:00+0200"),
      ("%Y-%m-%dT%H:%M:%S+02:00", "2024-03-07T09:05:00+24:00"),
      ("%m/%d/%Y", "02/30/2024"), ("%m/%d/%Y", "13/01/2024"), ("%d/%m/%Y", "01/13/2024"),
      ("%-m/%-d/%Y", "2/29/2023"), ("%-m/%-d/%Y", "123/1/2024"), ("%-m/%-d/%Y", "/1/2024"),
    ]
    for (pattern, text) in cases {
      #expect(parse(format(pattern), text) == nil, "\(pattern) accepts \"\(text)\"")
    }
  }

  @Test func acceptsWhatTheLayoutAllows() {
    let cases: [(String, String, Double)] = [
      ("%Y-%m-%d", " 1970-01-02 ", 86400), ("%Y-%m-%d", "2000-02-29", 951_782_400),
      ("%-m/%-d/%Y", "03/07/2024", 1_709_769_600), ("%-m/%-d/%Y", "3/7/2024", 1_709_769_600),
      ("%Y-%m-%dT%H:%M:%S.%3f", "1970-01-01T00:00:01", 1),
      ("%Y-%m-%dT%H:%M:%S.%3f", "1970-01-01T00:00:01.5", 1.5),
      ("%Y-%m-%dT%H:%M:%S.%3f", "1970-01-01T00:00:01.123456", 1.123456),
      ("%Y-%m-%dT%H:%M:%S+02:00", "1970-01-01T02:00:00+02:00", 0),
      ("%Y-%m-%dT%H:%M:%S+02:00", "1970-01-01T02:00:00+03:00", -3600),
      ("%Y-%m-%dT%H:%M:%S+02:00", "1970-01-01T02:00:00-01:00", 3 * 3600),
    ]
    for (pattern, text, expected) in cases {
      #expect(parse(format(pattern), text) == expected, "\(pattern): \"\(text)\"")
    }
  }

  @Test func formatRoundsToTheResolution() {
    let day = format("%Y-%m-%d")
    #expect(write(day, 86400 * 1.5) == "1970-01-03")
    #expect(write(day, 86400 * 1.49) == "1970-01-02")
    #expect(write(day, -1) == "1970-01-01")
    #expect(write(day, -43201) == "1969-12-31")
    let minutes = format("%Y-%m-%d %H:%M")
    #expect(write(minutes, 89.9) == "1970-01-01 00:01")
    #expect(write(minutes, 90) == "1970-01-01 00:02")
    let seconds = format("%Y-%m-%dT%H:%M:%S")
    #expect(write(seconds, 0.5) == "1970-01-01T00:00:01")
    #expect(write(seconds, -0.5) == "1970-01-01T00:00:00")
    #expect(write(seconds, -0.51) == "1969-12-31T23:59:59")
    let milliseconds = format("%Y-%m-%dT%H:%M:%S.%3f")
    #expect(write(milliseconds, 59.9996) == "1970-01-01T00:01:00.000")
    #expect(write(milliseconds, -0.25) == "1969-12-31T23:59:59.750")
    #expect(write(format("%Y-%m-%dT%H:%M:%S-05:30"), 0) == "1969-12-31T18:30:00-05:30")
    #expect(write(format("%Y-%m-%d %H:%M:%S+0100"), 0) == "1970-01-01 01:00:00+0100")
  }

  @Test func formatClampsAndSkipsNaN() {
    let seconds = format("%Y-%m-%dT%H:%M:%S")
    #expect(write(seconds, 1e300) == "9999-12-31T23:59:59")
    #expect(write(seconds, .infinity) == "9999-12-31T23:59:59")
    #expect(write(seconds, -.infinity) == "0001-01-01T00:00:00")
    #expect(write(seconds, .nan) == "")
    #expect(write(format("%Y-%m-%d"), 1e300) == "9999-12-31")
    #expect(write(format("%Y-%m-%dT%H:%M:%S.%3f"), 1e300) == "9999-12-31T23:59:59.000")
    #expect(write(format("%Y-%m-%dT%H:%M:%S+02:00"), 1e300) == "9999-12-31T23:59:59+02:00")
    #expect(write(format("%Y-%m-%dT%H:%M:%S+02:00"), -1e300) == "0001-01-01T00:00:00+02:00")
  }

  @Test func resolution() {
    #expect(format("%Y-%m-%d").resolution == 86400)
    #expect(format("%d.%m.%Y").resolution == 86400)
    #expect(format("%Y-%m-%d %H:%M").resolution == 60)
    #expect(format("%Y-%m-%dT%H:%M:%S").resolution == 1)
    #expect(format("%Y-%m-%dT%H:%M:%SZ").resolution == 1)
    #expect(format("%Y-%m-%dT%H:%M:%S.%3f").resolution == 0.001)
    #expect(format("%Y-%m-%dT%H:%M:%S.%6fZ").resolution == 0.000001)
  }
}

@Suite struct DateFormatPatternTests {
  @Test func rejectsUnsupportedPatterns() {
    let patterns = [
      "", "%Y", "%Y-%m", "%Q-%m-%d", "%Y-%m/%d", "%-Y-%m-%d", "%y-%m-%d", "%Y-%d-%m",
      "%m/%Y/%d", "%Y-%m-%d ", "%Y-%m-%dT%H", "%Y-%m-%dT%H:%-M", "%Y-%m-%dT%H:%M:%-S",
      "%Y-%m-%dT%H:%M:%S.%0f", "%Y-%m-%dT%H:%M:%S.%10f", "%Y-%m-%dT%H:%M.%3f",
      "%Y-%m-%dZ", "%Y-%m-%dT%H:%M:%S+2:00", "%Y-%m-%dT%H:%M:%S+25:00", "%Y-%m-%dT%H:%M:%SX",
      "%Y_%m_%d", "%Y-%m-%dX%H:%M",
    ]
    for pattern in patterns {
      #expect(DateFormat(pattern: pattern) == nil, "\"\(pattern)\" accepted")
    }
  }

  @Test func codableAsPattern() throws {
    let original = format("%-d.%-m.%Y %H:%M:%S.%3f+05:30")
    let data = try JSONEncoder().encode([original])
    #expect(String(decoding: data, as: UTF8.self) == #"["%-d.%-m.%Y %H:%M:%S.%3f+05:30"]"#)
    #expect(try JSONDecoder().decode([DateFormat].self, from: data) == [original])
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode([DateFormat].self, from: Data(#"["%Y-%q"]"#.utf8))
    }
  }
}

@Suite struct DateFormatDetectTests {
  private func detect(_ samples: [String]) -> String? {
    DateFormat.detect(samples)?.pattern
  }

  @Test func dayOrMonthFirst() {
    #expect(detect(["03/07/2024", "25/12/2023"]) == "%d/%m/%Y")
    #expect(detect(["03/07/2024", "12/25/2023"]) == "%m/%d/%Y")
    #expect(detect(["03/07/2024", "01/02/2023"]) == "%m/%d/%Y")  // ambiguous: US
    #expect(detect(["13/01/2024", "01/13/2024"]) == nil)
    #expect(detect(["31.12.2024", "01.02.2023"]) == "%d.%m.%Y")
    #expect(detect(["12-31-2024"]) == "%m-%d-%Y")
  }

  @Test func padding() {
    let samples = ["3/7/2024 9:05", "12/25/2023 10:30"]
    #expect(detect(samples) == "%-m/%-d/%Y %-H:%M")
    let format = DateFormat.detect(samples)!
    for text in samples { #expect(write(format, parse(format, text)!) == text) }
    #expect(detect(["10/25/2024 10:05", "12/31/2023 23:30"]) == "%m/%d/%Y %H:%M")
    #expect(detect(["2024-3-07", "2024-10-17"]) == "%Y-%-m-%d")
    #expect(detect(["03/7/2024", "3/07/2024"]) == "%-m/%-d/%Y")  // one digit anywhere: unpadded
  }

  @Test func timesFractionsAndZones() {
    #expect(detect(["2024-03-07T09:05"]) == "%Y-%m-%dT%H:%M")
    #expect(detect(["2024-03-07 09:05:00", "2024-03-08 10:00:59"]) == "%Y-%m-%d %H:%M:%S")
    #expect(
      detect(["2024-03-07T09:05:00.123Z", "2024-03-07T09:05:01.5Z", "2024-03-07T09:05:02Z"])
        == "%Y-%m-%dT%H:%M:%S.%3fZ")
    #expect(
      detect([
        "2024-03-07T09:05:00+02:00", "2024-03-07T09:05:00+01:00", "2024-06-07T09:05:00+02:00",
      ])
        == "%Y-%m-%dT%H:%M:%S+02:00")
    #expect(detect(["2024-03-07T09:05:00-0530"]) == "%Y-%m-%dT%H:%M:%S-0530")
    #expect(detect(["2024-03-07T09:05:00+02:00", "2024-03-07T09:05:00+0200"]) == nil)
    #expect(detect(["2024-03-07T09:05:00Z", "2024-03-07T09:05:00"]) == nil)
  }

  @Test func notDates() {
    #expect(detect([]) == nil)
    #expect(detect(["", "  "]) == nil)
    #expect(detect(["20240307", "2024"]) == nil)
    #expect(detect(["2024"]) == nil)
    #expect(detect(["1.5", "2.25"]) == nil)
    #expect(detect(["1.2.3"]) == nil)
    #expect(detect(["192.168.1.1"]) == nil)
    #expect(detect(["hello"]) == nil)
    #expect(detect(["2024-03-07", "03/07/2024"]) == nil)
    #expect(detect(["2024-03-07", "2024-03-07T09:05"]) == nil)
    #expect(detect(["2024-02-30"]) == nil)
    #expect(detect(["2024-03-07", "n/a"]) == nil)
    #expect(detect(["2024-03-07T25:00"]) == nil)
  }

  @Test func ignoresEmptySamples() {
    #expect(detect(["", "2024-03-07", " ", "2024-12-31"]) == "%Y-%m-%d")
  }
}
