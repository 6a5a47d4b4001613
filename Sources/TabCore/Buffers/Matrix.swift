// Matrix: a non-owning, row-major view of float32 memory, the one tensor type of TabCore.
// Views carry no reference count, so layers and kernels pass them freely in hot loops.

/// A row-major `rows × cols` view of `Float`s that someone else owns.
///
/// A `Matrix` is three words: a base pointer and two sizes. It never allocates or frees; the
/// memory belongs to a `ParameterArena`, a `Workspace` or a caller's buffer, and the view must not
/// outlive it. Element `(i, j)` lives at `base[i * cols + j]`. A vector is a `1 × n` matrix.
public struct Matrix {
  /// The first element; row `i` starts at `base + i * cols`.
  public let base: UnsafeMutablePointer<Float>
  public let rows: Int
  public let cols: Int

  /// Views `rows * cols` floats at `base`.
  /// - Precondition: `rows >= 0`, `cols >= 0`.
  @inlinable
  public init(_ base: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
    precondition(rows >= 0 && cols >= 0, "Matrix: negative shape \(rows) x \(cols)")
    self.base = base
    self.rows = rows
    self.cols = cols
  }

  /// Number of elements, `rows * cols`.
  @inlinable public var count: Int { rows * cols }

  /// The elements as a buffer (for `for` loops and `Array(_:)` in tests).
  @inlinable public var buffer: UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(start: base, count: count)
  }

  /// Element `(i, j)`. Bounds are checked by `assert` only (debug builds).
  @inlinable
  public subscript(i: Int, j: Int) -> Float {
    get {
      assert(i >= 0 && i < rows && j >= 0 && j < cols)
      return base[i * cols + j]
    }
    nonmutating set {
      assert(i >= 0 && i < rows && j >= 0 && j < cols)
      base[i * cols + j] = newValue
    }
  }

  /// Pointer to the first element of row `i`.
  @inlinable
  public func row(_ i: Int) -> UnsafeMutablePointer<Float> {
    assert(i >= 0 && i < rows)
    return base + i * cols
  }

  /// The rows `range` as a matrix of their own (same memory).
  /// - Precondition: `range` lies within `0..<rows`.
  @inlinable
  public func rows(_ range: Range<Int>) -> Matrix {
    precondition(range.lowerBound >= 0 && range.upperBound <= rows, "Matrix.rows: out of range")
    return Matrix(base + range.lowerBound * cols, rows: range.count, cols: cols)
  }

  /// The same memory seen with another shape.
  /// - Precondition: `rows * cols == count`.
  @inlinable
  public func reshaped(rows: Int, cols: Int) -> Matrix {
    precondition(rows * cols == count, "Matrix.reshaped: \(rows) x \(cols) != \(count) elements")
    return Matrix(base, rows: rows, cols: cols)
  }

  /// Sets every element to `value`.
  public func fill(with value: Float) {
    base.update(repeating: value, count: count)
  }

  /// Sets every element to zero.
  public func zero() {
    fill(with: 0)
  }

  /// Overwrites this matrix with `source`'s elements.
  /// - Precondition: equal shapes.
  public func copy(from source: Matrix) {
    precondition(rows == source.rows && cols == source.cols, "Matrix.copy: shape mismatch")
    base.update(from: source.base, count: count)
  }

  /// Overwrites every row with `vector` (a bias, broadcast over the batch).
  /// - Precondition: `vector.count == cols`.
  public func setRows(to vector: Matrix) {
    precondition(vector.count == cols, "Matrix.setRows: vector has \(vector.count), need \(cols)")
    for i in 0..<rows {
      (base + i * cols).update(from: vector.base, count: cols)
    }
  }

  /// Accumulates the sum over rows into `sums`: `sums[j] += Σ_i self[i, j]` (a bias gradient).
  /// - Precondition: `sums.count == cols`.
  public func addColumnSums(into sums: Matrix) {
    precondition(sums.count == cols, "Matrix.addColumnSums: sums has \(sums.count), need \(cols)")
    TabCore.addColumnSums(base, rows: rows, cols: cols, into: sums.base)
  }

  /// The elements copied into an array (tests, logging; not for hot loops).
  public func toArray() -> [Float] {
    Array(buffer)
  }
}
