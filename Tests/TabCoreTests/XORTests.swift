// End to end: a 2 -> 8 -> 1 tanh MLP learns XOR with Adam from a fixed seed, and two runs give
// bit-identical weights. Written the way a model's training loop is: a workspace sized once,
// forward as a list of layer calls, backward as that list reversed, then the optimizer.

import Testing

@testable import TabCore

/// Trains the XOR network for `steps` full-batch steps; returns the final loss and the weights.
private func trainXOR(seed: UInt64, steps: Int) -> (loss: Float, weights: [Float]) {
  // B = 4 rows, inputs 2, hidden 8, output 1.
  let arena = ParameterArena(
    Linear.parameterShapes("fc1", inputs: 2, outputs: 8)
      + Linear.parameterShapes("fc2", inputs: 8, outputs: 1))
  let fc1 = Linear("fc1", in: arena), fc2 = Linear("fc2", in: arena), tanh = Tanh()
  var generator = SeededGenerator(seed: seed)
  fc1.initialize(using: &generator)
  fc2.initialize(using: &generator)

  let workspace = Workspace()
  let x = workspace.matrix(rows: 4, cols: 2)  // (B, 2)
  let target = workspace.matrix(rows: 4, cols: 1)  // (B, 1)
  let preactivation = workspace.matrix(rows: 4, cols: 8)  // (B, 8)
  let hidden = workspace.matrix(rows: 4, cols: 8)  // (B, 8)
  let y = workspace.matrix(rows: 4, cols: 1)  // (B, 1)
  let dy = workspace.matrix(rows: 4, cols: 1)
  let dHidden = workspace.matrix(rows: 4, cols: 8)
  let dPreactivation = workspace.matrix(rows: 4, cols: 8)
  for (i, (a, b)) in [(0, 0), (0, 1), (1, 0), (1, 1)].enumerated() {
    x[i, 0] = Float(a)
    x[i, 1] = Float(b)
    target[i, 0] = Float(a ^ b)
  }

  var adam = Adam(learningRate: 0.05)
  var loss: Float = .infinity
  for _ in 0..<steps {
    // Forward.
    fc1.forward(x, into: preactivation)
    tanh.forward(preactivation, into: hidden)
    fc2.forward(hidden, into: y)
    // Zero gradients (parameters and activations), then backward in reverse order.
    arena.zeroGradients()
    dy.zero()
    dHidden.zero()
    dPreactivation.zero()
    loss = meanSquaredError(y, target: target, gradient: dy)  // seeds dy = 2(y − t)/B
    fc2.backward(dy, input: hidden, dx: dHidden)
    tanh.backward(dHidden, output: hidden, dx: dPreactivation)
    fc1.backward(dPreactivation, input: x, dx: nil)
    adam.update(arena)
  }
  // The loss of the final weights.
  fc1.forward(x, into: preactivation)
  tanh.forward(preactivation, into: hidden)
  fc2.forward(hidden, into: y)
  loss = meanSquaredError(y, target: target, gradient: nil)
  return (loss, Array(arena.values))
}

@Suite struct XORTests {
  @Test func learnsXORReproducibly() {
    let first = trainXOR(seed: 2024, steps: 300)
    let second = trainXOR(seed: 2024, steps: 300)
    #expect(first.loss < 0.01, "XOR loss after training: \(first.loss)")
    #expect(first.weights.map(\.bitPattern) == second.weights.map(\.bitPattern))
    #expect(first.loss.bitPattern == second.loss.bitPattern)
  }
}
