// A token stream held in memory for training: the rows' float and int fields, checked against
// the VAE's needs (finite numbers, codes inside their field's cardinality).

import TabStream

/// Every row of a token stream: floats (rows, n) and ints (rows, C), row-major.
public struct TokenTable: Sendable {
  public let layout: RowLayout
  public private(set) var rows = 0
  public private(set) var floats: [Float] = []
  public private(set) var ints: [Int32] = []

  public init(layout: RowLayout) {
    self.layout = layout
  }

  /// Reads the rest of `reader` (a token stream); checks every value.
  /// - Throws: `VAEDataError` naming the file, row and field of a NaN or an out-of-range code;
  ///   the reader's errors.
  public static func read(_ reader: StreamReader) throws -> TokenTable {
    var table = TokenTable(layout: reader.header.layout)
    var block = RowBlock(layout: reader.header.layout)
    while try reader.read(into: &block) {
      try table.append(block, path: reader.path)
    }
    return table
  }

  /// Appends a block after checking it.
  public mutating func append(_ block: RowBlock, path: String) throws {
    try Self.check(block, layout: layout, firstRow: rows, path: path)
    floats.append(contentsOf: block.floats.prefix(block.rows * layout.floatWidth))
    ints.append(contentsOf: block.ints.prefix(block.rows * layout.intWidth))
    rows += block.rows
  }

  /// Throws on a non-finite float or an int outside `0 ..< cardinality` (2 when absent).
  public static func check(_ block: RowBlock, layout: RowLayout, firstRow: Int, path: String) throws {
    let n = layout.floatWidth, c = layout.intWidth
    let limits = layout.intFields.map { Int32(max($0.cardinality ?? 2, 1)) }
    try block.floats.withUnsafeBufferPointer { f in
      for i in 0..<block.rows * n where !f[i].isFinite {
        throw VAEDataError(
          "\(path): row \(firstRow + i / n + 1): field '\(layout.floatFields[i % n].name)': "
            + "not a finite number (\(f[i]))")
      }
    }
    try block.ints.withUnsafeBufferPointer { v in
      for i in 0..<block.rows * c where v[i] < 0 || v[i] >= limits[i % c] {
        throw VAEDataError(
          "\(path): row \(firstRow + i / c + 1): field '\(layout.intFields[i % c].name)': "
            + "code \(v[i]) outside 0..<\(limits[i % c])")
      }
    }
  }
}
