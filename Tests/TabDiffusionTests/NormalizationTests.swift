// The latent normalisation (per-dimension standard or TabSyn's fixed divisor), model files made
// before the option existed, the time-aware cosine schedule and gradient clipping.

import Foundation
import TabCore
import TabStream
import Testing

@testable import TabDiffusion

@Suite struct NormalizationTests {
  /// Owns the test matrices' memory (a Matrix is a view into its workspace).
  let workspace = Workspace()

  /// 3 dimensions with very different spreads (sd 5, 0.05, 1) and means (2, −1, 0).
  func spreadLatents(rows: Int) -> Matrix {
    var g = SeededGenerator(seed: 9)
    let m = workspace.matrix(rows: rows, cols: 3)
    for i in 0..<rows {
      m[i, 0] = 2 + 5 * g.normal()
      m[i, 1] = -1 + 0.05 * g.normal()
      m[i, 2] = g.normal()
    }
    return m
  }

  func model(_ normalization: DiffusionConfig.Normalization) -> LatentModel {
    LatentModel(
      config: DiffusionConfig(dimension: 3, width: 4, normalization: normalization),
      origin: LatentOrigin(latentLayout(3), encoder: nil, model: nil))
  }

  /// Mean and population sd of each column, in Double.
  func columnStats(_ m: Matrix) -> [(mean: Double, sd: Double)] {
    (0..<m.cols).map { j in
      let values = (0..<m.rows).map { Double(m[$0, j]) }
      let mean = values.reduce(0, +) / Double(m.rows)
      let sd = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(m.rows)).squareRoot()
      return (mean, sd)
    }
  }

  @Test func standardGivesEveryDimensionSigmaData() throws {
    let latents = spreadLatents(rows: 4000)
    let original = latents.toArray()
    let m = model(.standard)
    try m.fitNormalization(latents)
    m.normalize(latents)
    for (j, s) in columnStats(latents).enumerated() {
      #expect(abs(s.mean) < 1e-4, "dimension \(j) mean \(s.mean)")
      #expect(abs(s.sd - 0.5) < 1e-4, "dimension \(j) sd \(s.sd)")
    }
    m.denormalize(latents)
    for (a, b) in zip(latents.toArray(), original) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
  }

  @Test func fixedDividesEveryDimensionByTheSameScale() throws {
    let latents = spreadLatents(rows: 4000)
    let before = columnStats(latents)
    let m = model(.fixed)
    try m.fitNormalization(latents)
    m.normalize(latents)
    for (j, s) in columnStats(latents).enumerated() {
      #expect(abs(s.sd - before[j].sd / 2) < 1e-4 * before[j].sd, "dimension \(j)")
    }
    #expect(m.buffers.parameters.map(\.name) == ["normalization.mean"])
  }

  @Test func constantDimensionKeepsAUnitDivisor() throws {
    let latents = workspace.matrix(rows: 10, cols: 3)
    for i in 0..<10 { latents[i, 0] = 3; latents[i, 1] = Float(i); latents[i, 2] = -Float(i) }
    let m = model(.standard)
    try m.fitNormalization(latents)
    m.normalize(latents)
    #expect(latents.toArray().allSatisfy { $0.isFinite })
    #expect((0..<10).allSatisfy { latents[$0, 0] == 0 })
  }

  @Test func standardScaleRoundTripsThroughTheModelFile() throws {
    let m = model(.standard)
    let loaded = try writtenAndRead(m, fittedTo: spreadLatents(rows: 500))
    #expect(loaded.config.normalization == .standard)
    #expect(loaded.buffers["normalization.scale"].value.toArray() == m.buffers["normalization.scale"].value.toArray())
  }

  /// Model files written before `normalization` existed have no such key: they were `.fixed`.
  @Test func configWithoutNormalizationKeyIsFixed() throws {
    let json = #"{"dimension":3,"width":4,"depth":3,"sigmaData":0.5,"logSigmaMean":-1.2,"logSigmaStd":1.2,"latentScale":2}"#
    let config = try JSONDecoder().decode(DiffusionConfig.self, from: Data(json.utf8))
    #expect(config.normalization == .fixed)
    let again = try JSONDecoder().decode(DiffusionConfig.self, from: try JSONEncoder().encode(config))
    #expect(again == config)
  }

  func trainer(schedule: TrainingSettings.Schedule = .cosine, clip: Float? = nil) -> DiffusionTrainer {
    mixtureTrainer(
      rows: 256, width: 8,
      settings: TrainingSettings(batchSize: 64, learningRate: 1e-2, schedule: schedule, emaDecay: 0, gradientClip: clip))
  }

  /// With a time budget, the cosine follows whichever runs out first: half the budget spent
  /// after one of 100 epochs puts the rate at the schedule's midpoint, 55% of the peak.
  @Test func cosineFollowsTheTimeBudget() {
    let byEpochs = trainer()
    _ = byEpochs.epoch(plannedEpochs: 100)
    _ = byEpochs.epoch(plannedEpochs: 100)
    #expect(byEpochs.learningRate > 0.0099)  // one epoch of 100: barely decayed
    let byTime = trainer()
    _ = byTime.epoch(plannedEpochs: 100)
    _ = byTime.epoch(plannedEpochs: 100, budgetUsed: 0.5)
    #expect(abs(byTime.learningRate - 0.0055) < 1e-6, "\(byTime.learningRate)")
    _ = byTime.epoch(plannedEpochs: 100, budgetUsed: 1.3)
    #expect(abs(byTime.learningRate - 0.001) < 1e-7, "\(byTime.learningRate)")
  }

  /// Clipping is applied in the step: with a bound far below the gradients' norms the run differs
  /// from the unclipped one with the same seed (Adam ignores a constant rescaling of every
  /// gradient, but not the per-step factors clipping applies) and stays finite.
  @Test func clippingBoundsTheStep() {
    let clipped = trainer(clip: 0.01)
    let free = trainer()
    let a = clipped.epoch(plannedEpochs: 5).loss
    let b = free.epoch(plannedEpochs: 5).loss
    #expect(a.isFinite && b.isFinite)
    #expect(a != b)
    let moved = zip(clipped.snapshot(), free.snapshot()).map { abs($0 - $1) }.max() ?? 0
    #expect(moved > 0)
  }
}

/// `m` with initialised weights and its normalisation fitted to `latents`, written to a model
/// file in memory and read back.
func writtenAndRead(_ m: LatentModel, fittedTo latents: Matrix) throws -> LatentModel {
  var g = SeededGenerator(seed: 1)
  m.denoiser.initialize(using: &g)
  try m.fitNormalization(latents)
  let sink = MemoryOutput()
  try m.write(to: sink, provenance: [])
  return try LatentModel.read(from: MemoryInput(sink.bytes, name: "m.model")).0
}
