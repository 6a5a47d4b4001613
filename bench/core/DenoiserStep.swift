// Case (a): one training step of TabSyn's denoiser main path (tabsyn.md §3.2), the GEMM-bound
// case of issue #3, and the bare products of the same shapes for the "% of sgemm" figure.
//
// B = 4096 rows; widths 60 -> 1024 -> 2048 -> 2048 -> 1024 -> 60. SiLU follows the 2nd, 3rd and
// 4th Linear (the first feeds the noise-embedding sum in MLPDiffusion, left out here), as
// bench/torch_reference.py. MSE against a fixed random target, Adam lr 1e-3.

import TabCore

final class DenoiserStep {
  static let batch = 4096
  static let widths = [60, 1024, 2048, 2048, 1024, 60]

  /// 2·m·n·k of the five forward products; a step counts 3x (backward = 2x forward), as the
  /// PyTorch side does (that count includes layer 0's dX, which neither side computes).
  static var forwardFlop: Double {
    zip(widths.dropLast(), widths.dropFirst()).reduce(0.0) { total, pair in
      total + 2 * Double(batch) * Double(pair.0) * Double(pair.1)
    }
  }
  static var stepFlop: Double { 3 * forwardFlop }

  let arena: ParameterArena
  let layers: [Linear]
  let workspace = Workspace()
  let x: Matrix  // (B, 60)
  let target: Matrix  // (B, 60)
  /// a_i, layer i's output (B, widths[i + 1]); a_4 is the prediction.
  let pre: [Matrix]
  /// SiLU(a_i) for i in 1...3 (B, widths[i + 1]); index 0 and 4 unused (a_0 feeds layer 1 as is).
  let post: [Matrix?]
  let dPre: [Matrix]
  let dPost: [Matrix?]
  var adam = Adam(learningRate: 1e-3)
  let silu = SiLU()

  init(generator: inout SeededGenerator) {
    let widths = Self.widths
    let b = Self.batch
    let count = widths.count - 1
    arena = ParameterArena(
      (0..<count).flatMap {
        Linear.parameterShapes("layer\($0)", inputs: widths[$0], outputs: widths[$0 + 1])
      })
    let arena = self.arena
    layers = (0..<count).map { Linear("layer\($0)", in: arena) }
    for layer in layers { layer.initialize(using: &generator) }
    x = workspace.matrix(rows: b, cols: widths[0])
    target = workspace.matrix(rows: b, cols: widths[count])
    generator.fillNormal(x)
    generator.fillNormal(target)
    let ws = workspace
    pre = (0..<count).map { ws.matrix(rows: b, cols: widths[$0 + 1]) }
    dPre = (0..<count).map { ws.matrix(rows: b, cols: widths[$0 + 1]) }
    post = (0..<count).map { Self.hasSiLU($0) ? ws.matrix(rows: b, cols: widths[$0 + 1]) : nil }
    dPost = (0..<count).map { Self.hasSiLU($0) ? ws.matrix(rows: b, cols: widths[$0 + 1]) : nil }
  }

  static func hasSiLU(_ i: Int) -> Bool { i >= 1 && i <= 3 }

  /// Layer i's input: x, a_0, or SiLU(a_{i−1}).
  func input(_ i: Int) -> Matrix { i == 0 ? x : (post[i - 1] ?? pre[i - 1]) }

  /// Forward, MSE, zeroed gradients, backward, Adam. Returns the loss before the update.
  func step() -> Float {
    let loss = lossAndGradients()
    adam.update(arena)
    return loss
  }

  /// Forward, MSE, zeroed gradients, backward: the step without the update.
  func lossAndGradients() -> Float {
    let last = layers.count - 1
    for i in 0...last {
      layers[i].forward(input(i), into: pre[i])
      if let h = post[i] { silu.forward(pre[i], into: h) }
    }
    arena.zeroGradients()
    dPre[last].zero()
    let loss = meanSquaredError(pre[last], target: target, gradient: dPre[last])
    for i in stride(from: last, through: 0, by: -1) {
      // Layer 0's input is the data: no dX (PyTorch skips it too).
      let dInput: Matrix? = i == 0 ? nil : (dPost[i - 1] ?? dPre[i - 1])
      dInput?.zero()
      layers[i].backward(dPre[i], input: input(i), dx: dInput)
      if i > 0, let dh = dPost[i - 1] {
        dPre[i - 1].zero()
        silu.backward(dh, input: pre[i - 1], dx: dPre[i - 1])
      }
    }
    return loss
  }
}

/// The step's 15 products as bare `gemm` calls (TabCore's wrapper over cblas_sgemm, same
/// transposes and beta as `Linear`): per layer Y = X·Wᵀ, dX = dY·W, dW = dYᵀ·X.
final class DenoiserGEMMs {
  struct Product {
    let a: Matrix
    let b: Matrix
    let c: Matrix
    let transposeA: Bool
    let transposeB: Bool
  }

  let workspace = Workspace()
  var products: [Product] = []

  init(generator: inout SeededGenerator) {
    let b = DenoiserStep.batch
    let widths = DenoiserStep.widths
    for (inputs, outputs) in zip(widths.dropLast(), widths.dropFirst()) {
      let x = workspace.matrix(rows: b, cols: inputs)
      let w = workspace.matrix(rows: outputs, cols: inputs)
      let y = workspace.matrix(rows: b, cols: outputs)
      let dy = workspace.matrix(rows: b, cols: outputs)
      let dx = workspace.matrix(rows: b, cols: inputs)
      let dw = workspace.matrix(rows: outputs, cols: inputs)
      for m in [x, w, dy] { generator.fillNormal(m, standardDeviation: 0.01) }
      products.append(Product(a: x, b: w, c: y, transposeA: false, transposeB: true))
      products.append(Product(a: dy, b: w, c: dx, transposeA: false, transposeB: false))
      products.append(Product(a: dy, b: x, c: dw, transposeA: true, transposeB: false))
    }
  }

  /// Median milliseconds of each product over `repeats` calls after one warm-up call.
  func time(repeats: Int) -> [Double] {
    products.map { p in
      median(
        timeSteps(steps: repeats, warmup: 1) {
          gemm(p.a, p.b, transposeA: p.transposeA, transposeB: p.transposeB, into: p.c, beta: 1)
        })
    }
  }
}
