// CTGAN's generator with InfoGAN codes and its Q network (ctgan-infogan.md §1.3-1.4, §2.5):
// hyperparameters, parameters, the generator's forward (training or evaluation BatchNorm) and
// backward, the output heads, and the model file.
//
// Shape legend: B rows, Z noise width, C condition width, K categorical-code values, L
// continuous codes, I = Z + C + K + L generator input, W data width, Q the Q network's width.
//
// Generator: h0 = [z ; cond ; onehot(c_cat) ; c_cont] (B, I);
//   block i: h_i = [ReLU(BatchNorm(Linear(h_{i-1}))) ; h_{i-1}] (concatenating, not additive);
//   raw = Linear(h_last) (B, W); x̃ = tanh on value columns, Gumbel-softmax(τ) on each span.
// Q: x̃ (B, W) -> Linear -> LeakyReLU(0.2) -> Linear -> LeakyReLU(0.2) -> Linear -> (B, K + L):
//   K logits for the categorical code, L means for the continuous codes (fixed σ = 1).

import TabCore
import TabStream

#if canImport(Glibc)
  import Glibc
#endif

/// tab-gan's hyperparameters, stored in the model file.
public struct GANConfig: Codable, Equatable, Sendable {
  /// Z.
  public var noiseWidth = 128
  /// Widths of the generator's residual blocks.
  public var generatorWidths = [256, 256]
  /// Widths of the critic's two hidden layers.
  public var criticWidths = [256, 256]
  /// Width of the Q network's two hidden layers.
  public var qWidth = 256
  /// PacGAN group size.
  public var pac = 10
  /// Rows per training step.
  public var batch = 500
  /// K: values of the categorical code (0: none).
  public var categoricalCode = 10
  /// L: continuous codes, each U(−1, 1).
  public var continuousCodes = 2
  /// Weight of the categorical code's cross-entropy in the generator-and-Q loss.
  public var lambdaCategorical: Float = 1
  /// Weight of the continuous codes' Gaussian NLL.
  public var lambdaContinuous: Float = 1
  /// Gumbel-softmax temperature.
  public var temperature: Float = 0.2
  public var learningRate: Float = 2e-4
  public var weightDecay: Float = 1e-6
  /// WGAN-GP's λ.
  public var penalty: Float = 10
  /// The critic's dropout probability.
  public var dropout: Float = 0.5

  public init() {}

  /// K + L.
  public var codeWidth: Int { categoricalCode + continuousCodes }
  /// Number of codes users can set (c0 the categorical one if K > 0, then the continuous ones).
  public var codeCount: Int { (categoricalCode > 0 ? 1 : 0) + continuousCodes }

  /// What is wrong with a configuration read from a file (nil: nothing), within the ranges
  /// tab-gan train accepts, so that a hand-edited model fails to load instead of trapping.
  public var problem: String? {
    let sizes = generatorWidths + criticWidths + [qWidth, noiseWidth]
    if generatorWidths.isEmpty || criticWidths.count != 2 || sizes.contains(where: { !(1...16384).contains($0) }) {
      return "layer widths"
    }
    if !(1...(1 << 20)).contains(batch) || pac < 1 || batch % pac != 0 { return "batch \(batch), pac \(pac)" }
    if categoricalCode == 1 || !(0...1000).contains(categoricalCode) || !(0...100).contains(continuousCodes) {
      return "codes cat:\(categoricalCode), cont:\(continuousCodes)"
    }
    if !(temperature.isFinite && temperature > 0) { return "temperature \(temperature)" }
    return nil
  }
}

/// What a model file's configuration holds besides the tensors.
public struct GANModelInfo: Codable, Equatable, Sendable {
  public var config: GANConfig
  /// The training stream's token layout (sampled streams have it too).
  public var layout: RowLayout
  /// The training stream's table encoder, copied into sampled streams.
  public var encoder: JSONValue?
  /// Per conditionable span, the training rows' category counts (unconditional sampling draws
  /// conditions from these, not from the log-frequencies used in training).
  public var counts: [[Int]]
  /// Rows and epochs trained.
  public var rows: Int
  public var epochs: Int

  public init(
    config: GANConfig, layout: RowLayout, encoder: JSONValue?, counts: [[Int]], rows: Int,
    epochs: Int
  ) {
    self.config = config
    self.layout = layout
    self.encoder = encoder
    self.counts = counts
    self.rows = rows
    self.epochs = epochs
  }
}

/// One residual block: Linear, BatchNorm, ReLU, and the concatenation with its input.
struct ResidualBlock {
  let linear: Linear
  let norm: BatchNorm
}

/// The generator's (and Q's) activations for `rows` rows; each pass owns its buffers.
public final class GeneratorPass {
  public let rows: Int
  let workspace = Workspace()
  /// h0 = [z ; cond ; codes] (B, I): the caller fills it before `forward`.
  public let input: Matrix
  /// Per block: Linear output, BatchNorm output (B, width; written by evaluation passes only,
  /// training writes ReLU(BatchNorm) straight into `stack`), saved statistics.
  let linear: [Matrix], normed: [Matrix]
  let saved: [BatchNorm.Saved]
  /// h_n = [a_n ; … ; a_1 ; h0] (B, S + I), S = Σ widths: every block's output h_i is a suffix of
  /// its columns (S − S_i ..< S + I, leading dimension S + I), so the ReLU outputs are written in
  /// place and nothing is concatenated by copying.
  let stack: Matrix
  /// raw (B, W): the output layer's pre-activations; noise (B, W) Gumbel draws; x̃ (B, W).
  public let raw: Matrix, noise: Matrix, output: Matrix
  // Backward (training passes only).
  let dOutput: Matrix, dRaw: Matrix
  /// ∂/∂[a_n ; … ; a_1] (B, S = Σ widths): the gradient of the activation columns of h_n, laid
  /// out as h_n's first S columns (h0's columns get no gradient, so none is computed).
  let dActivations: Matrix
  /// ∂/∂(Linear output) of the block being differentiated (B, widest).
  let dLinear: Matrix
  /// Set by the trainer: the condition block of `input` is one-hot, row r's one at column
  /// `conditionColumns[r]` of the block; the products then skip the block (SparseCondition.swift).
  public var sparseCondition = false
  let conditionColumns: UnsafeMutablePointer<Int32>
  /// Per block and the output layer: the condition block's weight columns, transposed (C, H).
  let conditionWeights: [Matrix]
  /// Whether `conditionWeights` hold the current weights: a sparse forward refreshes them if not
  /// and sets this; whoever changes the generator's weights clears it (the trainer after each
  /// update, so the critic step's forward and the generator step's share one refresh).
  var conditionWeightsCurrent = false
  /// Scratch (C, widest layer) for the block's weight gradient.
  let conditionGradient: Matrix
  // Q network.
  let qa1: Matrix, qh1: Matrix, qa2: Matrix, qh2: Matrix
  /// Q's output (B, K + L).
  public let qOutput: Matrix
  let dQOutput: Matrix, dqh: Matrix, dqa: Matrix

  deinit { conditionColumns.deallocate() }

  /// Row r's condition is the one-hot at column `column` of the condition block.
  public func setConditionColumn(_ column: Int, row r: Int) {
    conditionColumns[r] = Int32(column)
  }

  /// `output`, if given, is where x̃ goes (B, W; the trainer passes the fake rows of the critic's
  /// input, so that the critic reads the generator's output where it was written).
  init(rows: Int, model: GANModel, training: Bool, output: Matrix? = nil) {
    self.rows = rows
    let ws = workspace
    let config = model.config
    let w = model.layout.dataWidth
    input = ws.matrix(rows: rows, cols: model.inputWidth)
    var width = model.inputWidth
    var linear: [Matrix] = []
    var normed: [Matrix] = []
    var saved: [BatchNorm.Saved] = []
    let widest = config.generatorWidths.max() ?? 1
    for h in config.generatorWidths {
      linear.append(ws.matrix(rows: rows, cols: h))
      normed.append(ws.matrix(rows: rows, cols: h))
      saved.append(BatchNorm.Saved(width: h, in: ws))
      width += h
    }
    self.linear = linear
    self.normed = normed
    self.saved = saved
    stack = ws.matrix(rows: rows, cols: width)
    raw = ws.matrix(rows: rows, cols: w)
    noise = ws.matrix(rows: rows, cols: w)
    if let output {
      precondition(output.rows == rows && output.cols == w, "GeneratorPass: output shape")
      self.output = output
    } else {
      self.output = ws.matrix(rows: rows, cols: w)
    }
    let t = training ? rows : 0
    dOutput = ws.matrix(rows: t, cols: w)
    dRaw = ws.matrix(rows: t, cols: w)
    dActivations = ws.matrix(rows: t, cols: config.generatorWidths.reduce(0, +))
    let c = model.layout.conditionWidth
    conditionColumns = .allocate(capacity: max(rows, 1))
    conditionColumns.initialize(repeating: 0, count: max(rows, 1))
    // Rows for the condition block and the codes after it (SparseCondition.swift).
    let tail = c + config.codeWidth
    conditionWeights = (config.generatorWidths + [w]).map { ws.matrix(rows: tail, cols: $0) }
    conditionGradient = ws.matrix(rows: training ? tail : 0, cols: max(widest, w))
    dLinear = ws.matrix(rows: t, cols: widest)
    let q = model.hasQ ? config.qWidth : 0
    let qr = model.hasQ ? rows : 0
    qa1 = ws.matrix(rows: qr, cols: q)
    qh1 = ws.matrix(rows: qr, cols: q)
    qa2 = ws.matrix(rows: qr, cols: q)
    qh2 = ws.matrix(rows: qr, cols: q)
    qOutput = ws.matrix(rows: qr, cols: config.codeWidth)
    dQOutput = ws.matrix(rows: model.hasQ ? t : 0, cols: config.codeWidth)
    dqh = ws.matrix(rows: model.hasQ ? t : 0, cols: q)
    dqa = ws.matrix(rows: model.hasQ ? t : 0, cols: q)
  }
}

/// The generator and Q network: parameters in one arena (one Adam trains both, §2.5), the
/// BatchNorm running statistics in a buffer arena.
public final class GANModel {
  public let config: GANConfig
  public let layout: GANLayout
  public var info: GANModelInfo
  /// Generator and Q parameters.
  public let arena: ParameterArena
  /// BatchNorm running statistics.
  public let buffers: ParameterArena
  let blocks: [ResidualBlock]
  let outputLayer: Linear
  let q1: Linear?, q2: Linear?, q3: Linear?
  /// I.
  public let inputWidth: Int
  /// Value columns of the data vector get tanh.
  let gumbel: GumbelSoftmax
  let slope: Float = 0.2

  public var hasQ: Bool { config.codeWidth > 0 }

  /// A model with fresh parameters (PyTorch's initialisation) for `layout`.
  public convenience init(
    config: GANConfig, layout: GANLayout, info: GANModelInfo,
    using random: inout SeededGenerator
  ) {
    self.init(config: config, layout: layout, info: info)
    for block in blocks {
      block.linear.initialize(using: &random)
      block.norm.initialize()
    }
    outputLayer.initialize(using: &random)
    q1?.initialize(using: &random)
    q2?.initialize(using: &random)
    q3?.initialize(using: &random)
  }

  /// The model's structure, parameters zero (for loading).
  public init(config: GANConfig, layout: GANLayout, info: GANModelInfo) {
    self.config = config
    self.layout = layout
    self.info = info
    let input = config.noiseWidth + layout.conditionWidth + config.codeWidth
    inputWidth = input
    var shapes: [ParameterShape] = []
    var bufferShapes: [ParameterShape] = []
    var width = input
    for (i, h) in config.generatorWidths.enumerated() {
      shapes += Linear.parameterShapes("residual\(i).linear", inputs: width, outputs: h)
      shapes += BatchNorm.parameterShapes("residual\(i).norm", width: h)
      bufferShapes += BatchNorm.bufferShapes("residual\(i).norm", width: h)
      width += h
    }
    shapes += Linear.parameterShapes("output", inputs: width, outputs: layout.dataWidth)
    if config.codeWidth > 0 {
      shapes += Linear.parameterShapes(
        "q.linear1", inputs: layout.dataWidth, outputs: config.qWidth)
      shapes += Linear.parameterShapes("q.linear2", inputs: config.qWidth, outputs: config.qWidth)
      shapes += Linear.parameterShapes(
        "q.linear3", inputs: config.qWidth, outputs: config.codeWidth)
    }
    let arena = ParameterArena(shapes)
    let buffers = ParameterArena(bufferShapes)
    self.arena = arena
    self.buffers = buffers
    blocks = config.generatorWidths.indices.map {
      ResidualBlock(
        linear: Linear("residual\($0).linear", in: arena),
        norm: BatchNorm("residual\($0).norm", in: arena, buffers: buffers))
    }
    outputLayer = Linear("output", in: arena)
    if config.codeWidth > 0 {
      q1 = Linear("q.linear1", in: arena)
      q2 = Linear("q.linear2", in: arena)
      q3 = Linear("q.linear3", in: arena)
    } else {
      q1 = nil
      q2 = nil
      q3 = nil
    }
    gumbel = GumbelSoftmax(spans: layout.softmaxRanges, temperature: config.temperature)
  }

  /// Buffers for a pass over `rows` rows (`training`: with the backward buffers).
  public func makePass(rows: Int, training: Bool, output: Matrix? = nil) -> GeneratorPass {
    GeneratorPass(rows: rows, model: self, training: training, output: output)
  }

  /// Generator forward from `pass.input` to `pass.raw`. `training`: batch statistics (and the
  /// running statistics move); else the running statistics (evaluation mode, any batch size).
  public func forward(_ pass: GeneratorPass, training: Bool) {
    let sparse = pass.sparseCondition && layout.conditionWidth > 0
    let z = config.noiseWidth
    let rows = pass.rows
    let ld = pass.stack.cols  // S + I
    let st = pass.stack.base
    var offset = ld - inputWidth  // S: h0's first column in the stack
    let refresh = !pass.conditionWeightsCurrent
    if sparse { pass.conditionWeightsCurrent = true }
    for r in 0..<rows {
      (st + r * ld + offset).update(from: pass.input.row(r), count: inputWidth)
    }
    for (i, block) in blocks.enumerated() {
      let before = ld - inputWidth - offset  // S_{i−1}
      if sparse {
        conditionedForward(
          block.linear, st + offset, lda: ld, rows: rows, into: pass.linear[i],
          start: before + z, conditionWidth: layout.conditionWidth,
          transposed: pass.conditionWeights[i], refresh: refresh, columns: pass.conditionColumns)
      } else {
        denseForward(block.linear, st + offset, lda: ld, rows: rows, into: pass.linear[i])
      }
      // h_i = [ReLU(BN(W h_{i−1})) ; h_{i−1}]: the ReLU output lands just before h_{i−1}.
      let h = block.linear.outputs
      offset -= h
      if training {
        // Fused, and BN's output is not stored: backward's ReLU mask reads the stack.
        batchNormReLUForward(
          pass.linear[i], into: st + offset, ldOut: ld, norm: block.norm, saving: pass.saved[i])
      } else {
        block.norm.evaluate(pass.linear[i], into: pass.normed[i])
        let normed = pass.normed[i]
        for r in 0..<rows { reluForward(normed.row(r), into: st + r * ld + offset, count: h) }
      }
    }
    let before = ld - inputWidth
    if sparse {
      conditionedForward(
        outputLayer, st, lda: ld, rows: rows, into: pass.raw, start: before + z,
        conditionWidth: layout.conditionWidth, transposed: pass.conditionWeights[blocks.count],
        refresh: refresh, columns: pass.conditionColumns)
    } else {
      denseForward(outputLayer, st, lda: ld, rows: rows, into: pass.raw)
    }
  }

  /// x̃ = heads(raw): tanh on the value columns, Gumbel-softmax on the spans with the Gumbel
  /// draws already in `pass.noise`.
  public func activate(_ pass: GeneratorPass) {
    let f = layout.floatCount
    // Rows are independent: both cores take blocks of them (the same numbers either way).
    forRowBlocks(pass) { rows in
      gumbel.forward(pass.raw.rows(rows), noise: pass.noise.rows(rows), into: pass.output.rows(rows))
      if f > 0 {
        for r in rows { tanhForward(pass.raw.row(r), into: pass.output.row(r), count: f) }
      }
    }
  }

  /// `body` over blocks of the pass's rows, on both cores when the pass is large enough.
  private func forRowBlocks(_ pass: GeneratorPass, _ body: (Range<Int>) -> Void) {
    let parallel = pass.rows * pass.raw.cols >= ParallelFor.inlineCount
    ParallelFor.run(count: pass.rows, minimumCount: parallel ? 0 : .max, granularity: 8, body)
  }

  /// Fresh Gumbel draws into `pass.noise`.
  public func drawNoise(_ pass: GeneratorPass, using random: inout SeededGenerator) {
    // Every column gets a draw (the value columns' are unused): one contiguous fill.
    fillGumbel(pass.noise.base, count: pass.noise.count, using: &random)
  }

  /// Backward of `activate`: accumulates into `pass.dRaw` from `pass.dOutput`.
  func activateBackward(_ pass: GeneratorPass) {
    let f = layout.floatCount
    forRowBlocks(pass) { rows in
      gumbel.backward(pass.dOutput.rows(rows), output: pass.output.rows(rows), dx: pass.dRaw.rows(rows))
      for r in rows {
        let dy = pass.dOutput.row(r)
        let y = pass.output.row(r)
        let dx = pass.dRaw.row(r)
        for j in 0..<f { dx[j] += dy[j] * (1 - y[j] * y[j]) }  // tanh' = 1 − y²
      }
    }
  }

  /// Backward of the training `forward` from `pass.dRaw` into the generator's gradients (the
  /// input h0 gets none).
  ///
  /// h_n = [a_n ; … ; a_1 ; h0], a_i = ReLU(BN(Linear_i(h_{i−1}))) at columns S − S_i ..< S − S_i
  /// + H_i of h_n (S_i = H_1 + … + H_i, S = S_n). Only the activation columns carry gradient on,
  /// so each input gradient is the product over the first S_{i−1} columns of the weights
  /// (leading dimension the full input width), accumulated in place into `dActivations`: no
  /// copies, and no work on h0's columns.
  func backward(_ pass: GeneratorPass) {
    let rows = pass.rows
    let total = pass.dActivations.cols  // S
    let d = pass.dActivations.base
    let n = blocks.count
    // dA = dRaw · W_out[:, 0..<S]  (W_out is (W, S + I)).
    let wOut = outputLayer.weight.value
    gemmStrided(
      m: rows, n: total, k: wOut.rows, pass.dRaw.base, lda: pass.dRaw.cols, wOut.base,
      ldb: wOut.cols, into: d, ldc: total)
    let sparse = pass.sparseCondition && layout.conditionWidth > 0
    let z = config.noiseWidth
    let c = layout.conditionWidth
    let ld = pass.stack.cols
    let st = pass.stack.base
    if sparse {
      conditionedWeightBackward(
        outputLayer, pass.dRaw, input: st, lda: ld, start: total + z, conditionWidth: c,
        scratch: pass.conditionGradient, columns: pass.conditionColumns)
    } else {
      denseWeightBackward(outputLayer, pass.dRaw, input: st, lda: ld)
    }
    var before = total  // S_i
    for i in stride(from: n - 1, through: 0, by: -1) {
      let block = blocks[i]
      let width = block.linear.outputs
      before -= width  // now S_{i−1}
      let offset = total - before - width  // a_i's first column in h_n
      // ReLU and BatchNorm backward in one kernel: ∂/∂normed = dA_i where a_i > 0 (a_i in the
      // stack, at the same columns of h_n as its gradient in dActivations), else 0.
      let dLinear = Matrix(pass.dLinear.base, rows: rows, cols: width)
      batchNormReLUBackward(
        d + offset, ldGradient: total, activation: st + offset, ldActivation: ld,
        input: pass.linear[i], norm: block.norm, saved: pass.saved[i], dx: dLinear)
      let x = st + (total - before)  // h_{i−1}: the stack's columns S − S_{i−1} ..< S + I
      if sparse {
        conditionedWeightBackward(
          block.linear, dLinear, input: x, lda: ld, start: before + z, conditionWidth: c,
          scratch: pass.conditionGradient, columns: pass.conditionColumns)
      } else {
        denseWeightBackward(block.linear, dLinear, input: x, lda: ld)
      }
      if before > 0 {
        // d[a_{i−1} ; … ; a_1] += dLinear_i · W_i[:, 0..<S_{i−1}]  (W_i is (H_i, S_{i−1} + I)).
        let w = block.linear.weight.value
        gemmStrided(
          m: rows, n: before, k: width, dLinear.base, lda: width, w.base, ldb: w.cols,
          into: d + offset + width, ldc: total, beta: 1)
      }
    }
  }

  /// Q forward on `pass.output` into `pass.qOutput`.
  public func qForward(_ pass: GeneratorPass) {
    guard let q1, let q2, let q3 else { return }
    q1.forward(pass.output, into: pass.qa1)
    leakyReLUForward(pass.qa1.base, into: pass.qh1.base, count: pass.qa1.count, slope: slope)
    q2.forward(pass.qh1, into: pass.qa2)
    leakyReLUForward(pass.qa2.base, into: pass.qh2.base, count: pass.qa2.count, slope: slope)
    q3.forward(pass.qh2, into: pass.qOutput)
  }

  /// The information loss λ_cat·CE(Q_cat(x̃), c_cat) + λ_cont·mean_b Σ_l ½(c_l − μ_l)² for the
  /// codes in `pass.input` (targets: `categories`, B entries); accumulates its gradient into Q's
  /// parameters and into `pass.dOutput`. Returns (loss, categorical cross-entropy, accuracy).
  func informationLoss(_ pass: GeneratorPass, categories: UnsafePointer<Int32>) -> (
    loss: Float, crossEntropy: Float, accuracy: Float
  ) {
    guard let q1, let q2, let q3 else { return (0, 0, 0) }
    let k = config.categoricalCode
    let rows = pass.rows
    pass.dQOutput.zero()
    var crossEntropyLoss: Float = 0
    var correct = 0
    if k > 0 {
      crossEntropyLoss = crossEntropy(
        logits: pass.qOutput, spans: [0..<k], targets: categories, gradient: pass.dQOutput,
        scale: config.lambdaCategorical)
      for r in 0..<rows where GANLayout.argmax(pass.qOutput.row(r), count: k) == Int(categories[r])
      {
        correct += 1
      }
    }
    var nll: Float = 0
    let l = config.continuousCodes
    if l > 0 {
      let codeStart = config.noiseWidth + layout.conditionWidth + k
      let seed = config.lambdaContinuous / Float(rows)  // ∂(λ · mean_b)/∂term
      for r in 0..<rows {
        let c = pass.input.row(r) + codeStart
        let mu = pass.qOutput.row(r) + k
        let d = pass.dQOutput.row(r) + k
        for j in 0..<l {
          let e = mu[j] - c[j]
          nll += 0.5 * e * e
          d[j] += seed * e
        }
      }
      nll /= Float(rows)
    }
    // Backward through Q into its weights and into x̃.
    pass.dqh.zero()
    q3.backward(pass.dQOutput, input: pass.qh2, dx: pass.dqh)
    pass.dqa.zero()
    leakyReLUBackward(
      pass.dqh.base, input: pass.qa2.base, dx: pass.dqa.base, count: pass.dqa.count, slope: slope)
    pass.dqh.zero()
    q2.backward(pass.dqa, input: pass.qh1, dx: pass.dqh)
    pass.dqa.zero()
    leakyReLUBackward(
      pass.dqh.base, input: pass.qa1.base, dx: pass.dqa.base, count: pass.dqa.count, slope: slope)
    q1.backward(pass.dqa, input: pass.output, dx: pass.dOutput)
    let loss = config.lambdaCategorical * crossEntropyLoss + config.lambdaContinuous * nll
    return (loss, crossEntropyLoss, k > 0 ? Float(correct) / Float(rows) : 0)
  }

  // MARK: - Model file

  /// Writes the model (generator, Q, running statistics, configuration) as a model file.
  public func write(to sink: ByteSink, provenance: [ProvenanceStep]) throws {
    try Checkpoint.write(
      parameters: arena, buffers: buffers, configuration: JSONValue(encoding: info),
      provenance: provenance, to: sink)
  }

  /// Reads a model file written by `write`.
  /// - Throws: `GANError.notGANModel`, `CheckpointError`, `StreamError`, `IOError`.
  public static func load(from source: ByteSource) throws -> GANModel {
    let reader = try Checkpoint.Reader(source: source)
    let info: GANModelInfo
    do {
      info = try reader.checkpoint.configuration.decode(as: GANModelInfo.self)
    } catch {
      throw GANError.notGANModel(path: reader.path, detail: "no tab-gan configuration in it")
    }
    if let problem = info.config.problem {
      throw GANError.notGANModel(path: reader.path, detail: "its configuration is inconsistent: \(problem)")
    }
    let layout = try GANLayout(info.layout, path: reader.path)
    let model = GANModel(config: info.config, layout: layout, info: info)
    try reader.load(into: model.arena, buffers: model.buffers)
    return model
  }
}
