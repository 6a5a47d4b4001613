// Batch normalisation over the rows of a (B, C) matrix, forward (training and evaluation) and
// backward, with scalar references in Double. Statistics are per column, so each kernel walks the
// columns 8 at a time (one vector of lanes) and, for each group of 8, the B rows with stride C:
// every per-column sum stays in a register and nothing needs scratch memory.

/// Loads lanes `0..<lanes` of 8 (a whole vector when `lanes` is 8).
@inline(__always)
private func loadLanes(_ p: UnsafePointer<Float>, _ lanes: Int) -> Vector8 {
  lanes == 8 ? load8(p) : loadPartial(p, lanes)
}

/// Stores lanes `0..<lanes` of `v`.
@inline(__always)
private func storeLanes(_ v: Vector8, _ p: UnsafeMutablePointer<Float>, _ lanes: Int) {
  if lanes == 8 { store8(v, p) } else { storePartial(v, p, lanes) }
}

/// Training-mode forward for `x` (B, C): per column j,
///   mean[j] = Σ_i x[i, j] / B,  var_j = Σ_i (x[i, j] − mean[j])² / B  (biased),
///   rstd[j] = 1 / sqrt(var_j + epsilon),
///   y[i, j] = (x[i, j] − mean[j]) · rstd[j] · gamma[j] + beta[j],
/// and the running statistics move towards the batch's (PyTorch's update, with the unbiased
/// variance var_j · B / (B − 1)):
///   runningMean[j] = (1 − momentum) · runningMean[j] + momentum · mean[j],
///   runningVariance[j] = (1 − momentum) · runningVariance[j] + momentum · var_j · B / (B − 1).
/// Shapes: x, y (B, C); gamma, beta, mean, rstd, runningMean, runningVariance (C). `y` may be `x`.
/// - Precondition: B ≥ 2 (one row has no variance: PyTorch refuses it in training too).
public func batchNormForward(
  _ x: Matrix, into y: Matrix, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
  mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
  runningMean: UnsafeMutablePointer<Float>, runningVariance: UnsafeMutablePointer<Float>,
  momentum: Float, epsilon: Float
) {
  precondition(x.rows == y.rows && x.cols == y.cols, "batchNormForward: shape mismatch")
  precondition(x.rows >= 2, "batchNormForward: training needs at least 2 rows, got \(x.rows)")
  let rows = x.rows
  let width = x.cols
  let inverseRows = Vector8(repeating: 1 / Float(rows))
  let unbiasing = Vector8(repeating: Float(rows) / Float(rows - 1))
  let keep = Vector8(repeating: 1 - momentum)
  let move = Vector8(repeating: momentum)
  var j = 0
  while j < width {
    let lanes = min(8, width - j)
    // Pass 1: column sums.
    var sums = Vector8()
    for i in 0..<rows { sums += loadLanes(x.row(i) + j, lanes) }
    let m = sums * inverseRows
    // Pass 2: Σ (x − mean)², not E[x²] − mean², which cancels badly.
    var squares = Vector8()
    for i in 0..<rows {
      let d = loadLanes(x.row(i) + j, lanes) - m
      squares = squares.addingProduct(d, d)
    }
    let variance = squares * inverseRows
    let r = 1 / squareRoot(variance + Vector8(repeating: epsilon))
    storeLanes(m, mean + j, lanes)
    storeLanes(r, rstd + j, lanes)
    let runningM = keep * loadLanes(runningMean + j, lanes)
    storeLanes(runningM.addingProduct(move, m), runningMean + j, lanes)
    let runningV = keep * loadLanes(runningVariance + j, lanes)
    storeLanes(runningV.addingProduct(move, variance * unbiasing), runningVariance + j, lanes)
    // Pass 3: y = x · (rstd · gamma) + (beta − mean · rstd · gamma), one multiply-add a value.
    let scale = r * loadLanes(gamma + j, lanes)
    let shift = loadLanes(beta + j, lanes) - m * scale
    for i in 0..<rows {
      storeLanes(shift.addingProduct(loadLanes(x.row(i) + j, lanes), scale), y.row(i) + j, lanes)
    }
    j += 8
  }
}

/// Evaluation-mode forward: `y[i, j] = (x[i, j] − runningMean[j]) / sqrt(runningVariance[j] +
/// epsilon) · gamma[j] + beta[j]`. Nothing else is written. Any B, 1 included.
/// Shapes: x, y (B, C); gamma, beta, runningMean, runningVariance (C). `y` may be `x`.
public func batchNormEvaluate(
  _ x: Matrix, into y: Matrix, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
  runningMean: UnsafePointer<Float>, runningVariance: UnsafePointer<Float>, epsilon: Float
) {
  precondition(x.rows == y.rows && x.cols == y.cols, "batchNormEvaluate: shape mismatch")
  let width = x.cols
  var j = 0
  while j < width {
    let lanes = min(8, width - j)
    let r = 1 / squareRoot(loadLanes(runningVariance + j, lanes) + Vector8(repeating: epsilon))
    let scale = r * loadLanes(gamma + j, lanes)
    let shift = loadLanes(beta + j, lanes) - loadLanes(runningMean + j, lanes) * scale
    for i in 0..<x.rows {
      storeLanes(shift.addingProduct(loadLanes(x.row(i) + j, lanes), scale), y.row(i) + j, lanes)
    }
    j += 8
  }
}

/// Backward of the training-mode `batchNormForward`, accumulating into `dgamma`, `dbeta` and,
/// unless nil, `dx`. With n = (x − mean)·rstd (the normalised input) and dn = dy·gamma, per column:
///   dbeta += Σ_i dy,  dgamma += Σ_i dy·n,
///   dx += rstd · (dn − mean_i(dn) − n · mean_i(dn·n))
/// (the batch statistics depend on every row, hence the two means over the batch; the running
/// statistics are not differentiated, as in PyTorch).
/// Shapes: dy, x, dx (B, C); gamma, dgamma, dbeta, mean, rstd (C), mean and rstd from the forward.
public func batchNormBackward(
  _ dy: Matrix, input x: Matrix, gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>,
  rstd: UnsafePointer<Float>, dgamma: UnsafeMutablePointer<Float>,
  dbeta: UnsafeMutablePointer<Float>, dx: Matrix?
) {
  precondition(dy.rows == x.rows && dy.cols == x.cols, "batchNormBackward: shape mismatch")
  if let dx { precondition(dx.rows == x.rows && dx.cols == x.cols, "batchNormBackward: dx") }
  let rows = x.rows
  let width = x.cols
  if rows == 0 { return }
  let inverseRows = Vector8(repeating: 1 / Float(rows))
  var j = 0
  while j < width {
    let lanes = min(8, width - j)
    let m = loadLanes(mean + j, lanes)
    let r = loadLanes(rstd + j, lanes)
    // Pass 1: Σ dy and Σ dy·n over the batch.
    var dySums = Vector8()
    var dyNormSums = Vector8()
    for i in 0..<rows {
      let g = loadLanes(dy.row(i) + j, lanes)
      let n = (loadLanes(x.row(i) + j, lanes) - m) * r
      dySums += g
      dyNormSums = dyNormSums.addingProduct(g, n)
    }
    storeLanes(loadLanes(dbeta + j, lanes) + dySums, dbeta + j, lanes)
    storeLanes(loadLanes(dgamma + j, lanes) + dyNormSums, dgamma + j, lanes)
    guard let dx else {
      j += 8
      continue
    }
    // Pass 2: dx += rstd·gamma · (dy − mean(dy) − n · mean(dy·n)); gamma is the same for every
    // row of a column, so it factors out of dn and both means.
    let factor = r * loadLanes(gamma + j, lanes)
    let dyMean = dySums * inverseRows
    let dyNormMean = dyNormSums * inverseRows
    for i in 0..<rows {
      let n = (loadLanes(x.row(i) + j, lanes) - m) * r
      let term = (loadLanes(dy.row(i) + j, lanes) - dyMean) - n * dyNormMean
      let out = dx.row(i) + j
      storeLanes(loadLanes(out, lanes).addingProduct(factor, term), out, lanes)
    }
    j += 8
  }
}

/// Reference for `batchNormForward`, in Double.
public func batchNormForwardNaive(
  _ x: Matrix, into y: Matrix, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
  mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
  runningMean: UnsafeMutablePointer<Float>, runningVariance: UnsafeMutablePointer<Float>,
  momentum: Float, epsilon: Float
) {
  precondition(x.rows >= 2 && x.rows == y.rows && x.cols == y.cols)
  let rows = Double(x.rows)
  let mo = Double(momentum)
  for j in 0..<x.cols {
    var m = 0.0
    for i in 0..<x.rows { m += Double(x[i, j]) }
    m /= rows
    var variance = 0.0
    for i in 0..<x.rows { variance += (Double(x[i, j]) - m) * (Double(x[i, j]) - m) }
    variance /= rows
    let r = 1 / (variance + Double(epsilon)).squareRoot()
    mean[j] = Float(m)
    rstd[j] = Float(r)
    runningMean[j] = Float((1 - mo) * Double(runningMean[j]) + mo * m)
    runningVariance[j] = Float(
      (1 - mo) * Double(runningVariance[j]) + mo * variance * rows / (rows - 1))
    for i in 0..<x.rows {
      y[i, j] = Float((Double(x[i, j]) - m) * r * Double(gamma[j]) + Double(beta[j]))
    }
  }
}

/// Reference for `batchNormEvaluate`, in Double.
public func batchNormEvaluateNaive(
  _ x: Matrix, into y: Matrix, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
  runningMean: UnsafePointer<Float>, runningVariance: UnsafePointer<Float>, epsilon: Float
) {
  precondition(x.rows == y.rows && x.cols == y.cols)
  for j in 0..<x.cols {
    let r = 1 / (Double(runningVariance[j]) + Double(epsilon)).squareRoot()
    for i in 0..<x.rows {
      y[i, j] = Float(
        (Double(x[i, j]) - Double(runningMean[j])) * r * Double(gamma[j]) + Double(beta[j]))
    }
  }
}

/// Reference for `batchNormBackward`, in Double.
public func batchNormBackwardNaive(
  _ dy: Matrix, input x: Matrix, gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>,
  rstd: UnsafePointer<Float>, dgamma: UnsafeMutablePointer<Float>,
  dbeta: UnsafeMutablePointer<Float>, dx: Matrix?
) {
  let rows = Double(x.rows)
  if x.rows == 0 { return }
  for j in 0..<x.cols {
    let m = Double(mean[j])
    let r = Double(rstd[j])
    let g = Double(gamma[j])
    var dySum = 0.0
    var dyNormSum = 0.0
    for i in 0..<x.rows {
      let n = (Double(x[i, j]) - m) * r
      dySum += Double(dy[i, j])
      dyNormSum += Double(dy[i, j]) * n
    }
    dbeta[j] = Float(Double(dbeta[j]) + dySum)
    dgamma[j] = Float(Double(dgamma[j]) + dyNormSum)
    guard let dx else { continue }
    for i in 0..<x.rows {
      let n = (Double(x[i, j]) - m) * r
      let term = Double(dy[i, j]) - dySum / rows - n * dyNormSum / rows
      dx[i, j] = Float(Double(dx[i, j]) + r * g * term)
    }
  }
}
