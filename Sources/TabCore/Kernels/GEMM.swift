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
  // Row-major leading dimensions are the stored row lengths (at least 1 for BLAS's checks).
  productRowMajor(
    m: m, n: n, k: k, a.base, lda: max(a.cols, 1), transposeA: transposeA, b.base,
    ldb: max(b.cols, 1), transposeB: transposeB, into: c.base, ldc: max(c.cols, 1), alpha: alpha,
    beta: beta)
}

/// One row-major product with M, N, K > 0 on `BLASThreads.count(m:n:k:)` threads, as OpenBLAS's
/// own threads or, with `BLASThreads.strategy` `.halves`, as two one-threaded halves.
func productRowMajor(
  m: Int, n: Int, k: Int, _ a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
  _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool, into c: UnsafeMutablePointer<Float>,
  ldc: Int, alpha: Float, beta: Float
) {
  let threads = BLASThreads.count(m: m, n: n, k: k)
  let ta = transposeA ? CblasTrans : CblasNoTrans, tb = transposeB ? CblasTrans : CblasNoTrans
  guard threads > 1 && BLASThreads.strategy == .halves && max(m, n) >= 32 else {
    BLASThreads.product(threads: threads) {
      cblas_sgemm(
        CblasRowMajor, ta, tb, blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b,
        blasint(ldb), beta, c, blasint(ldc))
    }
    return
  }
  productInHalves(
    m: m, n: n, k: k, a, lda: lda, transposeA: transposeA, b, ldb: ldb, transposeB: transposeB,
    into: c, ldc: ldc, alpha: alpha, beta: beta)
}

/// The same product as two one-threaded OpenBLAS calls on `ParallelFor.replicas(2)`, one per
/// half of C (`BLASThreads.Strategy.halves`).
func productInHalves(
  m: Int, n: Int, k: Int, _ a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
  _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool, into c: UnsafeMutablePointer<Float>,
  ldc: Int, alpha: Float, beta: Float
) {
  let ta = transposeA ? CblasTrans : CblasNoTrans, tb = transposeB ? CblasTrans : CblasNoTrans
  // Cut C along its longer side, so that the operand both halves read whole (and OpenBLAS packs
  // twice) is the smaller one: rows of C share op(b), columns of C share op(a). The cut is a
  // multiple of 16 floats (whole cache lines of C when it is aligned, whole kernel tiles).
  let byRows = m >= n
  let length = byRows ? m : n
  let cut = (length / 2 + 8) / 16 * 16
  ParallelFor.replicas(2) { half in
    let start = half == 0 ? 0 : cut
    let count = half == 0 ? cut : length - cut
    if count == 0 { return }
    BLASThreads.product(threads: 1) {
      if byRows {
        // Rows start..<start+count of op(a) and of C.
        let aPart = transposeA ? a + start : a + start * lda
        cblas_sgemm(
          CblasRowMajor, ta, tb, blasint(count), blasint(n), blasint(k), alpha, aPart,
          blasint(lda), b, blasint(ldb), beta, c + start * ldc, blasint(ldc))
      } else {
        // Columns start..<start+count of op(b) and of C.
        let bPart = transposeB ? b + start * ldb : b + start
        cblas_sgemm(
          CblasRowMajor, ta, tb, blasint(m), blasint(count), blasint(k), alpha, a, blasint(lda),
          bPart, blasint(ldb), beta, c + start, blasint(ldc))
      }
    }
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

  /// How a product that gets more than one thread uses them.
  public enum Strategy: Sendable {
    /// OpenBLAS's own threads (its pthread pool splits the product and packs shared panels).
    case openBLAS
    /// Two one-threaded OpenBLAS calls at once, one per half of C (`productInHalves`), and
    /// every two-way fork (products, `ParallelFor`) on TabCore's own helper thread
    /// (`SpinTeam`), which waits for work by polling for 2 ms before it sleeps. OpenBLAS's pool
    /// does the same between its products but not for anything else, so with it a parallel
    /// loop shares the second core with a spinning BLAS worker. tab-gan's setting: its step
    /// forks about a hundred times onto products of 50-500 rows and loops (docs/gan.md).
    case halves
  }
  private static let strategyIsHalves = Atomic<Bool>(false)

  /// The current strategy (default `.openBLAS`); process-wide, set once at start-up.
  public static var strategy: Strategy {
    get { strategyIsHalves.load(ordering: .relaxed) ? .halves : .openBLAS }
    set { strategyIsHalves.store(newValue == .halves, ordering: .relaxed) }
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
