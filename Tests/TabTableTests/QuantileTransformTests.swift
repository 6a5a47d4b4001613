// The quantile transform against independent references: scikit-learn's QuantileTransformer
// (fixture made by Tests/Fixtures/quantile/make_fixture.py) and Python's statistics.NormalDist.

import Foundation
import Testing

@testable import TabTable

private struct Reference: Decodable {
  var values: [Double]
  var quantiles: [Double]
  var probes: [Double]
  var forward: [Double]
  var normal_grid: [Double]
  var inverse: [Double]
}

private func loadReference() throws -> [String: Reference] {
  let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../Fixtures/quantile/sklearn_quantile.json")
  return try JSONDecoder().decode([String: Reference].self, from: Data(contentsOf: url))
}

private func fitted(_ values: [Double]) -> QuantileTransform {
  var counts: [Double: Int] = [:]
  for v in values { counts[v, default: 0] += 1 }
  let sorted = counts.keys.sorted()
  return QuantileTransform(sortedValues: sorted, counts: sorted.map { counts[$0]! })
}

@Test(arguments: ["lognormal", "integers"])
func quantilesEqualScikitLearns(column: String) throws {
  let reference = try #require(try loadReference()[column])
  let transform = fitted(reference.values)
  #expect(transform.quantiles.count == reference.quantiles.count)
  let worst = zip(transform.quantiles, reference.quantiles).map { abs($0 - $1) / max(1, abs($1)) }.max()!
  #expect(worst < 1e-12, "worst relative quantile difference \(worst)")
}

@Test(arguments: ["lognormal", "integers"])
func forwardEqualsScikitLearnBetweenDataValues(column: String) throws {
  let reference = try #require(try loadReference()[column])
  let transform = fitted(reference.values)
  for (x, expected) in zip(reference.probes, reference.forward) {
    #expect(abs(transform.forward(x) - expected) < 1e-9, "x = \(x): \(transform.forward(x)) vs \(expected)")
  }
}

@Test(arguments: ["lognormal", "integers"])
func inverseEqualsScikitLearn(column: String) throws {
  let reference = try #require(try loadReference()[column])
  let transform = fitted(reference.values)
  for (y, expected) in zip(reference.normal_grid, reference.inverse) {
    #expect(abs(transform.inverse(y) - expected) <= 1e-9 * max(1, abs(expected)), "y = \(y)")
  }
}

@Test func tiesMapToTheMiddleOfTheirRangeAndBack() {
  // 90% zeros: sklearn would send the zeros to -5.2; we send them to the middle of their
  // quantile range, and every y below the range's end decodes to 0 exactly.
  let transform = QuantileTransform(sortedValues: [0, 1, 2, 3], counts: [900, 40, 40, 20], gridSize: 1001)
  let y = transform.forward(0)
  #expect(abs(y - StandardNormal.quantile(0.45)) < 0.01)
  #expect(transform.inverse(y) == 0)
  #expect(transform.inverse(-3) == 0)
  #expect(transform.inverse(1.2) == 0)
  #expect(transform.forward(3) > 2 && transform.forward(3) < 2.5)  // the top tie: the middle of 0.98...1
  #expect(transform.inverse(Double(Float(transform.forward(3)))) == 3)
  #expect(transform.inverse(Double(Float(-QuantileTransform.clip))) == 0)
}

@Test func outOfRangeValuesClampAndNaNDecodesToTheMinimum() {
  let transform = QuantileTransform(sortedValues: [1, 2, 3, 4, 5], counts: [1, 1, 1, 1, 1])
  #expect(transform.forward(-100) == -QuantileTransform.clip)
  #expect(transform.forward(100) == QuantileTransform.clip)
  #expect(transform.inverse(.nan) == 1)
  #expect(transform.inverse(50) == 5)
}

@Test func inverseNormalMatchesPythonsNormalDist() {
  // statistics.NormalDist().inv_cdf(p), Python 3.11 (an independent implementation).
  let reference: [(Double, Double)] = [
    (1e-300, -37.0470962993612), (1e-20, -9.262340089798405), (1e-10, -6.361340902404056),
    (1e-05, -4.2648907939228256), (0.001, -3.090232306167813), (0.02425, -1.9729610513118845),
    (0.1, -1.2815515655446008), (0.3, -0.5244005127080407), (0.5, 0), (0.7, 0.5244005127080407),
    (0.975, 1.9599639845400536), (0.999999, 4.753424308817089), (1 - 1e-12, 7.0344869100478356),
  ]
  for (p, expected) in reference {
    let got = StandardNormal.quantile(p)
    #expect(abs(got - expected) <= 1e-14 * max(1, abs(expected)) + 1e-15, "p = \(p): \(got) vs \(expected)")
  }
  // Lower tail only: 1 - p loses the digits that the upper tail would need.
  for x in stride(from: -8.0, through: 0, by: 0.37) {
    #expect(abs(StandardNormal.quantile(StandardNormal.cdf(x)) - x) < 1e-12 * max(1, abs(x)), "x = \(x)")
  }
}
