// Errors about CSV input: malformed quoting, invalid text, records that are too large, and
// tables without the rows a caller needs. Each renders as one line that names the place.

import TabStream

/// A malformed or unusable CSV input.
///
/// Every case carries the input's path and, where it applies, the 1-based physical line, the
/// 1-based column (field) index and the column's name from the header (`nil` when unknown).
/// `description` renders one line in the house format, for example
/// `adult.csv:1043: column 'age' (3): unterminated quoted field`.
public enum CSVError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A quoted field opened at `line` is not closed before the end of the input.
  case unterminatedQuote(path: String, line: Int, column: Int, name: String?)
  /// A closing quote is followed by `found` instead of a delimiter, a line end or the end of
  /// the input (`"ab"x,`). `line` is the line of the offending byte.
  case textAfterClosingQuote(path: String, line: Int, column: Int, name: String?, found: UInt8)
  /// A field is not valid UTF-8. `line` is the line of the first invalid byte.
  case invalidUTF8(path: String, line: Int, column: Int, name: String?)
  /// A record starting at `line` has `found` fields where the header has `expected`.
  /// Thrown by callers that know the table's width.
  case raggedRow(path: String, line: Int, expected: Int, found: Int)
  /// The input has no records at all, not even a header. Thrown by callers that need one.
  case emptyInput(path: String)
  /// The input has a header but no data rows. Thrown by callers that need rows.
  case headerOnly(path: String)
  /// A record starting at `line` holds more than `limit` bytes before its end was found;
  /// the reader refuses to buffer it rather than take unbounded memory.
  case recordTooLarge(path: String, line: Int, limit: Int)

  /// One line: `<path>:<line>: column '<name>' (<index>): <what>`; the column part is
  /// `column <index>: ` when the name is unknown and is left out when no column applies.
  public var description: String {
    switch self {
    case .unterminatedQuote(let path, let line, let column, let name):
      return Self.located(path, line, column, name) + "unterminated quoted field"
    case .textAfterClosingQuote(let path, let line, let column, let name, let found):
      return Self.located(path, line, column, name)
        + "text after closing quote, found \(Self.render(found)); "
        + "a quoted field ends at a delimiter or a line end"
    case .invalidUTF8(let path, let line, let column, let name):
      return Self.located(path, line, column, name) + "invalid UTF-8"
    case .raggedRow(let path, let line, let expected, let found):
      return "\(path):\(line): expected \(expected) fields, found \(found)"
    case .emptyInput(let path):
      return "\(path): empty input; expected a header line"
    case .headerOnly(let path):
      return "\(path): header but no rows"
    case .recordTooLarge(let path, let line, let limit):
      return
        "\(path):\(line): record larger than \(Self.render(bytes: limit)); refusing to buffer it"
    }
  }

  /// `path:line: column 'name' (index): ` or `path:line: column index: `.
  private static func located(_ path: String, _ line: Int, _ column: Int, _ name: String?)
    -> String
  {
    if let name { return "\(path):\(line): column '\(name)' (\(column)): " }
    return "\(path):\(line): column \(column): "
  }

  /// A byte as `"x"` when it is printable ASCII, else as `byte 0x0D`.
  private static func render(_ byte: UInt8) -> String {
    if byte >= 0x21 && byte <= 0x7E {
      return "\"" + String(decoding: [byte], as: UTF8.self) + "\""
    }
    let hex = String(byte, radix: 16, uppercase: true)
    return "byte 0x" + (hex.count == 1 ? "0" + hex : hex)
  }

  /// A size as `64 MiB` when it is a whole number of MiB, else as `1000 bytes`.
  private static func render(bytes: Int) -> String {
    let mebibyte = 1 << 20
    if bytes >= mebibyte && bytes % mebibyte == 0 { return "\(bytes / mebibyte) MiB" }
    return "\(bytes) bytes"
  }
}

extension CSVError: BadDataError {}
