// Brute-force nearest neighbours over mixed rows: a few numerical features and categorical
// codes, where two different categories are a fixed distance apart. This is the one-hot
// distance without materialising the one-hot columns (adult: 15 features instead of 110), and
// the loop over reference rows vectorises (the reference set is stored feature by feature).

import Foundation

/// Rows of one table in a distance space: scaled numerical features and category codes.
/// Distance between rows p and q (L2 squared, or L1):
///   Σ_f |x_f(p) - x_f(q)|^power  +  Σ_j [code_j(p) ≠ code_j(q)] · (weight_j(p) + weight_j(q))
/// where weight is what a row's own one-hot indicator adds (1, or 0 for a dropped or unknown
/// indicator); L1 and squared L2 agree on one-hot parts.
public struct DistanceRows: Sendable {
  public var rows: Int
  /// numbers[f][r], feature by feature.
  public var numbers: [[Double]]
  /// codes[j][r] and weights[j][r] for categorical feature j.
  public var codes: [[Int32]]
  public var weights: [[Double]]

  public init(rows: Int, numbers: [[Double]], codes: [[Int32]], weights: [[Double]]) {
    self.rows = rows
    self.numbers = numbers
    self.codes = codes
    self.weights = weights
  }
}

/// The norm distances are measured in.
public enum DistanceNorm: Sendable {
  /// Euclidean: results are square roots of the sums.
  case euclidean
  /// Manhattan.
  case manhattan
}

/// The two nearest reference rows of one query row.
public struct Neighbours: Sendable {
  public var first: Double
  public var second: Double
  public var index: Int
}

public enum NearestNeighbours {
  /// For each query row, the distances to its nearest and second-nearest reference rows and
  /// the index of the nearest (the first on ties). With `excludingSelf`, query and reference are
  /// the same table and row i skips itself (a duplicate row is still at distance 0).
  /// Work is split over `threads` threads by query rows; results do not depend on it.
  /// - Complexity: O(queries · references · features).
  public static func search(
    queries: DistanceRows, references: DistanceRows, norm: DistanceNorm,
    excludingSelf: Bool = false,
    threads: Int = 2
  ) -> [Neighbours] {
    precondition(
      queries.numbers.count == references.numbers.count
        && queries.codes.count == references.codes.count)
    var result = [Neighbours](
      repeating: Neighbours(first: .infinity, second: .infinity, index: -1), count: queries.rows)
    let count = queries.rows
    let workers = max(1, min(threads, count / 64 + 1))
    let packed = PackedRows(references)
    result.withUnsafeMutableBufferPointer { output in
      let out = UnsafeSendable(output)
      DispatchQueue.concurrentPerform(iterations: workers) { w in
        let start = count * w / workers
        let end = count * (w + 1) / workers
        searchRange(
          start..<end, queries: queries, references: packed, norm: norm,
          excludingSelf: excludingSelf,
          into: out.value)
      }
    }
    if norm == .euclidean {
      for i in result.indices {
        result[i].first = result[i].first.squareRoot()
        result[i].second = result[i].second.squareRoot()
      }
    }
    return result
  }

  /// One worker's share: for each query row in `range`, the reference rows in blocks of 1024
  /// whose partial sums stay in L1 cache, one vectorised pass over the block per feature.
  /// (Summing the features in SIMD registers instead, 4 or 16 rows at a time, measured 5 to 10
  /// times slower with Swift's SIMD4<Double>.)
  static func searchRange(
    _ range: Range<Int>, queries: DistanceRows, references: PackedRows, norm: DistanceNorm,
    excludingSelf: Bool, into output: UnsafeMutableBufferPointer<Neighbours>
  ) {
    let block = 1024
    let n = references.rows
    let numbers = queries.numbers.count
    let codes = queries.codes.count
    let distance = UnsafeMutableBufferPointer<Double>.allocate(capacity: block)
    defer { distance.deallocate() }
    let euclidean = norm == .euclidean
    for q in range {
      var best = Neighbours(first: .infinity, second: .infinity, index: -1)
      var start = 0
      while start < n {
        let width = min(block, n - start)
        distance.update(repeating: 0)
        for f in 0..<numbers {
          let x = references.feature(f) + start
          let v = queries.numbers[f][q]
          if euclidean {
            for i in 0..<width {
              let d = x[i] - v
              distance[i] += d * d
            }
          } else {
            for i in 0..<width { distance[i] += abs(x[i] - v) }
          }
        }
        for j in 0..<codes {
          // Codes are small integers held exactly as Doubles, so the compare and select
          // vectorise in the same width as the sums.
          let code = references.feature(numbers + j) + start
          let weight = references.feature(numbers + codes + j) + start
          let own = Double(queries.codes[j][q])
          let ownWeight = queries.weights[j][q]
          for i in 0..<width { distance[i] += code[i] == own ? 0 : weight[i] + ownWeight }
        }
        for i in 0..<width {
          let d = distance[i]
          if d < best.second {
            let r = start + i
            if excludingSelf && r == q { continue }
            if d < best.first {
              best.second = best.first
              best.first = d
              best.index = r
            } else {
              best.second = d
            }
          }
        }
        start += width
      }
      if best.index < 0 {
        // Every distance was infinite or NaN (values near ±1e308): any row is as near, and
        // callers index with the result.
        let r = excludingSelf && q == 0 ? 1 : 0
        if r < n { best.index = r }
      }
      output[q] = best
    }
  }
}

/// The reference rows in one allocation, feature by feature: numbers, then codes (as Doubles),
/// then code weights; each feature is `rows` contiguous Doubles.
final class PackedRows: @unchecked Sendable {
  let rows: Int
  private let storage: UnsafeMutableBufferPointer<Double>

  init(_ source: DistanceRows) {
    rows = source.rows
    let features = source.numbers + source.codes.map { $0.map(Double.init) } + source.weights
    storage = .allocate(capacity: max(features.count * rows, 1))
    for (f, values) in features.enumerated() {
      precondition(values.count == rows)
      _ = UnsafeMutableBufferPointer(rebasing: storage[(f * rows)..<((f + 1) * rows)]).initialize(
        from: values)
    }
  }

  deinit { storage.deallocate() }

  /// The start of feature f. This is safe while `self` is alive; it is never written after init.
  func feature(_ f: Int) -> UnsafePointer<Double> { UnsafePointer(storage.baseAddress! + f * rows) }
}

/// Hands a buffer to concurrent workers that write disjoint parts of it.
struct UnsafeSendable<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
