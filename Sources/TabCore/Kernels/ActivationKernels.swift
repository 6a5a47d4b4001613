// Activation kernels, forward and backward, with their scalar references. Forward writes y
// (which may be x itself); backward accumulates into dx (+=) and reads the forward's input x,
// except tanh's, which reads the output y (tanh' = 1 − y²).

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: ReLU

/// `y = max(x, 0)`.
public func reluForward(
  _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
) {
  let zero = Vector8()
  map8(x, y, count) { $0.replacing(with: zero, where: $0 .< zero) }
}

/// `dx += dy · [x > 0]`.
public func reluBackward(
  _ dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
  count: Int
) {
  let zero = Vector8()
  zip8(dy, x, dx, count) { dy, x, dx in dx + dy.replacing(with: zero, where: x .<= zero) }
}

/// Reference for `reluForward`.
public func reluForwardNaive(
  _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
) {
  for i in 0..<count { y[i] = x[i] > 0 ? x[i] : 0 }
}

/// Reference for `reluBackward`.
public func reluBackwardNaive(
  _ dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
  count: Int
) {
  for i in 0..<count where x[i] > 0 { dx[i] += dy[i] }
}

// MARK: LeakyReLU

/// `y = x` where `x > 0`, else `slope · x` (CTGAN's critic uses slope 0.2).
public func leakyReLUForward(
  _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, slope: Float
) {
  let zero = Vector8(), a = Vector8(repeating: slope)
  map8(x, y, count) { x in x.replacing(with: a * x, where: x .<= zero) }
}

/// `dx += dy · (x > 0 ? 1 : slope)`.
public func leakyReLUBackward(
  _ dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
  count: Int, slope: Float
) {
  let zero = Vector8(), a = Vector8(repeating: slope)
  zip8(dy, x, dx, count) { dy, x, dx in dx + dy.replacing(with: a * dy, where: x .<= zero) }
}

/// Reference for `leakyReLUForward`.
public func leakyReLUForwardNaive(
  _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, slope: Float
) {
  for i in 0..<count { y[i] = x[i] > 0 ? x[i] : slope * x[i] }
}

/// Reference for `leakyReLUBackward`.
public func leakyReLUBackwardNaive(
  _ dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
  count: Int, slope: Float
) {
  for i in 0..<count { dx[i] += x[i] > 0 ? dy[i] : slope * dy[i] }
}

// MARK: SiLU

/// `y = x · σ(x)`, σ(x) = 1 / (1 + e^−x) (SiLU, also called swish).
public func siluForward(
  _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
) {
  let one = Vector8(repeating: 1)
  map8(x, y, count) { x in x / (one + exp8(-x)) }
}

/// `dx += dy · σ(x) · (1 + x · (1 − σ(x)))`, the derivative of x·σ(x) (σ' = σ(1 − σ)).
public func siluBackward(
  _ dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
  count: Int
) {
  let one = Vector8(repeating: 1)
  zip8(dy, x, dx, count) { dy, x, dx in
    let sigma = one / (one + exp8(-x))
    return dx.addingProduct(dy * sigma, one.addingProduct(x, one - sigma))
  }
}

/// Reference for `siluForward`.
public func siluForwardNaive(
  _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
) {
  for i in 0..<count { y[i] = x[i] / (1 + expf(-x[i])) }
}

/// Reference for `siluBackward`.
public func siluBackwardNaive(
  _ dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
  count: Int
) {
  for i in 0..<count {
    let sigma = 1 / (1 + expf(-x[i]))
    dx[i] += dy[i] * sigma * (1 + x[i] * (1 - sigma))
  }
}

// MARK: Tanh

/// `y = tanh(x)`, computed as 1 − 2 / (e^2x + 1): within about 2e-7 of the C library's tanhf in
/// absolute terms (relative accuracy is lower near 0, where the subtraction cancels).
public func tanhForward(
  _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
) {
  let one = Vector8(repeating: 1), two = Vector8(repeating: 2)
  map8(x, y, count) { x in one - two / (exp8(two * x) + one) }
}

/// `dx += dy · (1 − y²)`, where `y` is the forward's output.
public func tanhBackward(
  _ dy: UnsafePointer<Float>, output y: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
  count: Int
) {
  let one = Vector8(repeating: 1)
  zip8(dy, y, dx, count) { dy, y, dx in dx.addingProduct(dy, one - y * y) }
}

/// Reference for `tanhForward`.
public func tanhForwardNaive(
  _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
) {
  for i in 0..<count { y[i] = tanhf(x[i]) }
}

/// Reference for `tanhBackward`.
public func tanhBackwardNaive(
  _ dy: UnsafePointer<Float>, output y: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
  count: Int
) {
  for i in 0..<count { dx[i] += dy[i] * (1 - y[i] * y[i]) }
}
