// SelfAttention (Layers/SelfAttention.swift) against a Double re-implementation of its forward,
// and its backward (every projection's weight and bias, and dx) against central finite
// differences of it (GradientCheck.swift), for N = 1, 3, 5 and 17 tokens (17: whole SIMD vectors
// plus a tail along the key axis), D = 4 with one head and D = 6 with two, with and without the
// output projection. Objective L = Σ w ⊙ y; gradients start random, so accumulation is checked.

import Foundation
import Testing

@testable import TabCore

@Suite struct AttentionTests {
  /// Multi-head attention in Double; `p` holds the projections' [W_q, b_q, W_k, b_k, W_v, b_v
  /// (, W_o, b_o)], each W (D, D) row-major as Linear's.
  private static func attend(
    _ x: [Double], _ p: [[Double]], batch: Int, tokens: Int, width: Int, heads: Int
  ) -> [Double] {
    let rows = batch * tokens
    let e = width / heads
    func linear(_ input: [Double], _ weight: [Double], _ bias: [Double]) -> [Double] {
      (0..<rows * width).map { index in
        let (r, o) = (index / width, index % width)
        var sum = bias[o]
        for k in 0..<width { sum += input[r * width + k] * weight[o * width + k] }
        return sum
      }
    }
    let q = linear(x, p[0], p[1])
    let k = linear(x, p[2], p[3])
    let v = linear(x, p[4], p[5])
    var a = [Double](repeating: 0, count: rows * width)
    for b in 0..<batch {
      for h in 0..<heads {
        for i in 0..<tokens {
          let qi = (b * tokens + i) * width + h * e
          var scores = (0..<tokens).map { j -> Double in
            let kj = (b * tokens + j) * width + h * e
            return (0..<e).reduce(0) { $0 + q[qi + $1] * k[kj + $1] } / Double(e).squareRoot()
          }
          let largest = scores.max()!
          scores = scores.map { Foundation.exp($0 - largest) }
          let total = scores.reduce(0, +)
          for j in 0..<tokens {
            let vj = (b * tokens + j) * width + h * e
            for c in 0..<e { a[qi + c] += scores[j] / total * v[vj + c] }
          }
        }
      }
    }
    return p.count == 8 ? linear(a, p[6], p[7]) : a
  }

  @Test(arguments: [
    (1, 4, 1, true), (3, 4, 1, true), (5, 4, 1, true), (1, 6, 2, true), (3, 6, 2, true),
    (5, 6, 2, true), (1, 4, 1, false), (3, 4, 1, false), (5, 6, 2, false), (17, 4, 2, true),
  ])
  func gradients(tokens: Int, width: Int, heads: Int, projection: Bool) {
    let batch = 2
    let t = TestBuffers(seed: UInt64(tokens * 100 + width * 10 + heads + (projection ? 1000 : 0)))
    let arena = ParameterArena(
      SelfAttention.parameterShapes("attn", width: width, outputProjection: projection))
    let layer = SelfAttention(
      "attn", in: arena, tokens: tokens, heads: heads, outputProjection: projection)
    // Random weights and biases (not the zero-bias initialisation), so every term is live.
    for parameter in arena.parameters {
      t.generator.fillNormal(parameter.value, standardDeviation: 0.7)
      t.generator.fillNormal(parameter.grad)
    }
    let rows = batch * tokens
    let x = t.normal(rows, width)
    let y = t.zeros(rows, width)
    let w = t.normal(rows, width)
    let dx = t.normal(rows, width)
    let saved = SelfAttention.Saved(for: layer, batch: batch, in: t.workspace)
    let scratch = SelfAttention.Scratch(for: layer, batch: batch, in: t.workspace)
    let dx0 = dx.toArray()
    let grads0 = arena.parameters.map { $0.grad.toArray() }

    layer.forward(x, into: y, saving: saved)
    layer.backward(w, input: x, saved: saved, scratch: scratch, dx: dx)

    let wd = doubles(w)
    let xd = doubles(x)
    let values = arena.parameters.map { doubles($0.value) }
    func objective(_ x: [Double], _ p: [[Double]]) -> Double {
      let y = Self.attend(x, p, batch: batch, tokens: tokens, width: width, heads: heads)
      return zip(y, wd).reduce(0) { $0 + $1.0 * $1.1 }
    }
    let label = "N \(tokens) D \(width) H \(heads) projection \(projection)"
    let expected = Self.attend(xd, values, batch: batch, tokens: tokens, width: width, heads: heads)
    expectClose(
      "attention forward \(label)", y.toArray(), expected.map { Float($0) }, absolute: 1e-5,
      relative: 1e-5)
    // Each row of probabilities is a distribution.
    for r in 0..<saved.probabilities.rows {
      let sum = (0..<tokens).reduce(Float(0)) { $0 + saved.probabilities[r, $1] }
      #expect(abs(sum - 1) < 1e-5, "probabilities row \(r) sums to \(sum)")
    }
    expectGradient("attention dx \(label)", analytic: accumulated(dx, since: dx0), at: xd) {
      objective($0, values)
    }
    for (index, parameter) in arena.parameters.enumerated() {
      expectGradient(
        "attention \(parameter.name) \(label)",
        analytic: accumulated(parameter.grad, since: grads0[index]), at: values[index]
      ) { changed in
        var p = values
        p[index] = changed
        return objective(xd, p)
      }
    }
  }

  @Test func firstLayerWithoutDx() {
    // dx: nil still gives the parameter gradients (equal to the run with a dx).
    let t = TestBuffers(seed: 5)
    let arena = ParameterArena(SelfAttention.parameterShapes("a", width: 4))
    let layer = SelfAttention("a", in: arena, tokens: 3, heads: 2)
    layer.initialize(using: &t.generator)
    for parameter in arena.parameters { t.generator.fillNormal(parameter.value) }
    let x = t.normal(6, 4)
    let y = t.zeros(6, 4)
    let dy = t.normal(6, 4)
    let dx = t.zeros(6, 4)
    let saved = SelfAttention.Saved(for: layer, batch: 2, in: t.workspace)
    let scratch = SelfAttention.Scratch(for: layer, batch: 2, in: t.workspace)
    layer.forward(x, into: y, saving: saved)
    layer.backward(dy, input: x, saved: saved, scratch: scratch, dx: dx)
    let withDx = Array(arena.grads)
    arena.zeroGradients()
    layer.backward(dy, input: x, saved: saved, scratch: scratch, dx: nil)
    expectClose("grads without dx", Array(arena.grads), withDx, absolute: 0, relative: 0)
  }

  @Test func initialization() {
    // tabsyn.md §2.3: default Linear weights, zero biases.
    var generator = SeededGenerator(seed: 3)
    let arena = ParameterArena(SelfAttention.parameterShapes("a", width: 4))
    let layer = SelfAttention("a", in: arena, tokens: 2, heads: 1)
    layer.initialize(using: &generator)
    for projection in [layer.query, layer.key, layer.value, layer.output!] {
      #expect(projection.bias!.value.toArray().allSatisfy { $0 == 0 })
      #expect(projection.weight.value.toArray().allSatisfy { abs($0) <= 0.5 })
      #expect(projection.weight.value.toArray().contains { $0 != 0 })
    }
  }
}
