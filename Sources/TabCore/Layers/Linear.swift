// Fully connected layer: y = x · Wᵀ + b, forward and backward through gemm.

/// Fully connected layer, row by row: `y = x · Wᵀ + b`.
/// Shapes: x (B, inputs), W (outputs, inputs), b (1, outputs), y (B, outputs).
public struct Linear {
  public let inputs: Int
  public let outputs: Int
  /// W (outputs, inputs), PyTorch's layout, so checkpoints map one to one.
  public let weight: Parameter
  /// b (1, outputs), or nil for a layer without bias.
  public let bias: Parameter?

  /// The tensors a `Linear` called `name` needs: `name.weight` and, if `bias`, `name.bias`.
  public static func parameterShapes(
    _ name: String, inputs: Int, outputs: Int, bias: Bool = true
  ) -> [ParameterShape] {
    [ParameterShape(name + ".weight", rows: outputs, cols: inputs)]
      + (bias ? [ParameterShape(name + ".bias", rows: 1, cols: outputs)] : [])
  }

  /// The layer over `name.weight` (and `name.bias`) in `arena`.
  public init(_ name: String, in arena: ParameterArena, bias: Bool = true) {
    self.init(weight: arena[name + ".weight"], bias: bias ? arena[name + ".bias"] : nil)
  }

  /// The layer over the given tensors.
  /// - Precondition: `bias`, if any, has `weight.value.rows` elements.
  public init(weight: Parameter, bias: Parameter?) {
    if let bias { precondition(bias.value.count == weight.value.rows, "Linear: bias size") }
    self.inputs = weight.value.cols
    self.outputs = weight.value.rows
    self.weight = weight
    self.bias = bias
  }

  /// PyTorch's default initialisation: W and b uniform on ±1/√inputs.
  public func initialize(using generator: inout SeededGenerator) {
    let bound = 1 / Float(max(inputs, 1)).squareRoot()
    generator.fillUniform(weight.value, lower: -bound, upper: bound)
    if let bias { generator.fillUniform(bias.value, lower: -bound, upper: bound) }
  }

  /// Overwrites `y` with `x · Wᵀ + b`. Backward needs only `x`, which the caller keeps.
  /// - Precondition: x (B, inputs), y (B, outputs).
  public func forward(_ x: Matrix, into y: Matrix) {
    precondition(
      x.cols == inputs && y.cols == outputs && x.rows == y.rows,
      "Linear \(inputs)->\(outputs): x \(x.rows)x\(x.cols), y \(y.rows)x\(y.cols)")
    if let bias {
      y.setRows(to: bias.value)  // y = b
      gemm(x, weight.value, transposeB: true, into: y, beta: 1)  // y += x · Wᵀ
    } else {
      gemm(x, weight.value, transposeB: true, into: y)  // y = x · Wᵀ
    }
  }

  /// Accumulates into `weight.grad`, `bias.grad` and, unless nil, `dx`.
  /// - Precondition: dy (B, outputs), x and dx (B, inputs).
  public func backward(_ dy: Matrix, input x: Matrix, dx: Matrix?) {
    precondition(
      dy.cols == outputs && x.cols == inputs && dy.rows == x.rows,
      "Linear \(inputs)->\(outputs) backward: dy \(dy.rows)x\(dy.cols), x \(x.rows)x\(x.cols)")
    gemm(dy, x, transposeA: true, into: weight.grad, beta: 1)  // dW += dyᵀ · x
    if let bias { dy.addColumnSums(into: bias.grad) }  // db += Σ_rows dy
    if let dx {
      precondition(dx.rows == x.rows && dx.cols == inputs, "Linear backward: dx shape")
      gemm(dy, weight.value, into: dx, beta: 1)  // dx += dy · W
    }
  }
}
