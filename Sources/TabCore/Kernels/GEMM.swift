// Matrix products through OpenBLAS's cblas_sgemm, with the number of BLAS threads chosen per call.

import CBLAS
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `c = alpha · op(a) · op(b) + beta · c`, where `op(x)` is `x` or its transpose.
///
/// Shapes: op(a) (M, K), op(b) (K, N), c (M, N); `a` is stored (K, M) when `transposeA`, `b` is
/// stored (N, K) when `transposeB`. With `beta: 1` the product accumulates into `c` (backward
/// passes); with `beta: 0` (the default) `c` is overwritten and its old contents, even NaN, are
/// ignored. Runs on `BLASThreads.count(m:n:k:)` threads.
/// - Precondition: the shapes agree and `c` does not overlap `a` or `b`.
/// - Complexity: 2·M·N·K floating-point operations.
public func gemm(
  _ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false, into c: Matrix,
  alpha: Float = 1, beta: Float = 0
) {
  let m = transposeA ? a.cols : a.rows
  let k = transposeA ? a.rows : a.cols
  let kB = transposeB ? b.cols : b.rows
  let n = transposeB ? b.rows : b.cols
  precondition(
    k == kB && c.rows == m && c.cols == n,
    "gemm: op(a) \(m)x\(k) · op(b) \(kB)x\(n) into c \(c.rows)x\(c.cols)")
  if m == 0 || n == 0 { return }
  if k == 0 {
    // BLAS leaves c untouched when K is 0 only if beta is 1; make every beta mean what it says.
    if beta == 0 { c.zero() } else if beta != 1 { scale(c.base, by: beta, count: c.count) }
    return
  }
  BLASThreads.product(threads: BLASThreads.count(m: m, n: n, k: k)) {
    // Row-major leading dimensions are the stored row lengths (at least 1 for BLAS's checks).
    cblas_sgemm(
      CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
      blasint(m), blasint(n), blasint(k), alpha, a.base, blasint(max(a.cols, 1)),
      b.base, blasint(max(b.cols, 1)), beta, c.base, blasint(max(c.cols, 1)))
  }
}

/// The reference for `gemm`: the same contract as a plain triple loop, accumulating in Double.
public func gemmNaive(
  _ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false, into c: Matrix,
  alpha: Float = 1, beta: Float = 0
) {
  let m = transposeA ? a.cols : a.rows
  let k = transposeA ? a.rows : a.cols
  let n = transposeB ? b.rows : b.cols
  precondition((transposeB ? b.cols : b.rows) == k && c.rows == m && c.cols == n)
  for i in 0..<m {
    for j in 0..<n {
      var sum = 0.0
      for p in 0..<k {
        let x = transposeA ? a[p, i] : a[i, p]
        let y = transposeB ? b[j, p] : b[p, j]
        sum += Double(x) * Double(y)
      }
      let old = beta == 0 ? 0 : Double(beta) * Double(c[i, j])
      c[i, j] = Float(Double(alpha) * sum + old)
    }
  }
}

/// How many threads OpenBLAS may use, chosen per product.
///
/// Small products run on one thread, larger ones on up to `maximum`. Measured on the 2-core Zen3
/// machine (OpenBLAS 0.3.21 pthread, x · Wᵀ): at 2.6e5 flops (128×32×32) two threads gain nothing,
/// at 2.1e6 (256×64×64) they give 101 against 65 GFLOP/s, at 8.4e6 (256×128×128) 138 against 80;
/// hence the default `singleThreadFlops` of 1e6. Both settings are process-wide; set them once at
/// start-up (`--threads`).
public enum BLASThreads {
  private static let maximumThreads = Atomic<Int>(2)
  private static let threshold = Atomic<Int>(1_000_000)

  /// The most threads a product may use (default 2, the machine's cores).
  public static var maximum: Int {
    get { maximumThreads.load(ordering: .relaxed) }
    set { maximumThreads.store(max(1, newValue), ordering: .relaxed) }
  }

  /// Products with fewer floating-point operations (2·M·N·K) run on one thread.
  public static var singleThreadFlops: Int {
    get { threshold.load(ordering: .relaxed) }
    set { threshold.store(max(0, newValue), ordering: .relaxed) }
  }

  /// The thread count `gemm` uses for an M×K by K×N product: 1 on a replica's thread
  /// (`ParallelFor.replicas`).
  public static func count(m: Int, n: Int, k: Int) -> Int {
    if ReplicaThread.isReplica { return 1 }
    let flops = 2 * m * n * k
    return flops < singleThreadFlops ? 1 : maximum
  }

  /// Runs `body`, which makes one OpenBLAS call, with OpenBLAS set to `threads` threads.
  ///
  /// OpenBLAS's thread count is one setting for the whole process, and its results depend on it
  /// in the last bits. Products that want the same count may run at once (the replicas of a
  /// data-parallel step, each on one thread); a product that wants another count waits until
  /// those in flight have finished, so no product ever starts under a setting it did not ask
  /// for, and a seed's results do not depend on what other threads do.
  static func product(threads: Int, _ body: () -> Void) {
    gate.enter(threads)
    body()
    gate.leave()
  }

  private static let gate = ProductGate()

  /// OpenBLAS's threading model: 0 sequential, 1 pthreads (what we want), 2 OpenMP.
  public static var parallelism: Int { Int(openblas_get_parallel()) }

  /// OpenBLAS's build description (version, kernel, thread limit), for logs and provenance.
  public static var configuration: String { String(cString: openblas_get_config()) }
}

/// The count of OpenBLAS threads and the products running under it (see `BLASThreads.product`).
private final class ProductGate: @unchecked Sendable {
  // A pthread mutex and condition variable: Synchronization's Mutex has no way to wait.
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
  /// The count last passed to openblas_set_num_threads (0: never set). Guarded by `mutex`.
  private var threads = 0
  /// Products in flight. Guarded by `mutex`.
  private var running = 0

  init() {
    pthread_mutex_init(mutex, nil)
    pthread_cond_init(changed, nil)
  }

  func enter(_ wanted: Int) {
    pthread_mutex_lock(mutex)
    while running > 0 && threads != wanted { pthread_cond_wait(changed, mutex) }
    if threads != wanted {
      openblas_set_num_threads(Int32(wanted))
      threads = wanted
    }
    running += 1
    pthread_mutex_unlock(mutex)
  }

  func leave() {
    pthread_mutex_lock(mutex)
    running -= 1
    if running == 0 { pthread_cond_broadcast(changed) }
    pthread_mutex_unlock(mutex)
  }
}

/// Whether the calling thread runs one replica of `ParallelFor.replicas` (a thread-local flag).
enum ReplicaThread {
  private static let key: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()

  static var isReplica: Bool { pthread_getspecific(key) != nil }

  static func mark(_ replica: Bool) {
    pthread_setspecific(key, replica ? UnsafeRawPointer(bitPattern: 1) : nil)
  }
}
