// Layer normalisation of each row, forward and backward, with scalar references in Double.
// Row statistics are float sums over 8 lanes (the row widths here are at most a few thousand).

/// For each row of `x` (B, D): `mean[i]`, `rstd[i] = 1 / sqrt(var + epsilon)` (biased variance),
/// and `y[i, j] = (x[i, j] − mean[i]) · rstd[i] · gamma[j] + beta[j]`.
/// Shapes: x, y (B, D); gamma, beta (D); mean, rstd (B). `y` may be `x`.
public func layerNormForward(
  _ x: Matrix, into y: Matrix, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
  mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, epsilon: Float
) {
  precondition(x.rows == y.rows && x.cols == y.cols, "layerNormForward: shape mismatch")
  let width = x.cols
  if width == 0 { return }
  let vectorEnd = width / 8 * 8
  for i in 0..<x.rows {
    let row = x.row(i)
    let out = y.row(i)
    var sums = Vector8()
    var j = 0
    while j < vectorEnd {
      sums += load8(row + j)
      j += 8
    }
    var sum = sums.sum()
    while j < width {
      sum += row[j]
      j += 1
    }
    let m = sum / Float(width)
    // Second pass over (x − mean)², not E[x²] − mean², which cancels badly.
    let mv = Vector8(repeating: m)
    var squares = Vector8()
    j = 0
    while j < vectorEnd {
      let d = load8(row + j) - mv
      squares = squares.addingProduct(d, d)
      j += 8
    }
    var variance = squares.sum()
    while j < width {
      let d = row[j] - m
      variance += d * d
      j += 1
    }
    variance /= Float(width)
    let r = 1 / (variance + epsilon).squareRoot()
    mean[i] = m
    rstd[i] = r
    let rv = Vector8(repeating: r)
    j = 0
    while j < vectorEnd {
      let normalized = (load8(row + j) - mv) * rv
      store8(load8(beta + j).addingProduct(normalized, load8(gamma + j)), out + j)
      j += 8
    }
    while j < width {
      out[j] = (row[j] - m) * r * gamma[j] + beta[j]
      j += 1
    }
  }
}

/// Backward of `layerNormForward`, accumulating into `dgamma`, `dbeta` and, unless nil, `dx`:
///   n = (x − mean)·rstd, dn = dy·gamma,
///   dbeta += Σ_i dy, dgamma += Σ_i dy·n,
///   dx += rstd · (dn − mean_j(dn) − n · mean_j(dn·n)).
/// Shapes: dy, x, dx (B, D); gamma, dgamma, dbeta (D); mean, rstd (B) from the forward.
public func layerNormBackward(
  _ dy: Matrix, input x: Matrix, gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>,
  rstd: UnsafePointer<Float>, dgamma: UnsafeMutablePointer<Float>,
  dbeta: UnsafeMutablePointer<Float>, dx: Matrix?
) {
  precondition(dy.rows == x.rows && dy.cols == x.cols, "layerNormBackward: shape mismatch")
  if let dx { precondition(dx.rows == x.rows && dx.cols == x.cols) }
  let width = x.cols
  if width == 0 { return }
  let vectorEnd = width / 8 * 8
  for i in 0..<x.rows {
    let row = x.row(i), gradOut = dy.row(i)
    let mv = Vector8(repeating: mean[i]), rv = Vector8(repeating: rstd[i])
    // Pass 1: parameter gradients and the two row means the input gradient needs.
    var dnSums = Vector8(), dnNormSums = Vector8()
    var j = 0
    while j < vectorEnd {
      let g = load8(gradOut + j)
      let n = (load8(row + j) - mv) * rv
      let dn = g * load8(gamma + j)
      dnSums += dn
      dnNormSums = dnNormSums.addingProduct(dn, n)
      store8(load8(dbeta + j) + g, dbeta + j)
      store8(load8(dgamma + j).addingProduct(g, n), dgamma + j)
      j += 8
    }
    var dnSum = dnSums.sum(), dnNormSum = dnNormSums.sum()
    while j < width {
      let n = (row[j] - mean[i]) * rstd[i]
      let dn = gradOut[j] * gamma[j]
      dnSum += dn
      dnNormSum += dn * n
      dbeta[j] += gradOut[j]
      dgamma[j] += gradOut[j] * n
      j += 1
    }
    guard let dx else { continue }
    // Pass 2: the input gradient.
    let out = dx.row(i)
    let dnMean = dnSum / Float(width), dnNormMean = dnNormSum / Float(width)
    let dnMeanV = Vector8(repeating: dnMean), dnNormMeanV = Vector8(repeating: dnNormMean)
    j = 0
    while j < vectorEnd {
      let n = (load8(row + j) - mv) * rv
      let dn = load8(gradOut + j) * load8(gamma + j)
      let term = (dn - dnMeanV) - n * dnNormMeanV
      store8(load8(out + j).addingProduct(rv, term), out + j)
      j += 8
    }
    while j < width {
      let n = (row[j] - mean[i]) * rstd[i]
      let dn = gradOut[j] * gamma[j]
      out[j] += rstd[i] * (dn - dnMean - n * dnNormMean)
      j += 1
    }
  }
}

/// Reference for `layerNormForward`, in Double.
public func layerNormForwardNaive(
  _ x: Matrix, into y: Matrix, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
  mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, epsilon: Float
) {
  let width = x.cols
  if width == 0 { return }
  for i in 0..<x.rows {
    var m = 0.0
    for j in 0..<width { m += Double(x[i, j]) }
    m /= Double(width)
    var variance = 0.0
    for j in 0..<width { variance += (Double(x[i, j]) - m) * (Double(x[i, j]) - m) }
    variance /= Double(width)
    let r = 1 / (variance + Double(epsilon)).squareRoot()
    mean[i] = Float(m)
    rstd[i] = Float(r)
    for j in 0..<width {
      y[i, j] = Float((Double(x[i, j]) - m) * r * Double(gamma[j]) + Double(beta[j]))
    }
  }
}

/// Reference for `layerNormBackward`, in Double.
public func layerNormBackwardNaive(
  _ dy: Matrix, input x: Matrix, gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>,
  rstd: UnsafePointer<Float>, dgamma: UnsafeMutablePointer<Float>,
  dbeta: UnsafeMutablePointer<Float>, dx: Matrix?
) {
  let width = x.cols
  if width == 0 { return }
  for i in 0..<x.rows {
    let m = Double(mean[i]), r = Double(rstd[i])
    var dnSum = 0.0, dnNormSum = 0.0
    for j in 0..<width {
      let n = (Double(x[i, j]) - m) * r
      let dn = Double(dy[i, j]) * Double(gamma[j])
      dnSum += dn
      dnNormSum += dn * n
      dbeta[j] = Float(Double(dbeta[j]) + Double(dy[i, j]))
      dgamma[j] = Float(Double(dgamma[j]) + Double(dy[i, j]) * n)
    }
    guard let dx else { continue }
    for j in 0..<width {
      let n = (Double(x[i, j]) - m) * r
      let dn = Double(dy[i, j]) * Double(gamma[j])
      let term = dn - dnSum / Double(width) - n * dnNormSum / Double(width)
      dx[i, j] = Float(Double(dx[i, j]) + r * term)
    }
  }
}
