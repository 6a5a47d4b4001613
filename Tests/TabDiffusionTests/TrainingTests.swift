// Training end to end in the module: on a 2-D mixture of two Gaussians the sampled rows must
// land in the right modes in the right proportions with the right spread; and a model saved to
// a checkpoint and read back must sample the very same rows.

import Foundation
import TabCore
import TabStream
import Testing

@testable import TabDiffusion

/// Two clusters: 70% around (−1, 0.5), 30% around (1.5, −0.5), each with sd 0.2.
func mixture(rows: Int, seed: UInt64) -> [Float] {
  var g = SeededGenerator(seed: seed)
  var values: [Float] = []
  for _ in 0..<rows {
    let first = g.uniformFloat() < 0.7
    values.append((first ? -1 : 1.5) + 0.2 * g.normal())
    values.append((first ? 0.5 : -0.5) + 0.2 * g.normal())
  }
  return values
}

/// A trainer on `rows` rows of the mixture: a 2-D model of `width`, initialised from seed 5,
/// data drawn from seed 4 (shared by the tests of the trainer's options).
func mixtureTrainer(
  rows: Int, width: Int, settings: TrainingSettings, seed: UInt64 = 6, dataParallel: Bool? = nil
) -> DiffusionTrainer {
  let data = mixture(rows: rows, seed: 4)
  let m = LatentModel(
    config: DiffusionConfig(dimension: 2, width: width), origin: LatentOrigin(latentLayout(2), encoder: nil, model: nil))
  var g = SeededGenerator(seed: 5)
  m.denoiser.initialize(using: &g)
  return try! data.withUnsafeBufferPointer {
    try DiffusionTrainer(model: m, latents: $0, rows: rows, settings: settings, seed: seed, dataParallel: dataParallel)
  }
}

func latentLayout(_ dimension: Int) -> RowLayout {
  RowLayout(floatFields: (0..<dimension).map { FieldDescriptor(name: "z\($0)", role: "latent") })
}

/// A small model trained on the mixture (shared by the tests of this file: training once).
nonisolated(unsafe) let trainedMixture: (LatentModel, [Double]) = {
  let rows = 2048
  let data = mixture(rows: rows, seed: 1)
  let model = LatentModel(
    config: DiffusionConfig(dimension: 2, width: 16),
    origin: LatentOrigin(latentLayout(2), encoder: .object(["k": .string("v")]), model: .object(["vae": .string("abc")])))
  var g = SeededGenerator(seed: 2)
  model.denoiser.initialize(using: &g)
  let trainer = try! data.withUnsafeBufferPointer {
    try DiffusionTrainer(
      model: model, latents: $0, rows: rows,
      settings: TrainingSettings(batchSize: 128, learningRate: 5e-3, schedule: .cosine, emaDecay: 0.99), seed: 3)
  }
  var losses: [Double] = []
  // 25 epochs of 16 steps: 400 steps (a debug build spends most of it in SIMD exp calls).
  let epochs = 25
  for _ in 0..<epochs { losses.append(trainer.epoch(plannedEpochs: epochs).loss) }
  let weights = trainer.snapshot()
  _ = weights.withUnsafeBufferPointer { model.denoiser.arena.values.update(fromContentsOf: $0) }
  return (model, losses)
}()

extension LatentOrigin {
  init(_ layout: RowLayout, encoder: JSONValue?, model: JSONValue?) {
    self.init(layout: layout, encoder: encoder, model: model)
  }
}

@Suite struct TrainingTests {
  @Test func normalizationIsMeanAndFixedScale() {
    let model = trainedMixture.0
    // The mixture's mean: 0.7·(−1, 0.5) + 0.3·(1.5, −0.5) = (−0.25, 0.2).
    #expect(abs(model.mean.base[0] + 0.25) < 0.05)
    #expect(abs(model.mean.base[1] - 0.2) < 0.05)
    #expect(model.config.latentScale == 2)
  }

  @Test func lossFalls() {
    let losses = trainedMixture.1
    #expect(losses.allSatisfy { $0.isFinite })
    let early = losses.prefix(3).reduce(0, +) / 3
    let late = losses.suffix(5).reduce(0, +) / 5
    #expect(late < 0.8 * early, "early \(early), late \(late)")
  }

  @Test func samplesMatchTheMixture() {
    let model = trainedMixture.0
    // 40 steps: with a dozen the modes come out visibly blurred (docs/diffusion-recipe.md).
    let rows = 512
    let sampler = LatentSampler(model: model, settings: SamplerSettings(steps: 40), capacity: rows)
    let ws = Workspace()
    let out = ws.matrix(rows: rows, cols: 2)
    sampler.sample(firstRow: 0, seed: 11, into: out)
    var first: [(Float, Float)] = []
    var second: [(Float, Float)] = []
    for i in 0..<rows {
      // Assign to the nearer centre.
      let a = (out[i, 0] + 1) * (out[i, 0] + 1) + (out[i, 1] - 0.5) * (out[i, 1] - 0.5)
      let b = (out[i, 0] - 1.5) * (out[i, 0] - 1.5) + (out[i, 1] + 0.5) * (out[i, 1] + 0.5)
      if a < b { first.append((out[i, 0], out[i, 1])) } else { second.append((out[i, 0], out[i, 1])) }
    }
    let share = Double(first.count) / Double(rows)
    // Binomial sd at n = 512 is 0.02; allow 3 of them.
    #expect(abs(share - 0.7) < 0.06, "first-mode share \(share)")
    func stats(_ points: [(Float, Float)], _ centre: (Float, Float)) -> (Double, Double) {
      let n = Double(points.count)
      let mx = points.reduce(0.0) { $0 + Double($1.0) } / n
      let my = points.reduce(0.0) { $0 + Double($1.1) } / n
      let offset = ((mx - Double(centre.0)) * (mx - Double(centre.0)) + (my - Double(centre.1)) * (my - Double(centre.1))).squareRoot()
      let spread = (points.reduce(0.0) { $0 + Double(($1.0 - Float(mx)) * ($1.0 - Float(mx)) + ($1.1 - Float(my)) * ($1.1 - Float(my))) } / (2 * n)).squareRoot()
      return (offset, spread)
    }
    let (offset1, spread1) = stats(first, (-1, 0.5))
    let (offset2, spread2) = stats(second, (1.5, -0.5))
    #expect(offset1 < 0.08 && offset2 < 0.08, "mode centres off by \(offset1), \(offset2)")
    // True sd 0.2 per coordinate; a model that blurs the modes or collapses them fails this.
    #expect(abs(spread1 - 0.2) < 0.06 && abs(spread2 - 0.2) < 0.06, "mode sds \(spread1), \(spread2)")
  }

  @Test func checkpointRoundTripSamplesTheSameRows() throws {
    let model = trainedMixture.0
    model.training = TrainingSummary(rows: 2048, epochs: 25, bestEpoch: 25, bestLoss: 0.5, seconds: 1, seed: 3)
    let sink = MemoryOutput()
    try model.write(to: sink, provenance: [ProvenanceStep(tool: "test", version: "0")])
    let (loaded, provenance) = try LatentModel.read(from: MemoryInput(sink.bytes, name: "m.model"))
    #expect(provenance.map(\.tool) == ["test"])
    #expect(loaded.config == model.config)
    #expect(loaded.origin == model.origin)
    #expect(loaded.training == model.training)
    #expect(loaded.mean.toArray() == model.mean.toArray())
    func draw(_ m: LatentModel) -> [Float] {
      let sampler = LatentSampler(model: m, settings: SamplerSettings(steps: 3), capacity: 256)
      let ws = Workspace()
      let out = ws.matrix(rows: 100, cols: 2)
      sampler.sample(firstRow: 0, seed: 1, into: out)
      return out.toArray()
    }
    #expect(draw(loaded) == draw(model))
  }

  @Test func refusesOtherStreamsAndModels() throws {
    let tokens = StreamHeader(kind: .tokens, layout: latentLayout(2))
    #expect(throws: DiffusionError.notLatents(path: "t.bin", kind: "tokens")) {
      try LatentOrigin(header: tokens, path: "t.bin")
    }
    let withInts = StreamHeader(
      kind: .latents, layout: RowLayout(floatFields: latentLayout(2).floatFields, intFields: [FieldDescriptor(name: "c", role: "category", cardinality: 2)]))
    #expect(throws: DiffusionError.self) { try LatentOrigin(header: withInts, path: "i.bin") }
    // A model file of another model.
    let arena = ParameterArena([ParameterShape("w", rows: 1, cols: 1)])
    let sink = MemoryOutput()
    try Checkpoint.write(parameters: arena, configuration: .object(["model": .string("tab-gan")]), provenance: [], to: sink)
    #expect(throws: DiffusionError.self) { try LatentModel.read(from: MemoryInput(sink.bytes, name: "g.model")) }
  }
}
