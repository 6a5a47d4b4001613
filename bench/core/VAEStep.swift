// Case (b): one training step of TabSyn's VAE transformer (tabsyn.md §2.3), the small-op case of
// issue #3: two FT-Transformer layers over 16 tokens of width 4, then a Linear(4, 4) head per
// token, MSE against a fixed random target, Adam lr 1e-3 (as bench/torch_reference.py).
//
// B = 4096 rows, N = 16 tokens, D = 4 token width, F = 128 feed-forward width; a batch is a
// Matrix (B·N, D). Layer l:  h = x (l = 0) or LN0(x);  x1 = x + Attn(h);
//                            x2 = x1 + Linear(F→D)(ReLU(Linear(D→F)(LN1(x1)))).
// The layers are TabVAE's own `Transformer`, so the step runs on the kernels tab-vae trains
// with (the fused width-4 attention, the fused feed-forward, the width-4 LayerNorm).

import TabCore
import TabVAE

final class VAEStep {
  static let batch = 4096
  static let tokens = 16
  static let width = 4
  static let feedForward = 128
  static let layerCount = 2

  /// 2·m·n·k of the forward products (Q, K, V, QKᵀ, A·V, the FFN and the head); a step 3x.
  static var stepFlop: Double {
    let rows = Double(batch * tokens)
    let d = Double(width)
    let n = Double(tokens)
    let perLayer =
      3 * 2 * rows * d * d + 2 * Double(batch) * 2 * n * n * d + 2 * 2 * rows * d
      * Double(feedForward)
    return 3 * (Double(layerCount) * perLayer + 2 * rows * d * d)
  }

  let arena: ParameterArena
  let workspace = Workspace()
  let transformer: Transformer
  let saved: Transformer.Saved
  let scratch: Transformer.Scratch
  let head: Linear
  let x: Matrix
  let target: Matrix
  let hidden: Matrix  // the transformer's output (B·N, D)
  let y: Matrix
  let dY: Matrix
  let dHidden: Matrix
  /// ∂L/∂x: the transformer always writes it; PyTorch skips it for a leaf input, a small extra.
  let dX: Matrix
  var adam = Adam(learningRate: 1e-3)

  init(generator: inout SeededGenerator) {
    let rows = Self.batch * Self.tokens
    let d = Self.width
    // The configuration only sets the transformer's shape (layers, D, F, one head).
    let config = VAEConfig(
      numerical: Self.tokens, categories: [], width: d, layers: Self.layerCount, heads: 1,
      hidden: Self.feedForward)
    arena = ParameterArena(
      Transformer.parameterShapes("transformer", config)
        + Linear.parameterShapes("head", inputs: d, outputs: d))
    transformer = Transformer("transformer", in: arena, config, tokens: Self.tokens)
    transformer.initialize(using: &generator)
    head = Linear("head", in: arena)
    head.initialize(using: &generator)
    let ws = workspace
    saved = Transformer.Saved(for: transformer, batch: Self.batch, in: ws)
    scratch = Transformer.Scratch(for: transformer, batch: Self.batch, in: ws)
    x = ws.matrix(rows: rows, cols: d)
    target = ws.matrix(rows: rows, cols: d)
    hidden = ws.matrix(rows: rows, cols: d)
    y = ws.matrix(rows: rows, cols: d)
    dY = ws.matrix(rows: rows, cols: d)
    dHidden = ws.matrix(rows: rows, cols: d)
    dX = ws.matrix(rows: rows, cols: d)
    generator.fillNormal(x)
    generator.fillNormal(target)
  }

  /// Forward, MSE, zeroed gradients, backward, Adam. Returns the loss before the update.
  func step() -> Float {
    let loss = lossAndGradients()
    adam.update(arena)
    return loss
  }

  /// Forward, MSE, zeroed gradients, backward: the step without the update.
  func lossAndGradients() -> Float {
    transformer.forward(x, into: hidden, saving: saved)
    head.forward(hidden, into: y)
    arena.zeroGradients()
    dY.zero()
    let loss = meanSquaredError(y, target: target, gradient: dY)
    dHidden.zero()
    head.backward(dY, input: hidden, dx: dHidden)
    dX.zero()
    transformer.backward(dHidden, input: x, saved: saved, scratch: scratch, dx: dX)
    return loss
  }
}
