// The hot loops' view of the encoder: one trivial struct per column (positions, flags, and
// pointers into memory this object owns). Reading a ColumnEncoding per cell would copy a
// struct of a dozen arrays and strings, and the reference counting cost more than the maths
// (measured: 21% of apply mode, 41% of decoding).

/// What encoding and decoding need of one column, without reference-counted members.
public struct ColumnPlan {
  public enum Kind: UInt8 { case categorical, numerical, datetime, constant, identifier }
  public var kind: Kind
  /// Float-section index of the value, or -1.
  public var value: Int
  /// Int-section index of the category code or mixture mode, or -1.
  public var code: Int
  /// Int-section index of the missing indicator, or -1.
  public var missing: Int
  public var gmm: Bool
  /// The quantile grid (quantile transform), or empty.
  public var quantiles: UnsafeBufferPointer<Double>
  /// Distinct values, ascending, when the column has few (decoding snaps to them), or empty.
  public var values: UnsafeBufferPointer<Double>
  public var minimum: Double
  public var maximum: Double
  /// Number of categories (categorical) or modes (gmm).
  public var cardinality: Int
}

/// Plans for every column of an encoder, and the memory their pointers point into.
public final class ColumnPlans {
  public let plans: UnsafeMutableBufferPointer<ColumnPlan>
  private var allocations: [UnsafeMutableBufferPointer<Double>] = []

  public init(_ encoder: TableEncoder) {
    let positions = encoder.positions
    plans = .allocate(capacity: encoder.columns.count)
    for (c, column) in encoder.columns.enumerated() {
      let kind: ColumnPlan.Kind
      switch column.kind {
      case .categorical: kind = .categorical
      case .numerical: kind = .numerical
      case .datetime: kind = .datetime
      case .constant: kind = .constant
      case .identifier: kind = .identifier
      }
      let cardinality = column.kind == .categorical ? (column.labels?.count ?? 0) : (column.mixture?.count ?? 0)
      let plan = ColumnPlan(
        kind: kind, value: positions[c].value, code: positions[c].code, missing: positions[c].missing,
        gmm: column.transform == .gmm, quantiles: copy(column.quantiles?.quantiles ?? []),
        values: copy(column.values ?? []), minimum: column.minimum ?? -.infinity,
        maximum: column.maximum ?? .infinity, cardinality: cardinality)
      (plans.baseAddress! + c).initialize(to: plan)
    }
  }

  deinit {
    plans.deinitialize()
    plans.deallocate()
    for allocation in allocations { allocation.deallocate() }
  }

  private func copy(_ values: [Double]) -> UnsafeBufferPointer<Double> {
    let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(values.count, 1))
    _ = buffer.initialize(from: values)
    allocations.append(buffer)
    return UnsafeBufferPointer(rebasing: buffer[0..<values.count])
  }
}
