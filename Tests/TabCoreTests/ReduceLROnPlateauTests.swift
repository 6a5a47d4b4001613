// ReduceLROnPlateau on scripted loss sequences, against PyTorch's rules worked by hand.

import Testing

@testable import TabCore

@Suite struct ReduceLROnPlateauTests {
  @Test func patienceAndFactor() {
    // patience 2, factor 0.5: the rate halves on the 3rd bad epoch in a row.
    var scheduler = ReduceLROnPlateau(factor: 0.5, patience: 2)
    var rate: Float = 0.1
    let losses: [Double] = [1.0, 0.9, 0.95, 0.9, 0.91, 0.8, 0.8, 0.8, 0.8]
    // epoch:            1    2    3     4    5     6    7    8    9
    // bad epochs:       0    0    1     2    3→cut 0    1    2    3→cut
    // (0.9 at epoch 4 equals best, which is not an improvement.)
    var rates: [Float] = []
    var cuts: [Bool] = []
    for loss in losses {
      cuts.append(scheduler.update(loss: loss, learningRate: &rate))
      rates.append(rate)
    }
    #expect(cuts == [false, false, false, false, true, false, false, false, true])
    #expect(rates == [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025])
    #expect(scheduler.best == 0.8)
  }

  @Test func relativeThreshold() {
    // threshold 1e-4 relative: from best 1.0, 0.99995 is not an improvement (needs < 0.9999),
    // 0.99985 is. patience 0: every bad epoch cuts.
    var scheduler = ReduceLROnPlateau(factor: 0.1, patience: 0)
    var rate: Float = 1
    #expect(!scheduler.update(loss: 1.0, learningRate: &rate))
    #expect(scheduler.update(loss: 0.99995, learningRate: &rate))
    #expect(rate == Float(0.1))
    #expect(scheduler.best == 1.0)
    #expect(!scheduler.update(loss: 0.99985, learningRate: &rate))
    #expect(scheduler.best == 0.99985)
    #expect(scheduler.update(loss: .nan, learningRate: &rate))  // NaN never improves
  }

  @Test func cooldownAndMinimum() {
    // patience 0, cooldown 2, minimum 0.03: a cut, two epochs of cooldown in which bad epochs
    // do not count, then a cut to the minimum, then none (smaller than epsilon).
    var scheduler = ReduceLROnPlateau(
      factor: 0.5, patience: 0, cooldown: 2, minimumLearningRate: 0.03)
    var rate: Float = 0.1
    let script: [(Double, Bool, Float)] = [
      (1.0, false, 0.1),  // first epoch: best = 1
      (2.0, true, 0.05),  // bad: cut, cooldown 2
      (2.0, false, 0.05),  // cooldown 2 → 1
      (2.0, false, 0.05),  // cooldown 1 → 0
      (2.0, true, 0.03),  // bad: 0.025 clamped to the minimum
      (2.0, false, 0.03),  // cooldown
      (2.0, false, 0.03),  // cooldown
      (2.0, false, 0.03),  // bad, but 0.03 − 0.03 ≤ epsilon: no change
    ]
    for (epoch, (loss, cut, expected)) in script.enumerated() {
      let didCut = scheduler.update(loss: loss, learningRate: &rate)
      #expect(didCut == cut, "epoch \(epoch + 1)")
      #expect(abs(rate - expected) < 1e-9, "epoch \(epoch + 1): rate \(rate), expected \(expected)")
    }
  }
}
