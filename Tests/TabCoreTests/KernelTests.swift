// Every SIMD kernel against its scalar reference, on counts that exercise whole vectors, tails
// and both (0, 1, 7, 8, 9, 16, 33, 100); gemm in every transpose combination against a naive
// triple loop in Double. Tolerances are stated per kernel: exact where both round once per
// element, a few ulp where the vector path uses a fused multiply-add or the polynomial exp.

import Foundation
import Testing

@testable import TabCore

private let counts = [0, 1, 7, 8, 9, 16, 33, 100]

/// Runs `kernel` and `reference` on copies of the same random inputs; compares their outputs.
private func compareKernels(
  _ label: String, seed: UInt64, inputs: Int, absolute: Float, relative: Float,
  _ kernel: ([Matrix], Matrix) -> Void, _ reference: ([Matrix], Matrix) -> Void,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  for count in counts {
    let t = TestBuffers(seed: seed &+ UInt64(count))
    let x = (0..<inputs).map { _ in t.normal(1, count, scale: 3) }
    let out = t.normal(1, count), expected = t.copy(out)
    kernel(x, out)
    reference(x, expected)
    expectClose(
      "\(label) count \(count)", out.toArray(), expected.toArray(), absolute: absolute,
      relative: relative, sourceLocation: sourceLocation)
  }
}

@Suite struct KernelTests {
  @Test func elementwise() {
    compareKernels("add", seed: 1, inputs: 1, absolute: 0, relative: 0) {
      add($0[0].base, into: $1.base, count: $1.count)
    } _: {
      addNaive($0[0].base, into: $1.base, count: $1.count)
    }
    compareKernels("scale", seed: 2, inputs: 0, absolute: 0, relative: 0) {
      scale($1.base, by: -0.37, count: $1.count)
    } _: {
      scaleNaive($1.base, by: -0.37, count: $1.count)
    }
    // Fused multiply-add rounds once, the reference twice: within 1 ulp of the larger term.
    compareKernels("axpy", seed: 3, inputs: 1, absolute: 1e-6, relative: 2e-7) {
      axpy(0.71, $0[0].base, $1.base, count: $1.count)
    } _: {
      axpyNaive(0.71, $0[0].base, $1.base, count: $1.count)
    }
  }

  @Test func activations() {
    // The polynomial exp is within about 2 ulp of expf; SiLU and the tanh formula add a
    // division and, for tanh, a cancellation near 0 (absolute error about 1e-7).
    compareKernels("relu", seed: 10, inputs: 1, absolute: 0, relative: 0) {
      reluForward($0[0].base, into: $1.base, count: $1.count)
    } _: {
      reluForwardNaive($0[0].base, into: $1.base, count: $1.count)
    }
    compareKernels("relu backward", seed: 11, inputs: 2, absolute: 0, relative: 0) {
      reluBackward($0[0].base, input: $0[1].base, dx: $1.base, count: $1.count)
    } _: {
      reluBackwardNaive($0[0].base, input: $0[1].base, dx: $1.base, count: $1.count)
    }
    compareKernels("leaky", seed: 12, inputs: 1, absolute: 0, relative: 0) {
      leakyReLUForward($0[0].base, into: $1.base, count: $1.count, slope: 0.2)
    } _: {
      leakyReLUForwardNaive($0[0].base, into: $1.base, count: $1.count, slope: 0.2)
    }
    compareKernels("leaky backward", seed: 13, inputs: 2, absolute: 0, relative: 0) {
      leakyReLUBackward($0[0].base, input: $0[1].base, dx: $1.base, count: $1.count, slope: 0.2)
    } _: {
      leakyReLUBackwardNaive($0[0].base, input: $0[1].base, dx: $1.base, count: $1.count, slope: 0.2)
    }
    compareKernels("silu", seed: 14, inputs: 1, absolute: 1e-7, relative: 1e-6) {
      siluForward($0[0].base, into: $1.base, count: $1.count)
    } _: {
      siluForwardNaive($0[0].base, into: $1.base, count: $1.count)
    }
    compareKernels("silu backward", seed: 15, inputs: 2, absolute: 1e-6, relative: 1e-6) {
      siluBackward($0[0].base, input: $0[1].base, dx: $1.base, count: $1.count)
    } _: {
      siluBackwardNaive($0[0].base, input: $0[1].base, dx: $1.base, count: $1.count)
    }
    compareKernels("tanh", seed: 16, inputs: 1, absolute: 3e-7, relative: 0) {
      tanhForward($0[0].base, into: $1.base, count: $1.count)
    } _: {
      tanhForwardNaive($0[0].base, into: $1.base, count: $1.count)
    }
    compareKernels("tanh backward", seed: 17, inputs: 2, absolute: 1e-6, relative: 1e-6) {
      tanhBackward($0[0].base, output: $0[1].base, dx: $1.base, count: $1.count)
    } _: {
      tanhBackwardNaive($0[0].base, output: $0[1].base, dx: $1.base, count: $1.count)
    }
  }

  @Test func vectorExp() {
    // exp8 against Double exp over its whole range, 3 ulp (3.6e-7 relative), and its edges.
    var x: Float = -87.3
    var worst: (x: Float, error: Double) = (0, 0)
    while x < 88.3 {
      let lanes = SIMD8<Float>((0..<8).map { x + Float($0) * 0.0013 })
      let result = exp8(lanes)
      for lane in 0..<8 where lanes[lane] < 88.3 {
        let exact = Foundation.exp(Double(lanes[lane]))
        let error = abs(Double(result[lane]) - exact) / exact
        if error > worst.error { worst = (lanes[lane], error) }
      }
      x += 0.0371
    }
    #expect(worst.error < 3.6e-7, "exp8 worst at \(worst.x): relative error \(worst.error)")
    let edges = exp8(SIMD8<Float>(-.infinity, -1000, -87.4, 0, 1, 88.3, 1000, .infinity))
    #expect(edges[0] == 0 && edges[1] == 0 && edges[2] == 0 && edges[3] == 1)
    #expect(abs(edges[4] - Float(M_E)) <= 2 * Float(M_E).ulp)
    #expect(edges[5].isFinite && edges[6].isFinite && edges[7].isFinite && edges[7] > 2e38)
  }

  @Test func reductions() {
    for count in counts + [4095, 4096, 4097, 10_000] {
      let t = TestBuffers(seed: 50 &+ UInt64(count))
      let x = t.normal(1, count)
      let fast = sumOfSquares(x.base, count: count)
      let exact = sumOfSquaresNaive(x.base, count: count)
      #expect(abs(fast - exact) <= 1e-6 * max(1, exact), "sumOfSquares count \(count)")
    }
    for (rows, cols) in [
      (1, 1), (5, 1), (3, 2), (7, 4), (1, 4), (3, 7), (4, 8), (5, 8), (9, 13), (3, 16), (64, 33), (4096, 4),
    ] {
      let t = TestBuffers(seed: 60 &+ UInt64(rows * cols))
      let x = t.normal(rows, cols), sums = t.normal(1, cols), expected = t.copy(sums)
      x.addColumnSums(into: sums)
      addColumnSumsNaive(x.base, rows: rows, cols: cols, into: expected.base)
      expectClose(
        "column sums \(rows)x\(cols)", sums.toArray(), expected.toArray(),
        absolute: 1e-6 * Float(rows), relative: 1e-6)
    }
  }

  @Test func softmax() {
    for (rows, cols) in [(1, 1), (2, 3), (3, 8), (2, 9), (4, 33)] {
      let t = TestBuffers(seed: 70 &+ UInt64(rows * cols))
      let x = t.normal(rows, cols, scale: 5)
      let y = t.zeros(rows, cols), expected = t.zeros(rows, cols)
      softmaxRows(x, into: y)
      softmaxRowsNaive(x, into: expected)
      expectClose(
        "softmax \(rows)x\(cols)", y.toArray(), expected.toArray(), absolute: 1e-7, relative: 1e-6)
      // In place gives the same result.
      softmaxRows(x, into: x)
      expectClose("softmax in place", x.toArray(), y.toArray())
    }
  }

  @Test func layerNormKernels() {
    for (rows, width) in [(1, 1), (3, 5), (2, 8), (3, 21)] {
      let t = TestBuffers(seed: 80 &+ UInt64(rows * width))
      let x = t.normal(rows, width, scale: 3), gamma = t.normal(1, width), beta = t.normal(1, width)
      let y = t.zeros(rows, width), yRef = t.zeros(rows, width)
      let mean = t.zeros(1, rows), rstd = t.zeros(1, rows)
      let meanRef = t.zeros(1, rows), rstdRef = t.zeros(1, rows)
      layerNormForward(
        x, into: y, gamma: gamma.base, beta: beta.base, mean: mean.base, rstd: rstd.base,
        epsilon: 1e-5)
      layerNormForwardNaive(
        x, into: yRef, gamma: gamma.base, beta: beta.base, mean: meanRef.base, rstd: rstdRef.base,
        epsilon: 1e-5)
      expectClose("LN y", y.toArray(), yRef.toArray(), absolute: 1e-5, relative: 1e-5)
      expectClose("LN mean", mean.toArray(), meanRef.toArray(), absolute: 1e-6, relative: 1e-5)
      expectClose("LN rstd", rstd.toArray(), rstdRef.toArray(), relative: 1e-5)
      let dy = t.normal(rows, width)
      let dx = t.normal(rows, width), dxRef = t.copy(dx)
      let dg = t.normal(1, width), dgRef = t.copy(dg), db = t.normal(1, width), dbRef = t.copy(db)
      layerNormBackward(
        dy, input: x, gamma: gamma.base, mean: mean.base, rstd: rstd.base, dgamma: dg.base,
        dbeta: db.base, dx: dx)
      layerNormBackwardNaive(
        dy, input: x, gamma: gamma.base, mean: mean.base, rstd: rstd.base, dgamma: dgRef.base,
        dbeta: dbRef.base, dx: dxRef)
      expectClose("LN dx", dx.toArray(), dxRef.toArray(), absolute: 1e-5, relative: 1e-5)
      expectClose("LN dgamma", dg.toArray(), dgRef.toArray(), absolute: 1e-5, relative: 1e-5)
      expectClose("LN dbeta", db.toArray(), dbRef.toArray(), absolute: 1e-5, relative: 1e-5)
    }
  }

  @Test(arguments: [false, true], [false, true])
  func gemmTransposes(transposeA: Bool, transposeB: Bool) {
    let shapes = [(1, 1, 1), (3, 5, 7), (8, 1, 9), (1, 6, 4), (17, 13, 33), (4, 3, 0)]
    let scalars: [(alpha: Float, beta: Float)] = [(1, 0), (0.5, 1), (2, -0.5)]
    for (m, n, k) in shapes {
      for (alpha, beta) in scalars {
        let t = TestBuffers(seed: UInt64(m * 1000 + n * 100 + k))
        let a = transposeA ? t.normal(k, m) : t.normal(m, k)
        let b = transposeB ? t.normal(n, k) : t.normal(k, n)
        let c = t.normal(m, n)
        // With beta 0 the old contents of c, even NaN, must not matter.
        if beta == 0 { c.fill(with: .nan) }
        let expected = t.copy(c)
        gemm(
          a, b, transposeA: transposeA, transposeB: transposeB, into: c, alpha: alpha, beta: beta)
        gemmNaive(
          a, b, transposeA: transposeA, transposeB: transposeB, into: expected, alpha: alpha,
          beta: beta)
        expectClose(
          "gemm \(m)x\(n)x\(k) tA \(transposeA) tB \(transposeB) alpha \(alpha) beta \(beta)",
          c.toArray(), expected.toArray(), absolute: 1e-5 * Float(max(k, 1)), relative: 1e-5)
      }
    }
  }

  @Test func gemmOnTwoThreadsMatchesOne() {
    // A product big enough for two threads gives the naive result too.
    let t = TestBuffers(seed: 90)
    let (m, n, k) = (96, 80, 128)
    let a = t.normal(m, k), b = t.normal(n, k), c = t.zeros(m, n), expected = t.zeros(m, n)
    let saved = BLASThreads.singleThreadFlops
    BLASThreads.singleThreadFlops = 0
    #expect(BLASThreads.count(m: m, n: n, k: k) == BLASThreads.maximum)
    gemm(a, b, transposeB: true, into: c)
    BLASThreads.singleThreadFlops = saved
    gemmNaive(a, b, transposeB: true, into: expected)
    expectClose("gemm 2 threads", c.toArray(), expected.toArray(), absolute: 1e-4, relative: 1e-5)
    #expect(BLASThreads.count(m: 2, n: 2, k: 2) == 1)
  }

  @Test func openBLASIsThePthreadBuild() {
    // The OpenMP build collapses on small two-thread products (design notes); refuse it.
    #expect(BLASThreads.parallelism == 1, "OpenBLAS: \(BLASThreads.configuration)")
  }
}
