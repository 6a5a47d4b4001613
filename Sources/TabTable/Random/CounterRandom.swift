// Counter-based random numbers: a value is a pure function of (seed, row, stream), so encoding
// gives identical output however the input is split into blocks or shards.

/// Uniform numbers from a hash of (seed, row, stream).
public enum CounterRandom {
  /// SplitMix64's finaliser: a bijective mix of 64 bits.
  @inlinable
  public static func mix(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform double in [0, 1) for this (seed, row, stream).
  @inlinable
  public static func uniform(seed: UInt64, row: UInt64, stream: UInt64) -> Double {
    let bits = mix(mix(seed ^ mix(stream)) ^ row)
    return Double(bits >> 11) * 0x1.0p-53
  }
}
