// Batch normalisation over the rows of a batch (PyTorch's BatchNorm1d on (B, C) input), with a
// learned scale and shift and running statistics for evaluation.

/// `y = (x − mean) / sqrt(var + epsilon) · gamma + beta`, statistics per column.
/// Shapes: x, y (B, C); gamma = weight (1, C); beta = bias (1, C); running statistics (1, C).
///
/// In training (`forward(_:into:saving:)`) mean and var are the batch's (biased variance), and the
/// running statistics move towards them with `momentum` (PyTorch's update, which uses the
/// unbiased variance). In evaluation (`evaluate(_:into:)`) the running statistics are used.
///
/// The running statistics are state, not trainable parameters: they live in a second arena, the
/// model's buffers (`bufferShapes`), which the optimizer never sees (weight decay must not shrink
/// them) and which a checkpoint saves beside the parameters (`Checkpoint.write`).
public struct BatchNorm {
  public let width: Int
  public let epsilon: Float
  /// Weight of the new batch in the running statistics (PyTorch's default 0.1).
  public let momentum: Float
  /// gamma (1, C), initialised to 1.
  public let weight: Parameter
  /// beta (1, C), initialised to 0.
  public let bias: Parameter
  /// Running mean (1, C), initialised to 0; a view into the model's buffer arena.
  public let runningMean: Matrix
  /// Running (unbiased) variance (1, C), initialised to 1; a view into the buffer arena.
  public let runningVariance: Matrix

  /// What backward needs beyond `x`: each column's batch mean and reciprocal standard deviation.
  /// Shapes: mean (1, C), rstd (1, C). Owned by the model's workspace.
  public typealias Saved = NormalizationStatistics

  /// The trainable tensors a `BatchNorm` called `name` needs: `name.weight`, `name.bias`.
  public static func parameterShapes(_ name: String, width: Int) -> [ParameterShape] {
    affineParameterShapes(name, width: width)
  }

  /// The state tensors, for the model's buffer arena: `name.runningMean`, `name.runningVariance`.
  public static func bufferShapes(_ name: String, width: Int) -> [ParameterShape] {
    [
      ParameterShape(name + ".runningMean", rows: 1, cols: width),
      ParameterShape(name + ".runningVariance", rows: 1, cols: width),
    ]
  }

  /// The layer over `name.weight`, `name.bias` in `arena` and the running statistics in
  /// `buffers` (their values). PyTorch's defaults: epsilon 1e-5, momentum 0.1.
  public init(
    _ name: String, in arena: ParameterArena, buffers: ParameterArena, epsilon: Float = 1e-5,
    momentum: Float = 0.1
  ) {
    self.init(
      weight: arena[name + ".weight"], bias: arena[name + ".bias"],
      runningMean: buffers[name + ".runningMean"].value,
      runningVariance: buffers[name + ".runningVariance"].value, epsilon: epsilon,
      momentum: momentum)
  }

  /// The layer over the given tensors.
  /// - Precondition: all four hold the same number of elements; momentum in [0, 1].
  public init(
    weight: Parameter, bias: Parameter, runningMean: Matrix, runningVariance: Matrix,
    epsilon: Float = 1e-5, momentum: Float = 0.1
  ) {
    let width = weight.value.count
    precondition(
      bias.value.count == width && runningMean.count == width && runningVariance.count == width,
      "BatchNorm: gamma, beta and running statistics sizes differ")
    precondition(momentum >= 0 && momentum <= 1, "BatchNorm: momentum \(momentum)")
    self.width = width
    self.epsilon = epsilon
    self.momentum = momentum
    self.weight = weight
    self.bias = bias
    self.runningMean = runningMean
    self.runningVariance = runningVariance
  }

  /// gamma = 1, beta = 0, running mean 0, running variance 1 (PyTorch's initialisation).
  public func initialize() {
    weight.value.fill(with: 1)
    bias.value.zero()
    runningMean.zero()
    runningVariance.fill(with: 1)
  }

  /// Training mode: overwrites `y` and `saved` and updates the running statistics. `y` may be
  /// `x` only if backward will not run.
  /// - Precondition: x, y (B, width) with B ≥ 2; saved holds `width` columns.
  public func forward(_ x: Matrix, into y: Matrix, saving saved: Saved) {
    precondition(
      x.cols == width && y.cols == width && x.rows == y.rows && saved.mean.count == width,
      "BatchNorm \(width): x \(x.rows)x\(x.cols), y \(y.rows)x\(y.cols), saved \(saved.mean.count)")
    batchNormForward(
      x, into: y, gamma: weight.value.base, beta: bias.value.base, mean: saved.mean.base,
      rstd: saved.rstd.base, runningMean: runningMean.base, runningVariance: runningVariance.base,
      momentum: momentum, epsilon: epsilon)
  }

  /// Evaluation mode: overwrites `y` (which may be `x`) from the running statistics; writes
  /// nothing else. Any batch size, 1 included.
  /// - Precondition: x, y (B, width).
  public func evaluate(_ x: Matrix, into y: Matrix) {
    precondition(
      x.cols == width && y.cols == width && x.rows == y.rows,
      "BatchNorm \(width) evaluate: x \(x.rows)x\(x.cols), y \(y.rows)x\(y.cols)")
    batchNormEvaluate(
      x, into: y, gamma: weight.value.base, beta: bias.value.base, runningMean: runningMean.base,
      runningVariance: runningVariance.base, epsilon: epsilon)
  }

  /// Backward of the training-mode forward: accumulates into `weight.grad`, `bias.grad` and,
  /// unless nil, `dx`.
  /// - Precondition: dy, x, dx (B, width); saved from the forward of this `x`.
  public func backward(_ dy: Matrix, input x: Matrix, saved: Saved, dx: Matrix?) {
    precondition(
      x.cols == width && dy.cols == width && dy.rows == x.rows && saved.mean.count == width,
      "BatchNorm \(width) backward: shape mismatch")
    batchNormBackward(
      dy, input: x, gamma: weight.value.base, mean: saved.mean.base, rstd: saved.rstd.base,
      dgamma: weight.grad.base, dbeta: bias.grad.base, dx: dx)
  }
}
