// The WGAN-GP gradient penalty (Gulrajani et al. 2017, eq. 3) for CTGAN's critic, exactly: the
// critic's input gradient by one backward pass, then the penalty's gradient with respect to every
// weight by differentiating that backward pass ("double backward"), with no autograd graph.
//
// Shapes as in CriticNetwork.swift: R packed rows (B / pac), P = pac · width, H1, H2 hidden.
//
// The critic's forward at x̂ (CriticNetwork.forward), φ = LeakyReLU, s(a) = φ'(a) ∈ {1, slope}:
//   (F1) a1 = x̂ · W1ᵀ + b1          (R, H1)
//   (F2) h1 = m1 ⊙ φ(a1)            (R, H1)   m1: dropout factors, fixed
//   (F3) a2 = h1 · W2ᵀ + b2          (R, H2)
//   (F4) h2 = m2 ⊙ φ(a2)            (R, H2)
//   (F5) y  = h2 · W3ᵀ + b3          (R, 1)
// Each row's output depends on that row's input only, so g_r = ∂y_r/∂x̂_r is the backward pass
// of Σ_r y_r, that is with dy = 1 on every row. Write G1 = m1 ⊙ s(a1), G2 = m2 ⊙ s(a2) (the
// "gains", constant between the LeakyReLU kinks):
//   (B5) dh2 = 1 · W3                (R, H2)   every row is W3, from F5
//   (B4) da2 = dh2 ⊙ G2              (R, H2)   from F4
//   (B3) dh1 = da2 · W2              (R, H1)   from F3
//   (B2) da1 = dh1 ⊙ G1              (R, H1)   from F2
//   (B1) g   = da1 · W1              (R, P)    from F1
// The penalty, one norm per packed row (PacGAN: per group of pac rows, as CTGAN):
//   (N)  n_r = ‖g_r‖₂,  GP = (λ / R) Σ_r (n_r − 1)²
//
// Its gradient runs backward through N, B1, ..., B5, writing x̄ for ∂GP/∂x. φ'' = 0 away from
// the kinks, so G1 and G2 are constants: no gradient flows into a1 or a2 and through them to the
// forward pass. Hence b1, b2, b3 (which enter the backward pass only through G1, G2) get zero, and
// so does x̂ (∂GP/∂x̂ = 0 almost everywhere; CTGAN's critic step does not need it anyway, real and
// fake being constants there). What remains:
//   from N:  ḡ_r  = (λ / R) · 2 (n_r − 1) / n_r · g_r
//   from B1: W̄1 += da1ᵀ · ḡ,        d̄a1 = ḡ · W1ᵀ
//   from B2: d̄h1 = d̄a1 ⊙ G1
//   from B3: W̄2 += da2ᵀ · d̄h1,      d̄a2 = d̄h1 · W2ᵀ
//   from B4: d̄h2 = d̄a2 ⊙ G2
//   from B5: W̄3 += Σ_r d̄h2_r

/// The gradient penalty `GP = λ · mean_r (‖∂D/∂x̂_r‖₂ − 1)²` of a `CriticNetwork` at x̂, and its
/// gradient with respect to the critic's weights. Biases get no gradient from it (see the file
/// comment). Run `CriticNetwork.forward` at x̂ first (`interpolate` makes x̂); its `Saved`, dropout
/// masks included, is what `forward` and `backward` here differentiate.
public struct GradientPenalty {
  public let critic: CriticNetwork
  /// λ, the penalty's weight (CTGAN and WGAN-GP: 10).
  public let lambda: Float

  /// What `forward` writes for `backward`, and `backward`'s scratch. Shapes: da2, da2Bar (R, H2);
  /// da1, da1Bar (R, H1); g, gBar (R, P); norm (R, 1).
  public struct Buffers {
    /// ∂(Σ y)/∂a2 (B4).
    public let da2: Matrix
    /// ∂(Σ y)/∂a1 (B2); holds dh1 (B3) on the way.
    public let da1: Matrix
    /// g = ∂(Σ y)/∂x̂, row r the gradient of D(x̂_r) (B1).
    public let g: Matrix
    /// n_r = ‖g_r‖₂.
    public let norm: Matrix
    /// ḡ = ∂GP/∂g (backward scratch).
    public let gBar: Matrix
    /// ∂GP/∂da1, then ∂GP/∂dh1 (backward scratch).
    public let da1Bar: Matrix
    /// ∂GP/∂da2, then ∂GP/∂dh2 (backward scratch).
    public let da2Bar: Matrix

    /// Buffers for `rows` packed rows of `critic`, allocated in `workspace`.
    public init(rows: Int, critic: CriticNetwork, in workspace: Workspace) {
      let p = critic.linear1.inputs
      let h1 = critic.linear1.outputs
      let h2 = critic.linear2.outputs
      da2 = workspace.matrix(rows: rows, cols: h2)
      da1 = workspace.matrix(rows: rows, cols: h1)
      g = workspace.matrix(rows: rows, cols: p)
      norm = workspace.matrix(rows: rows, cols: 1)
      gBar = workspace.matrix(rows: rows, cols: p)
      da1Bar = workspace.matrix(rows: rows, cols: h1)
      da2Bar = workspace.matrix(rows: rows, cols: h2)
    }
  }

  /// The penalty on `critic`, weighted by `lambda`.
  public init(critic: CriticNetwork, lambda: Float = 10) {
    self.critic = critic
    self.lambda = lambda
  }

  /// The penalty on the critic made of the given layers and LeakyReLU slope.
  public init(linear1: Linear, linear2: Linear, linear3: Linear, slope: Float, lambda: Float = 10) {
    self.init(
      critic: CriticNetwork(linear1: linear1, linear2: linear2, linear3: linear3, slope: slope),
      lambda: lambda)
  }

  /// Overwrites `xHat` with `α_r · real_r + (1 − α_r) · fake_r`, one α per packed row (so one per
  /// PacGAN group, shared by its pac rows and every feature, as CTGAN).
  /// Shapes: real, fake, xHat (R, P); alpha R elements, (R, 1) or (1, R).
  /// - Precondition: the shapes agree.
  public static func interpolate(real: Matrix, fake: Matrix, alpha: Matrix, into xHat: Matrix) {
    precondition(
      real.rows == fake.rows && real.cols == fake.cols && xHat.rows == real.rows
        && xHat.cols == real.cols && alpha.count == real.rows,
      "GradientPenalty.interpolate: real \(real.rows)x\(real.cols), fake \(fake.rows)x\(fake.cols)"
        + ", alpha \(alpha.count), xHat \(xHat.rows)x\(xHat.cols)")
    for r in 0..<real.rows {
      let a = alpha.base[r]
      let b = 1 - a
      let x = real.row(r)
      let y = fake.row(r)
      let z = xHat.row(r)
      for j in 0..<real.cols { z[j] = a * x[j] + b * y[j] }
    }
  }

  /// Overwrites `buffers.g` with the critic's input gradient at x̂, row r being ∂D(x̂_r)/∂x̂_r,
  /// and `buffers.da2`, `buffers.da1` with the intermediate gradients (B5 to B1 in the file
  /// comment). No parameter gradient is touched.
  /// - Precondition: `saved` is from `critic.forward` at x̂; both hold the same rows.
  public func inputGradient(saved: CriticNetwork.Saved, buffers: Buffers) {
    precondition(
      saved.a1.rows == buffers.g.rows && saved.a1.cols == buffers.da1.cols
        && saved.a2.cols == buffers.da2.cols && buffers.g.cols == critic.linear1.inputs,
      "GradientPenalty: saved \(saved.a1.rows) rows, buffers \(buffers.g.rows) rows or widths differ"
    )
    buffers.da2.setRows(to: critic.linear3.weight.value)  // (B5) dh2 = 1 · W3 on every row
    critic.multiplyByGain(buffers.da2, preActivation: saved.a2, mask: saved.mask2)  // (B4) ⊙ G2
    gemm(buffers.da2, critic.linear2.weight.value, into: buffers.da1)  // (B3) dh1 = da2 · W2
    critic.multiplyByGain(buffers.da1, preActivation: saved.a1, mask: saved.mask1)  // (B2) ⊙ G1
    gemm(buffers.da1, critic.linear1.weight.value, into: buffers.g)  // (B1) g = da1 · W1
  }

  /// Returns GP = (λ / R) Σ_r (‖g_r‖₂ − 1)² (0 for no rows) and overwrites `buffers` with what
  /// `backward` needs: the input gradient (`inputGradient`) and its row norms.
  /// - Precondition: as `inputGradient`.
  public func forward(saved: CriticNetwork.Saved, buffers: Buffers) -> Float {
    inputGradient(saved: saved, buffers: buffers)
    let rows = buffers.g.rows
    let width = buffers.g.cols
    if rows == 0 { return 0 }
    var total = 0.0
    for r in 0..<rows {
      let n = sumOfSquares(buffers.g.row(r), count: width).squareRoot()  // (N) n_r = ‖g_r‖₂
      buffers.norm.base[r] = Float(n)
      total += (n - 1) * (n - 1)
    }
    return Float(Double(lambda) * total / Double(rows))  // (N) GP = (λ / R) Σ_r (n_r − 1)²
  }

  /// Accumulates ∂GP/∂W into the weight gradients of the three layers (+=; the biases' share is
  /// zero and they are not touched). Overwrites the scratch in `buffers`.
  /// - Precondition: `forward` ran with the same `saved` and `buffers`, and no weight changed.
  public func backward(saved: CriticNetwork.Saved, buffers: Buffers) {
    let rows = buffers.g.rows
    let width = buffers.g.cols
    precondition(saved.a1.rows == rows, "GradientPenalty.backward: saved and buffers rows differ")
    if rows == 0 { return }
    // (N) ḡ_r = (λ / R) · 2 (n_r − 1) / n_r · g_r, the loss seed λ / R folded in. At n_r = 0 the
    // norm has no derivative; take 0 there, as PyTorch's norm backward does.
    let seed = lambda / Float(rows)
    for r in 0..<rows {
      let n = buffers.norm.base[r]
      let factor = n > 0 ? seed * 2 * (n - 1) / n : 0
      let g = buffers.g.row(r)
      let gBar = buffers.gBar.row(r)
      for j in 0..<width { gBar[j] = factor * g[j] }
    }
    let w1 = critic.linear1.weight
    let w2 = critic.linear2.weight
    let w3 = critic.linear3.weight
    // (B1) g = da1 · W1:  W̄1 += da1ᵀ · ḡ,  d̄a1 = ḡ · W1ᵀ
    gemm(buffers.da1, buffers.gBar, transposeA: true, into: w1.grad, beta: 1)
    gemm(buffers.gBar, w1.value, transposeB: true, into: buffers.da1Bar)
    // (B2) da1 = dh1 ⊙ G1:  d̄h1 = d̄a1 ⊙ G1 (in place)
    critic.multiplyByGain(buffers.da1Bar, preActivation: saved.a1, mask: saved.mask1)
    // (B3) dh1 = da2 · W2:  W̄2 += da2ᵀ · d̄h1,  d̄a2 = d̄h1 · W2ᵀ
    gemm(buffers.da2, buffers.da1Bar, transposeA: true, into: w2.grad, beta: 1)
    gemm(buffers.da1Bar, w2.value, transposeB: true, into: buffers.da2Bar)
    // (B4) da2 = dh2 ⊙ G2:  d̄h2 = d̄a2 ⊙ G2 (in place)
    critic.multiplyByGain(buffers.da2Bar, preActivation: saved.a2, mask: saved.mask2)
    // (B5) dh2_r = W3 for every row:  W̄3 += Σ_r d̄h2_r
    buffers.da2Bar.addColumnSums(into: w3.grad)
  }
}
