// BatchNorm: training-mode backward against central finite differences (GradientCheck.swift),
// the SIMD kernels against their Double references, evaluation mode from the running statistics,
// and the running statistics against PyTorch's update formula worked by hand.

import Testing

@testable import TabCore

/// A BatchNorm of `width` columns over its own arenas, with random gamma, beta and gradients.
private func makeLayer(width: Int, t: TestBuffers) -> (BatchNorm, ParameterArena, ParameterArena) {
  let arena = ParameterArena(BatchNorm.parameterShapes("bn", width: width))
  let buffers = ParameterArena(BatchNorm.bufferShapes("bn", width: width))
  let layer = BatchNorm("bn", in: arena, buffers: buffers)
  layer.initialize()
  t.generator.fillNormal(layer.weight.value)
  t.generator.fillNormal(layer.bias.value)
  t.generator.fillNormal(layer.weight.grad)
  t.generator.fillNormal(layer.bias.grad)
  return (layer, arena, buffers)
}

@Suite struct BatchNormTests {
  @Test(arguments: [(2, 1), (5, 1), (3, 5), (4, 8), (6, 11), (3, 17)])
  func trainingGradient(rows: Int, width: Int) {
    let t = TestBuffers(seed: UInt64(500 + rows * 31 + width))
    let (layer, arena, buffers) = makeLayer(width: width, t: t)
    // The layer's views point into the arenas: keep them alive to the end of the test.
    defer { withExtendedLifetime((arena, buffers)) {} }
    let x = t.normal(rows, width, scale: 2)
    let w = t.normal(rows, width)
    let y = t.zeros(rows, width)
    let dx = t.normal(rows, width)
    let saved = BatchNorm.Saved(width: width, in: t.workspace)
    let dx0 = dx.toArray()
    let dg0 = layer.weight.grad.toArray()
    let db0 = layer.bias.grad.toArray()

    layer.forward(x, into: y, saving: saved)
    layer.backward(w, input: x, saved: saved, dx: dx)

    let eps = Double(layer.epsilon)
    let wd = doubles(w)
    // y = (x − mean_col) / sqrt(var_col + eps) · gamma + beta, biased variance, in Double.
    func normalize(_ x: [Double], _ gamma: [Double], _ beta: [Double]) -> [Double] {
      var y = [Double](repeating: 0, count: x.count)
      for j in 0..<width {
        let column = (0..<rows).map { x[$0 * width + j] }
        let mean = column.reduce(0, +) / Double(rows)
        let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(rows)
        let rstd = 1 / (variance + eps).squareRoot()
        for i in 0..<rows {
          y[i * width + j] = (x[i * width + j] - mean) * rstd * gamma[j] + beta[j]
        }
      }
      return y
    }
    func objective(_ x: [Double], _ gamma: [Double], _ beta: [Double]) -> Double {
      zip(normalize(x, gamma, beta), wd).reduce(0) { $0 + $1.0 * $1.1 }
    }
    let xd = doubles(x)
    let gd = doubles(layer.weight.value)
    let bd = doubles(layer.bias.value)
    expectClose(
      "BatchNorm forward", y.toArray(), normalize(xd, gd, bd).map { Float($0) }, absolute: 1e-5,
      relative: 1e-5)
    expectGradient("BatchNorm dx", analytic: accumulated(dx, since: dx0), at: xd) {
      objective($0, gd, bd)
    }
    expectGradient("BatchNorm dgamma", analytic: accumulated(layer.weight.grad, since: dg0), at: gd)
    {
      objective(xd, $0, bd)
    }
    expectGradient("BatchNorm dbeta", analytic: accumulated(layer.bias.grad, since: db0), at: bd) {
      objective(xd, gd, $0)
    }
  }

  @Test(arguments: [1, 7, 8, 9, 33])
  func kernelsMatchReferences(width: Int) {
    let t = TestBuffers(seed: 600 + UInt64(width))
    let rows = 13
    let x = t.normal(rows, width, scale: 3)
    let gamma = t.normal(1, width)
    let beta = t.normal(1, width)
    let y = t.zeros(rows, width)
    let yRef = t.zeros(rows, width)
    let mean = t.zeros(1, width)
    let rstd = t.zeros(1, width)
    let meanRef = t.zeros(1, width)
    let rstdRef = t.zeros(1, width)
    let runningMean = t.normal(1, width)
    let runningVariance = t.normal(1, width)
    for j in 0..<width { runningVariance.base[j] = abs(runningVariance.base[j]) + 0.5 }
    let runningMeanRef = t.copy(runningMean)
    let runningVarianceRef = t.copy(runningVariance)
    batchNormForward(
      x, into: y, gamma: gamma.base, beta: beta.base, mean: mean.base, rstd: rstd.base,
      runningMean: runningMean.base, runningVariance: runningVariance.base, momentum: 0.1,
      epsilon: 1e-5)
    batchNormForwardNaive(
      x, into: yRef, gamma: gamma.base, beta: beta.base, mean: meanRef.base, rstd: rstdRef.base,
      runningMean: runningMeanRef.base, runningVariance: runningVarianceRef.base, momentum: 0.1,
      epsilon: 1e-5)
    expectClose("forward y", y.toArray(), yRef.toArray(), absolute: 1e-5, relative: 1e-5)
    expectClose("mean", mean.toArray(), meanRef.toArray(), absolute: 1e-6, relative: 1e-5)
    expectClose("rstd", rstd.toArray(), rstdRef.toArray(), relative: 1e-5)
    expectClose(
      "running mean", runningMean.toArray(), runningMeanRef.toArray(), absolute: 1e-6,
      relative: 1e-5)
    expectClose(
      "running variance", runningVariance.toArray(), runningVarianceRef.toArray(), relative: 1e-5)

    let dy = t.normal(rows, width)
    let dx = t.normal(rows, width)
    let dxRef = t.copy(dx)
    let dgamma = t.normal(1, width)
    let dbeta = t.normal(1, width)
    let dgammaRef = t.copy(dgamma)
    let dbetaRef = t.copy(dbeta)
    batchNormBackward(
      dy, input: x, gamma: gamma.base, mean: mean.base, rstd: rstd.base, dgamma: dgamma.base,
      dbeta: dbeta.base, dx: dx)
    batchNormBackwardNaive(
      dy, input: x, gamma: gamma.base, mean: mean.base, rstd: rstd.base, dgamma: dgammaRef.base,
      dbeta: dbetaRef.base, dx: dxRef)
    expectClose("dx", dx.toArray(), dxRef.toArray(), absolute: 1e-5, relative: 1e-4)
    expectClose("dgamma", dgamma.toArray(), dgammaRef.toArray(), absolute: 1e-5, relative: 1e-5)
    expectClose("dbeta", dbeta.toArray(), dbetaRef.toArray(), absolute: 1e-5, relative: 1e-5)

    let z = t.zeros(rows, width)
    let zRef = t.zeros(rows, width)
    batchNormEvaluate(
      x, into: z, gamma: gamma.base, beta: beta.base, runningMean: runningMean.base,
      runningVariance: runningVariance.base, epsilon: 1e-5)
    batchNormEvaluateNaive(
      x, into: zRef, gamma: gamma.base, beta: beta.base, runningMean: runningMean.base,
      runningVariance: runningVariance.base, epsilon: 1e-5)
    expectClose("evaluate", z.toArray(), zRef.toArray(), absolute: 1e-5, relative: 1e-5)
  }

  @Test func runningStatisticsByHand() {
    // One column, batch [1, 2, 3, 6]: mean 3, biased variance (4 + 1 + 0 + 9)/4 = 3.5, unbiased
    // 14/3. From PyTorch's initial state (mean 0, variance 1), momentum 0.1:
    //   running mean = 0.9·0 + 0.1·3 = 0.3,  running variance = 0.9·1 + 0.1·14/3 = 1.3666667.
    // A second batch [0, 0, 0, 4] (mean 1, unbiased variance 12/3 = 4):
    //   running mean = 0.9·0.3 + 0.1·1 = 0.37,  running variance = 0.9·1.3666667 + 0.4 = 1.63.
    let t = TestBuffers(seed: 1)
    let arena = ParameterArena(BatchNorm.parameterShapes("bn", width: 2))
    let buffers = ParameterArena(BatchNorm.bufferShapes("bn", width: 2))
    let layer = BatchNorm("bn", in: arena, buffers: buffers)
    defer { withExtendedLifetime((arena, buffers)) {} }
    layer.initialize()
    let saved = BatchNorm.Saved(width: 2, in: t.workspace)
    // Column 1 is column 0 times −2: mean −2×, variance 4×.
    let first = t.zeros(4, 2)
    let second = t.zeros(4, 2)
    let y = t.zeros(4, 2)
    for (i, v) in [Float(1), 2, 3, 6].enumerated() {
      first[i, 0] = v
      first[i, 1] = -2 * v
    }
    for (i, v) in [Float(0), 0, 0, 4].enumerated() {
      second[i, 0] = v
      second[i, 1] = -2 * v
    }
    layer.forward(first, into: y, saving: saved)
    expectClose("saved mean", saved.mean.toArray(), [3, -6], relative: 1e-6)
    expectClose(
      "saved rstd", saved.rstd.toArray(),
      [1 / (3.5 + 1e-5 as Float).squareRoot(), 1 / (14 + 1e-5 as Float).squareRoot()],
      relative: 1e-6)
    expectClose("running mean 1", layer.runningMean.toArray(), [0.3, -0.6], relative: 1e-6)
    expectClose(
      "running variance 1", layer.runningVariance.toArray(), [0.9 + 1.4 / 3, 0.9 + 5.6 / 3],
      relative: 1e-6)
    layer.forward(second, into: y, saving: saved)
    expectClose("running mean 2", layer.runningMean.toArray(), [0.37, -0.74], relative: 1e-6)
    expectClose(
      "running variance 2", layer.runningVariance.toArray(),
      [0.9 * (0.9 + 1.4 / 3) + 0.4, 0.9 * (0.9 + 5.6 / 3) + 1.6], relative: 1e-6)
  }

  @Test(arguments: [1, 3])
  func evaluationUsesRunningStatistics(rows: Int) {
    let t = TestBuffers(seed: 70 + UInt64(rows))
    let (layer, arena, buffers) = makeLayer(width: 5, t: t)
    defer { withExtendedLifetime((arena, buffers)) {} }
    t.generator.fillNormal(layer.runningMean)
    for j in 0..<5 { layer.runningVariance.base[j] = 0.25 + Float(j) }
    let before = Array(buffers.values)
    let x = t.normal(rows, 5)
    let y = t.zeros(rows, 5)
    layer.evaluate(x, into: y)
    var expected: [Float] = []
    for i in 0..<rows {
      for j in 0..<5 {
        let normalized =
          (Double(x[i, j]) - Double(layer.runningMean.base[j]))
          / (Double(layer.runningVariance.base[j]) + 1e-5).squareRoot()
        expected.append(
          Float(normalized * Double(layer.weight.value.base[j]) + Double(layer.bias.value.base[j])))
      }
    }
    expectClose("evaluate", y.toArray(), expected, absolute: 1e-6, relative: 1e-5)
    // Evaluation leaves the running statistics alone (a batch of 1 included).
    #expect(Array(buffers.values) == before)
  }
}
