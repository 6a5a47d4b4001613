// Adam and AdamW over a whole ParameterArena in one fused loop, and global gradient-norm clipping.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Adam (Kingma and Ba, 2015, Algorithm 1) with bias correction, and AdamW (Loshchilov and
/// Hutter, 2019) when weight decay is decoupled. The moments live in the arena (`m`, `v`).
///
/// Per element, at step t (counting from 1), with g the gradient:
///   g ← g + λθ                       (`.l2(λ)` only: classic L2 regularisation)
///   θ ← θ − lr·λ·θ                   (`.decoupled(λ)` only: AdamW)
///   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²
///   θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)   (PyTorch's arrangement)
/// Weight decay applies to every tensor in the arena, biases and norms included.
public struct Adam {
  /// How weight decay enters the update.
  public enum WeightDecay: Sendable, Equatable {
    case none
    /// Add λθ to the gradient (PyTorch's `Adam(weight_decay: λ)`).
    case l2(Float)
    /// Shrink θ by lr·λ before the step (PyTorch's `AdamW(weight_decay: λ)`).
    case decoupled(Float)
  }

  public var learningRate: Float
  /// β₁ and β₂ are Double, as PyTorch's, so that 1 − β is exact before it is rounded to Float
  /// (with a Float β₂ = 0.999, 1 − β₂ is off by 1.3e-5 relative).
  public var beta1: Double
  public var beta2: Double
  public var epsilon: Float
  public var weightDecay: WeightDecay
  /// Steps taken so far (t after an update); saved with a checkpoint.
  public var step: Int

  public init(
    learningRate: Float = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Float = 1e-8,
    weightDecay: WeightDecay = .none
  ) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
    self.step = 0
  }

  /// AdamW with PyTorch's defaults (weight decay 0.01).
  public static func adamW(
    learningRate: Float = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Float = 1e-8,
    weightDecay: Float = 0.01
  ) -> Adam {
    Adam(
      learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
      weightDecay: .decoupled(weightDecay))
  }

  /// Applies one step to every value in `arena` from its gradient, updating `m` and `v`.
  public mutating func update(_ arena: ParameterArena) {
    step += 1
    let c = coefficients()
    let values = arena.values.baseAddress!, grads = arena.grads.baseAddress!
    let m = arena.m.baseAddress!, v = arena.v.baseAddress!
    let count = arena.count
    let l2 = Vector8(repeating: c.l2), decay = Vector8(repeating: c.decay)
    let beta1 = Vector8(repeating: Float(self.beta1)), beta2 = Vector8(repeating: Float(self.beta2))
    let oneMinusBeta1 = Vector8(repeating: c.oneMinusBeta1)
    let oneMinusBeta2 = Vector8(repeating: c.oneMinusBeta2)
    let stepSize = Vector8(repeating: c.stepSize)
    let correction2 = Vector8(repeating: c.correction2Root)
    let epsilon = Vector8(repeating: self.epsilon)
    // The arena's sections are whole cache lines (multiples of 16 floats), so there is no tail.
    assert(count % 8 == 0)
    var i = 0
    while i < count {
      var theta = load8(values + i)
      let g = load8(grads + i).addingProduct(l2, theta)
      theta *= decay
      let mi = (beta1 * load8(m + i)).addingProduct(oneMinusBeta1, g)
      let vi = (beta2 * load8(v + i)).addingProduct(oneMinusBeta2 * g, g)
      let denominator = squareRoot(vi) / correction2 + epsilon
      theta = theta - stepSize * mi / denominator
      store8(mi, m + i)
      store8(vi, v + i)
      store8(theta, values + i)
      i += 8
    }
  }

  /// Reference for `update`, one scalar at a time in Float.
  public mutating func updateNaive(_ arena: ParameterArena) {
    step += 1
    let c = coefficients()
    for i in 0..<arena.count {
      var theta = arena.values[i]
      let g = arena.grads[i] + c.l2 * theta
      theta *= c.decay
      arena.m[i] = Float(beta1) * arena.m[i] + c.oneMinusBeta1 * g
      arena.v[i] = Float(beta2) * arena.v[i] + c.oneMinusBeta2 * g * g
      theta -= c.stepSize * arena.m[i] / (arena.v[i].squareRoot() / c.correction2Root + epsilon)
      arena.values[i] = theta
    }
  }

  /// The per-step scalars of the update, computed in Double.
  private func coefficients() -> (
    l2: Float, decay: Float, stepSize: Float, correction2Root: Float, oneMinusBeta1: Float,
    oneMinusBeta2: Float
  ) {
    let t = Double(step)
    let correction1 = 1 - pow(beta1, t)
    let correction2 = 1 - pow(beta2, t)
    var l2: Float = 0, decay: Float = 1
    switch weightDecay {
    case .none: break
    case .l2(let lambda): l2 = lambda
    case .decoupled(let lambda): decay = 1 - learningRate * lambda
    }
    return (
      l2, decay, Float(Double(learningRate) / correction1), Float(correction2.squareRoot()),
      Float(1 - beta1), Float(1 - beta2)
    )
  }
}

/// Scales all gradients in `arena` so that their global L2 norm is at most `maxNorm`, as PyTorch's
/// `clip_grad_norm_`: if the norm exceeds `maxNorm`, every gradient is multiplied by
/// `maxNorm / (norm + 1e-6)`. Returns the norm before clipping (worth logging).
@discardableResult
public func clipGradientNorm(_ arena: ParameterArena, maxNorm: Float) -> Float {
  let grads = arena.grads
  let norm = Float(sumOfSquares(grads.baseAddress!, count: grads.count).squareRoot())
  if norm > maxNorm {
    scale(grads.baseAddress!, by: maxNorm / (norm + 1e-6), count: grads.count)
  }
  return norm
}
