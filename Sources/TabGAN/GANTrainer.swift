// Training CTGAN with InfoGAN codes (ctgan-infogan.md §1.6, §2.5): per step one critic update
// (WGAN-GP on PacGAN groups) and one update of the generator and Q together
// (−mean D + conditional cross-entropy + λ·information loss).
//
// Shapes: B rows per step, R = B / pac packed rows, W data width, C condition width,
// P = pac · (W + C) the critic's input width, H1/H2 the critic's hidden widths.

import TabCore
import TabStream

/// Mean losses over the steps of an epoch.
public struct GANEpochStatistics: Sendable {
  /// L_D = mean D(fake) − mean D(real) + GP.
  public var critic: Float = 0
  /// −mean D(fake) + L_cond (without the information term).
  public var generator: Float = 0
  /// The conditional cross-entropy alone.
  public var conditional: Float = 0
  /// The categorical code's cross-entropy under Q (log K when Q learns nothing).
  public var codeCrossEntropy: Float = 0
  /// Share of generated rows whose categorical code Q recovers.
  public var codeAccuracy: Float = 0
  public var steps = 0
}

/// Owns the critic, the optimisers, the training buffers and the random stream.
public final class GANTrainer {
  public let model: GANModel
  public let sampler: DataSampler
  public let config: GANConfig
  let criticArena: ParameterArena
  let critic: CriticNetwork
  let penalty: GradientPenalty
  var generatorAdam: Adam
  var criticAdam: Adam
  /// The one random stream of a run: every draw comes from it, so a seed fixes the run.
  public var random: SeededGenerator
  let pass: GeneratorPass
  let workspace = Workspace()
  let condition: Matrix  // (B, C)
  let conditionSpan: UnsafeMutablePointer<Int32>  // B: the conditioned span of each row
  let conditionCategory: UnsafeMutablePointer<Int32>  // B: its category
  let codeCategory: UnsafeMutablePointer<Int32>  // B: the categorical code
  /// The critic step's three inputs, one after the other so that one forward pass over 3R rows
  /// (one product per layer) serves them all: packed fake rows, packed real rows, x̂ (3R, P).
  let criticInput: Matrix
  let fake: Matrix  // (B, W + C), rows 0..<R of criticInput packed
  let real: Matrix  // (B, W + C), rows R..<2R packed
  let xHat: Matrix  // (R, P), rows 2R..<3R
  /// Activations of the 3R rows; `savedFake`, `savedReal`, `savedHat`, `savedPair` (fake and
  /// real) are row views of it.
  let savedAll: CriticNetwork.Saved
  let savedFake: CriticNetwork.Saved, savedReal: CriticNetwork.Saved, savedHat: CriticNetwork.Saved
  let savedPair: CriticNetwork.Saved
  let yAll: Matrix  // (3R, 1)
  let yFake: Matrix, yReal: Matrix  // (R, 1) views
  let dY: Matrix  // (2R, 1)
  let alpha: Matrix  // (R, 1)
  let penaltyBuffers: GradientPenalty.Buffers
  let dH2: Matrix, dA2: Matrix, dH1: Matrix, dA1: Matrix  // 2R rows
  /// [range of the conditioned span in the data vector], per conditionable span.
  let conditionRanges: [[Range<Int>]]

  /// A trainer for `model` over `sampler`'s rows, its random stream seeded from `random`.
  /// - Precondition: config.batch is a positive multiple of config.pac.
  public init(model: GANModel, sampler: DataSampler, using random: inout SeededGenerator) {
    self.model = model
    self.sampler = sampler
    let config = model.config
    self.config = config
    precondition(
      config.batch > 0 && config.batch % config.pac == 0, "batch must be a multiple of pac")
    let b = config.batch
    let r = b / config.pac
    let w = model.layout.dataWidth
    let c = model.layout.conditionWidth
    let p = config.pac * (w + c)
    criticArena = ParameterArena(
      CriticNetwork.parameterShapes(
        "critic", inputs: p, hidden1: config.criticWidths[0], hidden2: config.criticWidths[1]))
    critic = CriticNetwork("critic", in: criticArena)
    critic.initialize(using: &random)
    penalty = GradientPenalty(critic: critic, lambda: config.penalty)
    generatorAdam = Adam(
      learningRate: config.learningRate, beta1: 0.5, beta2: 0.9,
      weightDecay: .l2(config.weightDecay))
    criticAdam = generatorAdam
    self.random = SeededGenerator(seed: random.next())
    pass = model.makePass(rows: b, training: true)
    let ws = workspace
    condition = ws.matrix(rows: b, cols: c)
    conditionSpan = .allocate(capacity: b)
    conditionSpan.initialize(repeating: 0, count: b)
    conditionCategory = .allocate(capacity: b)
    conditionCategory.initialize(repeating: 0, count: b)
    codeCategory = .allocate(capacity: b)
    codeCategory.initialize(repeating: 0, count: b)
    criticInput = ws.matrix(rows: 3 * r, cols: p)
    fake = Matrix(criticInput.base, rows: b, cols: w + c)
    real = Matrix(criticInput.base + r * p, rows: b, cols: w + c)
    xHat = criticInput.rows(2 * r..<3 * r)
    let dropout = config.dropout > 0
    savedAll = CriticNetwork.Saved(rows: 3 * r, critic: critic, dropout: dropout, in: ws)
    savedFake = Self.rows(0..<r, of: savedAll)
    savedReal = Self.rows(r..<2 * r, of: savedAll)
    savedHat = Self.rows(2 * r..<3 * r, of: savedAll)
    savedPair = Self.rows(0..<2 * r, of: savedAll)
    yAll = ws.matrix(rows: 3 * r, cols: 1)
    yFake = yAll.rows(0..<r)
    yReal = yAll.rows(r..<2 * r)
    dY = ws.matrix(rows: 2 * r, cols: 1)
    alpha = ws.matrix(rows: r, cols: 1)
    penaltyBuffers = GradientPenalty.Buffers(rows: r, critic: critic, in: ws)
    dH2 = ws.matrix(rows: 2 * r, cols: config.criticWidths[1])
    dA2 = ws.matrix(rows: 2 * r, cols: config.criticWidths[1])
    dH1 = ws.matrix(rows: 2 * r, cols: config.criticWidths[0])
    dA1 = ws.matrix(rows: 2 * r, cols: config.criticWidths[0])
    conditionRanges = model.layout.conditionSpans.map { [model.layout.spans[$0].range] }
  }

  /// Rows `range` of `saved` (views, masks included).
  static func rows(_ range: Range<Int>, of saved: CriticNetwork.Saved) -> CriticNetwork.Saved {
    CriticNetwork.Saved(
      a1: saved.a1.rows(range), h1: saved.h1.rows(range), a2: saved.a2.rows(range),
      h2: saved.h2.rows(range), mask1: saved.mask1?.rows(range), mask2: saved.mask2?.rows(range))
  }

  deinit {
    conditionSpan.deallocate()
    conditionCategory.deallocate()
    codeCategory.deallocate()
  }

  /// Training steps per epoch: max(N / B, 1), as CTGAN.
  public var stepsPerEpoch: Int { max(sampler.rows / config.batch, 1) }

  /// One critic update then one generator-and-Q update; adds the losses to `statistics`.
  public func step(_ statistics: inout GANEpochStatistics) {
    statistics.critic += criticLoss()
    criticAdam.update(criticArena)
    let g = generatorLoss()
    generatorAdam.update(model.arena)
    statistics.generator += g.generator
    statistics.conditional += g.conditional
    statistics.codeCrossEntropy += g.crossEntropy
    statistics.codeAccuracy += g.accuracy
    statistics.steps += 1
  }

  /// Runs one epoch; `shouldStop` is asked after every step (interrupt, time budget).
  /// Returns the mean losses and whether it was cut short.
  public func epoch(shouldStop: () -> Bool = { false }) -> (GANEpochStatistics, stopped: Bool) {
    var statistics = GANEpochStatistics()
    var stopped = false
    for _ in 0..<stepsPerEpoch {
      step(&statistics)
      if shouldStop() {
        stopped = true
        break
      }
    }
    let n = Float(max(statistics.steps, 1))
    statistics.critic /= n
    statistics.generator /= n
    statistics.conditional /= n
    statistics.codeCrossEntropy /= n
    statistics.codeAccuracy /= n
    return (statistics, stopped)
  }

  // MARK: - Steps

  /// Draws conditions and codes into the generator input (with fresh z) and Gumbel noise.
  func drawInputs() {
    let z = config.noiseWidth
    let c = model.layout.conditionWidth
    sampler.drawConditions(
      into: condition, span: conditionSpan, category: conditionCategory, using: &random)
    let input = pass.input
    // The condition is one-hot on every row: the generator's products skip its block.
    pass.sparseCondition = c > 0
    if c > 0 {
      for r in 0..<pass.rows {
        let span = model.layout.spans[model.layout.conditionSpans[Int(conditionSpan[r])]]
        pass.setConditionColumn(span.conditionOffset + Int(conditionCategory[r]), row: r)
      }
    }
    for r in 0..<pass.rows {
      let row = input.row(r)
      fillNormal(row, count: z, using: &random)
      if c > 0 { (row + z).update(from: condition.row(r), count: c) }
      drawCodes(row + z + c, category: codeCategory + r, using: &random)
    }
    model.drawNoise(pass, using: &random)
  }

  /// Writes one row's codes at `codes` (K one-hot, then L uniforms on [−1, 1)).
  func drawCodes(
    _ codes: UnsafeMutablePointer<Float>, category: UnsafeMutablePointer<Int32>,
    using random: inout SeededGenerator
  ) {
    let k = config.categoricalCode
    if k > 0 {
      let value = random.uniformInt(below: k)
      for j in 0..<k { codes[j] = 0 }
      codes[value] = 1
      category.pointee = Int32(value)
    }
    for j in 0..<config.continuousCodes { codes[k + j] = 2 * random.uniformFloat() - 1 }
  }

  /// Inverted-dropout factors (0 or 1/(1−p)) for one critic pass.
  func drawMasks(_ saved: CriticNetwork.Saved) {
    let p = config.dropout
    guard p > 0 else { return }
    let keep = 1 / (1 - p)
    for mask in [saved.mask1!, saved.mask2!] {
      for k in 0..<mask.count { mask.base[k] = random.uniformFloat() < p ? 0 : keep }
    }
  }

  /// fake = [x̃ ; cond] from the pass's output.
  func packFake() {
    model.concatenate(pass.output, condition, into: fake)
  }

  /// The critic update's loss and gradients (critic gradients zeroed first): a generator
  /// forward (its output is a constant here), L_D = mean D(fake) − mean D(real) + GP.
  func criticLoss() -> Float {
    let r = config.batch / config.pac
    let p = critic.linear1.inputs
    drawInputs()
    model.forward(pass, training: true)
    model.activate(pass)
    packFake()
    sampler.drawRealRows(
      into: real, condition: condition, span: conditionSpan, category: conditionCategory,
      using: &random)
    let fakePacked = fake.reshaped(rows: r, cols: p)
    let realPacked = real.reshaped(rows: r, cols: p)
    // Random draws in a fixed order (fake masks, real masks, ε, x̂ masks), then one critic
    // forward over the 3R rows [fake ; real ; x̂].
    drawMasks(savedFake)
    drawMasks(savedReal)
    for k in 0..<r { alpha.base[k] = random.uniformFloat() }  // one ε per pac group
    GradientPenalty.interpolate(real: realPacked, fake: fakePacked, alpha: alpha, into: xHat)
    drawMasks(savedHat)  // CTGAN keeps dropout on in the penalty pass
    critic.forward(criticInput, into: yAll, saving: savedAll)
    criticArena.zeroGradients()
    let gp = penalty.forward(saved: savedHat, buffers: penaltyBuffers)
    penalty.backward(saved: savedHat, buffers: penaltyBuffers)
    // ∂(mean D(fake))/∂D on the fake rows, ∂(−mean D(real))/∂D on the real ones: one backward.
    dY.rows(0..<r).fill(with: 1 / Float(r))
    dY.rows(r..<2 * r).fill(with: -1 / Float(r))
    criticBackward(input: criticInput.rows(0..<2 * r), saved: savedPair, weights: true)
    return mean(yFake) - mean(yReal) + gp
  }

  /// The generator-and-Q update's loss and gradients (zeroed first), fresh z, conditions and
  /// codes: −mean D(fake) + L_cond + λ·L_I. The critic's weights get no gradient.
  func generatorLoss() -> (
    generator: Float, conditional: Float, crossEntropy: Float, accuracy: Float
  ) {
    let b = config.batch
    let r = b / config.pac
    let p = critic.linear1.inputs
    let c = model.layout.conditionWidth
    drawInputs()
    model.forward(pass, training: true)
    model.activate(pass)
    packFake()
    let fakePacked = fake.reshaped(rows: r, cols: p)
    drawMasks(savedFake)
    critic.forward(fakePacked, into: yFake, saving: savedFake)
    model.arena.zeroGradients()
    dY.rows(0..<r).fill(with: -1 / Float(r))  // ∂(−mean D)/∂D
    criticBackward(input: fakePacked, saved: savedFake, weights: false)
    var information: (loss: Float, crossEntropy: Float, accuracy: Float) = (0, 0, 0)
    if model.hasQ {
      model.qForward(pass)
      information = model.informationLoss(pass, categories: codeCategory)
    }
    pass.dRaw.zero()
    model.activateBackward(pass)
    // L_cond = (1/B) Σ_b CE(raw_b[span of its condition], its category), on raw logits.
    var conditional: Float = 0
    if c > 0 {
      let seed = 1 / Float(b)
      for row in 0..<b {
        conditional += crossEntropy(
          logits: pass.raw.rows(row..<row + 1), spans: conditionRanges[Int(conditionSpan[row])],
          targets: conditionCategory + row, gradient: pass.dRaw.rows(row..<row + 1), scale: seed)
      }
      conditional *= seed
    }
    model.backward(pass)
    _ = information.loss
    return (-mean(yFake) + conditional, conditional, information.crossEntropy, information.accuracy)
  }

  /// Backward of the critic from `dY`: with `weights`, into the critic's gradients; without,
  /// overwrites `pass.dOutput` with ∂/∂x̃ (the data columns of ∂/∂x only: the condition columns
  /// are constants) and touches no parameter gradient.
  /// `x` and `saved` hold the same rows (R or 2R); `dY` and the scratch are used on as many.
  func criticBackward(input x: Matrix, saved: CriticNetwork.Saved, weights: Bool) {
    let slope = critic.slope
    let rows = x.rows
    let dY = self.dY.rows(0..<rows)
    let dH2 = self.dH2.rows(0..<rows)
    let dA2 = self.dA2.rows(0..<rows)
    let dH1 = self.dH1.rows(0..<rows)
    let dA1 = self.dA1.rows(0..<rows)
    dH2.zero()
    if weights {
      critic.linear3.backward(dY, input: saved.h2, dx: dH2)
    } else {
      gemm(dY, critic.linear3.weight.value, into: dH2)  // dh2 = dy · W3
    }
    if let mask = saved.mask2 { multiply(dH2, mask) }  // h2 = m2 ⊙ φ(a2)
    dA2.zero()
    leakyReLUBackward(dH2.base, input: saved.a2.base, dx: dA2.base, count: dA2.count, slope: slope)
    dH1.zero()
    if weights {
      critic.linear2.backward(dA2, input: saved.h1, dx: dH1)
    } else {
      gemm(dA2, critic.linear2.weight.value, into: dH1)  // dh1 = da2 · W2
    }
    if let mask = saved.mask1 { multiply(dH1, mask) }
    dA1.zero()
    leakyReLUBackward(dH1.base, input: saved.a1.base, dx: dA1.base, count: dA1.count, slope: slope)
    if weights {
      critic.linear1.backward(dA1, input: x, dx: nil)
    } else {
      // Packed row r holds rows pac·r ..< pac·r + pac as [x̃ ; cond] blocks of W + C columns, so
      // member m's dx̃ = da1 · W1[:, m(W + C) ..< m(W + C) + W], which is x̃'s rows as
      // (R, pac·W) columns mW ..< mW + W: one product per member straight into dOutput.
      let w = model.layout.dataWidth
      let stride = w + model.layout.conditionWidth
      let w1 = critic.linear1.weight.value
      let out = pass.dOutput
      precondition(out.rows == rows * config.pac && out.cols == w, "criticBackward: dOutput shape")
      for m in 0..<config.pac {
        gemmStrided(
          m: rows, n: w, k: dA1.cols, dA1.base, lda: dA1.cols, w1.base + m * stride,
          ldb: w1.cols, into: out.base + m * w, ldc: config.pac * w)
      }
    }
  }

  private func multiply(_ x: Matrix, _ mask: Matrix) {
    for k in 0..<x.count { x.base[k] *= mask.base[k] }
  }

  private func mean(_ y: Matrix) -> Float {
    var total: Float = 0
    for k in 0..<y.count { total += y.base[k] }
    return total / Float(y.count)
  }

  /// Share of fresh generated rows (evaluation-mode BatchNorm, new draws, no update) whose
  /// categorical code Q recovers: the held-out check that the code is informative (§2.5).
  public func measureCodeAccuracy(batches: Int) -> Float {
    guard model.hasQ && config.categoricalCode > 0 else { return 0 }
    var correct = 0
    for _ in 0..<batches {
      drawInputs()
      model.forward(pass, training: false)
      model.activate(pass)
      model.qForward(pass)
      for r in 0..<pass.rows
      where GANLayout.argmax(pass.qOutput.row(r), count: config.categoricalCode)
        == Int(codeCategory[r])
      {
        correct += 1
      }
    }
    return Float(correct) / Float(batches * pass.rows)
  }

  // MARK: - Checks (tests)

  /// The generator-and-Q loss as a function of the parameters, replaying the same random
  /// draws each call; its gradient lands in `model.arena`'s gradients. For gradient checks.
  public func replayedGeneratorLoss(state: SeededGenerator) -> Float {
    random = state
    let g = generatorLoss()
    // The information term: recompute from Q's output (the loss above returns its parts).
    return g.generator + informationTerm()
  }

  /// The critic loss replaying `state`; gradients land in the critic's arena.
  public func replayedCriticLoss(state: SeededGenerator) -> Float {
    random = state
    return criticLoss()
  }

  /// The critic's parameters (gradient checks).
  public var criticParameters: ParameterArena { criticArena }

  /// λ_cat·CE + λ_cont·NLL at the pass's current Q output and codes (no gradient).
  func informationTerm() -> Float {
    guard model.hasQ else { return 0 }
    let k = config.categoricalCode
    var total: Float = 0
    if k > 0 {
      total +=
        config.lambdaCategorical
        * crossEntropy(
          logits: pass.qOutput, spans: [0..<k], targets: codeCategory, gradient: nil)
    }
    let l = config.continuousCodes
    if l > 0 {
      let start = config.noiseWidth + model.layout.conditionWidth + k
      var nll: Float = 0
      for r in 0..<pass.rows {
        for j in 0..<l {
          let e = pass.qOutput[r, k + j] - pass.input[r, start + j]
          nll += 0.5 * e * e
        }
      }
      total += config.lambdaContinuous * nll / Float(pass.rows)
    }
    return total
  }
}
