// LayerNorm over tokens of width 4 (TabSyn's d_token), forward and backward. TabCore's general
// kernels loop over each row's columns with 8-lane vectors and scalar tails, which for a row of
// 4 is all tail and per-row overhead, on one thread; they were 15% of a training step. Here a
// row is one SIMD4 vector, rows run over ParallelFor, and the parameter gradients are summed per
// block of `width4BlockRows` rows and the blocks' sums added in block order (so the result does
// not depend on the thread count). Same formulas as TabCore's layerNormForward/Backward:
//   n = (x − mean)·rstd, y = n·γ + β;  dβ += dy, dγ += dy·n,
//   dx += rstd·(dn − mean(dn) − n·mean(dn·n)) with dn = dy·γ.

import TabCore

extension LayerNorm {
  /// `forward`, on the width-4 kernel when it applies.
  func forwardAny(_ x: Matrix, into y: Matrix, saving saved: Saved) {
    if width == 4 { forwardWidth4(x, into: y, saving: saved) } else { forward(x, into: y, saving: saved) }
  }

  /// `backward`, on the width-4 kernel when it applies.
  func backwardAny(_ dy: Matrix, input x: Matrix, saved: Saved, dx: Matrix?) {
    if width == 4 {
      backwardWidth4(dy, input: x, saved: saved, dx: dx)
    } else {
      backward(dy, input: x, saved: saved, dx: dx)
    }
  }

  /// Rows per block of the parameter-gradient partial sums.
  static var width4BlockRows: Int { 512 }

  /// `forward` for width 4: overwrites `y` and `saved`.
  func forwardWidth4(_ x: Matrix, into y: Matrix, saving saved: Saved) {
    precondition(
      width == 4 && x.cols == 4 && y.cols == 4 && x.rows == y.rows && saved.mean.count == x.rows,
      "LayerNorm width 4: x \(x.rows)x\(x.cols), y \(y.rows)x\(y.cols)")
    let gamma = load4(weight.value.base), beta = load4(bias.value.base)
    let xs = UnsafePointer(x.base), ys = y.base, means = saved.mean.base, rstds = saved.rstd.base
    let epsilon = self.epsilon
    ParallelFor.run(count: x.rows, minimumCount: 4096) { range in
      for i in range {
        let v = load4(xs + 4 * i)
        let m = v.sum() / 4
        let d = v - SIMD4(repeating: m)
        let variance = (d * d).sum() / 4
        let r = 1 / (variance + epsilon).squareRoot()
        means[i] = m
        rstds[i] = r
        store4(beta.addingProduct(d * SIMD4(repeating: r), gamma), ys + 4 * i)
      }
    }
  }

  /// `backward` for width 4: accumulates into `weight.grad`, `bias.grad` and, unless nil, `dx`.
  func backwardWidth4(_ dy: Matrix, input x: Matrix, saved: Saved, dx: Matrix?) {
    precondition(
      width == 4 && x.cols == 4 && dy.cols == 4 && dy.rows == x.rows && saved.mean.count == x.rows
        && (dx.map { $0.rows == x.rows && $0.cols == 4 } ?? true),
      "LayerNorm width 4 backward: shape mismatch")
    let rows = x.rows
    let blockRows = Self.width4BlockRows
    let blocks = (rows + blockRows - 1) / blockRows
    let partials = UnsafeMutablePointer<SIMD4<Float>>.allocate(capacity: 2 * blocks)
    defer { partials.deallocate() }
    let gamma = load4(weight.value.base)
    let xs = UnsafePointer(x.base), dys = UnsafePointer(dy.base), dxs = dx?.base
    let means = UnsafePointer(saved.mean.base), rstds = UnsafePointer(saved.rstd.base)
    ParallelFor.run(count: blocks, minimumCount: 4096 / blockRows, granularity: 1) { range in
      for block in range {
        var dgamma = SIMD4<Float>(), dbeta = SIMD4<Float>()
        for i in (block * blockRows)..<min(rows, (block + 1) * blockRows) {
          let g = load4(dys + 4 * i)
          let r = rstds[i]
          let n = (load4(xs + 4 * i) - SIMD4(repeating: means[i])) * SIMD4(repeating: r)
          dbeta += g
          dgamma = dgamma.addingProduct(g, n)
          guard let dxs else { continue }
          let dn = g * gamma
          let dnMean = dn.sum() / 4, dnNormMean = (dn * n).sum() / 4
          let term = (dn - SIMD4(repeating: dnMean)) - n * SIMD4(repeating: dnNormMean)
          store4(load4(dxs + 4 * i).addingProduct(SIMD4(repeating: r), term), dxs + 4 * i)
        }
        partials[2 * block] = dgamma
        partials[2 * block + 1] = dbeta
      }
    }
    var dgamma = load4(weight.grad.base), dbeta = load4(bias.grad.base)
    for block in 0..<blocks {
      dgamma += partials[2 * block]
      dbeta += partials[2 * block + 1]
    }
    store4(dgamma, weight.grad.base)
    store4(dbeta, bias.grad.base)
  }
}

@inline(__always)
private func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
  UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
}

@inline(__always)
private func load4(_ p: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
  UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
}

@inline(__always)
private func store4(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self)
}
