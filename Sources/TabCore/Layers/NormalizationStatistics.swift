// What LayerNorm and BatchNorm share: the statistics their backward passes need, and the shapes
// of their affine parameters.

/// A mean and a reciprocal standard deviation per normalised group, saved by forward for
/// backward: per row for `LayerNorm` (1, B), per column for `BatchNorm` (1, C). Owned by the
/// model's workspace.
public struct NormalizationStatistics {
  public let mean: Matrix
  public let rstd: Matrix

  public init(mean: Matrix, rstd: Matrix) {
    precondition(mean.count == rstd.count, "NormalizationStatistics: mean and rstd sizes differ")
    self.mean = mean
    self.rstd = rstd
  }

  /// Buffers for `count` groups, allocated in `workspace`.
  public init(count: Int, in workspace: Workspace) {
    self.init(mean: workspace.vector(count: count), rstd: workspace.vector(count: count))
  }

  /// For `LayerNorm`: one group per row.
  public init(rows: Int, in workspace: Workspace) { self.init(count: rows, in: workspace) }

  /// For `BatchNorm`: one group per column.
  public init(width: Int, in workspace: Workspace) { self.init(count: width, in: workspace) }
}

/// The affine tensors of a normalisation layer called `name`: `name.weight` (gamma) and
/// `name.bias` (beta), each (1, width).
func affineParameterShapes(_ name: String, width: Int) -> [ParameterShape] {
  [
    ParameterShape(name + ".weight", rows: 1, cols: width),
    ParameterShape(name + ".bias", rows: 1, cols: width),
  ]
}
