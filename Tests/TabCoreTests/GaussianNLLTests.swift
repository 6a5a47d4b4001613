// Gaussian negative log-likelihood: value and both gradients against a Double re-implementation
// and central differences (GradientCheck.swift), with pre-filled gradients and a scale.

import Foundation
import Testing

@testable import TabCore

@Suite struct GaussianNLLTests {
  @Test(arguments: [false, true])
  func gradients(includeConstant: Bool) {
    for (index, shape) in checkShapes.enumerated() {
      let t = TestBuffers(seed: 800 + UInt64(index))
      let mu = t.normal(shape.rows, shape.cols)
      let lv = t.normal(shape.rows, shape.cols)
      let target = t.normal(shape.rows, shape.cols)
      let dMean = t.normal(shape.rows, shape.cols)
      let dLogVariance = t.normal(shape.rows, shape.cols)
      let dm0 = dMean.toArray()
      let dlv0 = dLogVariance.toArray()
      let scale: Float = 0.7
      let loss = gaussianNegativeLogLikelihood(
        mean: mu, logVariance: lv, target: target, dMean: dMean, dLogVariance: dLogVariance,
        scale: scale, includeConstant: includeConstant)
      let td = doubles(target)
      let mud = doubles(mu)
      let lvd = doubles(lv)
      func objective(_ mu: [Double], _ lv: [Double]) -> Double {
        var total = 0.0
        for i in 0..<mu.count {
          total += 0.5 * (lv[i] + (td[i] - mu[i]) * (td[i] - mu[i]) / Foundation.exp(lv[i]))
          if includeConstant { total += 0.5 * Foundation.log(2 * Double.pi) }
        }
        return total / Double(mu.count)
      }
      let expected = objective(mud, lvd)
      #expect(
        abs(Double(loss) - expected) <= 1e-5 * max(1, abs(expected)),
        "NLL \(shape): \(loss) vs \(expected)")
      expectGradient(
        "NLL dMean \(shape)", analytic: accumulated(dMean, since: dm0).map { $0 / scale }, at: mud
      ) { objective($0, lvd) }
      expectGradient(
        "NLL dLogVariance \(shape)",
        analytic: accumulated(dLogVariance, since: dlv0).map { $0 / scale }, at: lvd
      ) { objective(mud, $0) }
    }
  }

  @Test func knownValue() {
    // mu = t and lv = 0: the loss is ½·lv + 0 = 0, and with the constant ½ log 2π = 0.9189385.
    let t = TestBuffers(seed: 1)
    let mu = t.normal(2, 3)
    let lv = t.zeros(2, 3)
    #expect(
      gaussianNegativeLogLikelihood(
        mean: mu, logVariance: lv, target: mu, dMean: nil, dLogVariance: nil) == 0)
    let full = gaussianNegativeLogLikelihood(
      mean: mu, logVariance: lv, target: mu, dMean: nil, dLogVariance: nil, includeConstant: true)
    #expect(abs(full - 0.918_938_5) < 1e-6)
  }
}
