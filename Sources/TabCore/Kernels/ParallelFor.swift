// A parallel-for for large elementwise work: an index range cut into one contiguous piece per
// thread, run on the calling thread and Dispatch's worker pool, or inline when it is small.

import Dispatch
import Synchronization

/// The settings and the one entry point of TabCore's parallel loops.
///
/// How it avoids oversubscription with OpenBLAS's threads (`BLASThreads` in Kernels/GEMM.swift):
/// - One thread count for both: a parallel-for uses at most `BLASThreads.maximum` threads, the
///   calling thread included, so `--threads 1` makes products and loops single-threaded alike.
/// - Never at the same time: `gemm` and `ParallelFor.run` both block the calling thread until
///   their work is done, and a model calls them one after the other from its one training thread.
///   So the threads busy at any moment are either OpenBLAS's (the caller and its workers) or this
///   loop's (the caller and Dispatch workers), never both: at most `maximum` runnable threads.
///   (OpenBLAS's pthread workers that just finished a product keep polling for the next one for
///   a short while, its THREAD_TIMEOUT, before they sleep; a loop started in that window shares
///   the cores with a poller. Not measured here: bench/ is the place to.)
/// - Data parallelism is the one exception, and it is explicit: `replicas` runs a model's
///   replicas at once, one per thread, and every product on a replica's thread is
///   one-threaded (`BLASThreads.count`), so the threads busy are still at most the cores.
///   `BLASThreads.product` keeps products that want different OpenBLAS thread counts from
///   overlapping.
/// - No nesting: only one parallel-for runs at a time in the process. A second one, whether
///   nested in a body or started on another thread meanwhile (tests run in parallel), runs
///   inline on its caller instead of asking for more threads. A body must not call `gemm`.
public enum ParallelFor {
  private static let threshold = Atomic<Int>(1 << 16)
  /// True while a parallel-for holds the worker threads.
  private static let busy = Atomic<Bool>(false)

  /// Loops over fewer elements than this run inline on the calling thread (default 65 536).
  ///
  /// Handing a piece to a Dispatch worker and waiting for it costs a few microseconds; 65 536
  /// floats are 256 KiB, which an elementwise pass at the machine's ~14 GB/s takes about 20 µs
  /// to stream, so below that the hand-off would eat most of the gain.
  public static var inlineCount: Int {
    get { threshold.load(ordering: .relaxed) }
    set { threshold.store(max(0, newValue), ordering: .relaxed) }
  }

  /// Calls `body` on disjoint contiguous ranges that together cover `0..<count`, on up to
  /// `BLASThreads.maximum` threads at once, and returns when every call has returned.
  ///
  /// Range boundaries are multiples of `granularity` (except the end), so with the default 16 and
  /// a 64-byte aligned buffer of floats no two threads write into one cache line. Below
  /// `minimumCount` elements, with one thread, or while another parallel-for runs, `body` is
  /// called once with `0..<count` on the calling thread. `body` must only touch the elements of
  /// its range (or read shared inputs) and must not call `gemm`. Nothing is called for
  /// `count == 0`.
  /// - Precondition: `count >= 0`, `granularity >= 1`.
  public static func run(
    count: Int, minimumCount: Int = ParallelFor.inlineCount, granularity: Int = 16,
    _ body: (Range<Int>) -> Void
  ) {
    precondition(count >= 0 && granularity >= 1, "ParallelFor.run: count \(count)")
    if count == 0 { return }
    let threads = min(BLASThreads.maximum, (count + granularity - 1) / granularity)
    guard count >= minimumCount, threads > 1,
      busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    else {
      body(0..<count)
      return
    }
    defer { busy.store(false, ordering: .releasing) }
    let pieces = pieceBounds(count: count, pieces: threads, granularity: granularity)
    // concurrentPerform runs one iteration on the calling thread and the rest on the global
    // queue's workers, and returns after all of them. It wants a Sendable closure; `body` and the
    // pointers it captures are not. This is safe: `body` does not escape (every call has returned
    // before `run` does), and its contract is that calls touch disjoint ranges.
    if threads == 2 && BLASThreads.strategy == .halves {
      SpinTeam.shared.run { piece in body(pieces[piece]..<pieces[piece + 1]) }
      return
    }
    withoutActuallyEscaping(body) { body in
      let shared = UncheckedSendable(body)
      DispatchQueue.concurrentPerform(iterations: threads) { piece in
        shared.value(pieces[piece]..<pieces[piece + 1])
      }
    }
  }

  /// Data parallelism: calls `body(0)`, …, `body(count − 1)` at once, one per thread (the
  /// calling thread and Dispatch workers), and returns when all have returned. For replicas of a
  /// model that each take a slice of a batch: every product inside runs on its caller's thread
  /// (`BLASThreads.count` says 1 on a replica's thread), and nested parallel loops run inline.
  /// On small shapes two one-threaded products at once beat one two-threaded product (256-row
  /// products split poorly across cores), and each body's numbers are those of one thread,
  /// whichever thread runs it. With `count` 1, or while another parallel-for holds the
  /// workers, the bodies run one after the other on the caller, still one-threaded.
  public static func replicas(_ count: Int, _ body: (Int) -> Void) {
    precondition(count >= 0, "ParallelFor.replicas: \(count)")
    let inParallel =
      count > 1 && busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    defer { if inParallel { busy.store(false, ordering: .releasing) } }
    // As in `run`: `body` does not escape, and each call works on its own replica.
    withoutActuallyEscaping(body) { body in
      let shared = UncheckedSendable(body)
      let replica = { @Sendable (k: Int) in
        let outer = ReplicaThread.isReplica
        ReplicaThread.mark(true)
        defer { ReplicaThread.mark(outer) }
        shared.value(k)
      }
      if inParallel && count == 2 && BLASThreads.strategy == .halves {
        SpinTeam.shared.run { k in replica(k) }
      } else if inParallel {
        DispatchQueue.concurrentPerform(iterations: count) { k in replica(k) }
      } else {
        for k in 0..<count { replica(k) }
      }
    }
  }

  /// `pieces + 1` ascending bounds from 0 to `count`: equal pieces rounded to `granularity`.
  static func pieceBounds(count: Int, pieces: Int, granularity: Int) -> [Int] {
    let units = (count + granularity - 1) / granularity
    return (0...pieces).map { p in min(count, units * p / pieces * granularity) }
  }
}

/// A value handed to other threads on the strength of a documented rule, not the type system.
private struct UncheckedSendable<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}
