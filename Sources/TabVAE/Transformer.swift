// TabSyn's transformer (tabsyn.md §2.3): FT-Transformer pre-norm layers, one head without an
// output projection, ReLU feed-forward, no dropout, and the reference's quirk that layer 0 has
// no LayerNorm before its attention:
//   h = ℓ == 0 ? x : LN₀(x);  x ← x + Attention(h);  x ← x + Linear(F→D)(ReLU(Linear(D→F)(LN₁(x)))).
// Shapes use the legend of VAEConfig.swift; a transformer runs over T tokens (N for the encoders,
// n + C for the decoder).

import TabCore

/// One layer of the transformer. Parameters `name.norm0` (layers ≥ 1 only), `name.attention`,
/// `name.norm1`, `name.linear0` (D → F), `name.linear1` (F → D).
struct TransformerLayer {
  let norm0: LayerNorm?
  let attention: SelfAttention
  let norm1: LayerNorm
  let linear0: Linear
  let linear1: Linear
  /// linear1(ReLU(linear0(·))), fused (FeedForward.swift).
  let feedForward: FeedForward
  /// Whether attention runs on the fused width-4 kernel (TabCore/Kernels/AttentionWidth4.swift)
  /// rather than `SelfAttention`'s general path: whenever the layer allows it (1 head, D = 4).
  let useWidth4: Bool

  static func parameterShapes(_ name: String, first: Bool, width: Int, hidden: Int, heads: Int)
    -> [ParameterShape]
  {
    (first ? [] : LayerNorm.parameterShapes(name + ".norm0", width: width))
      + SelfAttention.parameterShapes(name + ".attention", width: width, outputProjection: heads > 1)
      + LayerNorm.parameterShapes(name + ".norm1", width: width)
      + Linear.parameterShapes(name + ".linear0", inputs: width, outputs: hidden)
      + Linear.parameterShapes(name + ".linear1", inputs: hidden, outputs: width)
  }

  init(_ name: String, in arena: ParameterArena, first: Bool, tokens: Int, heads: Int) {
    norm0 = first ? nil : LayerNorm(name + ".norm0", in: arena)
    attention = SelfAttention(
      name + ".attention", in: arena, tokens: tokens, heads: heads, outputProjection: heads > 1)
    norm1 = LayerNorm(name + ".norm1", in: arena)
    linear0 = Linear(name + ".linear0", in: arena)
    linear1 = Linear(name + ".linear1", in: arena)
    feedForward = FeedForward(linear0: linear0, linear1: linear1)
    useWidth4 = attention.hasWidth4Kernel
  }

  /// PyTorch's defaults (LayerNorm 1/0, Linear uniform ±1/√fan_in), attention as TabSyn.
  func initialize(using generator: inout SeededGenerator) {
    norm0?.initialize()
    attention.initialize(using: &generator)
    norm1.initialize()
    linear0.initialize(using: &generator)
    linear1.initialize(using: &generator)
  }

  /// What backward needs, written by forward; rows = B·T.
  struct Saved {
    let normed0: Matrix?  // (B·T, D) LN₀(x), layers ≥ 1
    let norm0: LayerNorm.Saved?
    /// The general attention path's saved values, or the fused width-4 kernel's.
    let attention: SelfAttention.Saved?
    let width4: Width4AttentionSaved?
    let attended: Matrix  // (B·T, D)
    let residual: Matrix  // (B·T, D) x + attended
    let normed1: Matrix  // (B·T, D) LN₁(residual)
    let norm1: LayerNorm.Saved

    init(for layer: TransformerLayer, batch: Int, in w: Workspace) {
      let rows = batch * layer.attention.tokens, d = layer.linear0.inputs
      normed0 = layer.norm0 == nil ? nil : w.matrix(rows: rows, cols: d)
      norm0 = layer.norm0 == nil ? nil : LayerNorm.Saved(rows: rows, in: w)
      if layer.useWidth4 {
        attention = nil
        width4 = Width4AttentionSaved(for: layer.attention, batch: batch, in: w)
      } else {
        attention = SelfAttention.Saved(for: layer.attention, batch: batch, in: w)
        width4 = nil
      }
      attended = w.matrix(rows: rows, cols: d)
      residual = w.matrix(rows: rows, cols: d)
      normed1 = w.matrix(rows: rows, cols: d)
      norm1 = LayerNorm.Saved(rows: rows, in: w)
    }
  }

  /// Backward's temporaries, shared by every layer over the same token count.
  struct Scratch {
    let attention: SelfAttention.Scratch?  // nil with the fused width-4 kernel
    let dResidual: Matrix  // (B·T, D)
    let dNormed: Matrix  // (B·T, D)
    let feedForward: FeedForward.Scratch

    init(for layer: TransformerLayer, batch: Int, in w: Workspace) {
      let rows = batch * layer.attention.tokens, d = layer.linear0.inputs
      attention =
        layer.useWidth4 ? nil : SelfAttention.Scratch(for: layer.attention, batch: batch, in: w)
      dResidual = w.matrix(rows: rows, cols: d)
      dNormed = w.matrix(rows: rows, cols: d)
      feedForward = FeedForward.Scratch(for: layer.feedForward, in: w)
    }
  }

  /// Overwrites `y` (B·T, D) and `s` from `x` (B·T, D).
  func forward(_ x: Matrix, into y: Matrix, saving s: Saved, scratch: FeedForward.Scratch) {
    var h = x
    if let norm0, let normed0 = s.normed0, let saved = s.norm0 {
      norm0.forwardAny(x, into: normed0, saving: saved)
      h = normed0
    }
    if let saved = s.width4 {
      attention.forwardWidth4(h, into: s.attended, saving: saved)
    } else {
      attention.forward(h, into: s.attended, saving: s.attention!)
    }
    elementwiseSum(x, s.attended, into: s.residual)  // residual = x + Attention(h)
    norm1.forwardAny(s.residual, into: s.normed1, saving: s.norm1)
    // y = residual + FFN(LN₁(residual))
    feedForward.forward(s.normed1, residual: s.residual, into: y, scratch: scratch)
  }

  /// Accumulates into every parameter's grad and into `dx` (B·T, D).
  func backward(_ dy: Matrix, input x: Matrix, saved s: Saved, scratch: Scratch, dx: Matrix) {
    scratch.dResidual.copy(from: dy)  // y = residual + …
    scratch.dNormed.zero()
    feedForward.backward(dy, input: s.normed1, dx: scratch.dNormed, scratch: scratch.feedForward)
    norm1.backwardAny(scratch.dNormed, input: s.residual, saved: s.norm1, dx: scratch.dResidual)
    add(scratch.dResidual.base, into: dx.base, count: dx.count)  // residual = x + …
    if let norm0, let normed0 = s.normed0, let saved = s.norm0 {
      scratch.dNormed.zero()
      attentionBackward(scratch.dResidual, input: normed0, saved: s, scratch: scratch, dx: scratch.dNormed)
      norm0.backwardAny(scratch.dNormed, input: x, saved: saved, dx: dx)
    } else {
      attentionBackward(scratch.dResidual, input: x, saved: s, scratch: scratch, dx: dx)
    }
  }

  /// The attention's backward on the path its forward took.
  private func attentionBackward(
    _ dy: Matrix, input x: Matrix, saved s: Saved, scratch: Scratch, dx: Matrix
  ) {
    if let saved = s.width4 {
      attention.backwardWidth4(dy, input: x, saved: saved, dx: dx)
    } else {
      attention.backward(dy, input: x, saved: s.attention!, scratch: scratch.attention!, dx: dx)
    }
  }
}

/// A stack of `TransformerLayer`s over T tokens (parameters `name.layers.ℓ`). Public so that
/// bench/core can time TabSyn's transformer step on exactly the kernels the VAE trains with.
public struct Transformer {
  let layers: [TransformerLayer]
  public let tokens: Int

  public static func parameterShapes(_ name: String, _ config: VAEConfig) -> [ParameterShape] {
    (0..<config.layers).flatMap {
      TransformerLayer.parameterShapes(
        "\(name).layers.\($0)", first: $0 == 0, width: config.width, hidden: config.hidden,
        heads: config.heads)
    }
  }

  public init(_ name: String, in arena: ParameterArena, _ config: VAEConfig, tokens: Int) {
    layers = (0..<config.layers).map {
      TransformerLayer(
        "\(name).layers.\($0)", in: arena, first: $0 == 0, tokens: tokens, heads: config.heads)
    }
    self.tokens = tokens
  }

  public func initialize(using generator: inout SeededGenerator) {
    for layer in layers { layer.initialize(using: &generator) }
  }

  /// Per-layer saved values and the outputs between layers.
  public struct Saved {
    let layers: [TransformerLayer.Saved]
    let outputs: [Matrix]  // (B·T, D) output of layer ℓ for ℓ < L − 1
    let feedForward: FeedForward.Scratch  // W₀ᵀ, rewritten by each layer's forward

    public init(for t: Transformer, batch: Int, in w: Workspace) {
      layers = t.layers.map { TransformerLayer.Saved(for: $0, batch: batch, in: w) }
      feedForward = FeedForward.Scratch(for: t.layers[0].feedForward, in: w)
      let d = t.layers[0].linear0.inputs
      outputs = t.layers.dropLast().map { _ in w.matrix(rows: batch * t.tokens, cols: d) }
    }
  }

  /// Backward's temporaries for one token count.
  public struct Scratch {
    let layer: TransformerLayer.Scratch
    let dOutputs: [Matrix]  // (B·T, D) two buffers used in turn between layers

    public init(for t: Transformer, batch: Int, in w: Workspace) {
      layer = TransformerLayer.Scratch(for: t.layers[0], batch: batch, in: w)
      let d = t.layers[0].linear0.inputs
      dOutputs = (0..<2).map { _ in w.matrix(rows: batch * t.tokens, cols: d) }
    }
  }

  /// Overwrites `y` and `s` from `x`, both (B·T, D).
  public func forward(_ x: Matrix, into y: Matrix, saving s: Saved) {
    var input = x
    for (l, layer) in layers.enumerated() {
      let output = l == layers.count - 1 ? y : s.outputs[l]
      layer.forward(input, into: output, saving: s.layers[l], scratch: s.feedForward)
      input = output
    }
  }

  /// Accumulates into every parameter's grad and into `dx`.
  public func backward(_ dy: Matrix, input x: Matrix, saved s: Saved, scratch: Scratch, dx: Matrix) {
    var gradient = dy
    for l in stride(from: layers.count - 1, through: 0, by: -1) {
      let input = l == 0 ? x : s.outputs[l - 1]
      let target = l == 0 ? dx : scratch.dOutputs[l % 2]
      if l > 0 { target.zero() }
      layers[l].backward(gradient, input: input, saved: s.layers[l], scratch: scratch.layer, dx: target)
      gradient = target
    }
  }
}

/// `y = a + b`, elementwise.
func elementwiseSum(_ a: Matrix, _ b: Matrix, into y: Matrix) {
  precondition(a.count == b.count && a.count == y.count)
  y.copy(from: a)
  add(b.base, into: y.base, count: y.count)
}
