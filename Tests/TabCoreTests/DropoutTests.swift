// Dropout (Layers/Dropout.swift): the training mask is drawn from the generator, applied to the
// forward and to backward; the same seed gives the same mask; evaluation is the identity.

import Testing

@testable import TabCore

@Suite struct DropoutTests {
  @Test(arguments: [(1, 1), (3, 7), (4, 33)])
  func training(rows: Int, cols: Int) {
    let t = TestBuffers(seed: UInt64(rows * 50 + cols))
    let layer = Dropout(probability: 0.3)
    let x = t.normal(rows, cols)
    let y = t.zeros(rows, cols)
    let mask = t.zeros(rows, cols)
    var generator = SeededGenerator(seed: 42)
    layer.forward(x, into: y, saving: mask, using: &generator)

    // The mask is the documented draw: element k dropped when the k-th uniformFloat() < p.
    var replay = SeededGenerator(seed: 42)
    let kept: Float = 1 / 0.7
    let expectedMask = (0..<x.count).map { _ in replay.uniformFloat() < 0.3 ? 0 : kept }
    expectClose("mask", mask.toArray(), expectedMask)
    #expect(mask.toArray().allSatisfy { $0 == 0 || $0 == kept })
    expectClose("y = x ⊙ mask", y.toArray(), zip(x.buffer, expectedMask).map { $0 * $1 })
    // The generator advanced by exactly one draw per element.
    #expect(generator.next() == replay.next())

    // Backward: dx += dy ⊙ mask, through the shared finite-difference check (y is linear in x).
    let dy = t.normal(rows, cols)
    let dx = t.normal(rows, cols)
    let dx0 = dx.toArray()
    layer.backward(dy, mask: mask, dx: dx)
    let dyd = doubles(dy)
    let maskD = doubles(mask)
    expectGradient("Dropout dx", analytic: accumulated(dx, since: dx0), at: doubles(x)) { x in
      (0..<x.count).reduce(0) { $0 + dyd[$1] * x[$1] * maskD[$1] }
    }
  }

  @Test func sameSeedSameMask() {
    let t = TestBuffers(seed: 1)
    let layer = Dropout(probability: 0.5)
    let x = t.normal(8, 16)
    let y = t.zeros(8, 16)
    let first = t.zeros(8, 16)
    let second = t.zeros(8, 16)
    let third = t.zeros(8, 16)
    var a = SeededGenerator(seed: 9)
    var b = SeededGenerator(seed: 9)
    var c = SeededGenerator(seed: 10)
    layer.forward(x, into: y, saving: first, using: &a)
    layer.forward(x, into: y, saving: second, using: &b)
    layer.forward(x, into: y, saving: third, using: &c)
    #expect(first.toArray() == second.toArray())
    #expect(first.toArray() != third.toArray())
    // About half dropped (128 draws; 40 ... 88 covers far more than 99.9% of outcomes).
    let dropped = first.toArray().filter { $0 == 0 }.count
    #expect((40...88).contains(dropped), "dropped \(dropped) of 128")
  }

  @Test func trainingInPlaceAndZeroProbability() {
    let t = TestBuffers(seed: 2)
    let x = t.normal(3, 5)
    let original = x.toArray()
    let mask = t.zeros(3, 5)
    var generator = SeededGenerator(seed: 4)
    Dropout(probability: 0.4).forward(x, into: x, saving: mask, using: &generator)
    expectClose("in place", x.toArray(), zip(original, mask.buffer).map { $0 * $1 })
    // p = 0: all kept, mask 1, nothing drawn.
    let y = t.zeros(3, 5)
    var untouched = SeededGenerator(seed: 4)
    var reference = SeededGenerator(seed: 4)
    Dropout(probability: 0).forward(x, into: y, saving: mask, using: &untouched)
    #expect(mask.toArray().allSatisfy { $0 == 1 })
    #expect(y.toArray() == x.toArray())
    #expect(untouched.next() == reference.next())
  }

  @Test func evaluationIsIdentity() {
    let t = TestBuffers(seed: 3)
    let layer = Dropout(probability: 0.9)
    let x = t.normal(4, 9)
    let y = t.normal(4, 9)
    let original = x.toArray()
    layer.forward(x, into: y)
    #expect(y.toArray() == original)
    layer.forward(x, into: x)
    #expect(x.toArray() == original)
  }
}
