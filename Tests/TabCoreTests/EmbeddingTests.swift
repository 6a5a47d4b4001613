// The tokenizers (Layers/Embedding.swift) against a Double re-implementation of their forward, and
// their backward against central finite differences of it (GradientCheck.swift). The objective is
// L = Σ w ⊙ y for a fixed random w; gradients start from random values, so the checks also prove
// that backward accumulates. Codes repeat across rows, so the table's scatter-add is exercised.

import Testing

@testable import TabCore

@Suite struct EmbeddingTests {
  /// Random codes (B, C), code j in 0 ..< K_j.
  private func randomCodes(_ t: TestBuffers, rows: Int, categories: [Int]) -> [Int32] {
    (0..<rows * categories.count).map {
      Int32(t.generator.uniformInt(below: categories[$0 % categories.count]))
    }
  }

  @Test(arguments: [
    (rows: 1, categories: [1], width: 1), (rows: 4, categories: [3, 1, 2], width: 4),
    (rows: 5, categories: [2, 5], width: 3),
  ])
  func embedding(rows: Int, categories: [Int], width: Int) {
    let t = TestBuffers(seed: UInt64(rows * 31 + width + categories.count))
    let arena = ParameterArena(
      Embedding.parameterShapes("emb", categories: categories, width: width, bias: true))
    let layer = Embedding("emb", in: arena, categories: categories, bias: true)
    layer.initialize(using: &t.generator)
    let bias = layer.bias!
    t.generator.fillNormal(layer.table.grad)
    t.generator.fillNormal(bias.grad)
    let codes = randomCodes(t, rows: rows, categories: categories)
    // Tokens 1 ..< 1+C of N = C + 2: the first and last tokens must be left alone.
    let columns = categories.count
    let tokens = columns + 2
    let y = t.normal(rows, tokens * width)
    let w = t.normal(rows, tokens * width)
    let y0 = y.toArray()
    let dE0 = layer.table.grad.toArray()
    let db0 = bias.grad.toArray()

    codes.withUnsafeBufferPointer { codes in
      layer.forward(codes, into: y, atToken: 1)
      layer.backward(w, codes: codes, atToken: 1)
    }

    let offsets = categories.indices.map { categories[..<$0].reduce(0, +) }
    #expect(layer.offsets == offsets)
    let wd = doubles(w)
    func embed(_ table: [Double], _ b: [Double]) -> [Double] {
      var y = y0.map(Double.init)
      for i in 0..<rows {
        for j in 0..<columns {
          let row = offsets[j] + Int(codes[i * columns + j])
          for d in 0..<width {
            y[(i * tokens + 1 + j) * width + d] = table[row * width + d] + b[j * width + d]
          }
        }
      }
      return y
    }
    func objective(_ table: [Double], _ b: [Double]) -> Double {
      zip(embed(table, b), wd).reduce(0) { $0 + $1.0 * $1.1 }
    }
    let table = doubles(layer.table.value)
    let bd = doubles(bias.value)
    expectClose(
      "Embedding forward", y.toArray(), embed(table, bd).map { Float($0) }, absolute: 1e-6,
      relative: 1e-6)
    expectGradient("Embedding dE", analytic: accumulated(layer.table.grad, since: dE0), at: table) {
      objective($0, bd)
    }
    expectGradient("Embedding db", analytic: accumulated(bias.grad, since: db0), at: bd) {
      objective(table, $0)
    }
  }

  @Test(arguments: [
    (rows: 1, columns: 1, width: 1), (rows: 3, columns: 2, width: 4),
    (rows: 2, columns: 5, width: 3),
  ])
  func numericalTokenizer(rows: Int, columns: Int, width: Int) {
    let t = TestBuffers(seed: UInt64(100 + rows * 7 + columns * 3 + width))
    let arena = ParameterArena(
      NumericalTokenizer.parameterShapes("num", columns: columns, width: width))
    let layer = NumericalTokenizer("num", in: arena)
    layer.initialize(using: &t.generator)
    let bias = layer.bias!
    t.generator.fillNormal(layer.weight.grad)
    t.generator.fillNormal(bias.grad)
    let x = t.normal(rows, columns)
    let dx = t.normal(rows, columns)
    let y = t.zeros(rows, columns * width)
    let w = t.normal(rows, columns * width)
    let dx0 = dx.toArray()
    let dW0 = layer.weight.grad.toArray()
    let db0 = bias.grad.toArray()

    layer.forward(x, into: y)
    layer.backward(w, input: x, dx: dx)

    let wd = doubles(w)
    func tokenize(_ x: [Double], _ weight: [Double], _ b: [Double]) -> [Double] {
      (0..<rows * columns * width).map { index in
        let (i, j, d) = (index / (columns * width), index / width % columns, index % width)
        return x[i * columns + j] * weight[j * width + d] + b[j * width + d]
      }
    }
    func objective(_ x: [Double], _ weight: [Double], _ b: [Double]) -> Double {
      zip(tokenize(x, weight, b), wd).reduce(0) { $0 + $1.0 * $1.1 }
    }
    let xd = doubles(x)
    let weightD = doubles(layer.weight.value)
    let bd = doubles(bias.value)
    expectClose(
      "NumericalTokenizer forward", y.toArray(), tokenize(xd, weightD, bd).map { Float($0) },
      absolute: 1e-6, relative: 1e-6)
    expectGradient("NumericalTokenizer dx", analytic: accumulated(dx, since: dx0), at: xd) {
      objective($0, weightD, bd)
    }
    expectGradient(
      "NumericalTokenizer dW", analytic: accumulated(layer.weight.grad, since: dW0), at: weightD
    ) { objective(xd, $0, bd) }
    expectGradient("NumericalTokenizer db", analytic: accumulated(bias.grad, since: db0), at: bd) {
      objective(xd, weightD, $0)
    }
  }

  @Test(arguments: [
    (rows: 3, numerical: 2, categories: [3, 2], width: 4),
    (rows: 2, numerical: 1, categories: [1], width: 1),
    (rows: 2, numerical: 0, categories: [2, 3, 1], width: 3),
    (rows: 3, numerical: 3, categories: [Int](), width: 2),
  ])
  func featureTokenizer(rows: Int, numerical: Int, categories: [Int], width: Int) {
    let t = TestBuffers(seed: UInt64(200 + rows * 11 + numerical * 5 + width))
    let arena = ParameterArena(
      FeatureTokenizer.parameterShapes(
        "tok", numerical: numerical, categories: categories, width: width))
    let layer = FeatureTokenizer("tok", in: arena, categories: categories)
    layer.initialize(using: &t.generator)
    for p in [layer.weight, layer.bias, layer.table] { t.generator.fillNormal(p.grad) }
    let columns = categories.count
    let tokens = 1 + numerical + columns
    #expect(layer.tokens == tokens)
    let codes = randomCodes(t, rows: rows, categories: categories)
    let x = t.normal(rows, numerical)
    let dx = t.normal(rows, numerical)
    let y = t.normal(rows, tokens * width)
    let w = t.normal(rows, tokens * width)
    let dx0 = dx.toArray()
    let dW0 = layer.weight.grad.toArray()
    let db0 = layer.bias.grad.toArray()
    let dE0 = layer.table.grad.toArray()

    codes.withUnsafeBufferPointer { codes in
      layer.forward(x, codes: codes, into: y)
      layer.backward(w, input: x, codes: codes, dx: dx)
    }

    // tabsyn.md §2.2: t_0 = w_0; t_{1+j} = x_j w_{1+j} + b_j; t_{1+n+j} = E[off_j + c_j] + b_{n+j}.
    let offsets = categories.indices.map { categories[..<$0].reduce(0, +) }
    let wd = doubles(w)
    func tokenize(_ x: [Double], _ weight: [Double], _ b: [Double], _ table: [Double]) -> [Double] {
      var y = [Double](repeating: .nan, count: rows * tokens * width)
      for i in 0..<rows {
        for d in 0..<width {
          y[i * tokens * width + d] = weight[d]
          for j in 0..<numerical {
            y[(i * tokens + 1 + j) * width + d] =
              x[i * numerical + j] * weight[(1 + j) * width + d] + b[j * width + d]
          }
          for j in 0..<columns {
            let row = offsets[j] + Int(codes[i * columns + j])
            y[(i * tokens + 1 + numerical + j) * width + d] =
              table[row * width + d] + b[(numerical + j) * width + d]
          }
        }
      }
      return y
    }
    func objective(_ x: [Double], _ weight: [Double], _ b: [Double], _ table: [Double]) -> Double {
      zip(tokenize(x, weight, b, table), wd).reduce(0) { $0 + $1.0 * $1.1 }
    }
    let xd = doubles(x)
    let weightD = doubles(layer.weight.value)
    let bd = doubles(layer.bias.value)
    let table = doubles(layer.table.value)
    expectClose(
      "FeatureTokenizer forward", y.toArray(), tokenize(xd, weightD, bd, table).map { Float($0) },
      absolute: 1e-6, relative: 1e-6)
    expectGradient("FeatureTokenizer dx", analytic: accumulated(dx, since: dx0), at: xd) {
      objective($0, weightD, bd, table)
    }
    expectGradient(
      "FeatureTokenizer dW", analytic: accumulated(layer.weight.grad, since: dW0), at: weightD
    ) { objective(xd, $0, bd, table) }
    expectGradient(
      "FeatureTokenizer db", analytic: accumulated(layer.bias.grad, since: db0), at: bd
    ) { objective(xd, weightD, $0, table) }
    expectGradient(
      "FeatureTokenizer dE", analytic: accumulated(layer.table.grad, since: dE0), at: table
    ) { objective(xd, weightD, bd, $0) }
  }
}
