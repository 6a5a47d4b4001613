// The transformer's feed-forward block, y = r + W₁·ReLU(W₀·x + b₀) + b₁, fused for narrow
// tokens. With TabSyn's D = 4 and F = 128, the two Linear layers through BLAS were the biggest
// cost of a step (products with an inner dimension of 4 run far below peak, and the (B·N, F)
// activations went to memory and back several times, plus a per-row bias-gradient pass). Here
// each row's F hidden values live only in registers, eight at a time (SIMD8 along F): forward
// writes only the D outputs, backward recomputes the hidden values from x instead of reading
// them, and the parameter gradients gather in small per-piece accumulators that are summed in
// a fixed order (so a run is bit-identical for a given thread count).
//
// Shapes: x, r, y (M, D) with M = B·T rows; W₀ (F, D), b₀ (1, F), W₁ (D, F), b₁ (1, D), the two
// `Linear` layers' parameters (PyTorch's layout). F must be a multiple of 8.

import TabCore

typealias Lanes = SIMD8<Float>

@inline(__always)
private func load(_ p: UnsafePointer<Float>) -> Lanes {
  UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
}

@inline(__always)
private func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
}

struct FeedForward {
  let linear0: Linear  // D → F
  let linear1: Linear  // F → D
  var width: Int { linear0.inputs }
  var hidden: Int { linear0.outputs }

  init(linear0: Linear, linear1: Linear) {
    precondition(
      linear0.outputs % 8 == 0 && linear1.inputs == linear0.outputs
        && linear1.outputs == linear0.inputs && linear0.bias != nil && linear1.bias != nil,
      "FeedForward: needs D → F → D with biases and F a multiple of 8")
    self.linear0 = linear0
    self.linear1 = linear1
  }

  /// Backward's temporaries: W₀ᵀ (D, F) and, per piece of rows, the partial gradients
  /// dW₀ᵀ (D, F), dW₁ (D, F), db₀ (F), db₁ (D).
  struct Scratch {
    let transposed: Matrix
    let partials: Matrix
    let pieces: Int

    init(for layer: FeedForward, in w: Workspace) {
      let d = layer.width, f = layer.hidden
      transposed = w.matrix(rows: d, cols: f)
      pieces = max(BLASThreads.maximum, 1)
      partials = w.matrix(rows: pieces, cols: 2 * d * f + f + d)
    }
  }

  private func transpose(into t: Matrix) {
    let d = width, f = hidden, w = linear0.weight.value.base
    for j in 0..<f {
      for k in 0..<d { t.base[k * f + j] = w[j * d + k] }
    }
  }

  /// Overwrites `y` with `r + W₁·ReLU(W₀·x + b₀) + b₁`, row by row.
  func forward(_ x: Matrix, residual r: Matrix, into y: Matrix, scratch: Scratch) {
    let d = width, f = hidden
    precondition(x.cols == d && r.cols == d && y.cols == d && x.rows == r.rows && x.rows == y.rows)
    transpose(into: scratch.transposed)
    let w0t = UnsafePointer(scratch.transposed.base), b0 = UnsafePointer(linear0.bias!.value.base)
    let w1 = UnsafePointer(linear1.weight.value.base), b1 = UnsafePointer(linear1.bias!.value.base)
    let xs = UnsafePointer(x.base), rs = UnsafePointer(r.base), ys = y.base
    ParallelFor.run(count: x.rows, minimumCount: 256) { range in
      // D = 4 (TabSyn's) gets a copy of the loop with the width a constant, fully unrolled.
      if d == 4 {
        forwardRows(range, 4, f, xs, rs, ys, w0t, b0, w1, b1)
      } else {
        forwardRows(range, d, f, xs, rs, ys, w0t, b0, w1, b1)
      }
    }
  }

  @inline(__always)
  private func forwardRows(
    _ range: Range<Int>, _ d: Int, _ f: Int, _ xs: UnsafePointer<Float>, _ rs: UnsafePointer<Float>,
    _ ys: UnsafeMutablePointer<Float>, _ w0t: UnsafePointer<Float>, _ b0: UnsafePointer<Float>,
    _ w1: UnsafePointer<Float>, _ b1: UnsafePointer<Float>
  ) {
      withUnsafeTemporaryAllocation(of: Lanes.self, capacity: d) { acc in
        for row in range {
          let xr = xs + row * d
          for k in 0..<d { acc[k] = .zero }
          var c = 0
          while c < f {
            var pre = load(b0 + c)
            for k in 0..<d { pre = pre.addingProduct(Lanes(repeating: xr[k]), load(w0t + k * f + c)) }
            let a = pre.replacing(with: Lanes.zero, where: pre .< Lanes.zero)
            for k in 0..<d { acc[k] = acc[k].addingProduct(a, load(w1 + k * f + c)) }
            c += 8
          }
          for k in 0..<d { ys[row * d + k] = rs[row * d + k] + b1[k] + acc[k].sum() }
        }
      }
  }

  /// Accumulates into W₀, b₀, W₁, b₁'s grads and into `dx` (M, D), from `dy` (M, D) and the
  /// forward's `x`. The residual's gradient (dy itself) is the caller's.
  func backward(_ dy: Matrix, input x: Matrix, dx: Matrix, scratch: Scratch) {
    let d = width, f = hidden
    precondition(dy.cols == d && x.cols == d && dx.cols == d && dy.rows == x.rows && dx.rows == x.rows)
    transpose(into: scratch.transposed)
    scratch.partials.zero()
    let w0t = UnsafePointer(scratch.transposed.base), b0 = UnsafePointer(linear0.bias!.value.base)
    let w1 = UnsafePointer(linear1.weight.value.base)
    let xs = UnsafePointer(x.base), dys = UnsafePointer(dy.base), dxs = dx.base
    let rows = x.rows, pieces = scratch.pieces, stride = scratch.partials.cols
    let partials = scratch.partials.base
    ParallelFor.run(count: pieces, minimumCount: 1, granularity: 1) { range in
      for piece in range {
        let first = rows * piece / pieces, end = rows * (piece + 1) / pieces
        if d == 4 {
          backwardRows(first..<end, piece, 4, f, xs, dys, dxs, w0t, b0, w1, partials, stride)
        } else {
          backwardRows(first..<end, piece, d, f, xs, dys, dxs, w0t, b0, w1, partials, stride)
        }
      }
    }
    reduce(partials, stride: stride, pieces: pieces)
  }

  @inline(__always)
  private func backwardRows(
    _ rows: Range<Int>, _ piece: Int, _ d: Int, _ f: Int, _ xs: UnsafePointer<Float>,
    _ dys: UnsafePointer<Float>, _ dxs: UnsafeMutablePointer<Float>, _ w0t: UnsafePointer<Float>,
    _ b0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>, _ partials: UnsafeMutablePointer<Float>,
    _ stride: Int
  ) {
      withUnsafeTemporaryAllocation(of: Lanes.self, capacity: d) { acc in
        do {
          let dw0t = partials + piece * stride  // (D, F)
          let dw1 = dw0t + d * f  // (D, F)
          let db0 = dw1 + d * f  // (F)
          let db1 = db0 + f  // (D)
          for row in rows {
            let xr = xs + row * d, dyr = dys + row * d
            for k in 0..<d {
              db1[k] += dyr[k]  // b₁: y = … + b₁
              acc[k] = .zero
            }
            var c = 0
            while c < f {
              // Recompute the hidden values: pre = W₀x + b₀, a = ReLU(pre).
              var pre = load(b0 + c)
              for k in 0..<d { pre = pre.addingProduct(Lanes(repeating: xr[k]), load(w0t + k * f + c)) }
              let a = pre.replacing(with: Lanes.zero, where: pre .< Lanes.zero)
              // y_k = Σ_j W₁[k, j] a_j: dW₁[k, j] += dy_k a_j, da_j = Σ_k dy_k W₁[k, j].
              var da = Lanes.zero
              for k in 0..<d {
                let g = Lanes(repeating: dyr[k])
                da = da.addingProduct(g, load(w1 + k * f + c))
                store(load(dw1 + k * f + c).addingProduct(g, a), dw1 + k * f + c)
              }
              // ReLU: dpre = da · [pre > 0]; then b₀, W₀ and x from pre = W₀x + b₀.
              let dpre = da.replacing(with: Lanes.zero, where: pre .<= Lanes.zero)
              store(load(db0 + c) + dpre, db0 + c)
              for k in 0..<d {
                store(load(dw0t + k * f + c).addingProduct(Lanes(repeating: xr[k]), dpre), dw0t + k * f + c)
                acc[k] = acc[k].addingProduct(dpre, load(w0t + k * f + c))
              }
              c += 8
            }
            for k in 0..<d { dxs[row * d + k] += acc[k].sum() }
          }
        }
      }
  }

  /// The pieces' partial gradients, summed in piece order into the parameters' grads.
  private func reduce(_ partials: UnsafeMutablePointer<Float>, stride: Int, pieces: Int) {
    let d = width, f = hidden
    let gw0 = linear0.weight.grad.base, gb0 = linear0.bias!.grad.base
    let gw1 = linear1.weight.grad.base, gb1 = linear1.bias!.grad.base
    for piece in 0..<pieces {
      let dw0t = partials + piece * stride, dw1 = dw0t + d * f, db0 = dw1 + d * f, db1 = db0 + f
      for j in 0..<f {
        for k in 0..<d { gw0[j * d + k] += dw0t[k * f + j] }
        gb0[j] += db0[j]
      }
      for i in 0..<d * f { gw1[i] += dw1[i] }
      for k in 0..<d { gb1[k] += db1[k] }
    }
  }
}
