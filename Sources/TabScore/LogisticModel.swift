// The logistic-regression detector SDMetrics uses (sklearn Pipeline: SimpleImputer(mean) ->
// RobustScaler -> LogisticRegression(lbfgs, C = 1, max_iter = 100)), written for the stacked
// real + synthetic table. One-hot columns stay implicit: an indicator takes one of two values
// (on or off, after robust scaling), so a row's margin is a sum over its numbers and over one
// code per categorical column.

import Foundation

/// The stacked table: real rows (label true) then synthetic rows (label false).
struct LogisticFeatures {
  /// numbers[f][r]: numerical features, missing as NaN.
  var numbers: [[Double]]
  /// codes[j][r] into the indicators of categorical column j; -1: a category the real table
  /// lacks (all indicators off, as a one-hot encoder fitted on real with unknowns ignored).
  var codes: [[Int32]]
  /// Indicators per categorical column (the real table's categories).
  var sizes: [Int]
  var labels: [Bool]
  var rows: Int { labels.count }

  init(_ tables: ScoreTables) {
    numbers = []
    codes = []
    sizes = []
    for c in 0..<tables.width {
      if tables.kinds[c] == .numerical {
        // SDMetrics' HyperTransformer fills missing numbers of both tables with the real mean
        // before the pipeline (whose own imputer then finds nothing to fill).
        let present = tables.real.columns[c].values.filter { !$0.isNaN }
        let mean = present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count)
        numbers.append(
          (tables.real.columns[c].values + tables.synthetic.columns[c].values).map {
            $0.isNaN ? mean : $0
          })
      } else {
        let known = Int32(tables.realCategories[c])
        codes.append(
          (tables.real.columns[c].codes + tables.synthetic.columns[c].codes).map {
            $0 < known ? $0 : -1
          })
        sizes.append(Int(known))
      }
    }
    labels =
      Array(repeating: true, count: tables.real.rows)
      + Array(repeating: false, count: tables.synthetic.rows)
  }
}

/// A fitted pipeline: imputation and scaling constants, weights and intercept.
struct LogisticModel {
  /// Per numerical feature: the train mean (imputation), median and scale (RobustScaler).
  var fill: [Double]
  var center: [Double]
  var scale: [Double]
  /// Per indicator (flattened over categorical columns): its scaled off and on values.
  var off: [Double]
  var on: [Double]
  var offsets: [Int]
  /// Weights: numerical features, then every indicator; then the intercept.
  var weights: [Double]
  var intercept: Double

  /// numpy's linear percentile of sorted values.
  static func percentile(_ sorted: [Double], _ q: Double) -> Double { Quality.quantile(sorted, q) }

  /// Fits imputation, scaling and the weights on `rows` of `data`.
  static func fit(_ data: LogisticFeatures, rows: [Int]) -> LogisticModel {
    var (model, x, y) = prepare(data, rows: rows)
    let width = model.off.count + data.numbers.count
    // The objective is sklearn's with C = 1 (see `objective`); L-BFGS from zero weights.
    let scaled = model
    let parameters = LBFGS.minimize(
      [Double](repeating: 0, count: width + 1), iterations: 100, tolerance: 1e-4
    ) { p, gradient in
      scaled.objective(data, rows: rows, scaled: x, labels: y, parameters: p, gradient: &gradient)
    }
    model.weights = Array(parameters[0..<width])
    model.intercept = parameters[width]
    return model
  }

  /// Fits imputation and scaling on `rows`; returns the model without weights, the scaled
  /// numerical features of those rows (B, numerical) row-major, and their 0/1 labels (B).
  static func prepare(_ data: LogisticFeatures, rows: [Int]) -> (LogisticModel, [Double], [Double])
  {
    var model = LogisticModel(
      fill: [], center: [], scale: [], off: [], on: [], offsets: [], weights: [], intercept: 0)
    for f in 0..<data.numbers.count {
      let present = rows.map { data.numbers[f][$0] }.filter { !$0.isNaN }
      let mean = present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count)
      // Imputed values join the column before scaling (the imputer runs first).
      let imputed = rows.map { data.numbers[f][$0].isNaN ? mean : data.numbers[f][$0] }.sorted()
      let median = percentile(imputed, 0.5)
      let iqr = percentile(imputed, 0.75) - percentile(imputed, 0.25)
      model.fill.append(mean)
      model.center.append(median)
      model.scale.append(iqr == 0 ? 1 : iqr)
    }
    var offset = 0
    for j in 0..<data.codes.count {
      model.offsets.append(offset)
      var counts = [Int](repeating: 0, count: data.sizes[j])
      for r in rows where data.codes[j][r] >= 0 { counts[Int(data.codes[j][r])] += 1 }
      for k in 0..<data.sizes[j] {
        // The percentiles of a 0/1 column with `ones` ones, as numpy interpolates them.
        let zeros = rows.count - counts[k]
        func value(_ q: Double) -> Double {
          let position = q * Double(rows.count - 1)
          let below = Int(position.rounded(.down))
          let above = min(below + 1, rows.count - 1)
          let low: Double = below < zeros ? 0 : 1
          let high: Double = above < zeros ? 0 : 1
          return low + (high - low) * (position - Double(below))
        }
        let iqr = value(0.75) - value(0.25)
        let scale = iqr == 0 ? 1 : iqr
        model.off.append((0 - value(0.5)) / scale)
        model.on.append((1 - value(0.5)) / scale)
      }
      offset += data.sizes[j]
    }
    let numeric = data.numbers.count
    // Scaled numerical features of the training rows, row-major (B = training rows).
    var x = [Double](repeating: 0, count: rows.count * numeric)
    for (i, r) in rows.enumerated() {
      for f in 0..<numeric { x[i * numeric + f] = model.scaledNumber(data, f, r) }
    }
    let y = rows.map { data.labels[$0] ? 1.0 : 0.0 }
    return (model, x, y)
  }

  /// sklearn's objective with C = 1: ½‖w‖² + Σ_i log(1 + e^{z_i}) - y_i z_i, z_i = w·x_i + b,
  /// the intercept b unpenalised. Writes the gradient (weights, then b) into `gradient`.
  /// Shapes: scaled (B, numerical features) row-major, labels (B), parameters (width + 1).
  func objective(
    _ data: LogisticFeatures, rows: [Int], scaled x: [Double], labels y: [Double],
    parameters p: [Double],
    gradient: inout [Double]
  ) -> Double {
    let numeric = data.numbers.count
    let width = p.count - 1
    var loss = 0.0
    for k in 0..<width {
      gradient[k] = p[k]
      loss += 0.5 * p[k] * p[k]
    }
    // Every indicator at its off value adds a constant to each margin; a row's own
    // indicators add (on - off) times their weight.
    var base = p[width]
    for k in 0..<(width - numeric) { base += p[numeric + k] * off[k] }
    var sumG = 0.0
    var indicatorG = [Double](repeating: 0, count: width - numeric)
    for (i, r) in rows.enumerated() {
      var z = base
      for f in 0..<numeric { z += p[f] * x[i * numeric + f] }
      for j in 0..<data.codes.count where data.codes[j][r] >= 0 {
        let k = offsets[j] + Int(data.codes[j][r])
        z += p[numeric + k] * (on[k] - off[k])
      }
      // Stable log(1 + e^z); its derivative is σ(z), so dloss/dz = σ(z) - y.
      let softplus = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))
      loss += softplus - y[i] * z
      let g = 1 / (1 + exp(-z)) - y[i]
      sumG += g
      for f in 0..<numeric { gradient[f] += g * x[i * numeric + f] }
      for j in 0..<data.codes.count where data.codes[j][r] >= 0 {
        indicatorG[offsets[j] + Int(data.codes[j][r])] += g
      }
    }
    gradient[width] = sumG
    // dz/dw_k = off_k for every row, plus (on_k - off_k) for rows holding k.
    for k in 0..<(width - numeric) {
      gradient[numeric + k] += off[k] * sumG + (on[k] - off[k]) * indicatorG[k]
    }
    return loss
  }

  func scaledNumber(_ data: LogisticFeatures, _ f: Int, _ r: Int) -> Double {
    let v = data.numbers[f][r]
    return ((v.isNaN ? fill[f] : v) - center[f]) / scale[f]
  }

  /// The margin w·x + b of one row (ranks rows as the probability does).
  func margin(_ data: LogisticFeatures, row r: Int) -> Double {
    let numeric = data.numbers.count
    var z = intercept
    for f in 0..<numeric { z += weights[f] * scaledNumber(data, f, r) }
    for k in 0..<off.count { z += weights[numeric + k] * off[k] }
    for j in 0..<data.codes.count where data.codes[j][r] >= 0 {
      let k = offsets[j] + Int(data.codes[j][r])
      z += weights[numeric + k] * (on[k] - off[k])
    }
    return z
  }
}

/// Limited-memory BFGS (Nocedal & Wright, Algorithm 7.4) with a backtracking Armijo search.
enum LBFGS {
  static func minimize(
    _ start: [Double], iterations: Int, tolerance: Double, memory: Int = 10,
    _ objective: ([Double], inout [Double]) -> Double
  ) -> [Double] {
    let n = start.count
    var x = start
    var gradient = [Double](repeating: 0, count: n)
    var value = objective(x, &gradient)
    var s: [[Double]] = []
    var y: [[Double]] = []
    var rho: [Double] = []
    for _ in 0..<iterations {
      // Projected-gradient test, as sklearn's lbfgs (pgtol) stops.
      if gradient.map(abs).max() ?? 0 <= tolerance { break }
      // Two-loop recursion: direction = -H·g.
      var q = gradient
      var alpha = [Double](repeating: 0, count: s.count)
      for i in stride(from: s.count - 1, through: 0, by: -1) {
        alpha[i] = rho[i] * dot(s[i], q)
        for k in 0..<n { q[k] -= alpha[i] * y[i][k] }
      }
      if let lastS = s.last, let lastY = y.last {
        let gamma = dot(lastS, lastY) / dot(lastY, lastY)
        for k in 0..<n { q[k] *= gamma }
      } else {
        let norm = dot(gradient, gradient).squareRoot()
        for k in 0..<n { q[k] /= max(norm, 1) }
      }
      for i in 0..<s.count {
        let beta = rho[i] * dot(y[i], q)
        for k in 0..<n { q[k] += s[i][k] * (alpha[i] - beta) }
      }
      let direction = q.map { -$0 }
      let slope = dot(direction, gradient)
      guard slope < 0 else { break }
      var step = 1.0
      var next = x
      var nextGradient = gradient
      var nextValue = value
      var accepted = false
      for _ in 0..<40 {
        for k in 0..<n { next[k] = x[k] + step * direction[k] }
        nextValue = objective(next, &nextGradient)
        if nextValue <= value + 1e-4 * step * slope {
          accepted = true
          break
        }
        step *= 0.5
      }
      guard accepted else { break }
      let sk = (0..<n).map { next[$0] - x[$0] }
      let yk = (0..<n).map { nextGradient[$0] - gradient[$0] }
      let sy = dot(sk, yk)
      if sy > 1e-12 {
        s.append(sk)
        y.append(yk)
        rho.append(1 / sy)
        if s.count > memory {
          s.removeFirst()
          y.removeFirst()
          rho.removeFirst()
        }
      }
      let improvement = value - nextValue
      x = next
      gradient = nextGradient
      value = nextValue
      if improvement <= 1e-12 * max(abs(value), 1) { break }
    }
    return x
  }

  static func dot(_ a: [Double], _ b: [Double]) -> Double {
    var sum = 0.0
    for k in a.indices { sum += a[k] * b[k] }
    return sum
  }
}
