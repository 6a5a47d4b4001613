// Rows to latents and back, a block at a time with bounded memory (the tools' encode and decode).

import TabCore
import TabStream

#if canImport(Glibc)
  import Glibc
#endif

/// Runs a trained VAE over blocks of rows, in chunks of at most `chunkRows` rows.
public final class VAECodec {
  public let model: VAEModel
  public let chunkRows: Int
  private var workspaces: [Int: VAEWorkspace] = [:]

  public init(model: VAEModel, chunkRows: Int = 2048) {
    self.model = model
    self.chunkRows = max(chunkRows, 1)
  }

  private func workspace(rows: Int) -> VAEWorkspace {
    if let w = workspaces[rows] { return w }
    if workspaces.count >= 2 { workspaces.removeAll() }
    let w = model.workspace(rows: rows, training: false)
    workspaces[rows] = w
    return w
  }

  /// Latent rows (B, Z) of a token block: μ without [CLS], flattened token-major; with a
  /// `generator`, a draw μ + σ·ε instead.
  /// - Precondition: the block's widths are the model's n and C, codes checked.
  public func encode(_ tokens: RowBlock, sampling generator: inout SeededGenerator?) -> RowBlock {
    let config = model.config
    let n = config.numerical, c = config.categories.count, z = config.latentWidth
    var output = RowBlock(floatWidth: z, intWidth: 0, capacity: tokens.rows)
    output.resize(rows: tokens.rows)
    var first = 0
    while first < tokens.rows {
      let rows = min(chunkRows, tokens.rows - first)
      let w = workspace(rows: rows)
      if n > 0 {
        tokens.floats.withUnsafeBufferPointer {
          w.numbers.base.update(from: $0.baseAddress! + first * n, count: rows * n)
        }
      }
      for i in 0..<rows * c { w.codes[i] = tokens.ints[first * c + i] }
      let sample = generator != nil
      model.encode(w, logVariance: sample)
      if sample { generator!.fillNormal(w.noise) }
      model.reparameterize(w, sample: sample)
      output.floats.withUnsafeMutableBufferPointer {
        ($0.baseAddress! + first * z).update(from: w.latent.base, count: rows * z)
      }
      first += rows
    }
    return output
  }

  /// A token block from latent rows (B, Z): the numerical tokens x̂ and, per int field, the
  /// argmax of its logits or, with a `generator`, a draw from their softmax.
  /// - Precondition: the block has Z floats and no ints.
  public func decode(_ latents: RowBlock, sampling generator: inout SeededGenerator?) -> RowBlock {
    let config = model.config
    let n = config.numerical, c = config.categories.count, z = config.latentWidth
    var output = RowBlock(floatWidth: n, intWidth: c, capacity: latents.rows)
    output.resize(rows: latents.rows)
    let spans = config.spans
    var probabilities = [Float](repeating: 0, count: config.categories.max() ?? 1)
    var first = 0
    while first < latents.rows {
      let rows = min(chunkRows, latents.rows - first)
      let w = workspace(rows: rows)
      latents.floats.withUnsafeBufferPointer {
        w.latent.base.update(from: $0.baseAddress! + first * z, count: rows * z)
      }
      model.decode(w)
      if n > 0 {
        output.floats.withUnsafeMutableBufferPointer {
          ($0.baseAddress! + first * n).update(from: w.prediction.base, count: rows * n)
        }
      }
      for b in 0..<rows {
        let logits = w.logits.row(b)
        for (j, span) in spans.enumerated() {
          var best = span.lowerBound
          for k in span where logits[k] > logits[best] { best = k }
          var code = best - span.lowerBound
          if generator != nil {
            // softmax over the span, then one categorical draw
            let top = logits[best]
            for k in span { probabilities[k - span.lowerBound] = expf(logits[k] - top) }
            code = probabilities.withUnsafeBufferPointer {
              generator!.categorical($0.baseAddress!, count: span.count)
            }
          }
          output.ints[(first + b) * c + j] = Int32(code)
        }
      }
      first += rows
    }
    return output
  }
}
