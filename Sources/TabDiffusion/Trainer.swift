// The training loop's body (tabsyn.md §3.5): shuffled minibatches of normalised latents, the EDM
// loss with one σ per row, Adam, an EMA of the weights, and a learning-rate schedule.

import TabCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Optimisation settings.
public struct TrainingSettings: Codable, Equatable, Sendable {
  public enum Schedule: String, Codable, Sendable, CaseIterable {
    /// TabSyn's ReduceLROnPlateau(factor 0.9, patience 20) on the epoch-mean loss.
    case plateau
    /// Cosine decay from the learning rate to 10% of it over the planned epochs, or over the
    /// time budget when that runs out first.
    case cosine
    /// A constant learning rate.
    case constant
  }
  public var batchSize: Int
  public var learningRate: Float
  public var schedule: Schedule
  /// EMA decay per step, reached after a warm-up; 0 turns the average off (the live weights
  /// are saved).
  public var emaDecay: Float
  /// Largest gradient norm per step (larger gradients are scaled down to it); nil: no clipping.
  public var gradientClip: Float?

  public init(
    batchSize: Int = 256, learningRate: Float = 1e-3, schedule: Schedule = .cosine, emaDecay: Float = 0.999,
    gradientClip: Float? = nil
  ) {
    self.batchSize = batchSize
    self.learningRate = learningRate
    self.schedule = schedule
    self.emaDecay = emaDecay
    self.gradientClip = gradientClip
  }
}

/// Trains a `LatentModel` on normalised latents held in memory.
public final class DiffusionTrainer {
  public let model: LatentModel
  public let settings: TrainingSettings
  public let rows: Int
  public private(set) var adam: Adam
  public let ema: ExponentialMovingAverage?
  var plateau = ReduceLROnPlateau(factor: 0.9, patience: 20)
  var generator: SeededGenerator
  let storage = Workspace()
  /// The normalised training latents (rows, D).
  public let data: Matrix
  let batch: Matrix
  let epsilon: Matrix
  var sigma: [Float]
  let workspace: DenoiserWorkspace
  /// Data parallelism over two cores: a second denoiser whose values are copied from the
  /// model's before each step, and one workspace per half batch (nil: one denoiser, whose
  /// products use the threads themselves).
  let replica: Denoiser?
  let halfWorkspaces: [DenoiserWorkspace]
  public private(set) var epochsDone = 0

  /// Copies and normalises `latents` (rows × D, row-major), fitting the normalisation first.
  ///
  /// `dataParallel` splits each batch in two halves trained at once, one per core, with
  /// single-threaded products (default: when `BLASThreads.maximum` is at least 2 and the batch
  /// has at least 64 rows). The gradient is the same full-batch mean either way; only the
  /// rounding differs, so the same seed gives the same model for the same choice.
  /// - Parameter path: the latent stream's name, for messages.
  /// - Throws: `DiffusionError.singularCovariance` (`.whiten` on latents that do not vary, or
  ///   whose covariance is not finite; see `LatentModel.fitNormalization(_:path:)`).
  /// - Precondition: rows ≥ 1; the model's parameters are initialised.
  public init(
    model: LatentModel, latents: UnsafeBufferPointer<Float>, rows: Int, settings: TrainingSettings, seed: UInt64,
    dataParallel: Bool? = nil, path: String = "latents"
  ) throws {
    let d = model.config.dimension
    precondition(rows >= 1 && latents.count == rows * d, "DiffusionTrainer: \(rows) rows")
    self.model = model
    self.settings = settings
    self.rows = rows
    data = storage.matrix(rows: rows, cols: d)
    data.base.update(from: latents.baseAddress!, count: rows * d)
    try model.fitNormalization(data, path: path)
    model.normalize(data)
    let capacity = min(settings.batchSize, rows)
    batch = storage.matrix(rows: capacity, cols: d)
    epsilon = storage.matrix(rows: capacity, cols: d)
    sigma = [Float](repeating: 0, count: capacity)
    workspace = DenoiserWorkspace(config: model.config, capacity: capacity)
    if dataParallel ?? (BLASThreads.maximum >= 2 && capacity >= 64), capacity >= 2 {
      replica = Denoiser(config: model.config)
      halfWorkspaces = (0..<2).map { _ in DenoiserWorkspace(config: model.config, capacity: (capacity + 1) / 2) }
    } else {
      replica = nil
      halfWorkspaces = []
    }
    adam = Adam(learningRate: settings.learningRate)
    ema = settings.emaDecay > 0 ? ExponentialMovingAverage(model.denoiser.arena, decay: settings.emaDecay) : nil
    generator = SeededGenerator(seed: seed ^ 0x5DEE_CE66_D1CE_5EED)
  }

  public var learningRate: Float { adam.learningRate }

  /// Rows per step (the batch size, or all rows when fewer).
  public var workspaceRows: Int { batch.rows }

  /// One pass over the rows in a fresh random order; returns the mean loss over its batches
  /// (each batch's loss weighted by its rows). `shouldStop` is asked before each step; when it
  /// says yes the epoch ends early and the mean so far is returned with `completed == false`.
  /// `budgetUsed` is the share of a time budget already spent (0 without one): the cosine
  /// schedule follows whichever of epochs and time runs out first, so that a run cut by
  /// `--max-time` still ends at the low learning rate.
  public func epoch(plannedEpochs: Int, budgetUsed: Double = 0, shouldStop: () -> Bool = { false })
    -> (loss: Double, completed: Bool)
  {
    applySchedule(plannedEpochs: plannedEpochs, budgetUsed: budgetUsed)
    let order = generator.permutation(rows)
    let d = model.config.dimension
    let capacity = batch.rows
    var total = 0.0
    var seen = 0
    var start = 0
    while start < rows {
      if shouldStop() { return (seen == 0 ? .nan : total / Double(seen), false) }
      let count = min(capacity, rows - start)
      let y = batch.rows(0..<count)
      for r in 0..<count {
        y.row(r).update(from: data.row(order[start + r]), count: d)
        sigma[r] = expf(model.config.logSigmaMean + model.config.logSigmaStd * generator.normal())
      }
      let e = epsilon.rows(0..<count)
      generator.fillNormal(e)
      let loss = step(clean: y, epsilon: e)
      total += loss * Double(count)
      seen += count
      start += count
    }
    epochsDone += 1
    let mean = total / Double(seen)
    if settings.schedule == .plateau {
      var lr = adam.learningRate
      plateau.update(loss: mean, learningRate: &lr)
      adam.learningRate = lr
    }
    return (mean, true)
  }

  /// One optimisation step on clean rows `y` with noise `epsilon` and this trainer's σ draws.
  func step(clean y: Matrix, epsilon e: Matrix) -> Double {
    let denoiser = model.denoiser
    let loss: Double
    if let replica, y.rows >= 2 {
      loss = halvesLossAndGradients(clean: y, epsilon: e, replica: replica)
    } else {
      loss = sigma.withUnsafeBufferPointer {
        denoiser.loss(clean: y, sigma: $0.baseAddress!, epsilon: e, workspace, gradient: true)
      }
      denoiser.arena.zeroGradients()
      denoiser.backward(rows: y.rows, workspace)
    }
    if let maxNorm = settings.gradientClip { _ = clipGradientNorm(denoiser.arena, maxNorm: maxNorm) }
    adam.update(denoiser.arena)
    if let ema {
      // Warm-up: the average's horizon grows with the steps taken, so that a short run does not
      // average in its first, untrained weights (decay_t = min(decay, (1 + t)/(10 + t))).
      let t = Float(adam.step)
      ema.decay = min(settings.emaDecay, (1 + t) / (10 + t))
      ema.update()
    }
    return loss
  }

  /// The loss and the model's gradients of the batch `y`, computed as two halves at once (the
  /// model on the first, the replica with the same values on the second) and combined as the
  /// full batch's mean: L = (n₁·L₁ + n₂·L₂)/n, and likewise the gradients.
  func halvesLossAndGradients(clean y: Matrix, epsilon e: Matrix, replica: Denoiser) -> Double {
    let denoiser = model.denoiser
    let n = y.rows
    let half = (n + 1) / 2
    let parts = [0..<half, half..<n]
    let values = denoiser.arena.values
    replica.arena.values.baseAddress!.update(from: values.baseAddress!, count: values.count)
    var losses = [0.0, 0.0]
    losses.withUnsafeMutableBufferPointer { out in
      sigma.withUnsafeBufferPointer { s in
        let nets = [denoiser, replica]
        ParallelFor.replicas(2) { k in
          let part = parts[k]
          out[k] = nets[k].loss(
            clean: y.rows(part), sigma: s.baseAddress! + part.lowerBound, epsilon: e.rows(part),
            halfWorkspaces[k], gradient: true)
          nets[k].arena.zeroGradients()
          nets[k].backward(rows: part.count, halfWorkspaces[k])
        }
      }
    }
    let first = Float(half) / Float(n)
    let grads = denoiser.arena.grads
    let other = replica.arena.grads
    // g = (n₁/n)·g₁ + (n₂/n)·g₂ (both halves have rows: n ≥ 2)
    scale(grads.baseAddress!, by: first, count: grads.count)
    axpy(1 - first, other.baseAddress!, grads.baseAddress!, count: grads.count)
    return (Double(half) * losses[0] + Double(n - half) * losses[1]) / Double(n)
  }

  func applySchedule(plannedEpochs: Int, budgetUsed: Double) {
    guard settings.schedule == .cosine else { return }
    let total = max(plannedEpochs, 1)
    let progress = min(max(Double(epochsDone) / Double(total), budgetUsed), 1)
    let floor = 0.1
    let factor = floor + (1 - floor) * 0.5 * (1 + cos(Double.pi * progress))
    adam.learningRate = Float(Double(settings.learningRate) * factor)
  }

  /// The weights to save (the EMA if on, else the live ones), copied out in the arena's layout.
  public func snapshot() -> [Float] {
    if let ema { return Array(ema.values) }
    return Array(model.denoiser.arena.values)
  }

  /// Runs `body` with `weights` (a `snapshot`) in the arena, then restores the live values.
  public func withWeights<R>(_ weights: [Float], _ body: () throws -> R) rethrows -> R {
    let values = model.denoiser.arena.values
    let live = Array(values)
    _ = weights.withUnsafeBufferPointer { values.update(fromContentsOf: $0) }
    defer { _ = live.withUnsafeBufferPointer { values.update(fromContentsOf: $0) } }
    return try body()
  }
}
