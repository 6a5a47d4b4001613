// Errors about the table's content and its schema (as opposed to CSV syntax, CSVError).

import TabStream

/// Content that cannot be encoded, or a schema that does not fit the table.
public enum EncodeError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A cell does not parse as the column's type.
  case badValue(path: String, line: Int, column: String, expected: String, found: String)
  /// Every cell of the column is missing: there is nothing to learn.
  case allMissing(path: String, column: String)
  /// Two header cells have the same name.
  case duplicateColumn(path: String, column: String)
  /// A schema file names a column the CSV does not have.
  case schemaColumnNotInTable(schema: String, column: String, table: String)
  /// A schema file could not be parsed, or gives an unknown type.
  case badSchema(schema: String, detail: String)
  /// Applying a saved encoder: the CSV's columns differ from the fitted ones.
  case columnsDiffer(path: String, detail: String)
  /// Applying a saved encoder: labels never seen when fitting.
  case unknownCategories(path: String, listing: String)
  /// Unknown categories under `--unknown missing` in columns that have no missing category.
  case unknownCategoriesWithoutMissing(path: String, listing: String)
  /// Applying a saved encoder: a missing cell in a column that had none when fitted.
  case unexpectedMissing(path: String, line: Int, column: String)
  /// A stream's code lies outside its column's categories: in `row` and `block` (both from 1)
  /// of the stream at `path`, when the decoder was told it.
  case codeOutOfRange(path: String?, row: Int, block: Int, column: String, code: Int, cardinality: Int)
  /// The stream's header carries no encoder, or one this version cannot read.
  case noEncoder(path: String, detail: String)
  /// The header's encoder parses but is inconsistent (hand-edited, or a buggy producer).
  case badEncoder(path: String, detail: String)

  public var description: String {
    switch self {
    case .badValue(let path, let line, let column, let expected, let found):
      return "\(path):\(line): column '\(column)': expected \(expected), found \(quoted(found))"
    case .allMissing(let path, let column):
      return
        "\(path): column '\(column)' is missing in every row; drop it, or give it a type in --schema"
    case .duplicateColumn(let path, let column):
      return "\(path):1: column name '\(column)' appears more than once"
    case .schemaColumnNotInTable(let schema, let column, let table):
      return "\(schema): column '\(column)' is not in \(table)'s header"
    case .badSchema(let schema, let detail):
      return "\(schema): \(detail)"
    case .columnsDiffer(let path, let detail):
      return "\(path):1: columns differ from the encoder's: \(detail)"
    case .unknownCategories(let path, let listing):
      return
        "\(path): categories not seen when the encoder was fitted: \(listing); "
        + "use --unknown missing or --unknown frequent to encode them anyway"
    case .unknownCategoriesWithoutMissing(let path, let listing):
      return
        "\(path): categories not seen when the encoder was fitted: \(listing); "
        + "these columns had no missing values to map them to; use --unknown frequent"
    case .unexpectedMissing(let path, let line, let column):
      return
        "\(path):\(line): column '\(column)': missing value, but the column had none when the "
        + "encoder was fitted; use --unknown frequent to encode it as the median"
    case .codeOutOfRange(let path, let row, let block, let column, let code, let cardinality):
      return
        (path.map { "\($0): " } ?? "")
        + "row \(row) (block \(block)): column '\(column)': code \(code) outside 0..<\(cardinality); the stream is corrupt"
    case .noEncoder(let path, let detail):
      return "\(path): \(detail)"
    case .badEncoder(let path, let detail):
      return "\(path): corrupt stream: the table encoder in its header is inconsistent: \(detail)"
    }
  }
}

/// A cell's text for a message: quoted, shortened, control characters escaped.
func quoted(_ text: String) -> String {
  var shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
  shown = shown.replacingAll("\n", with: "\\n").replacingAll("\r", with: "\\r").replacingAll("\"", with: "\\\"")
  return "\"" + shown + "\""
}

extension String {
  /// Replaces every occurrence of `target` (no Foundation needed).
  func replacingAll(_ target: Character, with replacement: String) -> String {
    var result = ""
    for character in self {
      if character == target { result += replacement } else { result.append(character) }
    }
    return result
  }
}

extension EncodeError: BadDataError {}
