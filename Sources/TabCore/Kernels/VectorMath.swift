// Vector square roots that stay a vector instruction (see Sources/CVectorMath/include).

import CVectorMath

/// The correctly rounded square root of each lane: bit for bit `x.squareRoot()`, in one
/// instruction instead of eight scalar calls.
@inlinable @inline(__always)
public func squareRoot(_ x: SIMD8<Float>) -> SIMD8<Float> { tabpipe_sqrt8(x) }

/// `squareRoot` on sixteen lanes.
@inlinable @inline(__always)
public func squareRoot(_ x: SIMD16<Float>) -> SIMD16<Float> { tabpipe_sqrt16(x) }
