// tab-vae: TabSyn's transformer VAE as a pipeline stage. `train` learns from a token stream,
// `encode` turns tokens into latents, `decode` turns latents back into tokens.

import ArgumentParser
import TabCLI
import TabCore
import TabStream
import TabVAE

@main
struct TabVAECommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tab-vae",
    abstract: "Learn a table's latent space with TabSyn's transformer VAE.",
    discussion: """
      'tab-vae train' reads a token stream from tab-encode and writes a model file (with the \
      table encoder inside); 'tab-vae encode' turns a token stream into latents, one row per \
      row; 'tab-vae decode' turns latents back into a token stream that tab-decode reads. \
      See tab-vae(1).
      """,
    version: "tab-vae (tabpipe) \(tabpipeVersion)",
    subcommands: [Train.self, Encode.self, Decode.self])

  static func main() { Tool.run(Self.self) }
}

/// The model's default name under ModelOptions' folder.
let defaultModelName = "vae"
let trainHint = "tab-encode < table.csv | tab-vae train"

/// Opens the input stream and requires `kind`.
func openStream(_ path: String?, kind: StreamKind, hint: String) throws -> StreamReader {
  let command = CommandLine.arguments.dropFirst().first ?? "train"
  let file = kind == .latents ? "z.bin" : "x.bin"
  let source = try openInput(path, reading: "a stream", example: "tab-vae \(command) < \(file)")
  let reader = try StreamReader(source: source)
  try reader.require([kind], hint: hint)
  return reader
}

/// Reads the model named by `options` (or the default one).
func loadModel(_ options: ModelOptions) throws -> (file: VAEModelFile, path: String) {
  let path = try options.existingPath(defaultName: defaultModelName, trainHint: trainHint)
  return (try VAEModelFile.read(try FileInput(path: path)), path)
}

extension TabVAECommand {
  struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Turn a token stream into latents (one row per row).",
      discussion: """
        Reads tokens (standard input, or INPUT) and writes latents: per row the encoder's mean \
        (--sample: a draw) for every column token, [CLS] dropped, flattened to (n + C)·D floats. \
        Streams block by block in bounded memory.
        """)

    @Argument(help: "Token stream to read; '-' or absent: standard input.")
    var input: String?
    @OptionGroup var model: ModelOptions
    @OptionGroup var output: StreamOutputOptions
    @Flag(help: "Write a draw μ + σ·ε instead of the mean μ.")
    var sample = false
    @Option(help: "Seed of the draws of --sample.")
    var seed: UInt64 = 0
    @Option(help: "Threads for matrix products (default: 2).")
    var threads: Int?

    func run() throws {
      if let threads { BLASThreads.maximum = threads }
      let (file, modelPath) = try loadModel(model)
      let reader = try openStream(input, kind: .tokens, hint: "tab-vae encode reads what tab-encode writes")
      try file.checkTokens(reader.header, path: reader.path)
      let codec = VAECodec(model: file.model)
      let header = file.latentHeader(provenance: reader.header.provenance + [provenanceStep(seed: seed)])
      var generator: SeededGenerator? = sample ? SeededGenerator(seed: seed) : nil
      let target = try OutputTarget(path: output.output, binary: true, force: output.force, inputs: [input, modelPath])
      try target.write { sink in
        let writer = try StreamWriter(sink: sink, header: header, level: output.level)
        var block = RowBlock(layout: reader.header.layout)
        while try reader.read(into: &block) {
          try TokenTable.check(block, layout: reader.header.layout, firstRow: reader.rowsRead - block.rows, path: reader.path)
          try writer.write(codec.encode(block, sampling: &generator))
        }
        try writer.finish()
      }
    }
  }

  struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Turn latents back into a token stream.",
      discussion: """
        Reads latents (standard input, or INPUT) and writes tokens with the layout and table \
        encoder of the training stream, so tab-decode turns them into CSV. Categories are the \
        argmax of their logits (--sample-categories: a draw from the softmax).
        """)

    @Argument(help: "Latent stream to read; '-' or absent: standard input.")
    var input: String?
    @OptionGroup var model: ModelOptions
    @OptionGroup var output: StreamOutputOptions
    @Flag(help: "Draw each category from its softmax instead of taking the argmax.")
    var sampleCategories = false
    @Option(help: "Seed of the draws of --sample-categories.")
    var seed: UInt64 = 0
    @Option(help: "Threads for matrix products (default: 2).")
    var threads: Int?

    func run() throws {
      if let threads { BLASThreads.maximum = threads }
      let (file, modelPath) = try loadModel(model)
      let reader = try openStream(
        input, kind: .latents, hint: "tab-vae decode reads what tab-vae encode or tab-diffuse sample write")
      try file.checkLatents(reader.header, path: reader.path)
      let codec = VAECodec(model: file.model)
      let header = file.tokenHeader(provenance: reader.header.provenance + [provenanceStep(seed: seed)])
      var generator: SeededGenerator? = sampleCategories ? SeededGenerator(seed: seed) : nil
      let target = try OutputTarget(path: output.output, binary: true, force: output.force, inputs: [input, modelPath])
      try target.write { sink in
        let writer = try StreamWriter(sink: sink, header: header, level: output.level)
        var block = RowBlock(layout: reader.header.layout)
        var rowsBefore = 0
        while try reader.read(into: &block) {
          // NaN latents would decode to plausible-looking rows (each NaN token becomes a
          // column's first label or its minimum): refuse them as the man page says.
          if let k = block.floats.firstIndex(where: { !$0.isFinite }) {
            let row = rowsBefore + k / max(block.floatWidth, 1) + 1
            throw ToolError(
              "\(reader.path): row \(row): a non-finite latent (\(block.floats[k]))",
              status: ExitStatus.dataError)
          }
          rowsBefore += block.rows
          try writer.write(codec.decode(block, sampling: &generator))
        }
        try writer.finish()
      }
    }
  }
}
