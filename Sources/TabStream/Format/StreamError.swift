// Everything that can be wrong with a stream a tool was given, each with a one-line message
// that names the file and, where it helps, the block and what to do.

/// A malformed, truncated, corrupt or unsuitable stream.
public enum StreamError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Zero bytes where a stream was expected.
  case empty(path: String)
  /// The first bytes are not the stream magic; `hint` guesses what the file is.
  case notAStream(path: String, hint: String)
  /// Written by a newer tabpipe whose format this one cannot read.
  case newerVersion(path: String, major: Int, minor: Int)
  /// The input stopped before the end record.
  case truncated(path: String, rows: Int, blocks: Int)
  /// A record failed its checks (checksum, sizes, unknown record type).
  case corrupt(path: String, block: Int, detail: String)
  /// The header could not be parsed.
  case badHeader(path: String, detail: String)
  /// The stream is of a kind this stage does not take.
  case wrongKind(path: String, found: StreamKind, expected: [StreamKind], hint: String?)
  /// A concatenated part whose header differs from the first part's.
  case incompatibleSegment(path: String, segment: Int)
  /// The end record's counts disagree with what was read.
  case countMismatch(path: String, declared: UInt64, read: Int)

  public var description: String {
    switch self {
    case .empty(let path):
      return "\(path): empty input: expected a tabpipe stream"
    case .notAStream(let path, let hint):
      return "\(path): not a tabpipe stream; \(hint)"
    case .newerVersion(let path, let major, let minor):
      return
        "\(path): stream format \(major).\(minor) is newer than this tool reads "
        + "(\(StreamFormat.major).x); upgrade tabpipe"
    case .truncated(let path, let rows, let blocks):
      return
        "\(path): truncated stream: input ended after \(blocks) block(s) and \(rows) row(s) "
        + "without an end record; was the producer interrupted?"
    case .corrupt(let path, let block, let detail):
      return "\(path): corrupt stream at block \(block): \(detail)"
    case .badHeader(let path, let detail):
      return "\(path): unreadable stream header: \(detail)"
    case .wrongKind(let path, let found, let expected, let hint):
      let wanted = expected.map { "'\($0)'" }.joined(separator: " or ")
      return "\(path): stream of kind '\(printable(found.rawValue))', expected \(wanted)" + (hint.map { "; \($0)" } ?? "")
    case .incompatibleSegment(let path, let segment):
      return
        "\(path): concatenated part \(segment + 1) has a different header from part 1 "
        + "(other columns, encoder or kind); only shards of one job can be joined"
    case .countMismatch(let path, let declared, let read):
      return "\(path): corrupt stream: end record declares \(declared) rows, \(read) were read"
    }
  }
}

/// An error caused by the data a tool was given (malformed, corrupt, of the wrong kind or
/// shape), as opposed to I/O or a bug. Each module's error type conforms; TabCLI reports any
/// of them as one line with exit status 65 without knowing the module.
public protocol BadDataError: Error, CustomStringConvertible {}

extension StreamError: BadDataError {}

/// Foundation's description of a DecodingError is a Swift debug dump ("keyNotFound(CodingKeys(
/// stringValue: ...") that means nothing to a user; this names the field and what was wrong.
public func describeDecodingError(_ error: Error) -> String {
  func place(_ path: [CodingKey]) -> String {
    var text = ""
    for key in path {
      if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
    }
    return text.isEmpty ? "the top level" : "'\(printable(text))'"
  }
  switch error {
  case DecodingError.keyNotFound(let key, let context):
    let parent = context.codingPath.isEmpty ? "" : " in \(place(context.codingPath))"
    return "field '\(printable(key.stringValue))' is missing\(parent)"
  case DecodingError.valueNotFound(let type, let context):
    return "\(place(context.codingPath)) is null, expected \(typeName(type))"
  case DecodingError.typeMismatch(let type, let context):
    return "\(place(context.codingPath)) is not \(typeName(type))"
  case DecodingError.dataCorrupted(let context):
    if context.codingPath.isEmpty { return "not valid JSON" }
    return "\(place(context.codingPath)) has an invalid value"
  default:
    return printable("\(error)")
  }
}

/// "a number", "text", ... for the decoding messages.
private func typeName(_ type: Any.Type) -> String {
  switch type {
  case is String.Type: return "text"
  case is Bool.Type: return "true or false"
  case is Int.Type, is Int64.Type, is UInt64.Type, is Double.Type, is Float.Type, is UInt32.Type, is Int32.Type:
    return "a number"
  default:
    let name = "\(type)"
    if name.hasPrefix("Array") { return "a list" }
    if name.hasPrefix("Dictionary") { return "an object" }
    return "of the expected type"
  }
}

/// Text from a file, made safe to print on one line: control characters (NUL, LF, ESC...) are
/// shown as \u{...} escapes, and very long text is cut.
public func printable(_ text: String, limit: Int = 200) -> String {
  var out = ""
  for scalar in text.unicodeScalars {
    if out.unicodeScalars.count >= limit { return out + "..." }
    if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) {
      out += "\\u{\(String(scalar.value, radix: 16))}"
    } else {
      out.unicodeScalars.append(scalar)
    }
  }
  return out
}
