// The training loop (tabsyn.md §2.5) with the reference's known bugs fixed: the learning-rate
// schedule, the adaptive β and the best-model choice watch a validation split carved from the
// training rows (never a test set), the validation loss counts the numerical columns
// (MSE + CE, with z = μ), and the best model is the one kept.

import TabCore

/// How to train.
public struct VAETrainingOptions: Sendable {
  public var epochs = 500
  public var batchSize = 512
  public var learningRate: Float = 1e-3
  /// Share of the rows held out for validation (0: schedule on the training loss).
  public var validationFraction = 0.1
  /// β starts here, is multiplied by `betaDecay` after `betaPatience` epochs without a new best
  /// validation loss, and never goes below `betaMinimum` (TabSyn: 1e-2, 0.7, 10, 1e-5).
  public var betaMaximum: Float = 1e-2
  public var betaMinimum: Float = 1e-5
  public var betaDecay: Float = 0.7
  public var betaPatience = 10
  /// ReduceLROnPlateau on the validation loss (TabSyn: factor 0.95, patience 10).
  public var learningRateFactor = 0.95
  public var learningRatePatience = 10
  /// The last `annealFraction` of `epochs` scale the learning rate by a half cosine from 1 down
  /// to `annealFloor` (0: no annealing, the reference's constant rate). See docs/vae.md.
  public var annealFraction = 0.0
  public var annealFloor = 0.02
  /// Stop after this many epochs without a new best validation loss (0: never).
  public var earlyStop = 0
  public var seed: UInt64 = 0

  public init() {}

  /// The learning-rate multiplier of 0-based epoch `epoch`: 1 before the annealing phase (the
  /// last L = round(annealFraction · epochs) epochs), then floor + (1 − floor)·½(1 + cos(π·t))
  /// with t = (epoch − (epochs − L) + 1) / L, so the last epoch runs at `annealFloor`.
  public func annealFactor(epoch: Int) -> Float {
    let length = Int((annealFraction * Double(epochs)).rounded())
    guard length > 0 else { return 1 }
    let start = epochs - length
    guard epoch >= start else { return 1 }
    let t = min(1, Double(epoch - start + 1) / Double(length))
    return Float(annealFloor + (1 - annealFloor) * 0.5 * (1 + cos(Double.pi * t)))
  }
}

/// One epoch's figures.
public struct VAEEpoch: Sendable {
  public var epoch: Int
  /// Means over the epoch's batches.
  public var train: VAELoss
  /// On the validation rows with z = μ (nil without a validation split).
  public var validation: VAELoss?
  /// What the schedule watches: validation MSE + CE, else the training MSE + CE.
  public var watched: Double
  public var beta: Float
  public var learningRate: Float
  public var seconds: Double
  public var trainingRows: Int
  public var isBest: Bool
}

/// Trains a `VAEModel` on a `TokenTable`, keeping the best parameters seen.
public final class VAETrainer {
  public let model: VAEModel
  public let options: VAETrainingOptions
  let table: TokenTable
  let trainRows: [Int]
  let validationRows: [Int]
  var generator: SeededGenerator
  var optimizer: Adam
  var scheduler: ReduceLROnPlateau
  /// The plateau schedule's rate; the optimizer's is this times `annealFactor(epoch)`.
  var plateauRate: Float
  public private(set) var beta: Float
  var betaWait = 0
  public private(set) var bestLoss = Double.infinity
  public private(set) var bestEpoch = 0
  public private(set) var epochsDone = 0
  var best: [Float]
  private var workspaces: [Int: VAEWorkspace] = [:]
  private var evaluation: [Int: VAEWorkspace] = [:]

  /// Initialises `model` from the seed and splits the rows.
  /// - Precondition: the table matches the model's configuration and has at least one row.
  public init(model: VAEModel, table: TokenTable, options: VAETrainingOptions) {
    precondition(table.layout.floatWidth == model.config.numerical
      && table.layout.intWidth == model.config.categories.count && table.rows >= 1)
    self.model = model
    self.options = options
    self.table = table
    generator = SeededGenerator(seed: options.seed)
    model.initialize(using: &generator)
    var order = generator.permutation(table.rows)
    var held = Int((options.validationFraction * Double(table.rows)).rounded())
    if options.validationFraction > 0 { held = max(held, 1) }
    if held >= table.rows { held = table.rows > 1 ? table.rows / 2 : 0 }
    validationRows = Array(order[0..<held]).sorted()
    order.removeFirst(held)
    trainRows = order
    optimizer = Adam(learningRate: options.learningRate)
    scheduler = ReduceLROnPlateau(
      factor: options.learningRateFactor, patience: options.learningRatePatience)
    beta = options.betaMaximum
    plateauRate = options.learningRate
    best = Array(model.parameters.arena.values)
  }


  public var trainingRowCount: Int { trainRows.count }
  public var validationRowCount: Int { validationRows.count }

  /// Runs one epoch: shuffled batches, each forward, backward, Adam; then validation, the β and
  /// learning-rate schedules and the best-model copy. `stop` is polled after every batch; when
  /// it returns true the epoch ends early and nil is returned (the epoch does not count).
  public func runEpoch(stop: () -> Bool = { false }) -> VAEEpoch? {
    let start = monotonicClock()
    let arena = model.parameters.arena
    optimizer.learningRate = plateauRate * options.annealFactor(epoch: epochsDone)
    let order = generator.permutation(trainRows.count).map { trainRows[$0] }
    var sums = (mse: 0.0, ce: 0.0, kl: 0.0, total: 0.0)
    var batches = 0
    var first = 0
    while first < order.count {
      let rows = min(options.batchSize, order.count - first)
      let w = workspace(rows: rows, training: true, cache: &workspaces)
      fill(w, rows: order[first..<first + rows])
      generator.fillNormal(w.noise)
      let loss = model.forward(w, beta: beta, sample: true)
      arena.zeroGradients()
      model.backward(w, beta: beta)
      optimizer.update(arena)
      sums.mse += Double(loss.reconstruction)
      sums.ce += Double(loss.crossEntropy)
      sums.kl += Double(loss.kl)
      sums.total += Double(loss.total)
      batches += 1
      first += rows
      if stop() { return nil }
    }
    epochsDone += 1
    let b = Double(max(batches, 1))
    let train = VAELoss(
      reconstruction: Float(sums.mse / b), crossEntropy: Float(sums.ce / b), kl: Float(sums.kl / b),
      total: Float(sums.total / b))
    let validation = validationRows.isEmpty ? nil : evaluate(validationRows)
    let watched =
      validation.map { Double($0.reconstruction) + Double($0.crossEntropy) }
      ?? Double(train.reconstruction) + Double(train.crossEntropy)
    let report = VAEEpoch(
      epoch: epochsDone, train: train, validation: validation, watched: watched, beta: beta,
      learningRate: optimizer.learningRate, seconds: monotonicClock() - start,
      trainingRows: order.count, isBest: watched < bestLoss)
    // Schedules, in the reference's order: learning rate, then best model, then β.
    scheduler.update(loss: watched, learningRate: &plateauRate)
    if watched < bestLoss {
      bestLoss = watched
      bestEpoch = epochsDone
      betaWait = 0
      best.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: arena.values.baseAddress!, count: arena.count) }
    } else {
      betaWait += 1
      // TabSyn decays when the wait reaches exactly the patience (once per plateau).
      if betaWait == options.betaPatience && beta > options.betaMinimum {
        beta = max(beta * options.betaDecay, options.betaMinimum)
      }
    }
    return report
  }

  /// True when early stopping says so.
  public var shouldStopEarly: Bool {
    options.earlyStop > 0 && epochsDone - bestEpoch >= options.earlyStop
  }

  /// Puts the best parameters seen back into the model (call when training ends).
  public func restoreBest() {
    let arena = model.parameters.arena
    best.withUnsafeBufferPointer { arena.values.baseAddress!.update(from: $0.baseAddress!, count: arena.count) }
  }

  /// The loss on `rows` with z = μ, averaged per row.
  public func evaluate(_ rows: [Int]) -> VAELoss {
    var sums = (mse: 0.0, ce: 0.0, kl: 0.0)
    var first = 0
    while first < rows.count {
      let count = min(options.batchSize, rows.count - first)
      let w = workspace(rows: count, training: false, cache: &evaluation)
      fill(w, rows: rows[first..<first + count])
      let loss = model.forward(w, beta: beta, sample: false)
      sums.mse += Double(loss.reconstruction) * Double(count)
      sums.ce += Double(loss.crossEntropy) * Double(count)
      sums.kl += Double(loss.kl) * Double(count)
      first += count
    }
    let n = Double(max(rows.count, 1))
    let mse = Float(sums.mse / n), ce = Float(sums.ce / n), kl = Float(sums.kl / n)
    return VAELoss(reconstruction: mse, crossEntropy: ce, kl: kl, total: mse + ce + beta * kl)
  }

  private func workspace(rows: Int, training: Bool, cache: inout [Int: VAEWorkspace]) -> VAEWorkspace {
    if let w = cache[rows] { return w }
    if cache.count >= 2 { cache.removeAll() }  // a full batch and the remainder at most
    let w = model.workspace(rows: rows, training: training)
    cache[rows] = w
    return w
  }

  private func fill(_ w: VAEWorkspace, rows: ArraySlice<Int>) {
    let n = table.layout.floatWidth, c = table.layout.intWidth
    if n > 0 {
    table.floats.withUnsafeBufferPointer { floats in
      for (i, row) in rows.enumerated() {
        (w.numbers.base + i * n).update(from: floats.baseAddress! + row * n, count: n)
      }
    }
    }
    guard c > 0 else { return }
    table.ints.withUnsafeBufferPointer { ints in
      w.codes.withUnsafeMutableBufferPointer { codes in
        for (i, row) in rows.enumerated() {
          (codes.baseAddress! + i * c).update(from: ints.baseAddress! + row * c, count: c)
        }
      }
    }
  }
}

#if canImport(Glibc)
  import Glibc
#endif

/// Seconds on the monotonic clock.
func monotonicClock() -> Double {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
