// tab-info: what is inside any stream or model file: header, shape, blocks, and a summary of
// every field, read in one pass with bounded memory.

import ArgumentParser
import TabCLI
import TabStream
import TabTable

@main
struct TabInfo: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tab-info",
    abstract: "Describe a tabpipe stream or model file.",
    discussion: """
      Reads a stream or model file (FILE, or standard input for '-' or none), verifies it to \
      the end, and prints its kind, provenance, shape, block count and a summary of each \
      field to standard output. See tab-info(1).
      """,
    version: "tab-info (tabpipe) \(tabpipeVersion)")

  static func main() { Tool.run(Self.self) }

  @Argument(help: "Stream or model file; '-' or absent: standard input.")
  var input: String?

  @Flag(help: "Print the header as JSON and do not read the rows.")
  var header = false

  func run() throws {
    let reader = try StreamReader(
      source: try openInput(input, reading: "a stream or model", example: "tab-info < file.bin"))
    let out = FileOutput.standardOutput()
    if header {
      try out.write(try reader.header.encodedJSON() + [10])
      return
    }
    let layout = reader.header.layout
    var floatStats = [FieldStatistics](repeating: FieldStatistics(), count: layout.floatWidth)
    var codeCounts = layout.intFields.map { [Int](repeating: 0, count: min(max($0.cardinality ?? 0, 0), 1 << 16)) }
    var intStats = [FieldStatistics](repeating: FieldStatistics(), count: layout.intWidth)
    // An inconsistent encoder is a corrupt stream; only one too new to read is skipped.
    var encoder: TableEncoder?
    if reader.header.encoder != nil {
      do {
        encoder = try TableEncoder.from(reader.header, path: reader.path)
      } catch let error as EncodeError {
        if case .badEncoder = error { throw error }
      }
    }
    // Exit 0 says the stream is intact: tab-decode would refuse a code outside its field.
    let limits = layout.intFields.map { $0.cardinality.map { Int32(clamping: $0) } ?? .max }
    var block = RowBlock(layout: layout)
    var rowsBefore = 0
    while try reader.read(into: &block) {
      for r in 0..<block.rows {
        for f in 0..<layout.floatWidth { floatStats[f].add(Double(block.float(row: r, field: f))) }
        for f in 0..<layout.intWidth {
          let value = block.int(row: r, field: f)
          guard value >= 0 || limits[f] == .max, value < limits[f] else {
            throw StreamError.corrupt(
              path: reader.path, block: reader.blocksRead,
              detail: "row \(rowsBefore + r + 1): field '\(layout.intFields[f].name)': code \(value) outside 0..<\(limits[f])")
          }
          let code = Int(value)
          intStats[f].add(Double(code))
          if code >= 0 && code < codeCounts[f].count { codeCounts[f][code] += 1 }
        }
      }
      rowsBefore += block.rows
    }
    var lines: [String] = []
    lines.append("file:       \(reader.path)")
    lines.append("kind:       \(reader.header.kind) (stream format \(reader.formatVersion.major).\(reader.formatVersion.minor))")
    // Shards joined with cat: each part's own chain, when they differ.
    let chains = reader.segmentHeaders.map(\.provenance)
    let distinct = chains.enumerated().filter { index, chain in !chains[..<index].contains(chain) }
    for (part, chain) in distinct {
      for step in chain {
        let seed = step.seed.map { ", seed \($0)" } ?? ""
        let label = distinct.count > 1 ? "part \(part + 1) by:" : "made by:   "
        lines.append("\(label) \(step.tool) \(step.version) \(step.options.joined(separator: " "))\(seed)")
      }
    }
    lines.append("rows:       \(reader.rowsRead) in \(reader.blocksRead) block(s), \(reader.segmentHeaders.count) part(s)")
    lines.append("row:        \(layout.floatWidth) float32 + \(layout.intWidth) int32 = \(layout.rowBytes) bytes")
    if let encoder {
      lines.append("table:      \(encoder.columns.count) columns, fitted on \(encoder.rows) rows")
      for column in encoder.columns { lines.append("  " + describe(column)) }
    }
    if !layout.floatFields.isEmpty || !layout.intFields.isEmpty {
      lines.append("fields:")
      for (f, field) in layout.floatFields.enumerated() {
        lines.append("  \(field.name) [float, \(field.role)] \(floatStats[f].summary)")
      }
      for (f, field) in layout.intFields.enumerated() {
        var text = "  \(field.name) [int, \(field.role)"
        if let cardinality = field.cardinality { text += cardinality == 1 ? ", 1 code" : ", \(cardinality) codes" }
        text += "] \(intStats[f].summary)"
        if reader.rowsRead > 0, !codeCounts[f].isEmpty {
          let labels = encoder?.columns.first { $0.name == field.column }?.labels
          let top = codeCounts[f].indices.sorted { codeCounts[f][$0] > codeCounts[f][$1] }.prefix(3)
          let shown = top.filter { codeCounts[f][$0] > 0 }.map { code -> String in
            let label = labels.flatMap { code < $0.count ? $0[code] : nil }
            let name = field.role == "category" ? label.map { "'\($0)'" } ?? "\(code)" : "\(code)"
            let share = Double(codeCounts[f][code]) / Double(reader.rowsRead) * 100
            return "\(name) \(format(share, 1))%"
          }
          text += "; top: " + shown.joined(separator: ", ")
        }
        lines.append(text)
      }
    }
    try out.write(Array((lines.joined(separator: "\n") + "\n").utf8))
  }

  func describe(_ column: ColumnEncoding) -> String {
    var text = "\(column.name): \(column.kind.rawValue)"
    switch column.kind {
    case .numerical, .datetime:
      text += " (\(column.transform?.rawValue ?? "quantile")"
      if let pattern = column.dateFormat { text += ", \(pattern)" }
      if let style = column.style { text += style.integer ? ", integer" : ", \(style.decimals) decimals" }
      text += ")"
      if let low = column.minimum, let high = column.maximum { text += " range \(format(low, 4))..\(format(high, 4))" }
      if let mixture = column.mixture { text += ", \(mixture.count) modes" }
      if column.missing > 0 { text += ", \(column.missing) missing as '\(column.missingMarker ?? "")'" }
    case .categorical:
      text += ", \(column.labels?.count ?? 0) categories"
    case .constant:
      text += " '\(column.constant ?? "")'"
    case .identifier:
      text += column.sequenceStart != nil ? " (not modelled; decoded as a sequence)" : " (not modelled)"
    }
    return text
  }
}

/// Count, mean, standard deviation, minimum, maximum and NaNs of a field, in one pass
/// (Welford's update, stable for long streams).
struct FieldStatistics {
  var count = 0
  var nans = 0
  var mean = 0.0
  var m2 = 0.0
  var minimum = Double.infinity
  var maximum = -Double.infinity

  mutating func add(_ x: Double) {
    guard !x.isNaN else {
      nans += 1
      return
    }
    count += 1
    let delta = x - mean
    mean += delta / Double(count)
    m2 += delta * (x - mean)
    minimum = Swift.min(minimum, x)
    maximum = Swift.max(maximum, x)
  }

  var summary: String {
    guard count > 0 else { return nans > 0 ? "all \(nans) NaN" : "no rows" }
    let sd = count > 1 ? (m2 / Double(count - 1)).squareRoot() : 0
    var text = "mean \(format(mean, 3)) sd \(format(sd, 3)) min \(format(minimum, 3)) max \(format(maximum, 3))"
    if nans > 0 { text += ", \(nans) NaN" }
    return text
  }
}

/// A number with `digits` decimals.
func format(_ x: Double, _ digits: Int) -> String {
  var buffer = [UInt8](repeating: 0, count: NumberText.maxFormattedLength(decimals: digits) + 8)
  let n = buffer.withUnsafeMutableBytes { NumberText.format(x, decimals: digits, trimZeros: true, into: $0) }
  return String(decoding: buffer[0..<n], as: UTF8.self)
}
