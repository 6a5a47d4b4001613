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
        let pairs = range.lowerBound + (range.count / 2) * 2
        forwardRowPairs(range.lowerBound..<pairs, f, xs, rs, ys, w0t, b0, w1, b1)
        forwardRows(pairs..<range.upperBound, 4, f, xs, rs, ys, w0t, b0, w1, b1)
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

  /// `forwardRows` for D = 4 and an even number of rows, two at a time (each weight vector loaded
  /// once per pair); the same operations in the same order per row, so the same results.
  @inline(__always)
  private func forwardRowPairs(
    _ range: Range<Int>, _ f: Int, _ xs: UnsafePointer<Float>, _ rs: UnsafePointer<Float>,
    _ ys: UnsafeMutablePointer<Float>, _ w0t: UnsafePointer<Float>, _ b0: UnsafePointer<Float>,
    _ w1: UnsafePointer<Float>, _ b1: UnsafePointer<Float>
  ) {
    var row = range.lowerBound
    while row < range.upperBound {
      let xa = xs + row * 4, xb = xa + 4
      let xa0 = Lanes(repeating: xa[0]), xa1 = Lanes(repeating: xa[1])
      let xa2 = Lanes(repeating: xa[2]), xa3 = Lanes(repeating: xa[3])
      let xb0 = Lanes(repeating: xb[0]), xb1 = Lanes(repeating: xb[1])
      let xb2 = Lanes(repeating: xb[2]), xb3 = Lanes(repeating: xb[3])
      var ya0 = Lanes.zero, ya1 = Lanes.zero, ya2 = Lanes.zero, ya3 = Lanes.zero
      var yb0 = Lanes.zero, yb1 = Lanes.zero, yb2 = Lanes.zero, yb3 = Lanes.zero
      var c = 0
      while c < f {
        let u0 = load(w0t + c), u1 = load(w0t + f + c), u2 = load(w0t + 2 * f + c)
        let u3 = load(w0t + 3 * f + c)
        let bias = load(b0 + c)
        let preA = hiddenPreActivation(bias, xa0, xa1, xa2, xa3, u0, u1, u2, u3)
        let preB = hiddenPreActivation(bias, xb0, xb1, xb2, xb3, u0, u1, u2, u3)
        let aA = preA.replacing(with: Lanes.zero, where: preA .< Lanes.zero)
        let aB = preB.replacing(with: Lanes.zero, where: preB .< Lanes.zero)
        let v0 = load(w1 + c), v1 = load(w1 + f + c), v2 = load(w1 + 2 * f + c)
        let v3 = load(w1 + 3 * f + c)
        ya0 = ya0.addingProduct(aA, v0)
        ya1 = ya1.addingProduct(aA, v1)
        ya2 = ya2.addingProduct(aA, v2)
        ya3 = ya3.addingProduct(aA, v3)
        yb0 = yb0.addingProduct(aB, v0)
        yb1 = yb1.addingProduct(aB, v1)
        yb2 = yb2.addingProduct(aB, v2)
        yb3 = yb3.addingProduct(aB, v3)
        c += 8
      }
      let o = row * 4
      ys[o] = rs[o] + b1[0] + ya0.sum()
      ys[o + 1] = rs[o + 1] + b1[1] + ya1.sum()
      ys[o + 2] = rs[o + 2] + b1[2] + ya2.sum()
      ys[o + 3] = rs[o + 3] + b1[3] + ya3.sum()
      ys[o + 4] = rs[o + 4] + b1[0] + yb0.sum()
      ys[o + 5] = rs[o + 5] + b1[1] + yb1.sum()
      ys[o + 6] = rs[o + 6] + b1[2] + yb2.sum()
      ys[o + 7] = rs[o + 7] + b1[3] + yb3.sum()
      row += 2
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
          backwardRowPairs(first..<end, piece, f, xs, dys, dxs, w0t, b0, w1, partials, stride)
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

  /// `backwardRows` for D = 4, two rows at a time: the gradient accumulators dW₀ᵀ, dW₁, db₀ are
  /// loaded and stored once per pair of rows instead of once per row (the single-row loop was
  /// bound by those loads and stores, not by its FMAs), and the weights once per pair. Each
  /// accumulator still receives row r's term before row r + 1's, so the sums are bit-identical
  /// to the one-row loop's.
  @inline(__always)
  private func backwardRowPairs(
    _ rows: Range<Int>, _ piece: Int, _ f: Int, _ xs: UnsafePointer<Float>,
    _ dys: UnsafePointer<Float>, _ dxs: UnsafeMutablePointer<Float>, _ w0t: UnsafePointer<Float>,
    _ b0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>, _ partials: UnsafeMutablePointer<Float>,
    _ stride: Int
  ) {
    let pairs = rows.lowerBound + (rows.count / 2) * 2
    let dw0t = partials + piece * stride  // (4, F)
    let dw1 = dw0t + 4 * f  // (4, F)
    let db0 = dw1 + 4 * f  // (F)
    let db1 = db0 + f  // (4)
    var row = rows.lowerBound
    while row < pairs {
      let xa = xs + row * 4, xb = xa + 4, dya = dys + row * 4, dyb = dya + 4
      for k in 0..<4 { db1[k] += dya[k] }
      for k in 0..<4 { db1[k] += dyb[k] }
      let xa0 = Lanes(repeating: xa[0]), xa1 = Lanes(repeating: xa[1])
      let xa2 = Lanes(repeating: xa[2]), xa3 = Lanes(repeating: xa[3])
      let xb0 = Lanes(repeating: xb[0]), xb1 = Lanes(repeating: xb[1])
      let xb2 = Lanes(repeating: xb[2]), xb3 = Lanes(repeating: xb[3])
      var ea0 = Lanes.zero, ea1 = Lanes.zero, ea2 = Lanes.zero, ea3 = Lanes.zero
      var eb0 = Lanes.zero, eb1 = Lanes.zero, eb2 = Lanes.zero, eb3 = Lanes.zero
      var c = 0
      while c < f {
        let u0 = load(w0t + c), u1 = load(w0t + f + c), u2 = load(w0t + 2 * f + c)
        let u3 = load(w0t + 3 * f + c)
        let bias = load(b0 + c)
        // Recompute the hidden values: pre = W₀x + b₀, a = ReLU(pre).
        let preA = hiddenPreActivation(bias, xa0, xa1, xa2, xa3, u0, u1, u2, u3)
        let preB = hiddenPreActivation(bias, xb0, xb1, xb2, xb3, u0, u1, u2, u3)
        let aA = preA.replacing(with: Lanes.zero, where: preA .< Lanes.zero)
        let aB = preB.replacing(with: Lanes.zero, where: preB .< Lanes.zero)
        // dW₁[k, j] += dy_k a_j, da_j = Σ_k dy_k W₁[k, j].
        var daA = Lanes.zero, daB = Lanes.zero
        for k in 0..<4 {
          let w = load(w1 + k * f + c)
          let ga = Lanes(repeating: dya[k]), gb = Lanes(repeating: dyb[k])
          daA = daA.addingProduct(ga, w)
          daB = daB.addingProduct(gb, w)
          store(load(dw1 + k * f + c).addingProduct(ga, aA).addingProduct(gb, aB), dw1 + k * f + c)
        }
        let dpA = daA.replacing(with: Lanes.zero, where: preA .<= Lanes.zero)
        let dpB = daB.replacing(with: Lanes.zero, where: preB .<= Lanes.zero)
        store(load(db0 + c) + dpA + dpB, db0 + c)
        store(load(dw0t + c).addingProduct(xa0, dpA).addingProduct(xb0, dpB), dw0t + c)
        store(load(dw0t + f + c).addingProduct(xa1, dpA).addingProduct(xb1, dpB), dw0t + f + c)
        store(
          load(dw0t + 2 * f + c).addingProduct(xa2, dpA).addingProduct(xb2, dpB), dw0t + 2 * f + c)
        store(
          load(dw0t + 3 * f + c).addingProduct(xa3, dpA).addingProduct(xb3, dpB), dw0t + 3 * f + c)
        ea0 = ea0.addingProduct(dpA, u0)
        ea1 = ea1.addingProduct(dpA, u1)
        ea2 = ea2.addingProduct(dpA, u2)
        ea3 = ea3.addingProduct(dpA, u3)
        eb0 = eb0.addingProduct(dpB, u0)
        eb1 = eb1.addingProduct(dpB, u1)
        eb2 = eb2.addingProduct(dpB, u2)
        eb3 = eb3.addingProduct(dpB, u3)
        c += 8
      }
      let dxa = dxs + row * 4, dxb = dxa + 4
      dxa[0] += ea0.sum()
      dxa[1] += ea1.sum()
      dxa[2] += ea2.sum()
      dxa[3] += ea3.sum()
      dxb[0] += eb0.sum()
      dxb[1] += eb1.sum()
      dxb[2] += eb2.sum()
      dxb[3] += eb3.sum()
      row += 2
    }
    if pairs < rows.upperBound {
      backwardRows(pairs..<rows.upperBound, piece, 4, f, xs, dys, dxs, w0t, b0, w1, partials, stride)
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

/// b + x₀u₀ + x₁u₁ + x₂u₂ + x₃u₃ for a lane block of hidden units: the forward pass computes
/// it, and the backward pass recomputes it rather than storing F-wide activations.
@inline(__always)
private func hiddenPreActivation(
  _ bias: Lanes, _ x0: Lanes, _ x1: Lanes, _ x2: Lanes, _ x3: Lanes,
  _ u0: Lanes, _ u1: Lanes, _ u2: Lanes, _ u3: Lanes
) -> Lanes {
  bias.addingProduct(x0, u0).addingProduct(x1, u1).addingProduct(x2, u2).addingProduct(x3, u3)
}
