// The whole VAE's backward (tokenizer, both encoders, reparameterisation, decoder, heads, loss)
// against central differences of an independent Double re-implementation of tabsyn.md §2, on
// every parameter of a tiny two-layer configuration with ε fixed. The Double forward is written
// from the spec, not from TabVAE: layer 0 has no LayerNorm before its attention, layer 1 has.

import Testing

@testable import TabCore
@testable import TabVAE

#if canImport(Glibc)
  import Glibc
#endif

/// The VAE's loss in Double for one batch and noise, parameters given by arena name.
struct ReferenceVAE {
  let config: VAEConfig
  let rows: Int
  let numbers: [Double]  // (B, n)
  let codes: [Int]  // (B, C)
  let noise: [Double]  // (B·N, D)
  let beta: Double

  func loss(_ p: [String: [Double]]) -> Double {
    let n = config.numerical, c = config.categories.count, d = config.width
    let tokens = config.tokens
    let w = p["tokenizer.weight"]!, bias = p["tokenizer.bias"]!
    let table = p["tokenizer.category_embeddings.weight"]!
    var x = [Double](repeating: 0, count: rows * tokens * d)
    for b in 0..<rows {
      let row = b * tokens * d
      for k in 0..<d {
        x[row + k] = w[k]  // [CLS]: input 1, no bias
        for i in 0..<n {
          x[row + (1 + i) * d + k] = numbers[b * n + i] * w[(1 + i) * d + k] + bias[i * d + k]
        }
        var offset = 0
        for j in 0..<c {
          x[row + (1 + n + j) * d + k] =
            table[(offset + codes[b * c + j]) * d + k] + bias[(n + j) * d + k]
          offset += config.categories[j]
        }
      }
    }
    let mu = transformer(x, tokens: tokens, "encoder_mu", p)
    let logVariance = transformer(x, tokens: tokens, "encoder_logvar", p)
    var z = [Double](repeating: 0, count: rows * (tokens - 1) * d)
    for b in 0..<rows {
      for t in 1..<tokens {
        for k in 0..<d {
          let s = (b * tokens + t) * d + k
          z[(b * (tokens - 1) + t - 1) * d + k] = mu[s] + exp(0.5 * logVariance[s]) * noise[s]
        }
      }
    }
    let h = transformer(z, tokens: tokens - 1, "decoder", p)
    let r = p["reconstruction.weight"]!
    var squares = 0.0
    for b in 0..<rows {
      for i in 0..<n {
        var prediction = 0.0
        for k in 0..<d { prediction += h[(b * (tokens - 1) + i) * d + k] * r[i * d + k] }
        squares += (prediction - numbers[b * n + i]) * (prediction - numbers[b * n + i])
      }
    }
    var crossEntropy = 0.0
    for j in 0..<c {
      for b in 0..<rows {
        let start = (b * (tokens - 1) + n + j) * d
        let logits = linear(
          Array(h[start..<start + d]), rows: 1, p["heads.\(j).weight"]!, p["heads.\(j).bias"]!)
        let largest = logits.max()!
        let logSum = largest + log(logits.reduce(0) { $0 + exp($1 - largest) })
        crossEntropy += logSum - logits[codes[b * c + j]]
      }
    }
    var kl = 0.0
    for s in 0..<mu.count {
      kl += -0.5 * (1 + logVariance[s] - mu[s] * mu[s] - exp(logVariance[s]))
    }
    return squares / Double(rows * n) + crossEntropy / Double(rows * c) + beta * kl / Double(mu.count)
  }

  private func transformer(_ input: [Double], tokens: Int, _ name: String, _ p: [String: [Double]])
    -> [Double]
  {
    var x = input
    let count = rows * tokens, d = config.width
    for l in 0..<config.layers {
      let prefix = "\(name).layers.\(l)."
      let h = l == 0 ? x : layerNorm(x, p[prefix + "norm0.weight"]!, p[prefix + "norm0.bias"]!)
      let a = prefix + "attention."
      let q = linear(h, rows: count, p[a + "query.weight"]!, p[a + "query.bias"]!)
      let k = linear(h, rows: count, p[a + "key.weight"]!, p[a + "key.bias"]!)
      let v = linear(h, rows: count, p[a + "value.weight"]!, p[a + "value.bias"]!)
      var residual = x
      for b in 0..<rows {
        for i in 0..<tokens {
          let qi = (b * tokens + i) * d
          var scores = (0..<tokens).map { j in
            (0..<d).reduce(0.0) { $0 + q[qi + $1] * k[(b * tokens + j) * d + $1] }
              / Double(d).squareRoot()
          }
          let largest = scores.max()!
          scores = scores.map { exp($0 - largest) }
          let total = scores.reduce(0, +)
          for j in 0..<tokens {
            for e in 0..<d { residual[qi + e] += scores[j] / total * v[(b * tokens + j) * d + e] }
          }
        }
      }
      let normed = layerNorm(residual, p[prefix + "norm1.weight"]!, p[prefix + "norm1.bias"]!)
      let hidden = linear(normed, rows: count, p[prefix + "linear0.weight"]!, p[prefix + "linear0.bias"]!)
        .map { max($0, 0) }
      let feedForward = linear(
        hidden, rows: count, p[prefix + "linear1.weight"]!, p[prefix + "linear1.bias"]!)
      x = zip(residual, feedForward).map { $0 + $1 }
    }
    return x
  }

  private func layerNorm(_ x: [Double], _ gamma: [Double], _ beta: [Double]) -> [Double] {
    let d = gamma.count
    var y = x
    for r in 0..<x.count / d {
      let row = x[r * d..<(r + 1) * d]
      let mean = row.reduce(0, +) / Double(d)
      let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d)
      let rstd = 1 / (variance + 1e-5).squareRoot()
      for k in 0..<d { y[r * d + k] = (x[r * d + k] - mean) * rstd * gamma[k] + beta[k] }
    }
    return y
  }

  private func linear(_ x: [Double], rows: Int, _ weight: [Double], _ bias: [Double]) -> [Double] {
    let outputs = bias.count, inputs = weight.count / outputs
    var y = [Double](repeating: 0, count: rows * outputs)
    for r in 0..<rows {
      for o in 0..<outputs {
        var total = bias[o]
        for i in 0..<inputs { total += x[r * inputs + i] * weight[o * inputs + i] }
        y[r * outputs + o] = total
      }
    }
    return y
  }
}

@Suite struct VAEGradientTests {
  @Test func wholeModelBackwardMatchesFiniteDifferences() {
    let config = VAEConfig(numerical: 2, categories: [3, 2, 4], width: 4, layers: 2, heads: 1, hidden: 8)
    let rows = 2
    let beta: Float = 0.05
    let model = VAEModel(config)
    var generator = SeededGenerator(seed: 11)
    model.initialize(using: &generator)
    // Non-zero attention biases and layer norms away from 1/0, so every term is exercised.
    for p in model.parameters.arena.parameters where p.name.contains("bias") || p.name.contains("norm") {
      for i in 0..<p.value.count { p.value.base[i] += 0.2 * generator.normal() }
    }
    let w = model.workspace(rows: rows, training: true)
    generator.fillNormal(w.numbers)
    for b in 0..<rows {
      for (j, k) in config.categories.enumerated() {
        w.codes[b * config.categories.count + j] = Int32(generator.uniformInt(below: k))
      }
    }
    generator.fillNormal(w.noise)
    let loss = model.forward(w, beta: beta, sample: true)
    model.parameters.arena.zeroGradients()
    model.backward(w, beta: beta)

    let reference = ReferenceVAE(
      config: config, rows: rows, numbers: w.numbers.toArray().map(Double.init),
      codes: w.codes.map(Int.init), noise: w.noise.toArray().map(Double.init), beta: Double(beta))
    var values: [String: [Double]] = [:]
    for p in model.parameters.arena.parameters { values[p.name] = p.value.toArray().map(Double.init) }
    #expect(abs(reference.loss(values) - Double(loss.total)) < 1e-4 * max(1, abs(Double(loss.total))))

    for p in model.parameters.arena.parameters {
      var point = values
      let analytic = p.grad.toArray()
      let start = values[p.name]!
      var worst = (excess: 0.0, index: -1, analytic: 0.0, numeric: 0.0)
      for i in 0..<start.count {
        let h = 1e-6 * max(1, abs(start[i]))
        point[p.name]![i] = start[i] + h
        let up = reference.loss(point)
        point[p.name]![i] = start[i] - h
        let down = reference.loss(point)
        point[p.name]![i] = start[i]
        let numeric = (up - down) / (2 * h)
        let excess = abs(Double(analytic[i]) - numeric) / (1e-3 * max(1e-2, abs(numeric)) + 2e-5)
        if excess > worst.excess { worst = (excess, i, Double(analytic[i]), numeric) }
      }
      #expect(
        worst.excess <= 1,
        "\(p.name)[\(worst.index)]: analytic \(worst.analytic), numeric \(worst.numeric)")
    }
  }

  @Test func layerZeroHasNoPreAttentionNorm() {
    let config = VAEConfig(numerical: 1, categories: [2], layers: 3)
    let model = VAEModel(config)
    let names = Set(model.parameters.arena.parameters.map(\.name))
    #expect(!names.contains("encoder_mu.layers.0.norm0.weight"))
    #expect(names.contains("encoder_mu.layers.1.norm0.weight"))
    #expect(names.contains("decoder.layers.2.norm0.weight"))
    #expect(!names.contains("encoder_mu.layers.0.attention.output.weight"))  // one head: none
  }
}
