// The seeded random generator behind every random choice in training and sampling: xoshiro256**
// (Blackman and Vigna, 2018) seeded through SplitMix64, plus the distributions the models need.
// Everything here is a pure function of the seed and the sequence of calls, so a seed makes a run
// repeat exactly.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A fast, seeded, reproducible generator: xoshiro256** with 256 bits of state.
///
/// Pass one generator explicitly (`inout`) through a run; never share one between threads.
/// Float and Double draws take the top bits of a 64-bit output; normals come in pairs from the
/// Marsaglia polar method (the second is kept for the next call).
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  // Internal, not private: `next()` is inlinable, so that the models' bulk draws (Gumbel and
  // normal noise, dropout masks) do not pay a cross-module call per 64 bits.
  @usableFromInline var s0, s1, s2, s3: UInt64
  /// The second normal of the last polar pair, if unused.
  private var spareNormal: Double?

  /// A generator whose state is four SplitMix64 outputs from `seed` (SplitMix64 spreads any
  /// seed, 0 included, over the state, which xoshiro needs to be not all zero).
  public init(seed: UInt64) {
    var state = seed
    func splitMix() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitMix()
    s1 = splitMix()
    s2 = splitMix()
    s3 = splitMix()
    spareNormal = nil
  }

  /// The next 64 random bits (xoshiro256**'s output function and state transition).
  @inlinable
  public mutating func next() -> UInt64 {
    let result = rotateLeft(s1 &* 5, by: 7) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotateLeft(s3, by: 45)
    return result
  }

  /// Uniform on [0, 1), in steps of 2⁻²⁴ (every float of that grid equally likely).
  @inlinable
  public mutating func uniformFloat() -> Float {
    Float(next() >> 40) * 0x1p-24
  }

  /// Uniform on [0, 1), in steps of 2⁻⁵³.
  @inlinable
  public mutating func uniformDouble() -> Double {
    Double(next() >> 11) * 0x1p-53
  }

  /// Uniform on `0..<bound`, without bias (Lemire's multiply-and-reject method).
  /// - Precondition: `bound > 0`.
  public mutating func uniformInt(below bound: Int) -> Int {
    precondition(bound > 0, "uniformInt: bound must be positive")
    let n = UInt64(bound)
    var product = next().multipliedFullWidth(by: n)
    if product.low < n {
      // Reject the few low parts that would make some results more likely than others.
      let threshold = (0 &- n) % n
      while product.low < threshold {
        product = next().multipliedFullWidth(by: n)
      }
    }
    return Int(product.high)
  }

  /// A standard normal draw (mean 0, variance 1), in Double.
  public mutating func normalDouble() -> Double {
    if let spare = spareNormal {
      spareNormal = nil
      return spare
    }
    // Marsaglia's polar method: a uniform point in the unit disc gives two independent normals.
    while true {
      let u = 2 * uniformDouble() - 1
      let v = 2 * uniformDouble() - 1
      let s = u * u + v * v
      if s >= 1 || s == 0 { continue }
      let factor = (-2 * log(s) / s).squareRoot()
      spareNormal = v * factor
      return u * factor
    }
  }

  /// A standard normal draw as a Float.
  public mutating func normal() -> Float {
    Float(normalDouble())
  }

  /// Fills `x` with normal draws of the given mean and standard deviation.
  public mutating func fillNormal(_ x: Matrix, mean: Float = 0, standardDeviation: Float = 1) {
    for i in 0..<x.count { x.base[i] = mean + standardDeviation * normal() }
  }

  /// Fills `x` with uniform draws on `[lower, upper)`.
  public mutating func fillUniform(_ x: Matrix, lower: Float, upper: Float) {
    for i in 0..<x.count { x.base[i] = lower + (upper - lower) * uniformFloat() }
  }

  /// An index drawn with probability proportional to `weights[i]` (which need not sum to 1).
  /// - Precondition: `count > 0`, weights are ≥ 0 and not all 0.
  public mutating func categorical(_ weights: UnsafePointer<Float>, count: Int) -> Int {
    precondition(count > 0, "categorical: no categories")
    var total = 0.0
    for i in 0..<count {
      precondition(weights[i] >= 0, "categorical: negative weight at \(i)")
      total += Double(weights[i])
    }
    precondition(total > 0, "categorical: all weights are 0")
    let target = uniformDouble() * total
    var cumulative = 0.0
    var last = 0
    for i in 0..<count where weights[i] > 0 {
      cumulative += Double(weights[i])
      if target < cumulative { return i }
      last = i
    }
    // Rounding left target at the very top: the last category with weight wins.
    return last
  }

  /// An index drawn from `probabilities` (any array of non-negative weights).
  public mutating func categorical(_ probabilities: [Float]) -> Int {
    probabilities.withUnsafeBufferPointer { categorical($0.baseAddress!, count: $0.count) }
  }

  /// Shuffles `elements` in place (Fisher–Yates: each of the n! orders equally likely). Unlike
  /// the standard library's `shuffle(using:)`, whose algorithm may change between Swift releases,
  /// the result depends only on the generator's state.
  public mutating func shuffle<T>(_ elements: inout [T]) {
    var i = elements.count - 1
    while i > 0 {
      let j = uniformInt(below: i + 1)
      elements.swapAt(i, j)
      i -= 1
    }
  }

  /// A random permutation of `0..<count` (minibatch order).
  public mutating func permutation(_ count: Int) -> [Int] {
    var order = Array(0..<count)
    shuffle(&order)
    return order
  }
}

@inlinable @inline(__always)
func rotateLeft(_ x: UInt64, by k: UInt64) -> UInt64 {
  (x << k) | (x >> (64 - k))
}
