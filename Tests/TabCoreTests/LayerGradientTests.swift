// Every layer's backward against central finite differences of a Double re-implementation of its
// forward (GradientCheck.swift), on small random shapes including width 1 and odd widths. The
// objective is L = Σ w ⊙ y for a fixed random w, so the upstream gradient dy is w. Gradients are
// pre-filled with random values, so the checks also prove that backward accumulates (+=).

import Foundation
import Testing

@testable import TabCore

@Suite struct LayerGradientTests {
  @Test(arguments: [(1, 1, 1), (3, 1, 4), (2, 5, 3), (4, 8, 1), (3, 11, 9)])
  func linear(rows: Int, inputs: Int, outputs: Int) {
    let t = TestBuffers(seed: UInt64(rows * 100 + inputs * 10 + outputs))
    let arena = ParameterArena(Linear.parameterShapes("fc", inputs: inputs, outputs: outputs))
    let layer = Linear("fc", in: arena)
    layer.initialize(using: &t.generator)
    let bias = layer.bias!
    let x = t.normal(rows, inputs), w = t.normal(rows, outputs), y = t.zeros(rows, outputs)
    let dx = t.normal(rows, inputs)
    t.generator.fillNormal(layer.weight.grad)
    t.generator.fillNormal(bias.grad)
    let dx0 = dx.toArray(), dW0 = layer.weight.grad.toArray(), db0 = bias.grad.toArray()

    layer.forward(x, into: y)
    layer.backward(w, input: x, dx: dx)

    let wd = doubles(w)
    // L(x, W, b) = Σ_ij w_ij (b_j + Σ_k x_ik W_jk), in Double.
    func objective(_ x: [Double], _ weight: [Double], _ b: [Double]) -> Double {
      var total = 0.0
      for i in 0..<rows {
        for j in 0..<outputs {
          var yij = b[j]
          for k in 0..<inputs { yij += x[i * inputs + k] * weight[j * inputs + k] }
          total += wd[i * outputs + j] * yij
        }
      }
      return total
    }
    let xd = doubles(x), weightD = doubles(layer.weight.value), bd = doubles(bias.value)
    let yExpected = (0..<rows * outputs).map { index -> Float in
      let (i, j) = (index / outputs, index % outputs)
      var yij = bd[j]
      for k in 0..<inputs { yij += xd[i * inputs + k] * weightD[j * inputs + k] }
      return Float(yij)
    }
    expectClose("Linear forward", y.toArray(), yExpected, absolute: 1e-5, relative: 1e-5)
    expectGradient("Linear dx", analytic: accumulated(dx, since: dx0), at: xd) {
      objective($0, weightD, bd)
    }
    expectGradient("Linear dW", analytic: accumulated(layer.weight.grad, since: dW0), at: weightD) {
      objective(xd, $0, bd)
    }
    expectGradient("Linear db", analytic: accumulated(bias.grad, since: db0), at: bd) {
      objective(xd, weightD, $0)
    }
  }

  @Test func linearWithoutBiasAndFirstLayer() {
    let t = TestBuffers(seed: 7)
    let arena = ParameterArena(
      Linear.parameterShapes("fc", inputs: 3, outputs: 2, bias: false))
    let layer = Linear("fc", in: arena, bias: false)
    layer.initialize(using: &t.generator)
    let x = t.normal(4, 3), y = t.zeros(4, 2), dy = t.normal(4, 2)
    layer.forward(x, into: y)
    let expected = t.zeros(4, 2)
    gemmNaive(x, layer.weight.value, transposeB: true, into: expected)
    expectClose("no-bias forward", y.toArray(), expected.toArray(), absolute: 1e-6, relative: 1e-5)
    // dx: nil (a first layer) still produces the weight gradient dyᵀ · x.
    layer.backward(dy, input: x, dx: nil)
    let dW = t.zeros(2, 3)
    gemmNaive(dy, x, transposeA: true, into: dW)
    expectClose(
      "no-bias dW", layer.weight.grad.toArray(), dW.toArray(), absolute: 1e-6, relative: 1e-5)
  }

  /// One activation's forward and backward against its Double definition and derivative.
  private func checkActivation(
    _ name: String, seed: UInt64, forward: (Matrix, Matrix) -> Void,
    backward: (_ dy: Matrix, _ x: Matrix, _ y: Matrix, _ dx: Matrix) -> Void,
    reference: @escaping (Double) -> Double
  ) {
    for (index, shape) in checkShapes.enumerated() {
      let t = TestBuffers(seed: seed + UInt64(index))
      let x = t.normalAwayFromZero(shape.rows, shape.cols)
      for i in 0..<x.count { x.base[i] *= 2 }  // reach the flat parts of tanh and SiLU too
      let y = t.zeros(shape.rows, shape.cols), w = t.normal(shape.rows, shape.cols)
      let dx = t.normal(shape.rows, shape.cols)
      let dx0 = dx.toArray()
      forward(x, y)
      backward(w, x, y, dx)
      let xd = doubles(x), wd = doubles(w)
      expectClose(
        "\(name) forward \(shape)", y.toArray(), xd.map { Float(reference($0)) }, absolute: 1e-6,
        relative: 1e-6)
      expectGradient("\(name) dx \(shape)", analytic: accumulated(dx, since: dx0), at: xd) { x in
        zip(x, wd).reduce(0) { $0 + $1.1 * reference($1.0) }
      }
    }
  }

  @Test func relu() {
    let layer = ReLU()
    checkActivation(
      "ReLU", seed: 10, forward: layer.forward,
      backward: { dy, x, _, dx in layer.backward(dy, input: x, dx: dx) },
      reference: { max($0, 0) })
  }

  @Test func leakyReLU() {
    let layer = LeakyReLU(slope: 0.2)
    checkActivation(
      "LeakyReLU", seed: 20, forward: layer.forward,
      backward: { dy, x, _, dx in layer.backward(dy, input: x, dx: dx) },
      reference: { $0 > 0 ? $0 : 0.2 * $0 })
  }

  @Test func silu() {
    let layer = SiLU()
    checkActivation(
      "SiLU", seed: 30, forward: layer.forward,
      backward: { dy, x, _, dx in layer.backward(dy, input: x, dx: dx) },
      reference: { $0 / (1 + Foundation.exp(-$0)) })
  }

  @Test func tanh() {
    let layer = Tanh()
    checkActivation(
      "Tanh", seed: 40, forward: layer.forward,
      backward: { dy, _, y, dx in layer.backward(dy, output: y, dx: dx) },
      reference: { Foundation.tanh($0) })
  }

  @Test(arguments: [(1, 1), (3, 1), (2, 5), (3, 8), (2, 13), (1, 32)])
  func layerNorm(rows: Int, width: Int) {
    let t = TestBuffers(seed: UInt64(rows * 37 + width))
    let arena = ParameterArena(LayerNorm.parameterShapes("ln", width: width))
    let layer = LayerNorm("ln", in: arena)
    // Random gamma and beta (not the 1/0 initialisation), so their roles are tested.
    t.generator.fillNormal(layer.weight.value)
    t.generator.fillNormal(layer.bias.value)
    t.generator.fillNormal(layer.weight.grad)
    t.generator.fillNormal(layer.bias.grad)
    let x = t.normal(rows, width, scale: 2), w = t.normal(rows, width)
    let y = t.zeros(rows, width), dx = t.normal(rows, width)
    let saved = LayerNorm.Saved(rows: rows, in: t.workspace)
    let dx0 = dx.toArray(), dg0 = layer.weight.grad.toArray(), db0 = layer.bias.grad.toArray()

    layer.forward(x, into: y, saving: saved)
    layer.backward(w, input: x, saved: saved, dx: dx)

    let eps = Double(layer.epsilon), wd = doubles(w)
    func normalize(_ x: [Double], _ gamma: [Double], _ beta: [Double]) -> [Double] {
      var y = [Double](repeating: 0, count: x.count)
      for i in 0..<rows {
        let row = x[i * width..<(i + 1) * width]
        let mean = row.reduce(0, +) / Double(width)
        let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(width)
        let rstd = 1 / (variance + eps).squareRoot()
        for j in 0..<width {
          y[i * width + j] = (x[i * width + j] - mean) * rstd * gamma[j] + beta[j]
        }
      }
      return y
    }
    func objective(_ x: [Double], _ gamma: [Double], _ beta: [Double]) -> Double {
      zip(normalize(x, gamma, beta), wd).reduce(0) { $0 + $1.0 * $1.1 }
    }
    let xd = doubles(x), gd = doubles(layer.weight.value), bd = doubles(layer.bias.value)
    expectClose(
      "LayerNorm forward", y.toArray(), normalize(xd, gd, bd).map { Float($0) }, absolute: 1e-5,
      relative: 1e-5)
    expectGradient("LayerNorm dx", analytic: accumulated(dx, since: dx0), at: xd) {
      objective($0, gd, bd)
    }
    expectGradient("LayerNorm dgamma", analytic: accumulated(layer.weight.grad, since: dg0), at: gd) {
      objective(xd, $0, bd)
    }
    expectGradient("LayerNorm dbeta", analytic: accumulated(layer.bias.grad, since: db0), at: bd) {
      objective(xd, gd, $0)
    }
  }

  @Test func backwardAccumulatesAcrossCalls() {
    // Two identical backward calls give exactly twice one call's gradient (from zero).
    let t = TestBuffers(seed: 99)
    let arena = ParameterArena(Linear.parameterShapes("fc", inputs: 5, outputs: 3))
    let layer = Linear("fc", in: arena)
    layer.initialize(using: &t.generator)
    let x = t.normal(4, 5), dy = t.normal(4, 3), dx = t.zeros(4, 5)
    layer.backward(dy, input: x, dx: dx)
    let once = arena.grads.map { $0 }, dxOnce = dx.toArray()
    layer.backward(dy, input: x, dx: dx)
    expectClose("grads twice", Array(arena.grads), once.map { 2 * $0 }, relative: 1e-6)
    expectClose("dx twice", dx.toArray(), dxOnce.map { 2 * $0 }, relative: 1e-6)
    arena.zeroGradients()
    #expect(arena.grads.allSatisfy { $0 == 0 })
  }
}
