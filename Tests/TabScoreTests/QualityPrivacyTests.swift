// Alpha-precision, beta-recall and the DCR share against the straightforward numpy versions
// in bench/score/make_fixtures.py (full one-hot matrices, brute-force distances), and the
// nearest-neighbour kernel against a scalar reference.

import Foundation
import Testing

@testable import TabScore

@Suite struct QualityPrivacyTests {
  @Test(arguments: ["adult", "beijing"])
  func precisionRecallAgreeWithReference(pair: String) throws {
    let tables = try Fixture.tables(pair)
    let expected = try Fixture.expected(pair)
    let ours = Quality.precisionRecall(tables, threads: 2)
    let alpha = expected["alpha_precision"] as! Double
    let beta = expected["beta_recall"] as! Double
    #expect(
      abs(ours.alphaPrecision - alpha) < 1e-9,
      "alpha: ours \(ours.alphaPrecision), reference \(alpha)")
    #expect(abs(ours.betaRecall - beta) < 1e-9, "beta: ours \(ours.betaRecall), reference \(beta)")
  }

  @Test(arguments: ["adult", "beijing"])
  func dcrShareAgreesWithReference(pair: String) throws {
    let tables = try Fixture.tables(pair)
    let want = try Fixture.expected(pair)["dcr_share"] as! Double
    let ours = Privacy.score(tables, threads: 2)
    #expect(abs(ours.dcrShare! - want) < 1e-12, "ours \(ours.dcrShare!), reference \(want)")
    #expect(ours.dcrIdeal == 0.5)
  }

  @Test func copiesOfTheRealTableAreFound() throws {
    var tables = try Fixture.tables("adult")
    tables.synthetic = tables.real
    let privacy = Privacy.score(tables, threads: 1)
    #expect(privacy.exactCopies == 1)
    #expect(privacy.medianDistance == 0)
    // Each synthetic row is its own training row, so it is closer to train than to holdout
    // unless the holdout holds the same row.
    #expect(privacy.dcrShare! > 0.95)
    let quality = Quality.precisionRecall(tables, threads: 1)
    #expect(quality.alphaPrecision > 0.95)
  }

  /// Scalar reference: all pairwise distances, nearest and second nearest.
  static func reference(
    _ q: DistanceRows, _ r: DistanceRows, norm: DistanceNorm, excludingSelf: Bool
  ) -> [Neighbours] {
    (0..<q.rows).map { i in
      var all: [(Double, Int)] = []
      for j in 0..<r.rows where !(excludingSelf && i == j) {
        var d = 0.0
        for f in 0..<q.numbers.count {
          let diff = q.numbers[f][i] - r.numbers[f][j]
          d += norm == .euclidean ? diff * diff : abs(diff)
        }
        for c in 0..<q.codes.count where q.codes[c][i] != r.codes[c][j] {
          d += q.weights[c][i] + r.weights[c][j]
        }
        all.append((norm == .euclidean ? d.squareRoot() : d, j))
      }
      all.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
      return Neighbours(
        first: all[0].0, second: all.count > 1 ? all[1].0 : .infinity, index: all[0].1)
    }
  }

  static func randomRows(_ rows: Int, numbers: Int, codes: Int, generator: inout SplitMix)
    -> DistanceRows
  {
    DistanceRows(
      rows: rows,
      numbers: (0..<numbers).map { _ in
        (0..<rows).map { _ in Double(Int.random(in: 0..<7, using: &generator)) / 3 }
      },
      codes: (0..<codes).map { _ in
        (0..<rows).map { _ in Int32.random(in: 0..<3, using: &generator) }
      },
      weights: (0..<codes).map { _ in
        (0..<rows).map { _ in Double(Int.random(in: 0..<4, using: &generator) == 0 ? 0 : 1) }
      })
  }

  @Test(arguments: [(1, 0), (0, 2), (3, 2), (1, 5)])
  func nearestNeighboursMatchScalarReference(numbers: Int, codes: Int) {
    var generator = SplitMix(seed: UInt64(numbers * 10 + codes))
    // 5000 reference rows cross the kernel's 4096-row block boundary; ties are frequent.
    let references = Self.randomRows(5000, numbers: numbers, codes: codes, generator: &generator)
    let queries = Self.randomRows(37, numbers: numbers, codes: codes, generator: &generator)
    for norm in [DistanceNorm.euclidean, .manhattan] {
      let ours = NearestNeighbours.search(
        queries: queries, references: references, norm: norm, threads: 2)
      let want = Self.reference(queries, references, norm: norm, excludingSelf: false)
      for i in 0..<queries.rows {
        #expect(
          abs(ours[i].first - want[i].first) < 1e-12
            && abs(ours[i].second - want[i].second) < 1e-12, "row \(i)")
        #expect(
          ours[i].index == want[i].index,
          "row \(i): nearest index \(ours[i].index) vs \(want[i].index)")
      }
    }
    let own = NearestNeighbours.search(
      queries: queries, references: queries, norm: .euclidean, excludingSelf: true, threads: 2)
    let wantOwn = Self.reference(queries, queries, norm: .euclidean, excludingSelf: true)
    for i in 0..<queries.rows {
      #expect(own[i].index == wantOwn[i].index && own[i].first == wantOwn[i].first)
    }
  }

  @Test func quantileInterpolatesAsNumpy() {
    // np.quantile([1, 2, 4, 8], [0, 0.5, 0.9, 1]) = [1, 3, 6.8, 8]
    let sorted = [1.0, 2, 4, 8]
    #expect(Quality.quantile(sorted, 0) == 1)
    #expect(Quality.quantile(sorted, 0.5) == 3)
    #expect(abs(Quality.quantile(sorted, 0.9) - 6.8) < 1e-12)
    #expect(Quality.quantile(sorted, 1) == 8)
  }
}
