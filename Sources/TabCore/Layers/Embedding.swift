// Turning a table row into tokens: the categorical embedding (one table shared by every column,
// indexed through per-column offsets), the numerical tokenizer x_j ↦ x_j·w_j + b_j, and TabSyn's
// feature tokenizer that puts both behind a [CLS] token (tabsyn.md §2.2, model.py:11-66).
//
// B = rows in a batch, N = tokens per row, D = token width, n = numerical columns,
// C = categorical columns, K_j = categories of column j. A batch of tokens (B, N, D) is stored
// as a Matrix (B, N·D): token t of row i is columns t·D ..< (t+1)·D of row i. Each layer here
// writes a run of tokens starting at `atToken`, so several tokenizers can fill one matrix.
// Category codes are Int32 (the tensor stream's integer type), row-major (B, C).

/// Categorical embedding with per-column offsets: column j's code c reads row
/// `offsets[j] + c` of one shared table, optionally plus a per-column bias.
///
/// Shapes: codes (B, C) Int32; table (ΣK, D); bias (C, D) or none; y (B, N·D), of which tokens
/// `atToken ..< atToken + C` are written. `offsets` is the exclusive cumulative sum of K
/// (off_0 = 0, off_j = Σ_{i<j} K_i), as TabSyn's `category_offsets`.
public struct Embedding {
  /// K_j, the number of categories of each column.
  public let categories: [Int]
  /// off_j = Σ_{i<j} K_i: the first table row of column j.
  public let offsets: [Int]
  /// D, the width of one token.
  public let width: Int
  /// The table (ΣK, D).
  public let table: Parameter
  /// One vector per column added after the lookup (C, D), or nil (TabSyn's categorical bias).
  public let bias: Parameter?

  /// The tensors an `Embedding` called `name` needs: `name.weight` (ΣK, D) and, if `bias`,
  /// `name.bias` (C, D).
  public static func parameterShapes(
    _ name: String, categories: [Int], width: Int, bias: Bool = false
  ) -> [ParameterShape] {
    [ParameterShape(name + ".weight", rows: categories.reduce(0, +), cols: width)]
      + (bias ? [ParameterShape(name + ".bias", rows: categories.count, cols: width)] : [])
  }

  /// The layer over `name.weight` (and `name.bias`) in `arena`.
  public init(_ name: String, in arena: ParameterArena, categories: [Int], bias: Bool = false) {
    self.init(
      table: arena[name + ".weight"], bias: bias ? arena[name + ".bias"] : nil,
      categories: categories)
  }

  /// The layer over the given tensors.
  /// - Precondition: every K_j ≥ 1; `table` has ΣK rows; `bias`, if any, is (C, D).
  public init(table: Parameter, bias: Parameter?, categories: [Int]) {
    precondition(categories.allSatisfy { $0 >= 1 }, "Embedding: a column has no categories")
    var offsets: [Int] = []
    var total = 0
    for k in categories {
      offsets.append(total)
      total += k
    }
    precondition(
      table.value.rows == total, "Embedding: table has \(table.value.rows) rows, need \(total)")
    if let bias {
      precondition(
        bias.value.rows == categories.count && bias.value.cols == table.value.cols,
        "Embedding: bias is \(bias.value.rows)x\(bias.value.cols)")
    }
    self.categories = categories
    self.offsets = offsets
    self.width = table.value.cols
    self.table = table
    self.bias = bias
  }

  /// TabSyn's initialisation: table and bias uniform on ±1/√D (PyTorch's kaiming_uniform with
  /// a = √5 on a D-wide fan-in; ±0.5 for D = 4).
  public func initialize(using generator: inout SeededGenerator) {
    let bound = 1 / Float(max(width, 1)).squareRoot()
    generator.fillUniform(table.value, lower: -bound, upper: bound)
    if let bias { generator.fillUniform(bias.value, lower: -bound, upper: bound) }
  }

  /// Overwrites tokens `atToken ..< atToken + C` of every row of `y` with
  /// `table[offsets[j] + codes[i, j]] + bias[j]`. The other tokens of `y` are left alone.
  /// - Precondition: codes holds B·C codes, each in `0 ..< K_j`; y (B, N·D) with
  ///   `atToken + C ≤ N`.
  public func forward(_ codes: UnsafeBufferPointer<Int32>, into y: Matrix, atToken first: Int = 0) {
    checkShapes(codes, y, first)
    let columns = categories.count
    let rows = y.rows
    guard columns > 0, width > 0 else { return }
    categories.withUnsafeBufferPointer { categories in
      offsets.withUnsafeBufferPointer { offsets in
        for i in 0..<rows {
          let out = y.row(i) + first * width
          for j in 0..<columns {
            let code = Int(codes[i * columns + j])
            // A code outside its column would read another column's rows or past the table.
            precondition(
              code >= 0 && code < categories[j], "Embedding: row \(i) column \(j): code \(code)")
            let token = out + j * width
            token.update(from: table.value.row(offsets[j] + code), count: width)
            if let bias { add(bias.value.row(j), into: token, count: width) }
          }
        }
      }
    }
  }

  /// Accumulates into `table.grad` (row `offsets[j] + codes[i, j]` += dy's token j of row i: a
  /// scatter-add, so a code used by several rows gathers all their gradients) and `bias.grad`.
  /// The codes are data, so there is no input gradient.
  /// - Precondition: as `forward`, with dy in place of y.
  public func backward(_ dy: Matrix, codes: UnsafeBufferPointer<Int32>, atToken first: Int = 0) {
    checkShapes(codes, dy, first)
    let columns = categories.count
    let rows = dy.rows
    guard columns > 0, width > 0 else { return }
    categories.withUnsafeBufferPointer { categories in
      offsets.withUnsafeBufferPointer { offsets in
        for i in 0..<rows {
          let gradient = dy.row(i) + first * width
          for j in 0..<columns {
            let code = Int(codes[i * columns + j])
            precondition(
              code >= 0 && code < categories[j], "Embedding: row \(i) column \(j): code \(code)")
            let token = gradient + j * width
            add(token, into: table.grad.row(offsets[j] + code), count: width)  // dE[off+c] += dy
            if let bias { add(token, into: bias.grad.row(j), count: width) }  // db_j += dy
          }
        }
      }
    }
  }

  private func checkShapes(_ codes: UnsafeBufferPointer<Int32>, _ y: Matrix, _ first: Int) {
    let columns = categories.count
    precondition(
      codes.count == y.rows * columns && first >= 0 && width > 0 && y.cols % width == 0
        && first + columns <= y.cols / width,
      "Embedding \(columns) columns x \(width): codes \(codes.count), y \(y.rows)x\(y.cols), token \(first)"
    )
  }
}

/// The numerical tokenizer: column j's number becomes the token `x_j · w_j + b_j`, an elementwise
/// scale of a learned D-vector plus a learned D-vector.
///
/// Shapes: x (B, n); weight (n, D); bias (n, D) or none; y (B, N·D), of which tokens
/// `atToken ..< atToken + n` are written.
public struct NumericalTokenizer {
  /// n, the number of numerical columns.
  public let columns: Int
  /// D, the width of one token.
  public let width: Int
  /// w (n, D): row j scales column j.
  public let weight: Parameter
  /// b (n, D), or nil.
  public let bias: Parameter?

  /// The tensors a `NumericalTokenizer` called `name` needs: `name.weight` and, if `bias`,
  /// `name.bias`, both (n, D).
  public static func parameterShapes(
    _ name: String, columns: Int, width: Int, bias: Bool = true
  ) -> [ParameterShape] {
    [ParameterShape(name + ".weight", rows: columns, cols: width)]
      + (bias ? [ParameterShape(name + ".bias", rows: columns, cols: width)] : [])
  }

  /// The layer over `name.weight` (and `name.bias`) in `arena`.
  public init(_ name: String, in arena: ParameterArena, bias: Bool = true) {
    self.init(weight: arena[name + ".weight"], bias: bias ? arena[name + ".bias"] : nil)
  }

  /// The layer over the given tensors.
  /// - Precondition: `bias`, if any, has the shape of `weight`.
  public init(weight: Parameter, bias: Parameter?) {
    if let bias {
      precondition(
        bias.value.rows == weight.value.rows && bias.value.cols == weight.value.cols,
        "NumericalTokenizer: bias shape")
    }
    self.columns = weight.value.rows
    self.width = weight.value.cols
    self.weight = weight
    self.bias = bias
  }

  /// TabSyn's initialisation: weight and bias uniform on ±1/√D.
  public func initialize(using generator: inout SeededGenerator) {
    let bound = 1 / Float(max(width, 1)).squareRoot()
    generator.fillUniform(weight.value, lower: -bound, upper: bound)
    if let bias { generator.fillUniform(bias.value, lower: -bound, upper: bound) }
  }

  /// Overwrites tokens `atToken ..< atToken + n` of every row of `y` with `x_ij · w_j + b_j`.
  /// Backward needs only `x`.
  /// - Precondition: x (B, n); y (B, N·D) with `atToken + n ≤ N`.
  public func forward(_ x: Matrix, into y: Matrix, atToken first: Int = 0) {
    checkShapes(x, y, first)
    for i in 0..<x.rows {
      let out = y.row(i) + first * width
      for j in 0..<columns {
        let token = out + j * width
        if let bias {
          token.update(from: bias.value.row(j), count: width)
        } else {
          token.update(repeating: 0, count: width)
        }
        axpy(x[i, j], weight.value.row(j), token, count: width)  // t = b_j + x_ij · w_j
      }
    }
  }

  /// Accumulates into `weight.grad` (dw_j += Σ_i x_ij · dt_ij), `bias.grad` (db_j += Σ_i dt_ij)
  /// and, unless nil, `dx` (dx_ij += dt_ij · w_j), where dt_ij is dy's token j of row i.
  /// - Precondition: as `forward`, with dy in place of y; dx, if any, (B, n).
  public func backward(_ dy: Matrix, input x: Matrix, dx: Matrix?, atToken first: Int = 0) {
    checkShapes(x, dy, first)
    if let dx { precondition(dx.rows == x.rows && dx.cols == columns, "NumericalTokenizer: dx") }
    for i in 0..<x.rows {
      let gradient = dy.row(i) + first * width
      for j in 0..<columns {
        let token = gradient + j * width
        axpy(x[i, j], token, weight.grad.row(j), count: width)
        if let bias { add(token, into: bias.grad.row(j), count: width) }
        if let dx { dx[i, j] += tokenDot(token, weight.value.row(j), width) }
      }
    }
  }

  private func checkShapes(_ x: Matrix, _ y: Matrix, _ first: Int) {
    precondition(
      x.cols == columns && x.rows == y.rows && first >= 0 && width > 0 && y.cols % width == 0
        && first + columns <= y.cols / width,
      "NumericalTokenizer \(columns) x \(width): x \(x.rows)x\(x.cols), y \(y.rows)x\(y.cols), token \(first)"
    )
  }
}

/// TabSyn's tokenizer (tabsyn.md §2.2): each row becomes N = 1 + n + C tokens,
///
///     token 0       = w_0                                  [CLS]: an input fixed to 1, no bias
///     token 1 + j   = x_j · w_{1+j} + b_j                  numerical column j < n
///     token 1+n+j   = E[off_j + code_j] + b_{n+j}          categorical column j < C
///
/// Shapes: x (B, n); codes (B, C) Int32; y (B, N·D). Parameters, in PyTorch's layout (the [CLS]
/// weight is row 0 of `weight`; `bias` has no [CLS] row): weight (1+n, D), bias (n+C, D),
/// table (ΣK, D).
public struct FeatureTokenizer {
  /// w (1+n, D): row 0 is the [CLS] token, row 1+j scales numerical column j.
  public let weight: Parameter
  /// b (n+C, D): rows 0 ..< n for the numerical tokens, n ..< n+C for the categorical ones.
  public let bias: Parameter
  /// E (ΣK, D).
  public let table: Parameter
  /// Tokens 1 ..< 1+n: over weight rows 1 ..< 1+n and bias rows 0 ..< n.
  public let numerical: NumericalTokenizer
  /// Tokens 1+n ..< N: over the table and bias rows n ..< n+C.
  public let categorical: Embedding
  /// N = 1 + n + C.
  public let tokens: Int
  /// D.
  public let width: Int

  /// The tensors a `FeatureTokenizer` called `name` needs: `name.weight` (1+n, D), `name.bias`
  /// (n+C, D), `name.category_embeddings.weight` (ΣK, D).
  public static func parameterShapes(
    _ name: String, numerical: Int, categories: [Int], width: Int
  ) -> [ParameterShape] {
    [
      ParameterShape(name + ".weight", rows: 1 + numerical, cols: width),
      ParameterShape(name + ".bias", rows: numerical + categories.count, cols: width),
    ]
      + Embedding.parameterShapes(
        name + ".category_embeddings", categories: categories, width: width)
  }

  /// The layer over the tensors `parameterShapes(name, ...)` declared in `arena`.
  public init(_ name: String, in arena: ParameterArena, categories: [Int]) {
    self.init(
      weight: arena[name + ".weight"], bias: arena[name + ".bias"],
      table: arena[name + ".category_embeddings.weight"], categories: categories)
  }

  /// The layer over the given tensors (n is `weight.value.rows − 1`).
  /// - Precondition: the shapes listed on the type.
  public init(weight: Parameter, bias: Parameter, table: Parameter, categories: [Int]) {
    let numerical = weight.value.rows - 1
    precondition(numerical >= 0, "FeatureTokenizer: weight needs the [CLS] row")
    precondition(
      bias.value.rows == numerical + categories.count && bias.value.cols == weight.value.cols
        && table.value.cols == weight.value.cols,
      "FeatureTokenizer: bias \(bias.value.rows)x\(bias.value.cols), table width \(table.value.cols)"
    )
    self.weight = weight
    self.bias = bias
    self.table = table
    self.numerical = NumericalTokenizer(
      weight: rowsOf(weight, 1..<1 + numerical), bias: rowsOf(bias, 0..<numerical))
    self.categorical = Embedding(
      table: table, bias: rowsOf(bias, numerical..<numerical + categories.count),
      categories: categories)
    self.tokens = 1 + numerical + categories.count
    self.width = weight.value.cols
  }

  /// TabSyn's initialisation: weight, bias and table uniform on ±1/√D.
  public func initialize(using generator: inout SeededGenerator) {
    let bound = 1 / Float(max(width, 1)).squareRoot()
    generator.fillUniform(weight.value, lower: -bound, upper: bound)
    generator.fillUniform(bias.value, lower: -bound, upper: bound)
    generator.fillUniform(table.value, lower: -bound, upper: bound)
  }

  /// Overwrites `y` with every row's N tokens. Backward needs `x` and `codes`.
  /// - Precondition: x (B, n); codes B·C codes, each in `0 ..< K_j`; y (B, N·D).
  public func forward(_ x: Matrix, codes: UnsafeBufferPointer<Int32>, into y: Matrix) {
    precondition(
      y.cols == tokens * width && x.rows == y.rows,
      "FeatureTokenizer: x \(x.rows)x\(x.cols), y \(y.rows)x\(y.cols), need \(tokens) tokens")
    for i in 0..<y.rows { y.row(i).update(from: weight.value.base, count: width) }  // t_0 = w_0
    numerical.forward(x, into: y, atToken: 1)
    categorical.forward(codes, into: y, atToken: 1 + numerical.columns)
  }

  /// Accumulates into `weight.grad`, `bias.grad`, `table.grad` and, unless nil, `dx` (B, n).
  /// - Precondition: as `forward`, with dy in place of y.
  public func backward(
    _ dy: Matrix, input x: Matrix, codes: UnsafeBufferPointer<Int32>, dx: Matrix?
  ) {
    precondition(
      dy.cols == tokens * width && x.rows == dy.rows, "FeatureTokenizer backward: shape mismatch")
    for i in 0..<dy.rows { add(dy.row(i), into: weight.grad.base, count: width) }  // dw_0 += Σ dt_0
    numerical.backward(dy, input: x, dx: dx, atToken: 1)
    categorical.backward(dy, codes: codes, atToken: 1 + numerical.columns)
  }
}

/// Rows `range` of `parameter`: its four views narrowed to those rows (same memory).
private func rowsOf(_ parameter: Parameter, _ range: Range<Int>) -> Parameter {
  let cols = parameter.value.cols
  return Parameter(
    name: parameter.name + "[\(range.lowerBound)..<\(range.upperBound)]",
    value: parameter.value.rows(range), grad: parameter.grad.rows(range),
    m: parameter.m.rows(range), v: parameter.v.rows(range),
    offset: parameter.offset + range.lowerBound * cols)
}

/// `Σ a[k] · b[k]` over one token's `width` floats (D is small: a plain loop).
@inline(__always)
private func tokenDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ width: Int) -> Float {
  var sum: Float = 0
  for k in 0..<width { sum += a[k] * b[k] }
  return sum
}
