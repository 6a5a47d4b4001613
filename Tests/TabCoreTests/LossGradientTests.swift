// Every loss's value and gradient against a Double re-implementation and central differences
// (GradientCheck.swift). Gradients are pre-filled to prove accumulation, and a `scale` other than
// 1 is used to prove it multiplies the gradient but not the returned loss.

import Foundation
import Testing

@testable import TabCore

@Suite struct LossGradientTests {
  @Test func meanSquaredErrorGradient() {
    for (index, shape) in checkShapes.enumerated() {
      let t = TestBuffers(seed: 200 + UInt64(index))
      let p = t.normal(shape.rows, shape.cols), target = t.normal(shape.rows, shape.cols)
      let gradient = t.normal(shape.rows, shape.cols)
      let g0 = gradient.toArray()
      let scale: Float = 1.7
      let loss = meanSquaredError(p, target: target, gradient: gradient, scale: scale)
      let td = doubles(target)
      func objective(_ p: [Double]) -> Double {
        zip(p, td).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(p.count)
      }
      let pd = doubles(p)
      #expect(abs(Double(loss) - objective(pd)) <= 1e-6 * max(1, objective(pd)), "MSE \(shape)")
      let analytic = accumulated(gradient, since: g0).map { $0 / scale }
      expectGradient("MSE \(shape)", analytic: analytic, at: pd, objective)
    }
  }

  @Test(arguments: [1, 3, 4])
  func crossEntropyOverSpans(rows: Int) {
    // Ten logits per row: three categorical columns (widths 3, 1, 5) and column 4, a numeric
    // column in no span, whose gradient must stay exactly as it was.
    let spans = [0..<3, 3..<4, 5..<10]
    let t = TestBuffers(seed: 300 + UInt64(rows))
    let logits = t.normal(rows, 10, scale: 2)
    let gradient = t.normal(rows, 10)
    let g0 = gradient.toArray()
    var targets: [Int32] = []
    for _ in 0..<rows {
      for span in spans { targets.append(Int32(t.generator.uniformInt(below: span.count))) }
    }
    let scale: Float = 0.5
    let loss = targets.withUnsafeBufferPointer {
      crossEntropy(
        logits: logits, spans: spans, targets: $0.baseAddress!, gradient: gradient, scale: scale)
    }
    func objective(_ z: [Double]) -> Double {
      var total = 0.0
      for i in 0..<rows {
        for (s, span) in spans.enumerated() {
          let values = span.map { z[i * 10 + $0] }
          let largest = values.max()!
          let logSum = largest + Foundation.log(values.reduce(0) { $0 + Foundation.exp($1 - largest) })
          total += logSum - z[i * 10 + span.lowerBound + Int(targets[i * spans.count + s])]
        }
      }
      return total / Double(rows * spans.count)
    }
    let zd = doubles(logits)
    #expect(abs(Double(loss) - objective(zd)) <= 1e-6 * max(1, objective(zd)), "CE value")
    let analytic = accumulated(gradient, since: g0).map { $0 / scale }
    expectGradient("cross-entropy rows \(rows)", analytic: analytic, at: zd, objective)
    for i in 0..<rows {
      #expect(gradient[i, 4] == g0[i * 10 + 4], "column outside the spans was written")
    }
  }

  @Test func crossEntropyOfExtremeLogitsIsFinite() {
    // Logits far beyond exp's range: the max-subtraction keeps loss and gradient finite.
    let t = TestBuffers(seed: 5)
    let logits = t.zeros(1, 3), gradient = t.zeros(1, 3)
    logits[0, 0] = 1000
    logits[0, 1] = -1000
    logits[0, 2] = 999
    let target: [Int32] = [2]
    let loss = target.withUnsafeBufferPointer {
      crossEntropy(logits: logits, spans: [0..<3], targets: $0.baseAddress!, gradient: gradient)
    }
    #expect(abs(loss - 1.3132617) < 1e-5)  // 1000 + log(1 + e⁻¹) − 999
    #expect(gradient.toArray().allSatisfy { $0.isFinite })
  }

  @Test func gaussianKLGradient() {
    for (index, shape) in checkShapes.enumerated() {
      let t = TestBuffers(seed: 400 + UInt64(index))
      let mu = t.normal(shape.rows, shape.cols), logVariance = t.normal(shape.rows, shape.cols)
      let dMean = t.normal(shape.rows, shape.cols), dLogVariance = t.normal(shape.rows, shape.cols)
      let dm0 = dMean.toArray(), dl0 = dLogVariance.toArray()
      let scale: Float = 2
      let loss = gaussianKL(
        mean: mu, logVariance: logVariance, dMean: dMean, dLogVariance: dLogVariance, scale: scale)
      func objective(_ mu: [Double], _ lv: [Double]) -> Double {
        var total = 0.0
        for i in 0..<mu.count { total += -0.5 * (1 + lv[i] - mu[i] * mu[i] - Foundation.exp(lv[i])) }
        return total / Double(mu.count)
      }
      let md = doubles(mu), ld = doubles(logVariance)
      #expect(abs(Double(loss) - objective(md, ld)) <= 1e-6 * max(1, objective(md, ld)))
      expectGradient(
        "KL dmu \(shape)", analytic: accumulated(dMean, since: dm0).map { $0 / scale }, at: md
      ) { objective($0, ld) }
      expectGradient(
        "KL dlogvar \(shape)", analytic: accumulated(dLogVariance, since: dl0).map { $0 / scale },
        at: ld
      ) { objective(md, $0) }
    }
  }

  @Test func gradientCheckCatchesAWrongGradient() {
    // The helper must be able to fail: a gradient 1% off is reported.
    let point = [0.3, -1.2, 2.0]
    let wrong = point.map { Float(2 * $0 * 1.01) }
    withKnownIssue {
      expectGradient("deliberately wrong", analytic: wrong, at: point) { x in
        x.reduce(0) { $0 + $1 * $1 }
      }
    }
    expectGradient("right", analytic: point.map { Float(2 * $0) }, at: point) { x in
      x.reduce(0) { $0 + $1 * $1 }
    }
  }
}
