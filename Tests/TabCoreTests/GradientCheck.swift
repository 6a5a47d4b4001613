// What the TabCore tests share: random buffers owned by a Workspace, and the one
// finite-difference gradient check every layer and loss goes through.
//
// The check compares a gradient computed by TabCore in Float (the analytic one, from backward)
// with central differences of a Double re-implementation of the same forward, taken at the very
// same Float inputs: (f(x + h) − f(x − h)) / 2h with h = 1e-6 · max(1, |x|). In Double that
// estimate is good to about 1e-9, so the tolerance only has to absorb Float rounding in the
// analytic gradient: |analytic − numeric| ≤ 1e-4 · max(1, |numeric|) by default. A wrong term or
// a missing factor shows up as an error of order 1e-2 or more on these shapes.

import Testing

@testable import TabCore

/// Random test buffers; the workspace owns the memory for the life of the test.
final class TestBuffers {
  let workspace = Workspace()
  var generator: SeededGenerator

  init(seed: UInt64) {
    generator = SeededGenerator(seed: seed)
  }

  /// A matrix of standard normal values times `scale`.
  func normal(_ rows: Int, _ cols: Int, scale: Float = 1) -> Matrix {
    let m = workspace.matrix(rows: rows, cols: cols)
    generator.fillNormal(m, standardDeviation: scale)
    return m
  }

  /// A matrix of normal values kept at least `gap` away from zero (inputs of ReLU-like kinks).
  func normalAwayFromZero(_ rows: Int, _ cols: Int, gap: Float = 1e-2) -> Matrix {
    let m = normal(rows, cols)
    for i in 0..<m.count where abs(m.base[i]) < gap {
      m.base[i] = m.base[i] < 0 ? -gap : gap
    }
    return m
  }

  func zeros(_ rows: Int, _ cols: Int) -> Matrix {
    workspace.matrix(rows: rows, cols: cols)
  }

  /// A copy of `m` in new memory.
  func copy(_ m: Matrix) -> Matrix {
    let c = workspace.matrix(rows: m.rows, cols: m.cols)
    c.copy(from: m)
    return c
  }
}

/// The elements of `m` as Doubles.
func doubles(_ m: Matrix) -> [Double] {
  m.buffer.map(Double.init)
}

/// `after − before`, elementwise: what a backward accumulated into a pre-filled gradient.
func accumulated(_ after: Matrix, since before: [Float]) -> [Float] {
  zip(after.buffer, before).map { $0 - $1 }
}

/// Checks `analytic` against central differences of `f` at `point`.
///
/// - Parameters:
///   - analytic: the gradient TabCore computed at `point` (one entry per coordinate).
///   - f: the scalar function in Double.
///   - relativeTolerance: see the file comment.
func expectGradient(
  _ label: String, analytic: [Float], at point: [Double], relativeTolerance: Double = 1e-4,
  sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Double]) -> Double
) {
  #expect(analytic.count == point.count, "\(label): gradient size", sourceLocation: sourceLocation)
  guard analytic.count == point.count else { return }
  var x = point
  var worst = (index: -1, excess: 0.0, analytic: 0.0, numeric: 0.0)
  for i in 0..<point.count {
    let h = 1e-6 * max(1, abs(point[i]))
    x[i] = point[i] + h
    let up = f(x)
    x[i] = point[i] - h
    let down = f(x)
    x[i] = point[i]
    let numeric = (up - down) / (2 * h)
    let error = abs(Double(analytic[i]) - numeric)
    let excess = error / (relativeTolerance * max(1, abs(numeric)))
    if excess > worst.excess { worst = (i, excess, Double(analytic[i]), numeric) }
  }
  #expect(
    worst.excess <= 1,
    "\(label): worst index \(worst.index): analytic \(worst.analytic), numeric \(worst.numeric)",
    sourceLocation: sourceLocation)
}

/// Checks that `actual` equals `expected` within `absolute + relative · |expected|` everywhere.
func expectClose(
  _ label: String, _ actual: [Float], _ expected: [Float], absolute: Float = 0,
  relative: Float = 0, sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(actual.count == expected.count, "\(label): sizes", sourceLocation: sourceLocation)
  var worst = (index: -1, excess: Float(0))
  for i in 0..<min(actual.count, expected.count) {
    let excess: Float
    if actual[i].isNaN || expected[i].isNaN {
      excess = actual[i].isNaN && expected[i].isNaN ? 0 : .infinity
    } else {
      let allowed = absolute + relative * abs(expected[i])
      let error = abs(actual[i] - expected[i])
      excess = error == 0 ? 0 : (allowed > 0 ? error / allowed : .infinity)
    }
    if excess > worst.excess { worst = (i, excess) }
  }
  #expect(
    worst.excess <= 1,
    "\(label): worst index \(worst.index): \(worst.index >= 0 ? actual[worst.index] : 0) vs \(worst.index >= 0 ? expected[worst.index] : 0)",
    sourceLocation: sourceLocation)
}

/// The shapes every gradient check runs on: width 1, odd widths, a full vector and a tail.
let checkShapes: [(rows: Int, cols: Int)] = [(1, 1), (3, 1), (2, 5), (3, 8), (2, 11)]
