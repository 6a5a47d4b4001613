// The self-describing header every stream and model file starts with: what kind of rows follow,
// how each row is laid out, the fitted encoder that turns rows back into a table, and the chain
// of tools that produced it. Byte layout: docs/stream-format.md.

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// What a stream holds. Open-ended, so a reader can name a kind it does not know.
public struct StreamKind: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }

  /// Rows of column tokens from tab-encode (or tab-vae decode, tab-gan sample).
  public static let tokens = StreamKind(rawValue: "tokens")
  /// Rows of latent vectors from tab-vae encode or tab-diffuse sample.
  public static let latents = StreamKind(rawValue: "latents")
  /// A fitted table encoder alone (tab-encode --fit FILE); no rows.
  public static let encoder = StreamKind(rawValue: "encoder")
  /// A trained model: named tensors as rows of width 1, described in the header's `model`.
  public static let model = StreamKind(rawValue: "model")

  public init(from decoder: Decoder) throws {
    rawValue = try decoder.singleValueContainer().decode(String.self)
  }
  public func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }
  public var description: String { rawValue }
}

/// One value position in a row.
public struct FieldDescriptor: Codable, Equatable, Sendable {
  /// Unique name within the stream, e.g. "age", "age.missing", "hours.mode".
  public var name: String
  /// The table column this field comes from, if any.
  public var column: String?
  /// What the value means: "value" (a transformed number), "category" (a code), "missing"
  /// (1 if the cell was missing), "mode" (a mixture-mode code), "latent".
  public var role: String
  /// For int fields: codes lie in 0..<cardinality.
  public var cardinality: Int?

  public init(name: String, column: String? = nil, role: String, cardinality: Int? = nil) {
    self.name = name
    self.column = column
    self.role = role
    self.cardinality = cardinality
  }
}

/// Fixed row width: every row holds `floatFields.count` float32 values, then
/// `intFields.count` int32 values.
public struct RowLayout: Codable, Equatable, Sendable {
  public var floatFields: [FieldDescriptor]
  public var intFields: [FieldDescriptor]

  public init(floatFields: [FieldDescriptor] = [], intFields: [FieldDescriptor] = []) {
    self.floatFields = floatFields
    self.intFields = intFields
  }

  public var floatWidth: Int { floatFields.count }
  public var intWidth: Int { intFields.count }
  /// Bytes one row takes uncompressed.
  public var rowBytes: Int { 4 * (floatWidth + intWidth) }
}

/// One step in the chain of tools that made a stream.
public struct ProvenanceStep: Codable, Equatable, Sendable {
  public var tool: String
  public var version: String
  /// The command line arguments of the run (file names included).
  public var options: [String]
  public var seed: UInt64?

  public init(tool: String, version: String, options: [String] = [], seed: UInt64? = nil) {
    self.tool = tool
    self.version = version
    self.options = options
    self.seed = seed
  }
}

/// The header record's content. Unknown members written by newer tools are ignored on read.
public struct StreamHeader: Codable, Equatable, Sendable {
  public var kind: StreamKind
  public var layout: RowLayout
  /// The fitted table encoder (TabTable's `TableEncoder`), carried so that any downstream stage
  /// can write the table back without side files.
  public var encoder: JSONValue?
  /// A model's configuration and tensor index (model files only).
  public var model: JSONValue?
  /// Tools that made this stream, oldest first.
  public var provenance: [ProvenanceStep]

  public init(
    kind: StreamKind, layout: RowLayout, encoder: JSONValue? = nil, model: JSONValue? = nil,
    provenance: [ProvenanceStep] = []
  ) {
    self.kind = kind
    self.layout = layout
    self.encoder = encoder
    self.model = model
    self.provenance = provenance
  }

  /// Canonical JSON bytes (sorted keys): what the header record stores.
  public func encodedJSON() throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return Array(try encoder.encode(self))
  }

  /// Two streams whose headers agree on everything but provenance can be concatenated
  /// (`cat a.bin b.bin`) and read as one: shards of one job.
  public func isCompatible(with other: StreamHeader) -> Bool {
    var a = self
    var b = other
    a.provenance = []
    b.provenance = []
    return a == b
  }
}
