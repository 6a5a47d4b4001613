// TabVAE's width-4 LayerNorm (LayerNormWidth4.swift) against TabCore's general kernels.

import Testing

@testable import TabCore
@testable import TabVAE

@Test(arguments: [1, 7, 5000])
func width4LayerNormMatchesTheGeneralKernels(rows: Int) {
  // 5000 rows: several gradient blocks, and above the parallel threshold.
  let arena = ParameterArena(LayerNorm.parameterShapes("n", width: 4))
  let norm = LayerNorm("n", in: arena)
  var generator = SeededGenerator(seed: UInt64(rows))
  generator.fillUniform(norm.weight.value, lower: 0.5, upper: 1.5)
  generator.fillUniform(norm.bias.value, lower: -1, upper: 1)
  let w = Workspace()
  let x = w.matrix(rows: rows, cols: 4), dy = w.matrix(rows: rows, cols: 4)
  generator.fillNormal(x, mean: 0.3, standardDeviation: 2)
  generator.fillNormal(dy)
  func run(_ fast: Bool) -> [Float] {
    let y = w.matrix(rows: rows, cols: 4), dx = w.matrix(rows: rows, cols: 4)
    let saved = LayerNorm.Saved(rows: rows, in: w)
    dx.fill(with: 0.5)
    norm.weight.grad.fill(with: 0.25)
    norm.bias.grad.fill(with: -0.25)
    if fast {
      norm.forwardWidth4(x, into: y, saving: saved)
      norm.backwardWidth4(dy, input: x, saved: saved, dx: dx)
    } else {
      norm.forward(x, into: y, saving: saved)
      norm.backward(dy, input: x, saved: saved, dx: dx)
    }
    return [y, dx, saved.mean, saved.rstd, norm.weight.grad, norm.bias.grad].flatMap {
      Array(UnsafeBufferPointer(start: $0.base, count: $0.count))
    }
  }
  let fast = run(true), general = run(false)
  var worst: Float = 0
  for (a, b) in zip(fast, general) { worst = max(worst, abs(a - b) / max(1, abs(b))) }
  #expect(worst < 2e-5)
  #expect(fast.allSatisfy { $0.isFinite })
}
