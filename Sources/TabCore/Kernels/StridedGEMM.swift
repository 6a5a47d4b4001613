// Matrix products on blocks of row-major buffers (explicit leading dimensions), for callers that
// need a product over some columns of a wider matrix without copying them out (tab-gan's
// generator backward takes the input gradient of only the activation columns of its
// concatenated hidden layers).

import CBLAS

/// `c = alpha · op(a) · op(b) + beta · c` on row-major blocks: op(a) (M, K), op(b) (K, N), c (M, N),
/// each stored with its own leading dimension (the distance between row starts, in floats).
/// `a` is stored (K, M) when `transposeA`, `b` (N, K) when `transposeB`. Threads as `gemm`.
/// - Precondition: each leading dimension covers its stored row; `c` overlaps neither input.
public func gemmStrided(
  m: Int, n: Int, k: Int, _ a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
  _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
  into c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, beta: Float = 0
) {
  precondition(
    m >= 0 && n >= 0 && k >= 0 && lda >= max(transposeA ? m : k, 1)
      && ldb >= max(transposeB ? k : n, 1) && ldc >= max(n, 1),
    "gemmStrided: m \(m) n \(n) k \(k), lda \(lda) ldb \(ldb) ldc \(ldc)")
  if m == 0 || n == 0 { return }
  if k == 0 {
    for i in 0..<m {
      let row = c + i * ldc
      for j in 0..<n { row[j] = beta == 0 ? 0 : beta * row[j] }
    }
    return
  }
  productRowMajor(
    m: m, n: n, k: k, a, lda: lda, transposeA: transposeA, b, ldb: ldb, transposeB: transposeB,
    into: c, ldc: ldc, alpha: alpha, beta: beta)
}
