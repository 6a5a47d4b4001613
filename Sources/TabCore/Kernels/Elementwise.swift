// Elementwise and reduction kernels over raw float pointers, 8 lanes at a time, each followed by
// its scalar reference (the `Naive` twin, as llm.c's matmul_forward_naive) that the tests compare
// against. Outputs may alias inputs where a doc comment says so.

/// `y[i] += x[i]` for `i < count`.
public func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
  zip8(x, y, y, count) { x, _, y in y + x }
}

/// Reference for `add(_:into:count:)`.
public func addNaive(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
  for i in 0..<count { y[i] += x[i] }
}

/// `x[i] *= alpha` for `i < count`.
public func scale(_ x: UnsafeMutablePointer<Float>, by alpha: Float, count: Int) {
  let a = Vector8(repeating: alpha)
  map8(x, x, count) { $0 * a }
}

/// Reference for `scale(_:by:count:)`.
public func scaleNaive(_ x: UnsafeMutablePointer<Float>, by alpha: Float, count: Int) {
  for i in 0..<count { x[i] *= alpha }
}

/// `y[i] += alpha · x[i]` for `i < count` (BLAS's saxpy, fused multiply-add).
public func axpy(
  _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
) {
  let a = Vector8(repeating: alpha)
  zip8(x, y, y, count) { x, _, y in y.addingProduct(a, x) }
}

/// Reference for `axpy(_:_:_:count:)`.
public func axpyNaive(
  _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
) {
  for i in 0..<count { y[i] += alpha * x[i] }
}

/// `Σ x[i]²` over `count` floats, accumulated in float vectors over blocks of 4096 elements and
/// across blocks in Double (relative error about 1e-6 for any count).
public func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
  var total = 0.0
  var start = 0
  while start < count {
    let end = min(start + 4096, count)
    // Two accumulators hide the latency of the fused multiply-add.
    var s0 = Vector8(), s1 = Vector8()
    var i = start
    while i + 16 <= end {
      let a = load8(x + i), b = load8(x + i + 8)
      s0 = s0.addingProduct(a, a)
      s1 = s1.addingProduct(b, b)
      i += 16
    }
    while i + 8 <= end {
      let a = load8(x + i)
      s0 = s0.addingProduct(a, a)
      i += 8
    }
    if i < end {
      let a = loadPartial(x + i, end - i)
      s1 = s1.addingProduct(a, a)
    }
    total += Double((s0 + s1).sum())
    start = end
  }
  return total
}

/// Reference for `sumOfSquares(_:count:)`, in Double throughout.
public func sumOfSquaresNaive(_ x: UnsafePointer<Float>, count: Int) -> Double {
  var total = 0.0
  for i in 0..<count { total += Double(x[i]) * Double(x[i]) }
  return total
}

/// `sums[j] += Σ_i x[i·cols + j]` for a row-major `rows × cols` block (bias gradients).
///
/// Sums stay in registers across rows (one call per row was the cost at the VAE's widths of 4
/// and 16). Widths that divide 8 read the block as one contiguous run of 8-float vectors, each
/// holding 8/cols rows, and fold the lanes at the end.
public func addColumnSums(
  _ x: UnsafePointer<Float>, rows: Int, cols: Int, into sums: UnsafeMutablePointer<Float>
) {
  guard rows > 0, cols > 0 else { return }
  if 8 % cols == 0 {
    let count = rows * cols
    var a0 = Vector8(), a1 = Vector8()
    var i = 0
    while i + 16 <= count {
      a0 += load8(x + i)
      a1 += load8(x + i + 8)
      i += 16
    }
    if i + 8 <= count {
      a0 += load8(x + i)
      i += 8
    }
    a0 += a1
    // What is left is fewer than 8 floats, a whole number of rows starting at lane 0.
    if i < count { a0 += loadPartial(x + i, count - i) }
    for lane in 0..<8 { sums[lane % cols] += a0[lane] }
    return
  }
  var j = 0
  while j + 8 <= cols {
    var a0 = Vector8(), a1 = Vector8()
    var p = x + j
    var i = 0
    while i + 2 <= rows {
      a0 += load8(p)
      a1 += load8(p + cols)
      p += 2 * cols
      i += 2
    }
    if i < rows { a0 += load8(p) }
    store8(load8(sums + j) + a0 + a1, sums + j)
    j += 8
  }
  if j < cols {
    // The last cols - j (< 8) columns: scalar sums, still kept out of memory across rows.
    let width = cols - j
    var partial = Vector8()
    var p = x + j
    for _ in 0..<rows {
      for lane in 0..<width { partial[lane] += p[lane] }
      p += cols
    }
    for lane in 0..<width { sums[j + lane] += partial[lane] }
  }
}

/// Reference for `addColumnSums(_:rows:cols:into:)`, summing each column in Double.
public func addColumnSumsNaive(
  _ x: UnsafePointer<Float>, rows: Int, cols: Int, into sums: UnsafeMutablePointer<Float>
) {
  for j in 0..<cols {
    var sum = 0.0
    for i in 0..<rows { sum += Double(x[i * cols + j]) }
    sums[j] = Float(Double(sums[j]) + sum)
  }
}
