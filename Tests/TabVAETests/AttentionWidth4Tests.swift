// The fused width-4 attention kernel (TabCore/Kernels/AttentionWidth4.swift) against
// SelfAttention's general path (forward and every gradient) and against central differences,
// for token counts below, at and above one chunk of 8 queries.

import Testing

@testable import TabCore

/// A one-head, width-4 attention layer without output projection, with random (non-zero)
/// parameters, and random inputs for `batch` rows of `tokens` tokens.
private struct Case {
  let arena: ParameterArena
  let layer: SelfAttention
  let memory = Workspace()
  let x: Matrix
  let dy: Matrix
  let batch: Int

  init(tokens: Int, batch: Int, seed: UInt64) {
    arena = ParameterArena(SelfAttention.parameterShapes("a", width: 4, outputProjection: false))
    layer = SelfAttention("a", in: arena, tokens: tokens, heads: 1, outputProjection: false)
    var generator = SeededGenerator(seed: seed)
    for p in arena.parameters { generator.fillUniform(p.value, lower: -1, upper: 1) }
    x = memory.matrix(rows: batch * tokens, cols: 4)
    dy = memory.matrix(rows: batch * tokens, cols: 4)
    generator.fillNormal(x, standardDeviation: 1.5)
    generator.fillNormal(dy)
    self.batch = batch
  }

  /// y, the parameter gradients (in arena order) and dx of the fused or the general path.
  func run(fused: Bool) -> (y: [Float], grads: [Float], dx: [Float]) {
    let y = memory.matrix(rows: x.rows, cols: 4)
    let dx = memory.matrix(rows: x.rows, cols: 4)
    dx.fill(with: 0.25)  // backward accumulates
    for p in arena.parameters { p.grad.fill(with: 0.5) }
    if fused {
      let saved = Width4AttentionSaved(for: layer, batch: batch, in: memory)
      layer.forwardWidth4(x, into: y, saving: saved)
      layer.backwardWidth4(dy, input: x, saved: saved, dx: dx)
    } else {
      let saved = SelfAttention.Saved(for: layer, batch: batch, in: memory)
      let scratch = SelfAttention.Scratch(for: layer, batch: batch, in: memory)
      layer.forward(x, into: y, saving: saved)
      layer.backward(dy, input: x, saved: saved, scratch: scratch, dx: dx)
    }
    let grads = arena.parameters.flatMap { Array(UnsafeBufferPointer(start: $0.grad.base, count: $0.grad.count)) }
    return (
      Array(UnsafeBufferPointer(start: y.base, count: y.count)), grads,
      Array(UnsafeBufferPointer(start: dx.base, count: dx.count))
    )
  }

  /// Σ y · dy of the fused forward, accumulated in Double.
  func objective() -> Double {
    let y = memory.matrix(rows: x.rows, cols: 4)
    let saved = Width4AttentionSaved(for: layer, batch: batch, in: memory)
    layer.forwardWidth4(x, into: y, saving: saved)
    var total = 0.0
    for i in 0..<y.count { total += Double(y.base[i]) * Double(dy.base[i]) }
    return total
  }
}

/// max |a − b| / max |b|: the largest difference relative to the array's scale.
private func maxRelativeError(_ a: [Float], _ b: [Float]) -> Float {
  precondition(a.count == b.count)
  var worst: Float = 0, scale: Float = 0
  for (u, v) in zip(a, b) {
    worst = max(worst, abs(u - v))
    scale = max(scale, abs(v))
  }
  return worst / max(scale, 1e-30)
}

@Test(arguments: [1, 3, 8, 9, 15, 17])
func width4AttentionMatchesGeneralPath(tokens: Int) {
  // 300 rows: more than one gradient block of 64 rows and above the parallel threshold.
  let c = Case(tokens: tokens, batch: 300, seed: UInt64(tokens))
  #expect(c.layer.hasWidth4Kernel)
  let fused = c.run(fused: true)
  let general = c.run(fused: false)
  #expect(maxRelativeError(fused.y, general.y) < 1e-5)
  #expect(maxRelativeError(fused.dx, general.dx) < 1e-5)
  #expect(maxRelativeError(fused.grads, general.grads) < 1e-5)
  #expect(fused.grads.allSatisfy { $0.isFinite } && fused.dx.allSatisfy { $0.isFinite })
}

@Test(arguments: [5, 11])
func width4AttentionGradientsMatchFiniteDifferences(tokens: Int) {
  let c = Case(tokens: tokens, batch: 3, seed: 100 + UInt64(tokens))
  let analytic = c.run(fused: true)
  let h: Float = 1e-2
  func central(_ p: UnsafeMutablePointer<Float>) -> Double {
    let saved = p.pointee
    p.pointee = saved + h
    let up = c.objective()
    p.pointee = saved - h
    let down = c.objective()
    p.pointee = saved
    return (up - down) / Double(2 * h)
  }
  var offset = 0
  for p in c.arena.parameters {
    for i in 0..<p.value.count {
      let numeric = central(p.value.base + i)
      let exact = Double(analytic.grads[offset + i] - 0.5)  // grads started at 0.5
      #expect(abs(numeric - exact) <= 2e-3 * max(1, abs(exact)), "\(p.name)[\(i)]")
    }
    offset += p.value.count
  }
  for i in 0..<c.x.count {
    let numeric = central(c.x.base + i)
    let exact = Double(analytic.dx[i] - 0.25)
    #expect(abs(numeric - exact) <= 2e-3 * max(1, abs(exact)), "x[\(i)]")
  }
}

@Test func width4AttentionDoesNotApplyToOtherShapes() {
  let wide = ParameterArena(SelfAttention.parameterShapes("a", width: 8, outputProjection: false))
  #expect(!SelfAttention("a", in: wide, tokens: 5, heads: 1, outputProjection: false).hasWidth4Kernel)
  let projected = ParameterArena(SelfAttention.parameterShapes("a", width: 4, outputProjection: true))
  #expect(!SelfAttention("a", in: projected, tokens: 5, heads: 1, outputProjection: true).hasWidth4Kernel)
  let twoHeads = ParameterArena(SelfAttention.parameterShapes("a", width: 4, outputProjection: false))
  #expect(!SelfAttention("a", in: twoHeads, tokens: 5, heads: 2, outputProjection: false).hasWidth4Kernel)
}
