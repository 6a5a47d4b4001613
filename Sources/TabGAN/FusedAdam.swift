// Adam's step fused with the zeroing of the gradients it consumed: one pass over the arena
// instead of an update pass and a separate memset before the next backward (on adult the two
// arenas hold 1.2M parameters). The update is TabCore's `Adam.update` with √(1 − β₂ᵗ) multiplied
// through the step's fraction, so that each element takes one square root and one division
// instead of two divisions: the same maths, equal to `Adam.update` up to rounding.

import TabCore

#if canImport(Glibc)
  import Glibc
#endif

extension Adam {
  /// `update(arena)` (up to rounding), then every gradient of `arena` is zero (written in the
  /// same pass).
  mutating func updateZeroingGradients(_ arena: ParameterArena) {
    step += 1
    // The per-step scalars, computed in Double exactly as `Adam.update` does.
    let t = Double(step)
    let correction1 = 1 - pow(beta1, t)
    let correction2 = 1 - pow(beta2, t)
    var l2Scalar: Float = 0
    var decayScalar: Float = 1
    switch weightDecay {
    case .none: break
    case .l2(let lambda): l2Scalar = lambda
    case .decoupled(let lambda): decayScalar = 1 - learningRate * lambda
    }
    typealias V = SIMD8<Float>
    let l2 = V(repeating: l2Scalar), decay = V(repeating: decayScalar)
    let b1 = V(repeating: Float(beta1)), b2 = V(repeating: Float(beta2))
    let oneMinusBeta1 = V(repeating: Float(1 - beta1))
    let oneMinusBeta2 = V(repeating: Float(1 - beta2))
    let scaledStep = V(
      repeating: Float(Double(learningRate) / correction1 * correction2.squareRoot()))
    let scaledEpsilon = V(repeating: Float(Double(epsilon) * correction2.squareRoot()))
    let values = arena.values.baseAddress!, grads = arena.grads.baseAddress!
    let m = arena.m.baseAddress!, v = arena.v.baseAddress!
    let count = arena.count
    precondition(count % 8 == 0, "updateZeroingGradients: arena sections are whole vectors")
    let zero = V()
    // Elementwise, so any split gives the same numbers; on two cores each takes half.
    ParallelFor.run(count: count) { range in
      var i = range.lowerBound
      while i < range.upperBound {
        var theta = loadFloats(V.self, values + i)
        let g = loadFloats(V.self, grads + i).addingProduct(l2, theta)
        theta *= decay
        let mi = (b1 * loadFloats(V.self, m + i)).addingProduct(oneMinusBeta1, g)
        let vi = (b2 * loadFloats(V.self, v + i)).addingProduct(oneMinusBeta2 * g, g)
        // PyTorch's stepSize · m / (√v / √c2 + ε) with √c2 multiplied through: one division
        // instead of two (the divider is this loop's bottleneck); equal up to rounding.
        theta = theta - scaledStep * mi / (squareRoot(vi) + scaledEpsilon)
        storeFloats(mi, m + i)
        storeFloats(vi, v + i)
        storeFloats(theta, values + i)
        storeFloats(zero, grads + i)
        i += 8
      }
    }
  }
}
