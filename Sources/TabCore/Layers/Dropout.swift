// Inverted dropout: in training, each element is kept with probability 1 − p and scaled by
// 1/(1 − p), so the expected output equals the input and evaluation is the identity.

/// Dropout with probability `probability` (p).
///
/// Shapes: x, y, mask, dy, dx all (B, W). In training, `mask` holds 1/(1 − p) where an element is
/// kept and 0 where it is dropped; y = x ⊙ mask, and backward is dx += dy ⊙ mask.
public struct Dropout {
  /// p, the probability that an element is zeroed in training.
  public let probability: Float

  /// - Precondition: `0 ≤ probability < 1`.
  public init(probability: Float) {
    precondition(
      probability >= 0 && probability < 1, "Dropout: probability \(probability) not in [0, 1)")
    self.probability = probability
  }

  /// Training: draws `mask` from `generator` and overwrites `y` with `x ⊙ mask`. `y` may be `x`.
  /// Element k (row-major) is dropped when the k-th `uniformFloat()` draw is below p, so the same
  /// generator state gives the same mask. With p = 0 nothing is drawn and the mask is all 1.
  /// - Precondition: x, y, mask of one shape.
  public func forward(
    _ x: Matrix, into y: Matrix, saving mask: Matrix, using generator: inout SeededGenerator
  ) {
    precondition(sameShape(x, y, mask), "Dropout: shape mismatch")
    if probability == 0 {
      mask.fill(with: 1)
    } else {
      let kept = 1 / (1 - probability)
      for k in 0..<mask.count {
        mask.base[k] = generator.uniformFloat() < probability ? 0 : kept
      }
    }
    zip8(x.base, mask.base, y.base, x.count) { x, mask, _ in x * mask }  // y = x ⊙ mask
  }

  /// Evaluation: the identity, `y = x` (nothing is copied when `y` is `x`).
  /// - Precondition: x, y of one shape.
  public func forward(_ x: Matrix, into y: Matrix) {
    precondition(x.rows == y.rows && x.cols == y.cols, "Dropout: shape mismatch")
    if x.base != y.base { y.copy(from: x) }
  }

  /// After a training forward: `dx += dy ⊙ mask`. (After an evaluation forward the layer is the
  /// identity; a caller differentiating it adds dy to dx itself.)
  /// - Precondition: dy, mask, dx of one shape.
  public func backward(_ dy: Matrix, mask: Matrix, dx: Matrix) {
    precondition(sameShape(dy, mask, dx), "Dropout backward: shape mismatch")
    zip8(dy.base, mask.base, dx.base, dx.count) { dy, mask, dx in dx.addingProduct(dy, mask) }
  }
}
