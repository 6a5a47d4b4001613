// The Heun sampler on a case with a known answer: for data N(μ, s²) the exact denoiser is
// D(x; σ) = μ + s²/(s² + σ²)·(x − μ), and sampling with it must give N(μ, s²) back. Also the
// noise-level grid, and that rows depend on the seed and their index only.

import Foundation
import TabCore
import TabStream
import Testing

@testable import TabDiffusion

@Suite struct SamplerTests {
  let mu: [Float] = [0.3, -0.5]
  let s: [Float] = [0.5, 0.2]

  func exactDenoiser(_ x: Matrix, _ sigma: Float, _ out: Matrix) {
    for i in 0..<x.rows {
      for j in 0..<x.cols {
        let v = s[j] * s[j]
        out[i, j] = mu[j] + v / (v + sigma * sigma) * (x[i, j] - mu[j])
      }
    }
  }

  @Test func noiseLevelsFollowEDM() {
    let levels = SamplerSettings(steps: 50).noiseLevels
    #expect(levels.count == 51)
    #expect(abs(levels[0] - 80) < 1e-9)
    #expect(abs(levels[1] - 71.50) < 0.01)
    #expect(abs(levels[2] - 63.79) < 0.01)
    #expect(abs(levels[3] - 56.80) < 0.01)
    #expect(abs(levels[49] - 0.002) < 1e-12)
    #expect(levels[50] == 0)
    #expect(abs(SamplerSettings(steps: 50).gamma - 0.02) < 1e-12)
    #expect(SamplerSettings(steps: 25).evaluations == 49)
  }

  /// Heun's method on the same grid in Double for one coordinate: the probability-flow ODE of a
  /// Gaussian, dx/dt = (x − μ)·t/(s² + t²), from x = t_0·ε.
  func referenceHeun(_ epsilon: Double, mu: Double, s: Double, levels: [Double]) -> Double {
    func slope(_ x: Double, _ t: Double) -> Double { (x - (mu + s * s / (s * s + t * t) * (x - mu))) / t }
    var x = epsilon * levels[0]
    let steps = levels.count - 1
    for i in 0..<steps {
      let h = levels[i + 1] - levels[i]
      let d = slope(x, levels[i])
      var next = x + h * d
      if i < steps - 1 { next = x + h * 0.5 * (d + slope(next, levels[i + 1])) }
      x = next
    }
    return x
  }

  @Test func deterministicSamplerIsHeunOnTheODE() {
    // With churn 0 the sampler integrates the probability-flow ODE, whose exact solution for a
    // Gaussian is linear: x_0 = μ + s·(t_0·ε − μ)/√(s² + t_0²), ε being the row's first normals.
    let rows = 64
    for steps in [12, 200] {
      let settings = SamplerSettings(steps: steps, churn: 0)
      let sampler = HeunSampler(settings: settings, dimension: 2, capacity: rows)
      let ws = Workspace()
      let out = ws.matrix(rows: rows, cols: 2)
      sampler.sample(firstRow: 100, seed: 5, into: out, denoise: exactDenoiser)
      let t0 = settings.sigmaMax
      var worstStep = 0.0
      var worstExact = 0.0
      for r in 0..<rows {
        var g = rowGenerator(seed: 5, row: 100 + r)
        for j in 0..<2 {
          let e = Double(g.normal())
          let heun = referenceHeun(e, mu: Double(mu[j]), s: Double(s[j]), levels: settings.noiseLevels)
          let exact = Double(mu[j]) + Double(s[j]) * (e * t0 - Double(mu[j])) / (Double(s[j] * s[j]) + t0 * t0).squareRoot()
          worstStep = max(worstStep, abs(Double(out[r, j]) - heun) / Double(s[j]))
          worstExact = max(worstExact, abs(Double(out[r, j]) - exact) / Double(s[j]))
        }
      }
      // Float arithmetic against Double on the same steps; and the discretisation error, which
      // shrinks with the step count (about 0.2 s at 12 steps, 1e-3 s at 200 for |ε| ≤ 3).
      #expect(worstStep < 1e-4, "\(steps) steps: \(worstStep) from Heun in Double")
      if steps == 200 { #expect(worstExact < 2e-3, "200 steps: \(worstExact) from the exact ODE solution") }
    }
  }

  @Test func stochasticSamplerReproducesTheGaussian() {
    let rows = 4000
    let sampler = HeunSampler(settings: SamplerSettings(steps: 30), dimension: 2, capacity: rows)
    let ws = Workspace()
    let out = ws.matrix(rows: rows, cols: 2)
    sampler.sample(firstRow: 0, seed: 9, into: out, denoise: exactDenoiser)
    for j in 0..<2 {
      var sum = 0.0
      var squares = 0.0
      for i in 0..<rows { sum += Double(out[i, j]) }
      let mean = sum / Double(rows)
      for i in 0..<rows { squares += (Double(out[i, j]) - mean) * (Double(out[i, j]) - mean) }
      let sd = (squares / Double(rows - 1)).squareRoot()
      // 4 standard errors: mean s/√n, sd about s/√(2n).
      #expect(abs(mean - Double(mu[j])) < 4 * Double(s[j]) / Double(rows).squareRoot(), "mean \(mean)")
      #expect(abs(sd / Double(s[j]) - 1) < 4 / (2 * Double(rows)).squareRoot() + 0.01, "sd \(sd)")
    }
  }

  func randomModel(dimension: Int = 3, width: Int = 8) -> LatentModel {
    let layout = RowLayout(floatFields: (0..<dimension).map { FieldDescriptor(name: "z\($0)", role: "latent") })
    let model = LatentModel(
      config: DiffusionConfig(dimension: dimension, width: width),
      origin: LatentOrigin(layout: layout, encoder: nil, model: nil))
    var g = SeededGenerator(seed: 1)
    model.denoiser.initialize(using: &g)
    for j in 0..<dimension { model.mean.base[j] = Float(j) }
    return model
  }

  func sampleAll(_ model: LatentModel, rows: Int, batch: Int, seed: UInt64) -> [Float] {
    let sampler = LatentSampler(model: model, settings: SamplerSettings(steps: 4), capacity: batch)
    let ws = Workspace()
    let out = ws.matrix(rows: rows, cols: model.config.dimension)
    var done = 0
    while done < rows {
      let count = min(batch, rows - done)
      sampler.sample(firstRow: done, seed: seed, into: out.rows(done..<done + count))
      done += count
    }
    return out.toArray()
  }

  @Test func rowsDoNotDependOnTheBatch() {
    let model = randomModel()
    let whole = sampleAll(model, rows: 600, batch: 768, seed: 3)
    let pieces = sampleAll(model, rows: 600, batch: 256, seed: 3)
    #expect(whole == pieces)
    #expect(whole.allSatisfy { $0.isFinite })
  }

  @Test func seedsRepeatAndDiffer() {
    let model = randomModel()
    let a = sampleAll(model, rows: 300, batch: 512, seed: 3)
    let b = sampleAll(model, rows: 300, batch: 512, seed: 3)
    let c = sampleAll(model, rows: 300, batch: 512, seed: 4)
    #expect(a == b)
    #expect(a != c)
  }
}
