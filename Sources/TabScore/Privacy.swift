// Privacy figures: the distance-to-closest-record share (TabSyn's eval_dcr.py), the exact-copy
// rate and the nearest-neighbour distance ratio, all in TabSyn's DCR space: numerical values
// divided by their range over the training table, categorical one-hot (fitted on the training
// table), L1 distance.

/// How close the synthetic rows sit to the training rows.
public struct PrivacyScore: Codable, Sendable {
  /// Share of synthetic rows strictly closer to the training table than to the holdout one;
  /// 0.5 is ideal with equal-sized tables, |train| / (|train| + |holdout|) in general.
  public var dcrShare: Double?
  /// The ideal dcrShare for these table sizes.
  public var dcrIdeal: Double?
  /// Share of synthetic rows identical to some training row.
  public var exactCopies: Double
  /// Mean over synthetic rows of d1 / d2, the distances to the nearest and second-nearest
  /// training rows (1 when both are 0); low values mean rows sit on single training records.
  public var nndrMean: Double
  /// 5th percentile of the same ratio.
  public var nndrLow: Double
  /// Median distance of a synthetic row to its closest training row.
  public var medianDistance: Double
}

public enum Privacy {
  /// Rows of `table` in the DCR space fitted on the real (training) table.
  static func space(_ tables: ScoreTables, _ table: ScoreTable) -> DistanceRows {
    var numbers: [[Double]] = []
    var codes: [[Int32]] = []
    var weights: [[Double]] = []
    for c in 0..<tables.width {
      if tables.kinds[c] == .numerical {
        let present = tables.real.columns[c].values.filter { !$0.isNaN }
        let mean = present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count)
        let span = (present.max() ?? 0) - (present.min() ?? 0)
        let scale = span > 0 ? span : 1
        numbers.append(table.columns[c].values.map { ($0.isNaN ? mean : $0) / scale })
      } else {
        let known = Int32(tables.realCategories[c])
        codes.append(table.columns[c].codes)
        weights.append(table.columns[c].codes.map { $0 < known ? 1 : 0 })
      }
    }
    return DistanceRows(rows: table.rows, numbers: numbers, codes: codes, weights: weights)
  }

  /// The privacy figures; the DCR share only with a holdout table.
  public static func score(_ tables: ScoreTables, threads: Int = 2) -> PrivacyScore {
    let train = space(tables, tables.real)
    let synthetic = space(tables, tables.synthetic)
    let toTrain = NearestNeighbours.search(
      queries: synthetic, references: train, norm: .manhattan, threads: threads)
    var share: Double? = nil
    var ideal: Double? = nil
    if let holdoutTable = tables.holdout {
      let holdout = space(tables, holdoutTable)
      let toHoldout = NearestNeighbours.search(
        queries: synthetic, references: holdout, norm: .manhattan, threads: threads)
      let closer = zip(toTrain, toHoldout).count { $0.first < $1.first }
      share = Double(closer) / Double(synthetic.rows)
      ideal = Double(train.rows) / Double(train.rows + holdout.rows)
    }
    let copies = toTrain.count { $0.first == 0 }
    let ratios = toTrain.map { n in n.second == 0 ? 1 : n.first / n.second }
    let sortedRatios = ratios.sorted()
    let distances = toTrain.map(\.first).sorted()
    return PrivacyScore(
      dcrShare: share, dcrIdeal: ideal, exactCopies: Double(copies) / Double(synthetic.rows),
      nndrMean: ratios.reduce(0, +) / Double(ratios.count),
      nndrLow: Quality.quantile(sortedRatios, 0.05),
      medianDistance: Quality.quantile(distances, 0.5))
  }
}
