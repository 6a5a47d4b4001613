// The exponential moving average of weights: values worked by hand, the fused update against its
// reference, and swapping in and out.

import Testing

@testable import TabCore

@Suite struct ExponentialMovingAverageTests {
  @Test func valuesByHand() {
    let arena = ParameterArena([ParameterShape("p", rows: 1, cols: 3)])
    let p = arena["p"]
    for (i, v) in [Float(1), -2, 4].enumerated() { p.value.base[i] = v }
    let average = ExponentialMovingAverage(arena, decay: 0.9)
    // Start: the average is the values. Then values 2, 0, 4: average = 0.9·old + 0.1·new.
    for (i, v) in [Float(2), 0, 4].enumerated() { p.value.base[i] = v }
    average.update()
    expectClose("after 1", Array(average.values.prefix(3)), [1.1, -1.8, 4], relative: 1e-6)
    average.update()  // values unchanged: 0.9·1.1 + 0.2 = 1.19, 0.9·(−1.8) = −1.62
    expectClose("after 2", Array(average.values.prefix(3)), [1.19, -1.62, 4], relative: 1e-6)
    // Swapping puts the average in the arena and the live values in the shadow, and back.
    let seen = average.withAveragedValues { p.value.toArray() }
    expectClose("swapped in", seen, [1.19, -1.62, 4], relative: 1e-6)
    #expect(p.value.toArray() == [2, 0, 4])
    average.swap()
    expectClose("swap", p.value.toArray(), [1.19, -1.62, 4], relative: 1e-6)
    #expect(Array(average.values.prefix(3)) == [2, 0, 4])
  }

  @Test func fusedUpdateMatchesReference() {
    // 70 000 values: above ParallelFor's inline threshold, so the update runs in pieces.
    let shapes = [
      ParameterShape("a", rows: 300, cols: 200), ParameterShape("b", rows: 1, cols: 9997),
    ]
    let fast = ParameterArena(shapes)
    let reference = ParameterArena(shapes)
    let t = TestBuffers(seed: 12)
    for parameter in fast.parameters { t.generator.fillNormal(parameter.value) }
    reference.values.baseAddress!.update(from: fast.values.baseAddress!, count: fast.count)
    let a = ExponentialMovingAverage(fast, decay: 0.997)
    let b = ExponentialMovingAverage(reference, decay: 0.997)
    for _ in 0..<3 {
      for parameter in fast.parameters { t.generator.fillNormal(parameter.value) }
      reference.values.baseAddress!.update(from: fast.values.baseAddress!, count: fast.count)
      a.update()
      b.updateNaive()
    }
    expectClose("EMA", Array(a.values), Array(b.values), absolute: 1e-6, relative: 1e-5)
  }
}
