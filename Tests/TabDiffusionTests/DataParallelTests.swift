// Data parallelism in the trainer: two half batches at once must give the full batch's loss and
// gradient (up to rounding), including an odd split, and stay reproducible from a seed.

import Foundation
import TabCore
import Testing

@testable import TabDiffusion

@Suite struct DataParallelTests {
  func trainer(rows: Int, parallel: Bool) -> DiffusionTrainer {
    mixtureTrainer(
      rows: rows, width: 16,
      settings: TrainingSettings(batchSize: 128, learningRate: 1e-2, schedule: .constant, emaDecay: 0),
      dataParallel: parallel)
  }

  /// The halves' combined loss and gradient against one pass over the whole batch, for an even
  /// (128) and an odd (77) batch.
  @Test(arguments: [128, 77])
  func halvesGiveTheFullBatchGradient(batchRows: Int) {
    let t = trainer(rows: 256, parallel: true)
    #expect(t.replica != nil)
    var g = SeededGenerator(seed: 8)
    let y = t.batch.rows(0..<batchRows)
    let e = t.epsilon.rows(0..<batchRows)
    for r in 0..<batchRows {
      y.row(r).update(from: t.data.row(r), count: 2)
      t.sigma[r] = expf(-1.2 + 1.2 * g.normal())
    }
    g.fillNormal(e)
    let halves = t.halvesLossAndGradients(clean: y, epsilon: e, replica: t.replica!)
    let parallelGrads = Array(t.model.denoiser.arena.grads)
    let denoiser = t.model.denoiser
    let whole = t.sigma.withUnsafeBufferPointer {
      denoiser.loss(clean: y, sigma: $0.baseAddress!, epsilon: e, t.workspace, gradient: true)
    }
    denoiser.arena.zeroGradients()
    denoiser.backward(rows: batchRows, t.workspace)
    let wholeGrads = Array(denoiser.arena.grads)
    #expect(abs(halves - whole) <= 1e-6 * abs(whole), "loss \(halves) vs \(whole)")
    let largest = wholeGrads.map(abs).max()!
    let worst = zip(parallelGrads, wholeGrads).map { abs($0 - $1) }.max()!
    #expect(largest > 0 && worst <= 1e-5 * largest, "gradient differs by \(worst) of \(largest)")
  }

  @Test func sameSeedSameModel() {
    let a = trainer(rows: 300, parallel: true)
    let b = trainer(rows: 300, parallel: true)
    for _ in 0..<2 {
      _ = a.epoch(plannedEpochs: 2)
      _ = b.epoch(plannedEpochs: 2)
    }
    #expect(a.snapshot() == b.snapshot())
  }

  /// Whole epochs (batches 128, 128, 44) with and without halves follow the same path.
  @Test func epochsMatchTheSingleDenoiser() {
    let a = trainer(rows: 300, parallel: true)
    let b = trainer(rows: 300, parallel: false)
    #expect(b.replica == nil)
    for _ in 0..<2 {
      let la = a.epoch(plannedEpochs: 2).loss
      let lb = b.epoch(plannedEpochs: 2).loss
      #expect(abs(la - lb) <= 1e-4 * lb, "epoch loss \(la) vs \(lb)")
    }
    let worst = zip(a.snapshot(), b.snapshot()).map { abs($0 - $1) }.max()!
    #expect(worst < 1e-3, "weights differ by \(worst) after 6 steps")
  }
}
