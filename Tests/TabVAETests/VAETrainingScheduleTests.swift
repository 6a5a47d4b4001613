// The learning-rate annealing of the last epochs (VAETrainingOptions.annealFactor).

import Testing

@testable import TabVAE

@Test func annealingIsOffByDefaultAndConstantBeforeItsPhase() {
  var options = VAETrainingOptions()
  options.epochs = 10
  #expect((0..<10).allSatisfy { options.annealFactor(epoch: $0) == 1 })
  options.annealFraction = 0.4  // the last 4 epochs: 6, 7, 8, 9
  #expect((0..<6).allSatisfy { options.annealFactor(epoch: $0) == 1 })
  let phase = (6..<10).map { options.annealFactor(epoch: $0) }
  #expect(zip(phase, phase.dropFirst()).allSatisfy { $0 > $1 })  // strictly falling
  #expect(phase[0] < 1)
  #expect(abs(Double(phase[3]) - options.annealFloor) < 1e-6)  // the last epoch at the floor
  // Half-way through the phase (t = 1/2) the factor is the mean of 1 and the floor.
  #expect(abs(Double(phase[1]) - (1 + options.annealFloor) / 2) < 1e-6)
}

@Test func annealingOverTheWholeRun() {
  var options = VAETrainingOptions()
  options.epochs = 4
  options.annealFraction = 1
  options.annealFloor = 0
  let factors = (0..<4).map { options.annealFactor(epoch: $0) }
  // t = 1/4, 2/4, 3/4, 1: ½(1 + cos πt)
  let expected: [Float] = [0.853_553_4, 0.5, 0.146_446_6, 0]
  #expect(zip(factors, expected).allSatisfy { abs($0 - $1) < 1e-6 })
}
