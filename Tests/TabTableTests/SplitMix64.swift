// The seeded generator every randomised test in this target uses, so runs repeat exactly.

#if canImport(Glibc)
  import Glibc
#endif

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, seeded, and enough for test inputs.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64

  init(state: UInt64) { self.state = state }
  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [0, 1), from the top 53 bits.
  mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

  /// Standard normal by Box-Muller; 1 − u is in (0, 1], so the log is finite.
  mutating func normal() -> Double {
    let u = 1 - uniform()
    let v = uniform()
    return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
  }
}
