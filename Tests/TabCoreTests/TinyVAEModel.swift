// A tiny TabSyn-style VAE (tabsyn.md §2) assembled from TabCore layers, for the end-to-end tests
// of issue #3 (TinyVAETests.swift). It is not the product model (that comes with issue #4); it
// is small and written out in llm.c's order: config, parameters in one arena, a workspace sized
// once, forward as a list of layer calls, backward as that list reversed.
//
// B = rows in a batch, N = 1 + n + C tokens per row ([CLS], n numerical, C categorical),
// D = token width, F = feed-forward width, K_j = categories of column j, ΣK = Σ_j K_j.
// A batch of tokens (B, N, D) is a Matrix (B·N, D): row b·N + t is token t of batch row b.
//
// The encoder follows TabSyn: two independent transformer blocks over the same tokens, one for
// mu and one for logvar (not a shared block with two heads), so that the backward has to gather
// dTokens from two branches; a wiring mistake there is what the whole-model check is for. Each
// block is a plain pre-norm block with one head and no output projection:
//   x ← x + Attention(LN₁(x));  x ← x + Linear(F→D)(ReLU(Linear(D→F)(LN₂(x)))).
// (TabSyn's first layer skips LN₁; the product model must reproduce that, this test need not.)

@testable import TabCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Hyperparameters of the tiny VAE.
struct TinyVAEConfig: Codable, Equatable {
  /// n, numerical columns.
  var numerical: Int
  /// K_j, categories of each categorical column.
  var categories: [Int]
  /// D, the token width.
  var width: Int
  /// F, the feed-forward width of every block.
  var hidden: Int
  /// β, the weight of the KL term.
  var beta: Float

  /// N = 1 + n + C.
  var tokens: Int { 1 + numerical + categories.count }
  /// The decoder sees z without [CLS]: n + C tokens.
  var decoderTokens: Int { numerical + categories.count }
  /// Column j's logits in the wide logits (B, ΣK): K_0 columns, then K_1, and so on.
  var spans: [Range<Int>] {
    var start = 0
    return categories.map { k in
      defer { start += k }
      return start..<start + k
    }
  }
}

/// One pre-norm transformer block (see the file header). Parameters `name.norm1`,
/// `name.attention`, `name.norm2`, `name.fc1`, `name.fc2`.
struct TinyBlock {
  let norm1: LayerNorm
  let attention: SelfAttention
  let norm2: LayerNorm
  let fc1: Linear  // D → F
  let relu = ReLU()
  let fc2: Linear  // F → D

  static func parameterShapes(_ name: String, width: Int, hidden: Int) -> [ParameterShape] {
    LayerNorm.parameterShapes(name + ".norm1", width: width)
      + SelfAttention.parameterShapes(name + ".attention", width: width, outputProjection: false)
      + LayerNorm.parameterShapes(name + ".norm2", width: width)
      + Linear.parameterShapes(name + ".fc1", inputs: width, outputs: hidden)
      + Linear.parameterShapes(name + ".fc2", inputs: hidden, outputs: width)
  }

  init(_ name: String, in arena: ParameterArena, tokens: Int) {
    norm1 = LayerNorm(name + ".norm1", in: arena)
    attention = SelfAttention(
      name + ".attention", in: arena, tokens: tokens, heads: 1, outputProjection: false)
    norm2 = LayerNorm(name + ".norm2", in: arena)
    fc1 = Linear(name + ".fc1", in: arena)
    fc2 = Linear(name + ".fc2", in: arena)
  }

  func initialize(using generator: inout SeededGenerator) {
    norm1.initialize()
    attention.initialize(using: &generator)
    norm2.initialize()
    fc1.initialize(using: &generator)
    fc2.initialize(using: &generator)
  }

  /// A block's activations and their gradients for one batch shape (rows = B·tokens).
  struct Activations {
    let normed1: Matrix  // (B·T, D) LN₁(x)
    let norm1: LayerNorm.Saved
    let attention: SelfAttention.Saved
    let scratch: SelfAttention.Scratch
    let attended: Matrix  // (B·T, D) Attention(LN₁(x))
    let residual: Matrix  // (B·T, D) x + attended
    let normed2: Matrix  // (B·T, D) LN₂(residual)
    let norm2: LayerNorm.Saved
    let hidden: Matrix  // (B·T, F) fc1 output
    let activated: Matrix  // (B·T, F) ReLU(hidden)
    let feedForward: Matrix  // (B·T, D) fc2 output
    // Gradients of the above (dy and dx belong to the caller).
    let dNormed1: Matrix
    let dResidual: Matrix
    let dNormed2: Matrix
    let dHidden: Matrix
    let dActivated: Matrix

    init(for block: TinyBlock, batch: Int, in workspace: Workspace) {
      let rows = batch * block.attention.tokens
      let width = block.fc1.inputs, feedForwardWidth = block.fc1.outputs
      normed1 = workspace.matrix(rows: rows, cols: width)
      norm1 = LayerNorm.Saved(rows: rows, in: workspace)
      attention = SelfAttention.Saved(for: block.attention, batch: batch, in: workspace)
      scratch = SelfAttention.Scratch(for: block.attention, batch: batch, in: workspace)
      attended = workspace.matrix(rows: rows, cols: width)
      residual = workspace.matrix(rows: rows, cols: width)
      normed2 = workspace.matrix(rows: rows, cols: width)
      norm2 = LayerNorm.Saved(rows: rows, in: workspace)
      hidden = workspace.matrix(rows: rows, cols: feedForwardWidth)
      activated = workspace.matrix(rows: rows, cols: feedForwardWidth)
      feedForward = workspace.matrix(rows: rows, cols: width)
      dNormed1 = workspace.matrix(rows: rows, cols: width)
      dResidual = workspace.matrix(rows: rows, cols: width)
      dNormed2 = workspace.matrix(rows: rows, cols: width)
      dHidden = workspace.matrix(rows: rows, cols: feedForwardWidth)
      dActivated = workspace.matrix(rows: rows, cols: feedForwardWidth)
    }

    var gradients: [Matrix] { [dNormed1, dResidual, dNormed2, dHidden, dActivated] }
  }

  /// Overwrites `y` (B·T, D) and `a` from `x` (B·T, D).
  func forward(_ x: Matrix, into y: Matrix, _ a: Activations) {
    norm1.forward(x, into: a.normed1, saving: a.norm1)
    attention.forward(a.normed1, into: a.attended, saving: a.attention)
    elementwiseSum(x, a.attended, into: a.residual)  // residual = x + Attention(LN₁(x))
    norm2.forward(a.residual, into: a.normed2, saving: a.norm2)
    fc1.forward(a.normed2, into: a.hidden)
    relu.forward(a.hidden, into: a.activated)
    fc2.forward(a.activated, into: a.feedForward)
    elementwiseSum(a.residual, a.feedForward, into: y)  // y = residual + FFN(LN₂(residual))
  }

  /// Accumulates into every parameter's grad and into `dx`; `a`'s gradients must be zero.
  func backward(_ dy: Matrix, input x: Matrix, _ a: Activations, dx: Matrix) {
    add(dy.base, into: a.dResidual.base, count: dy.count)  // y = residual + ...
    fc2.backward(dy, input: a.activated, dx: a.dActivated)
    relu.backward(a.dActivated, input: a.hidden, dx: a.dHidden)
    fc1.backward(a.dHidden, input: a.normed2, dx: a.dNormed2)
    norm2.backward(a.dNormed2, input: a.residual, saved: a.norm2, dx: a.dResidual)
    add(a.dResidual.base, into: dx.base, count: dx.count)  // residual = x + ...
    attention.backward(
      a.dResidual, input: a.normed1, saved: a.attention, scratch: a.scratch, dx: a.dNormed1)
    norm1.backward(a.dNormed1, input: x, saved: a.norm1, dx: dx)
  }
}

/// Every tensor of the tiny VAE, in one arena (llm.c's ParameterTensors).
struct TinyVAEParameters {
  let arena: ParameterArena
  /// weight (1+n, D), bias (n+C, D), table (ΣK, D).
  let tokenizer: FeatureTokenizer
  let encoderMean: TinyBlock  // tokens N
  let encoderLogVariance: TinyBlock  // tokens N
  let decoder: TinyBlock  // tokens n + C
  /// R (n, D): x̂_i = ⟨h_i, R_i⟩, no bias (tabsyn.md §2.4).
  let reconstruction: Parameter
  /// Linear D → K_j per categorical column, reading decoder token n + j.
  let heads: [Linear]

  init(_ config: TinyVAEConfig) {
    let d = config.width, f = config.hidden
    var shapes = FeatureTokenizer.parameterShapes(
      "tokenizer", numerical: config.numerical, categories: config.categories, width: d)
    shapes += TinyBlock.parameterShapes("mu", width: d, hidden: f)
    shapes += TinyBlock.parameterShapes("logvar", width: d, hidden: f)
    shapes += TinyBlock.parameterShapes("decoder", width: d, hidden: f)
    shapes.append(ParameterShape("reconstruction.weight", rows: config.numerical, cols: d))
    for (j, k) in config.categories.enumerated() {
      shapes += Linear.parameterShapes("head\(j)", inputs: d, outputs: k)
    }
    let arena = ParameterArena(shapes)
    self.arena = arena
    tokenizer = FeatureTokenizer("tokenizer", in: arena, categories: config.categories)
    encoderMean = TinyBlock("mu", in: arena, tokens: config.tokens)
    encoderLogVariance = TinyBlock("logvar", in: arena, tokens: config.tokens)
    decoder = TinyBlock("decoder", in: arena, tokens: config.decoderTokens)
    reconstruction = arena["reconstruction.weight"]
    heads = config.categories.indices.map { Linear("head\($0)", in: arena) }
  }

  /// TabSyn's initialisation (tabsyn.md §2.2-2.4); the reconstruction weights are
  /// xavier_uniform with gain 1/√2: U(±gain·√(6 / (fan_in + fan_out))).
  func initialize(using generator: inout SeededGenerator) {
    tokenizer.initialize(using: &generator)
    encoderMean.initialize(using: &generator)
    encoderLogVariance.initialize(using: &generator)
    decoder.initialize(using: &generator)
    func xavier(_ m: Matrix) {
      let bound = (0.5 * 6 / Float(m.rows + m.cols)).squareRoot()
      generator.fillUniform(m, lower: -bound, upper: bound)
    }
    xavier(reconstruction.value)
    for head in heads {
      head.initialize(using: &generator)  // PyTorch's default bias (and weight, replaced next)
      xavier(head.weight.value)
    }
  }
}

/// The activations of one batch shape (llm.c's ActivationTensors), and the batch itself.
final class TinyVAEWorkspace {
  let config: TinyVAEConfig
  let rows: Int
  let memory = Workspace()
  // The batch.
  let numbers: Matrix  // (B, n) numerical columns
  var codes: [Int32]  // (B, C) category codes, row-major
  let noise: Matrix  // (B·N, D) ε of the reparameterisation, filled by the caller
  // Forward.
  let tokens: Matrix  // (B·N, D) tokenizer output
  let encoderMean: TinyBlock.Activations
  let encoderLogVariance: TinyBlock.Activations
  let mean: Matrix  // (B·N, D) μ
  let logVariance: Matrix  // (B·N, D) log σ²
  let sigma: Matrix  // (B·N, D) exp(½ log σ²)
  let latent: Matrix  // (B·(N−1), D) z = μ + σ ε, without [CLS]
  let decoder: TinyBlock.Activations
  let decoded: Matrix  // (B·(N−1), D) h
  let prediction: Matrix  // (B, n) x̂
  let headInputs: [Matrix]  // (B, D) per column: decoder token n + j, gathered
  let columnLogits: [Matrix]  // (B, K_j) per column
  let logits: Matrix  // (B, ΣK) the columns' logits side by side
  // Gradients.
  let dTokens: Matrix
  let dMean: Matrix
  let dLogVariance: Matrix
  let dLatent: Matrix
  let dDecoded: Matrix
  let dPrediction: Matrix
  let dHeadInputs: [Matrix]
  let dColumnLogits: [Matrix]
  let dLogits: Matrix

  init(_ config: TinyVAEConfig, parameters p: TinyVAEParameters, rows: Int) {
    self.config = config
    self.rows = rows
    let n = config.tokens, d = config.width, m = memory
    numbers = m.matrix(rows: rows, cols: config.numerical)
    codes = [Int32](repeating: 0, count: rows * config.categories.count)
    noise = m.matrix(rows: rows * n, cols: d)
    tokens = m.matrix(rows: rows * n, cols: d)
    encoderMean = TinyBlock.Activations(for: p.encoderMean, batch: rows, in: m)
    encoderLogVariance = TinyBlock.Activations(for: p.encoderLogVariance, batch: rows, in: m)
    mean = m.matrix(rows: rows * n, cols: d)
    logVariance = m.matrix(rows: rows * n, cols: d)
    sigma = m.matrix(rows: rows * n, cols: d)
    latent = m.matrix(rows: rows * (n - 1), cols: d)
    decoder = TinyBlock.Activations(for: p.decoder, batch: rows, in: m)
    decoded = m.matrix(rows: rows * (n - 1), cols: d)
    prediction = m.matrix(rows: rows, cols: config.numerical)
    headInputs = config.categories.map { _ in m.matrix(rows: rows, cols: d) }
    columnLogits = config.categories.map { m.matrix(rows: rows, cols: $0) }
    logits = m.matrix(rows: rows, cols: config.categories.reduce(0, +))
    dTokens = m.matrix(rows: rows * n, cols: d)
    dMean = m.matrix(rows: rows * n, cols: d)
    dLogVariance = m.matrix(rows: rows * n, cols: d)
    dLatent = m.matrix(rows: rows * (n - 1), cols: d)
    dDecoded = m.matrix(rows: rows * (n - 1), cols: d)
    dPrediction = m.matrix(rows: rows, cols: config.numerical)
    dHeadInputs = config.categories.map { _ in m.matrix(rows: rows, cols: d) }
    dColumnLogits = config.categories.map { m.matrix(rows: rows, cols: $0) }
    dLogits = m.matrix(rows: rows, cols: logits.cols)
  }

  /// Every activation gradient, zeroed once per step with the parameters' gradients.
  var gradients: [Matrix] {
    [dTokens, dMean, dLogVariance, dLatent, dDecoded, dPrediction, dLogits]
      + dHeadInputs + dColumnLogits + encoderMean.gradients + encoderLogVariance.gradients
      + decoder.gradients
  }
}

/// The loss and its parts, each a mean as in tabsyn.md §2.5.
struct TinyVAELoss: Equatable {
  var reconstruction: Float  // MSE over B × n
  var crossEntropy: Float  // mean over B and the C columns
  var kl: Float  // mean over B × N × D, [CLS] included
  var total: Float  // MSE + CE + β·KL
}

/// The tiny VAE: forward, loss and backward over one workspace.
struct TinyVAEModel {
  let config: TinyVAEConfig
  let parameters: TinyVAEParameters

  init(_ config: TinyVAEConfig) {
    self.config = config
    self.parameters = TinyVAEParameters(config)
  }

  /// Runs the model on `w`'s batch and noise; returns the loss. Writes every activation of `w`.
  func forward(_ w: TinyVAEWorkspace) -> TinyVAELoss {
    let p = parameters
    let n = config.tokens, d = config.width
    w.codes.withUnsafeBufferPointer { codes in
      p.tokenizer.forward(
        w.numbers, codes: codes, into: w.tokens.reshaped(rows: w.rows, cols: n * d))
    }
    p.encoderMean.forward(w.tokens, into: w.mean, w.encoderMean)
    p.encoderLogVariance.forward(w.tokens, into: w.logVariance, w.encoderLogVariance)
    reparameterize(w)  // z = μ + exp(½ log σ²) ε, tokens 1 ..< N
    p.decoder.forward(w.latent, into: w.decoded, w.decoder)
    reconstructNumbers(w)  // x̂_i = ⟨h_i, R_i⟩
    for (j, head) in p.heads.enumerated() {
      copyToken(config.numerical + j, of: w.decoded, tokens: n - 1, into: w.headInputs[j])
      head.forward(w.headInputs[j], into: w.columnLogits[j])
      copyColumns(w.columnLogits[j], into: w.logits, at: config.spans[j].lowerBound)
    }
    return loss(w, backward: false)
  }

  /// Accumulates the gradient of `forward`'s total loss into every parameter's grad. The
  /// activations must be those of `forward(w)`; `w.gradients` and the arena's must be zero.
  func backward(_ w: TinyVAEWorkspace) {
    let p = parameters
    let n = config.tokens, d = config.width
    _ = loss(w, backward: true)  // seeds dPrediction, dLogits, and the KL part of dMean, dLogVar
    for (j, head) in p.heads.enumerated().reversed() {
      copyColumns(of: w.dLogits, at: config.spans[j].lowerBound, into: w.dColumnLogits[j])
      head.backward(w.dColumnLogits[j], input: w.headInputs[j], dx: w.dHeadInputs[j])
      addToken(w.dHeadInputs[j], into: config.numerical + j, of: w.dDecoded, tokens: n - 1)
    }
    reconstructNumbersBackward(w)
    p.decoder.backward(w.dDecoded, input: w.latent, w.decoder, dx: w.dLatent)
    reparameterizeBackward(w)
    p.encoderLogVariance.backward(
      w.dLogVariance, input: w.tokens, w.encoderLogVariance, dx: w.dTokens)
    p.encoderMean.backward(w.dMean, input: w.tokens, w.encoderMean, dx: w.dTokens)
    w.codes.withUnsafeBufferPointer { codes in
      p.tokenizer.backward(
        w.dTokens.reshaped(rows: w.rows, cols: n * d), input: w.numbers, codes: codes, dx: nil)
    }
  }

  /// The three loss terms; with `backward`, their gradients seeded into the workspace. Each
  /// loss function folds its own mean in (MSE: 2(x̂ − x)/(B·n); CE: (p − onehot)/(B·C);
  /// KL: β·(…)/(B·N·D)), so no separate 1/rows seed is needed.
  private func loss(_ w: TinyVAEWorkspace, backward: Bool) -> TinyVAELoss {
    let mse = meanSquaredError(
      w.prediction, target: w.numbers, gradient: backward ? w.dPrediction : nil)
    let ce = w.codes.withUnsafeBufferPointer { codes in
      crossEntropy(
        logits: w.logits, spans: config.spans, targets: codes.baseAddress!,
        gradient: backward ? w.dLogits : nil)
    }
    let kl = gaussianKL(
      mean: w.mean, logVariance: w.logVariance, dMean: backward ? w.dMean : nil,
      dLogVariance: backward ? w.dLogVariance : nil, scale: config.beta)
    return TinyVAELoss(
      reconstruction: mse, crossEntropy: ce, kl: kl, total: mse + ce + config.beta * kl)
  }

  /// z_t = μ_t + σ_t ε_t with σ = exp(½ log σ²), for the tokens t = 1 ..< N ([CLS] is dropped).
  private func reparameterize(_ w: TinyVAEWorkspace) {
    let n = config.tokens, d = config.width
    for i in 0..<w.sigma.count { w.sigma.base[i] = expf(0.5 * w.logVariance.base[i]) }
    for b in 0..<w.rows {
      for t in 1..<n {
        let source = (b * n + t) * d, target = (b * (n - 1) + t - 1) * d
        for k in 0..<d {
          w.latent.base[target + k] =
            w.mean.base[source + k] + w.sigma.base[source + k] * w.noise.base[source + k]
        }
      }
    }
  }

  /// From z = μ + σ ε: dμ += dz and d(log σ²) += dz · ε · ½σ. [CLS] gets only the KL's part.
  private func reparameterizeBackward(_ w: TinyVAEWorkspace) {
    let n = config.tokens, d = config.width
    for b in 0..<w.rows {
      for t in 1..<n {
        let source = (b * n + t) * d, target = (b * (n - 1) + t - 1) * d
        for k in 0..<d {
          let dz = w.dLatent.base[target + k]
          w.dMean.base[source + k] += dz
          w.dLogVariance.base[source + k] +=
            dz * w.noise.base[source + k] * 0.5 * w.sigma.base[source + k]
        }
      }
    }
  }

  /// x̂[b, i] = Σ_k h[b, i, k] · R[i, k] (decoder token i is numerical column i).
  private func reconstructNumbers(_ w: TinyVAEWorkspace) {
    let t = config.decoderTokens, d = config.width, r = parameters.reconstruction.value
    for b in 0..<w.rows {
      for i in 0..<config.numerical {
        var total: Float = 0
        for k in 0..<d { total += w.decoded[b * t + i, k] * r[i, k] }
        w.prediction[b, i] = total
      }
    }
  }

  /// From x̂[b, i] = ⟨h[b, i], R[i]⟩: dR[i] += dx̂[b, i] · h[b, i] and dh[b, i] += dx̂[b, i] · R[i].
  private func reconstructNumbersBackward(_ w: TinyVAEWorkspace) {
    let t = config.decoderTokens, d = config.width
    let r = parameters.reconstruction.value, dr = parameters.reconstruction.grad
    for b in 0..<w.rows {
      for i in 0..<config.numerical {
        let g = w.dPrediction[b, i]
        for k in 0..<d {
          dr[i, k] += g * w.decoded[b * t + i, k]
          w.dDecoded[b * t + i, k] += g * r[i, k]
        }
      }
    }
  }
}

// Gathers and scatters that a Matrix view cannot express: a Matrix has no row stride, so one
// token of every batch row, or one column span of the wide logits, has to be copied out and back.

/// `y = a + b`, elementwise.
func elementwiseSum(_ a: Matrix, _ b: Matrix, into y: Matrix) {
  precondition(a.count == b.count && a.count == y.count)
  y.copy(from: a)
  add(b.base, into: y.base, count: y.count)
}

/// `y[b] = x[b·tokens + token]`: token `token` of every batch row, (B, D).
func copyToken(_ token: Int, of x: Matrix, tokens: Int, into y: Matrix) {
  precondition(x.rows == y.rows * tokens && x.cols == y.cols && token < tokens)
  for b in 0..<y.rows { y.row(b).update(from: x.row(b * tokens + token), count: y.cols) }
}

/// `x[b·tokens + token] += dy[b]`: the adjoint of `copyToken`.
func addToken(_ dy: Matrix, into token: Int, of x: Matrix, tokens: Int) {
  precondition(x.rows == dy.rows * tokens && x.cols == dy.cols && token < tokens)
  for b in 0..<dy.rows { add(dy.row(b), into: x.row(b * tokens + token), count: dy.cols) }
}

/// `wide[:, first ..< first + x.cols] = x`.
func copyColumns(_ x: Matrix, into wide: Matrix, at first: Int) {
  precondition(x.rows == wide.rows && first + x.cols <= wide.cols)
  for b in 0..<x.rows { (wide.row(b) + first).update(from: x.row(b), count: x.cols) }
}

/// `x = wide[:, first ..< first + x.cols]`.
func copyColumns(of wide: Matrix, at first: Int, into x: Matrix) {
  precondition(x.rows == wide.rows && first + x.cols <= wide.cols)
  for b in 0..<x.rows { x.row(b).update(from: wide.row(b) + first, count: x.cols) }
}
