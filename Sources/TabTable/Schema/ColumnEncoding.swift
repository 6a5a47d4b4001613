// What tab-encode learned about one column, and everything tab-decode needs to write the
// column back exactly: its kind, its fitted transform, its number style or date format, its
// category labels, and how missing cells were written. Stored as JSON in every stream header.

/// How a column is modelled.
public enum ColumnKind: String, Codable, Sendable, CaseIterable {
  /// A quantity: quantile-normal (or mode-specific) value, plus a missing indicator if needed.
  case numerical
  /// Labels: an integer code per distinct label (a missing marker is a label of its own).
  case categorical
  /// Dates and timestamps: modelled as seconds since 1970, written back in the input's format.
  case datetime
  /// One value in every row: not modelled, written back as is.
  case constant
  /// All values distinct (a row number, a key): not modelled; decode writes a fresh sequence.
  case identifier
}

/// How numbers of a column are written.
public struct NumberStyle: Codable, Equatable, Sendable {
  /// Every value was an integer written without a point or exponent.
  public var integer: Bool
  /// The most digits after the point seen.
  public var decimals: Int
  /// Every value had exactly `decimals` digits (e.g. prices "3.50"): write them all; else
  /// trailing zeros are trimmed.
  public var fixed: Bool
  /// Some value used an exponent (1e-5): write the shortest exact form instead.
  public var exponent: Bool

  /// The most decimals a style keeps: 1074 digits write every double exactly (the smallest
  /// subnormal has that many); fitting clamps to it and stream readers refuse more.
  public static let maxDecimals = 1074

  public init(integer: Bool, decimals: Int, fixed: Bool, exponent: Bool) {
    self.integer = integer
    self.decimals = decimals
    self.fixed = fixed
    self.exponent = exponent
  }
}

/// The mathematical transform of a numerical or datetime column.
public enum NumericTransform: String, Codable, Sendable {
  /// Quantiles to a standard normal (TabSyn).
  case quantile
  /// Mode-specific normalization: a Gaussian mixture mode and the value within it (CTGAN).
  case gmm
}

/// The fitted encoding of one column.
public struct ColumnEncoding: Codable, Equatable, Sendable {
  /// The header name, byte-exact.
  public var name: String
  public var kind: ColumnKind
  /// Cells that held a value / a missing marker, when fitted.
  public var count: Int
  public var missing: Int

  // numerical and datetime
  /// The text written for a missing cell (the marker seen most often).
  public var missingMarker: String?
  public var transform: NumericTransform?
  public var quantiles: QuantileTransform?
  public var mixture: GaussianMixture?
  public var minimum: Double?
  public var maximum: Double?
  public var style: NumberStyle?
  /// A `DateFormat` pattern (datetime columns).
  public var dateFormat: String?
  /// The distinct values, ascending, when there are at most the snap limit of them: decoded
  /// values snap to the nearest, so such columns round-trip exactly.
  public var values: [Double]?
  /// For each of `values`, the text it was written as most often: decoding writes it, so such
  /// columns come back byte for byte ("1e-3", "3.50", "07:05").
  public var valueTexts: [String]?

  // categorical
  /// Labels in code order (sorted by bytes), byte-exact.
  public var labels: [String]?
  /// How often each label occurred when fitted.
  public var counts: [Int]?
  /// Codes whose label is a missing marker ("?" in adult), so metrics can count missing cells.
  public var missingCodes: [Int]?

  // constant
  public var constant: String?

  // identifier
  /// For an integer arithmetic sequence (a row number): its first value and step. Decoding
  /// continues the sequence; without one, identifier cells decode as empty.
  public var sequenceStart: Double?
  public var sequenceStep: Double?

  public init(name: String, kind: ColumnKind, count: Int, missing: Int) {
    self.name = name
    self.kind = kind
    self.count = count
    self.missing = missing
  }

  /// Number of categories (categorical) or mixture modes (gmm).
  public var cardinality: Int { labels?.count ?? 0 }

  /// True when the column has a missing indicator field (numerical and datetime only).
  public var hasMissingField: Bool {
    (kind == .numerical || kind == .datetime) && missing > 0
  }

  /// True when the column puts a value in the float section.
  public var hasValueField: Bool { kind == .numerical || kind == .datetime }
}
