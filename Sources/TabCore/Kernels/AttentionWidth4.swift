// A fused kernel for the smallest attention layers: one head of width 4 without an output
// projection (TabSyn's VAE, tabsyn.md §2.3: d_token 4, 1 head, T ≈ 15-25 tokens with [CLS]).
// `SelfAttention.forward`/`backward` stay the general path and the reference the tests compare
// against; this one computes the same function (to rounding) with everything of one batch row in
// registers and a few stack buffers:
//
// - The three projections run inside the kernel. As BLAS calls they were products with an inner
//   (forward, dx) or outer (dW) dimension of 4, each streaming a (B·T, 4) matrix through memory:
//   nine calls a layer and step. Here a projection is 16 FMAs per 8 tokens.
// - Queries sit in the lanes: a SIMD8 vector holds one quantity for 8 queries i of a row, and
//   the loops run over keys j (T of them, no padding), reading k_j, v_j as broadcast scalars.
//   So the softmax over j is lane-wise (max, exp, sum of vectors, no horizontal reductions),
//   and only dK, dV (sums over queries) need horizontal sums, T·8 per row.
// - Backward recomputes Q, K, V from x (cheaper than storing and reloading them) and reads the
//   saved probabilities, stored in the same lane layout.
// - Parameter gradients are summed per block of `width4BlockRows` batch rows, and the blocks'
//   partial sums added in block order: the result does not depend on the thread count.
//
// Shapes: x, y, dy, dx (B·T, 4); W_q, W_k, W_v (4, 4), b (1, 4); P (B, ⌈T/8⌉·T·8).

/// What `forwardWidth4` saves for `backwardWidth4`: the attention probabilities of every row,
/// row b holding for each chunk c of 8 queries and each key j the vector p[8c ..< 8c+8, j].
/// Shapes: probabilities (B, ⌈T/8⌉·8·T).
public struct Width4AttentionSaved {
  public let probabilities: Matrix

  /// Buffers for `batch` rows of `layer`, allocated in `workspace`.
  public init(for layer: SelfAttention, batch: Int, in workspace: Workspace) {
    let chunks = (layer.tokens + 7) / 8
    probabilities = workspace.matrix(rows: batch, cols: chunks * 8 * layer.tokens)
  }
}

extension SelfAttention {
  /// True when the fused width-4 kernel applies: one head, width 4, no output projection.
  public var hasWidth4Kernel: Bool { heads == 1 && width == 4 && output == nil }

  /// Batch rows per block of the fused kernel's parameter-gradient partial sums.
  public static let width4BlockRows = 64

  /// The same function as `forward` (to rounding): overwrites `y`, writes `saved`.
  /// - Precondition: `hasWidth4Kernel`; x, y (B·T, 4); `saved` sized for B.
  public func forwardWidth4(_ x: Matrix, into y: Matrix, saving saved: Width4AttentionSaved) {
    let t = tokens
    let batch = x.rows / t
    let chunks = (t + 7) / 8
    precondition(
      hasWidth4Kernel && x.cols == 4 && y.cols == 4 && x.rows == batch * t && y.rows == x.rows
        && saved.probabilities.rows == batch && saved.probabilities.cols == chunks * 8 * t,
      "SelfAttention width-4 forward: x \(x.rows)x\(x.cols), y \(y.rows)x\(y.cols)")
    let weights = Width4Projections(self)
    ParallelFor.run(count: batch, minimumCount: Self.parallelRows) { range in
      withUnsafeTemporaryAllocation(of: Vector8.self, capacity: 12 * chunks + 2 * t) { buffer in
        let qkv = buffer.baseAddress!  // [chunk][12]: q0..3 (scaled), k0..3, v0..3
        let kv = UnsafeMutableRawPointer(qkv + 12 * chunks).assumingMemoryBound(to: Float.self)
        // kv: k_j at kv[4j ..< 4j+4], v_j at kv[4(T + j) ...] as scalars (lane layout undone)
        let scores = qkv + 12 * chunks + t
        for b in range {
          let xRow = x.base + b * t * 4
          weights.project(xRow, tokens: t, into: qkv, keysValues: kv)
          let p = saved.probabilities.row(b)
          for c in 0..<chunks {
            let q0 = qkv[12 * c], q1 = qkv[12 * c + 1], q2 = qkv[12 * c + 2], q3 = qkv[12 * c + 3]
            var m = Vector8(repeating: -Float.greatestFiniteMagnitude)
            for j in 0..<t {
              let k = kv + 4 * j
              var s = q0 * k[0]
              s = s.addingProduct(q1, k[1])
              s = s.addingProduct(q2, k[2])
              s = s.addingProduct(q3, k[3])
              scores[j] = s
              m = maximum8(m, s)
            }
            var total = Vector8()
            for j in 0..<t {
              let e = exp8(scores[j] - m)
              scores[j] = e
              total += e
            }
            let inverse = 1 / total
            var a0 = Vector8(), a1 = Vector8(), a2 = Vector8(), a3 = Vector8()
            let pc = p + c * 8 * t
            for j in 0..<t {
              let pj = scores[j] * inverse
              store8(pj, pc + 8 * j)
              let v = kv + 4 * (t + j)
              a0 = a0.addingProduct(pj, v[0])
              a1 = a1.addingProduct(pj, v[1])
              a2 = a2.addingProduct(pj, v[2])
              a3 = a3.addingProduct(pj, v[3])
            }
            let out = y.base + (b * t + 8 * c) * 4
            for lane in 0..<min(8, t - 8 * c) {
              out[4 * lane] = a0[lane]
              out[4 * lane + 1] = a1[lane]
              out[4 * lane + 2] = a2[lane]
              out[4 * lane + 3] = a3[lane]
            }
          }
        }
      }
    }
  }

  /// The same gradients as `backward` (to rounding): accumulates into W_q, W_k, W_v and their
  /// biases' grads and, unless nil, into `dx`.
  /// - Precondition: `hasWidth4Kernel`; dy, x (B·T, 4) and `saved` from `forwardWidth4(x)`.
  public func backwardWidth4(
    _ dy: Matrix, input x: Matrix, saved: Width4AttentionSaved, dx: Matrix?
  ) {
    let t = tokens
    let batch = x.rows / t
    let chunks = (t + 7) / 8
    precondition(
      hasWidth4Kernel && x.cols == 4 && dy.cols == 4 && x.rows == batch * t && dy.rows == x.rows
        && saved.probabilities.rows == batch && (dx.map { $0.rows == x.rows && $0.cols == 4 } ?? true),
      "SelfAttention width-4 backward: shape mismatch")
    let weights = Width4Projections(self)
    let blockRows = Self.width4BlockRows
    let blocks = (batch + blockRows - 1) / blockRows
    // Per block: dW_q, dW_k, dW_v (16 each) and db_q, db_k, db_v (4 each), as 60 lane vectors.
    let partialCount = 60
    let partials = UnsafeMutablePointer<Float>.allocate(capacity: blocks * partialCount)
    defer { partials.deallocate() }
    let scale: Float = 0.5  // 1/√E
    ParallelFor.run(count: blocks, minimumCount: Self.parallelRows / blockRows, granularity: 1) {
      blockRange in
      let local = 12 * chunks + 4 * chunks + t + 8 * t + partialCount
      withUnsafeTemporaryAllocation(of: Vector8.self, capacity: local) { buffer in
        let qkv = buffer.baseAddress!  // [chunk][12] as in forward (q scaled)
        let dA = qkv + 12 * chunks  // [chunk][4]: dy transposed, zero padding
        let dP = dA + 4 * chunks  // [j]: dp_j of the current chunk
        let dKV = dP + t  // [j][8]: dk_j[0..3], dv_j[0..3], lane-wise sums over the chunks
        let accumulators = dKV + 8 * t  // 60
        let kv = UnsafeMutablePointer<Float>.allocate(capacity: 8 * t)
        defer { kv.deallocate() }
        for block in blockRange {
          accumulators.update(repeating: Vector8(), count: partialCount)
          for b in (block * blockRows)..<min(batch, (block + 1) * blockRows) {
            let xRow = x.base + b * t * 4
            weights.project(xRow, tokens: t, into: qkv, keysValues: kv)
            let dyRow = dy.base + b * t * 4
            for c in 0..<chunks {
              var d0 = Vector8(), d1 = Vector8(), d2 = Vector8(), d3 = Vector8()
              for lane in 0..<min(8, t - 8 * c) {
                let token = dyRow + (8 * c + lane) * 4
                d0[lane] = token[0]
                d1[lane] = token[1]
                d2[lane] = token[2]
                d3[lane] = token[3]
              }
              dA[4 * c] = d0
              dA[4 * c + 1] = d1
              dA[4 * c + 2] = d2
              dA[4 * c + 3] = d3
            }
            dKV.update(repeating: Vector8(), count: 8 * t)
            let p = saved.probabilities.row(b)
            for c in 0..<chunks {
              let d0 = dA[4 * c], d1 = dA[4 * c + 1], d2 = dA[4 * c + 2], d3 = dA[4 * c + 3]
              let pc = p + c * 8 * t
              // From a_i = Σ_j p_ij v_j: dp_ij = da_i · v_j and dv_j += Σ_i p_ij da_i.
              var centre = Vector8()
              for j in 0..<t {
                let v = kv + 4 * (t + j)
                let pj = load8(pc + 8 * j)
                var g = d0 * v[0]
                g = g.addingProduct(d1, v[1])
                g = g.addingProduct(d2, v[2])
                g = g.addingProduct(d3, v[3])
                dP[j] = g
                centre = centre.addingProduct(pj, g)
                let acc = dKV + 8 * j + 4
                acc[0] = acc[0].addingProduct(pj, d0)
                acc[1] = acc[1].addingProduct(pj, d1)
                acc[2] = acc[2].addingProduct(pj, d2)
                acc[3] = acc[3].addingProduct(pj, d3)
              }
              // ds_ij = p_ij (dp_ij − Σ_k p_ik dp_ik) / √E; dq_i = Σ_j ds_ij k_j and
              // dk_j += Σ_i ds_ij q_i (q unscaled: the 1/√E is in ds).
              let q0 = qkv[12 * c] * 2, q1 = qkv[12 * c + 1] * 2
              let q2 = qkv[12 * c + 2] * 2, q3 = qkv[12 * c + 3] * 2
              var g0 = Vector8(), g1 = Vector8(), g2 = Vector8(), g3 = Vector8()
              for j in 0..<t {
                let pj = load8(pc + 8 * j)
                let ds = pj * (dP[j] - centre) * scale
                let k = kv + 4 * j
                g0 = g0.addingProduct(ds, k[0])
                g1 = g1.addingProduct(ds, k[1])
                g2 = g2.addingProduct(ds, k[2])
                g3 = g3.addingProduct(ds, k[3])
                let acc = dKV + 8 * j
                acc[0] = acc[0].addingProduct(ds, q0)
                acc[1] = acc[1].addingProduct(ds, q1)
                acc[2] = acc[2].addingProduct(ds, q2)
                acc[3] = acc[3].addingProduct(ds, q3)
              }
              // dq replaces the chunk's q (no longer needed): qkv[12c ..< 12c+4] = dQ.
              qkv[12 * c] = g0
              qkv[12 * c + 1] = g1
              qkv[12 * c + 2] = g2
              qkv[12 * c + 3] = g3
            }
            // dk_j, dv_j back into the lanes: qkv[12c + 4 ..< 12c + 12] = dK, dV of chunk c.
            for c in 0..<chunks {
              for r in 0..<8 { qkv[12 * c + 4 + r] = Vector8() }
              for lane in 0..<min(8, t - 8 * c) {
                let acc = dKV + 8 * (8 * c + lane)
                for r in 0..<8 { qkv[12 * c + 4 + r][lane] = horizontalSum(acc[r]) }
              }
            }
            weights.projectBackward(
              xRow, tokens: t, gradients: qkv, dx: dx.map { $0.base + b * t * 4 },
              accumulators: accumulators)
          }
          let out = partials + block * partialCount
          for r in 0..<partialCount { out[r] = horizontalSum(accumulators[r]) }
        }
      }
    }
    // Block partials in block order: the same sums for every thread count.
    let targets = [
      query.weight.grad.base, key.weight.grad.base, value.weight.grad.base,
    ]
    let biasTargets = [query.bias!.grad.base, key.bias!.grad.base, value.bias!.grad.base]
    for block in 0..<blocks {
      let part = partials + block * partialCount
      for m in 0..<3 {
        for r in 0..<16 { targets[m][r] += part[16 * m + r] }
        for r in 0..<4 { biasTargets[m][r] += part[48 + 4 * m + r] }
      }
    }
  }
}

/// W_q (scaled by 1/√4), W_k, W_v and their biases as scalars, and the projections of one row.
private struct Width4Projections {
  /// w[m][c][d]: projection m (q, k, v), output c, input d; bias[m][c].
  var w: [Float]  // 48
  var bias: [Float]  // 12
  /// The unscaled query weights and bias, for the backward's dx (the gradients are unscaled).
  var wUnscaled: [Float]

  init(_ layer: SelfAttention) {
    w = []
    bias = []
    for (m, projection) in [layer.query, layer.key, layer.value].enumerated() {
      let factor: Float = m == 0 ? 0.5 : 1
      let weight = projection.weight.value.base, b = projection.bias!.value.base
      for r in 0..<16 { w.append(weight[r] * factor) }
      for r in 0..<4 { bias.append(b[r] * factor) }
    }
    let q = layer.query.weight.value.base
    wUnscaled = (0..<16).map { q[$0] }
  }

  /// Tokens 8c ..< 8c+count of a (T, 4) row as four lane vectors, one per feature (padding
  /// lanes zero): what forward and backward both feed the projection.
  @inline(__always)
  static func transposeChunk(
    _ x: UnsafePointer<Float>, chunk c: Int, count: Int
  ) -> (Vector8, Vector8, Vector8, Vector8) {
    var x0 = Vector8(), x1 = Vector8(), x2 = Vector8(), x3 = Vector8()
    for lane in 0..<count {
      let token = x + (8 * c + lane) * 4
      x0[lane] = token[0]
      x1[lane] = token[1]
      x2[lane] = token[2]
      x3[lane] = token[3]
    }
    return (x0, x1, x2, x3)
  }

  /// qkv[12c ..< 12c+12] = q (scaled), k, v of chunk c's 8 tokens (zero x in padding lanes), and
  /// kv[4j ..< 4j+4] = k_j, kv[4(T+j) ..< 4(T+j)+4] = v_j.
  @inline(__always)
  func project(
    _ x: UnsafePointer<Float>, tokens t: Int, into qkv: UnsafeMutablePointer<Vector8>,
    keysValues kv: UnsafeMutablePointer<Float>
  ) {
    w.withUnsafeBufferPointer { wb in
      bias.withUnsafeBufferPointer { bb in
        let w = wb.baseAddress!, bias = bb.baseAddress!
        for c in 0..<(t + 7) / 8 {
          let count = min(8, t - 8 * c)
          let (x0, x1, x2, x3) = Self.transposeChunk(x, chunk: c, count: count)
          for o in 0..<12 {
            let r = w + 4 * o
            var y = Vector8(repeating: bias[o])
            y = y.addingProduct(x0, r[0])
            y = y.addingProduct(x1, r[1])
            y = y.addingProduct(x2, r[2])
            y = y.addingProduct(x3, r[3])
            qkv[12 * c + o] = y
          }
          for lane in 0..<count {
            let j = 8 * c + lane
            for r in 0..<4 {
              kv[4 * j + r] = qkv[12 * c + 4 + r][lane]
              kv[4 * (t + j) + r] = qkv[12 * c + 8 + r][lane]
            }
          }
        }
      }
    }
  }

  /// From the lane gradients g[12c ..< 12c+12] (dq, dk, dv of chunk c; zero in padding lanes):
  /// dx += Σ_m W_mᵀ g_m (unscaled W), and the accumulators (16 per W then 4 per bias, m order
  /// q, k, v) += g ⊗ x lane-wise.
  @inline(__always)
  func projectBackward(
    _ x: UnsafePointer<Float>, tokens t: Int, gradients g: UnsafeMutablePointer<Vector8>,
    dx: UnsafeMutablePointer<Float>?, accumulators acc: UnsafeMutablePointer<Vector8>
  ) {
    w.withUnsafeBufferPointer { wb in
      wUnscaled.withUnsafeBufferPointer { qb in
        let w = wb.baseAddress!, wq = qb.baseAddress!
        for c in 0..<(t + 7) / 8 {
          let count = min(8, t - 8 * c)
          let (x0, x1, x2, x3) = Self.transposeChunk(x, chunk: c, count: count)
          var e0 = Vector8(), e1 = Vector8(), e2 = Vector8(), e3 = Vector8()
          for o in 0..<12 {
            let go = g[12 * c + o]
            let r = o < 4 ? wq + 4 * o : w + 4 * o
            e0 = e0.addingProduct(go, r[0])
            e1 = e1.addingProduct(go, r[1])
            e2 = e2.addingProduct(go, r[2])
            e3 = e3.addingProduct(go, r[3])
            let a = acc + 4 * o
            a[0] = a[0].addingProduct(go, x0)
            a[1] = a[1].addingProduct(go, x1)
            a[2] = a[2].addingProduct(go, x2)
            a[3] = a[3].addingProduct(go, x3)
            acc[48 + o] += go
          }
          if let dx {
            for lane in 0..<count {
              let token = dx + (8 * c + lane) * 4
              token[0] += e0[lane]
              token[1] += e1[lane]
              token[2] += e2[lane]
              token[3] += e3[lane]
            }
          }
        }
      }
    }
  }
}

/// The sum of the 8 lanes, pairwise.
@inline(__always)
private func horizontalSum(_ v: Vector8) -> Float {
  let four = v.lowHalf + v.highHalf
  let two = four.lowHalf + four.highHalf
  return two[0] + two[1]
}
