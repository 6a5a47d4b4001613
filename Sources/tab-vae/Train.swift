// tab-vae train: the training loop's command line (progress, log, time budget, interrupt).

import ArgumentParser
import TabCLI
import TabCore
import TabStream
import TabVAE

extension TabVAECommand {
  struct Train: ParsableCommand {
    /// Epochs when --epochs is absent (see tab-vae(1) for how it was chosen).
    static let defaultEpochs = 300
    /// --lr-anneal when absent (docs/vae.md, "Quality").
    static let defaultAnneal = 0.0

    static let configuration = CommandConfiguration(
      abstract: "Train the VAE on a token stream.",
      discussion: """
        Reads tokens from tab-encode (standard input, or INPUT), holds out --val-fraction of the \
        rows for validation, trains, and writes the model with the best validation loss to -m \
        FILE (default: $TABPIPE_MODEL_DIR/vae.model, else ./tabpipe-models/vae.model), \
        atomically. SIGINT/SIGTERM or --max-time stop cleanly and keep the best model.
        """)

    @Argument(help: "Token stream to read; '-' or absent: standard input.")
    var input: String?
    @OptionGroup var model: ModelOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var reporting: ReportingOptions

    @Option(help: "Share of the rows held out for validation, 0 to below 1.")
    var valFraction = 0.1
    @Option(help: "Rows per batch.")
    var batchSize = 512
    @Option(help: "Adam's learning rate.")
    var lr: Float = 1e-3
    @Option(help: "Token width D.")
    var dToken = 4
    @Option(help: "Layers of each transformer.")
    var layers = 2
    @Option(help: "Attention heads (must divide --d-token).")
    var heads = 1
    @Option(help: "Feed-forward width of each layer, a multiple of 8.")
    var ffWidth = 128
    @Option(help: "KL weight at the start; lowered by 0.7 on each validation plateau of 10 epochs.")
    var betaMax: Float = 1e-2
    @Option(help: "Smallest KL weight.")
    var betaMin: Float = 1e-5
    @Option(help: "Share of the epochs at the end over which the learning rate anneals (half cosine to 2%); 0: constant.")
    var lrAnneal = Self.defaultAnneal
    @Option(help: "Stop after this many epochs without a better validation loss; 0: never.")
    var earlyStop = 0
    @Option(help: "zstd compression level of the model file, 1 to 19.")
    var level: Int32 = 3

    func validate() throws {
      guard valFraction >= 0 && valFraction < 1 else {
        throw ValidationError("--val-fraction must be at least 0 and below 1 (got \(valFraction)).")
      }
      guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
      guard lr > 0 && lr.isFinite else { throw ValidationError("--lr must be positive.") }
      guard dToken >= 1 && layers >= 1 && heads >= 1 && ffWidth >= 1 else {
        throw ValidationError("--d-token, --layers, --heads and --ff-width must be at least 1.")
      }
      guard ffWidth % 8 == 0 else { throw ValidationError("--ff-width must be a multiple of 8.") }
      guard dToken % heads == 0 else { throw ValidationError("--heads must divide --d-token.") }
      guard betaMax > 0 && betaMin > 0 && betaMin <= betaMax else {
        throw ValidationError("--beta-min and --beta-max must be positive, min <= max.")
      }
      guard lrAnneal >= 0 && lrAnneal <= 1 else {
        throw ValidationError("--lr-anneal must be from 0 to 1 (got \(lrAnneal)).")
      }
      guard earlyStop >= 0 else { throw ValidationError("--early-stop must be at least 0.") }
      guard (1...19).contains(level) else { throw ValidationError("--level must be 1 to 19.") }
    }

    func run() throws {
      if let threads = training.threads { BLASThreads.maximum = threads }
      BLASThreads.strategy = .halves  // TabCore's own two-core forks (Kernels/SpinTeam.swift)
      let reader = try openStream(input, kind: .tokens, hint: "tab-vae train reads what tab-encode writes")
      let table = try TokenTable.read(reader)
      guard table.rows >= 2 else {
        throw ToolError("\(reader.path): \(table.rows) row(s); training needs at least 2", status: ExitStatus.dataError)
      }
      let path = try model.pathForWriting(defaultName: defaultModelName)
      // Opened now, so an unwritable path fails before training; renamed into place at the end.
      let target = try OutputTarget(path: path, binary: true, force: true, inputs: [input])
      let config = VAEConfig(
        layout: table.layout, width: dToken, layers: layers, heads: heads, hidden: ffWidth)
      guard config.decoderTokens >= 1 else {
        throw ToolError(
          "\(reader.path): no columns to learn (every column is constant or an ID)",
          status: ExitStatus.dataError)
      }
      let vae = VAEModel(config)
      var options = VAETrainingOptions()
      options.epochs = training.epochs ?? Self.defaultEpochs
      options.batchSize = batchSize
      options.learningRate = lr
      options.validationFraction = valFraction
      options.betaMaximum = betaMax
      options.betaMinimum = betaMin
      options.earlyStop = earlyStop
      options.annealFraction = lrAnneal
      options.seed = training.seed
      let trainer = VAETrainer(model: vae, table: table, options: options)
      let reporter = try EpochReporter(
        reporting: reporting, training: training, totalEpochs: options.epochs, files: [input, path])
      reporter.say(
        "training on \(trainer.trainingRowCount) rows, validating on \(trainer.validationRowCount); "
          + "\(config.tokens) tokens of width \(config.width), \(vae.parameters.arena.scalarCount) parameters")
      TrainingInterrupt.install()
      var interrupted = false
      for _ in 0..<options.epochs {
        guard let epoch = trainer.runEpoch(stop: { TrainingInterrupt.requested }) else {
          interrupted = true
          break
        }
        try reporter.epoch(
          epoch.epoch, rows: epoch.trainingRows, epochSeconds: epoch.seconds,
          fields: fields(epoch), note: epoch.isBest ? "best" : "")
        if TrainingInterrupt.requested { interrupted = true; break }
        if reporter.outOfTime {
          reporter.say("--max-time reached after epoch \(epoch.epoch)")
          break
        }
        if trainer.shouldStopEarly {
          reporter.say("no better validation loss for \(earlyStop) epochs; stopping")
          break
        }
      }
      TrainingInterrupt.uninstall()
      trainer.restoreBest()
      if trainer.bestEpoch > 0 {
        try target.write { sink in
          try VAEModelFile.write(
            vae, layout: table.layout, encoder: reader.header.encoder, bestEpoch: trainer.bestEpoch,
            validationLoss: trainer.bestLoss.isFinite ? trainer.bestLoss : nil,
            provenance: reader.header.provenance + [provenanceStep(seed: training.seed)], to: sink,
            level: level)
        }
      } else {
        target.discard()
        if !interrupted {
          throw ToolError(
            "\(reader.path): no epoch reached a finite validation loss; no model written (try a lower --lr)",
            status: ExitStatus.dataError)
        }
      }
      if interrupted {
        if trainer.bestEpoch == 0 {
          throw ToolError("interrupted before the first epoch ended; no model written", status: ExitStatus.interrupted)
        }
        throw ToolError(
          "interrupted; kept the best model (epoch \(trainer.bestEpoch)) in \(path)",
          status: ExitStatus.interrupted)
      }
      reporter.say(
        "kept epoch \(trainer.bestEpoch) (validation MSE + CE \(trainer.bestLoss)) in \(path); "
          + "\(formatDuration(reporter.elapsed)) in all")
    }

    private func fields(_ e: VAEEpoch) -> [(String, Double)] {
      var list: [(String, Double)] = [
        ("loss", Double(e.train.total)), ("mse", Double(e.train.reconstruction)),
        ("ce", Double(e.train.crossEntropy)), ("kl", Double(e.train.kl)),
      ]
      if let v = e.validation {
        list += [("val_mse", Double(v.reconstruction)), ("val_ce", Double(v.crossEntropy))]
      }
      list += [("beta", Double(e.beta)), ("lr", Double(e.learningRate)), ("epoch_s", e.seconds)]
      return list
    }
  }
}
