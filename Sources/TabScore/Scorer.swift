// Computes every figure of a ScoreReport from the tables, and the headline figures gates and
// the summary card use.

import Foundation

/// Which metrics to compute and how.
public struct ScoreOptions: Sendable {
  public var seed: UInt64 = 0
  public var threads = 2
  /// Target column for machine-learning efficiency (needs a holdout table).
  public var target: String?
  public var detection = true
  public var quality = true
  public var privacy = true
  /// Score at most this many rows of each table for the distance-based metrics
  /// (alpha-precision, beta-recall, privacy), a seeded sample; nil: all rows.
  public var distanceRows: Int?
  public init() {}
}

/// Every figure tab-score computes.
public struct ScoreReport: Codable, Sendable {
  public var tabpipeVersion: String
  public var real: TableSummary
  public var synthetic: TableSummary
  public var holdout: TableSummary?
  public var seed: UInt64
  public var skippedColumns: [String]
  public var shapes: [ColumnShape]
  public var trends: [PairTrend]
  public var detection: [DetectionScore]
  public var quality: PrecisionRecall?
  public var utility: UtilityScore?
  public var privacy: PrivacyScore?
  /// The headline figures by gate name (see `Gate.names`), in display order.
  public var headline: [Headline]
  /// Gates applied (filled by the caller).
  public var gates: [GateResult]
  public var seconds: Double
  /// Seconds spent per stage ("fidelity", "logistic", "trees", "quality", "privacy", "utility").
  public var timings: [String: Double]
}

public struct TableSummary: Codable, Sendable {
  public var path: String
  public var rows: Int
  public var columns: Int
}

/// One headline figure.
public struct Headline: Codable, Sendable {
  /// Gate name ("shape", "trend", ...).
  public var name: String
  public var label: String
  public var value: Double
  public var higherIsBetter: Bool
}

public enum Scorer {
  /// Computes the report.
  /// - Throws: `ScoreError` (unknown or unusable target, too few rows), `XGBoostError`.
  public static func score(_ tables: ScoreTables, options: ScoreOptions, version: String) throws
    -> ScoreReport
  {
    let started = Date()
    if let target = options.target { _ = try tables.targetIndex(target) }
    for table in [tables.real, tables.synthetic] + (tables.holdout.map { [$0] } ?? [])
    where table.rows < 2 {
      throw ScoreError.tooFewRows(path: table.path, rows: table.rows, needed: 2, metric: "scoring")
    }
    func summary(_ t: ScoreTable) -> TableSummary {
      TableSummary(path: t.path, rows: t.rows, columns: tables.width)
    }
    var report = ScoreReport(
      tabpipeVersion: version, real: summary(tables.real), synthetic: summary(tables.synthetic),
      holdout: tables.holdout.map(summary), seed: options.seed, skippedColumns: tables.skipped,
      shapes: (0..<tables.width).map { Fidelity.shape(tables, column: $0) },
      trends: Fidelity.trends(tables),
      detection: [], quality: nil, utility: nil, privacy: nil, headline: [], gates: [], seconds: 0,
      timings: [:])
    var clock = started
    func lap(_ stage: String) {
      report.timings[stage] = Date().timeIntervalSince(clock)
      clock = Date()
    }
    lap("fidelity")
    if options.detection {
      for (table, needed) in [(tables.real, 6), (tables.synthetic, 6)] where table.rows < needed {
        throw ScoreError.tooFewRows(
          path: table.path, rows: table.rows, needed: needed, metric: "detection (3 folds)")
      }
      if tables.width == 0 {
        // No column to tell rows apart by (XGBoost refuses 0 features; the logistic model
        // would score its intercept as "indistinguishable"): not available.
        report.detection = ["logistic", "xgboost"].map {
          DetectionScore(detector: $0, auc: .nan, score: .nan, telling: [])
        }
      } else {
        report.detection.append(Detection.logistic(tables, seed: options.seed))
        lap("logistic")
        report.detection.append(
          try Detection.trees(tables, seed: options.seed, threads: options.threads))
        lap("trees")
      }
    }
    let sampled =
      options.distanceRows.map { tables.sampled(rows: $0, seed: options.seed) } ?? tables
    // Distances in a space of no columns are all 0: every row would count as an exact copy.
    if options.quality && tables.width > 0 {
      report.quality = Quality.precisionRecall(sampled, threads: options.threads)
      lap("quality")
    }
    if options.privacy && tables.width > 0 {
      report.privacy = Privacy.score(sampled, threads: options.threads)
      lap("privacy")
    }
    if let target = options.target {
      report.utility = try Utility.score(
        tables, target: target, seed: options.seed, threads: options.threads)
      lap("utility")
    }
    report.headline = headline(report)
    report.seconds = Date().timeIntervalSince(started)
    return report
  }

  /// Why figures the options ask for will be n/a for these tables: one line each, for the
  /// tool to show.
  public static func unavailable(_ tables: ScoreTables, options: ScoreOptions) -> [String] {
    var notes: [String] = []
    let left = tables.skipped.isEmpty ? "" : " (IDs left out: \(tables.skipped.joined(separator: ", ")))"
    if tables.width == 0 {
      let figures = [
        options.detection ? "detection" : nil, options.quality ? "alpha-precision, beta-recall" : nil,
        options.privacy ? "privacy" : nil,
      ].compactMap { $0 }
      if !figures.isEmpty { notes.append("no column to score\(left): \(figures.joined(separator: ", ")) not available") }
    }
    if let target = options.target, tables.width == 1, tables.index(of: target) != nil {
      notes.append("'\(target)' is the only column scored\(left): no features to predict it from; ML efficiency not available")
    } else if let target = options.target, let t = tables.index(of: target), tables.realCategories[t] == 2,
      let classes = tables.holdoutClasses(target: t), classes.count == 1, let holdout = tables.holdout
    {
      notes.append(
        "'\(target)' has one class only in \(holdout.path) (\(tables.labels[t][Int(classes.first!)])): "
          + "ROC AUC needs both; ML efficiency not available")
    }
    return notes
  }

  static func mean(_ values: [Double]) -> Double {
    let present = values.filter { !$0.isNaN }
    return present.isEmpty ? .nan : present.reduce(0, +) / Double(present.count)
  }

  /// The figures a gate can name, in display order.
  static func headline(_ report: ScoreReport) -> [Headline] {
    var figures = [
      Headline(
        name: "shape", label: "Column shapes", value: mean(report.shapes.map(\.score)),
        higherIsBetter: true),
      Headline(
        name: "trend", label: "Column pair trends", value: mean(report.trends.map(\.score)),
        higherIsBetter: true),
      Headline(
        name: "missing", label: "Missing-rate similarity",
        value: mean(report.shapes.map { 1 - abs($0.realMissing - $0.syntheticMissing) }),
        higherIsBetter: true),
    ]
    for d in report.detection {
      figures.append(
        Headline(
          name: d.detector == "logistic" ? "logistic" : "trees",
          label: d.detector == "logistic"
            ? "Detection, logistic (C2ST)" : "Detection, XGBoost trees",
          value: d.score, higherIsBetter: true))
    }
    if let q = report.quality {
      figures.append(
        Headline(
          name: "alpha", label: "Alpha-precision", value: q.alphaPrecision, higherIsBetter: true))
      figures.append(
        Headline(name: "beta", label: "Beta-recall", value: q.betaRecall, higherIsBetter: true))
    }
    if let u = report.utility {
      figures.append(
        Headline(
          name: "utility", label: "ML efficiency (\(u.metric), synthetic)", value: u.synthetic,
          higherIsBetter: u.higherIsBetter))
      figures.append(
        Headline(
          name: "utility-real", label: "ML efficiency (\(u.metric), real)", value: u.real,
          higherIsBetter: u.higherIsBetter))
    }
    if let p = report.privacy {
      if let share = p.dcrShare {
        figures.append(
          Headline(
            name: "dcr", label: "DCR share (ideal \(format(p.dcrIdeal!)))", value: share,
            higherIsBetter: false))
      }
      figures.append(
        Headline(name: "copies", label: "Exact copies", value: p.exactCopies, higherIsBetter: false)
      )
      figures.append(
        Headline(
          name: "nndr", label: "NN distance ratio (mean)", value: p.nndrMean, higherIsBetter: true))
    }
    return figures
  }

  static func format(_ value: Double) -> String { String(format: "%.4f", value) }
}

extension ScoreTables {
  /// At most `rows` rows of each table, a seeded sample without replacement (row order kept).
  func sampled(rows limit: Int, seed: UInt64) -> ScoreTables {
    var generator = SplitMix(seed: seed ^ 0x5EED)
    func cut(_ table: ScoreTable) -> ScoreTable {
      guard table.rows > limit else { return table }
      var order = Array(0..<table.rows)
      order.shuffle(using: &generator)
      let keep = order.prefix(limit).sorted()
      var out = table
      out.rows = keep.count
      out.columns = table.columns.map { column in
        ScoreColumn(
          values: column.values.isEmpty ? [] : keep.map { column.values[$0] },
          codes: column.codes.isEmpty ? [] : keep.map { column.codes[$0] },
          missing: keep.map { column.missing[$0] })
      }
      return out
    }
    var copy = self
    copy.real = cut(real)
    copy.synthetic = cut(synthetic)
    copy.holdout = holdout.map(cut)
    return copy
  }
}
