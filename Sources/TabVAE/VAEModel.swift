// TabSyn's VAE (tabsyn.md §2.2-2.5) over TabCore layers, in llm.c's order: parameters in one
// arena, a workspace per batch shape, forward as a list of layer calls, backward reversed.
//
//   tokens = Tokenizer(x_num, x_cat)                 (B·N, D), [CLS] first
//   μ = Enc_μ(tokens), log σ² = Enc_σ(tokens)        (B·N, D) each
//   z = μ + exp(½ log σ²)·ε, tokens 1 ..< N           (B·(N−1), D)
//   h = Dec(z)                                       (B·(N−1), D)
//   x̂_i = ⟨h_i, R_i⟩; logits_j = Linear_j(h_{n+j})   (B, n), (B, K_j)
//   loss = MSE(x̂, x) + CE(logits, codes) + β·KL(μ, log σ²)
//
// Shapes use the legend of VAEConfig.swift.

import TabCore

#if canImport(Glibc)
  import Glibc
#endif

/// Every tensor of the VAE in one arena.
public struct VAEParameters {
  public let arena: ParameterArena
  /// weight (1+n, D), bias (n+C, D), table (ΣK, D).
  let tokenizer: FeatureTokenizer
  let encoderMean: Transformer  // N tokens
  let encoderLogVariance: Transformer  // N tokens
  let decoder: Transformer  // n + C tokens
  /// R (n, D): x̂_i = ⟨h_i, R_i⟩, no bias.
  let reconstruction: Parameter
  /// Linear D → K_j per int field, reading decoder token n + j.
  let heads: [Linear]

  init(_ config: VAEConfig) {
    let d = config.width
    var shapes = FeatureTokenizer.parameterShapes(
      "tokenizer", numerical: config.numerical, categories: config.categories, width: d)
    shapes += Transformer.parameterShapes("encoder_mu", config)
    shapes += Transformer.parameterShapes("encoder_logvar", config)
    shapes += Transformer.parameterShapes("decoder", config)
    shapes.append(ParameterShape("reconstruction.weight", rows: config.numerical, cols: d))
    for (j, k) in config.categories.enumerated() {
      shapes += Linear.parameterShapes("heads.\(j)", inputs: d, outputs: k)
    }
    let arena = ParameterArena(shapes)
    self.arena = arena
    tokenizer = FeatureTokenizer("tokenizer", in: arena, categories: config.categories)
    encoderMean = Transformer("encoder_mu", in: arena, config, tokens: config.tokens)
    encoderLogVariance = Transformer("encoder_logvar", in: arena, config, tokens: config.tokens)
    decoder = Transformer("decoder", in: arena, config, tokens: config.decoderTokens)
    reconstruction = arena["reconstruction.weight"]
    heads = config.categories.indices.map { Linear("heads.\($0)", in: arena) }
  }

  /// TabSyn's initialisation; R and the heads' weights are xavier_uniform with gain 1/√2.
  func initialize(using generator: inout SeededGenerator) {
    tokenizer.initialize(using: &generator)
    encoderMean.initialize(using: &generator)
    encoderLogVariance.initialize(using: &generator)
    decoder.initialize(using: &generator)
    func xavier(_ m: Matrix) {
      let bound = (0.5 * 6 / Float(max(m.rows + m.cols, 1))).squareRoot()
      generator.fillUniform(m, lower: -bound, upper: bound)
    }
    xavier(reconstruction.value)
    for head in heads {
      head.initialize(using: &generator)  // PyTorch's default bias; the weight is replaced next
      xavier(head.weight.value)
    }
  }
}

/// The activations of one batch shape, the batch itself and (for training) the gradients.
public final class VAEWorkspace {
  public let rows: Int
  let memory = Workspace()
  // The batch.
  /// (B, n) numerical tokens.
  public let numbers: Matrix
  /// (B, C) int tokens, row-major.
  public var codes: [Int32]
  /// (B·N, D) ε of the reparameterisation (training) or of `--sample`.
  let noise: Matrix
  // Forward.
  let tokens: Matrix  // (B·N, D)
  let encoderMean: Transformer.Saved
  let encoderLogVariance: Transformer.Saved
  let mean: Matrix  // (B·N, D) μ
  let logVariance: Matrix  // (B·N, D) log σ²
  let sigma: Matrix  // (B·N, D) exp(½ log σ²)
  /// (B·(N−1), D) z, [CLS] dropped: row b of the latent stream is rows b·(N−1) ..< (b+1)·(N−1).
  public let latent: Matrix
  let decoder: Transformer.Saved
  let decoded: Matrix  // (B·(N−1), D) h
  /// (B, n) x̂.
  public let prediction: Matrix
  let headInputs: [Matrix]  // (B, D) decoder token n + j of every row
  let columnLogits: [Matrix]  // (B, K_j)
  /// (B, ΣK) every field's logits side by side.
  public let logits: Matrix
  // Gradients (training only).
  let gradients: Gradients?

  struct Gradients {
    let tokens, mean, logVariance, latent, decoded, prediction, logits: Matrix
    let headInputs: [Matrix]
    let columnLogits: [Matrix]
    let encoderScratch: Transformer.Scratch
    let decoderScratch: Transformer.Scratch
  }

  init(_ config: VAEConfig, parameters p: VAEParameters, rows: Int, training: Bool) {
    self.rows = rows
    let n = config.tokens, d = config.width, m = memory
    numbers = m.matrix(rows: rows, cols: config.numerical)
    codes = [Int32](repeating: 0, count: rows * config.categories.count)
    noise = m.matrix(rows: rows * n, cols: d)
    tokens = m.matrix(rows: rows * n, cols: d)
    encoderMean = Transformer.Saved(for: p.encoderMean, batch: rows, in: m)
    encoderLogVariance = Transformer.Saved(for: p.encoderLogVariance, batch: rows, in: m)
    mean = m.matrix(rows: rows * n, cols: d)
    logVariance = m.matrix(rows: rows * n, cols: d)
    sigma = m.matrix(rows: rows * n, cols: d)
    latent = m.matrix(rows: rows * (n - 1), cols: d)
    decoder = Transformer.Saved(for: p.decoder, batch: rows, in: m)
    decoded = m.matrix(rows: rows * (n - 1), cols: d)
    prediction = m.matrix(rows: rows, cols: config.numerical)
    headInputs = config.categories.map { _ in m.matrix(rows: rows, cols: d) }
    columnLogits = config.categories.map { m.matrix(rows: rows, cols: $0) }
    logits = m.matrix(rows: rows, cols: config.totalCategories)
    if training {
      gradients = Gradients(
        tokens: m.matrix(rows: rows * n, cols: d), mean: m.matrix(rows: rows * n, cols: d),
        logVariance: m.matrix(rows: rows * n, cols: d),
        latent: m.matrix(rows: rows * (n - 1), cols: d),
        decoded: m.matrix(rows: rows * (n - 1), cols: d),
        prediction: m.matrix(rows: rows, cols: config.numerical),
        logits: m.matrix(rows: rows, cols: config.totalCategories),
        headInputs: config.categories.map { _ in m.matrix(rows: rows, cols: d) },
        columnLogits: config.categories.map { m.matrix(rows: rows, cols: $0) },
        encoderScratch: Transformer.Scratch(for: p.encoderMean, batch: rows, in: m),
        decoderScratch: Transformer.Scratch(for: p.decoder, batch: rows, in: m))
    } else {
      gradients = nil
    }
  }

  func zeroGradients() {
    guard let g = gradients else { return }
    for x in [g.tokens, g.mean, g.logVariance, g.latent, g.decoded, g.prediction, g.logits] {
      x.zero()
    }
    for x in g.headInputs { x.zero() }
  }
}

/// The loss and its parts, each a mean as in tabsyn.md §2.5.
public struct VAELoss: Equatable, Sendable {
  /// MSE over B × n.
  public var reconstruction: Float
  /// Cross-entropy, mean over B and the C fields.
  public var crossEntropy: Float
  /// KL, mean over B × N × D ([CLS] included).
  public var kl: Float
  /// MSE + CE + β·KL.
  public var total: Float
}

/// The VAE: configuration, parameters, forward, loss, backward and the inference passes.
public final class VAEModel {
  public let config: VAEConfig
  public let parameters: VAEParameters

  /// A model with zero parameters; `initialize` or load a checkpoint next.
  public init(_ config: VAEConfig) {
    precondition(config.width >= 1 && config.layers >= 1 && config.heads >= 1
      && config.width % config.heads == 0 && config.hidden >= 1 && config.decoderTokens >= 1,
      "VAEConfig: bad sizes")
    self.config = config
    self.parameters = VAEParameters(config)
  }

  /// TabSyn's initialisation from `generator`.
  public func initialize(using generator: inout SeededGenerator) {
    parameters.initialize(using: &generator)
  }

  /// A workspace for batches of `rows` rows.
  public func workspace(rows: Int, training: Bool) -> VAEWorkspace {
    VAEWorkspace(config, parameters: parameters, rows: rows, training: training)
  }

  // MARK: Training

  /// Runs the whole model on `w`'s batch. With `sample`, z = μ + σ·ε with ε in `w.noise` (which
  /// the caller fills); without, z = μ (validation). Returns the loss with KL weight `beta`.
  public func forward(_ w: VAEWorkspace, beta: Float, sample: Bool = true) -> VAELoss {
    encode(w, logVariance: true)
    reparameterize(w, sample: sample)
    decode(w)
    return loss(w, beta: beta, backward: false)
  }

  /// Accumulates the gradient of `forward`'s total loss into the arena's grads (which the
  /// caller zeroes). The activations must be those of `forward(w, beta:, sample: true)`.
  public func backward(_ w: VAEWorkspace, beta: Float) {
    guard let g = w.gradients else { preconditionFailure("VAEModel.backward: inference workspace") }
    let p = parameters
    let n = config.tokens, d = config.width
    w.zeroGradients()
    _ = loss(w, beta: beta, backward: true)  // seeds g.prediction, g.logits, KL into g.mean/g.logVariance
    for (j, head) in p.heads.enumerated().reversed() {
      copyColumns(of: g.logits, at: config.spans[j].lowerBound, into: g.columnLogits[j])
      head.backward(g.columnLogits[j], input: w.headInputs[j], dx: g.headInputs[j])
      addToken(g.headInputs[j], into: config.numerical + j, of: g.decoded, tokens: n - 1)
    }
    reconstructNumbersBackward(w, g)
    p.decoder.backward(
      g.decoded, input: w.latent, saved: w.decoder, scratch: g.decoderScratch, dx: g.latent)
    reparameterizeBackward(w, g)
    p.encoderLogVariance.backward(
      g.logVariance, input: w.tokens, saved: w.encoderLogVariance, scratch: g.encoderScratch,
      dx: g.tokens)
    p.encoderMean.backward(
      g.mean, input: w.tokens, saved: w.encoderMean, scratch: g.encoderScratch, dx: g.tokens)
    w.codes.withUnsafeBufferPointer { codes in
      p.tokenizer.backward(
        g.tokens.reshaped(rows: w.rows, cols: n * d), input: w.numbers, codes: codes, dx: nil)
    }
  }

  // MARK: Inference

  /// Tokenizer and μ encoder (and, with `logVariance`, the log σ² encoder) on `w`'s batch.
  public func encode(_ w: VAEWorkspace, logVariance: Bool) {
    let p = parameters
    let n = config.tokens, d = config.width
    w.codes.withUnsafeBufferPointer { codes in
      p.tokenizer.forward(
        w.numbers, codes: codes, into: w.tokens.reshaped(rows: w.rows, cols: n * d))
    }
    p.encoderMean.forward(w.tokens, into: w.mean, saving: w.encoderMean)
    if logVariance {
      p.encoderLogVariance.forward(w.tokens, into: w.logVariance, saving: w.encoderLogVariance)
    }
  }

  /// z = μ (+ σ·ε with `sample`), [CLS] dropped, into `w.latent`.
  public func reparameterize(_ w: VAEWorkspace, sample: Bool) {
    let n = config.tokens, d = config.width
    let run = (n - 1) * d
    if sample {
      let count = w.sigma.count
      let lv = w.logVariance.base, s = w.sigma.base
      for i in 0..<count { s[i] = expf(0.5 * lv[i]) }
    }
    for b in 0..<w.rows {
      let source = (b * n + 1) * d, target = b * run
      let z = w.latent.base + target, mu = w.mean.base + source
      if sample {
        let s = w.sigma.base + source, e = w.noise.base + source
        for k in 0..<run { z[k] = mu[k] + s[k] * e[k] }
      } else {
        z.update(from: mu, count: run)
      }
    }
  }

  /// Decoder and heads from `w.latent`: writes `w.prediction` and `w.logits`.
  public func decode(_ w: VAEWorkspace) {
    let p = parameters
    let n = config.tokens
    p.decoder.forward(w.latent, into: w.decoded, saving: w.decoder)
    reconstructNumbers(w)
    for (j, head) in p.heads.enumerated() {
      copyToken(config.numerical + j, of: w.decoded, tokens: n - 1, into: w.headInputs[j])
      head.forward(w.headInputs[j], into: w.columnLogits[j])
      copyColumns(w.columnLogits[j], into: w.logits, at: config.spans[j].lowerBound)
    }
  }

  // MARK: Parts

  /// The loss terms; with `backward`, their gradients seeded. Each loss folds its own mean in
  /// (MSE 2(x̂ − x)/(B·n), CE (p − onehot)/(B·C), KL β(…)/(B·N·D)): no separate 1/B seed.
  private func loss(_ w: VAEWorkspace, beta: Float, backward: Bool) -> VAELoss {
    let g = backward ? w.gradients : nil
    let mse = meanSquaredError(w.prediction, target: w.numbers, gradient: g?.prediction)
    let ce: Float =
      config.categories.isEmpty
      ? 0
      : w.codes.withUnsafeBufferPointer { codes in
        crossEntropy(
          logits: w.logits, spans: config.spans, targets: codes.baseAddress!, gradient: g?.logits)
      }
    let kl = gaussianKL(
      mean: w.mean, logVariance: w.logVariance, dMean: g?.mean, dLogVariance: g?.logVariance,
      scale: beta)
    return VAELoss(reconstruction: mse, crossEntropy: ce, kl: kl, total: mse + ce + beta * kl)
  }

  /// From z = μ + σ ε: dμ += dz and d(log σ²) += dz · ε · ½σ. [CLS] gets only the KL's part.
  private func reparameterizeBackward(_ w: VAEWorkspace, _ g: VAEWorkspace.Gradients) {
    let n = config.tokens, d = config.width
    let run = (n - 1) * d
    for b in 0..<w.rows {
      let source = (b * n + 1) * d, target = b * run
      let dz = g.latent.base + target
      let dmu = g.mean.base + source, dlv = g.logVariance.base + source
      let s = w.sigma.base + source, e = w.noise.base + source
      for k in 0..<run {
        dmu[k] += dz[k]
        dlv[k] += dz[k] * e[k] * 0.5 * s[k]
      }
    }
  }

  /// x̂[b, i] = Σ_k h[b, i, k] · R[i, k] (decoder token i is numerical column i).
  private func reconstructNumbers(_ w: VAEWorkspace) {
    let t = config.decoderTokens, d = config.width, nn = config.numerical
    let r = parameters.reconstruction.value.base, h = w.decoded.base, y = w.prediction.base
    for b in 0..<w.rows {
      for i in 0..<nn {
        let token = h + (b * t + i) * d, weights = r + i * d
        var total: Float = 0
        for k in 0..<d { total += token[k] * weights[k] }
        y[b * nn + i] = total
      }
    }
  }

  /// From x̂[b, i] = ⟨h[b, i], R[i]⟩: dR[i] += dx̂[b, i] · h[b, i], dh[b, i] += dx̂[b, i] · R[i].
  private func reconstructNumbersBackward(_ w: VAEWorkspace, _ g: VAEWorkspace.Gradients) {
    let t = config.decoderTokens, d = config.width, nn = config.numerical
    let r = parameters.reconstruction.value.base, dr = parameters.reconstruction.grad.base
    let h = w.decoded.base, dh = g.decoded.base, dy = g.prediction.base
    for b in 0..<w.rows {
      for i in 0..<nn {
        let gradient = dy[b * nn + i]
        let token = (b * t + i) * d
        for k in 0..<d {
          dr[i * d + k] += gradient * h[token + k]
          dh[token + k] += gradient * r[i * d + k]
        }
      }
    }
  }
}

// Gathers and scatters a Matrix view cannot express (it has no row stride).

/// `y[b] = x[b·tokens + token]`: token `token` of every batch row, (B, D).
func copyToken(_ token: Int, of x: Matrix, tokens: Int, into y: Matrix) {
  precondition(x.rows == y.rows * tokens && x.cols == y.cols && token < tokens)
  let d = y.cols
  for b in 0..<y.rows { (y.base + b * d).update(from: x.base + (b * tokens + token) * d, count: d) }
}

/// `x[b·tokens + token] += dy[b]`: the adjoint of `copyToken`.
func addToken(_ dy: Matrix, into token: Int, of x: Matrix, tokens: Int) {
  precondition(x.rows == dy.rows * tokens && x.cols == dy.cols && token < tokens)
  let d = dy.cols
  for b in 0..<dy.rows {
    let source = dy.base + b * d, target = x.base + (b * tokens + token) * d
    for k in 0..<d { target[k] += source[k] }
  }
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
