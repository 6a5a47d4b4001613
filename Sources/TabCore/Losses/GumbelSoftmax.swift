// Gumbel-softmax with a temperature over category spans of a wider vector (Jang et al., 2017;
// Maddison et al., 2017): the relaxed one-hot sample CTGAN's generator emits for each discrete
// column, differentiable with respect to the logits.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `y[span] = softmax((x[span] + g[span]) / temperature)` for each span of each row, where
/// `g = −log(−log u)`, `u ~ U(0, 1)`, is Gumbel noise (eq. 1 of Jang et al.).
/// Shapes: x, noise, y (B, W); every span lies within `0..<W`.
///
/// Columns outside every span are neither read nor written (CTGAN applies tanh to those). The
/// noise is an explicit buffer: `drawNoise` fills it from a seeded generator, and tests pass fixed
/// noise. Backward needs only `y` and the temperature: the noise enters as a constant.
public struct GumbelSoftmax {
  public let spans: [Range<Int>]
  /// τ: as it falls towards 0 the samples approach one-hot vectors (CTGAN uses 0.2).
  public let temperature: Float

  /// - Precondition: spans are non-empty, non-negative and do not overlap; temperature > 0.
  public init(spans: [Range<Int>], temperature: Float) {
    precondition(temperature > 0, "GumbelSoftmax: temperature \(temperature) must be positive")
    var end = 0
    for span in spans.sorted(by: { $0.lowerBound < $1.lowerBound }) {
      precondition(
        !span.isEmpty && span.lowerBound >= end, "GumbelSoftmax: span \(span) empty or overlapping")
      end = span.upperBound
    }
    self.spans = spans
    self.temperature = temperature
  }

  /// Overwrites the span columns of `noise` with Gumbel draws. u is taken from the open interval
  /// (0, 1), (k + ½)·2⁻⁵³, so g is always finite: between about −3.6 and 37.4.
  /// - Precondition: every span lies within `0..<noise.cols`.
  public func drawNoise(into noise: Matrix, using generator: inout SeededGenerator) {
    checkSpans(width: noise.cols)
    for i in 0..<noise.rows {
      let row = noise.row(i)
      for span in spans {
        for j in span {
          let u = (Double(generator.next() >> 11) + 0.5) * 0x1p-53
          row[j] = Float(-log(-log(u)))
        }
      }
    }
  }

  /// Overwrites the span columns of `y` with the relaxed samples for the given noise. `y` may be
  /// `x` (backward reads only `y`).
  /// - Precondition: x, noise, y share one shape; spans lie within it.
  public func forward(_ x: Matrix, noise: Matrix, into y: Matrix) {
    precondition(
      x.rows == y.rows && x.cols == y.cols && noise.rows == x.rows && noise.cols == x.cols,
      "GumbelSoftmax: x \(x.rows)x\(x.cols), noise \(noise.rows)x\(noise.cols), y \(y.rows)x\(y.cols)"
    )
    checkSpans(width: x.cols)
    let inverseTemperature = 1 / temperature
    for i in 0..<x.rows {
      let row = x.row(i)
      let g = noise.row(i)
      let out = y.row(i)
      for span in spans {
        // z = (x + g) / τ into y, then softmax in place (it subtracts the span's maximum).
        for j in span { out[j] = (row[j] + g[j]) * inverseTemperature }
        softmax(out + span.lowerBound, into: out + span.lowerBound, count: span.count)
      }
    }
  }

  /// Draws fresh noise into `noise`, then runs `forward(_:noise:into:)`.
  public func forward(
    _ x: Matrix, into y: Matrix, noise: Matrix, using generator: inout SeededGenerator
  ) {
    drawNoise(into: noise, using: &generator)
    forward(x, noise: noise, into: y)
  }

  /// Accumulates into `dx` the gradient with respect to the logits, for each span:
  ///   dx += (1/τ) · y ⊙ (dy − Σ_span dy ⊙ y)
  /// (the softmax Jacobian diag(y) − y yᵀ, times the 1/τ from z = (x + g)/τ). Columns outside
  /// every span are left as they are.
  /// - Precondition: dy, y, dx share one shape.
  public func backward(_ dy: Matrix, output y: Matrix, dx: Matrix) {
    precondition(sameShape(dy, y, dx), "GumbelSoftmax backward: shape mismatch")
    checkSpans(width: y.cols)
    let inverseTemperature = 1 / temperature
    for i in 0..<y.rows {
      let gradOut = dy.row(i)
      let out = y.row(i)
      let gradIn = dx.row(i)
      for span in spans {
        var dot: Float = 0
        for j in span { dot += gradOut[j] * out[j] }
        for j in span { gradIn[j] += inverseTemperature * out[j] * (gradOut[j] - dot) }
      }
    }
  }

  private func checkSpans(width: Int) {
    for span in spans {
      precondition(span.upperBound <= width, "GumbelSoftmax: span \(span) outside 0..<\(width)")
    }
  }
}
