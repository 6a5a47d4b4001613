// Layer normalisation over each row's D features, with a learned scale and shift.

/// `y = (x − mean) / sqrt(var + epsilon) · gamma + beta`, statistics per row.
/// Shapes: x, y (B, D); gamma = weight (1, D); beta = bias (1, D).
public struct LayerNorm {
  public let width: Int
  public let epsilon: Float
  /// gamma (1, D), initialised to 1.
  public let weight: Parameter
  /// beta (1, D), initialised to 0.
  public let bias: Parameter

  /// What backward needs beyond `x`: each row's mean and reciprocal standard deviation.
  /// Shapes: mean (1, B), rstd (1, B). Owned by the model's workspace.
  public typealias Saved = NormalizationStatistics

  /// The tensors a `LayerNorm` called `name` needs: `name.weight`, `name.bias`.
  public static func parameterShapes(_ name: String, width: Int) -> [ParameterShape] {
    affineParameterShapes(name, width: width)
  }

  /// The layer over `name.weight` and `name.bias` in `arena`. PyTorch's epsilon is 1e-5.
  public init(_ name: String, in arena: ParameterArena, epsilon: Float = 1e-5) {
    self.init(weight: arena[name + ".weight"], bias: arena[name + ".bias"], epsilon: epsilon)
  }

  /// The layer over the given tensors.
  public init(weight: Parameter, bias: Parameter, epsilon: Float = 1e-5) {
    precondition(weight.value.count == bias.value.count, "LayerNorm: gamma and beta sizes differ")
    self.width = weight.value.count
    self.epsilon = epsilon
    self.weight = weight
    self.bias = bias
  }

  /// gamma = 1, beta = 0 (PyTorch's initialisation).
  public func initialize() {
    weight.value.fill(with: 1)
    bias.value.zero()
  }

  /// Overwrites `y` and `saved`. `y` may be `x` only if backward will not run.
  /// - Precondition: x, y (B, width); saved holds B rows.
  public func forward(_ x: Matrix, into y: Matrix, saving saved: Saved) {
    precondition(
      x.cols == width && y.cols == width && x.rows == y.rows && saved.mean.count == x.rows,
      "LayerNorm \(width): x \(x.rows)x\(x.cols), y \(y.rows)x\(y.cols), saved \(saved.mean.count)")
    layerNormForward(
      x, into: y, gamma: weight.value.base, beta: bias.value.base, mean: saved.mean.base,
      rstd: saved.rstd.base, epsilon: epsilon)
  }

  /// Accumulates into `weight.grad`, `bias.grad` and, unless nil, `dx`.
  public func backward(_ dy: Matrix, input x: Matrix, saved: Saved, dx: Matrix?) {
    precondition(
      x.cols == width && dy.cols == width && dy.rows == x.rows && saved.mean.count == x.rows,
      "LayerNorm \(width) backward: shape mismatch")
    layerNormBackward(
      dy, input: x, gamma: weight.value.base, mean: saved.mean.base, rstd: saved.rstd.base,
      dgamma: weight.grad.base, dbeta: bias.grad.base, dx: dx)
  }
}
