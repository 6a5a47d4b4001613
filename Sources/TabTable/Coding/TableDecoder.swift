// Token rows back to a table: invert every transform, snap or round to the column's values,
// clamp to its observed range, and write numbers, dates and labels exactly as the input wrote
// them. CSV, TSV or JSON Lines.

import TabStream

/// Output formats of tab-decode.
public enum TableFormat: String, Sendable, CaseIterable {
  case csv, tsv, jsonl
}

/// Writes decoded rows to a sink.
public final class TableDecoder {
  public let encoder: TableEncoder
  public let format: TableFormat
  private let floatWidth: Int
  private let intWidth: Int
  private let csv: CSVWriter?
  private let json: JSONLinesWriter?
  private let labels: [[[UInt8]]]
  private let formats: [DateFormat?]
  private let valueTexts: [[[UInt8]]?]
  private let plans: ColumnPlans
  private let mixtures: [GaussianMixture?]
  private let styles: [NumberStyle]
  private let missingMarkers: [[UInt8]]
  private let missingLabel: [[Bool]]
  private let constants: [[UInt8]]
  private let writeHeader: Bool
  /// Rows written so far (continues identifier sequences across blocks and shards).
  public private(set) var rows = 0
  /// Blocks written so far, and the stream's name, for naming where a bad code is.
  private var blocks = 0
  private let path: String?

  /// - Parameters:
  ///   - header: write the header row; nil follows the input (had one or not).
  ///   - path: the stream's name, for messages about its rows.
  public init(encoder: TableEncoder, format: TableFormat, sink: ByteSink, header: Bool? = nil, path: String? = nil) {
    self.encoder = encoder
    self.path = path
    self.format = format
    floatWidth = encoder.layout.floatWidth
    intWidth = encoder.layout.intWidth
    labels = encoder.columns.map { ($0.labels ?? []).map { Array($0.utf8) } }
    formats = encoder.columns.map { $0.dateFormat.flatMap { DateFormat(pattern: $0) } }
    valueTexts = encoder.columns.map { column in column.valueTexts.map { $0.map { Array($0.utf8) } } }
    plans = ColumnPlans(encoder)
    mixtures = encoder.columns.map(\.mixture)
    styles = encoder.columns.map { $0.style ?? NumberStyle(integer: false, decimals: 6, fixed: false, exponent: false) }
    missingMarkers = encoder.columns.map { Array(($0.missingMarker ?? "").utf8) }
    missingLabel = encoder.columns.map { column in
      let missing = Set(column.missingCodes ?? [])
      return (0..<(column.labels?.count ?? 0)).map { missing.contains($0) }
    }
    constants = encoder.columns.map { Array(($0.constant ?? "").utf8) }
    writeHeader = header ?? encoder.header
    switch format {
    case .csv:
      csv = CSVWriter(sink: sink, dialect: encoder.dialect, lineEnding: encoder.lineEnding)
      json = nil
    case .tsv:
      csv = CSVWriter(sink: sink, dialect: CSVDialect(delimiter: 9), lineEnding: encoder.lineEnding)
      json = nil
    case .jsonl:
      csv = nil
      json = JSONLinesWriter(sink: sink, names: encoder.columns.map(\.name))
    }
  }

  /// Writes the header row (CSV and TSV, when the input had one).
  public func begin() throws {
    guard let csv, writeHeader else { return }
    try csv.writeRecord(encoder.columns.map(\.name))
  }

  /// Writes every row of `block`.
  /// - Throws: `EncodeError.codeOutOfRange` for a code outside a column's categories, `IOError`.
  public func write(_ block: RowBlock) throws {
    try block.floats.withUnsafeBufferPointer { floats in
      try block.ints.withUnsafeBufferPointer { ints in
        for r in 0..<block.rows {
          let rowFloats = floats.baseAddress.map { $0 + r * floatWidth }
          let rowInts = ints.baseAddress.map { $0 + r * intWidth }
          for c in encoder.columns.indices {
            try writeCell(column: c, floats: rowFloats, ints: rowInts)
          }
          if let csv { try csv.endRecord() } else { try json!.endRecord() }
          rows += 1
        }
      }
    }
    blocks += 1
  }

  /// Flushes buffered output.
  public func finish() throws {
    try csv?.flush()
    try json?.flush()
  }

  @inline(__always)
  private func writeCell(column c: Int, floats: UnsafePointer<Float>?, ints: UnsafePointer<Int32>?) throws {
    let plan = plans.plans[c]
    switch plan.kind {
    case .categorical:
      let code = Int(ints![plan.code])
      guard code >= 0 && code < plan.cardinality else {
        throw outOfRange(column: encoder.columns[c].name, code: code, cardinality: plan.cardinality)
      }
      labels[c][code].withUnsafeBytes { writeText($0, missing: missingLabel[c][code]) }
    case .numerical, .datetime:
      if plan.missing >= 0 && ints![plan.missing] != 0 {
        missingMarkers[c].withUnsafeBytes { writeText($0, missing: true) }
        return
      }
      var x: Double
      var tolerance = 0.0
      let token = floats![plan.value]
      if !plan.gmm {
        (x, tolerance) = QuantileTransform.inverse(Double(token), quantiles: plan.quantiles)
      } else {
        let mixture = mixtures[c]!
        let k = Int(ints![plan.code])
        guard k >= 0 && k < mixture.count else {
          throw outOfRange(column: encoder.columns[c].name + ".mode", code: k, cardinality: mixture.count)
        }
        x = max(-1, min(1, Double(token))) * 4 * mixture.stds[k] + mixture.means[k]
        tolerance = 0.5 * Double(token.ulp) * 4 * mixture.stds[k]
      }
      if !plan.values.isEmpty {
        // Few distinct values: snap to the nearest and write it as the input did (JSON
        // numbers are formatted instead, as the input's text may not be valid JSON).
        let index = nearest(x, in: plan.values)
        if csv != nil || plan.kind == .datetime {
          valueTexts[c]![index].withUnsafeBytes { writeText($0, missing: false) }
          return
        }
        x = plan.values[index]
        tolerance = 0
      } else {
        x = x.isFinite ? max(plan.minimum, min(plan.maximum, x)) : plan.minimum
      }
      if let format = formats[c] {
        writeFormatted(maxBytes: format.maxLength, quoted: true) { format.format(x, into: $0) }
      } else {
        writeNumber(x, style: styles[c], tolerance: tolerance)
      }
    case .constant:
      constants[c].withUnsafeBytes { writeText($0, missing: false) }
    case .identifier:
      let column = encoder.columns[c]
      if let start = column.sequenceStart, let step = column.sequenceStep {
        writeNumber(start + Double(rows) * step, style: NumberStyle(integer: true, decimals: 0, fixed: false, exponent: false))
      } else {
        writeText("", missing: true)
      }
    }
  }

  private func outOfRange(column: String, code: Int, cardinality: Int) -> EncodeError {
    .codeOutOfRange(path: path, row: rows + 1, block: blocks + 1, column: column, code: code, cardinality: cardinality)
  }

  /// The index of the value nearest to `x` in ascending `values` (NaN: the first).
  @inline(__always)
  private func nearest(_ x: Double, in values: UnsafeBufferPointer<Double>) -> Int {
    guard !x.isNaN else { return 0 }
    var lo = 0
    var hi = values.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if values[mid] < x { lo = mid + 1 } else { hi = mid }
    }
    if lo == values.count { return lo - 1 }
    if lo == 0 { return 0 }
    return x - values[lo - 1] <= values[lo] - x ? lo - 1 : lo
  }

  /// Writes `x` in the column's style: with the fewest decimals (up to the column's) that stay
  /// within `tolerance` of x, so float32 noise does not print as "64.000004643".
  private func writeNumber(_ x: Double, style: NumberStyle, tolerance: Double = 0) {
    if style.exponent {
      // Written with exponents somewhere (1e-05): plain decimals within the tolerance if a
      // short one exists, else the shortest exact form.
      var scale = 1.0
      for d in 0...15 where tolerance > 0 {
        if abs((x * scale).rounded() / scale - x) <= tolerance {
          writeFormatted(maxBytes: NumberText.maxFormattedLength(decimals: d), quoted: false) {
            NumberText.format(x, decimals: d, trimZeros: true, into: $0)
          }
          return
        }
        scale *= 10
      }
      writeFormatted(maxBytes: 40, quoted: false) { NumberText.formatShortest(x, into: $0) }
    } else {
      var decimals = style.integer ? 0 : style.decimals
      if !style.fixed && tolerance > 0 {
        var scale = 1.0
        for d in 0..<decimals {
          if abs((x * scale).rounded() / scale - x) <= tolerance {
            decimals = d
            break
          }
          scale *= 10
        }
      }
      writeFormatted(maxBytes: NumberText.maxFormattedLength(decimals: decimals), quoted: false) {
        NumberText.format(x, decimals: decimals, trimZeros: !style.fixed, into: $0)
      }
    }
  }

  private func writeFormatted(maxBytes: Int, quoted: Bool, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
    if let csv {
      csv.writeField(reserving: maxBytes, body)
    } else {
      json!.writeRaw(reserving: maxBytes, quoted: quoted, body)
    }
  }

  private func writeText(_ bytes: UnsafeRawBufferPointer, missing: Bool) {
    if let csv {
      csv.writeField(bytes)
    } else if missing {
      json!.writeNull()
    } else {
      json!.writeString(bytes)
    }
  }

  private func writeText(_ text: String, missing: Bool) {
    var text = text
    text.withUTF8 { writeText(UnsafeRawBufferPointer($0), missing: missing) }
  }
}

/// JSON Lines output: one object per row, keys in column order.
final class JSONLinesWriter {
  private let sink: ByteSink
  private let keys: [[UInt8]]
  private var buffer: [UInt8] = []
  private var field = 0

  init(sink: ByteSink, names: [String]) {
    self.sink = sink
    keys = names.map { Array((jsonString($0) + ":").utf8) }
    buffer.reserveCapacity(1 << 20)
  }

  private func beginField() {
    buffer.append(field == 0 ? UInt8(ascii: "{") : UInt8(ascii: ","))
    buffer.append(contentsOf: keys[field])
    field += 1
  }

  func writeNull() {
    beginField()
    buffer.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])  // null
  }

  func writeString(_ bytes: UnsafeRawBufferPointer) {
    beginField()
    buffer.append(UInt8(ascii: "\""))
    for byte in bytes {
      switch byte {
      case UInt8(ascii: "\""): buffer.append(contentsOf: [0x5C, 0x22])
      case UInt8(ascii: "\\"): buffer.append(contentsOf: [0x5C, 0x5C])
      case 0x0A: buffer.append(contentsOf: [0x5C, 0x6E])
      case 0x0D: buffer.append(contentsOf: [0x5C, 0x72])
      case 0x09: buffer.append(contentsOf: [0x5C, 0x74])
      case 0..<0x20:
        let hex = Array("0123456789abcdef".utf8)
        buffer.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
      default: buffer.append(byte)
      }
    }
    buffer.append(UInt8(ascii: "\""))
  }

  func writeRaw(reserving maxBytes: Int, quoted: Bool, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
    beginField()
    if quoted { buffer.append(UInt8(ascii: "\"")) }
    let start = buffer.count
    buffer.append(contentsOf: repeatElement(0, count: maxBytes))
    let used = buffer.withUnsafeMutableBytes { body(UnsafeMutableRawBufferPointer(rebasing: $0[start..<start + maxBytes])) }
    buffer.removeLast(maxBytes - used)
    if quoted { buffer.append(UInt8(ascii: "\"")) }
  }

  func endRecord() throws {
    buffer.append(contentsOf: field == 0 ? [0x7B, 0x7D, 0x0A] : [0x7D, 0x0A])
    field = 0
    if buffer.count >= 1 << 20 { try flush() }
  }

  func flush() throws {
    try sink.write(buffer)
    buffer.removeAll(keepingCapacity: true)
  }
}
