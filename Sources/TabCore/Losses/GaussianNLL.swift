// Gaussian negative log-likelihood of targets under predicted means and log-variances: InfoGAN's
// loss for continuous codes (the Q network predicts each code's mean and log-variance).

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Negative log-likelihood of `target` under N(mu, exp(logVariance)), averaged over all elements:
///   L = mean(½ (lv + (t − mu)² · e^(−lv)))  [+ ½ log 2π with `includeConstant`]
/// (PyTorch's `GaussianNLLLoss` with `var = exp(lv)`, reduction 'mean'; the constant is its
/// `full=True`). Predicting the log-variance keeps the variance positive without a clamp; a very
/// negative lv (below about −87) overflows e^(−lv), so callers that need it bound lv themselves.
/// Accumulates `scale · (mu − t) e^(−lv) / n` into `dMean` and `scale · ½(1 − (t − mu)² e^(−lv)) / n`
/// into `dLogVariance`, each unless nil; `n = rows · cols`.
/// - Precondition: all matrices share one shape.
public func gaussianNegativeLogLikelihood(
  mean mu: Matrix, logVariance: Matrix, target: Matrix, dMean: Matrix?, dLogVariance: Matrix?,
  scale: Float = 1, includeConstant: Bool = false
) -> Float {
  precondition(
    mu.rows == logVariance.rows && mu.cols == logVariance.cols && mu.rows == target.rows
      && mu.cols == target.cols,
    "gaussianNegativeLogLikelihood: mean \(mu.rows)x\(mu.cols), logVariance "
      + "\(logVariance.rows)x\(logVariance.cols), target \(target.rows)x\(target.cols)")
  if let dMean { precondition(dMean.rows == mu.rows && dMean.cols == mu.cols) }
  if let dLogVariance {
    precondition(dLogVariance.rows == mu.rows && dLogVariance.cols == mu.cols)
  }
  let n = mu.count
  if n == 0 { return 0 }
  let factor = scale / Float(n)
  var total = 0.0
  for i in 0..<n {
    let lv = logVariance.base[i]
    let difference = mu.base[i] - target.base[i]
    let precision = expf(-lv)  // 1 / variance
    let squared = difference * difference * precision  // (t − mu)² / variance
    total += 0.5 * (Double(lv) + Double(squared))
    dMean?.base[i] += factor * difference * precision
    dLogVariance?.base[i] += factor * 0.5 * (1 - squared)
  }
  // ½ log 2π, the normal density's constant: it moves the value, never the gradient.
  let constant = includeConstant ? 0.5 * log(2 * Double.pi) : 0
  return Float(total / Double(n) + constant)
}
