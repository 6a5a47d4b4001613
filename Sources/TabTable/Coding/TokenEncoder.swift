// Turning cell values into row tokens, shared by fit mode (values come from a ColumnStore) and
// apply mode (values come from a CSV stream): the same numbers, whichever path produced them.

import TabStream

/// What an apply-mode encoder does with a category it never saw, or a missing cell in a column
/// that had none.
public enum UnknownPolicy: String, Sendable, CaseIterable {
  /// Stop with an error listing the unknown values.
  case error
  /// Encode as the column's missing category (if it has one).
  case missing
  /// Encode as the most frequent category (numerical columns: the median).
  case frequent
}

/// Writes the tokens of one row's cells into a block row.
public struct TokenEncoder {
  public let encoder: TableEncoder
  public let plans: ColumnPlans
  public let floatWidth: Int
  public let intWidth: Int
  let seed: UInt64
  let mixtures: [GaussianMixture?]
  private var scratch: [Double]

  public init(encoder: TableEncoder, seed: UInt64) {
    self.encoder = encoder
    plans = ColumnPlans(encoder)
    floatWidth = encoder.layout.floatWidth
    intWidth = encoder.layout.intWidth
    self.seed = seed
    mixtures = encoder.columns.map(\.mixture)
    scratch = [Double](repeating: 0, count: 64)
  }

  /// The float token of a value under the quantile transform of `plan`.
  @inlinable
  public static func quantileToken(_ x: Double, _ plan: ColumnPlan) -> Float {
    Float(QuantileTransform.forward(x, quantiles: plan.quantiles))
  }

  /// Writes numerical column `c`'s tokens for value `x` (NaN for a missing cell) of stream row
  /// `row` at `floats`/`ints` (the row's sections). `token` is the precomputed quantile token
  /// when the caller has one (fit mode and the apply-mode memo), else nil.
  @inline(__always)
  public mutating func writeNumeric(
    column c: Int, value x: Double, token: Float?, row: Int,
    floats: UnsafeMutablePointer<Float>, ints: UnsafeMutablePointer<Int32>
  ) {
    let plan = plans.plans[c]
    let missing = x.isNaN
    if plan.missing >= 0 { ints[plan.missing] = missing ? 1 : 0 }
    if missing {
      // A missing cell's value fields are placeholders: 0 is the median in normal space.
      floats[plan.value] = 0
      if plan.code >= 0 { ints[plan.code] = 0 }
      return
    }
    if !plan.gmm {
      floats[plan.value] = token ?? Self.quantileToken(x, plan)
      return
    }
    // CTGAN §1.1: draw the mode from the posterior (not argmax), then the value within it
    // in units of 4σ, clipped to ±0.99. Unlike CTGAN, a mode that cannot represent x (more
    // than 0.99·4σ away) is not drawn when another can: its +1e-6 share would clip x.
    let mixture = mixtures[c]!
    let k = scratch.withUnsafeMutableBufferPointer { probabilities -> Int in
      let view = UnsafeMutableBufferPointer(rebasing: probabilities[0..<mixture.count])
      mixture.responsibilities(x, into: view)
      var total = 0.0
      for k in 0..<mixture.count {
        if abs(x - mixture.means[k]) > 0.99 * 4 * mixture.stds[k] { view[k] = 0 }
        total += view[k]
      }
      if total == 0 {  // no mode covers x: the posterior as it was
        mixture.responsibilities(x, into: view)
        total = 1
      }
      let u = CounterRandom.uniform(seed: seed, row: UInt64(row), stream: UInt64(c)) * total
      var cumulative = 0.0
      for k in 0..<mixture.count {
        cumulative += view[k]
        if u < cumulative { return k }
      }
      return mixture.count - 1
    }
    let alpha = (x - mixture.means[k]) / (4 * mixture.stds[k])
    floats[plan.value] = Float(max(-0.99, min(0.99, alpha)))
    ints[plan.code] = Int32(k)
  }
}

/// Fit mode: writes every row of a ColumnStore as tokens, block by block.
public enum StoreEncoding {
  /// Encodes `store` with `encoder` (fitted on it) into `writer`.
  /// - Parameter progress: called after each block with the rows done so far.
  public static func write(
    _ store: ColumnStore, encoder: TableEncoder, seed: UInt64, blockRows: Int, to writer: StreamWriter,
    progress: (Int) -> Void = { _ in }
  ) throws {
    var tokens = TokenEncoder(encoder: encoder, seed: seed)
    let width = encoder.columns.count
    // Per column and distinct cell: its parsed value (numerical), its token, or its code.
    var values = [[Double]](repeating: [], count: width)
    var valueTokens = [[Float]](repeating: [], count: width)
    var categoryCodes = [[Int32]](repeating: [], count: width)
    var markers = Set<[UInt8]>()
    for marker in encoder.missingMarkers { markers.insert(Array(marker.utf8)) }
    for (c, column) in encoder.columns.enumerated() {
      let dictionary = store.dictionaries[c]
      switch column.kind {
      case .numerical, .datetime:
        let format = column.dateFormat.flatMap { DateFormat(pattern: $0) }
        values[c] = (0..<dictionary.count).map { code in
          let key = dictionary.key(code)
          if markers.contains(Array(key)) { return .nan }
          return key.withUnsafeBytes { bytes in
            if let format { return format.parse(bytes) ?? .nan }
            return NumberText.parse(bytes)?.value ?? .nan
          }
        }
        if column.transform == .quantile {
          let plan = tokens.plans.plans[c]
          valueTokens[c] = values[c].map { $0.isNaN ? 0 : TokenEncoder.quantileToken($0, plan) }
        }
      case .categorical:
        let lookup = LabelLookup(column.labels!)
        categoryCodes[c] = (0..<dictionary.count).map { code in
          dictionary.key(code).withUnsafeBytes { lookup.code(of: $0)! }
        }
      case .constant, .identifier:
        break
      }
    }
    var block = RowBlock(layout: encoder.layout)
    var row = 0
    while row < store.rows {
      let count = min(blockRows, store.rows - row)
      block.resize(rows: count)
      block.floats.withUnsafeMutableBufferPointer { floats in
        block.ints.withUnsafeMutableBufferPointer { ints in
          for c in 0..<width {
            let codes = store.codes[c]
            switch encoder.columns[c].kind {
            case .categorical:
              let position = tokens.plans.plans[c].code
              let map = categoryCodes[c]
              for r in 0..<count {
                ints[r * tokens.intWidth + position] = map[Int(codes[row + r])]
              }
            case .numerical, .datetime:
              let isQuantile = encoder.columns[c].transform == .quantile
              for r in 0..<count {
                let code = Int(codes[row + r])
                tokens.writeNumeric(
                  column: c, value: values[c][code], token: isQuantile ? valueTokens[c][code] : nil,
                  row: row + r, floats: floats.baseAddress! + r * tokens.floatWidth,
                  ints: ints.baseAddress! + r * tokens.intWidth)
              }
            case .constant, .identifier:
              break
            }
          }
        }
      }
      try writer.write(block)
      row += count
      progress(row)
    }
  }
}

/// Label bytes -> category code, for one categorical column.
struct LabelLookup {
  private var dictionary = ByteDictionary()
  init(_ labels: [String]) {
    for label in labels { dictionary.insert(label) }
  }
  func code(of bytes: UnsafeRawBufferPointer) -> Int32? { dictionary.code(of: bytes) }
}
