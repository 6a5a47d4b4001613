// The VAE's model file: a TabCore checkpoint (kind `model`) whose configuration carries the
// VAE's sizes, the token layout it was trained on and the table encoder from the training
// stream's header, so that `tab-vae decode | tab-decode` needs no side files. Also the latent
// stream's header (docs: latent stream contract) and the model identity it carries.

import TabCore
import TabStream

/// What a VAE model file's configuration member holds.
public struct VAEFileConfiguration: Codable, Sendable {
  /// Names this layout of the configuration member.
  public var format = "tabpipe-vae/1"
  public var config: VAEConfig
  /// The token layout of the training stream (the layout `decode` writes).
  public var layout: RowLayout
  /// The training stream's `encoder` member, copied verbatim (nil if it had none).
  public var encoder: JSONValue?
  /// The model's identity: FNV-1a 64 of its parameter bytes, lowercase hex.
  public var id: String
  /// The epoch whose parameters were kept, and its validation loss (MSE + CE).
  public var bestEpoch: Int
  public var validationLoss: Double?
}

/// A trained VAE with what it needs to read and write streams.
public struct VAEModelFile {
  public let model: VAEModel
  public let configuration: VAEFileConfiguration
  public let path: String

  /// FNV-1a (64-bit) over the little-endian bytes of every parameter value, in arena order.
  public static func identity(of model: VAEModel) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for p in model.parameters.arena.parameters {
      for i in 0..<p.value.count {
        var bits = p.value.base[i].bitPattern.littleEndian
        for _ in 0..<4 {
          hash ^= UInt64(bits & 0xff)
          hash = hash &* 0x100_0000_01b3
          bits >>= 8
        }
      }
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
  }

  /// Writes `model` as a model file to `sink`.
  public static func write(
    _ model: VAEModel, layout: RowLayout, encoder: JSONValue?, bestEpoch: Int,
    validationLoss: Double?, provenance: [ProvenanceStep], to sink: ByteSink, level: Int32 = 3
  ) throws {
    let configuration = VAEFileConfiguration(
      config: model.config, layout: layout, encoder: encoder, id: identity(of: model),
      bestEpoch: bestEpoch, validationLoss: validationLoss)
    try Checkpoint.write(
      parameters: model.parameters.arena, configuration: try JSONValue(encoding: configuration),
      provenance: provenance, to: sink, level: level)
  }

  /// Reads a model file.
  /// - Throws: `StreamError`, `CheckpointError`, `VAEDataError` (not a VAE's file), `IOError`.
  public static func read(_ source: ByteSource) throws -> VAEModelFile {
    let reader = try Checkpoint.Reader(source: source)
    let configuration: VAEFileConfiguration
    do {
      configuration = try reader.checkpoint.configuration.decode(as: VAEFileConfiguration.self)
    } catch {
      throw VAEDataError("\(reader.path): not a tab-vae model file (its configuration is not a VAE's)")
    }
    let config = configuration.config
    guard config.width >= 1, config.layers >= 1, config.heads >= 1, config.width % config.heads == 0,
      config.hidden >= 1, config.decoderTokens >= 1, config.categories.allSatisfy({ $0 >= 1 }),
      config.numerical == configuration.layout.floatWidth,
      config.categories.count == configuration.layout.intWidth
    else {
      throw VAEDataError("\(reader.path): inconsistent VAE configuration")
    }
    let model = VAEModel(config)
    try reader.load(into: model.parameters.arena)
    return VAEModelFile(model: model, configuration: configuration, path: reader.path)
  }

  /// The layout of a latent stream with `width` floats: z0 ..< z{width−1}, role `latent`.
  public static func latentLayout(width: Int) -> RowLayout {
    RowLayout(floatFields: (0..<width).map { FieldDescriptor(name: "z\($0)", role: "latent") })
  }

  /// The header of the latents this model writes.
  public func latentHeader(provenance: [ProvenanceStep]) -> StreamHeader {
    StreamHeader(
      kind: .latents, layout: Self.latentLayout(width: model.config.latentWidth),
      encoder: configuration.encoder,
      model: .object([
        "vae": .string(configuration.id),
        "tokens": .number(Double(model.config.decoderTokens)),
        "token_width": .number(Double(model.config.width)),
      ]), provenance: provenance)
  }

  /// The header of the token streams `decode` writes: the training stream's layout and encoder.
  public func tokenHeader(provenance: [ProvenanceStep]) -> StreamHeader {
    StreamHeader(
      kind: .tokens, layout: configuration.layout, encoder: configuration.encoder,
      provenance: provenance)
  }

  /// Checks that a token stream fits this model (same fields, kinds and cardinalities).
  public func checkTokens(_ header: StreamHeader, path: String) throws {
    let want = configuration.layout
    let got = header.layout
    guard got.floatWidth == want.floatWidth && got.intWidth == want.intWidth
      && zip(got.intFields, want.intFields).allSatisfy({ ($0.cardinality ?? 2) == ($1.cardinality ?? 2) })
    else {
      throw VAEDataError(
        "\(path): token layout (\(got.floatWidth) floats, \(got.intWidth) ints) does not match "
          + "the VAE's (\(want.floatWidth) floats, \(want.intWidth) ints); was the model trained on another table?")
    }
  }

  /// Checks that a latent stream was made by (or for) this VAE.
  public func checkLatents(_ header: StreamHeader, path: String) throws {
    let width = model.config.latentWidth
    guard header.layout.floatWidth == width && header.layout.intWidth == 0 else {
      throw VAEDataError(
        "\(path): latent rows hold \(header.layout.floatWidth) floats and \(header.layout.intWidth) ints, "
          + "this VAE reads \(width) floats")
    }
    if case .string(let id)? = header.model?["vae"], id != configuration.id {
      throw VAEDataError(
        "\(path): latents belong to VAE \(id), this model is \(configuration.id); decode with the VAE that made the training latents")
    }
  }
}
