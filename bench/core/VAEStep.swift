// Case (b): one training step of TabSyn's VAE transformer (tabsyn.md §2.3), the small-op case of
// issue #3: two FT-Transformer layers over 16 tokens of width 4, then a Linear(4, 4) head per
// token, MSE against a fixed random target, Adam lr 1e-3 (as bench/torch_reference.py).
//
// B = 4096 rows, N = 16 tokens, D = 4 token width, F = 128 feed-forward width; a batch is a
// Matrix (B·N, D). Layer l:  h = x (l = 0) or LN0(x);  x1 = x + Attn(h);
//                            x2 = x1 + Linear(F→D)(ReLU(Linear(D→F)(LN1(x1)))).

import TabCore

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

  /// One transformer layer's modules and buffers.
  struct Layer {
    let norm0: LayerNorm?
    let attention: SelfAttention
    let norm1: LayerNorm
    let up: Linear
    let down: Linear
    // Forward buffers, all (B·N, D) unless noted.
    let h: Matrix?  // LN0(x)
    let norm0Saved: LayerNorm.Saved?
    let attentionSaved: SelfAttention.Saved
    let attentionScratch: SelfAttention.Scratch
    let attended: Matrix  // Attn(h)
    let x1: Matrix
    let n1: Matrix  // LN1(x1)
    let norm1Saved: LayerNorm.Saved
    let f1: Matrix  // (B·N, F)
    let r: Matrix  // ReLU(f1), (B·N, F)
    let out: Matrix  // x2
    // Backward buffers.
    let dH: Matrix?
    let dX1: Matrix
    let dN1: Matrix
    let dF1: Matrix  // (B·N, F)
    let dR: Matrix  // (B·N, F)
  }

  let arena: ParameterArena
  let workspace = Workspace()
  let layers: [Layer]
  let head: Linear
  let x: Matrix
  let target: Matrix
  let y: Matrix
  let dY: Matrix
  /// dOut[l]: ∂L/∂(output of layer l).
  let dOut: [Matrix]
  var adam = Adam(learningRate: 1e-3)
  let relu = ReLU()

  init(generator: inout SeededGenerator) {
    let b = Self.batch
    let n = Self.tokens
    let d = Self.width
    let f = Self.feedForward
    let rows = b * n
    var shapes: [ParameterShape] = []
    for l in 0..<Self.layerCount {
      if l > 0 { shapes += LayerNorm.parameterShapes("layer\(l).norm0", width: d) }
      shapes += SelfAttention.parameterShapes(
        "layer\(l).attention", width: d, outputProjection: false)
      shapes += LayerNorm.parameterShapes("layer\(l).norm1", width: d)
      shapes += Linear.parameterShapes("layer\(l).up", inputs: d, outputs: f)
      shapes += Linear.parameterShapes("layer\(l).down", inputs: f, outputs: d)
    }
    shapes += Linear.parameterShapes("head", inputs: d, outputs: d)
    arena = ParameterArena(shapes)
    let ws = workspace
    var layers: [Layer] = []
    for l in 0..<Self.layerCount {
      let norm0 = l > 0 ? LayerNorm("layer\(l).norm0", in: arena) : nil
      let attention = SelfAttention(
        "layer\(l).attention", in: arena, tokens: n, heads: 1, outputProjection: false)
      let norm1 = LayerNorm("layer\(l).norm1", in: arena)
      let up = Linear("layer\(l).up", in: arena)
      let down = Linear("layer\(l).down", in: arena)
      norm0?.initialize()
      attention.initialize(using: &generator)
      norm1.initialize()
      up.initialize(using: &generator)
      down.initialize(using: &generator)
      layers.append(
        Layer(
          norm0: norm0, attention: attention, norm1: norm1, up: up, down: down,
          h: l > 0 ? ws.matrix(rows: rows, cols: d) : nil,
          norm0Saved: l > 0 ? LayerNorm.Saved(rows: rows, in: ws) : nil,
          attentionSaved: SelfAttention.Saved(for: attention, batch: b, in: ws),
          attentionScratch: SelfAttention.Scratch(for: attention, batch: b, in: ws),
          attended: ws.matrix(rows: rows, cols: d), x1: ws.matrix(rows: rows, cols: d),
          n1: ws.matrix(rows: rows, cols: d), norm1Saved: LayerNorm.Saved(rows: rows, in: ws),
          f1: ws.matrix(rows: rows, cols: f), r: ws.matrix(rows: rows, cols: f),
          out: ws.matrix(rows: rows, cols: d), dH: l > 0 ? ws.matrix(rows: rows, cols: d) : nil,
          dX1: ws.matrix(rows: rows, cols: d), dN1: ws.matrix(rows: rows, cols: d),
          dF1: ws.matrix(rows: rows, cols: f), dR: ws.matrix(rows: rows, cols: f)))
    }
    self.layers = layers
    head = Linear("head", in: arena)
    head.initialize(using: &generator)
    x = ws.matrix(rows: rows, cols: d)
    target = ws.matrix(rows: rows, cols: d)
    y = ws.matrix(rows: rows, cols: d)
    dY = ws.matrix(rows: rows, cols: d)
    dOut = (0..<Self.layerCount).map { _ in ws.matrix(rows: rows, cols: d) }
    generator.fillNormal(x)
    generator.fillNormal(target)
  }

  func forward(_ layer: Layer, input: Matrix) {
    var h = input
    if let norm0 = layer.norm0, let buffer = layer.h, let saved = layer.norm0Saved {
      norm0.forward(input, into: buffer, saving: saved)
      h = buffer
    }
    layer.attention.forward(h, into: layer.attended, saving: layer.attentionSaved)
    layer.x1.copy(from: input)
    add(layer.attended.base, into: layer.x1.base, count: layer.x1.count)  // x1 = x + Attn(h)
    layer.norm1.forward(layer.x1, into: layer.n1, saving: layer.norm1Saved)
    layer.up.forward(layer.n1, into: layer.f1)
    relu.forward(layer.f1, into: layer.r)
    layer.down.forward(layer.r, into: layer.out)
    add(layer.x1.base, into: layer.out.base, count: layer.out.count)  // x2 = x1 + FFN(x1)
  }

  /// Accumulates into the layer's parameter gradients and, unless nil, `dInput` (zeroed by the
  /// caller).
  func backward(_ layer: Layer, _ dOut: Matrix, input: Matrix, dInput: Matrix?) {
    layer.dX1.copy(from: dOut)  // from x2 = x1 + ...: the residual
    layer.dR.zero()
    layer.down.backward(dOut, input: layer.r, dx: layer.dR)
    layer.dF1.zero()
    relu.backward(layer.dR, input: layer.f1, dx: layer.dF1)
    layer.dN1.zero()
    layer.up.backward(layer.dF1, input: layer.n1, dx: layer.dN1)
    layer.norm1.backward(layer.dN1, input: layer.x1, saved: layer.norm1Saved, dx: layer.dX1)
    if let dInput { add(layer.dX1.base, into: dInput.base, count: dInput.count) }  // x1 = x + ...
    if let norm0 = layer.norm0, let h = layer.h, let dH = layer.dH, let saved = layer.norm0Saved {
      dH.zero()
      layer.attention.backward(
        layer.dX1, input: h, saved: layer.attentionSaved, scratch: layer.attentionScratch, dx: dH)
      norm0.backward(dH, input: input, saved: saved, dx: dInput)
    } else {
      layer.attention.backward(
        layer.dX1, input: input, saved: layer.attentionSaved, scratch: layer.attentionScratch,
        dx: dInput)
    }
  }

  /// Forward, MSE, zeroed gradients, backward, Adam. Returns the loss before the update.
  func step() -> Float {
    let loss = lossAndGradients()
    adam.update(arena)
    return loss
  }

  /// Forward, MSE, zeroed gradients, backward: the step without the update.
  func lossAndGradients() -> Float {
    var input = x
    for layer in layers {
      forward(layer, input: input)
      input = layer.out
    }
    head.forward(input, into: y)
    arena.zeroGradients()
    dY.zero()
    let loss = meanSquaredError(y, target: target, gradient: dY)
    let last = layers.count - 1
    dOut[last].zero()
    head.backward(dY, input: layers[last].out, dx: dOut[last])
    for l in stride(from: last, through: 0, by: -1) {
      // Layer 0's input is the data: no input gradient (PyTorch skips it too).
      let dInput: Matrix? = l == 0 ? nil : dOut[l - 1]
      dInput?.zero()
      backward(layers[l], dOut[l], input: l == 0 ? x : layers[l - 1].out, dInput: dInput)
    }
    return loss
  }
}
