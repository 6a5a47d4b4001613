// The WGAN-GP gradient penalty against an independent Double re-implementation of CTGAN's critic
// (GradientCheck.swift's central differences): the input gradient against differences of D, the
// weight gradient against differences of GP, and λ's linearity. Shapes: pac 2, width 3 (P = 6),
// hidden 5 and 5, 4 packed rows (8 unpacked). Points where a LeakyReLU input lies within 1e-3 of
// its kink are re-drawn: the largest step the differences take (h = 1e-6 on values of order 1)
// moves a pre-activation by about 1e-5, so no difference straddles a kink and every function
// checked here is smooth at the point. Tolerances are GradientCheck's default,
// |analytic − numeric| ≤ 1e-4 · max(1, |numeric|), unless stated.

import Testing

@testable import TabCore

@Suite struct GradientPenaltyTests {
  static let pac = 2, width = 3, hidden = 5, slope: Float = 0.2

  /// A critic, an x̂ interpolated between random real and fake batches, and the forward's saved
  /// activations at x̂. `masked`: dropout with p = 0.5 through fixed masks (0 or 2); else none.
  struct Setup {
    let t: TestBuffers
    let arena: ParameterArena
    let critic: CriticNetwork
    let xHat: Matrix
    let y: Matrix
    let saved: CriticNetwork.Saved
    let reference: CriticInDouble

    init(seed: UInt64, rows: Int, masked: Bool) {
      let inputs = GradientPenaltyTests.pac * GradientPenaltyTests.width
      let hidden = GradientPenaltyTests.hidden
      t = TestBuffers(seed: seed)
      arena = ParameterArena(
        CriticNetwork.parameterShapes("critic", inputs: inputs, hidden1: hidden, hidden2: hidden))
      critic = CriticNetwork("critic", in: arena, slope: GradientPenaltyTests.slope)
      critic.initialize(using: &t.generator)
      // Unpacked (2R, 3) batches seen as R packed rows of 6, one α per packed row (pac group).
      let batch = rows * GradientPenaltyTests.pac
      let real = t.normal(batch, GradientPenaltyTests.width).reshaped(rows: rows, cols: inputs)
      let fake = t.normal(batch, GradientPenaltyTests.width).reshaped(rows: rows, cols: inputs)
      let alpha = t.zeros(rows, 1)
      t.generator.fillUniform(alpha, lower: 0, upper: 1)
      xHat = t.zeros(rows, inputs)
      GradientPenalty.interpolate(real: real, fake: fake, alpha: alpha, into: xHat)
      for r in 0..<rows {
        for j in 0..<inputs {
          let expected = alpha[r, 0] * real[r, j] + (1 - alpha[r, 0]) * fake[r, j]
          #expect(abs(xHat[r, j] - expected) <= 1e-6, "x̂[\(r), \(j)] \(xHat[r, j]) vs \(expected)")
        }
      }
      saved = CriticNetwork.Saved(rows: rows, critic: critic, dropout: masked, in: t.workspace)
      for mask in [saved.mask1, saved.mask2].compactMap({ $0 }) {
        for i in 0..<mask.count { mask.base[i] = t.generator.uniformFloat() < 0.5 ? 0 : 2 }
      }
      y = t.zeros(rows, 1)
      critic.forward(xHat, into: y, saving: saved)
      reference = CriticInDouble(critic, mask1: saved.mask1, mask2: saved.mask2)
    }

    /// The smallest |pre-activation| of the Double critic at x̂.
    var closestKink: Double {
      let x = doubles(xHat)
      var closest = Double.infinity
      for r in 0..<xHat.rows {
        let (a1, a2, _) = reference.layers(x, row: r)
        closest = min(closest, (a1 + a2).map(abs).min()!)
      }
      return closest
    }

    /// The first seed from `seed` on whose point no LeakyReLU input is within 1e-3 of 0.
    static func awayFromKinks(seed: UInt64, rows: Int, masked: Bool) -> Setup {
      var seed = seed
      while true {
        let setup = Setup(seed: seed, rows: rows, masked: masked)
        if setup.closestKink >= 1e-3 { return setup }
        seed += 1000
      }
    }
  }

  @Test(arguments: [false, true])
  func inputGradientMatchesDifferencesOfTheCritic(masked: Bool) {
    let s = Setup.awayFromKinks(seed: masked ? 11 : 10, rows: 4, masked: masked)
    let penalty = GradientPenalty(critic: s.critic)
    let buffers = GradientPenalty.Buffers(rows: 4, critic: s.critic, in: s.t.workspace)
    penalty.inputGradient(saved: s.saved, buffers: buffers)

    let x = doubles(s.xHat)
    expectClose(
      "critic forward", s.y.toArray(), s.reference.outputs(x).map { Float($0) }, absolute: 1e-5,
      relative: 1e-5)
    // Row r of D(x̂) depends on row r of x̂ only, so ∂(Σ_r D(x̂_r))/∂x̂ is g, row by row.
    expectGradient("g = ∂D/∂x̂ (masked: \(masked))", analytic: buffers.g.toArray(), at: x) {
      s.reference.outputs($0).reduce(0, +)
    }
    // The reference's own analytic input gradient, which the penalty check below builds on.
    expectGradient(
      "reference g (masked: \(masked))", analytic: s.reference.inputGradient(x).map { Float($0) },
      at: x
    ) { s.reference.outputs($0).reduce(0, +) }
    #expect(s.arena.grads.allSatisfy { $0 == 0 }, "inputGradient touched a parameter gradient")
  }

  @Test(arguments: [false, true])
  func parameterGradientMatchesDifferencesOfThePenalty(masked: Bool) {
    let s = Setup.awayFromKinks(seed: masked ? 21 : 20, rows: 4, masked: masked)
    let lambda: Float = 10
    let penalty = GradientPenalty(critic: s.critic, lambda: lambda)
    let buffers = GradientPenalty.Buffers(rows: 4, critic: s.critic, in: s.t.workspace)
    // Random gradients beforehand, so the check also proves backward accumulates (+=).
    for parameter in s.arena.parameters { s.t.generator.fillNormal(parameter.grad) }
    let before = s.arena.parameters.map { $0.grad.toArray() }

    let gp = penalty.forward(saved: s.saved, buffers: buffers)
    penalty.backward(saved: s.saved, buffers: buffers)

    let x = doubles(s.xHat)
    let l = Double(lambda)
    let expected = s.reference.penalty(x, lambda: l)
    #expect(
      abs(Double(gp) - expected) <= 1e-5 * max(1, abs(expected)), "GP \(gp) vs \(expected)")
    #expect(expected > 1e-2, "GP \(expected) is too small for the check to mean anything")

    for (index, parameter) in s.arena.parameters.enumerated() {
      let analytic = accumulated(parameter.grad, since: before[index])
      let point = doubles(parameter.value)
      expectGradient("∂GP/∂\(parameter.name) (masked: \(masked))", analytic: analytic, at: point) {
        var critic = s.reference
        critic.set(parameter: index, to: $0)
        return critic.penalty(x, lambda: l)
      }
      if parameter.name.hasSuffix(".bias") {
        #expect(analytic.allSatisfy { $0 == 0 }, "\(parameter.name) got a penalty gradient")
      }
    }
    // ∂GP/∂x̂ is zero away from the kinks (the file comment of GradientPenalty.swift).
    expectGradient("∂GP/∂x̂ = 0", analytic: [Float](repeating: 0, count: x.count), at: x) {
      s.reference.penalty($0, lambda: l)
    }
  }

  @Test func doublingLambdaDoublesThePenaltyAndItsGradient() {
    let s = Setup.awayFromKinks(seed: 30, rows: 4, masked: true)
    let buffers = GradientPenalty.Buffers(rows: 4, critic: s.critic, in: s.t.workspace)
    func run(lambda: Float) -> (gp: Float, grads: [Float]) {
      s.arena.zeroGradients()
      let penalty = GradientPenalty(critic: s.critic, lambda: lambda)
      let gp = penalty.forward(saved: s.saved, buffers: buffers)
      penalty.backward(saved: s.saved, buffers: buffers)
      return (gp, Array(s.arena.grads))
    }
    let single = run(lambda: 10)
    let double = run(lambda: 20)
    #expect(single.grads.contains { $0 != 0 })
    expectClose("GP at 2λ", [double.gp], [2 * single.gp], relative: 1e-6)
    expectClose("gradient at 2λ", double.grads, single.grads.map { 2 * $0 }, relative: 1e-6)
  }

  @Test func unitNormGivesZeroPenaltyAndZeroGradient() {
    // g is linear in W3 (B5 to B1) and the gains do not depend on W3, so dividing W3 by ‖g‖
    // puts the single row at the penalty's minimum, where GP and its gradient vanish.
    let s = Setup.awayFromKinks(seed: 40, rows: 1, masked: false)
    let penalty = GradientPenalty(critic: s.critic)
    let buffers = GradientPenalty.Buffers(rows: 1, critic: s.critic, in: s.t.workspace)
    let gp = penalty.forward(saved: s.saved, buffers: buffers)
    #expect(gp > 1e-3)
    let w3 = s.critic.linear3.weight.value
    scale(w3.base, by: 1 / buffers.norm[0, 0], count: w3.count)
    s.critic.forward(s.xHat, into: s.y, saving: s.saved)
    let gpAtMinimum = penalty.forward(saved: s.saved, buffers: buffers)
    penalty.backward(saved: s.saved, buffers: buffers)
    #expect(abs(buffers.norm[0, 0] - 1) <= 1e-6, "norm \(buffers.norm[0, 0])")
    #expect(gpAtMinimum <= 1e-10, "GP at the minimum \(gpAtMinimum)")
    expectClose(
      "gradient at the minimum", Array(s.arena.grads), [Float](repeating: 0, count: s.arena.count),
      absolute: 1e-4)
  }
}

/// CTGAN's critic in Double, written out independently of TabCore: forward by loops, and the
/// input gradient by the chain rule per row, with the gains recomputed from the Double
/// pre-activations. Parameters are copies of the arena's, indexed in the arena's order.
struct CriticInDouble {
  /// W1, b1, W2, b2, W3, b3, row-major as in the arena.
  var parameters: [[Double]]
  let inputs: Int, hidden1: Int, hidden2: Int
  let slope: Double
  let mask1: [Double]?, mask2: [Double]?

  init(_ critic: CriticNetwork, mask1: Matrix?, mask2: Matrix?) {
    let layers = [critic.linear1, critic.linear2, critic.linear3]
    parameters = layers.flatMap { [doubles($0.weight.value), doubles($0.bias!.value)] }
    inputs = critic.linear1.inputs
    hidden1 = critic.linear1.outputs
    hidden2 = critic.linear2.outputs
    slope = Double(critic.slope)
    self.mask1 = mask1.map(doubles)
    self.mask2 = mask2.map(doubles)
  }

  mutating func set(parameter index: Int, to value: [Double]) {
    parameters[index] = value
  }

  /// Row r's pre-activations a1, a2 and output y.
  func layers(_ x: [Double], row r: Int) -> (a1: [Double], a2: [Double], y: Double) {
    let (w1, b1, w2, b2, w3, b3) = (
      parameters[0], parameters[1], parameters[2], parameters[3], parameters[4], parameters[5]
    )
    var a1 = b1
    var h1 = [Double](repeating: 0, count: hidden1)
    for k in 0..<hidden1 {
      for p in 0..<inputs { a1[k] += w1[k * inputs + p] * x[r * inputs + p] }
      h1[k] = (a1[k] > 0 ? a1[k] : slope * a1[k]) * (mask1?[r * hidden1 + k] ?? 1)
    }
    var a2 = b2
    var h2 = [Double](repeating: 0, count: hidden2)
    for j in 0..<hidden2 {
      for k in 0..<hidden1 { a2[j] += w2[j * hidden1 + k] * h1[k] }
      h2[j] = (a2[j] > 0 ? a2[j] : slope * a2[j]) * (mask2?[r * hidden2 + j] ?? 1)
    }
    var y = b3[0]
    for j in 0..<hidden2 { y += w3[j] * h2[j] }
    return (a1, a2, y)
  }

  /// D(x) for every row.
  func outputs(_ x: [Double]) -> [Double] {
    (0..<x.count / inputs).map { layers(x, row: $0).y }
  }

  /// ∂D(x_r)/∂x_r for every row r, row-major (R, P).
  func inputGradient(_ x: [Double]) -> [Double] {
    let (w1, w2, w3) = (parameters[0], parameters[2], parameters[4])
    var g = [Double](repeating: 0, count: x.count)
    for r in 0..<x.count / inputs {
      let (a1, a2, _) = layers(x, row: r)
      // ∂y/∂a2_j = W3_j · mask2 · φ'(a2_j); ∂y/∂a1_k = Σ_j ∂y/∂a2_j · W2_jk · mask1 · φ'(a1_k).
      let ya2 = (0..<hidden2).map { j in
        w3[j] * (mask2?[r * hidden2 + j] ?? 1) * (a2[j] > 0 ? 1 : slope)
      }
      for k in 0..<hidden1 {
        var ya1 = 0.0
        for j in 0..<hidden2 { ya1 += ya2[j] * w2[j * hidden1 + k] }
        ya1 *= (mask1?[r * hidden1 + k] ?? 1) * (a1[k] > 0 ? 1 : slope)
        for p in 0..<inputs { g[r * inputs + p] += ya1 * w1[k * inputs + p] }
      }
    }
    return g
  }

  /// λ · mean_r (‖∂D(x_r)/∂x_r‖₂ − 1)².
  func penalty(_ x: [Double], lambda: Double) -> Double {
    let g = inputGradient(x)
    let rows = x.count / inputs
    var total = 0.0
    for r in 0..<rows {
      let norm = g[r * inputs..<(r + 1) * inputs].reduce(0) { $0 + $1 * $1 }.squareRoot()
      total += (norm - 1) * (norm - 1)
    }
    return lambda * total / Double(rows)
  }
}
