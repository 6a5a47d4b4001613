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
  /// whose condition block is one-hot (and whose code columns after it are added row by row).
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
      // The 4 columns after the block (the codes' place): a one-hot pair and two dense values,
      // with zeros on some rows (the sparse path skips them).
      x[r, start + c] = r % 2 == 0 ? 1 : 0
      x[r, start + c + 1] = r % 2 == 0 ? 0 : 1
      if r % 3 == 0 { x[r, start + c + 3] = 0 }
    }
    let dense = workspace.matrix(rows: rows, cols: outputs)
    let sparse = workspace.matrix(rows: rows, cols: outputs)
    layer.forward(x, into: dense)
    model.conditionedForward(
      layer, x, into: sparse, start: start, conditionWidth: c,
      transposed: workspace.matrix(rows: c + 4, cols: outputs),
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
      scratch: workspace.matrix(rows: c + 4, cols: outputs), columns: columns)
    let got = Array(arena.grads)
    for k in 0..<expected.count { #expect(abs(expected[k] - got[k]) < 1e-5) }
  }
  /// The critic step's rearranged first layer (the data blocks by one product, the one-hot
  /// condition blocks as rows of V, x̂'s pre-activation by linearity, W1's data gradient in one
  /// product with the penalty's term) against TabCore's dense critic and penalty on the
  /// member-by-member input with the same weights, draws and masks: same loss, same gradients.
  @Test func criticStepMatchesTheDenseCritic() throws {
    let s = try setup(encode(syntheticCSV(rows: 120)), config: tinyConfig(), seed: 7)
    for _ in 0..<2 { _ = s.trainer.epoch() }
    let t = s.trainer
    let loss = t.replayedCriticLoss(state: t.random)
    let pac = t.config.pac
    let b = t.config.batch
    let r = b / pac
    let w = s.model.layout.dataWidth
    let c = s.model.layout.conditionWidth
    try #require(c > 0)
    let p = pac * (w + c)
    let h1 = t.config.criticWidths[0]
    let h2 = t.config.criticWidths[1]
    let arena = ParameterArena(
      CriticNetwork.parameterShapes("critic", inputs: p, hidden1: h1, hidden2: h2))
    let dense = CriticNetwork("critic", in: arena)
    let wd = t.critic.linear1.weight
    let v = try #require(t.conditionWeight)
    for o in 0..<h1 {
      for m in 0..<pac {
        for j in 0..<w { dense.linear1.weight.value[o, m * (w + c) + j] = wd.value[o, m * w + j] }
        for k in 0..<c {
          dense.linear1.weight.value[o, m * (w + c) + w + k] = v.value[m * c + k, o]
        }
      }
    }
    let others = ["linear1.bias", "linear2.weight", "linear2.bias", "linear3.weight", "linear3.bias"]
    for name in others {
      arena["critic." + name].value.copy(from: t.criticArena["critic." + name].value)
    }
    // The step's inputs, member by member: [fake ; real ; x̂] (3R, P).
    let workspace = Workspace()
    let x = workspace.matrix(rows: 3 * r, cols: p)
    x.zero()
    for i in 0..<2 * b {
      let row = x.row(i / pac) + (i % pac) * (w + c)
      for j in 0..<w { row[j] = t.pairData[i, j] }
      row[w + Int(t.pairColumns[i])] = 1
    }
    GradientPenalty.interpolate(
      real: x.rows(r..<2 * r), fake: x.rows(0..<r), alpha: t.alpha, into: x.rows(2 * r..<3 * r))
    let saved = CriticNetwork.Saved(
      a1: workspace.matrix(rows: 3 * r, cols: h1), h1: workspace.matrix(rows: 3 * r, cols: h1),
      a2: workspace.matrix(rows: 3 * r, cols: h2), h2: workspace.matrix(rows: 3 * r, cols: h2),
      mask1: t.savedAll.mask1, mask2: t.savedAll.mask2)
    let y = workspace.matrix(rows: 3 * r, cols: 1)
    dense.forward(x, into: y, saving: saved)
    func part(_ range: Range<Int>) -> CriticNetwork.Saved {
      CriticNetwork.Saved(
        a1: saved.a1.rows(range), h1: saved.h1.rows(range), a2: saved.a2.rows(range),
        h2: saved.h2.rows(range), mask1: saved.mask1?.rows(range), mask2: saved.mask2?.rows(range))
    }
    let penalty = GradientPenalty(critic: dense, lambda: t.config.penalty)
    let buffers = GradientPenalty.Buffers(rows: r, critic: dense, in: workspace)
    arena.zeroGradients()
    let gp = penalty.forward(saved: part(2 * r..<3 * r), buffers: buffers)
    penalty.backward(saved: part(2 * r..<3 * r), buffers: buffers)
    var expected = gp
    for k in 0..<r { expected += (y.base[k] - y.base[r + k]) / Float(r) }
    // Wasserstein part: dy = 1/R on fake rows, −1/R on real rows, backward through the layers.
    let pair = part(0..<2 * r)
    let dy = workspace.matrix(rows: 2 * r, cols: 1)
    for k in 0..<r {
      dy.base[k] = 1 / Float(r)
      dy.base[r + k] = -1 / Float(r)
    }
    let dh2 = workspace.matrix(rows: 2 * r, cols: h2)
    let da2 = workspace.matrix(rows: 2 * r, cols: h2)
    let dh1 = workspace.matrix(rows: 2 * r, cols: h1)
    let da1 = workspace.matrix(rows: 2 * r, cols: h1)
    for m in [dh2, da2, dh1, da1] { m.zero() }
    dense.linear3.backward(dy, input: pair.h2, dx: dh2)
    for k in 0..<dh2.count { dh2.base[k] *= pair.mask2!.base[k] }
    leakyReLUBackward(dh2.base, input: pair.a2.base, dx: da2.base, count: da2.count, slope: 0.2)
    dense.linear2.backward(da2, input: pair.h1, dx: dh1)
    for k in 0..<dh1.count { dh1.base[k] *= pair.mask1!.base[k] }
    leakyReLUBackward(dh1.base, input: pair.a1.base, dx: da1.base, count: da1.count, slope: 0.2)
    dense.linear1.backward(da1, input: x.rows(0..<2 * r), dx: nil)
    #expect(abs(loss - expected) <= 1e-5 * max(1, abs(expected)), "loss \(loss) vs \(expected)")
    // Gradients: each tensor within 1e-4 of its largest entry.
    func close(_ got: (Int, Int) -> Float, _ want: Matrix, _ name: String) {
      var largest: Float = 0
      var worst: Float = 0
      for i in 0..<want.rows {
        for j in 0..<want.cols {
          largest = max(largest, abs(want[i, j]))
          worst = max(worst, abs(got(i, j) - want[i, j]))
        }
      }
      #expect(largest > 0 && worst <= 1e-4 * largest, "\(name): worst \(worst) of \(largest)")
    }
    let g1 = dense.linear1.weight.grad
    close({ o, col in
      let m = col / (w + c)
      let j = col % (w + c)
      return j < w ? wd.grad[o, m * w + j] : v.grad[m * c + j - w, o]
    }, g1, "W1")
    // (linear3.bias's gradient is exactly 0: the two means' seeds cancel.)
    for name in ["linear1.bias", "linear2.weight", "linear2.bias", "linear3.weight"] {
      let got = t.criticArena["critic." + name].grad
      close({ got[$0, $1] }, arena["critic." + name].grad, name)
    }
  }
  /// The fused Adam step (one division per element, gradients zeroed in the same pass) follows
  /// TabCore's Adam up to rounding, with L2 weight decay as tab-gan uses it.
  @Test func fusedAdamMatchesAdam() {
    let shapes = [ParameterShape("a", rows: 7, cols: 5), ParameterShape("b", rows: 1, cols: 3)]
    let reference = ParameterArena(shapes)
    let fused = ParameterArena(shapes)
    var random = SeededGenerator(seed: 21)
    for k in 0..<reference.count { reference.values[k] = random.uniformFloat() * 2 - 1 }
    for k in 0..<fused.count { fused.values[k] = reference.values[k] }
    var adam = Adam(learningRate: 2e-4, beta1: 0.5, beta2: 0.9, weightDecay: .l2(1e-6))
    var fusedAdam = adam
    for _ in 0..<20 {
      for k in 0..<reference.count {
        let g = (random.uniformFloat() * 2 - 1) * 3
        reference.grads[k] = g
        fused.grads[k] = g
      }
      adam.update(reference)
      fusedAdam.updateZeroingGradients(fused)
      #expect(fusedAdam.step == adam.step)
      for k in 0..<fused.count { #expect(fused.grads[k] == 0) }
    }
    var worst: Float = 0
    var moved: Float = 0
    for k in 0..<fused.count {
      worst = max(worst, abs(fused.values[k] - reference.values[k]))
      moved = max(moved, abs(fused.m[k] - reference.m[k]) + abs(fused.v[k] - reference.v[k]))
    }
    #expect(worst <= 1e-6, "largest difference \(worst)")
    #expect(moved == 0)  // the moments are computed exactly as Adam's
  }
}
