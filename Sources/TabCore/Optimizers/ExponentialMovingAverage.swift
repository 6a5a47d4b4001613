// An exponential moving average of a model's weights (a shadow copy of the arena's values),
// updated after each optimizer step and swapped in for evaluation and sampling (TabSyn, EDM).

/// A shadow copy of every value in a `ParameterArena`, moved towards the live values by
///   shadow ← decay · shadow + (1 − decay) · value
/// after each step (TabSyn's `update_ema`: `targ.mul_(rate).add_(src, alpha=1 − rate)`).
///
/// It starts equal to the values at creation. The shadow has the arena's layout, padding
/// included, so it can be swapped with the values in one loop and saved by swapping it in and
/// writing a checkpoint. Only the values are averaged: gradients and moments stay the optimizer's.
public final class ExponentialMovingAverage {
  public let arena: ParameterArena
  /// Weight of the old average in each update, in [0, 1) (TabSyn: 0.997).
  public var decay: Float
  private let shadow: UnsafeMutablePointer<Float>

  /// A shadow of `arena`'s current values.
  /// - Precondition: 0 ≤ decay ≤ 1.
  public init(_ arena: ParameterArena, decay: Float) {
    precondition(decay >= 0 && decay <= 1, "ExponentialMovingAverage: decay \(decay)")
    self.arena = arena
    self.decay = decay
    shadow = allocateFloats(arena.count)
    shadow.update(from: arena.values.baseAddress!, count: arena.count)
  }

  deinit {
    shadow.deallocate()
  }

  /// The averaged values, in the arena's layout (`arena.count` floats; tests, checkpoints).
  public var values: UnsafeBufferPointer<Float> {
    UnsafeBufferPointer(start: shadow, count: arena.count)
  }

  /// Moves the average towards the arena's current values; call after each optimizer step.
  public func update() {
    let keep = Vector8(repeating: decay)
    let take = Vector8(repeating: 1 - decay)
    let values = arena.values.baseAddress!
    let shadow = self.shadow
    ParallelFor.run(count: arena.count) { range in
      // This is safe: each range is a disjoint part of both buffers, each `arena.count` long.
      zip8(
        values + range.lowerBound, shadow + range.lowerBound, shadow + range.lowerBound,
        range.count
      ) { value, _, average in
        (keep * average).addingProduct(take, value)
      }
    }
  }

  /// Reference for `update`, one scalar at a time.
  public func updateNaive() {
    let values = arena.values
    for i in 0..<arena.count { shadow[i] = decay * shadow[i] + (1 - decay) * values[i] }
  }

  /// Exchanges the arena's values and the average. Call it once to evaluate with the average,
  /// and again to resume training with the live values.
  public func swap() {
    let values = arena.values.baseAddress!
    for i in 0..<arena.count {
      let value = values[i]
      values[i] = shadow[i]
      shadow[i] = value
    }
  }

  /// Runs `body` with the average in the arena's values, and swaps the live values back
  /// afterwards, also when `body` throws.
  public func withAveragedValues<Result>(_ body: () throws -> Result) rethrows -> Result {
    swap()
    defer { swap() }
    return try body()
  }
}
