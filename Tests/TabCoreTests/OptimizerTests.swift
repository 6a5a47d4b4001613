// Adam and AdamW against values computed by hand, the fused SIMD update against its scalar
// reference, and gradient-norm clipping.

import Testing

@testable import TabCore

/// An arena with one parameter holding `values`, its gradient set to `grads`.
private func arena(values: [Float], grads: [Float]) -> ParameterArena {
  let arena = ParameterArena([ParameterShape("p", rows: 1, cols: values.count)])
  let p = arena["p"]
  for i in values.indices {
    p.value.base[i] = values[i]
    p.grad.base[i] = grads[i]
  }
  return arena
}

@Suite struct OptimizerTests {
  @Test func adamTwoStepsByHand() {
    // lr 0.1, β₁ 0.9, β₂ 0.999, constant gradient g. Step 1: m = 0.1g, v = 0.001g², the bias
    // corrections make m̂ = g and v̂ = g², so θ moves by lr·g/|g| = 0.1 (ε = 1e-8 is negligible).
    // Step 2: m = 0.19g, v = 0.001999g², corrections 0.19 and 0.001999: again m̂ = g, v̂ = g²,
    // another 0.1. A zero gradient never moves its parameter.
    let arena = arena(values: [1, -2, 0.5], grads: [0.1, -0.3, 0])
    var adam = Adam(learningRate: 0.1)
    adam.update(arena)
    expectClose("after 1 step", arena["p"].value.toArray(), [0.9, -1.9, 0.5], relative: 1e-6)
    expectClose("m after 1", arena["p"].m.toArray(), [0.01, -0.03, 0], relative: 1e-6)
    expectClose("v after 1", arena["p"].v.toArray(), [1e-5, 9e-5, 0], relative: 1e-6)
    adam.update(arena)
    expectClose("after 2 steps", arena["p"].value.toArray(), [0.8, -1.8, 0.5], relative: 1e-6)
    #expect(adam.step == 2)
  }

  @Test func weightDecayByHand() {
    // AdamW (λ = 0.1, lr = 0.1): θ ← θ·(1 − 0.01), then the Adam step of 0.1·sign(g):
    // 1 → 0.99 − 0.1 = 0.89; a zero gradient only decays: 0.5 → 0.495.
    let decoupled = arena(values: [1, 0.5], grads: [0.1, 0])
    var adamW = Adam.adamW(learningRate: 0.1, weightDecay: 0.1)
    adamW.update(decoupled)
    expectClose("AdamW", decoupled["p"].value.toArray(), [0.89, 0.495], relative: 1e-6)
    // L2 (λ = 0.1): the gradient becomes g + 0.1θ, 0.2 and 0.05; both move by 0.1 on step 1.
    let l2 = arena(values: [1, 0.5], grads: [0.1, 0])
    var adam = Adam(learningRate: 0.1, weightDecay: .l2(0.1))
    adam.update(l2)
    expectClose("Adam L2", l2["p"].value.toArray(), [0.9, 0.4], relative: 1e-6)
    expectClose("Adam L2 m", l2["p"].m.toArray(), [0.02, 0.005], relative: 1e-6)
  }

  @Test(arguments: [Adam.WeightDecay.none, .l2(0.05), .decoupled(0.05)])
  func fusedUpdateMatchesReference(weightDecay: Adam.WeightDecay) {
    let t = TestBuffers(seed: 11)
    let shapes = [ParameterShape("a", rows: 3, cols: 7), ParameterShape("b", rows: 1, cols: 1),
      ParameterShape("c", rows: 5, cols: 9)]
    let fast = ParameterArena(shapes), reference = ParameterArena(shapes)
    var adam = Adam(learningRate: 0.01, weightDecay: weightDecay), adamReference = adam
    for parameter in fast.parameters { t.generator.fillNormal(parameter.value) }
    reference.values.baseAddress!.update(from: fast.values.baseAddress!, count: fast.count)
    for _ in 0..<3 {
      for parameter in fast.parameters { t.generator.fillNormal(parameter.grad) }
      reference.grads.baseAddress!.update(from: fast.grads.baseAddress!, count: fast.count)
      adam.update(fast)
      adamReference.updateNaive(reference)
    }
    // The fused loop uses multiply-adds (one rounding) where the reference rounds twice.
    expectClose("values", Array(fast.values), Array(reference.values), absolute: 1e-6, relative: 1e-6)
    expectClose("m", Array(fast.m), Array(reference.m), absolute: 1e-7, relative: 1e-5)
    expectClose("v", Array(fast.v), Array(reference.v), absolute: 1e-9, relative: 1e-5)
    // Padding between tensors stays zero.
    let used = Set(fast.parameters.flatMap { p in (0..<p.value.count).map { p.offset + $0 } })
    #expect((0..<fast.count).allSatisfy { used.contains($0) || fast.values[$0] == 0 })
  }

  @Test func clipping() {
    let big = arena(values: [0, 0], grads: [3, 4])
    let norm = clipGradientNorm(big, maxNorm: 1)
    #expect(norm == 5)
    // Scaled by 1 / (5 + 1e-6), PyTorch's clip_grad_norm_ coefficient.
    expectClose("clipped", big["p"].grad.toArray(), [0.6, 0.8], relative: 1e-6)
    let small = arena(values: [0, 0], grads: [0.3, 0.4])
    #expect(abs(clipGradientNorm(small, maxNorm: 1) - 0.5) < 1e-7)
    #expect(small["p"].grad.toArray() == [0.3, 0.4])
  }

  @Test func arenaLayout() {
    let arena = ParameterArena([
      ParameterShape("w", rows: 3, cols: 5), ParameterShape("b", rows: 1, cols: 3),
      ParameterShape("empty", rows: 0, cols: 4),
    ])
    #expect(arena.scalarCount == 18)
    #expect(arena.parameters.map(\.offset) == [0, 16, 32])
    #expect(arena.count == 32)
    let w = arena["w"]
    // Values, grads and moments share one layout: the same offset in each section.
    #expect(w.grad.base == arena.grads.baseAddress! + w.offset)
    #expect(w.m.base == arena.m.baseAddress! + w.offset)
    #expect(w.v.base == arena.v.baseAddress! + w.offset)
    #expect(Int(bitPattern: arena.values.baseAddress!) % 64 == 0)
    #expect(Array(arena.values).allSatisfy { $0 == 0 })
  }
}
