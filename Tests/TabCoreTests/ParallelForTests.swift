// The parallel-for against the sequential loop: every element visited exactly once, on ranges
// that cover the index space, for sizes below, at and above the inline threshold.

import Synchronization
import Testing

@testable import TabCore

@Suite struct ParallelForTests {
  @Test(arguments: [0, 1, 15, 16, 17, 1000, 65_535, 65_536, 100_003])
  func equalsSequentialLoop(count: Int) {
    let t = TestBuffers(seed: UInt64(count))
    let x = t.normal(1, count)
    let y = t.zeros(1, count)
    let expected = t.zeros(1, count)
    for i in 0..<count { expected.base[i] = 3 * x.base[i] + 1 }
    let calls = Atomic<Int>(0)
    ParallelFor.run(count: count) { range in
      calls.add(1, ordering: .relaxed)
      for i in range { y.base[i] += 3 * x.base[i] + 1 }  // += : a second visit would show
    }
    #expect(y.toArray() == expected.toArray())
    #expect(calls.load(ordering: .relaxed) <= max(1, BLASThreads.maximum))
  }

  @Test func smallThresholdStillCoversEverything() {
    // minimumCount 0 forces pieces (when no other test holds the workers) even for 33 values.
    let t = TestBuffers(seed: 4)
    let y = t.zeros(1, 33)
    ParallelFor.run(count: 33, minimumCount: 0) { range in
      for i in range { y.base[i] += Float(i) }
    }
    #expect(y.toArray() == (0..<33).map { Float($0) })
  }

  /// Each replica runs once, and every product inside is one-threaded, on whichever thread.
  @Test(arguments: [1, 2, 3])
  func replicasRunOnceEachWithOneThreadedProducts(count: Int) {
    let calls = Mutex([Int](repeating: 0, count: count))
    let products = Atomic<Int>(0)
    ParallelFor.replicas(count) { k in
      calls.withLock { $0[k] += 1 }
      products.add(BLASThreads.count(m: 4096, n: 4096, k: 4096), ordering: .relaxed)
    }
    #expect(calls.withLock { $0 } == Array(repeating: 1, count: count))
    #expect(products.load(ordering: .relaxed) == count)
    // Outside, a large product may use every thread again.
    #expect(BLASThreads.count(m: 4096, n: 4096, k: 4096) == BLASThreads.maximum)
  }

  /// Products in two replicas at once give the numbers of the same products on one thread.
  @Test func replicaProductsEqualOneThreadedProducts() {
    let t = TestBuffers(seed: 12)
    let a = [t.normal(256, 300), t.normal(256, 300)]
    let b = t.normal(300, 200)
    let together = [t.zeros(256, 200), t.zeros(256, 200)]
    ParallelFor.replicas(2) { k in gemm(a[k], b, into: together[k]) }
    for k in 0..<2 {
      let alone = t.zeros(256, 200)
      ParallelFor.replicas(1) { _ in gemm(a[k], b, into: alone) }
      #expect(together[k].toArray() == alone.toArray())
    }
  }

  @Test func pieceBoundsAreAlignedAndCover() {
    #expect(ParallelFor.pieceBounds(count: 100, pieces: 2, granularity: 16) == [0, 48, 100])
    #expect(ParallelFor.pieceBounds(count: 33, pieces: 2, granularity: 16) == [0, 16, 33])
    #expect(ParallelFor.pieceBounds(count: 7, pieces: 1, granularity: 16) == [0, 7])
    #expect(ParallelFor.pieceBounds(count: 160, pieces: 3, granularity: 16) == [0, 48, 96, 160])
  }
}
