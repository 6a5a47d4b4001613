// Case (c): one CTGAN training step (ctgan-infogan.md §1.3-1.6) on adult's widths, as the "lean"
// case of bench/torch_reference.py: one critic update (Wasserstein loss + exact gradient penalty)
// with the generator's forward only, then one generator update (−mean D + the conditional
// cross-entropy) through a critic whose weights get no gradient.
//
// B = 500 rows, R = B / pac = 50 packed rows, Z = 128 noise, C = 104 condition, W = 157 data
// columns (6 continuous columns as 1 tanh + 8,8,8,8,8,7 modes; 9 discrete columns
// 9,16,7,15,6,5,2,42,2), P = pac · (W + C) = 2610. Generator:
//   in = [z ; c] (B, 232) -> Residual(256) -> (B, 488) -> Residual(256) -> (B, 744) -> Linear -> W,
//   Residual(h) = [ReLU(BatchNorm(Linear(h))) ; h]; tanh / Gumbel-softmax(τ 0.2) per span.
// Critic: CriticNetwork P -> 256 -> 256 -> 1, LeakyReLU 0.2, dropout 0.5 (active in every pass).
// Adam lr 2e-4, betas (0.5, 0.9), weight decay 1e-6 (L2, as torch.optim.Adam).

import TabCore

#if canImport(Glibc)
  import Glibc
#endif

final class CTGANStep {
  static let batch = 500
  static let pac = 10
  static let noiseWidth = 128
  static let continuousModes = [8, 8, 8, 8, 8, 7]
  static let categories = [9, 16, 7, 15, 6, 5, 2, 42, 2]
  static let hidden = 256
  static var conditionWidth: Int { categories.reduce(0, +) }  // 104
  static var dataWidth: Int { continuousModes.reduce(0) { $0 + 1 + $1 } + conditionWidth }  // 157

  static var stepFlop: Double {
    let b = Double(batch)
    let h = Double(hidden)
    let i = Double(noiseWidth + conditionWidth)
    let g = 2 * b * h * i + 2 * b * h * (i + h) + 2 * b * Double(dataWidth) * (i + 2 * h)
    let r = Double(batch / pac)
    let p = Double(pac * (dataWidth + conditionWidth))
    let d = 2 * r * h * p + 2 * r * h * h + 2 * r * h
    // critic update: generator forward, two critic passes (3x), penalty (forward + input
    // gradient + double backward = 4x); generator update: generator and critic, 3x each.
    return (g + 6 * d + 4 * d) + (3 * g + 3 * d)
  }

  // Column layout of the W data columns.
  let tanhColumns: [Int]
  let softmaxSpans: [Range<Int>]
  /// Span of discrete column j in the data columns, and its offset in the condition vector.
  let discreteSpans: [Range<Int>]
  let conditionOffsets: [Int]
  /// [discreteSpans[j]], kept so that the per-row cross-entropy call allocates nothing.
  let singleSpans: [[Range<Int>]]

  let generatorArena: ParameterArena
  let generatorBuffers: ParameterArena
  let criticArena: ParameterArena
  let workspace = Workspace()
  let linear1: Linear
  let norm1: BatchNorm
  let linear2: Linear
  let norm2: BatchNorm
  let output: Linear
  let critic: CriticNetwork
  let penalty: GradientPenalty
  let gumbel: GumbelSoftmax
  let relu = ReLU()
  var generatorAdam: Adam
  var criticAdam: Adam
  var random: SeededGenerator

  // Generator buffers (B rows).
  let z: Matrix  // (B, Z)
  let input: Matrix  // (B, Z + C)
  let lin1: Matrix, bn1: Matrix, relu1: Matrix  // (B, 256)
  let saved1: BatchNorm.Saved
  let cat1: Matrix  // (B, 488)
  let lin2: Matrix, bn2: Matrix, relu2: Matrix  // (B, 256)
  let saved2: BatchNorm.Saved
  let cat2: Matrix  // (B, 744)
  let raw: Matrix, noise: Matrix, activated: Matrix  // (B, W)
  let fakeCat: Matrix  // (B, W + C), seen packed as (R, P)
  let xHat: Matrix  // (R, P)
  // Generator backward.
  let dActivated: Matrix, dRaw: Matrix  // (B, W)
  let dCat2: Matrix  // (B, 744)
  let dCat1: Matrix  // (B, 488)
  let dRelu: Matrix, dNorm: Matrix, dLinear: Matrix  // (B, 256), reused by both blocks
  // Critic buffers (R rows).
  let savedFake: CriticNetwork.Saved, savedReal: CriticNetwork.Saved, savedHat: CriticNetwork.Saved
  let yFake: Matrix, yReal: Matrix, yHat: Matrix, dY: Matrix  // (R, 1)
  let alpha: Matrix  // (R, 1)
  let penaltyBuffers: GradientPenalty.Buffers
  let dH2: Matrix, dA2: Matrix, dH1: Matrix, dA1: Matrix  // (R, 256)
  let dInput: Matrix  // (R, P)

  /// A fixed pool of conditions and "real" rows, as the PyTorch side (drawing them is the data
  /// pipeline's work, not timed).
  struct Batch {
    let condition: Matrix  // c, (B, C) one-hot
    let realCat: Matrix  // [x ; c'] (B, W + C)
    let column: [Int]  // the conditioned discrete column of each row
    let target: UnsafeMutablePointer<Int32>  // its category, B entries
  }
  var pool: [Batch] = []
  var counter = 0

  init(generator: inout SeededGenerator) {
    let b = Self.batch
    let h = Self.hidden
    let c = Self.conditionWidth
    let w = Self.dataWidth
    let i = Self.noiseWidth + c
    var tanhColumns: [Int] = []
    var softmaxSpans: [Range<Int>] = []
    var at = 0
    for modes in Self.continuousModes {
      tanhColumns.append(at)
      softmaxSpans.append(at + 1..<at + 1 + modes)
      at += 1 + modes
    }
    var discreteSpans: [Range<Int>] = []
    var conditionOffsets: [Int] = []
    var offset = 0
    for count in Self.categories {
      discreteSpans.append(at..<at + count)
      conditionOffsets.append(offset)
      at += count
      offset += count
    }
    precondition(at == w && offset == c)
    self.tanhColumns = tanhColumns
    self.softmaxSpans = softmaxSpans + discreteSpans
    self.discreteSpans = discreteSpans
    self.conditionOffsets = conditionOffsets
    singleSpans = discreteSpans.map { [$0] }

    generatorArena = ParameterArena(
      Linear.parameterShapes("residual1.linear", inputs: i, outputs: h)
        + BatchNorm.parameterShapes("residual1.norm", width: h)
        + Linear.parameterShapes("residual2.linear", inputs: i + h, outputs: h)
        + BatchNorm.parameterShapes("residual2.norm", width: h)
        + Linear.parameterShapes("output", inputs: i + 2 * h, outputs: w))
    generatorBuffers = ParameterArena(
      BatchNorm.bufferShapes("residual1.norm", width: h)
        + BatchNorm.bufferShapes("residual2.norm", width: h))
    let p = Self.pac * (w + c)
    criticArena = ParameterArena(
      CriticNetwork.parameterShapes("critic", inputs: p, hidden1: h, hidden2: h))
    linear1 = Linear("residual1.linear", in: generatorArena)
    norm1 = BatchNorm("residual1.norm", in: generatorArena, buffers: generatorBuffers)
    linear2 = Linear("residual2.linear", in: generatorArena)
    norm2 = BatchNorm("residual2.norm", in: generatorArena, buffers: generatorBuffers)
    output = Linear("output", in: generatorArena)
    critic = CriticNetwork("critic", in: criticArena)
    penalty = GradientPenalty(critic: critic, lambda: 10)
    gumbel = GumbelSoftmax(spans: softmaxSpans + discreteSpans, temperature: 0.2)
    linear1.initialize(using: &generator)
    norm1.initialize()
    linear2.initialize(using: &generator)
    norm2.initialize()
    output.initialize(using: &generator)
    critic.initialize(using: &generator)
    generatorAdam = Adam(learningRate: 2e-4, beta1: 0.5, beta2: 0.9, weightDecay: .l2(1e-6))
    criticAdam = Adam(learningRate: 2e-4, beta1: 0.5, beta2: 0.9, weightDecay: .l2(1e-6))
    random = SeededGenerator(seed: generator.next())

    let ws = workspace
    let r = b / Self.pac
    z = ws.matrix(rows: b, cols: Self.noiseWidth)
    input = ws.matrix(rows: b, cols: i)
    lin1 = ws.matrix(rows: b, cols: h)
    bn1 = ws.matrix(rows: b, cols: h)
    relu1 = ws.matrix(rows: b, cols: h)
    saved1 = BatchNorm.Saved(width: h, in: ws)
    cat1 = ws.matrix(rows: b, cols: i + h)
    lin2 = ws.matrix(rows: b, cols: h)
    bn2 = ws.matrix(rows: b, cols: h)
    relu2 = ws.matrix(rows: b, cols: h)
    saved2 = BatchNorm.Saved(width: h, in: ws)
    cat2 = ws.matrix(rows: b, cols: i + 2 * h)
    raw = ws.matrix(rows: b, cols: w)
    noise = ws.matrix(rows: b, cols: w)
    activated = ws.matrix(rows: b, cols: w)
    fakeCat = ws.matrix(rows: b, cols: w + c)
    xHat = ws.matrix(rows: r, cols: p)
    dActivated = ws.matrix(rows: b, cols: w)
    dRaw = ws.matrix(rows: b, cols: w)
    dCat2 = ws.matrix(rows: b, cols: i + 2 * h)
    dCat1 = ws.matrix(rows: b, cols: i + h)
    dRelu = ws.matrix(rows: b, cols: h)
    dNorm = ws.matrix(rows: b, cols: h)
    dLinear = ws.matrix(rows: b, cols: h)
    savedFake = CriticNetwork.Saved(rows: r, critic: critic, dropout: true, in: ws)
    savedReal = CriticNetwork.Saved(rows: r, critic: critic, dropout: true, in: ws)
    savedHat = CriticNetwork.Saved(rows: r, critic: critic, dropout: true, in: ws)
    yFake = ws.matrix(rows: r, cols: 1)
    yReal = ws.matrix(rows: r, cols: 1)
    yHat = ws.matrix(rows: r, cols: 1)
    dY = ws.matrix(rows: r, cols: 1)
    alpha = ws.matrix(rows: r, cols: 1)
    penaltyBuffers = GradientPenalty.Buffers(rows: r, critic: critic, in: ws)
    dH2 = ws.matrix(rows: r, cols: h)
    dA2 = ws.matrix(rows: r, cols: h)
    dH1 = ws.matrix(rows: r, cols: h)
    dA1 = ws.matrix(rows: r, cols: h)
    dInput = ws.matrix(rows: r, cols: p)

    for _ in 0..<4 {
      let (condition, column) = drawCondition()
      let (shuffled, _) = drawCondition()
      // "Real" rows: activated random logits, like the PyTorch side's pool.
      generator.fillNormal(raw)
      activate()
      let realCat = ws.matrix(rows: b, cols: w + c)
      concatenate(activated, shuffled, into: realCat)
      let target = UnsafeMutablePointer<Int32>.allocate(capacity: b)
      for row in 0..<b {
        let j = column[row]
        var category = 0
        let code = condition.row(row) + conditionOffsets[j]
        while code[category] != 1 { category += 1 }
        target[row] = Int32(category)
      }
      pool.append(Batch(condition: condition, realCat: realCat, column: column, target: target))
    }
  }

  deinit {
    for batch in pool { batch.target.deallocate() }
  }

  /// A one-hot condition per row: a random discrete column, then a random category of it.
  private func drawCondition() -> (Matrix, [Int]) {
    let condition = workspace.matrix(rows: Self.batch, cols: Self.conditionWidth)
    var column: [Int] = []
    for row in 0..<Self.batch {
      let j = random.uniformInt(below: Self.categories.count)
      let category = random.uniformInt(below: Self.categories[j])
      condition[row, conditionOffsets[j] + category] = 1
      column.append(j)
    }
    return (condition, column)
  }

  /// out = [left ; right] row by row.
  private func concatenate(_ left: Matrix, _ right: Matrix, into out: Matrix) {
    precondition(
      left.rows == out.rows && right.rows == out.rows && left.cols + right.cols == out.cols)
    for row in 0..<out.rows {
      let o = out.row(row)
      o.update(from: left.row(row), count: left.cols)
      (o + left.cols).update(from: right.row(row), count: right.cols)
    }
  }

  /// out = columns `start ..< start + out.cols` of `source`, row by row.
  private func slice(_ source: Matrix, from start: Int, into out: Matrix) {
    for row in 0..<out.rows {
      out.row(row).update(from: source.row(row) + start, count: out.cols)
    }
  }

  /// activated = tanh / Gumbel-softmax of raw, span by span (fresh Gumbel noise).
  private func activate() {
    gumbel.forward(raw, into: activated, noise: noise, using: &random)
    for row in 0..<raw.rows {
      let x = raw.row(row)
      let y = activated.row(row)
      for j in tanhColumns { y[j] = tanhf(x[j]) }
    }
  }

  /// Generator forward for the given condition, with fresh z and Gumbel noise: raw, activated.
  private func generate(_ condition: Matrix) {
    random.fillNormal(z)
    concatenate(z, condition, into: input)
    linear1.forward(input, into: lin1)
    norm1.forward(lin1, into: bn1, saving: saved1)
    relu.forward(bn1, into: relu1)
    concatenate(relu1, input, into: cat1)  // Residual: [ReLU(BN(Linear h)) ; h]
    linear2.forward(cat1, into: lin2)
    norm2.forward(lin2, into: bn2, saving: saved2)
    relu.forward(bn2, into: relu2)
    concatenate(relu2, cat1, into: cat2)
    output.forward(cat2, into: raw)
    activate()
  }

  /// Fresh inverted-dropout factors (0 or 2 for p = 0.5) for one critic pass.
  private func drawMasks(_ saved: CriticNetwork.Saved) {
    for mask in [saved.mask1!, saved.mask2!] {
      for k in 0..<mask.count { mask.base[k] = random.uniformFloat() < 0.5 ? 0 : 2 }
    }
  }

  private func criticForward(_ x: Matrix, into y: Matrix, saving saved: CriticNetwork.Saved) {
    drawMasks(saved)
    critic.forward(x, into: y, saving: saved)
  }

  /// Backward of the critic from `dY`: with `weights`, accumulates into the critic's weight and
  /// bias gradients (the input gradient is not needed); without, overwrites `dInput` with ∂/∂x
  /// and touches no parameter gradient (the critic is frozen in the generator update).
  private func criticBackward(input x: Matrix, saved: CriticNetwork.Saved, weights: Bool) {
    let slope = critic.slope
    dH2.zero()
    if weights {
      critic.linear3.backward(dY, input: saved.h2, dx: dH2)
    } else {
      gemm(dY, critic.linear3.weight.value, into: dH2)  // dh2 = dy · W3
    }
    multiplyInPlace(dH2, saved.mask2!)  // h2 = m2 ⊙ φ(a2)
    dA2.zero()
    leakyReLUBackward(dH2.base, input: saved.a2.base, dx: dA2.base, count: dA2.count, slope: slope)
    dH1.zero()
    if weights {
      critic.linear2.backward(dA2, input: saved.h1, dx: dH1)
    } else {
      gemm(dA2, critic.linear2.weight.value, into: dH1)
    }
    multiplyInPlace(dH1, saved.mask1!)
    dA1.zero()
    leakyReLUBackward(dH1.base, input: saved.a1.base, dx: dA1.base, count: dA1.count, slope: slope)
    if weights {
      critic.linear1.backward(dA1, input: x, dx: nil)
    } else {
      gemm(dA1, critic.linear1.weight.value, into: dInput)
    }
  }

  private func multiplyInPlace(_ x: Matrix, _ mask: Matrix) {
    for k in 0..<x.count { x.base[k] *= mask.base[k] }
  }

  private func mean(_ y: Matrix) -> Float {
    var total: Float = 0
    for k in 0..<y.count { total += y.base[k] }
    return total / Float(y.count)
  }

  /// One critic update and one generator update. Returns the critic's loss (Wasserstein +
  /// penalty) and the generator's (−mean D + conditional cross-entropy), before the updates.
  func step() -> (critic: Float, generator: Float) {
    let batch = pool[counter % pool.count]
    counter += 1
    let critic = criticLoss(batch)
    criticAdam.update(criticArena)
    let generator = generatorLoss(batch)
    generatorAdam.update(generatorArena)
    return (critic, generator)
  }

  /// The critic update's forward and backward: the generator's forward only (its output is a
  /// constant here), L_D = mean D(fake) − mean D(real) + GP into the critic's gradients (zeroed
  /// first). Returns L_D.
  private func criticLoss(_ batch: Batch) -> Float {
    let r = Self.batch / Self.pac
    let p = Self.pac * (Self.dataWidth + Self.conditionWidth)
    let fakePacked = fakeCat.reshaped(rows: r, cols: p)
    let realPacked = batch.realCat.reshaped(rows: r, cols: p)
    generate(batch.condition)
    concatenate(activated, batch.condition, into: fakeCat)
    criticForward(fakePacked, into: yFake, saving: savedFake)
    criticForward(realPacked, into: yReal, saving: savedReal)
    for k in 0..<r { alpha.base[k] = random.uniformFloat() }  // one ε per pac group
    GradientPenalty.interpolate(real: realPacked, fake: fakePacked, alpha: alpha, into: xHat)
    criticForward(xHat, into: yHat, saving: savedHat)
    criticArena.zeroGradients()
    let gp = penalty.forward(saved: savedHat, buffers: penaltyBuffers)
    penalty.backward(saved: savedHat, buffers: penaltyBuffers)
    let wasserstein = -(mean(yReal) - mean(yFake))
    dY.fill(with: -1 / Float(r))
    criticBackward(input: realPacked, saved: savedReal, weights: true)
    dY.fill(with: 1 / Float(r))
    criticBackward(input: fakePacked, saved: savedFake, weights: true)
    return wasserstein + gp
  }

  /// The generator update's forward and backward with fresh z: L_G = −mean D(fake) + L_cond into
  /// the generator's gradients (zeroed first); the critic's weights get no gradient. Returns L_G.
  private func generatorLoss(_ batch: Batch) -> Float {
    let r = Self.batch / Self.pac
    let p = Self.pac * (Self.dataWidth + Self.conditionWidth)
    let fakePacked = fakeCat.reshaped(rows: r, cols: p)
    generate(batch.condition)
    concatenate(activated, batch.condition, into: fakeCat)
    criticForward(fakePacked, into: yFake, saving: savedFake)
    generatorArena.zeroGradients()
    dY.fill(with: -1 / Float(r))  // ∂(−mean D)/∂D
    criticBackward(input: fakePacked, saved: savedFake, weights: false)
    slice(
      dInput.reshaped(rows: Self.batch, cols: Self.dataWidth + Self.conditionWidth), from: 0,
      into: dActivated)
    dRaw.zero()
    gumbel.backward(dActivated, output: activated, dx: dRaw)
    for row in 0..<Self.batch {
      let dy = dActivated.row(row)
      let y = activated.row(row)
      let dx = dRaw.row(row)
      for j in tanhColumns { dx[j] += dy[j] * (1 - y[j] * y[j]) }  // tanh' = 1 − y²
    }
    // L_cond = (1/B) Σ_b CE(raw_b[span of its conditioned column], its category), on raw logits.
    var conditional: Float = 0
    let seed = 1 / Float(Self.batch)
    for row in 0..<Self.batch {
      conditional += crossEntropy(
        logits: raw.rows(row..<row + 1), spans: singleSpans[batch.column[row]],
        targets: batch.target + row, gradient: dRaw.rows(row..<row + 1), scale: seed)
    }
    conditional *= seed
    generatorBackward()
    return -mean(yFake) + conditional
  }

  /// Checks the critic's and the generator's backward with `directionalCheck` (Timing.swift),
  /// replaying the same batch, noise and dropout masks at every evaluation. Leaves parameters,
  /// moments and the random state as they were.
  func directionalChecks() -> [(name: String, analytic: Double, numeric: Double)] {
    let batch = pool[counter % pool.count]
    let state = random
    let critic = directionalCheck(criticArena) {
      random = state
      return criticLoss(batch)
    }
    let generator = directionalCheck(generatorArena) {
      random = state
      return generatorLoss(batch)
    }
    random = state
    return [
      ("critic", critic.analytic, critic.numeric),
      ("generator", generator.analytic, generator.numeric),
    ]
  }

  /// Backward through the generator from `dRaw`, into its parameter gradients.
  private func generatorBackward() {
    let h = Self.hidden
    dCat2.zero()
    output.backward(dRaw, input: cat2, dx: dCat2)
    // cat2 = [relu2 ; cat1]
    slice(dCat2, from: 0, into: dRelu)
    slice(dCat2, from: h, into: dCat1)
    dNorm.zero()
    relu.backward(dRelu, input: bn2, dx: dNorm)
    dLinear.zero()
    norm2.backward(dNorm, input: lin2, saved: saved2, dx: dLinear)
    linear2.backward(dLinear, input: cat1, dx: dCat1)
    // cat1 = [relu1 ; input]; the input (z, c) needs no gradient.
    slice(dCat1, from: 0, into: dRelu)
    dNorm.zero()
    relu.backward(dRelu, input: bn1, dx: dNorm)
    dLinear.zero()
    norm1.backward(dNorm, input: lin1, saved: saved1, dx: dLinear)
    linear1.backward(dLinear, input: input, dx: nil)
  }
}
