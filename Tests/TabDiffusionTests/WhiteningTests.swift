// Whitened latents (`--normalization whiten`): the Jacobi eigen-solver against the defining
// equations, the whitened covariance against σ_data²·I, the exact inverse, a degenerate direction
// kept finite, and the matrices surviving the model file.

import TabCore
import TabStream
import Testing

@testable import TabDiffusion

@Suite struct WhiteningTests {
  let workspace = Workspace()

  /// A symmetric n × n matrix with a known spectrum: Q·diag(values)·Qᵀ with Q from Gram-Schmidt.
  func symmetric(values: [Double], seed: UInt64) -> [Double] {
    let n = values.count
    var g = SeededGenerator(seed: seed)
    var q = (0..<n * n).map { _ in Double(g.normal()) }
    for k in 0..<n {  // orthonormalise column k against the earlier ones
      for j in 0..<k {
        var dot = 0.0
        for i in 0..<n { dot += q[i * n + k] * q[i * n + j] }
        for i in 0..<n { q[i * n + k] -= dot * q[i * n + j] }
      }
      let norm = (0..<n).reduce(0.0) { $0 + q[$1 * n + k] * q[$1 * n + k] }.squareRoot()
      for i in 0..<n { q[i * n + k] /= norm }
    }
    var a = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n { for k in 0..<n { a[i * n + j] += q[i * n + k] * values[k] * q[j * n + k] } } }
    return a
  }

  @Test func jacobiSolvesTheEigenEquations() {
    let spectrum: [Double] = [9, 4, 4.000001, 1, 0.3, 1e-3, 1e-7, 0, 2.5, 6]
    let n = spectrum.count
    let a = symmetric(values: spectrum, seed: 5)
    let (values, vectors) = symmetricEigen(a, n: n)
    #expect(values == values.sorted(by: >))
    for (got, want) in zip(values, spectrum.sorted(by: >)) { #expect(abs(got - want) < 1e-10) }
    for k in 0..<n {
      for i in 0..<n {  // (A·v)_i = λ·v_i
        var av = 0.0
        for j in 0..<n { av += a[i * n + j] * vectors[j * n + k] }
        #expect(abs(av - values[k] * vectors[i * n + k]) < 1e-10)
      }
      for l in 0..<n {  // VᵀV = I
        var dot = 0.0
        for i in 0..<n { dot += vectors[i * n + k] * vectors[i * n + l] }
        #expect(abs(dot - (k == l ? 1 : 0)) < 1e-10)
      }
    }
  }

  /// 4 correlated dimensions (a shared factor, very different spreads) and a fifth that is an
  /// exact combination of two others (a direction with no variance).
  func correlatedLatents(rows: Int) -> Matrix {
    var g = SeededGenerator(seed: 11)
    let m = workspace.matrix(rows: rows, cols: 5)
    for i in 0..<rows {
      let f = g.normal()
      m[i, 0] = 3 + 4 * f + 0.5 * g.normal()
      m[i, 1] = -1 + 0.05 * f + 0.02 * g.normal()
      m[i, 2] = 2 * f - g.normal()
      m[i, 3] = 0.1 * g.normal()
      m[i, 4] = m[i, 0] - 2 * m[i, 3]
    }
    return m
  }

  func model() -> LatentModel {
    LatentModel(
      config: DiffusionConfig(dimension: 5, width: 4, normalization: .whiten),
      origin: LatentOrigin(latentLayout(5), encoder: nil, model: nil))
  }

  @Test func whitenedLatentsHaveCovarianceSigmaDataSquaredTimesIdentity() throws {
    let latents = correlatedLatents(rows: 6000)
    let original = latents.toArray()
    let m = model()
    try m.fitNormalization(latents)
    m.normalize(latents)
    let finite = latents.toArray().allSatisfy { $0.isFinite }
    #expect(finite)
    // The covariance of the whitened rows, in the four directions that vary: σ_data² = 0.25 on
    // the diagonal of the projection, 0 across; the degenerate direction stays near 0.
    let n = latents.rows
    var cov = [Double](repeating: 0, count: 25)
    var means = [Double](repeating: 0, count: 5)
    for i in 0..<n { for j in 0..<5 { means[j] += Double(latents[i, j]) / Double(n) } }
    for i in 0..<n {
      for j in 0..<5 {
        for k in 0..<5 { cov[j * 5 + k] += (Double(latents[i, j]) - means[j]) * (Double(latents[i, k]) - means[k]) / Double(n) }
      }
    }
    for j in 0..<5 { #expect(abs(means[j]) < 1e-3, "mean \(j): \(means[j])") }
    let (values, _) = symmetricEigen(cov, n: 5)
    for k in 0..<4 { #expect(abs(values[k] - 0.25) < 2e-3, "eigenvalue \(k): \(values[k])") }
    #expect(values[4] < 0.05, "the direction with no variance: \(values[4])")
    m.denormalize(latents)
    for (a, b) in zip(latents.toArray(), original) { #expect(abs(a - b) <= 1e-4 * max(1, abs(b)), "\(a) vs \(b)") }
  }

  @Test func whiteningRoundTripsThroughTheModelFile() throws {
    let m = model()
    let loaded = try writtenAndRead(m, fittedTo: correlatedLatents(rows: 500))
    #expect(loaded.config.normalization == .whiten)
    for name in ["normalization.mean", "normalization.whitening", "normalization.coloring"] {
      #expect(loaded.buffers[name].value.toArray() == m.buffers[name].value.toArray(), "\(name)")
    }
  }
}
