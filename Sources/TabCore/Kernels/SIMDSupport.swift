// Loads, stores and the vector exp that every SIMD kernel in TabCore is built from.
// Vectors are SIMD8<Float> (one AVX register); a tail shorter than 8 goes through a partial
// load and store, so each kernel has one code path for every element.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

typealias Vector8 = SIMD8<Float>

/// Loads 8 floats from `p` (any alignment).
@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> Vector8 {
  UnsafeRawPointer(p).loadUnaligned(as: Vector8.self)
}

/// Stores 8 floats at `p` (any alignment).
@inline(__always)
func store8(_ v: Vector8, _ p: UnsafeMutablePointer<Float>) {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector8.self)
}

/// Loads a vector of `V`'s width of floats from `p` (any alignment): the load of the SIMD
/// kernels outside TabCore (TabGAN's fused Adam and BatchNorm), at whatever width they walk.
@inlinable @inline(__always)
public func loadFloats<V: SIMD>(_: V.Type, _ p: UnsafePointer<Float>) -> V where V.Scalar == Float {
  UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

/// Stores the vector `v` at `p` (any alignment).
@inlinable @inline(__always)
public func storeFloats<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

/// Loads the first `n` (< 8) floats at `p`; the other lanes are `fill`.
@inline(__always)
func loadPartial(_ p: UnsafePointer<Float>, _ n: Int, fill: Float = 0) -> Vector8 {
  var v = Vector8(repeating: fill)
  for lane in 0..<n { v[lane] = p[lane] }
  return v
}

/// Stores the first `n` (< 8) lanes of `v` at `p`.
@inline(__always)
func storePartial(_ v: Vector8, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
  for lane in 0..<n { p[lane] = v[lane] }
}

/// `y[i] = f(x[i])` over `count` floats, 8 at a time. `y` may be `x`.
@inline(__always)
func map8(
  _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int,
  _ f: (Vector8) -> Vector8
) {
  var i = 0
  while i + 8 <= count {
    store8(f(load8(x + i)), y + i)
    i += 8
  }
  if i < count { storePartial(f(loadPartial(x + i, count - i)), y + i, count - i) }
}

/// `z[i] = f(x[i], y[i], z[i])` over `count` floats, 8 at a time (backward passes: `z` is `dx`).
@inline(__always)
func zip8(
  _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>,
  _ count: Int, _ f: (Vector8, Vector8, Vector8) -> Vector8
) {
  var i = 0
  while i + 8 <= count {
    store8(f(load8(x + i), load8(y + i), load8(z + i)), z + i)
    i += 8
  }
  if i < count {
    let n = count - i
    storePartial(f(loadPartial(x + i, n), loadPartial(y + i, n), loadPartial(z + i, n)), z + i, n)
  }
}

/// exp over 8 lanes, within about 2 ulp of the C library's expf for x in [-87.3, 88.3].
///
/// x = n·ln2 + r with |r| ≤ ln2/2, so exp(x) = 2ⁿ·exp(r): n comes from rounding x·log2(e) by
/// adding 1.5·2²³ (the sum's low mantissa bits then hold n; no checked float-to-int conversion,
/// which would be a per-lane call), r from subtracting n·ln2 in two parts (Cody and Waite) to keep
/// it exact, exp(r) from its Taylor series to degree 7 (truncation error below 1e-8 on that
/// range), and 2ⁿ by writing n + 127 into an exponent field. Above 88.3 the result saturates at
/// about 2.3e38; below -87.3 it is 0.
@inline(__always)
func exp8(_ x: Vector8) -> Vector8 {
  let low = Vector8(repeating: -87.3), high = Vector8(repeating: 88.3)
  // Compare-and-blend, not clamped(lowerBound:upperBound:): that calls pointwiseMin/Max, which
  // the compiler does not inline (ten times slower).
  var clamped = x.replacing(with: low, where: x .< low)
  clamped.replace(with: high, where: clamped .> high)
  let magic = Vector8(repeating: 12_582_912)  // 1.5 · 2^23
  let t = magic.addingProduct(clamped, Vector8(repeating: 1.442_695_04))  // x · log2(e) + magic
  let n = t - magic  // round(x · log2(e)), as a float
  // r = x − n·ln2, with ln2 = 0.693359375 − 2.12194440e-4: the first part has 9 significant
  // bits, so n · 0.693359375 is exact for |n| ≤ 128.
  var r = clamped.addingProduct(n, Vector8(repeating: -0.693_359_375))
  r = r.addingProduct(n, Vector8(repeating: 2.121_944_40e-4))
  // Taylor series of exp(r) to degree 7, by Horner's rule.
  var p = Vector8(repeating: 1.0 / 5040)
  p = Vector8(repeating: 1.0 / 720).addingProduct(p, r)
  p = Vector8(repeating: 1.0 / 120).addingProduct(p, r)
  p = Vector8(repeating: 1.0 / 24).addingProduct(p, r)
  p = Vector8(repeating: 1.0 / 6).addingProduct(p, r)
  p = Vector8(repeating: 0.5).addingProduct(p, r)
  p = Vector8(repeating: 1).addingProduct(p, r)
  p = Vector8(repeating: 1).addingProduct(p, r)
  // 2^n: the integer n sits in the low bits of t's pattern, offset by magic's pattern.
  let tBits = unsafeBitCast(t, to: SIMD8<Int32>.self)
  let magicBits = unsafeBitCast(magic, to: SIMD8<Int32>.self)
  let exponent = (tBits &- magicBits &+ 127) &<< 23
  let result = p * unsafeBitCast(exponent, to: Vector8.self)
  return result.replacing(with: 0, where: x .< low)
}

/// The lane-wise maximum of `a` and `b` by compare-and-blend (the standard library's
/// pointwiseMax is an out-of-line call).
@inline(__always)
func maximum8(_ a: Vector8, _ b: Vector8) -> Vector8 {
  a.replacing(with: b, where: b .> a)
}
