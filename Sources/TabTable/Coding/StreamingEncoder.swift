// Apply mode: a saved encoder turns CSV records into token rows as a true stream, in bounded
// memory. Each column memoises the tokens of the cells it has seen (real tables repeat values
// a lot), so most cells cost one hash lookup.

import TabStream

/// Encodes CSV records with a fitted encoder, block by block.
public final class StreamingEncoder {
  public let encoder: TableEncoder
  public let policy: UnknownPolicy
  private var state: State
  private let path: String
  /// Rows encoded so far (the stream row index, for the mixture's mode draws).
  public private(set) var rows = 0

  /// Everything the per-cell loop reads and writes. `encode(from:into:)` moves it into a local
  /// for the duration of a block, so the loop pays no dynamic exclusivity checks (a class's
  /// stored properties cost one per access: 12% of apply mode, measured).
  struct State {
    var tokens: TokenEncoder
    /// Per categorical column (empty for others): label bytes -> code.
    var labelLookups: [LabelLookup]
    var formats: [DateFormat?]
    var markers = ByteDictionary()
    /// Per numerical column: cell bytes -> index into memoValues/memoTokens.
    var memos: [ByteDictionary]
    var memoValues: [[Double]]
    var memoTokens: [[Float]]
    /// Lookups and hits per column; a memo that rarely hits is switched off (unique floats).
    var memoLookups: [Int]
    var memoHits: [Int]
    var memoEnabled: [Bool]
    /// Unknown labels met so far, per column (at most a few each), with their first line.
    var unknown: [[(String, Int)]]
    var frequentCodes: [Int32]
    var missingCodes: [Int32?]
  }

  static let memoLimit = 1 << 16

  public init(encoder: TableEncoder, seed: UInt64, policy: UnknownPolicy, path: String) {
    self.encoder = encoder
    self.policy = policy
    self.path = path
    let width = encoder.columns.count
    state = State(
      tokens: TokenEncoder(encoder: encoder, seed: seed),
      labelLookups: encoder.columns.map { LabelLookup($0.kind == .categorical ? $0.labels! : []) },
      formats: encoder.columns.map { $0.dateFormat.flatMap { DateFormat(pattern: $0) } },
      memos: Array(repeating: ByteDictionary(), count: width),
      memoValues: Array(repeating: [], count: width), memoTokens: Array(repeating: [], count: width),
      memoLookups: Array(repeating: 0, count: width), memoHits: Array(repeating: 0, count: width),
      memoEnabled: Array(repeating: true, count: width),
      unknown: Array(repeating: [], count: width),
      frequentCodes: encoder.columns.map { column in
        guard let counts = column.counts, let best = counts.indices.max(by: { counts[$0] < counts[$1] }) else { return 0 }
        return Int32(best)
      },
      missingCodes: encoder.columns.map { $0.missingCodes?.first.map { Int32($0) } })
    for marker in encoder.missingMarkers { state.markers.insert(marker) }
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
  public var failed: Bool { state.unknown.contains { !$0.isEmpty } }

  /// Reads records from `reader` into the empty `block` until it holds `limit` rows or the
  /// input ends.
  /// - Returns: false when the input has ended.
  /// - Throws: `CSVError`, `EncodeError.badValue`, `EncodeError.unexpectedMissing`.
  public func encode(from reader: CSVReader, into block: inout RowBlock, limit: Int) throws -> Bool {
    var local = state  // moved back below: the loop works on a local (see State)
    defer { state = local }
    var record = CSVRecord()
    precondition(block.rows == 0, "encode(from:) fills an empty block")
    block.resize(rows: limit)  // written in place, trimmed to the rows read on exit
    var r = 0
    defer { block.resize(rows: r) }
    while r < limit {
      guard try reader.read(into: &record) else { return false }
      try encodeRow(record, at: r, of: &block, state: &local)
      r += 1
      rows += 1
    }
    return true
  }

  /// Appends the row of one record to `block` (tests and small inputs).
  public func encode(_ record: CSVRecord, into block: inout RowBlock) throws {
    let r = block.rows
    block.resize(rows: r + 1)
    var local = state
    defer { state = local }
    do {
      try encodeRow(record, at: r, of: &block, state: &local)
    } catch {
      block.resize(rows: r)
      throw error
    }
    rows += 1
  }

  /// Encodes `record` into row `r` of `block` (already that large).
  @inline(__always)
  private func encodeRow(_ record: CSVRecord, at r: Int, of block: inout RowBlock, state: inout State) throws {
    let width = encoder.columns.count
    guard record.count == width else {
      throw CSVError.raggedRow(path: path, line: record.line, expected: width, found: record.count)
    }
    let floatWidth = state.tokens.floatWidth
    let intWidth = state.tokens.intWidth
    try block.floats.withUnsafeMutableBufferPointer { floatBuffer in
      try block.ints.withUnsafeMutableBufferPointer { intBuffer in
        // A zero-width section has no storage; any aligned pointer serves, nothing is written.
        let floats = floatBuffer.baseAddress.map { $0 + r * floatWidth } ?? UnsafeMutablePointer(bitPattern: 16)!
        let ints = intBuffer.baseAddress.map { $0 + r * intWidth } ?? UnsafeMutablePointer(bitPattern: 16)!
        try encodeRecord(record, state: &state, floats: floats, ints: ints)
      }
    }
  }

  @inline(__always)
  private func encodeRecord(
    _ record: CSVRecord, state: inout State, floats: UnsafeMutablePointer<Float>, ints: UnsafeMutablePointer<Int32>
  ) throws {
    let plans = state.tokens.plans.plans
    for c in 0..<plans.count {
      let cell = record.unsafeField(c)
      let plan = plans[c]
      switch plan.kind {
      case .categorical:
        if let code = state.labelLookups[c].code(of: cell) {
          ints[plan.code] = code
        } else {
          ints[plan.code] = try substitute(column: c, cell: cell, line: record.line, state: &state)
        }
      case .numerical, .datetime:
        try encodeNumeric(column: c, plan: plan, cell: cell, line: record.line, state: &state, floats: floats, ints: ints)
      case .constant, .identifier:
        break
      }
    }
  }

  @inline(__always)
  private func encodeNumeric(
    column c: Int, plan: ColumnPlan, cell: UnsafeRawBufferPointer, line: Int, state: inout State,
    floats: UnsafeMutablePointer<Float>, ints: UnsafeMutablePointer<Int32>
  ) throws {
    var value: Double
    var token: Float?
    if state.memoEnabled[c], let index = state.memos[c].code(of: cell) {
      state.memoHits[c] += 1
      value = state.memoValues[c][Int(index)]
      token = plan.gmm ? nil : state.memoTokens[c][Int(index)]
    } else {
      if state.markers.code(of: cell) != nil {
        value = .nan
      } else if plan.kind == .datetime, let format = state.formats[c] {
        guard let seconds = format.parse(cell) else {
          throw badValue(c, cell, line, expected: "a date like \(format.pattern)")
        }
        value = seconds
      } else {
        guard let number = NumberText.parse(cell), number.value.isFinite else {
          throw badValue(c, cell, line, expected: "a number")
        }
        value = number.value
      }
      if !plan.gmm && !value.isNaN { token = TokenEncoder.quantileToken(value, plan) }
      if state.memoEnabled[c] { remember(c, cell, value, token, &state) }
    }
    if value.isNaN && plan.missing < 0 {
      guard policy == .frequent else {
        throw EncodeError.unexpectedMissing(path: path, line: line, column: encoder.columns[c].name)
      }
      value = plan.quantiles.isEmpty ? (encoder.columns[c].mixture?.means.first ?? 0) : QuantileTransform.inverse(0, quantiles: plan.quantiles).x
      token = nil
    }
    state.tokens.writeNumeric(column: c, value: value, token: token, row: rows, floats: floats, ints: ints)
  }

  /// Memoises a cell's value and token; switches the memo off for a column whose cells rarely
  /// repeat (once full, a memo that hits under half the time costs more than it saves).
  private func remember(_ c: Int, _ cell: UnsafeRawBufferPointer, _ value: Double, _ token: Float?, _ state: inout State) {
    state.memoLookups[c] += 1
    if state.memos[c].count < Self.memoLimit {
      _ = state.memos[c].insert(cell)
      state.memoValues[c].append(value)
      state.memoTokens[c].append(token ?? 0)
    } else if state.memoHits[c] < state.memoLookups[c] {
      state.memoEnabled[c] = false
      state.memos[c] = ByteDictionary()
      state.memoValues[c] = []
      state.memoTokens[c] = []
    }
  }

  private func badValue(_ c: Int, _ cell: UnsafeRawBufferPointer, _ line: Int, expected: String) -> EncodeError {
    .badValue(
      path: path, line: line, column: encoder.columns[c].name, expected: expected,
      found: String(decoding: cell, as: UTF8.self))
  }

  /// The code for an unknown label under the policy; records it when the policy is `error`.
  private func substitute(column c: Int, cell: UnsafeRawBufferPointer, line: Int, state: inout State) throws -> Int32 {
    switch policy {
    case .frequent:
      return state.frequentCodes[c]
    case .missing:
      if let code = state.missingCodes[c] { return code }
      fallthrough
    case .error:
      let label = String(decoding: cell, as: UTF8.self)
      if state.unknown[c].count < 5 && !state.unknown[c].contains(where: { $0.0 == label }) {
        state.unknown[c].append((label, line))
      }
      return 0
    }
  }

  /// The error listing every unknown category met, or nil.
  public func unknownCategoriesError() -> EncodeError? {
    let parts = encoder.columns.indices.compactMap { c -> String? in
      guard !state.unknown[c].isEmpty else { return nil }
      let values = state.unknown[c].map { "\(quoted($0.0)) (line \($0.1))" }.joined(separator: ", ")
      return "'\(encoder.columns[c].name)': \(values)"
    }
    guard !parts.isEmpty else { return nil }
    let listing = parts.joined(separator: "; ")
    // Under --unknown missing only columns without a missing category can fail.
    return policy == .missing
      ? .unknownCategoriesWithoutMissing(path: path, listing: listing)
      : .unknownCategories(path: path, listing: listing)
  }
}
