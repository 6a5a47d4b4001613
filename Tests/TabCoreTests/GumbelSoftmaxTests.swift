// Gumbel-softmax: forward against its definition with fixed noise, backward against central
// differences with that noise held fixed, and the noise draw (finite, seeded, spans only).

import Foundation
import Testing

@testable import TabCore

@Suite struct GumbelSoftmaxTests {
  // Eleven columns: spans of widths 3, 1 and 5, and columns 3 and 10 in no span.
  private let spans = [0..<3, 4..<5, 5..<10]

  @Test(arguments: [1, 3])
  func gradientWithFixedNoise(rows: Int) {
    let t = TestBuffers(seed: 900 + UInt64(rows))
    let layer = GumbelSoftmax(spans: spans, temperature: 0.5)
    let x = t.normal(rows, 11)
    let noise = t.zeros(rows, 11)
    let w = t.normal(rows, 11)
    layer.drawNoise(into: noise, using: &t.generator)
    let y = t.normal(rows, 11)
    let dx = t.normal(rows, 11)
    let y0 = y.toArray()
    let dx0 = dx.toArray()
    layer.forward(x, noise: noise, into: y)
    layer.backward(w, output: y, dx: dx)

    let gd = doubles(noise)
    let wd = doubles(w)
    func sample(_ x: [Double]) -> [Double] {
      var y = [Double](repeating: 0, count: x.count)
      for i in 0..<rows {
        for span in spans {
          let z = span.map { (x[i * 11 + $0] + gd[i * 11 + $0]) / 0.5 }
          let largest = z.max()!
          let e = z.map { Foundation.exp($0 - largest) }
          let sum = e.reduce(0, +)
          for (k, j) in span.enumerated() { y[i * 11 + j] = e[k] / sum }
        }
      }
      return y
    }
    let xd = doubles(x)
    let expected = sample(xd)
    var expectedY = expected.map { Float($0) }
    for i in 0..<rows { for j in [3, 10] { expectedY[i * 11 + j] = y0[i * 11 + j] } }
    expectClose("Gumbel forward", y.toArray(), expectedY, absolute: 1e-6, relative: 1e-5)
    // Only span columns enter the objective: L = Σ_spans w ⊙ y.
    let inSpan = Set(spans.flatMap { $0 })
    expectGradient("Gumbel dx", analytic: accumulated(dx, since: dx0), at: xd) { x in
      let y = sample(x)
      return (0..<y.count).reduce(0) { inSpan.contains($1 % 11) ? $0 + wd[$1] * y[$1] : $0 }
    }
    // Columns outside every span: the gradient is untouched.
    for i in 0..<rows {
      #expect(dx[i, 3] == dx0[i * 11 + 3] && dx[i, 10] == dx0[i * 11 + 10])
    }
  }

  @Test func noiseIsSeededFiniteAndOnlyInSpans() {
    let layer = GumbelSoftmax(spans: spans, temperature: 0.2)
    let t = TestBuffers(seed: 5)
    let a = t.zeros(400, 11)
    let b = t.zeros(400, 11)
    var g1 = SeededGenerator(seed: 42)
    var g2 = SeededGenerator(seed: 42)
    layer.drawNoise(into: a, using: &g1)
    layer.drawNoise(into: b, using: &g2)
    #expect(a.toArray() == b.toArray())
    let values = (0..<400).flatMap { i in spans.flatMap { $0 }.map { a[i, $0] } }
    #expect(values.allSatisfy { $0.isFinite })
    #expect((0..<400).allSatisfy { a[$0, 3] == 0 && a[$0, 10] == 0 })
    // The standard Gumbel distribution has mean γ ≈ 0.5772 and variance π²/6 ≈ 1.645; 3600
    // draws put the sample mean within ±0.07 (3.3 standard errors).
    let mean = values.reduce(0) { $0 + Double($1) } / Double(values.count)
    #expect(abs(mean - 0.5772) < 0.07, "Gumbel mean \(mean)")
    // A whole forward with drawn noise gives rows of each span summing to 1.
    let x = t.normal(4, 11)
    let noise = t.zeros(4, 11)
    let y = t.zeros(4, 11)
    var g = SeededGenerator(seed: 3)
    layer.forward(x, into: y, noise: noise, using: &g)
    for i in 0..<4 {
      for span in spans {
        let sum = span.reduce(Float(0)) { $0 + y[i, $1] }
        #expect(abs(sum - 1) < 1e-5)
      }
    }
  }
}
