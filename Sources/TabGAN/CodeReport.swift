// What each InfoGAN code controls (`tab-gan codes`): generate rows at several values of one
// code (the others from the prior), and measure per column how far each value's distribution
// moves from the pooled one. The codes are unsupervised: their meaning is found, not chosen.

import TabCore
import TabStream
import TabTable

/// The effect of one code on the table's columns.
public struct CodeEffect: Sendable {
  /// "c0", "c1", ...
  public var name: String
  /// "categorical" or "continuous".
  public var kind: String
  /// The code values generated at.
  public var levels: [Float]
  /// Columns by decreasing shift: mean over levels of the total variation distance between
  /// the level's distribution of the column and the pooled one (categories, or deciles of the
  /// pooled values for numerical columns).
  public var columns: [(name: String, shift: Double)]
  /// The largest column shift measured the same way when the code is left to its prior: what
  /// sampling noise alone gives with this many rows (shifts near it mean nothing).
  public var floor: Double
}

public enum CodeReport {
  /// Measures every code of `model` with `rows` rows per level.
  public static func measure(
    model: GANModel, encoder: TableEncoder, rows: Int, seed: UInt64
  ) throws -> [CodeEffect] {
    let config = model.config
    var effects: [CodeEffect] = []
    for index in 0..<config.codeCount {
      let categorical = index == 0 && config.categoricalCode > 0
      let levels: [Float] =
        categorical
        ? (0..<config.categoricalCode).map(Float.init) : [-1, -0.5, 0, 0.5, 1]
      // samples[level][column]: per column, the generated values (codes as Double); the same
      // with the code drawn from its prior, for the noise floor.
      var samples: [[[Double]]] = []
      var prior: [[[Double]]] = []
      for (l, level) in levels.enumerated() {
        for fixed in [true, false] {
          let sampler = try GANSampler(
            model: model, encoder: encoder, conditions: [], codes: fixed ? [index: level] : [:],
            seed: seed &+ UInt64(index * 1000 + l) &+ (fixed ? 0 : 500))
          var block = RowBlock(layout: model.layout.tokenLayout, capacity: rows)
          while block.rows < rows { _ = sampler.generate(into: &block, limit: rows - block.rows) }
          if fixed {
            samples.append(columnValues(block, encoder: encoder))
          } else {
            prior.append(columnValues(block, encoder: encoder))
          }
        }
      }
      let shifts = columnShifts(samples, encoder: encoder)
      let floor = columnShifts(prior, encoder: encoder).map(\.1).max() ?? 0
      effects.append(
        CodeEffect(
          name: "c\(index)", kind: categorical ? "categorical" : "continuous", levels: levels,
          columns: shifts, floor: floor))
    }
    return effects
  }

  /// Per column, the mean TVD of each group's distribution from the pooled one, largest first.
  static func columnShifts(_ samples: [[[Double]]], encoder: TableEncoder) -> [(String, Double)] {
    var shifts: [(String, Double)] = []
    for (c, column) in encoder.columns.enumerated() {
      guard !samples[0][c].isEmpty else { continue }
      let binned = bin(samples.map { $0[c] }, categorical: column.kind == .categorical)
      var pooled = [Double](repeating: 0, count: binned[0].count)
      for h in binned { for j in h.indices { pooled[j] += h[j] / Double(binned.count) } }
      var shift = 0.0
      for h in binned {
        var tvd = 0.0
        for j in h.indices { tvd += abs(h[j] - pooled[j]) }
        shift += 0.5 * tvd / Double(binned.count)
      }
      shifts.append((column.name, shift))
    }
    return shifts.sorted { $0.1 > $1.1 }
  }

  /// Per encoder column, each row's category code or decoded numerical value (empty for
  /// columns without fields).
  static func columnValues(_ block: RowBlock, encoder: TableEncoder) -> [[Double]] {
    let positions = encoder.positions
    return encoder.columns.enumerated().map { c, column in
      let p = positions[c]
      switch column.kind {
      case .categorical:
        return (0..<block.rows).map { Double(block.int(row: $0, field: p.code)) }
      case .numerical, .datetime:
        guard let mixture = column.mixture, p.value >= 0, p.code >= 0 else { return [] }
        return (0..<block.rows).map { r in
          let k = min(max(Int(block.int(row: r, field: p.code)), 0), mixture.count - 1)
          let token = Double(max(-1, min(1, block.float(row: r, field: p.value))))
          return token * 4 * mixture.stds[k] + mixture.means[k]
        }
      default:
        return []
      }
    }
  }

  /// Normalised histograms over shared bins: the categories, or deciles of the pooled values.
  static func bin(_ groups: [[Double]], categorical: Bool) -> [[Double]] {
    var edges: [Double] = []
    var bins: Int
    if categorical {
      bins = Int(groups.flatMap { $0 }.max() ?? 0) + 1
    } else {
      let pooled = groups.flatMap { $0 }.sorted()
      for q in 1..<10 { edges.append(pooled[min(pooled.count - 1, q * pooled.count / 10)]) }
      bins = 10
    }
    return groups.map { values in
      var h = [Double](repeating: 0, count: bins)
      for x in values {
        if categorical {
          h[Int(x)] += 1
        } else {
          var j = 0
          while j < edges.count && x > edges[j] { j += 1 }
          h[j] += 1
        }
      }
      let n = Double(max(values.count, 1))
      return h.map { $0 / n }
    }
  }
}
