// Multi-head self-attention over a short token axis (a table row's column tokens), forward and
// backward, for TabSyn's VAE (tabsyn.md §2.3) and any transformer over tokens.
//
// B = rows in a batch, N = tokens per row (the brief's T), D = token width, H = heads,
// E = D / H the width of one head. A batch (B, N, D) is stored as a Matrix (B·N, D): row b·N + t
// is token t of batch row b. Head h of a token is columns h·E ..< (h+1)·E.
//
// How the per-(row, head) products run, and why: each of the B·H blocks multiplies an (N, E) by
// an (E, N) matrix and an (N, N) by an (N, E) one. With TabSyn's shapes (N ≈ 16, D = E = 4,
// B = 4096) a block is 2·N²·E ≈ 2 kflop: as one cblas_sgemm per product, each call would do a
// few hundred flops behind BLAS's argument checks, threading decision and packing, B·H·6 times a
// step, with inner dimension 4, where even large products reach only a fraction of peak. So the
// blocks run as small loops, arranged so that every inner loop runs along the key axis j (length
// N, contiguous) in SIMD8 vectors: the keys and values of a block are kept transposed, (E, N), so
// that scores are N·E axpys of length N and the head outputs N·E dot products of length N.
// Measured (release, one core, B = 4096, projections included): N = 16, D = 4, H = 1: forward
// 10 ms, backward 22 ms; N = 200, D = 4: 331 and 515 ms. Not yet measured against a batched-gemm
// variant; that would matter only for long, wide heads (N and E in the hundreds).

/// Multi-head self-attention: Q = x·W_qᵀ + b_q, K = x·W_kᵀ + b_k, V = x·W_vᵀ + b_v; per row and
/// head, A = softmax(Q Kᵀ / √E) · V over all N tokens (no mask); y = A·W_oᵀ + b_o, or y = A when
/// the layer has no output projection (TabSyn's one-head layers, model.py:97).
///
/// Shapes: x, y (B·N, D); each projection's W (D, D) and b (1, D).
public struct SelfAttention {
  /// N, the tokens of one batch row.
  public let tokens: Int
  /// D, the token width.
  public let width: Int
  /// H, the number of heads.
  public let heads: Int
  /// E = D / H, the width of one head.
  public let headWidth: Int
  public let query: Linear
  public let key: Linear
  public let value: Linear
  /// The output projection, or nil for y = A.
  public let output: Linear?

  /// What backward needs beyond `x`, written by forward: the projections, the keys and values
  /// transposed per (row, head) block, the attention probabilities and, with an output
  /// projection, its input A.
  /// Shapes: query, key, value (B·N, D); keysTransposed, valuesTransposed (B·H, E·N), block
  /// (b, h) holding its (E, N) transpose; probabilities (B·H·N, N), block (b, h) at rows
  /// (b·H + h)·N ..< (b·H + h + 1)·N; attended (B·N, D) or nil.
  /// - Complexity: memory B·(5·N·D + H·N² (+ N·D)) floats; the B·H·N² probabilities dominate
  ///   for long rows (B = 4096, N = 200, H = 1: 655 MB).
  public struct Saved {
    public let query: Matrix
    public let key: Matrix
    public let value: Matrix
    public let keysTransposed: Matrix
    public let valuesTransposed: Matrix
    public let probabilities: Matrix
    public let attended: Matrix?

    /// Buffers for `batch` rows of `layer`, allocated in `workspace`.
    public init(for layer: SelfAttention, batch: Int, in workspace: Workspace) {
      let rows = batch * layer.tokens
      let width = layer.width
      query = workspace.matrix(rows: rows, cols: width)
      key = workspace.matrix(rows: rows, cols: width)
      value = workspace.matrix(rows: rows, cols: width)
      keysTransposed = workspace.matrix(
        rows: batch * layer.heads, cols: layer.tokens * layer.headWidth)
      valuesTransposed = workspace.matrix(
        rows: batch * layer.heads, cols: layer.tokens * layer.headWidth)
      probabilities = workspace.matrix(rows: batch * layer.heads * layer.tokens, cols: layer.tokens)
      attended = layer.output == nil ? nil : workspace.matrix(rows: rows, cols: width)
    }
  }

  /// Backward's temporaries; their contents between calls mean nothing.
  /// Shapes: dQuery, dKey, dValue (B·N, D); dAttended (B·N, D) or nil; block (1, 2·E·N + N).
  public struct Scratch {
    public let dQuery: Matrix
    public let dKey: Matrix
    public let dValue: Matrix
    public let dAttended: Matrix?
    public let block: Matrix

    /// Buffers for `batch` rows of `layer`, allocated in `workspace`.
    public init(for layer: SelfAttention, batch: Int, in workspace: Workspace) {
      let rows = batch * layer.tokens
      let width = layer.width
      dQuery = workspace.matrix(rows: rows, cols: width)
      dKey = workspace.matrix(rows: rows, cols: width)
      dValue = workspace.matrix(rows: rows, cols: width)
      dAttended = layer.output == nil ? nil : workspace.matrix(rows: rows, cols: width)
      block = workspace.vector(count: 2 * layer.headWidth * layer.tokens + layer.tokens)
    }
  }

  /// The tensors a `SelfAttention` called `name` needs: `name.query`, `name.key`, `name.value`
  /// and, if `outputProjection`, `name.output`, each a `Linear` D → D with bias.
  public static func parameterShapes(
    _ name: String, width: Int, outputProjection: Bool = true
  ) -> [ParameterShape] {
    let parts = ["query", "key", "value"] + (outputProjection ? ["output"] : [])
    return parts.flatMap { Linear.parameterShapes(name + "." + $0, inputs: width, outputs: width) }
  }

  /// The layer over the tensors `parameterShapes(name, ...)` declared in `arena`.
  /// - Precondition: `heads` divides D; `tokens ≥ 1`.
  public init(
    _ name: String, in arena: ParameterArena, tokens: Int, heads: Int,
    outputProjection: Bool = true
  ) {
    self.init(
      query: Linear(name + ".query", in: arena), key: Linear(name + ".key", in: arena),
      value: Linear(name + ".value", in: arena),
      output: outputProjection ? Linear(name + ".output", in: arena) : nil, tokens: tokens,
      heads: heads)
  }

  /// The layer over the given projections.
  /// - Precondition: every projection is D → D with bias; `heads` divides D; `tokens ≥ 1`.
  public init(query: Linear, key: Linear, value: Linear, output: Linear?, tokens: Int, heads: Int) {
    let width = query.inputs
    for projection in [query, key, value] + (output.map { [$0] } ?? []) {
      precondition(
        projection.inputs == width && projection.outputs == width && projection.bias != nil,
        "SelfAttention: projections must be \(width) -> \(width) with bias")
    }
    precondition(
      tokens >= 1 && heads >= 1 && width % heads == 0,
      "SelfAttention: \(heads) heads, width \(width), \(tokens) tokens")
    self.tokens = tokens
    self.width = width
    self.heads = heads
    self.headWidth = width / heads
    self.query = query
    self.key = key
    self.value = value
    self.output = output
  }

  /// Batches of at least this many rows run their per-row loops on up to `BLASThreads.maximum`
  /// threads (ParallelFor); smaller ones on the caller's. Results are the same either way.
  public nonisolated(unsafe) static var parallelRows = 256

  /// TabSyn's initialisation (tabsyn.md §2.3): PyTorch's default for the weights, zero biases.
  public func initialize(using generator: inout SeededGenerator) {
    for projection in [query, key, value] + (output.map { [$0] } ?? []) {
      projection.initialize(using: &generator)
      projection.bias!.value.zero()
    }
  }

  /// Overwrites `y` and `saved`.
  /// - Precondition: x, y (B·N, D), distinct memory; `saved` sized for B.
  public func forward(_ x: Matrix, into y: Matrix, saving saved: Saved) {
    let batch = x.rows / tokens
    precondition(
      x.cols == width && y.cols == width && x.rows == y.rows && x.rows == batch * tokens
        && saved.query.rows == x.rows && saved.probabilities.rows == batch * heads * tokens
        && x.base != y.base && (saved.attended == nil) == (output == nil),
      "SelfAttention \(tokens)x\(width): x \(x.rows)x\(x.cols), y \(y.rows)x\(y.cols), saved \(saved.query.rows) rows"
    )
    query.forward(x, into: saved.query)
    key.forward(x, into: saved.key)
    value.forward(x, into: saved.value)
    let attended = saved.attended ?? y
    let n = tokens
    let e = headWidth
    let scale = 1 / Float(e).squareRoot()
    // Batch rows are independent and each writes only its own rows of `saved` and `attended`,
    // so they run in parallel with results identical to a sequential loop.
    ParallelFor.run(count: batch, minimumCount: Self.parallelRows) { batchRange in
    for b in batchRange {
      for h in 0..<heads {
        let block = b * heads + h
        let rowStart = b * n
        let column = h * e
        let kT = saved.keysTransposed.row(block)
        let vT = saved.valuesTransposed.row(block)
        transpose(saved.key, rows: rowStart, column: column, into: kT, tokens: n, headWidth: e)
        transpose(saved.value, rows: rowStart, column: column, into: vT, tokens: n, headWidth: e)
        for i in 0..<n {
          // s_i = q_i · Kᵀ / √E, one axpy along the keys per feature c of the head.
          let p = saved.probabilities.row(block * n + i)
          let q = saved.query.row(rowStart + i) + column
          p.update(repeating: 0, count: n)
          for c in 0..<e { axpy(q[c] * scale, kT + c * n, p, count: n) }
          softmax(p, into: p, count: n)  // p_i = softmax(s_i)
          // a_i[c] = Σ_j p_ij · v_j[c]
          let a = attended.row(rowStart + i) + column
          for c in 0..<e { a[c] = dotProduct(p, vT + c * n, n) }
        }
      }
    }
    }
    if let output { output.forward(attended, into: y) }
  }

  /// Accumulates into every projection's `weight.grad` and `bias.grad` and, unless nil, `dx`.
  /// - Precondition: dy, x (B·N, D) and `saved` from the forward of this `x`; `scratch` sized
  ///   for B.
  public func backward(
    _ dy: Matrix, input x: Matrix, saved: Saved, scratch: Scratch, dx: Matrix?
  ) {
    let batch = x.rows / tokens
    precondition(
      x.cols == width && dy.cols == width && x.rows == dy.rows && x.rows == batch * tokens
        && saved.query.rows == x.rows && scratch.dQuery.rows == x.rows,
      "SelfAttention \(tokens)x\(width) backward: shape mismatch")
    // dA: through the output projection (y = A·W_oᵀ + b_o), or dy itself.
    let dAttended: Matrix
    if let output {
      guard let attended = saved.attended, let buffer = scratch.dAttended else {
        preconditionFailure(
          "SelfAttention backward: saved or scratch lacks the projection's buffers")
      }
      buffer.zero()
      output.backward(dy, input: attended, dx: buffer)
      dAttended = buffer
    } else {
      dAttended = dy
    }
    let n = tokens
    let e = headWidth
    let scale = 1 / Float(e).squareRoot()
    // Batch rows in parallel (each writes only its own rows of dQuery, dKey, dValue); when the
    // rows are split into pieces, each piece uses its own block scratch (on its stack).
    let blockCount = scratch.block.count
    ParallelFor.run(count: batch, minimumCount: Self.parallelRows) { batchRange in
    withUnsafeTemporaryAllocation(of: Float.self, capacity: batchRange.count == batch ? 1 : blockCount) { own in
    let dKT = batchRange.count == batch ? scratch.block.base : own.baseAddress!
    let dVT = dKT + e * n
    let dP = dVT + e * n
    for b in batchRange {
      for h in 0..<heads {
        let block = b * heads + h
        let rowStart = b * n
        let column = h * e
        let kT = saved.keysTransposed.row(block)
        let vT = saved.valuesTransposed.row(block)
        dKT.update(repeating: 0, count: 2 * e * n)  // dKᵀ and dVᵀ of this block
        for i in 0..<n {
          let p = saved.probabilities.row(block * n + i)
          let da = dAttended.row(rowStart + i) + column
          // From a_i = Σ_j p_ij v_j: dp_ij = da_i · v_j and dv_j += p_ij · da_i.
          dP.update(repeating: 0, count: n)
          for c in 0..<e {
            axpy(da[c], vT + c * n, dP, count: n)
            axpy(da[c], p, dVT + c * n, count: n)
          }
          // From p_i = softmax(s_i): ds_ij = p_ij (dp_ij − Σ_k p_ik dp_ik); the 1/√E of
          // s_i = q_i·Kᵀ/√E is folded in here, so dS below means ∂L/∂(q_i·Kᵀ).
          let centre = dotProduct(p, dP, n)
          for j in 0..<n { dP[j] = p[j] * (dP[j] - centre) * scale }
          // From q_i·Kᵀ: dq_i[c] = Σ_j ds_ij k_j[c] and dk_j[c] += ds_ij q_i[c].
          let q = saved.query.row(rowStart + i) + column
          let dq = scratch.dQuery.row(rowStart + i) + column
          for c in 0..<e {
            dq[c] = dotProduct(dP, kT + c * n, n)
            axpy(q[c], dP, dKT + c * n, count: n)
          }
        }
        // The block's dK and dV back to token-major (every element of dKey, dValue is set once).
        for j in 0..<n {
          let dk = scratch.dKey.row(rowStart + j) + column
          let dv = scratch.dValue.row(rowStart + j) + column
          for c in 0..<e {
            dk[c] = dKT[c * n + j]
            dv[c] = dVT[c * n + j]
          }
        }
      }
    }
    }
    }
    // Through the three projections of the same x: dx gathers all three.
    query.backward(scratch.dQuery, input: x, dx: dx)
    key.backward(scratch.dKey, input: x, dx: dx)
    value.backward(scratch.dValue, input: x, dx: dx)
  }
}

/// Copies the (N, E) block of `source` at rows `rows ..< rows + N`, columns `column ..< column + E`
/// into `target` as (E, N): target[c·N + j] = source[rows + j, column + c].
@inline(__always)
private func transpose(
  _ source: Matrix, rows: Int, column: Int, into target: UnsafeMutablePointer<Float>, tokens: Int,
  headWidth: Int
) {
  for j in 0..<tokens {
    let token = source.row(rows + j) + column
    for c in 0..<headWidth { target[c * tokens + j] = token[c] }
  }
}

/// `Σ a[j] · b[j]` for `j < count`, 8 lanes at a time (two accumulators), tail by partial loads.
@inline(__always)
private func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float
{
  var s0 = Vector8()
  var s1 = Vector8()
  var j = 0
  while j + 16 <= count {
    s0 = s0.addingProduct(load8(a + j), load8(b + j))
    s1 = s1.addingProduct(load8(a + j + 8), load8(b + j + 8))
    j += 16
  }
  if j + 8 <= count {
    s0 = s0.addingProduct(load8(a + j), load8(b + j))
    j += 8
  }
  var sum = (s0 + s1).sum()
  while j < count {
    sum += a[j] * b[j]
    j += 1
  }
  return sum
}
