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
  /// The condition blocks' weights V = W1[:, pac·W ..< P]ᵀ (pac·C, H1), stored transposed so
  /// that a one-hot condition adds one contiguous row of it (nil without condition columns).
  let conditionWeight: Parameter?
  var generatorAdam: Adam
  var criticAdam: Adam
  /// Whether the arena's gradients are known to be zero (the fused Adam step zeroes them), so
  /// that the next loss need not clear them again.
  var criticGradientsZero = false, generatorGradientsZero = false
  /// The one random stream of a run: every draw comes from it, so a seed fixes the run.
  public var random: SeededGenerator
  /// Whether the generator-and-Q update reuses the fake batch the critic update just scored
  /// (its z, conditions, codes and forward pass: the generator's weights have not moved in
  /// between) instead of generating a fresh one as CTGAN does. Saves the second generator
  /// forward and its draws, about an eighth of a step (docs/gan.md); the default.
  public var reuseFakeBatch = true
  let pass: GeneratorPass
  let workspace = Workspace()
  let condition: Matrix  // (B, C)
  let conditionSpan: UnsafeMutablePointer<Int32>  // B: the conditioned span of each row
  let conditionCategory: UnsafeMutablePointer<Int32>  // B: its category
  let codeCategory: UnsafeMutablePointer<Int32>  // B: the categorical code
  /// The critic's input columns are laid out as [the pac data blocks ; the pac condition blocks]
  /// (P = pac·W + pac·C), not member by member, and W1 is kept as two tensors: `linear1` holds
  /// the data columns (H1, pac·W), `conditionWeight` the condition columns transposed. The data
  /// blocks of R packed rows are then the generator's (B, W) output read as (R, pac·W), and the
  /// one-hot condition blocks never go through a product (`criticFirstLayer`). The critic lives
  /// only in the trainer (the model file does not keep it), so its layout is free; its initial
  /// weights are PyTorch's for the member-by-member (H1, P) W1, rearranged (`splitFirstLayer`).
  /// Fake then real data vectors (2B, W), that is the (2R, pac·W) data blocks of the pair; the
  /// fake rows are the generator pass's output buffer, so x̃ is never copied.
  let pairData: Matrix
  /// Per row of `pairData`, the column of its condition's one in the condition block.
  let pairColumns: UnsafeMutablePointer<Int32>
  /// The penalty's buffers: da2 (R, H2), da1 (R, H1), g = ∂ΣD/∂x̂ as data (R, pac·W) and
  /// condition (R, pac·C) columns, the norms (R), and the backward's scratch.
  let da2: Matrix, da1: Matrix, gData: Matrix, gCondition: Matrix, norm: Matrix
  let da1Bar: Matrix, da2Bar: Matrix
  /// Activations of the 3R rows [fake ; real ; x̂]; `savedFake`, `savedReal`, `savedHat`,
  /// `savedPair` (fake and real) are row views of it.
  let savedAll: CriticNetwork.Saved
  let savedFake: CriticNetwork.Saved, savedReal: CriticNetwork.Saved, savedHat: CriticNetwork.Saved
  let savedPair: CriticNetwork.Saved
  let yAll: Matrix  // (3R, 1)
  let yFake: Matrix, yReal: Matrix  // (R, 1) views
  let dY: Matrix  // (2R, 1)
  let alpha: Matrix  // (R, 1)
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
    let h1 = config.criticWidths[0]
    let h2 = config.criticWidths[1]
    let pacData = config.pac * w
    let pacCondition = config.pac * c
    var shapes = CriticNetwork.parameterShapes("critic", inputs: pacData, hidden1: h1, hidden2: h2)
    if c > 0 {
      shapes.append(ParameterShape("critic.linear1.conditionWeight", rows: pacCondition, cols: h1))
    }
    criticArena = ParameterArena(shapes)
    critic = CriticNetwork("critic", in: criticArena)
    conditionWeight = c > 0 ? criticArena["critic.linear1.conditionWeight"] : nil
    // PyTorch's initialisation of the (H1, P) member-by-member critic, then rearranged.
    let dense = ParameterArena(
      CriticNetwork.parameterShapes("critic", inputs: p, hidden1: h1, hidden2: h2))
    CriticNetwork("critic", in: dense).initialize(using: &random)
    Self.splitFirstLayer(
      dense["critic.linear1.weight"].value, data: critic.linear1.weight.value,
      condition: conditionWeight?.value, pac: config.pac, dataWidth: w, conditionWidth: c)
    for name in ["critic.linear1.bias", "critic.linear2.weight", "critic.linear2.bias",
      "critic.linear3.weight", "critic.linear3.bias"]
    {
      criticArena[name].value.copy(from: dense[name].value)
    }
    generatorAdam = Adam(
      learningRate: config.learningRate, beta1: 0.5, beta2: 0.9,
      weightDecay: .l2(config.weightDecay))
    criticAdam = generatorAdam
    self.random = SeededGenerator(seed: random.next())
    let ws = workspace
    // [fake ; real ; ḡ's data columns]: the inputs of dW1's one product (criticBackward). The
    // generator writes its output straight into the fake rows.
    let criticData = ws.matrix(rows: 3 * b, cols: w)
    pairData = criticData.rows(0..<2 * b)
    pass = model.makePass(rows: b, training: true, output: criticData.rows(0..<b))
    condition = ws.matrix(rows: b, cols: c)
    conditionSpan = .allocate(capacity: b)
    conditionSpan.initialize(repeating: 0, count: b)
    conditionCategory = .allocate(capacity: b)
    conditionCategory.initialize(repeating: 0, count: b)
    codeCategory = .allocate(capacity: b)
    codeCategory.initialize(repeating: 0, count: b)
    pairColumns = .allocate(capacity: 2 * b)
    pairColumns.initialize(repeating: 0, count: 2 * b)
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
    da2 = ws.matrix(rows: r, cols: h2)
    // [dA1 (the pair's 2R rows) ; da1 (the penalty's R rows)], one buffer for the same reason.
    let criticDA1 = ws.matrix(rows: 3 * r, cols: h1)
    da1 = criticDA1.rows(2 * r..<3 * r)
    gData = Matrix(criticData.base + 2 * b * w, rows: r, cols: pacData)
    gCondition = ws.matrix(rows: r, cols: pacCondition)
    norm = ws.matrix(rows: r, cols: 1)
    da1Bar = ws.matrix(rows: r, cols: h1)
    da2Bar = ws.matrix(rows: r, cols: h2)
    dH2 = ws.matrix(rows: 2 * r, cols: config.criticWidths[1])
    dA2 = ws.matrix(rows: 2 * r, cols: config.criticWidths[1])
    dH1 = ws.matrix(rows: 2 * r, cols: config.criticWidths[0])
    dA1 = criticDA1.rows(0..<2 * r)
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
    pairColumns.deallocate()
  }

  /// Training steps per epoch: max(N / B, 1), as CTGAN.
  public var stepsPerEpoch: Int { max(sampler.rows / config.batch, 1) }

  /// One critic update then one generator-and-Q update; adds the losses to `statistics`.
  public func step(_ statistics: inout GANEpochStatistics) {
    statistics.critic += criticLoss()
    criticAdam.updateZeroingGradients(criticArena)
    criticGradientsZero = true
    let g = generatorLoss(freshBatch: !reuseFakeBatch)
    generatorAdam.updateZeroingGradients(model.arena)
    generatorGradientsZero = true
    pass.conditionWeightsCurrent = false
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
    var generator = random  // a local copy: no exclusivity check per draw
    for mask in [saved.mask1!, saved.mask2!] {
      let base = mask.base
      for k in 0..<mask.count { base[k] = generator.uniformFloat() < p ? 0 : keep }
    }
    random = generator
  }

  /// Splits a freshly initialised member-by-member W1 (H1, P), P = pac·(W + C), into its data
  /// columns `data` (H1, pac·W), member after member, and its condition columns transposed
  /// `condition` (pac·C, H1): the same critic on the rearranged input.
  static func splitFirstLayer(
    _ w1: Matrix, data: Matrix, condition: Matrix?, pac: Int, dataWidth w: Int,
    conditionWidth c: Int
  ) {
    precondition(
      w1.cols == pac * (w + c) && data.rows == w1.rows && data.cols == pac * w,
      "splitFirstLayer: shapes")
    for o in 0..<w1.rows {
      let row = w1.row(o)
      let target = data.row(o)
      for m in 0..<pac {
        for j in 0..<w { target[m * w + j] = row[m * (w + c) + j] }
        if let condition {
          for k in 0..<c { condition[m * c + k, o] = row[m * (w + c) + w + k] }
        }
      }
    }
  }

  /// a1 = x · W1ᵀ + b1 for `rows` packed rows whose data blocks are `data` (rows, pac·W) and
  /// whose condition blocks are one-hot, member m of packed row r having its one at column
  /// `columns[r·pac + m]` of its block: one product over the data columns, then per member one
  /// row of V added.
  func criticFirstLayer(
    data: UnsafeMutablePointer<Float>, columns: UnsafePointer<Int32>, rows: Int, into a1: Matrix
  ) {
    let pac = config.pac
    critic.linear1.forward(
      Matrix(data, rows: rows, cols: critic.linear1.inputs), into: a1)
    guard let v = conditionWeight?.value else { return }
    let c = model.layout.conditionWidth
    let h1 = a1.cols
    // Per packed row, one pass over a1's row adding its pac members' rows of V in order.
    let sources = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: pac)
    let ones = UnsafeMutablePointer<Float>.allocate(capacity: pac)
    ones.initialize(repeating: 1, count: pac)
    defer {
      sources.deallocate()
      ones.deallocate()
    }
    for r in 0..<rows {
      for m in 0..<pac {
        sources[m] = UnsafePointer(v.row(m * c + Int(columns[r * pac + m])))
      }
      addScaledRows(a1.row(r), sources, ones, count: pac, width: h1)
    }
  }

  /// `v *= mask ⊙ φ'(a)` (φ'(a) = slope where a ≤ 0, else 1; a nil mask counts as ones): the
  /// Jacobian of h = mask ⊙ φ(a), as `CriticNetwork`'s.
  private func multiplyByGain(_ v: Matrix, preActivation a: Matrix, mask: Matrix?) {
    let count = v.count
    let s = critic.slope
    let x = v.base
    let pre = a.base
    if let mask {
      let f = mask.base
      for i in 0..<count { x[i] *= f[i] * (pre[i] <= 0 ? s : 1) }
    } else {
      for i in 0..<count where pre[i] <= 0 { x[i] *= s }
    }
  }

  /// WGAN-GP at x̂ (GradientPenalty.swift, same maths, W1 in its two parts): overwrites the
  /// penalty buffers and returns GP = (λ / R) Σ_r (‖g_r‖₂ − 1)², g_r = ∂D(x̂_r)/∂x̂_r.
  func penaltyForward(saved: CriticNetwork.Saved) -> Float {
    let rows = da1.rows
    da2.setRows(to: critic.linear3.weight.value)  // dh2 = 1 · W3 on every row
    multiplyByGain(da2, preActivation: saved.a2, mask: saved.mask2)
    gemm(da2, critic.linear2.weight.value, into: da1)  // dh1 = da2 · W2
    multiplyByGain(da1, preActivation: saved.a1, mask: saved.mask1)
    gemm(da1, critic.linear1.weight.value, into: gData)  // g = da1 · W1: data columns
    if let v = conditionWeight?.value {
      gemm(da1, v, transposeB: true, into: gCondition)  // and condition columns
    }
    if rows == 0 { return 0 }
    var total = 0.0
    for r in 0..<rows {
      var squares = sumOfSquares(gData.row(r), count: gData.cols)
      if conditionWeight != nil {
        squares += sumOfSquares(gCondition.row(r), count: gCondition.cols)
      }
      let n = squares.squareRoot()
      norm.base[r] = Float(n)
      total += (n - 1) * (n - 1)
    }
    return Float(Double(config.penalty) * total / Double(rows))
  }

  /// Accumulates ∂GP/∂W into the critic's weight gradients (the biases' share is zero), except
  /// W1's data columns' term da1ᵀ · ḡ, which `criticBackward` adds with the pair's (it leaves ḡ
  /// in `gData`).
  func penaltyBackward(saved: CriticNetwork.Saved) {
    let rows = da1.rows
    if rows == 0 { return }
    let seed = config.penalty / Float(rows)
    for r in 0..<rows {
      let n = norm.base[r]
      let factor = n > 0 ? seed * 2 * (n - 1) / n : 0
      for g in [gData, gCondition] where g.cols > 0 {
        let row = g.row(r)
        for j in 0..<g.cols { row[j] *= factor }  // ḡ, in place
      }
    }
    let w1 = critic.linear1.weight
    // W̄1 += da1ᵀ · ḡ is left to criticBackward, which adds it in the same product as the pair's
    // dW1 (da1 and ḡ sit right after dA1 and the pair's data in their buffers).
    gemm(gData, w1.value, transposeB: true, into: da1Bar)  // d̄a1 = ḡ · W1ᵀ
    if let v = conditionWeight {
      gemm(gCondition, da1, transposeA: true, into: v.grad, beta: 1)  // V̄ += ḡ_cᵀ · da1
      gemm(gCondition, v.value, into: da1Bar, beta: 1)  // d̄a1 += ḡ_c · V
    }
    multiplyByGain(da1Bar, preActivation: saved.a1, mask: saved.mask1)
    let w2 = critic.linear2.weight
    gemm(da2, da1Bar, transposeA: true, into: w2.grad, beta: 1)
    gemm(da1Bar, w2.value, transposeB: true, into: da2Bar)
    multiplyByGain(da2Bar, preActivation: saved.a2, mask: saved.mask2)
    da2Bar.addColumnSums(into: critic.linear3.weight.grad)
  }

  /// The critic from a1 on: h1, a2, h2, y for the rows of `saved` (masks read from it).
  func criticRest(_ saved: CriticNetwork.Saved, into y: Matrix) {
    let slope = critic.slope
    leakyReLUForward(saved.a1.base, into: saved.h1.base, count: saved.a1.count, slope: slope)
    if let mask = saved.mask1 { multiply(saved.h1, mask) }  // h1 = m1 ⊙ φ(a1)
    critic.linear2.forward(saved.h1, into: saved.a2)
    leakyReLUForward(saved.a2.base, into: saved.h2.base, count: saved.a2.count, slope: slope)
    if let mask = saved.mask2 { multiply(saved.h2, mask) }  // h2 = m2 ⊙ φ(a2)
    critic.linear3.forward(saved.h2, into: y)
  }

  /// The critic update's loss and gradients (critic gradients zeroed first): a generator
  /// forward (its output is a constant here), L_D = mean D(fake) − mean D(real) + GP.
  ///
  /// x̂ = α·real + (1 − α)·fake per packed row, so its first-layer pre-activation is
  /// α·a1(real) + (1 − α)·a1(fake) (the bias enters with weight α + 1 − α = 1): the first
  /// layer's product runs over the 2R fake and real rows only, and x̂ itself is never formed
  /// (the penalty needs only the activations).
  func criticLoss() -> Float {
    let b = config.batch
    let r = b / config.pac
    drawInputs()
    model.forward(pass, training: true)
    model.activate(pass)  // x̃ lands in pairData's fake rows (the pass's output)
    pairColumns.update(from: pass.conditionColumns, count: b)
    sampler.drawRealData(
      into: pairData.rows(b..<2 * b), columns: pairColumns + b, span: conditionSpan,
      category: conditionCategory, using: &random)
    // Random draws in a fixed order (fake masks, real masks, ε, x̂ masks), then one critic
    // forward over the 3R rows [fake ; real ; x̂].
    drawMasks(savedFake)
    drawMasks(savedReal)
    for k in 0..<r { alpha.base[k] = random.uniformFloat() }  // one ε per pac group
    drawMasks(savedHat)  // CTGAN keeps dropout on in the penalty pass
    criticFirstLayer(data: pairData.base, columns: pairColumns, rows: 2 * r, into: savedPair.a1)
    let h1 = savedAll.a1.cols
    for k in 0..<r {
      let a = alpha.base[k]
      let oneMinus = 1 - a
      let fake = savedFake.a1.row(k)
      let real = savedReal.a1.row(k)
      let hat = savedHat.a1.row(k)
      for j in 0..<h1 { hat[j] = a * real[j] + oneMinus * fake[j] }
    }
    criticRest(savedAll, into: yAll)
    if !criticGradientsZero { criticArena.zeroGradients() }
    criticGradientsZero = false
    let gp = penaltyForward(saved: savedHat)
    penaltyBackward(saved: savedHat)
    // ∂(mean D(fake))/∂D on the fake rows, ∂(−mean D(real))/∂D on the real ones: one backward.
    dY.rows(0..<r).fill(with: 1 / Float(r))
    dY.rows(r..<2 * r).fill(with: -1 / Float(r))
    criticBackward(rows: 2 * r, saved: savedPair, weights: true)
    return mean(yFake) - mean(yReal) + gp
  }

  /// The generator-and-Q update's loss and gradients (zeroed first): −mean D(fake) + L_cond +
  /// λ·L_I. With `freshBatch`, on new z, conditions and codes; without, on the batch the last
  /// `criticLoss` generated (its forward pass is still in `pass`). The critic's weights get no
  /// gradient.
  func generatorLoss(freshBatch: Bool = true) -> (
    generator: Float, conditional: Float, crossEntropy: Float, accuracy: Float
  ) {
    let b = config.batch
    let r = b / config.pac
    let c = model.layout.conditionWidth
    if freshBatch {
      drawInputs()
      model.forward(pass, training: true)
      model.activate(pass)
    }
    drawMasks(savedFake)
    criticFirstLayer(
      data: pass.output.base, columns: pass.conditionColumns, rows: r, into: savedFake.a1)
    criticRest(savedFake, into: yFake)
    if !generatorGradientsZero { model.arena.zeroGradients() }
    generatorGradientsZero = false
    dY.rows(0..<r).fill(with: -1 / Float(r))  // ∂(−mean D)/∂D
    criticBackward(rows: r, saved: savedFake, weights: false)
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

  /// Backward of the critic from `dY` over its first `rows` packed rows (`saved` holds them):
  /// with `weights`, into the critic's gradients, the inputs being the pair's (`pairData`,
  /// `pairColumns`); without, overwrites `pass.dOutput` with ∂/∂x̃ (the data blocks of ∂/∂x only:
  /// the condition blocks are constants) and touches no parameter gradient.
  func criticBackward(rows: Int, saved: CriticNetwork.Saved, weights: Bool) {
    let slope = critic.slope
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
    let pac = config.pac
    let linear = critic.linear1
    let dataWidth = linear.inputs
    let h1 = dA1.cols
    if weights {
      // Data blocks: dW1 += [dA1 ; da1]ᵀ · [data ; ḡ] (the pair's rows as (2R, pac·W), then the
      // penalty's term, which penaltyBackward left for this product), db1 += Σ dA1.
      precondition(rows * pac == pairData.rows, "criticBackward: pair rows")
      gemm(
        Matrix(dA1.base, rows: rows + da1.rows, cols: h1),
        Matrix(pairData.base, rows: rows + gData.rows, cols: dataWidth), transposeA: true,
        into: linear.weight.grad, beta: 1)
      dA1.addColumnSums(into: linear.bias!.grad)
      // Condition blocks: member m of row r adds da1_r to row m·C + its column of V̄.
      guard let v = conditionWeight else { return }
      let c = model.layout.conditionWidth
      for row in 0..<rows {
        let source = dA1.row(row)
        for m in 0..<pac {
          addInPlace(v.grad.row(m * c + Int(pairColumns[row * pac + m])), source, count: h1)
        }
      }
    } else {
      // dx̃ as (R, pac·W) = da1 · W1 (data columns), straight into dOutput.
      let out = pass.dOutput
      precondition(out.rows == rows * pac, "criticBackward: dOutput shape")
      gemm(dA1, linear.weight.value, into: out.reshaped(rows: rows, cols: dataWidth))
    }
  }

  /// target[0..<count] += source[0..<count], eight lanes at a time.
  @inline(__always)
  private func addInPlace(
    _ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, count: Int
  ) {
    var j = 0
    while j + 8 <= count {
      let t = UnsafeMutableRawPointer(target + j)
      let v =
        t.loadUnaligned(as: SIMD8<Float>.self)
        + UnsafeRawPointer(source + j).loadUnaligned(as: SIMD8<Float>.self)
      t.storeBytes(of: v, as: SIMD8<Float>.self)
      j += 8
    }
    while j < count {
      target[j] += source[j]
      j += 1
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
    pass.conditionWeightsCurrent = false
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
    pass.conditionWeightsCurrent = false  // the caller may have moved the weights
    let g = generatorLoss()
    // The information term: recompute from Q's output (the loss above returns its parts).
    return g.generator + informationTerm()
  }

  /// The critic loss replaying `state`; gradients land in the critic's arena.
  public func replayedCriticLoss(state: SeededGenerator) -> Float {
    random = state
    pass.conditionWeightsCurrent = false
    return criticLoss()
  }

  /// The generator's gradients from one critic update then the generator update on the
  /// critic's fake batch: reused as in training, or with the generator's forward pass run again
  /// on the same draws first. The two agree exactly when the critic update leaves the
  /// generator's pass untouched, which is what makes the reuse sound (tests).
  public func generatorGradientsAfterCriticUpdate(recomputingForward: Bool) -> [Float] {
    _ = criticLoss()
    criticAdam.updateZeroingGradients(criticArena)
    criticGradientsZero = true
    if recomputingForward {
      model.forward(pass, training: true)
      model.activate(pass)
    }
    _ = generatorLoss(freshBatch: false)
    return Array(model.arena.grads)
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
