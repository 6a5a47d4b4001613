// Apply mode: a saved encoder turns CSV records into token rows as a true stream, in bounded
// memory. Each column memoises the tokens of the cells it has seen (real tables repeat values
// a lot), so most cells cost one hash lookup.

import TabStream

/// Encodes CSV records with a fitted encoder, block by block.
public final class StreamingEncoder {
  public let encoder: TableEncoder
  public let policy: UnknownPolicy
  private var tokens: TokenEncoder
  private let path: String
  private var labelLookups: [LabelLookup?]
  private var formats: [DateFormat?]
  private var markers = ByteDictionary()
  /// Per numerical column: cell bytes -> index into memoValues/memoTokens.
  private var memos: [ByteDictionary]
  private var memoValues: [[Double]]
  private var memoTokens: [[Float]]
  private let memoLimit = 1 << 16
  /// Unknown labels met so far, per column (at most a few each), with their first line.
  private var unknown: [[(String, Int)]]
  private var frequentCodes: [Int32]
  private var missingCodes: [Int32?]
  /// Rows encoded so far (the stream row index, for the mixture's mode draws).
  public private(set) var rows = 0

  public init(encoder: TableEncoder, seed: UInt64, policy: UnknownPolicy, path: String) {
    self.encoder = encoder
    self.policy = policy
    self.path = path
    tokens = TokenEncoder(encoder: encoder, seed: seed)
    labelLookups = encoder.columns.map { $0.kind == .categorical ? LabelLookup($0.labels!) : nil }
    formats = encoder.columns.map { $0.dateFormat.flatMap { DateFormat(pattern: $0) } }
    for marker in encoder.missingMarkers { markers.insert(marker) }
    let width = encoder.columns.count
    memos = Array(repeating: ByteDictionary(), count: width)
    memoValues = Array(repeating: [], count: width)
    memoTokens = Array(repeating: [], count: width)
    unknown = Array(repeating: [], count: width)
    frequentCodes = encoder.columns.map { column in
      guard let counts = column.counts, let best = counts.indices.max(by: { counts[$0] < counts[$1] }) else { return 0 }
      return Int32(best)
    }
    missingCodes = encoder.columns.map { $0.missingCodes?.first.map { Int32($0) } }
  }

  /// Checks a CSV header against the encoder's columns.
  /// - Throws: `EncodeError.columnsDiffer`.
  public func checkHeader(_ names: [String]) throws {
    let expected = encoder.columns.map(\.name)
    guard names != expected else { return }
    if names.count != expected.count {
      throw EncodeError.columnsDiffer(
        path: path, detail: "\(names.count) columns, the encoder has \(expected.count)")
    }
    let i = names.indices.first { names[$0] != expected[$0] }!
    throw EncodeError.columnsDiffer(
      path: path, detail: "column \(i + 1) is '\(names[i])', the encoder expects '\(expected[i])'")
  }

  /// True once an unknown category was met; no more rows are encoded after that, but
  /// `encode` keeps collecting unknowns so the final error can list them.
  public var failed: Bool { unknown.contains { !$0.isEmpty } }

  /// Encodes `record` as row `block.rows` of `block` (appending one row).
  /// - Throws: `EncodeError.badValue`, `EncodeError.unexpectedMissing`, `CSVError.raggedRow`.
  public func encode(_ record: CSVRecord, into block: inout RowBlock) throws {
    let width = encoder.columns.count
    guard record.count == width else {
      throw CSVError.raggedRow(path: path, line: record.line, expected: width, found: record.count)
    }
    let r = block.rows
    block.resize(rows: r + 1)
    let floatWidth = tokens.floatWidth
    let intWidth = tokens.intWidth
    try block.floats.withUnsafeMutableBufferPointer { floatBuffer in
      try block.ints.withUnsafeMutableBufferPointer { intBuffer in
        let floats = floatBuffer.baseAddress.map { $0 + r * floatWidth } ?? UnsafeMutablePointer(bitPattern: 8)!
        let ints = intBuffer.baseAddress.map { $0 + r * intWidth } ?? UnsafeMutablePointer(bitPattern: 8)!
        for c in 0..<width {
          let cell = record.unsafeField(c)
          switch encoder.columns[c].kind {
          case .categorical:
            if let code = labelLookups[c]!.code(of: cell) {
              ints[tokens.positions[c].code] = code
            } else {
              ints[tokens.positions[c].code] = try substitute(column: c, cell: cell, line: record.line)
            }
          case .numerical, .datetime:
            try encodeNumeric(column: c, cell: cell, line: record.line, floats: floats, ints: ints)
          case .constant, .identifier:
            break
          }
        }
      }
    }
    rows += 1
  }

  private func encodeNumeric(
    column c: Int, cell: UnsafeRawBufferPointer, line: Int,
    floats: UnsafeMutablePointer<Float>, ints: UnsafeMutablePointer<Int32>
  ) throws {
    let column = encoder.columns[c]
    var value: Double
    var token: Float?
    if let index = memos[c].code(of: cell) {
      value = memoValues[c][Int(index)]
      token = column.transform == .quantile ? memoTokens[c][Int(index)] : nil
    } else {
      if markers.code(of: cell) != nil {
        value = .nan
      } else if let format = formats[c] {
        guard let seconds = format.parse(cell) else {
          throw badValue(column, cell, line, expected: "a date like \(format.pattern)")
        }
        value = seconds
      } else {
        guard let number = NumberText.parse(cell), number.value.isFinite else {
          throw badValue(column, cell, line, expected: "a number")
        }
        value = number.value
      }
      if column.transform == .quantile && !value.isNaN {
        token = TokenEncoder.quantileToken(value, column.quantiles!)
      }
      if memos[c].count < memoLimit {
        memos[c].insert(cell)
        memoValues[c].append(value)
        memoTokens[c].append(token ?? 0)
      }
    }
    if value.isNaN && !column.hasMissingField {
      guard policy == .frequent else { throw EncodeError.unexpectedMissing(path: path, line: line, column: column.name) }
      value = column.quantiles.map { $0.inverse(0) } ?? column.mixture?.means.first ?? 0
      token = nil
    }
    tokens.writeNumeric(column: c, value: value, token: token, row: rows, floats: floats, ints: ints)
  }

  private func badValue(_ column: ColumnEncoding, _ cell: UnsafeRawBufferPointer, _ line: Int, expected: String)
    -> EncodeError
  {
    .badValue(
      path: path, line: line, column: column.name, expected: expected,
      found: String(decoding: cell, as: UTF8.self))
  }

  /// The code for an unknown label under the policy; records it when the policy is `error`.
  private func substitute(column c: Int, cell: UnsafeRawBufferPointer, line: Int) throws -> Int32 {
    switch policy {
    case .frequent:
      return frequentCodes[c]
    case .missing:
      if let code = missingCodes[c] { return code }
      fallthrough
    case .error:
      let label = String(decoding: cell, as: UTF8.self)
      if unknown[c].count < 5 && !unknown[c].contains(where: { $0.0 == label }) {
        unknown[c].append((label, line))
      }
      return 0
    }
  }

  /// The error listing every unknown category met, or nil.
  public func unknownCategoriesError() -> EncodeError? {
    let parts = encoder.columns.indices.compactMap { c -> String? in
      guard !unknown[c].isEmpty else { return nil }
      let values = unknown[c].map { "\(quoted($0.0)) (line \($0.1))" }.joined(separator: ", ")
      return "'\(encoder.columns[c].name)': \(values)"
    }
    return parts.isEmpty ? nil : .unknownCategories(path: path, listing: parts.joined(separator: "; "))
  }
}
