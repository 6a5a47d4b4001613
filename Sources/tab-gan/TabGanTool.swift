// tab-gan: CTGAN with InfoGAN codes. `train` learns from a token stream made by
// `tab-encode --numeric gmm`; `sample` writes a token stream for tab-decode, with conditions
// (--where) and fixed codes (--code); `codes` tells what each learned code controls.

import ArgumentParser
import TabCLI
import TabCore
import TabGAN
import TabStream
import TabTable

#if canImport(Glibc)
  import Glibc
#endif

@main
struct TabGanTool: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tab-gan",
    abstract: "Train CTGAN with InfoGAN codes on a token stream, and sample from it.",
    discussion: """
      tab-encode --numeric gmm < table.csv | tab-gan train; tab-gan sample -n 1000 | tab-decode. \
      The model file defaults to $TABPIPE_MODEL_DIR/gan.model, else ./tabpipe-models/gan.model. \
      See tab-gan(1).
      """,
    version: "tab-gan (tabpipe) \(tabpipeVersion)",
    subcommands: [Train.self, Sample.self, Codes.self])

  static func main() { Tool.run(Self.self) }
}

/// Parses --codes: "none", or a comma list of cat:K and cont:L.
func parseCodes(_ text: String) throws -> (categorical: Int, continuous: Int) {
  if text == "none" { return (0, 0) }
  var result = (categorical: 0, continuous: 0)
  let parts = text.split(separator: ",", omittingEmptySubsequences: false)
  for part in parts {
    let pieces = part.split(separator: ":")
    guard !text.isEmpty, pieces.count == 2, let n = Int(pieces[1]), n >= 0 else {
      throw ValidationError("--codes takes 'none' or e.g. cat:10,cont:2 (got '\(text)').")
    }
    switch pieces[0] {
    case "cat":
      // cat:0 would silently mean no code: 'none' says that.
      guard n >= 2, n <= 1000 else {
        throw ValidationError("--codes: a categorical code takes 2 to 1000 values (got \(n)).")
      }
      result.categorical = n
    case "cont":
      guard n >= 1, n <= 100 else {
        throw ValidationError("--codes: cont takes 1 to 100 continuous codes (got \(n)).")
      }
      result.continuous = n
    default: throw ValidationError("--codes: unknown code kind '\(pieces[0])' (cat or cont).")
    }
  }
  return result
}

extension TabGanTool {
  struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Train the GAN on a token stream (tab-encode --numeric gmm).",
      discussion: "Reads a token stream (standard input, or INPUT) and writes the model file (-m).")

    @Argument(help: "Token stream to read; '-' or absent: standard input.")
    var input: String?
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var reporting: ReportingOptions

    // --batch as the issue and CTGAN name it; --batch-size as tab-vae and tab-diffuse do.
    @Option(name: [.customLong("batch"), .customLong("batch-size")], help: "Rows per training step; a multiple of --pac.")
    var batch = 500
    @Option(help: "PacGAN group size: rows the critic judges together.")
    var pac = 10
    @Option(
      help:
        "InfoGAN codes: 'none', or e.g. cat:10,cont:2 (a 10-valued code and two continuous ones).")
    var codes = "cat:10,cont:2"
    @Option(help: "Weight of the information term (λ) for the categorical code.")
    var lambda: Float = 1
    @Option(help: "Weight of the information term for the continuous codes.")
    var lambdaCont: Float = 1
    @Option(help: "Width of the generator's blocks, the critic's and Q's hidden layers.")
    var width = 256
    @Option(help: "Width of the generator's noise input.")
    var noise = 128
    @Option(name: [.customLong("lr"), .customLong("learning-rate")], help: "Learning rate of both Adam optimisers.")
    var learningRate: Float = 2e-4

    @Flag(help: "Generate a second, fresh batch for each generator update, as CTGAN does (default: reuse the batch the critic update just scored).")
    var freshFake = false

    func validate() throws {
      guard pac >= 1, batch >= pac, batch % pac == 0 else {
        throw ValidationError(
          "--batch must be a positive multiple of --pac (got \(batch) and \(pac)).")
      }
      // BatchNorm needs two rows to have a variance; the cap keeps the buffers allocatable.
      guard batch >= 2, batch <= 1 << 20 else {
        throw ValidationError("--batch must be from 2 to 1048576 (got \(batch)).")
      }
      _ = try parseCodes(codes)
      guard (1...16384).contains(width), (1...16384).contains(noise) else {
        throw ValidationError("--width and --noise must be from 1 to 16384.")
      }
      guard lambda.isFinite, lambda >= 0 else {
        throw ValidationError("--lambda must be a number ≥ 0 (got \(lambda)).")
      }
      guard lambdaCont.isFinite, lambdaCont >= 0 else {
        throw ValidationError("--lambda-cont must be a number ≥ 0 (got \(lambdaCont)).")
      }
      guard learningRate.isFinite, learningRate > 0 else {
        throw ValidationError("--lr must be a positive number (got \(learningRate)).")
      }
    }

    func run() throws {
      if let threads = training.threads { BLASThreads.maximum = threads }
      // Products of the critic's 50 packed rows split poorly in OpenBLAS's pool, whose spinning
      // workers also crowd out parallel loops: fork onto TabCore's own pair instead (docs/gan.md).
      BLASThreads.strategy = .halves
      let source = try openInput(
        input, reading: "a token stream", example: "tab-encode --numeric gmm < t.csv | tab-gan train")
      let reader = try StreamReader(source: source)
      try reader.require([.tokens], hint: "tab-gan trains on tab-encode --numeric gmm output")
      let layout = try GANLayout(reader.header.layout, path: reader.path)
      let sampler = try DataSampler(reader: reader, layout: layout)
      guard sampler.rows >= 2 else {
        throw GANError.tooFewRows(path: reader.path, rows: sampler.rows, needed: 2)
      }
      var config = GANConfig()
      (config.categoricalCode, config.continuousCodes) = try parseCodes(codes)
      config.batch = batch
      config.pac = pac
      config.lambdaCategorical = lambda
      config.lambdaContinuous = lambdaCont
      config.generatorWidths = [width, width]
      config.criticWidths = [width, width]
      config.qWidth = width
      config.noiseWidth = noise
      config.learningRate = learningRate
      let epochs = training.epochs ?? 300
      let info = GANModelInfo(
        config: config, layout: reader.header.layout, encoder: reader.header.encoder,
        counts: sampler.counts, rows: sampler.rows, epochs: 0)
      var random = SeededGenerator(seed: training.seed)
      let model = GANModel(config: config, layout: layout, info: info, using: &random)
      let trainer = GANTrainer(model: model, sampler: sampler, using: &random)
      trainer.reuseFakeBatch = !freshFake
      let path = try modelOptions.pathForWriting(defaultName: "gan")
      let target = try OutputTarget(path: path, binary: true, force: true, inputs: [input])
      let reporter = try EpochReporter(
        reporting: reporting, training: training, totalEpochs: epochs, files: [input, path])
      TrainingInterrupt.install()
      var done = 0
      var stopped = false
      while done < epochs && !stopped {
        let start = monotonicSeconds()
        let (statistics, cut) = trainer.epoch { TrainingInterrupt.requested || reporter.outOfTime }
        let complete = statistics.steps == trainer.stepsPerEpoch
        stopped = cut
        var fields: [(String, Double)] = [
          ("loss_d", Double(statistics.critic)), ("loss_g", Double(statistics.generator)),
          ("cond_ce", Double(statistics.conditional)),
        ]
        if config.categoricalCode > 0 {
          fields.append(("code_acc", Double(statistics.codeAccuracy)))
        }
        // A cut epoch is reported under its own number, marked partial, and not counted.
        try reporter.epoch(
          done + 1, rows: statistics.steps * batch, epochSeconds: monotonicSeconds() - start,
          fields: fields, note: complete ? "" : "partial")
        let number = done + 1
        if complete { done += 1 }
        // A diverged run would write a model of NaNs that samples garbage with exit 0.
        guard statistics.critic.isFinite && statistics.generator.isFinite,
          model.arena.values.allSatisfy(\.isFinite)
        else {
          TrainingInterrupt.uninstall()
          target.discard()
          throw ToolError(
            "training diverged at epoch \(number) (non-finite loss); try a lower --lr",
            status: ExitStatus.software)
        }
      }
      TrainingInterrupt.uninstall()
      model.info.epochs = done
      try target.write { sink in
        try model.write(
          to: sink, provenance: reader.header.provenance + [provenanceStep(seed: training.seed)])
      }
      if TrainingInterrupt.requested {
        throw ToolError(
          "interrupted; kept the model (\(done) epoch(s)) in \(path)",
          status: ExitStatus.interrupted)
      }
      if stopped { reporter.say("time budget spent after \(done) epoch(s); model in \(path)") }
    }
  }

  struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Sample token rows from a trained model.",
      discussion:
        "Writes a token stream (for tab-decode) to standard output, or atomically to -o FILE.")

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: [.customShort("n"), .long], help: "Number of rows to write.")
    var rows: Int
    @Option(help: "Random seed: the same seed and model give a bit-identical stream.")
    var seed: UInt64 = 0
    @Option(
      name: .customLong("where"),
      help:
        "Condition every row meets: COLUMN=CATEGORY, or COLUMN>=NUMBER (also >, <=, <). Repeatable."
    )
    var conditions: [String] = []
    @Option(
      name: .customLong("code"),
      help:
        "Fix an InfoGAN code: c0=3 (the categorical code), c1=0.5 (continuous, -1 to 1). Repeatable."
    )
    var codes: [String] = []
    @Option(help: "Threads for matrix products (default: 2).")
    var threads: Int?
    @Option(help: "Rows per stream block.")
    var blockRows = 4096
    @OptionGroup var output: StreamOutputOptions
    @OptionGroup var reporting: ReportingOptions

    func validate() throws {
      // -n 0 writes a valid empty stream, as tab-diffuse sample does (and head -n 0).
      guard rows >= 0 else { throw ValidationError("-n must not be negative (got \(rows)).") }
      guard (1...(1 << 20)).contains(blockRows) else {
        throw ValidationError("--block-rows must be from 1 to 1048576 (got \(blockRows)).")
      }
      if let threads, threads < 1 { throw ValidationError("--threads must be at least 1.") }
      _ = try parsedCodes()
    }

    func parsedCodes() throws -> [Int: Float] {
      var result: [Int: Float] = [:]
      for text in codes {
        let parts = text.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, parts[0].first == "c", let index = Int(parts[0].dropFirst()),
          let value = Float(parts[1]), value.isFinite
        else {
          throw ValidationError("--code takes cN=VALUE, e.g. c0=3 or c1=0.5 (got '\(text)').")
        }
        result[index] = value
      }
      return result
    }

    func run() throws {
      if let threads { BLASThreads.maximum = threads }
      let (path, model, encoder) = try modelOptions.loadGANModel()
      let sampler: GANSampler
      do {
        let conditions = try self.conditions.map {
          try SampleCondition($0, encoder: encoder, layout: model.layout)
        }
        sampler = try GANSampler(
          model: model, encoder: encoder, conditions: conditions, codes: try parsedCodes(),
          seed: seed)
      } catch let error as ConditionError {
        throw ToolError(error.message, status: ExitStatus.usage)
      }
      let header = StreamHeader(
        kind: .tokens, layout: model.info.layout, encoder: model.info.encoder,
        provenance: [provenanceStep(seed: seed)])
      let showProgress = !reporting.quiet && (reporting.progress || isatty(2) == 1)
      var last = monotonicSeconds()
      let target = try OutputTarget(
        path: output.output, binary: true, force: output.force, inputs: [path])
      try target.write { sink in
        let writer = try StreamWriter(sink: sink, header: header, level: output.level)
        try sampler.sample(rows: rows, blockRows: max(1, min(blockRows, rows)), write: { try writer.write($0) }) { s in
          guard showProgress, monotonicSeconds() - last >= 0.25 else { return }
          last = monotonicSeconds()
          Self.show(s, final: false)
        }
        try writer.finish()
      }
      if showProgress { Self.show(sampler, final: true) }
    }

    /// "sampled 800 rows; generated 1000, 20.0% missed the condition and were redrawn".
    static func show(_ s: GANSampler, final: Bool) {
      var line = "\rtab-gan: sampled \(s.accepted) rows"
      if !s.conditions.isEmpty {
        let missed = s.generated - s.accepted
        let share = Double(missed) * 100 / Double(max(s.generated, 1))
        let tenths = Int((share * 10).rounded())
        line +=
          "; generated \(s.generated), \(tenths / 10).\(tenths % 10)% missed the condition and were redrawn"
      }
      line += final ? "\n" : ""
      var bytes = Array(line.utf8)
      bytes.withUnsafeMutableBytes { _ = write(2, $0.baseAddress, $0.count) }
    }
  }

  struct Codes: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show what each InfoGAN code controls.",
      discussion: """
        For each code, generates rows at several of its values and lists the columns whose \
        distributions move most (mean total variation distance from the pooled rows, 0 to 1).
        """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Rows generated per code value.")
    var rows = 2000
    @Option(help: "Columns listed per code.")
    var top = 5
    @Option(help: "Random seed.")
    var seed: UInt64 = 0
    @Option(help: "Threads for matrix products (default: 2).")
    var threads: Int?

    func validate() throws {
      if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads)).") }
      guard (10...1_000_000).contains(rows) else {
        throw ValidationError("--rows must be from 10 to 1000000 (got \(rows)).")
      }
      guard top >= 1 else { throw ValidationError("--top must be at least 1.") }
    }

    func run() throws {
      if let threads { BLASThreads.maximum = threads }
      let (path, model, encoder) = try modelOptions.loadGANModel()
      guard model.config.codeCount > 0 else {
        throw ToolError(
          "\(path): the model was trained without codes (--codes none)", status: ExitStatus.usage)
      }
      let effects = try CodeReport.measure(model: model, encoder: encoder, rows: rows, seed: seed)
      var text = ""
      for effect in effects {
        let levels =
          effect.kind == "categorical" ? "values 0-\(effect.levels.count - 1)" : "values -1 to 1"
        text += "\(effect.name) (\(effect.kind), \(levels)):"
        for (name, shift) in effect.columns.prefix(top) { text += " \(name) \(Self.fixed(shift))" }
        text += " (noise floor \(Self.fixed(effect.floor)))\n"
      }
      try FileOutput.standardOutput().write(Array(text.utf8))
    }

    /// Three decimals: 0.123.
    static func fixed(_ x: Double) -> String {
      let milli = Int((x * 1000).rounded())
      let fraction = String(milli % 1000)
      return "\(milli / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
  }
}

extension ModelOptions {
  /// The trained model (-m, or the default path) and the table encoder it carries.
  func loadGANModel() throws -> (path: String, model: GANModel, encoder: TableEncoder) {
    let path = try existingPath(defaultName: "gan", trainHint: "tab-gan train")
    let model = try GANModel.load(from: try FileInput(path: path))
    guard let encoderJSON = model.info.encoder else {
      throw GANError.notGANModel(path: path, detail: "it carries no table encoder")
    }
    let encoder = try TableEncoder.from(
      StreamHeader(kind: .tokens, layout: model.info.layout, encoder: encoderJSON), path: path)
    return (path, model, encoder)
  }
}
