// Vector square roots for TabCore's SIMD kernels.
//
// Why C: on Linux, Swift's Float.squareRoot() lowers to a call of libm's sqrtf with its errno
// path (a compare and a branch around each vsqrtss), so SIMD8<Float>.squareRoot() runs as
// eight scalar square roots with spills (measured: 8.9% of a tab-gan step in Adam alone).
// Clang's elementwise builtin is one vsqrtps (one sqrtps pair without AVX), correctly rounded
// like the scalar instruction, so results do not change by a bit. Swift imports the
// ext_vector_types below as SIMD8<Float> and SIMD16<Float>.
#ifndef TABPIPE_CVECTORMATH_H
#define TABPIPE_CVECTORMATH_H

typedef float tabpipe_float8 __attribute__((ext_vector_type(8)));

/// The correctly rounded square root of each lane.
static inline __attribute__((always_inline)) tabpipe_float8 tabpipe_sqrt8(tabpipe_float8 x) {
  return __builtin_elementwise_sqrt(x);
}

typedef float tabpipe_float16 __attribute__((ext_vector_type(16)));

/// The same on sixteen lanes (two vsqrtps).
static inline __attribute__((always_inline)) tabpipe_float16 tabpipe_sqrt16(tabpipe_float16 x) {
  return __builtin_elementwise_sqrt(x);
}

#endif
