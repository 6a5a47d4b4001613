// Lowers the learning rate when a monitored loss stops improving: PyTorch's
// torch.optim.lr_scheduler.ReduceLROnPlateau in mode 'min' with a relative threshold.

/// Multiplies the learning rate by `factor` once the loss has not improved for more than
/// `patience` consecutive epochs.
///
/// An epoch improves when `loss < best · (1 − threshold)` (PyTorch's `threshold_mode='rel'`), and
/// then `best` becomes that loss. After a reduction the count of bad epochs restarts from 0, and
/// for `cooldown` epochs bad epochs are not counted. The rate never goes below
/// `minimumLearningRate`, and a reduction smaller than `epsilon` is skipped, as in PyTorch. A NaN
/// loss never improves. The state is Codable so a trainer can keep it in its checkpoint.
public struct ReduceLROnPlateau: Codable, Equatable, Sendable {
  public var factor: Double
  public var patience: Int
  public var threshold: Double
  public var cooldown: Int
  public var minimumLearningRate: Double
  public var epsilon: Double
  /// The lowest loss seen so far (+∞ before the first epoch).
  public private(set) var best: Double
  /// Consecutive epochs without improvement, not counting cooldown.
  public private(set) var badEpochs: Int
  /// Epochs of cooldown left.
  public private(set) var cooldownLeft: Int

  /// PyTorch's defaults.
  /// - Precondition: 0 < factor < 1, patience ≥ 0, threshold ≥ 0, cooldown ≥ 0.
  public init(
    factor: Double = 0.1, patience: Int = 10, threshold: Double = 1e-4, cooldown: Int = 0,
    minimumLearningRate: Double = 0, epsilon: Double = 1e-8
  ) {
    precondition(factor > 0 && factor < 1, "ReduceLROnPlateau: factor \(factor) not in (0, 1)")
    precondition(patience >= 0 && threshold >= 0 && cooldown >= 0, "ReduceLROnPlateau: settings")
    self.factor = factor
    self.patience = patience
    self.threshold = threshold
    self.cooldown = cooldown
    self.minimumLearningRate = minimumLearningRate
    self.epsilon = epsilon
    best = .infinity
    badEpochs = 0
    cooldownLeft = 0
  }

  /// Records one epoch's `loss` and, when the plateau has lasted too long, lowers
  /// `learningRate` to `max(learningRate · factor, minimumLearningRate)`.
  /// Returns true when it lowered the rate (worth logging).
  @discardableResult
  public mutating func update(loss: Double, learningRate: inout Float) -> Bool {
    // The order of PyTorch's step(): compare, then cooldown, then the patience test.
    if loss < best * (1 - threshold) {
      best = loss
      badEpochs = 0
    } else {
      badEpochs += 1
    }
    if cooldownLeft > 0 {
      cooldownLeft -= 1
      badEpochs = 0
    }
    guard badEpochs > patience else { return false }
    cooldownLeft = cooldown
    badEpochs = 0
    let old = Double(learningRate)
    let new = max(old * factor, minimumLearningRate)
    guard old - new > epsilon else { return false }
    learningRate = Float(new)
    return true
  }
}
