// Latents that do not vary: `--normalization whiten` has no Σ^(−1/2) for them and must say so
// as bad data naming the cause (it used to scale by ~1e153, turning training into NaN that the
// tool reported as divergence), while `standard` trains on them without dividing by zero.

import TabCore
import TabStream
import Testing

@testable import TabDiffusion

@Suite struct DegenerateLatentTests {
  let workspace = Workspace()

  func model(_ normalization: DiffusionConfig.Normalization, dimension: Int) -> LatentModel {
    let m = LatentModel(
      config: DiffusionConfig(dimension: dimension, width: 4, normalization: normalization),
      origin: LatentOrigin(latentLayout(dimension), encoder: nil, model: nil))
    var g = SeededGenerator(seed: 3)
    m.denoiser.initialize(using: &g)
    return m
  }

  /// `rows` rows of D values from `value(row, column)`.
  func latents(rows: Int, dimension: Int, _ value: (Int, Int) -> Float) -> [Float] {
    (0..<rows * dimension).map { value($0 / dimension, $0 % dimension) }
  }

  static let settings = TrainingSettings(batchSize: 16, learningRate: 1e-3, schedule: .constant, emaDecay: 0)

  /// Latents with no variance in any direction.
  enum Flat: String, CaseIterable, Sendable {
    case allZeros, everyColumnConstant, variationBelowTheThreshold
    func value(_ i: Int, _ j: Int) -> Float {
      switch self {
      case .allZeros: return 0
      case .everyColumnConstant: return Float(j) * 1.5 - 2
      case .variationBelowTheThreshold: return 7 + (i % 2 == 0 ? 4e-7 : -4e-7)
      }
    }
  }

  @Test(arguments: Flat.allCases)
  func whiteningLatentsThatDoNotVaryIsBadDataNamingTheCause(flat: Flat) {
    let data = latents(rows: 40, dimension: 3, flat.value)
    let m = model(.whiten, dimension: 3)
    #expect(throws: DiffusionError.singularCovariance(path: "z.bin", varies: false), "\(flat)") {
      try data.withUnsafeBufferPointer {
        _ = try DiffusionTrainer(model: m, latents: $0, rows: 40, settings: Self.settings, seed: 1, path: "z.bin")
      }
    }
    let error = DiffusionError.singularCovariance(path: "z.bin", varies: false)
    #expect(
      error.description
        == "z.bin: cannot whiten the latents: their covariance is singular (the latents do not vary "
        + "(no direction has a standard deviation above 1e-6)); use --normalization standard")
    // Bad data (exit 65 in the tools), not a training failure.
    #expect((error as Error) is BadDataError)
  }

  @Test func aCovarianceBeyondFloatRangeIsNotFinite() {
    // Latents near float32's limit: Σ^(1/2) cannot be stored as float32.
    let data = latents(rows: 40, dimension: 2) { i, j in (i % 2 == 0 ? 1 : -1) * (j == 0 ? 3e38 : 1) }
    let m = model(.whiten, dimension: 2)
    #expect(throws: DiffusionError.singularCovariance(path: "z.bin", varies: true)) {
      try data.withUnsafeBufferPointer {
        _ = try DiffusionTrainer(model: m, latents: $0, rows: 40, settings: Self.settings, seed: 1, path: "z.bin")
      }
    }
    #expect(DiffusionError.singularCovariance(path: "z", varies: true).description.contains("(it is not finite)"))
  }

  @Test func symmetricEigenOfZeroIsZeroAndWhiteningRefusesIt() {
    #expect(throws: SingularCovariance.noVariance) {
      _ = try whiteningMatrices(covariance: [Double](repeating: 0, count: 9), n: 3, sigmaData: 0.5)
    }
    #expect(throws: SingularCovariance.notFinite) {
      _ = try whiteningMatrices(covariance: [1, .nan, .nan, 1], n: 2, sigmaData: 0.5)
    }
  }

  @Test func oneConstantColumnAmongVaryingOnesStillWhitens() throws {
    // A single direction without variance is the floor's job (a bounded factor), not an error.
    let data = latents(rows: 64, dimension: 3) { i, j in j == 1 ? 2.5 : Float((i * (j + 3)) % 11) - 5 }
    let m = model(.whiten, dimension: 3)
    let trainer = try data.withUnsafeBufferPointer {
      try DiffusionTrainer(model: m, latents: $0, rows: 64, settings: Self.settings, seed: 1, dataParallel: false, path: "z.bin")
    }
    #expect(trainer.data.toArray().allSatisfy { $0.isFinite })
    #expect(trainer.epoch(plannedEpochs: 2).loss.isFinite)
  }

  @Test(arguments: [false, true])
  func standardTrainsOnConstantDimensionsWithoutDividingByZero(allZero: Bool) throws {
    let value = { (i: Int, j: Int) -> Float in allZero ? 0 : j == 0 ? 3 : Float(i % 5) }
    let data = latents(rows: 48, dimension: 2, value)
    let m = model(.standard, dimension: 2)
    let trainer = try data.withUnsafeBufferPointer {
      try DiffusionTrainer(model: m, latents: $0, rows: 48, settings: Self.settings, seed: 1, dataParallel: false, path: "z.bin")
    }
    #expect(trainer.data.toArray().allSatisfy { $0.isFinite })
    #expect(m.buffers["normalization.scale"].value.toArray().allSatisfy { $0.isFinite && $0 > 0 })
    for _ in 0..<3 { #expect(trainer.epoch(plannedEpochs: 3).loss.isFinite) }
    // The constant dimension comes back as its value.
    let x = workspace.matrix(rows: 1, cols: 2)
    m.denormalize(x)
    #expect(x[0, 0] == value(0, 0))
  }
}
