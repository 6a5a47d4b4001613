// NoiseEmbedding (Layers/NoiseEmbedding.swift) against values computed independently with numpy
// (float64), and its two orders against each other.

import Foundation
import Testing

@testable import TabCore

@Suite struct NoiseEmbeddingTests {
  /// Expected rows, computed with numpy 2.4 in float64:
  ///   half = width // 2; f = (1 / 10000.0) ** (np.arange(half) / half)
  ///   np.concatenate([np.sin(c * f), np.cos(c * f)])        # TabSyn's [sin, cos] order
  /// and printed with 9 significant digits. For width 8, f = 1, 0.1, 0.01, 0.001 (so sin(0.5·0.1)
  /// = sin(0.05) = 0.0499791693 can also be checked by hand); for width 6, f = 1, 10000^(−1/3),
  /// 10000^(−2/3); for width 2, f = 1.
  private static let cases: [(width: Int, noise: Float, row: [Float])] = [
    (8, 0.0, [0, 0, 0, 0, 1, 1, 1, 1]),
    (
      8, 0.5,
      [
        0.479425539, 0.0499791693, 0.00499997917, 0.000499999979, 0.877582562, 0.99875026,
        0.9999875, 0.999999875,
      ]
    ),
    (
      8, -1.3,
      [
        -0.963558185, -0.129634143, -0.0129996338, -0.00129999963, 0.267498829, 0.991561894,
        0.999915501, 0.999999155,
      ]
    ),
    (
      8, 3.7,
      [
        -0.529836141, 0.361615432, 0.0369915584, 0.00369999156, -0.848100032, 0.932327346,
        0.999315578, 0.999993155,
      ]
    ),
    (
      6, 0.25,
      [0.247403959, 0.0116037117, 0.000538608646, 0.968912422, 0.999932675, 0.999999855]
    ),
    (
      6, -2.0,
      [-0.909297427, -0.0926985008, -0.00430885605, -0.416146837, 0.995694224, 0.999990717]
    ),
    (2, 1.0, [0.841470985, 0.540302306]),
    (2, -0.75, [-0.68163876, 0.731688869]),
  ]

  @Test func againstNumpy() {
    let t = TestBuffers(seed: 0)
    for width in [8, 6, 2] {
      let rows = Self.cases.filter { $0.width == width }
      let noise = t.zeros(rows.count, 1)
      let y = t.normal(rows.count, width)
      for (i, row) in rows.enumerated() { noise[i, 0] = row.noise }
      NoiseEmbedding(width: width).forward(noise, into: y)
      // Float rounding of c and c·f and sinf/cosf: a few 1e-8 here; 1e-6 leaves room.
      expectClose(
        "width \(width)", y.toArray(), rows.flatMap(\.row), absolute: 1e-6, relative: 1e-6)
    }
  }

  @Test func cosFirstSwapsTheHalves() {
    let t = TestBuffers(seed: 1)
    let noise = t.normal(5, 1, scale: 2)
    let sinFirst = t.zeros(5, 16)
    let cosFirst = t.zeros(5, 16)
    NoiseEmbedding(width: 16).forward(noise, into: sinFirst)
    NoiseEmbedding(width: 16, order: .cosFirst).forward(noise, into: cosFirst)
    for i in 0..<5 {
      for k in 0..<8 {
        #expect(sinFirst[i, k] == cosFirst[i, 8 + k] && sinFirst[i, 8 + k] == cosFirst[i, k])
      }
    }
    // TabSyn's width, 1024, against the definition in Double at a few noise levels.
    let levels = t.zeros(3, 1)
    let y = t.zeros(3, 1024)
    for (i, c) in [Float(-1.55), 0.3, 1.1].enumerated() { levels[i, 0] = c }
    NoiseEmbedding(width: 1024).forward(levels, into: y)
    let expected = (0..<3).flatMap { i -> [Float] in
      let f = (0..<512).map { Foundation.pow(1e-4, Double($0) / 512) }
      let c = Double(levels[i, 0])
      return f.map { Float(Foundation.sin(c * $0)) } + f.map { Float(Foundation.cos(c * $0)) }
    }
    expectClose("width 1024", y.toArray(), expected, absolute: 1e-6, relative: 1e-6)
  }
}
