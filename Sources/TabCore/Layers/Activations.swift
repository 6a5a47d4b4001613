// Activation layers: no parameters, forward overwrites y (which may be x), backward accumulates
// into dx. Each is a thin, shape-checking wrapper over its kernel in Kernels/ActivationKernels.swift.

/// `y = max(x, 0)`.
public struct ReLU {
  public init() {}

  /// Overwrites `y` (which may be `x`). Backward needs `x`.
  public func forward(_ x: Matrix, into y: Matrix) {
    precondition(x.rows == y.rows && x.cols == y.cols, "ReLU: shape mismatch")
    reluForward(x.base, into: y.base, count: x.count)
  }

  /// `dx += dy · [x > 0]`.
  public func backward(_ dy: Matrix, input x: Matrix, dx: Matrix) {
    precondition(sameShape(dy, x, dx), "ReLU backward: shape mismatch")
    reluBackward(dy.base, input: x.base, dx: dx.base, count: x.count)
  }
}

/// `y = x` for x > 0, `slope · x` otherwise.
public struct LeakyReLU {
  public let slope: Float

  public init(slope: Float = 0.2) {
    self.slope = slope
  }

  /// Overwrites `y`. Backward needs `x` (not `y`, which loses the sign when slope is 0).
  public func forward(_ x: Matrix, into y: Matrix) {
    precondition(x.rows == y.rows && x.cols == y.cols, "LeakyReLU: shape mismatch")
    leakyReLUForward(x.base, into: y.base, count: x.count, slope: slope)
  }

  /// `dx += dy · (x > 0 ? 1 : slope)`.
  public func backward(_ dy: Matrix, input x: Matrix, dx: Matrix) {
    precondition(sameShape(dy, x, dx), "LeakyReLU backward: shape mismatch")
    leakyReLUBackward(dy.base, input: x.base, dx: dx.base, count: x.count, slope: slope)
  }
}

/// `y = x · σ(x)` (SiLU).
public struct SiLU {
  public init() {}

  /// Overwrites `y`, which must not be `x`: backward needs `x`.
  public func forward(_ x: Matrix, into y: Matrix) {
    precondition(x.rows == y.rows && x.cols == y.cols, "SiLU: shape mismatch")
    siluForward(x.base, into: y.base, count: x.count)
  }

  /// `dx += dy · σ(x)(1 + x(1 − σ(x)))`.
  public func backward(_ dy: Matrix, input x: Matrix, dx: Matrix) {
    precondition(sameShape(dy, x, dx), "SiLU backward: shape mismatch")
    siluBackward(dy.base, input: x.base, dx: dx.base, count: x.count)
  }
}

/// `y = tanh(x)`.
public struct Tanh {
  public init() {}

  /// Overwrites `y` (which may be `x`). Backward needs `y`.
  public func forward(_ x: Matrix, into y: Matrix) {
    precondition(x.rows == y.rows && x.cols == y.cols, "Tanh: shape mismatch")
    tanhForward(x.base, into: y.base, count: x.count)
  }

  /// `dx += dy · (1 − y²)`, from the forward's output `y`.
  public func backward(_ dy: Matrix, output y: Matrix, dx: Matrix) {
    precondition(sameShape(dy, y, dx), "Tanh backward: shape mismatch")
    tanhBackward(dy.base, output: y.base, dx: dx.base, count: y.count)
  }
}

@inline(__always)
func sameShape(_ a: Matrix, _ b: Matrix, _ c: Matrix) -> Bool {
  a.rows == b.rows && a.cols == b.cols && a.rows == c.rows && a.cols == c.cols
}
