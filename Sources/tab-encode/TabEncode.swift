// tab-encode: CSV in, token stream out. Fits an encoder on the input (and embeds it in the
// stream), or applies a saved one as a true stream.

import ArgumentParser
import TabCLI
import TabStream
import TabTable

@main
struct TabEncode: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tab-encode",
    abstract: "Turn a CSV table into a token stream.",
    discussion: """
      Reads a CSV (standard input, or INPUT) and writes a zstd-compressed token stream to \
      standard output, or atomically to -o FILE. Without --encoder the column transforms are \
      fitted on the input and carried in the stream's header; --fit FILE also saves them, and \
      --encoder FILE applies saved ones row by row in bounded memory. See tab-encode(1).
      """,
    version: "tab-encode (tabpipe) \(tabpipeVersion)")

  static func main() { Tool.run(Self.self) }

  @Argument(help: "CSV file to read; '-' or absent: standard input.")
  var input: String?

  @OptionGroup var output: StreamOutputOptions
  @OptionGroup var reporting: ReportingOptions

  @Option(help: "Fit on the input and also save the encoder to FILE.")
  var fit: String?

  @Option(help: "Apply the encoder saved in FILE (by --fit, or any stream carrying one) instead of fitting.")
  var encoder: String?

  @Option(help: "JSON file giving the types of some columns (see tab-encode(1)).")
  var schema: String?

  @Flag(help: "Print the inferred schema as JSON to standard output and exit.")
  var printSchema = false

  @Option(help: "Field delimiter: one character, or 'tab'.")
  var delimiter = ","

  @Flag(help: "The first line is data, not a header.")
  var noHeader = false

  @Option(help: "Comma-separated column names (with --no-header).")
  var names: String?

  @Option(help: "Comma-separated cell texts that mean missing; '' (empty) is one of them by default.")
  var na = ",NA,NaN,?,null"

  @Option(help: "Numerical transform: quantile (TabSyn) or gmm (CTGAN's mode-specific normalization).")
  var numeric = "quantile"

  @Option(help: "With --encoder, what to do with unseen categories: error, missing, or frequent.")
  var unknown = "error"

  @Flag(help: "Model ID-like columns (all values distinct) instead of excluding them.")
  var keepIds = false

  @Option(help: "Integer columns with at most this many distinct values are categorical.")
  var maxIntCategories = 20

  @Option(help: "Seed for the random mode draws of --numeric gmm.")
  var seed: UInt64 = 0

  @Option(help: "Rows per stream block; absent: about 1 MiB of rows.")
  var blockRows: Int?

  func validate() throws {
    guard NumericTransform(rawValue: numeric) != nil else {
      throw ValidationError("--numeric must be quantile or gmm (got '\(numeric)').")
    }
    guard UnknownPolicy(rawValue: unknown) != nil else {
      throw ValidationError("--unknown must be error, missing or frequent (got '\(unknown)').")
    }
    if fit != nil && encoder != nil { throw ValidationError("--fit and --encoder exclude each other.") }
    if names != nil && !noHeader { throw ValidationError("--names needs --no-header.") }
    if let blockRows, !(1...(1 << 20)).contains(blockRows) {
      throw ValidationError("--block-rows must be from 1 to 1048576 (got \(blockRows)).")
    }
    _ = try parseDelimiter(delimiter)
  }

  func run() throws {
    let source = try openInput(input, reading: "a CSV", example: "tab-encode < table.csv")
    let csvOptions = CSVInputOptions(
      dialect: CSVDialect(delimiter: try parseDelimiter(delimiter)), hasHeader: !noHeader,
      names: names.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) })
    let reader = CSVReader(source: source, dialect: csvOptions.dialect)
    if let encoder {
      try applyEncoder(path: encoder, reader: reader, csvOptions: csvOptions)
    } else {
      try fitAndEncode(reader: reader, csvOptions: csvOptions)
    }
  }

  func fitAndEncode(reader: CSVReader, csvOptions: CSVInputOptions) throws {
    let progress = reporting.makeProgress("encoded")
    let store = try ColumnStore.read(reader, options: csvOptions)
    var options = FitOptions()
    options.numeric = NumericTransform(rawValue: numeric)!
    options.missingMarkers = na.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    options.keepIdentifiers = keepIds
    options.maxIntegerCategories = maxIntCategories
    options.seed = seed
    if let schema {
      options.schema = try TableSchema(json: try FileInput(path: schema).readAll(), path: schema)
      options.schemaPath = schema
    }
    let (fitted, warnings) = try TableFitter.fit(store, options: options)
    warnings.forEach(reporting.warn)
    if printSchema {
      let text = fitted.schema.jsonText()
      try FileOutput.standardOutput().write(Array(text.utf8))
      return
    }
    let header = StreamHeader(
      kind: .tokens, layout: fitted.layout, encoder: try JSONValue(encoding: fitted),
      provenance: [provenanceStep(seed: seed)])
    // Open the stream's output first: if it is refused (a terminal), no model is written.
    let target = try OutputTarget(path: output.output, binary: true, force: output.force, inputs: [input, fit])
    if let fit {
      let modelTarget = try OutputTarget(path: fit, binary: true, force: true, inputs: [input])
      do {
        try modelTarget.write { sink in
          var modelHeader = header
          modelHeader.kind = .encoder
          try StreamWriter(sink: sink, header: modelHeader, level: output.level).finish()
        }
      } catch {
        target.discard()
        throw error
      }
    }
    try target.write { sink in
      let writer = try StreamWriter(sink: sink, header: header, level: output.level)
      try StoreEncoding.write(
        store, encoder: fitted, seed: seed,
        blockRows: blockRows ?? StreamFormat.defaultBlockRows(rowBytes: fitted.layout.rowBytes), to: writer,
        progress: progress.update)
      try writer.finish()
    }
    progress.finish(rows: store.rows)
  }

  func applyEncoder(path: String, reader: CSVReader, csvOptions: CSVInputOptions) throws {
    let model = try StreamReader(source: try FileInput(path: path))
    let fitted = try TableEncoder.from(model.header, path: path)
    var provenance = model.header.provenance
    provenance.append(provenanceStep(seed: seed))
    let header = StreamHeader(
      kind: .tokens, layout: fitted.layout, encoder: model.header.encoder, provenance: provenance)
    let encoding = StreamingEncoder(
      encoder: fitted, seed: seed, policy: UnknownPolicy(rawValue: unknown)!, path: reader.path)
    var record = CSVRecord()
    if csvOptions.hasHeader {
      guard try reader.read(into: &record) else { throw CSVError.emptyInput(path: reader.path) }
      try encoding.checkHeader((0..<record.count).map { record.string($0) })
    }
    reader.columnNames = fitted.columns.map(\.name)
    let progress = reporting.makeProgress("encoded")
    let blockRows = blockRows ?? StreamFormat.defaultBlockRows(rowBytes: fitted.layout.rowBytes)
    let target = try OutputTarget(path: output.output, binary: true, force: output.force, inputs: [input, path])
    try target.write { sink in
      let writer = try StreamWriter(sink: sink, header: header, level: output.level)
      var block = RowBlock(layout: fitted.layout, capacity: blockRows)
      var more = true
      while more {
        more = try encoding.encode(from: reader, into: &block, limit: blockRows)
        // After an unknown category nothing more is written; reading goes on to list them all.
        if !encoding.failed { try writer.write(block) }
        block.removeAll()
        progress.update(rows: encoding.rows)
      }
      if let error = encoding.unknownCategoriesError() { throw error }
      if encoding.rows == 0 {
        throw csvOptions.hasHeader ? CSVError.headerOnly(path: reader.path) : CSVError.emptyInput(path: reader.path)
      }
      try writer.finish()
    }
    progress.finish(rows: encoding.rows)
  }
}
