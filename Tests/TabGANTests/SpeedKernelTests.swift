// The kernels behind tab-gan's speed work (docs/gan.md, "Speed"): the vectorised logarithm and
// the bulk Gumbel and normal draws built on it, the strided product, and the generator's
// condition-skipping products against the dense layer they replace.

import Foundation
import TabCore
import Testing

@testable import TabGAN

@Suite struct SpeedKernelTests {
  @Test func fastLogMatchesLog() {
    var random = SeededGenerator(seed: 11)
    var worstRelative: Double = 0
    for trial in 0..<20_000 {
      // Near 1 (where Gumbel draws need relative accuracy) and across the exponent range.
      let x: Float =
        trial % 2 == 0
        ? 1 + (random.uniformFloat() - 0.5) * 1e-3
        : Float(exp(Double(random.uniformFloat() - 0.5) * 160))
      let lanes = fastLog(SIMD8<Float>(repeating: x))
      let exact = log(Double(x))
      let error = abs(Double(lanes[3]) - exact)
      #expect(error <= 2e-7 * max(1, abs(exact)) + 1e-6 * abs(exact), "x \(x)")
      if abs(exact) > 0 { worstRelative = max(worstRelative, error / abs(exact)) }
    }
    #expect(worstRelative < 1e-6)
    let special = fastLog(SIMD8<Float>(1, 2, 0.5, 4, 0.25, 1e-30, 1e30, .ulpOfOne))
    #expect(special[0] == 0)
    #expect(abs(special[1] - 0.693_147_2) < 1e-7)
    #expect(abs(special[2] + 0.693_147_2) < 1e-7)
  }

  @Test func gumbelDrawsHaveGumbelMoments() {
    let n = 200_000
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: n)
    defer { buffer.deallocate() }
    var random = SeededGenerator(seed: 3)
    fillGumbel(buffer, count: n, using: &random)
    var sum = 0.0
    var squares = 0.0
    var below = 0
    for i in 0..<n {
      let g = Double(buffer[i])
      #expect(g.isFinite)
      sum += g
      squares += g * g
      if g < 0 { below += 1 }
    }
    let mean = sum / Double(n)
    let variance = squares / Double(n) - mean * mean
    #expect(abs(mean - 0.577_215_7) < 0.015)  // Euler–Mascheroni; standard error 0.003
    #expect(abs(variance - Double.pi * Double.pi / 6) < 0.03)
    // P(G < 0) = exp(−1).
    #expect(abs(Double(below) / Double(n) - exp(-1.0)) < 0.005)
    // The same seed gives the same draws; an odd count fills exactly that many.
    var again = SeededGenerator(seed: 3)
    let short = UnsafeMutablePointer<Float>.allocate(capacity: 13)
    defer { short.deallocate() }
    fillGumbel(short, count: 13, using: &again)
    for i in 0..<13 { #expect(short[i] == buffer[i]) }
  }

  @Test func normalDrawsHaveNormalMoments() {
    let n = 200_000
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: n + 1)
    defer { buffer.deallocate() }
    buffer[n] = 12345  // beyond count: must stay untouched
    var random = SeededGenerator(seed: 5)
    fillNormal(buffer, count: n, using: &random)
    #expect(buffer[n] == 12345)
    var m1 = 0.0
    var m2 = 0.0
    var m4 = 0.0
    var tail = 0
    for i in 0..<n {
      let x = Double(buffer[i])
      m1 += x
      m2 += x * x
      m4 += x * x * x * x
      if abs(x) > 1.959_964 { tail += 1 }
    }
    m1 /= Double(n)
    m2 /= Double(n)
    m4 /= Double(n)
    #expect(abs(m1) < 0.01)
    #expect(abs(m2 - 1) < 0.02)
    #expect(abs(m4 - 3) < 0.1)
    #expect(abs(Double(tail) / Double(n) - 0.05) < 0.003)
    // Consecutive draws are uncorrelated (lanes of one vector, and x then y of one point).
    var lag = 0.0
    for i in 0..<(n - 1) { lag += Double(buffer[i]) * Double(buffer[i + 1]) }
    #expect(abs(lag / Double(n - 1)) < 0.01)
  }

  @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
  func stridedProductMatchesTheReference(transposeA: Bool, transposeB: Bool) {
    let workspace = Workspace()
    var random = SeededGenerator(seed: 9)
    let (m, n, k) = (7, 5, 6)
    // Operands inside wider buffers, starting at an offset column.
    let a = workspace.matrix(rows: 9, cols: 11)
    let b = workspace.matrix(rows: 9, cols: 13)
    let c = workspace.matrix(rows: 8, cols: 10)
    random.fillNormal(a)
    random.fillNormal(b)
    random.fillNormal(c)
    let aRows = transposeA ? k : m
    let aCols = transposeA ? m : k
    let bRows = transposeB ? n : k
    let bCols = transposeB ? k : n
    let aBlock = workspace.matrix(rows: aRows, cols: aCols)
    let bBlock = workspace.matrix(rows: bRows, cols: bCols)
    let expected = workspace.matrix(rows: m, cols: n)
    for i in 0..<aRows { for j in 0..<aCols { aBlock[i, j] = a[i + 1, j + 2] } }
    for i in 0..<bRows { for j in 0..<bCols { bBlock[i, j] = b[i, j + 3] } }
    for i in 0..<m { for j in 0..<n { expected[i, j] = c[i + 1, j + 4] } }
    let before = c[0, 0]
    gemmNaive(
      aBlock, bBlock, transposeA: transposeA, transposeB: transposeB, into: expected,
      alpha: 0.5, beta: 1)
    gemmStrided(
      m: m, n: n, k: k, a.base + a.cols + 2, lda: a.cols, transposeA: transposeA, b.base + 3,
      ldb: b.cols, transposeB: transposeB, into: c.base + c.cols + 4, ldc: c.cols, alpha: 0.5,
      beta: 1)
    for i in 0..<m {
      for j in 0..<n { #expect(abs(c[i + 1, j + 4] - expected[i, j]) < 1e-4) }
    }
    #expect(c[0, 0] == before)  // outside the block: untouched
  }

  /// The generator's condition-skipping products give what the dense layer gives on inputs
  /// whose condition block is one-hot.
  @Test func conditionedProductsMatchTheDenseLayer() throws {
    let setup = try setup(encode(syntheticCSV(rows: 120)), config: tinyConfig())
    let model = setup.model
    let c = model.layout.conditionWidth
    try #require(c > 2)
    let rows = 6
    let inputs = 9 + c + 4
    let outputs = 5
    let start = 9
    let arena = ParameterArena(Linear.parameterShapes("l", inputs: inputs, outputs: outputs))
    let layer = Linear("l", in: arena)
    var random = SeededGenerator(seed: 4)
    layer.initialize(using: &random)
    let workspace = Workspace()
    let x = workspace.matrix(rows: rows, cols: inputs)
    random.fillNormal(x)
    let columns = UnsafeMutablePointer<Int32>.allocate(capacity: rows)
    defer { columns.deallocate() }
    for r in 0..<rows {
      for j in 0..<c { x[r, start + j] = 0 }
      let one = random.uniformInt(below: c)
      x[r, start + one] = 1
      columns[r] = Int32(one)
    }
    let dense = workspace.matrix(rows: rows, cols: outputs)
    let sparse = workspace.matrix(rows: rows, cols: outputs)
    layer.forward(x, into: dense)
    model.conditionedForward(
      layer, x, into: sparse, start: start, transposed: workspace.matrix(rows: c, cols: outputs),
      columns: columns)
    for k in 0..<dense.count { #expect(abs(dense.base[k] - sparse.base[k]) < 1e-5) }
    let dy = workspace.matrix(rows: rows, cols: outputs)
    random.fillNormal(dy)
    arena.zeroGradients()
    layer.backward(dy, input: x, dx: nil)
    let expected = Array(arena.grads)
    arena.zeroGradients()
    model.conditionedWeightBackward(
      layer, dy, input: x, start: start, conditionWidth: c,
      scratch: workspace.matrix(rows: c, cols: outputs), columns: columns)
    let got = Array(arena.grads)
    for k in 0..<expected.count { #expect(abs(expected[k] - got[k]) < 1e-5) }
  }
}
