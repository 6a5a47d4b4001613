// Whitening of the latents (`--normalization whiten`, docs/diffusion-recipe.md, finding 17):
// x = σ_data · Σ^(−1/2) · (z − mean), the symmetric (ZCA) square root, so that every direction
// of the latent cloud (not only every axis) reaches the denoiser with the spread EDM's
// preconditioning assumes. Small categories tend to separate along directions of little
// variance; per-axis scaling leaves those drowned by the noise at a σ where the wide ones are not.

/// Eigenvalues and eigenvectors of a symmetric n × n matrix (row-major, Double) by cyclic
/// Jacobi rotations: values in descending order, vectors as the columns of a row-major n × n
/// matrix. For the small matrices here (n = latent width, about 60) a few sweeps suffice.
func symmetricEigen(_ matrix: [Double], n: Int) -> (values: [Double], vectors: [Double]) {
  precondition(matrix.count == n * n, "symmetricEigen: \(matrix.count) entries for n = \(n)")
  var a = matrix
  var v = [Double](repeating: 0, count: n * n)
  for i in 0..<n { v[i * n + i] = 1 }
  let scale = max(a.reduce(0) { max($0, abs($1)) }, 1e-300)
  for _ in 0..<100 {
    var off = 0.0
    for p in 0..<n { for q in p + 1..<n { off += a[p * n + q] * a[p * n + q] } }
    if off.squareRoot() <= 1e-15 * scale { break }
    for p in 0..<n {
      for q in p + 1..<n {
        let apq = a[p * n + q]
        if abs(apq) <= 1e-300 { continue }
        // The rotation that zeroes a[p][q]: tan(2θ) = 2·a_pq / (a_qq − a_pp), the smaller root.
        let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
        let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
        let c = 1 / (t * t + 1).squareRoot()
        let s = t * c
        for k in 0..<n {  // columns p and q of A·J
          let akp = a[k * n + p]
          let akq = a[k * n + q]
          a[k * n + p] = c * akp - s * akq
          a[k * n + q] = s * akp + c * akq
        }
        for k in 0..<n {  // rows p and q of Jᵀ·(A·J)
          let apk = a[p * n + k]
          let aqk = a[q * n + k]
          a[p * n + k] = c * apk - s * aqk
          a[q * n + k] = s * apk + c * aqk
        }
        for k in 0..<n {  // V·J
          let vkp = v[k * n + p]
          let vkq = v[k * n + q]
          v[k * n + p] = c * vkp - s * vkq
          v[k * n + q] = s * vkp + c * vkq
        }
      }
    }
  }
  let order = (0..<n).sorted { a[$0 * n + $0] > a[$1 * n + $1] }
  let values = order.map { a[$0 * n + $0] }
  var vectors = [Double](repeating: 0, count: n * n)
  for (column, j) in order.enumerated() {
    for k in 0..<n { vectors[k * n + column] = v[k * n + j] }
  }
  return (values, vectors)
}

/// Why a covariance has no whitening matrix.
enum SingularCovariance: Error, Equatable, Sendable {
  /// An entry or an eigenvalue is infinite or NaN.
  case notFinite
  /// No direction varies: every eigenvalue is at most `minimumVariance` (constant latents).
  case noVariance
}

/// The variance (1e-6 squared) a direction must exceed for the latents to count as varying: the
/// standard deviation below which `.standard` normalisation treats a dimension as constant.
let minimumVariance = 1e-12

/// The whitening matrix σ_data·Σ^(−1/2) and its inverse Σ^(1/2)/σ_data (both symmetric, row-major)
/// of a covariance Σ (n × n). Eigenvalues below `floor` × the largest are raised to it, so that
/// a direction in which the latents do not vary (an exact dependency between tokens) is scaled
/// by a bounded factor, not by 1/0.
/// - Throws: `SingularCovariance` when no direction varies (all eigenvalues ≤ `minimumVariance`:
///   the floor would scale by about 1/√1e-300) or Σ is not finite.
func whiteningMatrices(covariance: [Double], n: Int, sigmaData: Double, floor: Double = 1e-6)
  throws(SingularCovariance) -> (whitening: [Double], coloring: [Double])
{
  guard covariance.allSatisfy(\.isFinite) else { throw .notFinite }
  let (values, vectors) = symmetricEigen(covariance, n: n)
  guard values.allSatisfy(\.isFinite) && vectors.allSatisfy(\.isFinite) else { throw .notFinite }
  let largest = values.first ?? 0
  guard largest > minimumVariance else { throw .noVariance }
  let clamped = values.map { max($0, floor * largest) }
  var whitening = [Double](repeating: 0, count: n * n)
  var coloring = [Double](repeating: 0, count: n * n)
  for k in 0..<n {
    let root = clamped[k].squareRoot()
    let w = sigmaData / root
    let c = root / sigmaData
    for i in 0..<n {
      let vik = vectors[i * n + k]
      if vik == 0 { continue }
      for j in 0..<n {
        let vjk = vectors[j * n + k]
        whitening[i * n + j] += w * vik * vjk
        coloring[i * n + j] += c * vik * vjk
      }
    }
  }
  return (whitening, coloring)
}
