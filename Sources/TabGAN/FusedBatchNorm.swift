// The generator blocks' training-mode BatchNorm and ReLU in one kernel: TabCore's
// `batchNormForward` arithmetic, lane for lane (so bit-identical), but sixteen columns per walk
// down the rows (whole 64-byte lines of each row instead of halves) and the ReLU output written
// straight into its columns of the generator's stack, without the BatchNorm output being stored
// (the backward's ReLU mask reads the stack: ReLU(y) > 0 exactly where y > 0).
//
// Shapes: x (B, H) the block's Linear output; out rows `ldOut` floats apart, H columns each.

import TabCore

/// Per column j of x: batch mean and biased variance, rstd = 1/√(var + ε), running statistics
/// moved by `momentum` (unbiased variance), and
/// out[i, j] = ReLU(x[i, j]·(rstd·γ) + (β − mean·rstd·γ)).
/// - Precondition: B ≥ 2.
func batchNormReLUForward(
  _ x: Matrix, into out: UnsafeMutablePointer<Float>, ldOut: Int, norm: BatchNorm,
  saving saved: BatchNorm.Saved
) {
  let rows = x.rows
  let width = x.cols
  precondition(rows >= 2 && width == norm.width && ldOut >= width, "batchNormReLUForward: shapes")
  let gamma = norm.weight.value.base
  let beta = norm.bias.value.base
  let mean = saved.mean.base
  let rstd = saved.rstd.base
  let runningMean = norm.runningMean.base
  let runningVariance = norm.runningVariance.base
  let momentum = norm.momentum
  let epsilon = norm.epsilon
  typealias V = SIMD16<Float>
  let inverseRows = 1 / Float(rows)
  let unbiasing = Float(rows) / Float(rows - 1)
  let keep = 1 - momentum
  let xs = x.base
  // Columns are independent: both cores take whole 16-column blocks (same numbers).
  let parallel = rows * width >= ParallelFor.inlineCount
  ParallelFor.run(count: width, minimumCount: parallel ? 0 : .max, granularity: 16) { columns in
    var j = columns.lowerBound
    while j + 16 <= columns.upperBound {
      var sums = V()
      for i in 0..<rows { sums += loadFloats(V.self, xs + i * width + j) }
      let m = sums * inverseRows
      var squares = V()
      for i in 0..<rows {
        let d = loadFloats(V.self, xs + i * width + j) - m
        squares = squares.addingProduct(d, d)
      }
      let variance = squares * inverseRows
      let r = 1 / squareRoot(variance + V(repeating: epsilon))
      storeFloats(m, mean + j)
      storeFloats(r, rstd + j)
      let runningM = keep * loadFloats(V.self, runningMean + j)
      storeFloats(runningM.addingProduct(V(repeating: momentum), m), runningMean + j)
      let runningV = keep * loadFloats(V.self, runningVariance + j)
      storeFloats(runningV.addingProduct(V(repeating: momentum), variance * unbiasing), runningVariance + j)
      let scale = r * loadFloats(V.self, gamma + j)
      let shift = loadFloats(V.self, beta + j) - m * scale
      let zero = V()
      for i in 0..<rows {
        let y = shift.addingProduct(loadFloats(V.self, xs + i * width + j), scale)
        storeFloats(y.replacing(with: zero, where: y .< zero), out + i * ldOut + j)
      }
      j += 16
    }
    // Remaining columns one at a time, with the same operations as a vector lane.
    while j < columns.upperBound {
      var sum: Float = 0
      for i in 0..<rows { sum += xs[i * width + j] }
      let m = sum * inverseRows
      var squares: Float = 0
      for i in 0..<rows {
        let d = xs[i * width + j] - m
        squares = squares.addingProduct(d, d)
      }
      let variance = squares * inverseRows
      let r = 1 / (variance + epsilon).squareRoot()
      mean[j] = m
      rstd[j] = r
      runningMean[j] = (keep * runningMean[j]).addingProduct(momentum, m)
      runningVariance[j] = (keep * runningVariance[j]).addingProduct(momentum, variance * unbiasing)
      let scale = r * gamma[j]
      let shift = beta[j] - m * scale
      for i in 0..<rows {
        let y = shift.addingProduct(xs[i * width + j], scale)
        out[i * ldOut + j] = y < 0 ? 0 : y
      }
      j += 1
    }
  }
}

/// Backward of `batchNormReLUForward` for one block, into `dx` (overwritten), γ's and β's
/// gradients (accumulated): the ReLU's backward (∂/∂y = ∂/∂a where a > 0, else 0, read from `a`)
/// folded into TabCore's `batchNormBackward`, lane for lane, sixteen columns per walk.
/// Shapes: dA and a rows `ldGradient` and `ldActivation` floats apart, H columns each;
/// x, dx (B, H).
func batchNormReLUBackward(
  _ dA: UnsafePointer<Float>, ldGradient: Int, activation a: UnsafePointer<Float>,
  ldActivation: Int, input x: Matrix, norm: BatchNorm, saved: BatchNorm.Saved, dx: Matrix
) {
  let rows = x.rows
  let width = x.cols
  precondition(
    dx.rows == rows && dx.cols == width && width == norm.width && ldGradient >= width
      && ldActivation >= width, "batchNormReLUBackward: shapes")
  if rows == 0 { return }
  let gamma = norm.weight.value.base
  let dgamma = norm.weight.grad.base
  let dbeta = norm.bias.grad.base
  let mean = saved.mean.base
  let rstd = saved.rstd.base
  typealias V = SIMD16<Float>
  let inverseRows = 1 / Float(rows)
  let xs = x.base
  let zero = V()
  // Columns are independent: both cores take whole 16-column blocks (same numbers).
  let parallel = rows * width >= ParallelFor.inlineCount
  ParallelFor.run(count: width, minimumCount: parallel ? 0 : .max, granularity: 16) { columns in
    var j = columns.lowerBound
    while j + 16 <= columns.upperBound {
      let m = loadFloats(V.self, mean + j)
      let r = loadFloats(V.self, rstd + j)
      var dySums = V()
      var dyNormSums = V()
      for i in 0..<rows {
        let g = loadFloats(V.self, dA + i * ldGradient + j).replacing(
          with: zero, where: .!(loadFloats(V.self, a + i * ldActivation + j) .> zero))
        let n = (loadFloats(V.self, xs + i * width + j) - m) * r
        dySums += g
        dyNormSums = dyNormSums.addingProduct(g, n)
      }
      storeFloats(loadFloats(V.self, dbeta + j) + dySums, dbeta + j)
      storeFloats(loadFloats(V.self, dgamma + j) + dyNormSums, dgamma + j)
      let factor = r * loadFloats(V.self, gamma + j)
      let dyMean = dySums * inverseRows
      let dyNormMean = dyNormSums * inverseRows
      for i in 0..<rows {
        let g = loadFloats(V.self, dA + i * ldGradient + j).replacing(
          with: zero, where: .!(loadFloats(V.self, a + i * ldActivation + j) .> zero))
        let n = (loadFloats(V.self, xs + i * width + j) - m) * r
        let term = (g - dyMean) - n * dyNormMean
        storeFloats(zero.addingProduct(factor, term), dx.base + i * width + j)
      }
      j += 16
    }
    while j < columns.upperBound {
      let m = mean[j]
      let r = rstd[j]
      var dySum: Float = 0
      var dyNormSum: Float = 0
      for i in 0..<rows {
        let g = a[i * ldActivation + j] > 0 ? dA[i * ldGradient + j] : 0
        let n = (xs[i * width + j] - m) * r
        dySum += g
        dyNormSum = dyNormSum.addingProduct(g, n)
      }
      dbeta[j] += dySum
      dgamma[j] += dyNormSum
      let factor = r * gamma[j]
      let dyMean = dySum * inverseRows
      let dyNormMean = dyNormSum * inverseRows
      for i in 0..<rows {
        let g = a[i * ldActivation + j] > 0 ? dA[i * ldGradient + j] : 0
        let n = (xs[i * width + j] - m) * r
        let term = (g - dyMean) - n * dyNormMean
        dx.base[i * width + j] = Float(0).addingProduct(factor, term)
      }
      j += 1
    }
  }
}
