// Fast bulk random draws for the training loop: Gumbel noise and standard normals (Box–Muller)
// eight lanes at a time in Float, with a vectorised natural logarithm. The scalar Double draws
// they replace (`GumbelSoftmax.drawNoise`, `SeededGenerator.normal`) took about 11% of a training
// step, most of it in libm's `log` (docs/gan.md, "Speed"). Both stay bit-reproducible: one
// seeded stream, consumed in a fixed order.

import TabCore

/// Natural logarithm of eight positive, finite, normal floats; relative error about 1e-7.
///
/// x = m · 2^e with m in [√½, √2); log x = e · ln 2 + log m and, with s = (m − 1) / (m + 1)
/// (|s| ≤ 0.1716), log m = 2 atanh s = 2 (s + s³/3 + s⁵/5 + s⁷/7 + s⁹/9 + …); the first term
/// left out, 2 s¹¹/11, is below 7e-10.
@inline(__always)
func fastLog(_ x: SIMD8<Float>) -> SIMD8<Float> {
  let bits = unsafeBitCast(x, to: SIMD8<Int32>.self)
  // Exponent relative to √½: subtracting the bits of √½ puts m in [√½, √2).
  let offset = Int32(bitPattern: 0x3F35_04F3)  // √½ as a Float's bits
  let shifted = bits &- offset
  let e = shifted &>> 23
  let mantissaBits = (shifted & 0x007F_FFFF) &+ offset
  let m = unsafeBitCast(mantissaBits, to: SIMD8<Float>.self)
  let s = (m - 1) / (m + 1)
  let s2 = s * s
  var p = SIMD8<Float>(repeating: 1 / 9)
  p = p * s2 + 1 / 7
  p = p * s2 + 1 / 5
  p = p * s2 + 1 / 3
  p = p * s2 + 1
  return SIMD8<Float>(e) * 0.693_147_18 + 2 * s * p
}

/// Eight uniforms on the open interval (0, 1), (k + ½) · 2⁻²³, from four 64-bit draws (two 23-bit
/// fields of each; every value exact in a Float).
@inline(__always)
func openUniforms(_ random: inout SeededGenerator) -> SIMD8<Float> {
  var k = SIMD8<UInt32>()
  for i in 0..<4 {
    let bits = random.next()
    k[2 * i] = UInt32(truncatingIfNeeded: bits >> 41)
    k[2 * i + 1] = UInt32(truncatingIfNeeded: (bits >> 18) & 0x7F_FFFF)
  }
  return (SIMD8<Float>(k) + 0.5) * 0x1p-23
}

/// Overwrites `count` floats at `out` with standard Gumbel draws −log(−log u), u as
/// `openUniforms` (so every draw is finite, between about −2.8 and 16.6).
func fillGumbel(_ out: UnsafeMutablePointer<Float>, count: Int, using random: inout SeededGenerator)
{
  var i = 0
  while i < count {
    let g = -fastLog(-fastLog(openUniforms(&random)))
    let n = min(8, count - i)
    if n == 8 {
      UnsafeMutableRawPointer(out + i).storeBytes(of: g, as: SIMD8<Float>.self)
    } else {
      for j in 0..<n { out[i + j] = g[j] }
    }
    i += 8
  }
}

/// Overwrites `count` floats at `out` with standard normal draws by the Box–Muller transform,
/// sixteen at a time with no rejection: r = √(−2 log u₁), θ = 2π u₂, draws r cos θ and r sin θ.
/// θ is split into a quadrant centre β = (q + ½)·π/2 and φ in [−π/4, π/4), whose sine and cosine
/// come from their Taylor series (truncation below 3.2e-7).
func fillNormal(_ out: UnsafeMutablePointer<Float>, count: Int, using random: inout SeededGenerator)
{
  let half = SIMD8<Float>(repeating: 0.707_106_78)
  var i = 0
  while i < count {
    let radius = squareRoot(-2 * fastLog(openUniforms(&random)))
    let t = 4 * openUniforms(&random)  // (0, 4)
    let quadrant = t.rounded(.down)
    let phi = (t - quadrant - 0.5) * (Float.pi / 2)
    let p2 = phi * phi
    var sine = SIMD8<Float>(repeating: -1 / 5040)
    sine = sine * p2 + 1 / 120
    sine = sine * p2 - 1 / 6
    sine = (sine * p2 + 1) * phi
    var cosine = SIMD8<Float>(repeating: 1 / 40320)
    cosine = cosine * p2 - 1 / 720
    cosine = cosine * p2 + 1 / 24
    cosine = cosine * p2 - 0.5
    cosine = cosine * p2 + 1
    // cos β and sin β: (+, +), (−, +), (−, −), (+, −) for q = 0, 1, 2, 3.
    let cosBeta = half.replacing(with: -half, where: (quadrant .== 1) .| (quadrant .== 2))
    let sinBeta = half.replacing(with: -half, where: quadrant .>= 2)
    let x = radius * (cosBeta * cosine - sinBeta * sine)
    let y = radius * (sinBeta * cosine + cosBeta * sine)
    let n = min(16, count - i)
    if n == 16 {
      UnsafeMutableRawPointer(out + i).storeBytes(of: x, as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(out + i + 8).storeBytes(of: y, as: SIMD8<Float>.self)
    } else {
      for j in 0..<n { out[i + j] = j < 8 ? x[j] : y[j - 8] }
    }
    i += 16
  }
}
