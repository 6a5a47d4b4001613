// The user's say over type inference: a small JSON file naming the type of some columns.
//
//   { "columns": { "zip": "categorical", "age": "numerical", "No": "identifier",
//                  "when": { "type": "datetime", "format": "%d/%m/%Y" } } }
//
// Columns not named are inferred. `tab-encode --print-schema` writes the inferred schema in
// this form, to edit. Documented in man/tab-encode.1.

import TabStream

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Column types given by the user.
public struct TableSchema: Equatable, Sendable {
  public struct Column: Equatable, Sendable {
    public var kind: ColumnKind
    /// A `DateFormat` pattern for datetime columns; inferred when nil.
    public var format: String?
    public init(kind: ColumnKind, format: String? = nil) {
      self.kind = kind
      self.format = format
    }
  }

  /// Types by column name, in file order.
  public var columns: [(name: String, column: Column)]

  public static func == (a: TableSchema, b: TableSchema) -> Bool {
    a.columns.map(\.name) == b.columns.map(\.name) && a.columns.map(\.column) == b.columns.map(\.column)
  }

  public init(columns: [(name: String, column: Column)]) { self.columns = columns }

  /// The type given for `name`, if any.
  public subscript(name: String) -> Column? { columns.first { $0.name == name }?.column }

  /// Parses a schema file's bytes.
  /// - Throws: `EncodeError.badSchema` naming the problem.
  public init(json bytes: [UInt8], path: String) throws {
    let root: JSONValue
    do {
      root = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    } catch {
      throw EncodeError.badSchema(schema: path, detail: "not valid JSON")
    }
    guard case .object(let members)? = root["columns"] else {
      throw EncodeError.badSchema(schema: path, detail: "expected an object with a \"columns\" object")
    }
    // JSON objects are unordered; keep the order of the file's keys for messages.
    let order = Self.keyOrder(bytes)
    var columns: [(String, Column)] = []
    for name in members.keys.sorted(by: { (order[$0] ?? .max, $0) < (order[$1] ?? .max, $1) }) {
      let value = members[name]!
      var typeName: String?
      var format: String?
      switch value {
      case .string(let text): typeName = text
      case .object:
        typeName = value["type"]?.stringValue
        format = value["format"]?.stringValue
      default: break
      }
      guard let typeName else {
        throw EncodeError.badSchema(schema: path, detail: "column '\(name)': expected a type name or {\"type\": ...}")
      }
      let aliases: [String: ColumnKind] = ["id": .identifier, "numeric": .numerical, "date": .datetime, "category": .categorical]
      guard let kind = ColumnKind(rawValue: typeName) ?? aliases[typeName] else {
        let known = ColumnKind.allCases.map(\.rawValue).joined(separator: ", ")
        throw EncodeError.badSchema(schema: path, detail: "column '\(name)': unknown type '\(typeName)' (known: \(known))")
      }
      if format != nil && kind != .datetime {
        throw EncodeError.badSchema(
          schema: path,
          detail: "column '\(name)': \"format\" applies only to datetime columns, not to \(kind.rawValue) ones")
      }
      if let format, DateFormat(pattern: format) == nil {
        throw EncodeError.badSchema(schema: path, detail: "column '\(name)': unsupported date format '\(format)'")
      }
      columns.append((name, Column(kind: kind, format: format)))
    }
    self.columns = columns
  }

  /// The schema as JSON text, one column per line, in table order.
  public func jsonText() -> String {
    var lines: [String] = []
    for (name, column) in columns {
      let key = jsonString(name)
      if let format = column.format {
        lines.append("    \(key): {\"type\": \"\(column.kind.rawValue)\", \"format\": \(jsonString(format))}")
      } else {
        lines.append("    \(key): \"\(column.kind.rawValue)\"")
      }
    }
    return "{\n  \"columns\": {\n" + lines.joined(separator: ",\n") + "\n  }\n}\n"
  }

  /// Position of each top-level key of "columns" in the text (approximate, for ordering).
  private static func keyOrder(_ bytes: [UInt8]) -> [String: Int] {
    var order: [String: Int] = [:]
    let text = String(decoding: bytes, as: UTF8.self)
    var index = 0
    var current = ""
    var inString = false
    var escaped = false
    for character in text {
      if inString {
        if escaped {
          escaped = false
          current.append(character)
        } else if character == "\\" {
          escaped = true
        } else if character == "\"" {
          inString = false
          if order[current] == nil {
            order[current] = index
            index += 1
          }
        } else {
          current.append(character)
        }
      } else if character == "\"" {
        inString = true
        current = ""
      }
    }
    return order
  }
}

/// A JSON string literal.
func jsonString(_ text: String) -> String {
  var out = "\""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    default:
      if scalar.value < 0x20 {
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
  }
  return out + "\""
}
