// The generator's products skip h0's condition block during training. Every layer's input ends
// with h0 = [z ; cond ; codes], and in training `cond` is one-hot (one category of one column per
// row), so its share of x · Wᵀ is one column of W per row and its share of the weight gradient
// dyᵀ · x is one scatter-add per row. On adult (C = 120 of I = 248) that is 13% of the
// generator-and-critic step's multiply-adds, done by dense products for nothing (docs/gan.md,
// "Speed"). The dense path (`Linear.forward`/`backward`) stays for sampling, where a condition
// row may be empty or hold several ones.
//
// Shapes: B rows, n a layer's input width, H its output width, C the condition width; the block
// sits at columns s..<s + C of the input (s = S_{i−1} + Z for block i, S + Z for the output).

import TabCore

extension GANModel {
  /// y = x · Wᵀ + b where x's columns s..<s + C are one-hot with the one at s + columns[r] on
  /// row r. Refreshes `transposed` (C, H) with those columns of W, transposed.
  func conditionedForward(
    _ layer: Linear, _ x: Matrix, into y: Matrix, start s: Int, transposed wc: Matrix,
    columns: UnsafePointer<Int32>
  ) {
    let w = layer.weight.value
    let n = x.cols
    let h = y.cols
    let c = wc.rows
    let e = s + c
    precondition(
      w.rows == h && w.cols == n && wc.cols == h && e <= n && y.rows == x.rows,
      "conditionedForward: shapes")
    for j in 0..<c {
      let row = wc.row(j)
      let column = w.base + s + j
      for o in 0..<h { row[o] = column[o * n] }
    }
    if let bias = layer.bias { y.setRows(to: bias.value) } else { y.zero() }
    if s > 0 {
      gemmStrided(
        m: x.rows, n: h, k: s, x.base, lda: n, w.base, ldb: n, transposeB: true, into: y.base,
        ldc: h, beta: 1)
    }
    if n > e {
      gemmStrided(
        m: x.rows, n: h, k: n - e, x.base + e, lda: n, w.base + e, ldb: n, transposeB: true,
        into: y.base, ldc: h, beta: 1)
    }
    for r in 0..<x.rows {
      let source = wc.row(Int(columns[r]))
      let target = y.row(r)
      for o in 0..<h { target[o] += source[o] }
    }
  }

  /// dW += dyᵀ · x and db += Σ_rows dy for the same layer and one-hot block as
  /// `conditionedForward`; `scratch` holds at least C · H floats.
  func conditionedWeightBackward(
    _ layer: Linear, _ dy: Matrix, input x: Matrix, start s: Int, conditionWidth c: Int,
    scratch: Matrix, columns: UnsafePointer<Int32>
  ) {
    let grad = layer.weight.grad
    let n = x.cols
    let h = dy.cols
    let rows = dy.rows
    let e = s + c
    precondition(
      grad.rows == h && grad.cols == n && e <= n && x.rows == rows && scratch.count >= c * h,
      "conditionedWeightBackward: shapes")
    if s > 0 {
      gemmStrided(
        m: h, n: s, k: rows, dy.base, lda: h, transposeA: true, x.base, ldb: n,
        into: grad.base, ldc: n, beta: 1)
    }
    if n > e {
      gemmStrided(
        m: h, n: n - e, k: rows, dy.base, lda: h, transposeA: true, x.base + e, ldb: n,
        into: grad.base + e, ldc: n, beta: 1)
    }
    // The block's gradient, transposed: row j of g sums dy over the rows whose one is at j.
    let g = Matrix(scratch.base, rows: c, cols: h)
    g.zero()
    for r in 0..<rows {
      let target = g.row(Int(columns[r]))
      let source = dy.row(r)
      for o in 0..<h { target[o] += source[o] }
    }
    for o in 0..<h {
      let row = grad.row(o) + s
      let column = g.base + o
      for j in 0..<c { row[j] += column[j * h] }
    }
    if let bias = layer.bias { dy.addColumnSums(into: bias.grad) }
  }
}
