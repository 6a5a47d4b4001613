// The two-core fork-join of `BLASThreads.Strategy.halves`: products cut into halves of C against
// the triple-loop reference, and the helper thread's hand-off (each half once, on two threads,
// also after the helper has gone to sleep). These call the pieces directly instead of switching
// the process-wide strategy, which tests running in parallel would see.

import Synchronization
import Testing

@testable import TabCore

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct SpinTeamTests {
  /// (M, N, K, transposeA, transposeB, beta): cuts along rows (M ≥ N) and columns, sizes that
  /// are and are not multiples of 16, both transposes, accumulation.
  static let shapes: [(Int, Int, Int, Bool, Bool, Float)] = [
    (50, 1560, 64, false, false, 0), (50, 300, 33, false, true, 1), (500, 156, 40, false, true, 0),
    (257, 31, 17, true, false, 1), (37, 200, 19, true, true, 0), (32, 32, 8, false, false, 0),
  ]

  @Test(arguments: 0..<shapes.count)
  func halvesEqualTheReference(index: Int) {
    let (m, n, k, ta, tb, beta) = Self.shapes[index]
    let t = TestBuffers(seed: UInt64(100 + index))
    let a = ta ? t.normal(k, m) : t.normal(m, k)
    let b = tb ? t.normal(n, k) : t.normal(k, n)
    let c = t.normal(m, n)
    let expected = t.copy(c)
    gemmNaive(a, b, transposeA: ta, transposeB: tb, into: expected, alpha: 0.5, beta: beta)
    productInHalves(
      m: m, n: n, k: k, a.base, lda: a.cols, transposeA: ta, b.base, ldb: b.cols, transposeB: tb,
      into: c.base, ldc: c.cols, alpha: 0.5, beta: beta)
    let worst = zip(c.toArray(), expected.toArray()).map { abs($0 - $1) }.max() ?? 0
    #expect(worst < 1e-4 * Float(k), "M \(m) N \(n) K \(k): max error \(worst)")
  }

  /// C with a leading dimension wider than N (a block of a larger buffer): columns outside the
  /// block stay as they were.
  @Test func halvesRespectTheLeadingDimension() {
    let t = TestBuffers(seed: 7)
    let (m, n, k) = (40, 96, 12)
    let a = t.normal(m, k), b = t.normal(k, n)
    let wide = t.normal(m, n + 5)
    let before = wide.toArray()
    productInHalves(
      m: m, n: n, k: k, a.base, lda: k, transposeA: false, b.base, ldb: n, transposeB: false,
      into: wide.base, ldc: n + 5, alpha: 1, beta: 0)
    let expected = t.zeros(m, n)
    gemmNaive(a, b, into: expected)
    for i in 0..<m {
      for j in 0..<(n + 5) {
        if j < n {
          #expect(abs(wide[i, j] - expected[i, j]) < 1e-3)
        } else {
          #expect(wide[i, j] == before[i * (n + 5) + j])
        }
      }
    }
  }

  /// Each half runs once per call, the second on the helper thread with one-threaded products;
  /// calls keep working back to back and after the helper has slept.
  @Test func helperRunsTheSecondHalfOnce() {
    let team = SpinTeam.shared
    let caller = pthread_self()
    for round in 0..<3 {
      for _ in 0..<500 {
        let counts = Mutex([0, 0])
        let helperOnOtherThread = Atomic<Bool>(false)
        let helperProductThreads = Atomic<Int>(0)
        team.run { half in
          counts.withLock { $0[half] += 1 }
          if half == 1 {
            helperOnOtherThread.store(pthread_equal(pthread_self(), caller) == 0, ordering: .relaxed)
            helperProductThreads.store(BLASThreads.count(m: 4096, n: 4096, k: 4096), ordering: .relaxed)
          }
        }
        let seen = counts.withLock { $0 }
        let otherThread = helperOnOtherThread.load(ordering: .relaxed)
        let productThreads = helperProductThreads.load(ordering: .relaxed)
        #expect(seen == [1, 1])
        #expect(otherThread)
        #expect(productThreads == 1)
      }
      if round < 2 { usleep(10_000) }  // past the 2 ms of polling: the helper sleeps
    }
  }
}
