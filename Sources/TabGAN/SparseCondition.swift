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
  /// `conditionedForward` on a contiguous `x`.
  func conditionedForward(
    _ layer: Linear, _ x: Matrix, into y: Matrix, start s: Int, conditionWidth c: Int,
    transposed wc: Matrix, columns: UnsafePointer<Int32>
  ) {
    precondition(layer.inputs == x.cols && y.rows == x.rows, "conditionedForward: shapes")
    conditionedForward(
      layer, x.base, lda: x.cols, rows: x.rows, into: y, start: s, conditionWidth: c,
      transposed: wc, columns: columns)
  }

  /// `conditionedWeightBackward` on a contiguous `x`.
  func conditionedWeightBackward(
    _ layer: Linear, _ dy: Matrix, input x: Matrix, start s: Int, conditionWidth c: Int,
    scratch: Matrix, columns: UnsafePointer<Int32>
  ) {
    precondition(layer.inputs == x.cols && dy.rows == x.rows, "conditionedWeightBackward: shapes")
    conditionedWeightBackward(
      layer, dy, input: x.base, lda: x.cols, start: s, conditionWidth: c, scratch: scratch,
      columns: columns)
  }

  /// `Linear.forward` on an input whose rows are `lda` floats apart (the same product).
  func denseForward(
    _ layer: Linear, _ x: UnsafePointer<Float>, lda: Int, rows: Int, into y: Matrix
  ) {
    let w = layer.weight.value
    precondition(y.rows == rows && y.cols == w.rows && lda >= w.cols, "denseForward: shapes")
    if let bias = layer.bias { y.setRows(to: bias.value) } else { y.zero() }
    gemmStrided(
      m: rows, n: w.rows, k: w.cols, x, lda: lda, w.base, ldb: w.cols, transposeB: true,
      into: y.base, ldc: y.cols, beta: 1)
  }

  /// `Linear.backward` without dx on an input whose rows are `lda` floats apart.
  func denseWeightBackward(_ layer: Linear, _ dy: Matrix, input x: UnsafePointer<Float>, lda: Int) {
    let grad = layer.weight.grad
    precondition(dy.cols == grad.rows && lda >= grad.cols, "denseWeightBackward: shapes")
    gemmStrided(
      m: grad.rows, n: grad.cols, k: dy.rows, dy.base, lda: dy.cols, transposeA: true, x,
      ldb: lda, into: grad.base, ldc: grad.cols, beta: 1)
    if let bias = layer.bias { dy.addColumnSums(into: bias.grad) }
  }

  /// y = x · Wᵀ + b where x's columns s..<s + C are one-hot with the one at s + columns[r] on
  /// row r, and its last T = n − s − C columns (h0's codes: a one-hot categorical code and the
  /// continuous codes) are few: they are added row by row, skipping zeros, not by a product with
  /// an inner dimension of T. With `refresh`, first overwrites `transposed` (at least C + T
  /// rows, H columns) with W's columns s ..< n, transposed; else they must hold them already.
  func conditionedForward(
    _ layer: Linear, _ x: UnsafePointer<Float>, lda: Int, rows: Int, into y: Matrix, start s: Int,
    conditionWidth c: Int, transposed wc: Matrix, refresh: Bool = true,
    columns: UnsafePointer<Int32>
  ) {
    let w = layer.weight.value
    let n = w.cols
    let h = y.cols
    let e = s + c
    let t = n - e
    precondition(
      w.rows == h && wc.cols == h && e <= n && wc.rows >= c + t && y.rows == rows && lda >= n,
      "conditionedForward: shapes")
    if refresh { transposeColumns(w, from: s, count: c + t, into: wc) }
    if let bias = layer.bias { y.setRows(to: bias.value) } else { y.zero() }
    if s > 0 {
      gemmStrided(
        m: rows, n: h, k: s, x, lda: lda, w.base, ldb: n, transposeB: true, into: y.base,
        ldc: h, beta: 1)
    }
    // Per row, one pass over y's row: the condition's weight row, then (in column order) each
    // nonzero code column's weight row times its value.
    let sources = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: t + 1)
    let scales = UnsafeMutablePointer<Float>.allocate(capacity: t + 1)
    defer {
      sources.deallocate()
      scales.deallocate()
    }
    for r in 0..<rows {
      sources[0] = UnsafePointer(wc.row(Int(columns[r])))
      scales[0] = 1
      var count = 1
      let tail = x + r * lda + e
      for j in 0..<t where tail[j] != 0 {
        sources[count] = UnsafePointer(wc.row(c + j))
        scales[count] = tail[j]
        count += 1
      }
      addScaledRows(y.row(r), sources, scales, count: count, width: h)
    }
  }

  /// dW += dyᵀ · x and db += Σ_rows dy for the same layer, one-hot block and code columns as
  /// `conditionedForward`; `scratch` holds at least (C + T) · H floats.
  func conditionedWeightBackward(
    _ layer: Linear, _ dy: Matrix, input x: UnsafePointer<Float>, lda: Int, start s: Int,
    conditionWidth c: Int, scratch: Matrix, columns: UnsafePointer<Int32>
  ) {
    let grad = layer.weight.grad
    let n = grad.cols
    let h = dy.cols
    let rows = dy.rows
    let e = s + c
    let t = n - e
    precondition(
      grad.rows == h && e <= n && lda >= n && scratch.count >= (c + t) * h,
      "conditionedWeightBackward: shapes")
    if s > 0 {
      gemmStrided(
        m: h, n: s, k: rows, dy.base, lda: h, transposeA: true, x, ldb: lda,
        into: grad.base, ldc: n, beta: 1)
    }
    // The gradient of columns s ..< n, transposed: row j of g sums x[r, s + j] · dy_r over the
    // rows (the one-hot block: dy over the rows whose one is at j).
    let g = Matrix(scratch.base, rows: c + t, cols: h)
    g.zero()
    for r in 0..<rows {
      let source = dy.row(r)
      addRow(g.row(Int(columns[r])), source, scale: 1, count: h)
      let tail = x + r * lda + e
      for j in 0..<t where tail[j] != 0 {
        addRow(g.row(c + j), source, scale: tail[j], count: h)
      }
    }
    // Add g transposed into dW[:, s ..< n], sixteen rows of dW at a time.
    let width = c + t
    var o0 = 0
    while o0 < h {
      let block = min(16, h - o0)
      for j in 0..<width {
        let source = g.base + j * h + o0
        let target = grad.base + o0 * n + s + j
        for o in 0..<block { target[o * n] += source[o] }
      }
      o0 += 16
    }
    if let bias = layer.bias { dy.addColumnSums(into: bias.grad) }
  }

  /// wc[j, o] = w[o, s + j] for j < count, sixteen rows of w at a time.
  private func transposeColumns(_ w: Matrix, from s: Int, count: Int, into wc: Matrix) {
    let h = w.rows
    let n = w.cols
    var o0 = 0
    while o0 < h {
      let block = min(16, h - o0)
      for j in 0..<count {
        let target = wc.base + j * h + o0
        let source = w.base + o0 * n + s + j
        for o in 0..<block { target[o] = source[o * n] }
      }
      o0 += 16
    }
  }

  /// target += scale · source over `count` floats (exactly target + source when scale is 1).
  @inline(__always)
  private func addRow(
    _ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, scale: Float,
    count: Int
  ) {
    typealias V = SIMD8<Float>
    var j = 0
    if scale == 1 {
      while j + 8 <= count {
        let p = UnsafeMutableRawPointer(target + j)
        let v = p.loadUnaligned(as: V.self) + UnsafeRawPointer(source + j).loadUnaligned(as: V.self)
        p.storeBytes(of: v, as: V.self)
        j += 8
      }
      while j < count {
        target[j] += source[j]
        j += 1
      }
    } else {
      let a = V(repeating: scale)
      while j + 8 <= count {
        let p = UnsafeMutableRawPointer(target + j)
        let v = p.loadUnaligned(as: V.self).addingProduct(
          a, UnsafeRawPointer(source + j).loadUnaligned(as: V.self))
        p.storeBytes(of: v, as: V.self)
        j += 8
      }
      while j < count {
        target[j] = target[j].addingProduct(scale, source[j])
        j += 1
      }
    }
  }
}

/// target += Σ_k scales[k] · sources[k] over `width` floats, the terms added in order, one
/// load and store of each target vector. With unit scales it is a plain sum, bit for bit
/// (a fused multiply-add by 1 rounds once, as an add does): the critic's first layer uses it so.
func addScaledRows(
  _ target: UnsafeMutablePointer<Float>, _ sources: UnsafePointer<UnsafePointer<Float>>,
  _ scales: UnsafePointer<Float>, count: Int, width: Int
) {
  typealias V = SIMD8<Float>
  var o = 0
  // Four independent vectors at a time, so that the multiply-adds do not wait on each other.
  while o + 32 <= width {
    let p = UnsafeMutableRawPointer(target + o)
    var a0 = p.loadUnaligned(fromByteOffset: 0, as: V.self)
    var a1 = p.loadUnaligned(fromByteOffset: 32, as: V.self)
    var a2 = p.loadUnaligned(fromByteOffset: 64, as: V.self)
    var a3 = p.loadUnaligned(fromByteOffset: 96, as: V.self)
    for k in 0..<count {
      let scale = V(repeating: scales[k])
      let q = UnsafeRawPointer(sources[k] + o)
      a0 = a0.addingProduct(scale, q.loadUnaligned(fromByteOffset: 0, as: V.self))
      a1 = a1.addingProduct(scale, q.loadUnaligned(fromByteOffset: 32, as: V.self))
      a2 = a2.addingProduct(scale, q.loadUnaligned(fromByteOffset: 64, as: V.self))
      a3 = a3.addingProduct(scale, q.loadUnaligned(fromByteOffset: 96, as: V.self))
    }
    p.storeBytes(of: a0, toByteOffset: 0, as: V.self)
    p.storeBytes(of: a1, toByteOffset: 32, as: V.self)
    p.storeBytes(of: a2, toByteOffset: 64, as: V.self)
    p.storeBytes(of: a3, toByteOffset: 96, as: V.self)
    o += 32
  }
  while o + 8 <= width {
    let p = UnsafeMutableRawPointer(target + o)
    var acc = p.loadUnaligned(as: V.self)
    for k in 0..<count {
      acc = acc.addingProduct(
        V(repeating: scales[k]), UnsafeRawPointer(sources[k] + o).loadUnaligned(as: V.self))
    }
    p.storeBytes(of: acc, as: V.self)
    o += 8
  }
  while o < width {
    var acc = target[o]
    for k in 0..<count { acc = acc.addingProduct(scales[k], sources[k][o]) }
    target[o] = acc
    o += 1
  }
}
