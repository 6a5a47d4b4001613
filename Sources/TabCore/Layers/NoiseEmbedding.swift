// The sinusoidal embedding of a per-row noise level (EDM's PositionalEmbedding as TabSyn's
// denoiser uses it, tabsyn.md §3.2): no parameters, forward only (the noise level is an input
// that is never differentiated).

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Sinusoidal embedding of one scalar per row into `width` features.
///
/// With F = width / 2 frequencies f_k = (1 / maxPositions)^(k / F), k = 0 ..< F (EDM's
/// `endpoint = False`), row i with noise level c_i becomes
///
///     [sin(c_i·f_0), …, sin(c_i·f_{F−1}), cos(c_i·f_0), …, cos(c_i·f_{F−1})]     (.sinFirst)
///
/// which is TabSyn's order: EDM's PositionalEmbedding returns [cos, sin] and MLPDiffusion swaps
/// the halves (`flip(1)`, model.py:123). `.cosFirst` gives EDM's unswapped order.
/// Shapes: noise (B) (any matrix of B elements, e.g. (B, 1)); y (B, width).
public struct NoiseEmbedding {
  /// Which half comes first.
  public enum Order: Sendable {
    /// [sin, cos]: TabSyn's denoiser.
    case sinFirst
    /// [cos, sin]: EDM's PositionalEmbedding as written.
    case cosFirst
  }

  /// The number of output features, 2·F.
  public let width: Int
  /// The base of the frequency ladder (10000, as the Transformer's positional encoding).
  public let maxPositions: Double
  public let order: Order
  /// f_k, k < F, computed in Double and rounded once.
  private let frequencies: [Float]

  /// - Precondition: `width` is even and at least 2; `maxPositions > 0`.
  public init(width: Int, maxPositions: Double = 10_000, order: Order = .sinFirst) {
    precondition(width >= 2 && width % 2 == 0, "NoiseEmbedding: width \(width) must be even")
    precondition(maxPositions > 0, "NoiseEmbedding: maxPositions must be positive")
    self.width = width
    self.maxPositions = maxPositions
    self.order = order
    let half = width / 2
    frequencies = (0..<half).map { k in Float(pow(1 / maxPositions, Double(k) / Double(half))) }
  }

  /// Overwrites `y`: row i is the embedding of `noise.base[i]`. The argument c_i·f_k is rounded
  /// to Float before sin and cos, as PyTorch's float32 `x.ger(freqs)` is.
  /// - Precondition: noise has B elements; y (B, width).
  public func forward(_ noise: Matrix, into y: Matrix) {
    precondition(
      noise.count == y.rows && y.cols == width,
      "NoiseEmbedding \(width): noise \(noise.count), y \(y.rows)x\(y.cols)")
    let half = width / 2
    let sineOffset = order == .sinFirst ? 0 : half
    let cosineOffset = half - sineOffset
    frequencies.withUnsafeBufferPointer { frequencies in
      for i in 0..<y.rows {
        let c = noise.base[i]
        let sines = y.row(i) + sineOffset
        let cosines = y.row(i) + cosineOffset
        for k in 0..<half {
          let angle = c * frequencies[k]
          sines[k] = sinf(angle)
          cosines[k] = cosf(angle)
        }
      }
    }
  }
}
