// The denoiser against a Double re-implementation of TabSyn's MLPDiffusion with EDM's
// preconditioning and loss: the loss value, and the gradient of every parameter by central
// differences (tabsyn.md §3.2-3.4).

import Foundation
import TabCore
import Testing

@testable import TabDiffusion

/// The reference: everything in Double, written from the maths, not from the Swift layers.
struct ReferenceDenoiser {
  let config: DiffusionConfig
  var parameters: [String: [Double]]

  func linear(_ name: String, _ x: [Double], outputs: Int) -> [Double] {
    let w = parameters[name + ".weight"]!
    let b = parameters[name + ".bias"]!
    let inputs = x.count
    return (0..<outputs).map { o in
      var sum = b[o]
      for i in 0..<inputs { sum += w[o * inputs + i] * x[i] }
      return sum
    }
  }

  static func silu(_ v: [Double]) -> [Double] { v.map { $0 / (1 + exp(-$0)) } }

  /// F(x_in, c_noise) for one row.
  func network(_ xIn: [Double], noise: Double) -> [Double] {
    let w = config.width
    let half = w / 2
    var sinusoid = [Double](repeating: 0, count: w)
    for k in 0..<half {
      let f = pow(1.0 / 10_000, Double(k) / Double(half))
      sinusoid[k] = sin(noise * f)
      sinusoid[half + k] = cos(noise * f)
    }
    let emb = linear("embed.1", Self.silu(linear("embed.0", sinusoid, outputs: w)), outputs: w)
    var h = zip(linear("input", xIn, outputs: w), emb).map { $0 + $1 }
    for (i, width) in config.hiddenWidths.enumerated() {
      h = Self.silu(linear("hidden.\(i)", h, outputs: width))
    }
    return linear("output", h, outputs: config.dimension)
  }

  /// mean over rows and dims of λ(σ)·(D(y + σε; σ) − y)².
  func loss(y: [[Double]], sigma: [Double], epsilon: [[Double]]) -> Double {
    let sd = Double(config.sigmaData)
    var total = 0.0
    for r in 0..<y.count {
      let s = sigma[r]
      let x = zip(y[r], epsilon[r]).map { $0 + s * $1 }
      let cSkip = sd * sd / (s * s + sd * sd)
      let cOut = s * sd / (s * s + sd * sd).squareRoot()
      let cIn = 1 / (s * s + sd * sd).squareRoot()
      let f = network(x.map { cIn * $0 }, noise: log(s) / 4)
      let lambda = (s * s + sd * sd) / ((s * sd) * (s * sd))
      for j in 0..<x.count {
        let d = cSkip * x[j] + cOut * f[j] - y[r][j]
        total += lambda * d * d
      }
    }
    return total / Double(y.count * config.dimension)
  }
}

@Suite struct DenoiserTests {
  let config = DiffusionConfig(dimension: 3, width: 4)
  let sigma: [Float] = [0.01, 0.3, 1.0, 5.0, 40.0]

  func setUp(_ config: DiffusionConfig? = nil) -> (Denoiser, DenoiserWorkspace, Matrix, Matrix, Workspace) {
    let config = config ?? self.config
    let denoiser = Denoiser(config: config)
    var generator = SeededGenerator(seed: 11)
    denoiser.initialize(using: &generator)
    let buffers = Workspace()
    let y = buffers.matrix(rows: sigma.count, cols: config.dimension)
    let epsilon = buffers.matrix(rows: sigma.count, cols: config.dimension)
    generator.fillNormal(y, standardDeviation: 0.5)
    generator.fillNormal(epsilon)
    return (denoiser, DenoiserWorkspace(config: config, capacity: 8), y, epsilon, buffers)
  }

  func reference(_ denoiser: Denoiser) -> ReferenceDenoiser {
    var parameters: [String: [Double]] = [:]
    for p in denoiser.arena.parameters { parameters[p.name] = p.value.buffer.map(Double.init) }
    return ReferenceDenoiser(config: denoiser.config, parameters: parameters)
  }

  func rows(_ m: Matrix) -> [[Double]] {
    (0..<m.rows).map { i in (0..<m.cols).map { Double(m[i, $0]) } }
  }

  @Test func lossMatchesTheReference() {
    let (denoiser, ws, y, epsilon, buffers) = setUp()
    defer { withExtendedLifetime(buffers) {} }
    let value = sigma.withUnsafeBufferPointer {
      denoiser.loss(clean: y, sigma: $0.baseAddress!, epsilon: epsilon, ws, gradient: false)
    }
    let expected = reference(denoiser).loss(y: rows(y), sigma: sigma.map(Double.init), epsilon: rows(epsilon))
    #expect(abs(value - expected) <= 1e-4 * max(1, abs(expected)), "loss \(value), reference \(expected)")
  }

  @Test(arguments: [3, 1])
  func parameterGradientsMatchFiniteDifferences(depth: Int) {
    let (denoiser, ws, y, epsilon, buffers) = setUp(DiffusionConfig(dimension: 3, width: 4, depth: depth))
    defer { withExtendedLifetime(buffers) {} }
    denoiser.arena.zeroGradients()
    _ = sigma.withUnsafeBufferPointer {
      denoiser.loss(clean: y, sigma: $0.baseAddress!, epsilon: epsilon, ws, gradient: true)
    }
    denoiser.backward(rows: sigma.count, ws)
    var model = reference(denoiser)
    let yRows = rows(y)
    let eRows = rows(epsilon)
    let s = sigma.map(Double.init)
    var worst = (name: "", excess: 0.0, analytic: 0.0, numeric: 0.0)
    var checked = 0
    for p in denoiser.arena.parameters {
      let base = model.parameters[p.name]!
      for i in 0..<base.count {
        let h = 1e-6 * max(1, abs(base[i]))
        var values = base
        values[i] = base[i] + h
        model.parameters[p.name] = values
        let up = model.loss(y: yRows, sigma: s, epsilon: eRows)
        values[i] = base[i] - h
        model.parameters[p.name] = values
        let down = model.loss(y: yRows, sigma: s, epsilon: eRows)
        model.parameters[p.name] = base
        let numeric = (up - down) / (2 * h)
        let analytic = Double(p.grad.base[i])
        let excess = abs(analytic - numeric) / (1e-3 * max(1, abs(numeric)))
        if excess > worst.excess { worst = ("\(p.name)[\(i)]", excess, analytic, numeric) }
        checked += 1
      }
    }
    #expect(checked == denoiser.arena.scalarCount)
    #expect(worst.excess <= 1, "\(worst.name): analytic \(worst.analytic), numeric \(worst.numeric)")
  }

  @Test func sharedNoiseForwardEqualsPerRowForward() {
    let (denoiser, ws, y, _, buffers) = setUp()
    let rows = y.rows
    let other = DenoiserWorkspace(config: config, capacity: 8)
    for i in 0..<rows {
      for j in 0..<config.dimension { ws.xIn[i, j] = y[i, j]; other.xIn[i, j] = y[i, j] }
      ws.noise.base[i] = 0.37
    }
    other.noise.base[0] = 0.37
    denoiser.forward(rows: rows, ws)
    denoiser.forward(rows: rows, other, sharedNoise: true)
    let a = ws.f.rows(0..<rows).toArray()
    let b = other.f.rows(0..<rows).toArray()
    #expect(a == b)
    withExtendedLifetime(buffers) {}
  }

  @Test func preconditioningCoefficients() {
    let c = Preconditioning(sigma: 0.5, sigmaData: 0.5)
    #expect(abs(c.skip - 0.5) < 1e-7)
    #expect(abs(c.out - 0.5 / 2.0.squareRoot().float) < 1e-7)
    #expect(abs(c.input - 1 / (0.5 * 2.0.squareRoot()).float) < 1e-6)
    #expect(abs(c.noise - Float(log(0.5) / 4)) < 1e-7)
    // λ(σ)·c_out² = 1 at every σ: the identity the loss computation relies on.
    for s in [0.002, 0.1, 1.0, 80.0] {
      let p = Preconditioning(sigma: Float(s), sigmaData: 0.5)
      let lambda = (s * s + 0.25) / (s * 0.5 * s * 0.5)
      #expect(abs(lambda * Double(p.out) * Double(p.out) - 1) < 1e-6)
    }
  }
}

extension Double {
  var float: Float { Float(self) }
}
