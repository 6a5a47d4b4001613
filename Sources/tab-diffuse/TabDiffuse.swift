// tab-diffuse: learns the distribution of a latent stream with EDM diffusion (train) and writes
// new latents block by block (sample). The model file carries the latent stream's encoder and
// VAE identity, and so does every sampled stream.

import ArgumentParser
import TabCLI
import TabCore
import TabDiffusion
import TabStream

#if canImport(Glibc)
  import Glibc
#endif

@main
struct TabDiffuse: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tab-diffuse",
    abstract: "Learn latents with EDM diffusion and sample new ones.",
    discussion: """
      'tab-diffuse train' reads a latent stream (from tab-vae encode) and writes a model file; \
      'tab-diffuse sample' writes new latents for tab-vae decode. See tab-diffuse(1).
      """,
    version: "tab-diffuse (tabpipe) \(tabpipeVersion)",
    subcommands: [Train.self, Sample.self])

  static func main() { Tool.run(Self.self) }
}

/// The recipe defaults (docs/diffusion-recipe.md).
enum Recipe {
  static let width = 256
  static let depth = 3
  static let epochs = 400
  static let batchSize = 256
  static let learningRate: Float = 3e-3
  static let schedule = TrainingSettings.Schedule.cosine
  static let ema: Float = 0.999
  static let clip: Float = 1
  static let normalization = DiffusionConfig.Normalization.standard
  static let sigmaMean: Float = -1.2
  static let sigmaStd: Float = 1.2
  static let steps = 30
  static let sampleBatch = 4096
}

extension TabDiffuse {
  struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Train the denoiser on a latent stream and save the model.",
      discussion: """
        Reads the whole latent stream (INPUT or standard input) into memory, learns the latent \
        mean and an EDM denoiser, and writes the model file atomically (-m FILE, default \
        $TABPIPE_MODEL_DIR/diffusion.model). SIGINT, SIGTERM or --max-time stop training \
        cleanly and keep the best model.
        """)

    @Argument(help: "Latent stream to learn; '-' or absent: standard input.")
    var input: String?

    @OptionGroup var model: ModelOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var reporting: ReportingOptions

    @Option(help: "Denoiser base width W (layers W, 2W, 2W, W; TabSyn uses 1024).")
    var width = Recipe.width

    @Option(help: "Hidden layers of the denoiser (depth - 1 of width 2W, then one of W; TabSyn: 3).")
    var depth = Recipe.depth

    @Option(help: "Rows per optimisation step.")
    var batchSize = Recipe.batchSize

    @Option(help: "Adam learning rate.")
    var lr = Recipe.learningRate

    @Option(help: "Learning-rate schedule: cosine (to 10% over the epochs), plateau (TabSyn's), or constant.")
    var schedule = Recipe.schedule.rawValue

    @Option(help: "Decay of the exponential moving average of the weights (0: off; the average is what is saved).")
    var ema = Recipe.ema

    @Option(help: "Latent normalisation: standard (per dimension, to EDM's sigma_data), whiten (the full covariance, to sigma_data) or fixed (TabSyn's (z - mean) / 2).")
    var normalization = Recipe.normalization.rawValue

    @Option(help: "Clip each step's gradient to this norm (0: no clipping).")
    var clip = Recipe.clip

    @Option(help: "Mean of ln(sigma) for the training noise levels (EDM's P_mean).")
    var sigmaMean = Recipe.sigmaMean

    @Option(help: "Standard deviation of ln(sigma) for the training noise levels (EDM's P_std).")
    var sigmaStd = Recipe.sigmaStd

    func validate() throws {
      if width < 2 || width % 2 != 0 { throw ValidationError("--width must be an even number of at least 2 (got \(width)).") }
      if depth < 1 || depth > 64 { throw ValidationError("--depth must be 1 to 64 (got \(depth)).") }
      if batchSize < 1 { throw ValidationError("--batch-size must be at least 1 (got \(batchSize)).") }
      if !(lr > 0) || !lr.isFinite { throw ValidationError("--lr must be positive (got \(lr)).") }
      if TrainingSettings.Schedule(rawValue: schedule) == nil {
        throw ValidationError("--schedule must be cosine, plateau or constant (got '\(schedule)').")
      }
      if !(ema >= 0 && ema < 1) { throw ValidationError("--ema must be in [0, 1) (got \(ema)).") }
      if DiffusionConfig.Normalization(rawValue: normalization) == nil {
        throw ValidationError("--normalization must be standard, whiten or fixed (got '\(normalization)').")
      }
      if !(clip >= 0) || !clip.isFinite { throw ValidationError("--clip must be 0 or positive (got \(clip)).") }
      if !sigmaMean.isFinite || abs(sigmaMean) > 10 {
        throw ValidationError("--sigma-mean must be between -10 and 10 (got \(sigmaMean)).")
      }
      if !(sigmaStd > 0 && sigmaStd <= 10) { throw ValidationError("--sigma-std must be in (0, 10] (got \(sigmaStd)).") }
    }

    func run() throws {
      BLASThreads.maximum = training.threads ?? 2
      BLASThreads.strategy = .halves  // TabCore's own two-core forks (Kernels/SpinTeam.swift)
      let source = try openInput(input, reading: "latents", example: "tab-diffuse train < z.bin")
      let reader = try StreamReader(source: source)
      let (origin, values, rows) = try readLatents(reader)
      if rows < 2 { throw DiffusionError.tooFewRows(path: reader.path, rows: rows) }
      let path = try model.pathForWriting(defaultName: "diffusion")
      let target = try OutputTarget(path: path, binary: true, force: true, inputs: [input])

      let config = DiffusionConfig(
        dimension: origin.layout.floatWidth, width: width, depth: depth,
        logSigmaMean: sigmaMean, logSigmaStd: sigmaStd, normalization: DiffusionConfig.Normalization(rawValue: normalization)!)
      let latentModel = LatentModel(config: config, origin: origin)
      var generator = SeededGenerator(seed: training.seed)
      latentModel.denoiser.initialize(using: &generator)
      let settings = TrainingSettings(
        batchSize: batchSize, learningRate: lr, schedule: TrainingSettings.Schedule(rawValue: schedule)!,
        emaDecay: ema, gradientClip: clip > 0 ? clip : nil)
      let trainer = try values.withUnsafeBufferPointer {
        try DiffusionTrainer(
          model: latentModel, latents: $0, rows: rows, settings: settings, seed: training.seed, path: reader.path)
      }
      let epochs = training.epochs ?? Recipe.epochs
      let reporter = try EpochReporter(
        reporting: reporting, training: training, totalEpochs: epochs, files: [input, path])
      reporter.say(
        "\(rows) rows x \(config.dimension) latents, \(latentModel.denoiser.arena.scalarCount) parameters, "
          + "\(epochs) epochs of \((rows + trainer.workspaceRows - 1) / trainer.workspaceRows) steps")

      var best: (epoch: Int, loss: Double, weights: [Float])?
      var epochsRun = 0
      TrainingInterrupt.install()
      for epoch in 1...epochs {
        let started = monotonicSeconds()
        let budgetUsed = training.maxSeconds.map { reporter.elapsed / $0 } ?? 0
        let (loss, completed) = trainer.epoch(plannedEpochs: epochs, budgetUsed: budgetUsed) {
          TrainingInterrupt.requested || reporter.outOfTime
        }
        guard completed else { break }
        epochsRun = epoch
        if !loss.isFinite {
          TrainingInterrupt.uninstall()
          throw ToolError("training diverged at epoch \(epoch) (loss \(loss)); try a lower --lr", status: ExitStatus.software)
        }
        var note = ""
        if loss < (best?.loss ?? .infinity) {
          best = (epoch, loss, trainer.snapshot())
          note = "best"
        }
        try reporter.epoch(
          epoch, rows: rows, epochSeconds: monotonicSeconds() - started,
          fields: [("loss", loss), ("lr", Double(trainer.learningRate))], note: note)
        if TrainingInterrupt.requested || reporter.outOfTime { break }
      }
      TrainingInterrupt.uninstall()
      let interrupted = TrainingInterrupt.requested
      guard let best else {
        target.discard()
        if interrupted {
          throw ToolError("interrupted before the first epoch ended; no model written", status: ExitStatus.interrupted)
        }
        throw ToolError("--max-time ran out before the first epoch ended; no model written; give more time", status: ExitStatus.software)
      }
      latentModel.training = TrainingSummary(
        rows: rows, epochs: epochsRun, bestEpoch: best.epoch, bestLoss: best.loss, seconds: reporter.elapsed,
        seed: training.seed)
      var provenance = reader.header.provenance
      provenance.append(provenanceStep(seed: training.seed))
      try trainer.withWeights(best.weights) {
        try target.write { sink in try latentModel.write(to: sink, provenance: provenance) }
      }
      reporter.say("saved epoch \(best.epoch) (loss \(best.loss)) to \(path)")
      if interrupted {
        throw ToolError("interrupted; kept the best model (epoch \(best.epoch)) in \(path)", status: ExitStatus.interrupted)
      }
    }
  }

  struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write new latents sampled from a trained model.",
      discussion: """
        Writes -n ROWS latents as a stream (standard output, or -o FILE atomically), block by \
        block in memory bounded by --batch. The same --seed gives the same rows whatever \
        --batch and --threads are.
        """)

    @OptionGroup var model: ModelOptions

    @Option(name: [.customShort("n"), .long], help: "Number of rows to write.")
    var rows: Int

    @Option(help: "Random seed: each row's noise is a function of the seed and the row's index.")
    var seed: UInt64 = 0

    @Option(help: "Sampler steps M (2M - 1 denoiser evaluations per row).")
    var steps = Recipe.steps

    @Option(help: "Rows sampled at once, rounded up to a multiple of 256 (memory grows with it).")
    var batch = Recipe.sampleBatch

    @Option(help: "EDM's S_churn: stochastic noise added per step (0: deterministic).")
    var churn: Double = 1

    @Option(help: "Threads for matrix products (default: 2).")
    var threads: Int?

    @OptionGroup var output: StreamOutputOptions
    @OptionGroup var reporting: ReportingOptions

    func validate() throws {
      if rows < 0 { throw ValidationError("-n must not be negative (got \(rows)).") }
      if steps < 1 || steps > 10_000 { throw ValidationError("--steps must be 1 to 10000 (got \(steps)).") }
      if batch < 1 { throw ValidationError("--batch must be at least 1 (got \(batch)).") }
      if !(churn >= 0) || !churn.isFinite { throw ValidationError("--churn must not be negative (got \(churn)).") }
      if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads)).") }
    }

    func run() throws {
      BLASThreads.maximum = threads ?? 2
      let path = try model.existingPath(defaultName: "diffusion", trainHint: "tab-diffuse train < latents")
      let (latentModel, fileProvenance) = try LatentModel.read(from: try FileInput(path: path))
      var provenance = fileProvenance
      provenance.append(provenanceStep(seed: seed))
      let header = latentModel.origin.header(provenance: provenance)
      let settings = SamplerSettings(steps: steps, churn: churn)
      // Blocks start at multiples of the sampler's chunk, which keeps rows batch-independent.
      let chunk = LatentSampler.chunkRows
      let capacity = (max(1, min(batch, rows)) + chunk - 1) / chunk * chunk
      let sampler = LatentSampler(model: latentModel, settings: settings, capacity: capacity)
      let d = latentModel.config.dimension
      let buffer = UnsafeMutablePointer<Float>.allocate(capacity: capacity * d)
      defer { buffer.deallocate() }
      let progress = reporting.makeProgress("sampled")
      let target = try OutputTarget(path: output.output, binary: true, force: output.force, inputs: [path])
      try target.write { sink in
        let writer = try StreamWriter(sink: sink, header: header, level: output.level)
        var done = 0
        while done < rows {
          // A small first block lets a reader (`| head`) see rows at once; rows do not depend
          // on how they are batched.
          let count = min(done == 0 ? chunk : capacity, rows - done)
          let block = Matrix(buffer, rows: count, cols: d)
          sampler.sample(firstRow: done, seed: seed, into: block)
          try writer.write(
            rows: count, floats: UnsafeRawBufferPointer(start: buffer, count: count * d * 4),
            ints: UnsafeRawBufferPointer(start: nil, count: 0))
          done += count
          progress.update(rows: done)
        }
        try writer.finish()
      }
      progress.finish(rows: rows)
    }
  }
}
