// Losses: each returns the loss (accumulated in Double) and accumulates scale · ∂loss/∂input
// into the gradient buffers it is given (+=, like every backward), so a model adds several losses
// into one gradient and folds a loss weight (β of the KL term) into `scale`.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Mean squared error over all elements: `L = (1/n) Σ (p − t)²`, n = rows · cols.
/// Accumulates `scale · 2(p − t)/n` into `gradient` (same shape as `prediction`) unless nil.
/// - Precondition: prediction, target and gradient have one shape.
public func meanSquaredError(
  _ prediction: Matrix, target: Matrix, gradient: Matrix?, scale: Float = 1
) -> Float {
  precondition(
    prediction.rows == target.rows && prediction.cols == target.cols,
    "meanSquaredError: prediction \(prediction.rows)x\(prediction.cols), target \(target.rows)x\(target.cols)")
  let n = prediction.count
  if n == 0 { return 0 }
  var total = 0.0
  for i in 0..<n {
    let d = Double(prediction.base[i]) - Double(target.base[i])
    total += d * d
  }
  if let gradient {
    precondition(gradient.rows == prediction.rows && gradient.cols == prediction.cols)
    let factor = scale * 2 / Float(n)
    for i in 0..<n {
      gradient.base[i] += factor * (prediction.base[i] - target.base[i])
    }
  }
  return Float(total / Double(n))
}

/// Softmax cross-entropy over category spans of a wider logit vector, one target per span.
///
/// Row `i`'s logits for span `s` are `logits[i, spans[s]]`; its target class is
/// `targets[i * spans.count + s]`, in `0..<spans[s].count`. The loss is the mean over rows and
/// spans of `−log softmax(span)[target]` (PyTorch's `cross_entropy` per column, averaged over
/// columns, as TabSyn's VAE). Columns outside every span are neither read nor written.
/// Accumulates `scale · (softmax − onehot) / (rows · spans)` into `gradient` unless nil.
/// - Precondition: spans lie within `0..<logits.cols`; targets are in range.
public func crossEntropy(
  logits: Matrix, spans: [Range<Int>], targets: UnsafePointer<Int32>, gradient: Matrix?,
  scale: Float = 1
) -> Float {
  for span in spans {
    precondition(
      span.lowerBound >= 0 && span.upperBound <= logits.cols && !span.isEmpty,
      "crossEntropy: span \(span) outside 0..<\(logits.cols) or empty")
  }
  if let gradient { precondition(gradient.rows == logits.rows && gradient.cols == logits.cols) }
  let terms = logits.rows * spans.count
  if terms == 0 { return 0 }
  let factor = scale / Float(terms)
  var total = 0.0
  for i in 0..<logits.rows {
    let row = logits.row(i)
    for (s, span) in spans.enumerated() {
      let target = Int(targets[i * spans.count + s])
      precondition(target >= 0 && target < span.count, "crossEntropy: target \(target) at row \(i)")
      // log Σ exp(z) = max + log Σ exp(z − max), so no exponent overflows.
      var largest = -Float.infinity
      for j in span { largest = max(largest, row[j]) }
      var sum: Float = 0
      for j in span { sum += expf(row[j] - largest) }
      total += Double(largest) + Double(logf(sum)) - Double(row[span.lowerBound + target])
      guard let gradient else { continue }
      // ∂L/∂z_j = softmax_j − [j = target], over this span only.
      let out = gradient.row(i)
      let inverseSum = 1 / sum
      for j in span {
        let p = expf(row[j] - largest) * inverseSum
        out[j] += factor * (j == span.lowerBound + target ? p - 1 : p)
      }
    }
  }
  return Float(total / Double(terms))
}

/// KL divergence of N(mu, exp(logVariance)) from N(0, 1), averaged over all elements:
/// `L = mean(−½ (1 + lv − mu² − e^lv))` (TabSyn's VAE). Accumulates `scale · mu / n` into
/// `dMean` and `scale · ½(e^lv − 1) / n` into `dLogVariance`, each unless nil.
/// - Precondition: all matrices share one shape.
public func gaussianKL(
  mean mu: Matrix, logVariance: Matrix, dMean: Matrix?, dLogVariance: Matrix?, scale: Float = 1
) -> Float {
  precondition(mu.rows == logVariance.rows && mu.cols == logVariance.cols, "gaussianKL: shapes")
  if let dMean { precondition(dMean.rows == mu.rows && dMean.cols == mu.cols) }
  if let dLogVariance {
    precondition(dLogVariance.rows == mu.rows && dLogVariance.cols == mu.cols)
  }
  let n = mu.count
  if n == 0 { return 0 }
  let factor = scale / Float(n)
  var total = 0.0
  for i in 0..<n {
    let m = mu.base[i], lv = logVariance.base[i]
    let variance = expf(lv)
    total += -0.5 * (1 + Double(lv) - Double(m) * Double(m) - Double(variance))
    dMean?.base[i] += factor * m
    dLogVariance?.base[i] += factor * 0.5 * (variance - 1)
  }
  return Float(total / Double(n))
}
