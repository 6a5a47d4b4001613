// CTGAN's critic body (sdv-dev/CTGAN `Discriminator`): three Linear layers with LeakyReLU and
// dropout between them, forward only. The gradient penalty's two backward passes are in
// GradientPenalty.swift; the full critic with its Wasserstein backward comes with the GAN model.
//
// Shapes: R rows of packed input (B / pac: PacGAN joins `pac` consecutive rows into one),
// P = pac · width packed input width, H1 and H2 hidden widths. A (B, width) batch becomes the
// (R, P) input with `reshaped(rows: B / pac, cols: pac * width)`: the memory is already in order.

/// `D(x) = Linear3(Dropout(LeakyReLU(Linear2(Dropout(LeakyReLU(Linear1(x)))))))`, no output
/// activation (a Wasserstein critic).
/// Shapes: x (R, P), W1 (H1, P), W2 (H2, H1), W3 (1, H2), y (R, 1).
public struct CriticNetwork {
  /// P → H1.
  public let linear1: Linear
  /// H1 → H2.
  public let linear2: Linear
  /// H2 → 1.
  public let linear3: Linear
  /// LeakyReLU's slope for negative inputs (CTGAN: 0.2).
  public let slope: Float

  /// What the penalty's backward passes need from a forward pass: pre-activations, hidden
  /// outputs and the dropout masks. Shapes: a1, h1, mask1 (R, H1); a2, h2, mask2 (R, H2).
  ///
  /// A mask holds PyTorch's inverted-dropout factors, 0 (dropped) or 1 / (1 − p) (kept), written
  /// by the caller before `forward` (as `Dropout`'s training forward writes its mask); nil means
  /// no dropout (p = 0, or evaluation). CTGAN keeps dropout on in the gradient-penalty pass.
  public struct Saved {
    /// a1 = x · W1ᵀ + b1, the first LeakyReLU's input.
    public let a1: Matrix
    /// h1 = mask1 ⊙ LeakyReLU(a1), the second Linear's input.
    public let h1: Matrix
    /// a2 = h1 · W2ᵀ + b2.
    public let a2: Matrix
    /// h2 = mask2 ⊙ LeakyReLU(a2), the third Linear's input.
    public let h2: Matrix
    public let mask1: Matrix?
    public let mask2: Matrix?

    /// Views over the given buffers.
    /// - Precondition: a1, h1 and mask1 share a shape; so do a2, h2 and mask2; one row count.
    public init(a1: Matrix, h1: Matrix, a2: Matrix, h2: Matrix, mask1: Matrix?, mask2: Matrix?) {
      precondition(
        a1.rows == h1.rows && a1.cols == h1.cols && a2.rows == h2.rows && a2.cols == h2.cols
          && a1.rows == a2.rows, "CriticNetwork.Saved: activation shapes")
      if let mask1 { precondition(mask1.rows == a1.rows && mask1.cols == a1.cols, "mask1 shape") }
      if let mask2 { precondition(mask2.rows == a2.rows && mask2.cols == a2.cols, "mask2 shape") }
      self.a1 = a1
      self.h1 = h1
      self.a2 = a2
      self.h2 = h2
      self.mask1 = mask1
      self.mask2 = mask2
    }

    /// Buffers for `rows` packed rows of `critic`, allocated in `workspace`; with `dropout`, the
    /// two masks too (zeroed: the caller fills them before each forward).
    public init(rows: Int, critic: CriticNetwork, dropout: Bool, in workspace: Workspace) {
      let h1 = critic.linear1.outputs
      let h2 = critic.linear2.outputs
      self.init(
        a1: workspace.matrix(rows: rows, cols: h1), h1: workspace.matrix(rows: rows, cols: h1),
        a2: workspace.matrix(rows: rows, cols: h2), h2: workspace.matrix(rows: rows, cols: h2),
        mask1: dropout ? workspace.matrix(rows: rows, cols: h1) : nil,
        mask2: dropout ? workspace.matrix(rows: rows, cols: h2) : nil)
    }
  }

  /// The tensors a critic called `name` needs: `name.linear1`, `name.linear2`, `name.linear3`,
  /// each with weight and bias.
  public static func parameterShapes(
    _ name: String, inputs: Int, hidden1: Int, hidden2: Int
  ) -> [ParameterShape] {
    Linear.parameterShapes(name + ".linear1", inputs: inputs, outputs: hidden1)
      + Linear.parameterShapes(name + ".linear2", inputs: hidden1, outputs: hidden2)
      + Linear.parameterShapes(name + ".linear3", inputs: hidden2, outputs: 1)
  }

  /// The critic over `name.linear1`, `name.linear2`, `name.linear3` in `arena`.
  public init(_ name: String, in arena: ParameterArena, slope: Float = 0.2) {
    self.init(
      linear1: Linear(name + ".linear1", in: arena), linear2: Linear(name + ".linear2", in: arena),
      linear3: Linear(name + ".linear3", in: arena), slope: slope)
  }

  /// The critic over the given layers.
  /// - Precondition: the layers chain (P → H1 → H2 → 1).
  public init(linear1: Linear, linear2: Linear, linear3: Linear, slope: Float = 0.2) {
    precondition(
      linear1.outputs == linear2.inputs && linear2.outputs == linear3.inputs
        && linear3.outputs == 1,
      "CriticNetwork: layers \(linear1.inputs)->\(linear1.outputs), "
        + "\(linear2.inputs)->\(linear2.outputs), \(linear3.inputs)->\(linear3.outputs)")
    self.linear1 = linear1
    self.linear2 = linear2
    self.linear3 = linear3
    self.slope = slope
  }

  /// PyTorch's default initialisation for each layer.
  public func initialize(using generator: inout SeededGenerator) {
    linear1.initialize(using: &generator)
    linear2.initialize(using: &generator)
    linear3.initialize(using: &generator)
  }

  /// Overwrites `y` with D(x) and `saved`'s activations (not its masks, which it reads).
  /// - Precondition: x (R, P), y (R, 1), saved holds R rows of this critic's widths.
  public func forward(_ x: Matrix, into y: Matrix, saving saved: Saved) {
    precondition(
      x.rows == y.rows && y.cols == 1 && saved.a1.rows == x.rows
        && saved.a1.cols == linear1.outputs && saved.a2.cols == linear2.outputs,
      "CriticNetwork.forward: x \(x.rows)x\(x.cols), y \(y.rows)x\(y.cols), "
        + "saved \(saved.a1.rows)x\(saved.a1.cols), \(saved.a2.cols)")
    linear1.forward(x, into: saved.a1)  // a1 = x · W1ᵀ + b1
    leakyReLUForward(saved.a1.base, into: saved.h1.base, count: saved.a1.count, slope: slope)
    if let mask = saved.mask1 { multiply(saved.h1, by: mask) }  // h1 = mask1 ⊙ φ(a1)
    linear2.forward(saved.h1, into: saved.a2)  // a2 = h1 · W2ᵀ + b2
    leakyReLUForward(saved.a2.base, into: saved.h2.base, count: saved.a2.count, slope: slope)
    if let mask = saved.mask2 { multiply(saved.h2, by: mask) }  // h2 = mask2 ⊙ φ(a2)
    linear3.forward(saved.h2, into: y)  // y = h2 · W3ᵀ + b3
  }

  /// `v *= mask ⊙ φ'(a)` elementwise, φ'(a) = `slope` where a ≤ 0 else 1 (the convention of
  /// `leakyReLUBackward`): the Jacobian of `h = mask ⊙ φ(a)`, a diagonal that is constant between
  /// the kinks. A nil mask counts as all ones.
  func multiplyByGain(_ v: Matrix, preActivation a: Matrix, mask: Matrix?) {
    assert(v.count == a.count && (mask == nil || mask!.count == a.count))
    let count = v.count
    let s = slope
    if let mask {
      for i in 0..<count { v.base[i] *= mask.base[i] * (a.base[i] <= 0 ? s : 1) }
    } else {
      for i in 0..<count where a.base[i] <= 0 { v.base[i] *= s }
    }
  }

  /// `x *= mask` elementwise.
  private func multiply(_ x: Matrix, by mask: Matrix) {
    assert(x.count == mask.count)
    for i in 0..<x.count { x.base[i] *= mask.base[i] }
  }
}
