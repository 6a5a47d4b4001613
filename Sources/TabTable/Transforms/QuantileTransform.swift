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
    let q = quantiles
    let last = q.count - 1
    if x < q[0] { return -Self.clip }
    if x > q[last] { return Self.clip }
    // first = first index with q >= x; end = first index with q > x.
    let first = lowerBound(x)
    let end = upperBound(x)
    let step = 1.0 / Double(last)
    let u: Double
    if end > first {
      // x equals q[first..<end]: the middle of that range.
      u = 0.5 * Double(first + end - 1) * step
    } else {
      // q[first-1] < x < q[first]: linear interpolation.
      let lo = first - 1
      let t = (x - q[lo]) / (q[first] - q[lo])
      u = (Double(lo) + t) * step
    }
    return Self.normalScore(u)
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
    let q = quantiles
    let last = q.count - 1
    // The clip bounds are where forward sends the extremes; float32 storage moves them a
    // little, so anything within 1e-4 of a bound is that bound (sklearn: u ± 1e-7).
    if !(y > -Self.clip + 1e-4) { return q[0] }  // also catches NaN
    if y >= Self.clip - 1e-4 { return q[last] }
    let u = StandardNormal.cdf(y)
    if !(u > 0) { return q[0] }
    if u >= 1 { return q[last] }
    let position = u * Double(last)
    let lo = min(Int(position), last - 1)
    let t = position - Double(lo)
    return q[lo] + (q[lo + 1] - q[lo]) * t
  }

  /// How far the decoded value of a stored float32 token can be from the value that was
  /// encoded: half a float32 step of y carried through Φ and the local quantile slope.
  /// Decoding writes the shortest decimal within it.
  public func tolerance(_ y: Float) -> Double {
    let last = quantiles.count - 1
    let yd = Double(y)
    let u = StandardNormal.cdf(yd)
    let lo = max(0, min(Int(u * Double(last)), last - 1))
    let slope = (quantiles[lo + 1] - quantiles[lo]) * Double(last)  // dx/du
    let density = 0.3989422804014327 * exp(-0.5 * yd * yd)  // du/dy = φ(y)
    return 0.5 * Double(y.ulp) * density * slope
  }

  private func lowerBound(_ x: Double) -> Int {
    var lo = 0
    var hi = quantiles.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if quantiles[mid] < x { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }

  private func upperBound(_ x: Double) -> Int {
    var lo = 0
    var hi = quantiles.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if quantiles[mid] <= x { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }
}
