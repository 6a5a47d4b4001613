// A block of rows in memory: the unit a stream is written and read in.

/// `rows` rows of fixed width: a row-major float32 matrix (rows x floatWidth) and a row-major
/// int32 matrix (rows x intWidth). Arrays keep their capacity between reuses.
public struct RowBlock: Sendable {
  public let floatWidth: Int
  public let intWidth: Int
  public private(set) var rows: Int = 0
  /// rows * floatWidth values, row-major.
  public var floats: [Float]
  /// rows * intWidth values, row-major.
  public var ints: [Int32]

  /// An empty block for rows of this layout with room for `capacity` rows.
  public init(layout: RowLayout, capacity: Int = 0) {
    self.init(floatWidth: layout.floatWidth, intWidth: layout.intWidth, capacity: capacity)
  }

  public init(floatWidth: Int, intWidth: Int, capacity: Int = 0) {
    self.floatWidth = floatWidth
    self.intWidth = intWidth
    floats = []
    ints = []
    floats.reserveCapacity(capacity * floatWidth)
    ints.reserveCapacity(capacity * intWidth)
  }

  /// Sets the row count, growing (zero-filled) or shrinking the arrays to match.
  public mutating func resize(rows newRows: Int) {
    precondition(newRows >= 0)
    rows = newRows
    let floatCount = newRows * floatWidth
    let intCount = newRows * intWidth
    if floats.count < floatCount {
      floats.append(contentsOf: repeatElement(0, count: floatCount - floats.count))
    } else if floats.count > floatCount {
      floats.removeLast(floats.count - floatCount)
    }
    if ints.count < intCount {
      ints.append(contentsOf: repeatElement(0, count: intCount - ints.count))
    } else if ints.count > intCount {
      ints.removeLast(ints.count - intCount)
    }
  }

  /// Removes all rows, keeping capacity.
  public mutating func removeAll() { resize(rows: 0) }

  /// Float field `field` of row `row`.
  public func float(row: Int, field: Int) -> Float { floats[row * floatWidth + field] }
  /// Int field `field` of row `row`.
  public func int(row: Int, field: Int) -> Int32 { ints[row * intWidth + field] }
}
