// The C vector square root (Sources/CVectorMath) must equal Swift's scalar one bit for bit, so
// that swapping it into Adam, BatchNorm and the normal draws changes no result.

import Testing

@testable import TabCore

@Suite struct VectorMathTests {
  /// Bit patterns of the scalar square roots of `lanes`, and of the vector ones.
  private func bits(_ lanes: [Float]) -> (scalar: [UInt32], vector: [UInt32]) {
    precondition(lanes.count == 16)
    let scalar = lanes.map { $0.squareRoot().bitPattern }
    let low = squareRoot(SIMD8<Float>(lanes[0..<8]))
    let high = squareRoot(SIMD8<Float>(lanes[8..<16]))
    let wide = squareRoot(SIMD16<Float>(lanes))
    let vector = (0..<8).map { low[$0].bitPattern } + (0..<8).map { high[$0].bitPattern }
    #expect(vector == (0..<16).map { wide[$0].bitPattern }, "8- and 16-lane forms agree")
    return (scalar, vector)
  }

  @Test func edgeCasesMatchTheScalarSquareRoot() {
    let lanes: [Float] = [
      0, -0.0, 1, 2, 0.25, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
      .infinity, 1e-38, 3e-45, 1e-8, 123_456.79, 0.999_999_94, 4, 1e30,
    ]
    let (scalar, vector) = bits(lanes)
    #expect(scalar == vector)
  }

  @Test func negativesAndNaNGiveNaN() {
    let lanes: [Float] = [-1, -.infinity, .nan, -1e-30] + Array(repeating: 9, count: 12)
    let (_, vector) = bits(lanes)
    for k in 0..<4 { #expect(Float(bitPattern: vector[k]).isNaN) }
    #expect(Float(bitPattern: vector[4]) == 3)
  }

  @Test func randomValuesMatchBitForBit() {
    var random = SeededGenerator(seed: 11)
    var mismatches = 0
    for _ in 0..<20_000 {
      // Every exponent from denormal to huge: random bit patterns of positive floats.
      let lanes = (0..<16).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: random.next()) & 0x7F7F_FFFF) }
      let (scalar, vector) = bits(lanes)
      if scalar != vector { mismatches += 1 }
    }
    #expect(mismatches == 0)
  }
}
