// Finite-difference checks of the GAN's backward passes: the generator-and-Q loss (residual
// blocks, BatchNorm, tanh and Gumbel-softmax heads, conditional cross-entropy, Q's
// cross-entropy and Gaussian NLL) and the critic loss (Wasserstein + gradient penalty), each
// along random directions in parameter space, replaying every random draw.

import TabCore
import TabGAN
import Testing

/// (L(θ + εd) − L(θ − εd)) / 2ε against ∇L · d for a random unit direction d within the
/// tensor `only` (or across all tensors if nil).
func directionalCheck(
  _ arena: ParameterArena, seed: UInt64, only: String? = nil, epsilon: Float = 1e-2,
  loss: () -> Float
) -> (analytic: Double, numeric: Double) {
  arena.zeroGradients()
  _ = loss()
  let values = arena.values
  let grads = arena.grads
  let gradient = Array(grads)
  var random = SeededGenerator(seed: seed)
  var direction = [Float](repeating: 0, count: values.count)
  var norm: Double = 0
  for parameter in arena.parameters where only == nil || parameter.name == only {
    for k in 0..<parameter.value.count {
      let d = random.normal()
      direction[parameter.offset + k] = d
      norm += Double(d * d)
    }
  }
  let scale = Float(1 / norm.squareRoot())
  var analytic = 0.0
  for k in direction.indices {
    direction[k] *= scale
    analytic += Double(direction[k]) * Double(gradient[k])
  }
  let original = Array(values)
  for k in direction.indices { values[k] = original[k] + epsilon * direction[k] }
  let plus = Double(loss())
  for k in direction.indices { values[k] = original[k] - epsilon * direction[k] }
  let minus = Double(loss())
  for k in direction.indices { values[k] = original[k] }
  return (analytic, (plus - minus) / (2 * Double(epsilon)))
}

@Suite struct GradientTests {
  @Test(arguments: [(4, 1), (0, 2), (3, 0)])
  func generatorAndQLoss(codes: (Int, Int)) throws {
    let config = tinyConfig(categorical: codes.0, continuous: codes.1)
    let s = try setup(try encode(syntheticCSV(rows: 120)), config: config, seed: 11)
    // A few steps first, so the check is not at the initial point only.
    for _ in 0..<3 { _ = s.trainer.epoch() }
    let state = s.trainer.random
    // Every tensor on its own (the output heads, Q's layers, each block), then all at once.
    let names = s.model.arena.parameters.map { Optional($0.name) } + [nil]
    #expect(names.contains("q.linear3.weight") == (config.codeWidth > 0))
    for (trial, name) in names.enumerated() {
      let check = directionalCheck(s.model.arena, seed: UInt64(trial), only: name) {
        s.trainer.replayedGeneratorLoss(state: state)
      }
      let error = abs(check.analytic - check.numeric)
      #expect(
        error <= 0.05 * abs(check.numeric) + 1e-3,
        "codes \(codes) \(name ?? "all"): analytic \(check.analytic), numeric \(check.numeric)")
    }
  }

  /// With the gradient penalty, biases are left out: the penalty depends on them only through
  /// the LeakyReLU kinks (its exact gradient for them is 0, GradientPenalty.swift), and a finite
  /// step in a bias moves many rows across a kink at once. Without the penalty, every tensor.
  @Test(arguments: [Float(10), 0])
  func criticLoss(penalty: Float) throws {
    var config = tinyConfig()
    config.penalty = penalty
    let s = try setup(try encode(syntheticCSV(rows: 120)), config: config, seed: 5)
    for _ in 0..<2 { _ = s.trainer.epoch() }
    let state = s.trainer.random
    let tensors = s.trainer.criticParameters.parameters.map(\.name)
      .filter { penalty == 0 || $0.hasSuffix("weight") }
    let names = tensors.map { Optional($0) } + (penalty == 0 ? [nil] : [])
    for (trial, name) in names.enumerated() {
      let check = directionalCheck(
        s.trainer.criticParameters, seed: UInt64(trial), only: name, epsilon: 1e-3
      ) {
        s.trainer.replayedCriticLoss(state: state)
      }
      let error = abs(check.analytic - check.numeric)
      #expect(
        error <= 0.05 * abs(check.numeric) + 1e-3,
        "penalty \(penalty) \(name ?? "all"): analytic \(check.analytic), numeric \(check.numeric)")
    }
  }
}
