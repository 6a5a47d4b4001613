// Row-wise softmax, the kernel under cross-entropy and attention, with its scalar reference.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `y[i, j] = exp(x[i, j] − max_j x[i, ·]) / Σ_j exp(x[i, j] − max_j x[i, ·])` for each row.
///
/// Subtracting the row's maximum keeps every exponent ≤ 0, so nothing overflows. `y` may be `x`.
/// - Precondition: equal shapes.
public func softmaxRows(_ x: Matrix, into y: Matrix) {
  precondition(x.rows == y.rows && x.cols == y.cols, "softmaxRows: shape mismatch")
  for i in 0..<x.rows {
    softmax(x.row(i), into: y.row(i), count: x.cols)
  }
}

/// Softmax of `count` floats at `x` into `y` (which may be `x`).
public func softmax(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
  if count == 0 { return }
  // Pass 1: the maximum (tail lanes filled with −∞ so they never win).
  var maxima = Vector8(repeating: -.infinity)
  var j = 0
  while j + 8 <= count {
    maxima = maximum8(maxima, load8(x + j))
    j += 8
  }
  if j < count { maxima = maximum8(maxima, loadPartial(x + j, count - j, fill: -.infinity)) }
  let largest = Vector8(repeating: maxima.max())
  // Pass 2: exponentials and their sum (the tail's fill exponentiates to exactly 0).
  var sums = Vector8()
  j = 0
  while j + 8 <= count {
    let e = exp8(load8(x + j) - largest)
    store8(e, y + j)
    sums += e
    j += 8
  }
  if j < count {
    let e = exp8(loadPartial(x + j, count - j, fill: -.infinity) - largest)
    storePartial(e, y + j, count - j)
    sums += e
  }
  // Pass 3: normalise.
  scale(y, by: 1 / sums.sum(), count: count)
}

/// Reference for `softmaxRows`, in Double with the C library's exp.
public func softmaxRowsNaive(_ x: Matrix, into y: Matrix) {
  precondition(x.rows == y.rows && x.cols == y.cols)
  for i in 0..<x.rows {
    var largest = -Double.infinity
    for j in 0..<x.cols { largest = max(largest, Double(x[i, j])) }
    var sum = 0.0
    for j in 0..<x.cols { sum += exp(Double(x[i, j]) - largest) }
    for j in 0..<x.cols { y[i, j] = Float(exp(Double(x[i, j]) - largest) / sum) }
  }
}
