// tab-decode: token stream in, table out, with the encoder the stream's header carries.

import ArgumentParser
import TabCLI
import TabStream
import TabTable

@main
struct TabDecode: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tab-decode",
    abstract: "Turn a token stream back into a table.",
    discussion: """
      Reads a token stream (standard input, or INPUT) and writes the table to standard \
      output, or atomically to -o FILE: the original column names and order, integers as \
      integers, the input's decimal places and date formats, labels byte-exact, missing cells \
      with the input's marker. Columns with at most 1000 distinct values come back exactly; \
      others within the resolution of their quantile grid. See tab-decode(1).
      """,
    version: "tab-decode (tabpipe) \(tabpipeVersion)")

  static func main() { Tool.run(Self.self) }

  @Argument(help: "Token stream to read; '-' or absent: standard input.")
  var input: String?

  @Option(name: .shortAndLong, help: "Write to FILE (atomically) instead of standard output.")
  var output: String?

  @Option(help: "Output format: csv (the input's delimiter), tsv, or jsonl.")
  var format = "csv"

  @Flag(inversion: .prefixedNo, help: "Write a header row (default: as the input had).")
  var header: Bool?

  @OptionGroup var reporting: ReportingOptions

  func validate() throws {
    guard TableFormat(rawValue: format) != nil else {
      throw ValidationError("--format must be csv, tsv or jsonl (got '\(format)').")
    }
  }

  func run() throws {
    let reader = try StreamReader(
      source: try openInput(input, reading: "a token stream", example: "tab-decode < tokens.bin"))
    try reader.require(
      [.tokens],
      hint: reader.header.kind == .latents
        ? "decode latents to tokens first with tab-vae decode" : "tab-decode reads what tab-encode writes")
    let encoder = try TableEncoder.from(reader.header, path: reader.path)
    let progress = reporting.makeProgress("decoded")
    let target = try OutputTarget(path: output, binary: false, force: true, inputs: [input])
    try target.write { sink in
      let decoder = TableDecoder(encoder: encoder, format: TableFormat(rawValue: format)!, sink: sink, header: header, path: reader.path)
      try decoder.begin()
      var block = RowBlock(layout: reader.header.layout)
      while try reader.read(into: &block) {
        try decoder.write(block)
        progress.update(rows: decoder.rows)
      }
      try decoder.finish()
    }
    progress.finish(rows: reader.rowsRead)
  }
}
