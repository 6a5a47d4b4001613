// tab-score: how good and how safe is a synthetic table? Fidelity, detection, utility and
// privacy figures as text, JSON and an HTML report, with gates for scripts.

import ArgumentParser
import Foundation
import TabCLI
import TabScore
import TabStream
import TabTable

@main
struct TabScoreCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tab-score",
    abstract:
      "Score a synthetic table against the real one: fidelity, detection, utility, privacy.",
    discussion: """
      Reads the real (training) and synthetic CSVs, and a holdout CSV for machine-learning \
      efficiency and the DCR share. Prints a summary on standard output; --json FILE writes \
      every figure, --report FILE.html a self-contained visual report. --min NAME=VALUE and \
      --max NAME=VALUE gates make the exit status 1 when a figure falls short. See tab-score(1).
      """,
    version: "tab-score (tabpipe) \(tabpipeVersion)")

  static func main() { Tool.run(Self.self) }

  @Option(help: "The real (training) table: a CSV or a token stream; '-' for standard input.")
  var real: String

  @Option(help: "The synthetic table (CSV or token stream) with the same columns.")
  var synthetic: String

  @Option(help: "Real rows not used in training (a CSV): needed for --target and the DCR share.")
  var holdout: String?

  @Option(help: "Column to predict for machine-learning efficiency (needs --holdout).")
  var target: String?

  @Option(
    help: "Take column types from this encoder (tab-encode --fit, or any stream carrying one).")
  var encoder: String?

  @Option(help: "JSON file giving the types of some columns (as tab-encode --schema).")
  var schema: String?

  @Option(
    help: "Comma-separated cell texts that mean missing; '' (empty) is one of them by default.")
  var na = ",NA,NaN,?,null"

  @Option(help: "Integer columns with at most this many distinct values are categorical.")
  var maxIntCategories = 20

  @Option(
    help: "Write every figure as JSON to FILE ('-': standard output, instead of the summary).")
  var json: String?

  @Option(help: "Write a self-contained HTML report to FILE.")
  var report: String?

  @Option(
    name: .customLong("min"),
    help: "Gate NAME=VALUE: fail (exit 1) if the figure is below VALUE. Repeatable.")
  var minimums: [String] = []

  @Option(
    name: .customLong("max"),
    help: "Gate NAME=VALUE: fail (exit 1) if the figure is above VALUE. Repeatable.")
  var maximums: [String] = []

  @Option(
    help:
      "Score at most this many rows per table for alpha-precision, beta-recall and privacy (a seeded sample); all rows if absent."
  )
  var distanceRows: Int?

  @Flag(help: "Skip the two detectors (C2ST).")
  var noDetection = false

  @Flag(help: "Skip alpha-precision, beta-recall and the privacy figures.")
  var noDistances = false

  @Option(help: "Seed for folds, samples and XGBoost; the same seed gives the same figures.")
  var seed: UInt64 = 0

  @Option(help: "Threads for XGBoost and the nearest-neighbour searches.")
  var threads = 2

  @OptionGroup var reporting: ReportingOptions

  func validate() throws {
    for text in minimums + maximums {
      do { _ = try Gate(parsing: text, isMinimum: true) } catch let error as GateError {
        throw ValidationError("--min/--max: \(error.message).")
      }
    }
    if encoder != nil && schema != nil {
      throw ValidationError("--encoder and --schema exclude each other.")
    }
    if threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads)).") }
    if let distanceRows, distanceRows < 2 {
      throw ValidationError("--distance-rows must be at least 2.")
    }
    if [real, synthetic, holdout].filter({ $0 == "-" }).count > 1 {
      throw ValidationError("only one table can come from standard input.")
    }
    // Both written through one temporary name: one file would silently replace the other.
    if let json, let report,
      json == report || URL(fileURLWithPath: json).standardizedFileURL == URL(fileURLWithPath: report).standardizedFileURL
    {
      throw ValidationError("--json and --report name the same file '\(json)'.")
    }
  }

  func run() throws {
    if [real, synthetic, holdout].contains("-") && isatty(0) == 1 {
      throw ToolError(
        "reading a table from a terminal; give a file or redirect one in (tab-score --real train.csv --synthetic - < synth.csv)")
    }
    let tables = try readTables()
    var options = ScoreOptions()
    options.seed = seed
    options.threads = threads
    options.target = target
    options.detection = !noDetection
    options.quality = !noDistances
    options.privacy = !noDistances
    options.distanceRows = distanceRows
    for note in Scorer.unavailable(tables, options: options) { reporting.warn(note) }
    var result = try Scorer.score(tables, options: options, version: tabpipeVersion)
    let gates =
      try minimums.map { try Gate(parsing: $0, isMinimum: true) }
      + maximums.map { try Gate(parsing: $0, isMinimum: false) }
    result.gates = gates.map { $0.check(result) }
    try write(result, tables: tables)
    let failed = result.gates.filter { !$0.passed }
    if !failed.isEmpty {
      let text = failed.map { g in
        "\(g.name) \(g.value.map { String(format: "%.4f", $0) } ?? "not computed") \(g.relation == ">=" ? "<" : ">") \(g.bound)"
      }
      throw ToolError(
        "quality gate failed: \(text.joined(separator: ", "))", status: ExitStatus.gateFailed)
    }
  }

  func readTables() throws -> ScoreTables {
    var fit = FitOptions()
    fit.missingMarkers = na.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    fit.maxIntegerCategories = maxIntCategories
    if let schema {
      fit.schema = try TableSchema(json: try FileInput(path: schema).readAll(), path: schema)
      fit.schemaPath = schema
    }
    var fitted: TableEncoder?
    if let encoder {
      let stream = try StreamReader(source: try FileInput(path: encoder))
      fitted = try TableEncoder.from(stream.header, path: encoder)
    }
    let csv = CSVInputOptions(dialect: fitted?.dialect ?? CSVDialect())
    return try ScoreTables.read(
      real: real, synthetic: synthetic, holdout: holdout, encoder: fitted, options: fit, csv: csv)
  }

  func write(_ result: ScoreReport, tables: ScoreTables) throws {
    let inputs = [real, synthetic, holdout, encoder, schema]
    if let report {
      let target = try OutputTarget(path: report, binary: false, force: true, inputs: inputs)
      try target.write { try $0.write(Array(HTMLReport.render(result, tables: tables).utf8)) }
    }
    if let json {
      let target = try OutputTarget(path: json, binary: false, force: true, inputs: inputs)
      try target.write { try $0.write(try result.json()) }
    }
    if json != "-" && !reporting.quiet {
      try FileOutput.standardOutput().write(Array(result.text().utf8))
    }
  }
}
