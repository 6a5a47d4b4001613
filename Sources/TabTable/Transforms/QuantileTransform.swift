// TabSyn's numerical transform (research/tabsyn.md §1.4): a column's empirical quantiles map
// values to u in [0, 1], then Φ⁻¹ maps u to a standard normal. Inverse: Φ, then interpolation
// back through the quantiles, so decoded values always lie in [min, max].
//
// One deliberate difference from scikit-learn's QuantileTransformer: a value equal to the
// column minimum is not forced to the clip bound (−5.2) but maps, like any tied value, to the
// middle of its quantile range. sklearn sends e.g. the 91% zeros of adult's capital-gain to
// −5.2, a spike far from everything else; here they sit at Φ⁻¹(0.46) and the inverse still
// maps the whole tie range back to 0 exactly.

#if canImport(Glibc)
  import Glibc
#endif

/// A fitted quantile-to-normal transform for one column.
public struct QuantileTransform: Codable, Equatable, Sendable {
  /// Q non-decreasing reference values q_k, the column's percentiles at 100·k/(Q−1).
  public var quantiles: [Double]

  /// TabSyn's grid size: Q = max(min(⌊N/30⌋, 1000), 10).
  public static func gridSize(rows: Int) -> Int { max(min(rows / 30, 1000), 10) }

  /// The bound TabSyn clips outputs to: Φ⁻¹(1e-7 − 2.2e-16) ≈ −5.19934.
  public static let clip = 5.199337582605575

  /// Fits from distinct values sorted ascending and their counts (all finite).
  /// Percentiles use linear interpolation between order statistics, as numpy's default.
  public init(sortedValues values: [Double], counts: [Int], gridSize: Int? = nil) {
    precondition(!values.isEmpty && values.count == counts.count)
    let total = counts.reduce(0, +)
    let size = gridSize ?? Self.gridSize(rows: total)
    // cumulative[i] = number of order statistics before distinct value i.
    var cumulative = [Int](repeating: 0, count: values.count + 1)
    for i in 0..<values.count { cumulative[i + 1] = cumulative[i] + counts[i] }
    /// The order statistic of 0-based rank `rank`.
    func orderStatistic(_ rank: Int) -> Double {
      // Largest i with cumulative[i] <= rank.
      var lo = 0
      var hi = values.count
      while hi - lo > 1 {
        let mid = (lo + hi) / 2
        if cumulative[mid] <= rank { lo = mid } else { hi = mid }
      }
      return values[lo]
    }
    var quantiles = [Double](repeating: 0, count: size)
    for k in 0..<size {
      let position = Double(k) / Double(size - 1) * Double(total - 1)
      let below = Int(position.rounded(.down))
      let fraction = position - Double(below)
      let low = orderStatistic(below)
      let high = fraction > 0 ? orderStatistic(min(below + 1, total - 1)) : low
      quantiles[k] = low + (high - low) * fraction
      if k > 0 && quantiles[k] < quantiles[k - 1] { quantiles[k] = quantiles[k - 1] }  // running max
    }
    self.quantiles = quantiles
  }

  public init(quantiles: [Double]) { self.quantiles = quantiles }

  /// x -> Φ⁻¹(u), u the position of x among the quantiles (ties: the middle of their range).
  public func forward(_ x: Double) -> Double {
    quantiles.withUnsafeBufferPointer { Self.forward(x, quantiles: $0) }
  }

  /// `forward` over a quantile buffer (the hot loops keep quantiles in unmanaged memory).
  @inlinable
  public static func forward(_ x: Double, quantiles q: UnsafeBufferPointer<Double>) -> Double {
    let last = q.count - 1
    if !(x >= q[0]) { return x > q[0] ? clip : -clip }  // below, or NaN
    if x > q[last] { return clip }
    // first = the first index with q >= x (one binary search).
    var lo = 0
    var hi = last
    while lo < hi {
      let mid = (lo + hi) >> 1
      if q[mid] < x { lo = mid + 1 } else { hi = mid }
    }
    let first = lo
    let step = 1.0 / Double(last)
    if q[first] == x {
      // x equals q[first..<end]: the middle of that range. Ties are short except at point
      // masses, so a linear scan is cheap.
      var end = first + 1
      while end <= last && q[end] == x { end += 1 }
      return normalScore(0.5 * Double(first + end - 1) * step)
    }
    // q[first-1] < x < q[first]: linear interpolation.
    let below = first - 1
    let t = (x - q[below]) / (q[first] - q[below])
    return normalScore((Double(below) + t) * step)
  }

  /// Φ⁻¹(u) clipped to ±5.2, as TabSyn bounds it.
  @inlinable
  public static func normalScore(_ u: Double) -> Double {
    if u <= 1e-7 { return -clip }
    if u >= 1 - 1e-7 { return clip }
    return max(-clip, min(clip, StandardNormal.quantile(u)))
  }

  /// y -> x: u = Φ(y), then the value at position u of the quantile grid.
  public func inverse(_ y: Double) -> Double {
    quantiles.withUnsafeBufferPointer { Self.inverse(y, quantiles: $0).x }
  }

  /// `inverse` over a quantile buffer; also returns how far the decoded value of a stored
  /// float32 token can be from the value that was encoded (half a float32 step of y carried
  /// through Φ and the local quantile slope), so decoding can write the shortest decimal
  /// within it.
  @inlinable
  public static func inverse(_ y: Double, quantiles q: UnsafeBufferPointer<Double>) -> (x: Double, tolerance: Double) {
    let last = q.count - 1
    // The clip bounds are where forward sends the extremes; float32 storage moves them a
    // little, so anything within 1e-4 of a bound is that bound (sklearn: u ± 1e-7).
    if !(y > -clip + 1e-4) { return (q[0], 0) }  // also catches NaN
    if y >= clip - 1e-4 { return (q[last], 0) }
    let u = StandardNormal.cdf(y)
    if !(u > 0) { return (q[0], 0) }
    if u >= 1 { return (q[last], 0) }
    let position = u * Double(last)
    let lo = min(Int(position), last - 1)
    let t = position - Double(lo)
    let x = q[lo] + (q[lo + 1] - q[lo]) * t
    let slope = (q[lo + 1] - q[lo]) * Double(last)  // dx/du
    let density = 0.3989422804014327 * exp(-0.5 * y * y)  // du/dy = φ(y)
    return (x, 0.5 * Double(Float(y).ulp) * density * slope)
  }

  /// The float32 tolerance of `inverse` for a stored token.
  public func tolerance(_ y: Float) -> Double {
    quantiles.withUnsafeBufferPointer { Self.inverse(Double(y), quantiles: $0).tolerance }
  }
}
