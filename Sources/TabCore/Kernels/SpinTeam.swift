// A fork-join pair for two cores with microsecond hand-offs: the calling thread and one
// persistent helper that spins for a while after each job before it sleeps.
//
// Why not Dispatch: `concurrentPerform` wakes a parked worker for every call, tens of
// microseconds each time, which a training step that forks 50-100 times (every product and
// elementwise pass of tab-gan) pays in full. OpenBLAS's own pool spins the same way between
// products, but only for its products: an elementwise pass run on Dispatch meanwhile competes
// with OpenBLAS's spinning worker for the second core (ParallelFor.swift). With
// `BLASThreads.strategy` `.halves` (what tab-vae, tab-diffuse and tab-gan train with) every
// product and every parallel loop forks onto this one helper instead, so one thread at a time
// owns the second core.

import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The caller and one helper thread running `body(0)` and `body(1)` at once.
final class SpinTeam: @unchecked Sendable {
  static let shared = SpinTeam()

  /// Bumped by the caller to post a job (`job` is set first).
  private let posted = Atomic<Int>(0)
  /// The last job the helper finished.
  private let finished = Atomic<Int>(0)
  /// Whether a caller holds the helper.
  private let occupied = Atomic<Bool>(false)
  /// Whether the helper is (about to be) asleep on `wake`.
  private let sleeping = Atomic<Bool>(false)
  /// The job in flight; written by the caller before `posted` is bumped, read by the helper
  /// after it sees the bump (the atomics' acquire/release order the accesses).
  private var job: ((Int) -> Void)?
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
  /// How long the helper keeps polling after a job before it sleeps (nanoseconds): long enough
  /// to bridge the gaps between a step's forks, short enough to leave an idle core alone.
  private let spinNanoseconds: UInt64 = 2_000_000

  private init() {
    pthread_mutex_init(mutex, nil)
    pthread_cond_init(wake, nil)
    var thread = pthread_t()
    let unmanaged = Unmanaged.passRetained(self)
    let created = pthread_create(
      &thread, nil,
      { argument in
        let team = Unmanaged<SpinTeam>.fromOpaque(argument!).takeRetainedValue()
        team.helperLoop()
        return nil
      }, unmanaged.toOpaque())
    precondition(created == 0, "SpinTeam: cannot start the helper thread")
    pthread_detach(thread)
  }

  /// Calls `body(0)` on the calling thread and `body(1)` on the helper, and returns when both
  /// have returned. While another caller holds the helper (ParallelFor's `busy` flag normally
  /// rules that out), both run here, one after the other.
  func run(_ body: (Int) -> Void) {
    guard occupied.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    else {
      body(0)
      body(1)
      return
    }
    defer { occupied.store(false, ordering: .releasing) }
    withoutActuallyEscaping(body) { body in
      job = body
      let ticket = posted.add(1, ordering: .sequentiallyConsistent).newValue
      if sleeping.load(ordering: .sequentiallyConsistent) {
        pthread_mutex_lock(mutex)
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
      }
      body(0)
      while finished.load(ordering: .acquiring) != ticket {}
      job = nil
    }
  }

  private func helperLoop() {
    ReplicaThread.mark(true)  // products on this thread are one-threaded
    var done = 0
    while true {
      var next = posted.load(ordering: .acquiring)
      if next == done {
        // Poll, reading the clock every 256 rounds, then sleep until the next post.
        let deadline = monotonicNanoseconds() + spinNanoseconds
        var rounds = 0
        while next == done {
          rounds += 1
          if rounds & 255 == 0 && monotonicNanoseconds() > deadline {
            pthread_mutex_lock(mutex)
            sleeping.store(true, ordering: .sequentiallyConsistent)
            while posted.load(ordering: .sequentiallyConsistent) == done {
              pthread_cond_wait(wake, mutex)
            }
            sleeping.store(false, ordering: .sequentiallyConsistent)
            pthread_mutex_unlock(mutex)
          }
          next = posted.load(ordering: .acquiring)
        }
      }
      job!(1)
      done = next
      finished.store(done, ordering: .releasing)
    }
  }
}

@inline(__always)
private func monotonicNanoseconds() -> UInt64 {
  var t = timespec()
  clock_gettime(CLOCK_MONOTONIC, &t)
  return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}
