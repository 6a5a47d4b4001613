// The training rows as CTGAN data vectors, and training-by-sampling (ctgan-infogan.md §1.2):
// a condition is a categorical column chosen uniformly and a category of it drawn by
// log-frequency; the real rows shown to the critic are drawn among the rows with that category.
// Also keeps the empirical frequencies, which unconditional sampling uses (sdv-dev/CTGAN#16).
//
// Shapes: N training rows, W data width, C condition width, B rows in a batch.

import TabCore
import TabStream

#if canImport(Glibc)
  import Glibc
#endif

/// The encoded training table and the per-category row lists.
public final class DataSampler {
  public let layout: GANLayout
  /// N.
  public let rows: Int
  /// The data rows, (N, W), owned here.
  public let data: Matrix
  private let storage: UnsafeMutablePointer<Float>
  /// rowsWith[s][k]: rows whose conditionable span s (an index into layout.conditionSpans) has
  /// category k.
  let rowsWith: [[[Int32]]]
  /// Per conditionable span: cumulative log(count + 1) shares, for training draws.
  let logCumulative: [[Float]]
  /// Per conditionable span: the category counts in the training rows.
  public let counts: [[Int]]

  /// Reads every block of `reader` (a token stream of `layout`).
  /// - Throws: `GANError` for bad tokens, `StreamError`/`IOError` from the reader.
  public convenience init(reader: StreamReader, layout: GANLayout) throws {
    var floats: [Float] = []
    var ints: [Int32] = []
    var block = RowBlock(layout: reader.header.layout)
    // Counted by blocks, not from the fields: a stream of only constant columns has rows but
    // no fields.
    var rows = 0
    var blockStarts: [Int] = []
    while try reader.read(into: &block) {
      blockStarts.append(rows)
      floats.append(contentsOf: block.floats[0..<block.rows * block.floatWidth])
      ints.append(contentsOf: block.ints[0..<block.rows * block.intWidth])
      rows += block.rows
    }
    try self.init(layout: layout, rows: rows, floats: floats, ints: ints, path: reader.path, blockStarts: blockStarts)
  }

  /// The sampler over `rows` token rows given as row-major float and int sections.
  /// - Parameter blockStarts: the first row (from 0) of each block of the stream the rows came
  ///   from, ascending, so that a bad token's message names its block; empty: not known.
  /// - Throws: `GANError.tooFewRows` under 2 rows (BatchNorm's minimum), `GANError.noColumns`
  ///   for a layout without fields (nothing to learn; a data vector of width 0), `GANError` for
  ///   a bad token, naming its row (from 1) and block.
  public init(
    layout: GANLayout, rows: Int, floats: [Float], ints: [Int32], path: String, blockStarts: [Int] = []
  ) throws {
    precondition(
      floats.count == rows * layout.floatCount && ints.count == rows * layout.tokenLayout.intWidth)
    guard rows >= 2 else { throw GANError.tooFewRows(path: path, rows: rows, needed: 2) }
    guard layout.dataWidth > 0 else { throw GANError.noColumns(path: path) }
    self.layout = layout
    self.rows = rows
    let w = layout.dataWidth
    storage = .allocate(capacity: max(rows * w, 1))
    storage.initialize(repeating: 0, count: max(rows * w, 1))
    let data = Matrix(storage, rows: rows, cols: w)
    self.data = data
    let f = layout.floatCount
    let iw = layout.tokenLayout.intWidth
    try floats.withUnsafeBufferPointer { fp in
      try ints.withUnsafeBufferPointer { ip in
        var block = 0
        for i in 0..<rows {
          while block + 1 < blockStarts.count && blockStarts[block + 1] <= i { block += 1 }
          try layout.encode(
            floats: fp.baseAddress! + i * f, ints: ip.baseAddress! + i * iw, into: data.row(i),
            path: path, row: i + 1, block: blockStarts.isEmpty ? nil : block + 1)
        }
      }
    }
    var rowsWith: [[[Int32]]] = []
    var counts: [[Int]] = []
    var logCumulative: [[Float]] = []
    for s in layout.conditionSpans {
      let span = layout.spans[s]
      var lists = [[Int32]](repeating: [], count: span.width)
      for i in 0..<rows {
        lists[Int(ints[i * iw + span.field])].append(Int32(i))
      }
      let count = lists.map(\.count)
      var cumulative: [Float] = []
      var total: Float = 0
      for c in count {
        total += c > 0 ? Float(log(Double(c) + 1)) : 0
        cumulative.append(total)
      }
      rowsWith.append(lists)
      counts.append(count)
      logCumulative.append(cumulative.map { $0 / max(total, 1e-30) })
    }
    self.rowsWith = rowsWith
    self.counts = counts
    self.logCumulative = logCumulative
  }

  deinit { storage.deallocate() }

  /// Draws a training condition for each of `condition.rows` rows: a conditionable span chosen
  /// uniformly, a category by log-frequency. Overwrites `condition` (B, C) with the one-hots and
  /// `span`, `category` (B entries each) with the choices. No-op without categorical columns.
  public func drawConditions(
    into condition: Matrix, span: UnsafeMutablePointer<Int32>,
    category: UnsafeMutablePointer<Int32>, using random: inout SeededGenerator
  ) {
    let spanCount = layout.conditionSpans.count
    guard spanCount > 0 else { return }
    condition.zero()
    for b in 0..<condition.rows {
      let s = random.uniformInt(below: spanCount)
      let u = random.uniformFloat()
      let cumulative = logCumulative[s]
      var k = 0
      while k < cumulative.count - 1 && (cumulative[k] <= u || rowsWith[s][k].isEmpty) { k += 1 }
      while rowsWith[s][k].isEmpty { k -= 1 }  // u beyond rounding: the last present category
      span[b] = Int32(s)
      category[b] = Int32(k)
      condition[b, layout.spans[layout.conditionSpans[s]].conditionOffset + k] = 1
    }
  }

  /// Real rows for the critic (CTGAN's `sample_data` with shuffled conditions): row i is a
  /// training row drawn uniformly among those satisfying the condition of row π(i) (a fresh
  /// random permutation π of the batch); writes its data vector (B, W) into `data` and the
  /// column of its condition's one within the condition block into `columns[i]` (0 without
  /// categorical columns; then rows are uniform). The critic reads the condition block as
  /// one-hots (GANTrainer's first layer), so it is never written out.
  public func drawRealData(
    into data: Matrix, columns: UnsafeMutablePointer<Int32>, span: UnsafePointer<Int32>,
    category: UnsafePointer<Int32>, using random: inout SeededGenerator
  ) {
    let w = layout.dataWidth
    let c = layout.conditionWidth
    precondition(data.cols == w)
    let b = data.rows
    var order = Array(0..<b)
    for i in stride(from: b - 1, to: 0, by: -1) {
      order.swapAt(i, random.uniformInt(below: i + 1))
    }
    for i in 0..<b {
      let source: Int
      let p = order[i]
      if c > 0 {
        let s = Int(span[p])
        let k = Int(category[p])
        let list = rowsWith[s][k]
        source = Int(list[random.uniformInt(below: list.count)])
        columns[i] = Int32(layout.spans[layout.conditionSpans[s]].conditionOffset + k)
      } else {
        source = random.uniformInt(below: rows)
        columns[i] = 0
      }
      data.row(i).update(from: self.data.row(source), count: w)
    }
  }
}
