// EDM's stochastic Heun sampler (tabsyn.md §3.6) over any denoiser D(x; σ), with each row's
// noise drawn from its own generator seeded by (seed, row index): the rows a seed gives do not
// depend on how they are split into batches.

import TabCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The sampler's settings (EDM / TabSyn defaults).
public struct SamplerSettings: Codable, Equatable, Sendable {
  /// M, the number of noise levels before 0; 2M − 1 denoiser evaluations per row.
  public var steps: Int
  public var sigmaMin: Double
  public var sigmaMax: Double
  public var rho: Double
  /// S_churn: γ = min(S_churn / M, √2 − 1) extra noise per step (0: deterministic ODE).
  public var churn: Double
  public var noiseScale: Double

  public init(
    steps: Int = 50, sigmaMin: Double = 0.002, sigmaMax: Double = 80, rho: Double = 7,
    churn: Double = 1, noiseScale: Double = 1
  ) {
    self.steps = steps
    self.sigmaMin = sigmaMin
    self.sigmaMax = sigmaMax
    self.rho = rho
    self.churn = churn
    self.noiseScale = noiseScale
  }

  /// t_0 … t_{M−1} from σ_max down to σ_min in ρ-warped steps, then t_M = 0.
  public var noiseLevels: [Double] {
    precondition(steps >= 1, "SamplerSettings: steps \(steps)")
    let a = pow(sigmaMax, 1 / rho)
    let b = pow(sigmaMin, 1 / rho)
    var levels = (0..<steps).map { i -> Double in
      let fraction = steps == 1 ? 0 : Double(i) / Double(steps - 1)
      return pow(a + fraction * (b - a), rho)
    }
    levels.append(0)
    return levels
  }

  /// The churn factor γ of every step.
  public var gamma: Double { min(churn / Double(steps), 2.0.squareRoot() - 1) }

  /// Denoiser evaluations per row: 2M − 1 (the last step is Euler only).
  public var evaluations: Int { 2 * steps - 1 }
}

/// The per-row generator: row `row` of a run with `seed` always draws the same numbers.
public func rowGenerator(seed: UInt64, row: Int) -> SeededGenerator {
  // A SplitMix64-style finaliser of the seed, then the row index: distinct (seed, row) pairs
  // give distinct generator seeds for any realistic row count.
  var z = seed &+ 0x9E37_79B9_7F4A_7C15
  z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
  z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
  z ^= z >> 31
  return SeededGenerator(seed: z ^ UInt64(truncatingIfNeeded: row) &* 0xD6E8_FEB8_6659_FD93)
}

/// Runs the sampler on batches of rows; owns its buffers (capacity rows).
public final class HeunSampler {
  public let settings: SamplerSettings
  public let dimension: Int
  public let capacity: Int
  let workspace = Workspace()
  let x, xHat, denoised, next: Matrix
  private var generators: [SeededGenerator] = []
  private let levels: [Double]

  public init(settings: SamplerSettings, dimension: Int, capacity: Int) {
    precondition(settings.steps >= 1 && dimension >= 1 && capacity >= 1, "HeunSampler: settings")
    self.settings = settings
    self.dimension = dimension
    self.capacity = capacity
    x = workspace.matrix(rows: capacity, cols: dimension)
    xHat = workspace.matrix(rows: capacity, cols: dimension)
    denoised = workspace.matrix(rows: capacity, cols: dimension)
    next = workspace.matrix(rows: capacity, cols: dimension)
    levels = settings.noiseLevels
    generators.reserveCapacity(capacity)
  }

  /// Samples rows `firstRow ..< firstRow + into.rows` of the run with `seed` into `result`
  /// (rows, D), in the denoiser's (normalised) space. `denoise(x, σ, out)` must write D(x; σ)
  /// row by row, each row depending only on its own input.
  public func sample(
    firstRow: Int, seed: UInt64, into result: Matrix,
    denoise: (_ x: Matrix, _ sigma: Float, _ out: Matrix) -> Void
  ) {
    let rows = result.rows
    let d = dimension
    precondition(rows <= capacity && result.cols == d, "HeunSampler.sample: \(rows) rows")
    generators.removeAll(keepingCapacity: true)
    for r in 0..<rows { generators.append(rowGenerator(seed: seed, row: firstRow + r)) }
    let x = self.x.rows(0..<rows)
    let xHat = self.xHat.rows(0..<rows)
    let denoised = self.denoised.rows(0..<rows)
    let next = self.next.rows(0..<rows)
    let t0 = Float(levels[0])
    for r in 0..<rows {
      let row = x.row(r)
      for j in 0..<d { row[j] = t0 * generators[r].normal() }
    }
    let gamma = settings.gamma
    let steps = settings.steps
    for i in 0..<steps {
      let t = levels[i]
      let tNext = levels[i + 1]
      // Raise the noise a little: t̂ = (1 + γ)·t, x̂ = x + √(t̂² − t²)·S_noise·ε.
      let tHat = t + gamma * t
      let extra = Float((tHat * tHat - t * t).squareRoot() * settings.noiseScale)
      if extra > 0 {
        for r in 0..<rows {
          let src = x.row(r)
          let dst = xHat.row(r)
          for j in 0..<d { dst[j] = src[j] + extra * generators[r].normal() }
        }
      } else {
        xHat.copy(from: x)
      }
      // Euler step from t̂ to t_{i+1}: d = (x̂ − D(x̂; t̂)) / t̂.
      denoise(xHat, Float(tHat), denoised)
      let h = Float(tNext - tHat)
      let invTHat = Float(1 / tHat)
      let n = rows * d
      let xh = xHat.base
      let dn = denoised.base
      let nx = next.base
      // Keep the Euler slope in `denoised` for the correction.
      for k in 0..<n {
        let slope = (xh[k] - dn[k]) * invTHat
        dn[k] = slope
        nx[k] = xh[k] + h * slope
      }
      if i < steps - 1 {
        // Heun's correction: average the slopes at t̂ and t_{i+1}.
        denoise(next, Float(tNext), x)
        let invTNext = Float(1 / tNext)
        let xs = x.base
        for k in 0..<n {
          let slope2 = (nx[k] - xs[k]) * invTNext
          xs[k] = xh[k] + h * (0.5 * dn[k] + 0.5 * slope2)
        }
      } else {
        x.copy(from: next)
      }
    }
    result.copy(from: x)
  }
}

/// Samples latents from a trained model: the Heun sampler over its denoiser, then the inverse
/// normalisation. Memory is bounded by `capacity` rows.
///
/// The denoiser always runs on chunks of exactly `chunkRows` rows (a short last chunk is padded
/// with zeros), so every matrix product has the same shape whatever the batch: BLAS kernels
/// may round differently for different row counts, and this keeps each row's numbers a function
/// of the seed and its index alone, provided blocks start at multiples of `chunkRows`. With two
/// or more threads (`BLASThreads.maximum`), two chunks are denoised at once, one per core, each
/// with single-threaded products: the same numbers as on one thread, in about half the time.
public final class LatentSampler {
  /// Rows per denoiser call.
  public static let chunkRows = 256
  public let model: LatentModel
  public let capacity: Int
  let sampler: HeunSampler
  /// One per worker: the denoiser's activations and a padded chunk in and out.
  let workers: [(workspace: DenoiserWorkspace, chunkIn: Matrix, chunkOut: Matrix)]
  let padded = Workspace()

  /// - Precondition: `capacity` is a multiple of `chunkRows`.
  public init(model: LatentModel, settings: SamplerSettings, capacity: Int) {
    precondition(capacity >= 1 && capacity % Self.chunkRows == 0, "LatentSampler: capacity \(capacity)")
    self.model = model
    self.capacity = capacity
    sampler = HeunSampler(settings: settings, dimension: model.config.dimension, capacity: capacity)
    let count = BLASThreads.maximum >= 2 && capacity >= 2 * Self.chunkRows ? 2 : 1
    let d = model.config.dimension
    workers = (0..<count).map { [padded] _ in
      (
        DenoiserWorkspace(config: model.config, capacity: Self.chunkRows),
        padded.matrix(rows: Self.chunkRows, cols: d), padded.matrix(rows: Self.chunkRows, cols: d)
      )
    }
  }

  /// Rows `firstRow ..< firstRow + result.rows` of the run with `seed`, as raw latents.
  /// - Precondition: `firstRow` is a multiple of `chunkRows`; at most `capacity` rows.
  public func sample(firstRow: Int, seed: UInt64, into result: Matrix) {
    precondition(firstRow % Self.chunkRows == 0, "LatentSampler: first row \(firstRow)")
    let denoiser = model.denoiser
    let chunk = Self.chunkRows
    let workers = self.workers
    sampler.sample(firstRow: firstRow, seed: seed, into: result) { x, sigma, out in
      let chunks = (x.rows + chunk - 1) / chunk
      // Worker k takes chunks k, k + W, k + 2W, …; the denoiser's parameters are only read.
      let denoiseChunks = { (k: Int) in
        let (ws, chunkIn, chunkOut) = workers[k]
        for c in stride(from: k, to: chunks, by: workers.count) {
          let start = c * chunk
          let count = min(chunk, x.rows - start)
          if count == chunk {
            denoiser.denoise(x.rows(start..<start + chunk), sigma: sigma, into: out.rows(start..<start + chunk), ws)
          } else {
            chunkIn.zero()
            chunkIn.rows(0..<count).copy(from: x.rows(start..<start + count))
            denoiser.denoise(chunkIn, sigma: sigma, into: chunkOut, ws)
            out.rows(start..<start + count).copy(from: chunkOut.rows(0..<count))
          }
        }
      }
      // Even with one worker or one chunk the products run one-threaded, for the same numbers.
      ParallelFor.replicas(min(workers.count, chunks), denoiseChunks)
    }
    model.denormalize(result)
  }
}
