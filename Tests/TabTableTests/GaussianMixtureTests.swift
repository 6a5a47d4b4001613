// Tests of GaussianMixture: recovery of known mixtures, the awkward columns of real tables (point
// masses, few distinct integers, constants, tiny samples, huge ranges), CTGAN's responsibility
// rule, determinism, and agreement with scikit-learn on a fixture (Fixtures/gmm/bimodal.json).

import Foundation
import Testing

@testable import TabTable

extension SplitMix64 {
  /// `count` draws from the mixture Σ weights_k N(means_k, stds_k²).
  mutating func mixture(
    count: Int, means: [Double], stds: [Double], weights: [Double]
  ) -> [Double] {
    (0..<count).map { _ in
      var u = uniform()
      var k = 0
      while k < weights.count - 1 && u >= weights[k] {
        u -= weights[k]
        k += 1
      }
      return means[k] + stds[k] * normal()
    }
  }
}

/// Expects |actual_k − expected_k| ≤ tolerance for every k, naming the worst index and both values.
private func expectClose(
  _ actual: [Double], _ expected: [Double], within tolerance: Double, _ what: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(
    actual.count == expected.count, "\(what): \(actual) vs \(expected)",
    sourceLocation: sourceLocation)
  guard actual.count == expected.count, !actual.isEmpty else { return }
  let errors = zip(actual, expected).map { abs($0 - $1) }
  let worst = errors.indices.max { errors[$0] < errors[$1] }!
  #expect(
    errors[worst] <= tolerance,
    "\(what)[\(worst)]: \(actual[worst]) vs \(expected[worst]) (tolerance \(tolerance))",
    sourceLocation: sourceLocation)
}

/// What every fit must satisfy: at least one mode, finite numbers, stds > 0, weights in (0, 1]
/// summing to at most 1, means ascending.
private func expectWellFormed(
  _ mixture: GaussianMixture, sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(mixture.count >= 1, sourceLocation: sourceLocation)
  #expect(
    mixture.stds.count == mixture.count && mixture.weights.count == mixture.count,
    sourceLocation: sourceLocation)
  let numbers = mixture.means + mixture.stds + mixture.weights
  #expect(
    numbers.allSatisfy { $0.isFinite }, "not finite: \(mixture)",
    sourceLocation: sourceLocation)
  #expect(
    mixture.stds.allSatisfy { $0 > 0 }, "std not > 0: \(mixture.stds)",
    sourceLocation: sourceLocation)
  #expect(
    mixture.weights.allSatisfy { $0 > 0 && $0 <= 1 }, "weights: \(mixture.weights)",
    sourceLocation: sourceLocation)
  #expect(mixture.weights.reduce(0, +) <= 1 + 1e-12, sourceLocation: sourceLocation)
  #expect(
    zip(mixture.means, mixture.means.dropFirst()).allSatisfy { $0 <= $1 },
    "means not ascending: \(mixture.means)", sourceLocation: sourceLocation)
}

/// The responsibilities of `x` as an array.
private func responsibilities(_ mixture: GaussianMixture, _ x: Double) -> [Double] {
  var probabilities = [Double](repeating: .nan, count: mixture.count)
  probabilities.withUnsafeMutableBufferPointer { mixture.responsibilities(x, into: $0) }
  return probabilities
}

private func standardDeviation(_ values: [Double]) -> Double {
  let mean = values.reduce(0, +) / Double(values.count)
  let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
  return (squares / Double(values.count - 1)).squareRoot()
}

@Suite struct GaussianMixtureTests {
  // MARK: Recovering known mixtures

  @Test func twoSeparatedGaussians() {
    var random = SplitMix64(state: 1)
    let values = random.mixture(count: 20_000, means: [-5, 5], stds: [1, 1], weights: [0.3, 0.7])
    let mixture = GaussianMixture.fit(values)
    expectWellFormed(mixture)
    #expect(mixture.count == 2, "\(mixture)")
    guard mixture.count == 2 else { return }
    expectClose(mixture.means, [-5, 5], within: 0.05, "means")
    expectClose(mixture.stds, [1, 1], within: 0.05, "stds")
    expectClose(mixture.weights, [0.3, 0.7], within: 0.02, "weights")
  }

  @Test func threeGaussians() {
    var random = SplitMix64(state: 2)
    let values = random.mixture(
      count: 20_000, means: [-6, 0, 8], stds: [1, 0.5, 1.5], weights: [0.2, 0.5, 0.3])
    let mixture = GaussianMixture.fit(values)
    expectWellFormed(mixture)
    #expect(mixture.count == 3, "\(mixture)")
    guard mixture.count == 3 else { return }
    expectClose(mixture.means, [-6, 0, 8], within: 0.05, "means")
    expectClose(mixture.stds, [1, 0.5, 1.5], within: 0.05, "stds")
    expectClose(mixture.weights, [0.2, 0.5, 0.3], within: 0.02, "weights")
  }

  /// One Gaussian must come back as one dominant mode. The bound: the heaviest mode has weight
  /// ≥ 0.95, and so every other kept mode < 0.05 (in practice the fit keeps exactly one).
  @Test(arguments: [200, 5_000])
  func singleGaussianGivesOneDominantMode(count: Int) {
    var random = SplitMix64(state: 3 &+ UInt64(count))
    let values = random.mixture(count: count, means: [3], stds: [2], weights: [1])
    let mixture = GaussianMixture.fit(values)
    expectWellFormed(mixture)
    let heaviest = mixture.weights.indices.max { mixture.weights[$0] < mixture.weights[$1] }!
    #expect(mixture.weights[heaviest] >= 0.95, "\(mixture)")
    for k in mixture.weights.indices where k != heaviest {
      #expect(mixture.weights[k] < 0.05, "mode \(k): \(mixture)")
    }
    let tolerance = 4 * 2 / Double(count).squareRoot()  // four standard errors of the mean
    #expect(abs(mixture.means[heaviest] - 3) < tolerance, "\(mixture)")
    #expect(abs(mixture.stds[heaviest] - 2) < tolerance, "\(mixture)")
  }

  // MARK: Awkward columns

  /// capital-gain in the adult table: about 90% zeros, the rest spread over orders of magnitude.
  @Test func pointMassAndLognormal() {
    var random = SplitMix64(state: 4)
    let values = (0..<20_000).map { _ in random.uniform() < 0.9 ? 0 : exp(7 + random.normal()) }
    let zeros = Double(values.filter { $0 == 0 }.count) / Double(values.count)
    let spread = standardDeviation(values)
    let mixture = GaussianMixture.fit(values)
    expectWellFormed(mixture)
    let nearest = mixture.means.indices.min { abs(mixture.means[$0]) < abs(mixture.means[$1]) }!
    #expect(abs(mixture.means[nearest]) < 0.01 * spread, "\(mixture), data sd \(spread)")
    #expect(mixture.stds[nearest] < 0.02 * spread, "\(mixture), data sd \(spread)")
    #expect(abs(mixture.weights[nearest] - zeros) < 0.01, "\(mixture), zeros \(zeros)")
    #expect(mixture.count >= 2, "the continuous part needs modes too: \(mixture)")
  }

  /// A column of five integers: one narrow mode on each value.
  @Test func fewDistinctIntegers() {
    var random = SplitMix64(state: 5)
    let values = (0..<10_000).map { _ in Double(Int(random.uniform() * 5)) }
    let mixture = GaussianMixture.fit(values)
    expectWellFormed(mixture)
    #expect(mixture.count == 5, "\(mixture)")
    guard mixture.count == 5 else { return }
    expectClose(mixture.means, [0, 1, 2, 3, 4], within: 0.01, "means")
    #expect(mixture.stds.allSatisfy { $0 < 0.1 }, "\(mixture.stds)")
    expectClose(mixture.weights, [0.2, 0.2, 0.2, 0.2, 0.2], within: 0.02, "weights")
  }

  @Test(arguments: [0.0, 7.5, -1e6, 1e300])
  func constantColumnGivesOneMode(value: Double) {
    let mixture = GaussianMixture.fit([Double](repeating: value, count: 1_000))
    expectWellFormed(mixture)
    #expect(mixture.count == 1)
    #expect(mixture.means == [value])
    #expect(mixture.weights == [1])
    #expect(mixture.stds[0] <= 1e-6 * max(1, abs(value)), "\(mixture.stds)")
  }

  @Test(arguments: [
    [42.0], [1, 2], [2, 1], [0, 0, 1], [-1, 0, 1_000], [5, 5, 5], [1e-300, 2e-300],
    [-1e308, 1e308], [-1e308, 0, 1e308], [4.9e-324, 1e-323, 0],
  ])
  func tinyAndExtremeSamples(values: [Double]) {
    let mixture = GaussianMixture.fit(values)
    expectWellFormed(mixture)
    let low = values.min()!
    let high = values.max()!
    #expect(mixture.means.allSatisfy { $0 >= low && $0 <= high }, "\(mixture)")
  }

  /// Values from 1 to 1e6 (log-uniform), and the same shifted far from 0.
  @Test func hugeRangeAndLargeOffset() {
    var random = SplitMix64(state: 6)
    let logUniform = (0..<5_000).map { _ in exp(random.uniform() * log(1e6)) }
    let spread = GaussianMixture.fit(logUniform)
    expectWellFormed(spread)
    #expect(spread.count >= 2, "\(spread)")
    let offset = random.mixture(
      count: 5_000, means: [1e9 - 5, 1e9 + 5], stds: [1, 1],
      weights: [0.5, 0.5])
    let shifted = GaussianMixture.fit(offset)
    expectWellFormed(shifted)
    #expect(shifted.count == 2, "\(shifted)")
    if shifted.count == 2 {
      expectClose(shifted.means.map { $0 - 1e9 }, [-5, 5], within: 0.1, "means − 1e9")
    }
  }

  @Test func modeLimitAndThresholdAreRespected() {
    var random = SplitMix64(state: 7)
    let values = random.mixture(count: 5_000, means: [0, 10], stds: [1, 1], weights: [0.5, 0.5])
    #expect(GaussianMixture.fit(values, maxModes: 1).count == 1)
    // No mode reaches 0.9, so the heaviest one is kept alone.
    let strict = GaussianMixture.fit(values, weightThreshold: 0.9)
    expectWellFormed(strict)
    #expect(strict.count == 1, "\(strict)")
    // More starting components than values are distinct.
    expectWellFormed(GaussianMixture.fit([1, 2, 3], maxModes: 50))
  }

  // MARK: Responsibilities

  @Test func responsibilitiesSumToOneAndPickTheNearestMode() {
    var random = SplitMix64(state: 8)
    let values = random.mixture(
      count: 5_000, means: [-6, 0, 8], stds: [1, 0.5, 1.5], weights: [0.2, 0.5, 0.3])
    let mixture = GaussianMixture.fit(values)
    #expect(mixture.count == 3, "\(mixture)")
    for x in [-1e9, -50, -6, -3, 0, 0.25, 4, 8, 30, 1e9, -Double.infinity, .infinity] {
      let p = responsibilities(mixture, x)
      #expect(abs(p.reduce(0, +) - 1) < 1e-12, "x = \(x): \(p)")
      // CTGAN's smoothing: every mode keeps at least 1e-6 / (1 + count · 1e-6).
      #expect(p.allSatisfy { $0 >= 1e-6 / (1 + 3e-6) * (1 - 1e-12) && $0 <= 1 }, "x = \(x): \(p)")
    }
    for k in 0..<mixture.count {
      for delta in [-0.1, 0, 0.1] {
        let x = mixture.means[k] + delta * mixture.stds[k]
        let p = responsibilities(mixture, x)
        let best = p.indices.max { p[$0] < p[$1] }!
        #expect(best == k && p[k] > 0.99, "x = \(x) near mode \(k): \(p)")
      }
    }
    let uniform = responsibilities(mixture, .nan)
    expectClose(uniform, [1.0 / 3, 1.0 / 3, 1.0 / 3], within: 1e-12, "responsibilities of NaN")
  }

  @Test func responsibilitiesOfOneModeAreOne() {
    let mixture = GaussianMixture.fit([3, 3, 3])
    #expect(responsibilities(mixture, 3) == [1])
    #expect(responsibilities(mixture, -1e300) == [1])
  }

  // MARK: The E-step kernel

  /// The vector kernel (release builds) against the scalar reference (debug builds): equal within
  /// 1e-12 of each sum's scale, for value counts that are and are not multiples of the 4 lanes.
  @Test(arguments: [(1, 1), (3, 1), (5, 3), (1_001, 10), (4_096, 7)])
  func vectorKernelMatchesScalarReference(size: Int, components: Int) {
    var random = SplitMix64(state: UInt64(size * 31 + components))
    let values = (0..<size).map { _ in 10 * random.uniform() - 5 }
    let counts = (0..<size).map { _ in Double(1 + random.next() % 5) }
    let means = (0..<components).map { _ in 8 * random.uniform() - 4 }
    let offsets = (0..<components).map { _ in -5 * random.uniform() }
    let halfPrecisions = (0..<components).map { _ in 0.1 + 50 * random.uniform() * random.uniform()
    }
    let vector = GaussianMixture.responsibilitySums(
      values: values, counts: counts, means: means, offsets: offsets,
      halfPrecisions: halfPrecisions)
    let reference = GaussianMixture.referenceResponsibilitySums(
      values: values, counts: counts, means: means, offsets: offsets,
      halfPrecisions: halfPrecisions)
    let total = counts.reduce(0, +)
    let logScale = 1e-12 * max(1, abs(reference.logLikelihood))
    #expect(
      abs(vector.logLikelihood - reference.logLikelihood) <= logScale,
      "\(vector.logLikelihood) vs \(reference.logLikelihood)")
    expectClose(vector.count, reference.count, within: 1e-12 * total, "S0")
    expectClose(vector.first, reference.first, within: 1e-12 * total * 10, "S1")  // |d| < 10
    expectClose(vector.second, reference.second, within: 1e-12 * total * 100, "S2")
    expectClose(
      vector.count.map { $0 / total }, reference.count.map { $0 / total },
      within: 1e-12, "S0 / total")
    #expect(abs(reference.count.reduce(0, +) - total) <= 1e-12 * total)  // Σ_k r_ik = 1
  }

  /// The vector exponential against libm's `exp` on [−700, 0], and its floor below −700.
  @Test func vectorExponentialMatchesLibm() {
    var worst = (x: 0.0, error: 0.0)
    for step in 0...70_000 {
      let x = -Double(step) * 0.01 - (step % 7 == 0 ? 0 : 0.003_7)
      guard x >= -700 else { continue }
      let lanes = GaussianMixture.exponential(SIMD4(x, x / 2, x / 3, x / 1_000))
      for (lane, divisor) in [1.0, 2, 3, 1_000].enumerated() {
        let expected = exp(x / divisor)
        let error = abs(lanes[lane] - expected) / expected
        if error > worst.error { worst = (x / divisor, error) }
      }
    }
    #expect(worst.error < 1e-14, "worst relative error \(worst.error) at x = \(worst.x)")
    let floor = GaussianMixture.exponential(SIMD4(-701, -1e4, -.infinity, -700))
    for lane in 0..<4 {
      #expect(abs(floor[lane] - exp(-700)) <= 1e-14 * exp(-700), "lane \(lane): \(floor[lane])")
    }
  }

  // MARK: Determinism and storage

  @Test func fitIsDeterministicAndIgnoresOrder() {
    var random = SplitMix64(state: 9)
    let values = (0..<10_000).map { _ in
      random.uniform() < 0.4
        ? 0 : random.uniform() < 0.5 ? 10 + random.normal() : 30 + 3 * random.normal()
    }
    let first = GaussianMixture.fit(values)
    let second = GaussianMixture.fit(values)
    #expect(first == second)
    var shuffled = values
    for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
      shuffled.swapAt(i, Int(random.next() % UInt64(i + 1)))
    }
    #expect(GaussianMixture.fit(shuffled) == first)
  }

  @Test func codableRoundTrip() throws {
    var random = SplitMix64(state: 10)
    let mixture = GaussianMixture.fit(
      random.mixture(count: 2_000, means: [-5, 5], stds: [1, 2], weights: [0.5, 0.5]))
    let data = try JSONEncoder().encode(mixture)
    #expect(try JSONDecoder().decode(GaussianMixture.self, from: data) == mixture)
  }

  // MARK: Reference

  private struct Reference: Decodable {
    var values: [Double]
    var means: [Double]
    var stds: [Double]
    var weights: [Double]
  }

  /// scikit-learn 1.9's BayesianGaussianMixture with CTGAN's settings on a fixed sample of 300
  /// values (Fixtures/gmm/make_bimodal.py), where its variational EM converges to the two true
  /// modes. The model and priors are the same, so the fits agree closely (measured: within 1e-5);
  /// the bounds, 0.01 data standard deviations for means and stds and 0.005 for weights, leave
  /// room for the different start and stopping rule.
  @Test func agreesWithScikitLearn() throws {
    let url = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures/gmm/bimodal.json")
    let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    let mixture = GaussianMixture.fit(reference.values)
    expectWellFormed(mixture)
    #expect(mixture.count == reference.means.count, "\(mixture) vs \(reference.means)")
    let spread = standardDeviation(reference.values)
    expectClose(
      mixture.means.map { $0 / spread }, reference.means.map { $0 / spread }, within: 0.01,
      "means / data sd")
    expectClose(
      mixture.stds.map { $0 / spread }, reference.stds.map { $0 / spread }, within: 0.01,
      "stds / data sd")
    expectClose(mixture.weights, reference.weights, within: 0.005, "weights")
  }
}
