// A trained latent diffusion model as a whole: the denoiser, the latent normalisation, and what
// the latent stream it learned from carried (layout, table encoder, VAE identity), saved in and
// loaded from a TabCore checkpoint (a tensor stream of kind `model`).

import TabCore
import TabStream

/// Why a stream cannot be used as training latents, or a model file as a diffusion model.
public enum DiffusionError: Error, Equatable, Sendable, CustomStringConvertible {
  case notLatents(path: String, kind: String)
  case badLayout(path: String, detail: String)
  case tooFewRows(path: String, rows: Int)
  case notFinite(path: String, row: Int, field: String)
  case notADiffusionModel(path: String, detail: String)
  /// `--normalization whiten` on latents whose covariance cannot be inverted: they do not vary
  /// in any direction (`varies == false`), or it is not finite.
  case singularCovariance(path: String, varies: Bool)

  public var description: String {
    switch self {
    case .notLatents(let path, let kind):
      return "\(path): stream of kind '\(kind)', expected 'latents' (make them with tab-vae encode)"
    case .badLayout(let path, let detail):
      return "\(path): not a latent stream: \(detail)"
    case .tooFewRows(let path, let rows):
      return "\(path): \(rows) latent row(s); at least 2 are needed to train"
    case .notFinite(let path, let row, let field):
      return "\(path): row \(row + 1), field \(field): value is not finite"
    case .notADiffusionModel(let path, let detail):
      return "\(path): not a tab-diffuse model: \(detail)"
    case .singularCovariance(let path, let varies):
      let cause =
        varies
        ? "it is not finite" : "the latents do not vary (no direction has a standard deviation above 1e-6)"
      return
        "\(path): cannot whiten the latents: their covariance is singular (\(cause)); "
        + "use --normalization standard"
    }
  }
}

extension DiffusionError: BadDataError {}

/// What a latent stream carried, kept with the model and written into every sampled stream.
public struct LatentOrigin: Codable, Equatable, Sendable {
  /// The latent stream's float fields (z0 … z{D−1}, role `latent`).
  public var layout: RowLayout
  /// The table encoder carried from upstream, verbatim.
  public var encoder: JSONValue?
  /// The latent stream's `model` member (VAE identity, tokens, token width), verbatim.
  public var model: JSONValue?

  public init(layout: RowLayout, encoder: JSONValue?, model: JSONValue?) {
    self.layout = layout
    self.encoder = encoder
    self.model = model
  }

  /// Checks a latent stream's header: kind `latents`, float fields only.
  public init(header: StreamHeader, path: String) throws {
    guard header.kind == .latents else {
      throw DiffusionError.notLatents(path: path, kind: header.kind.rawValue)
    }
    guard header.layout.intWidth == 0 else {
      throw DiffusionError.badLayout(
        path: path, detail: "\(header.layout.intWidth) int field(s); latents are floats only")
    }
    guard header.layout.floatWidth >= 1 else {
      throw DiffusionError.badLayout(path: path, detail: "no float fields")
    }
    self.init(layout: header.layout, encoder: header.encoder, model: header.model)
  }

  /// The header of a latent stream this model writes.
  public func header(provenance: [ProvenanceStep]) -> StreamHeader {
    StreamHeader(kind: .latents, layout: layout, encoder: encoder, model: model, provenance: provenance)
  }
}

/// How training went, for the model file and tab-info.
public struct TrainingSummary: Codable, Equatable, Sendable {
  public var rows: Int
  public var epochs: Int
  public var bestEpoch: Int
  public var bestLoss: Double
  public var seconds: Double
  public var seed: UInt64

  public init(rows: Int, epochs: Int, bestEpoch: Int, bestLoss: Double, seconds: Double, seed: UInt64) {
    self.rows = rows
    self.epochs = epochs
    self.bestEpoch = bestEpoch
    self.bestLoss = bestLoss
    self.seconds = seconds
    self.seed = seed
  }
}

/// The configuration member of a diffusion model file.
public struct DiffusionModelConfiguration: Codable, Equatable, Sendable {
  /// Always "tab-diffuse": tells this model file from the others.
  public var model: String
  public var diffusion: DiffusionConfig
  public var latents: LatentOrigin
  public var training: TrainingSummary?
}

/// The denoiser, the latent normalisation and the latent stream's header members.
public final class LatentModel {
  public let denoiser: Denoiser
  /// `normalization.mean` (1, D): the training latents' mean; with `.standard` normalisation
  /// `normalization.scale` (1, D): the divisor std_j / σ_data; with `.whiten`
  /// `normalization.whitening` (D, D) σ_data·Σ^(−1/2) and `normalization.coloring` (D, D) its
  /// inverse (checkpoint buffers).
  public let buffers: ParameterArena
  public let origin: LatentOrigin
  public var training: TrainingSummary?

  public var config: DiffusionConfig { denoiser.config }
  public var mean: Matrix { buffers["normalization.mean"].value }

  public init(config: DiffusionConfig, origin: LatentOrigin) {
    precondition(origin.layout.floatWidth == config.dimension, "LatentModel: dimension")
    denoiser = Denoiser(config: config)
    var shapes = [ParameterShape("normalization.mean", rows: 1, cols: config.dimension)]
    switch config.normalization {
    case .fixed: break
    case .standard: shapes.append(ParameterShape("normalization.scale", rows: 1, cols: config.dimension))
    case .whiten:
      shapes.append(ParameterShape("normalization.whitening", rows: config.dimension, cols: config.dimension))
      shapes.append(ParameterShape("normalization.coloring", rows: config.dimension, cols: config.dimension))
    }
    buffers = ParameterArena(shapes)
    self.origin = origin
  }

  /// The divisor of each dimension: std_j / σ_data (`.standard`) or the fixed scale
  /// (`.whiten` has none: it mixes dimensions).
  func divisor(_ j: Int) -> Float {
    switch config.normalization {
    case .fixed: return config.latentScale
    case .standard: return buffers["normalization.scale"].value.base[j]
    case .whiten: preconditionFailure("LatentModel.divisor: whitening has no per-dimension divisor")
    }
  }

  /// Sets the normalisation (mean, and the per-dimension scale with `.standard`, the whitening
  /// matrices with `.whiten`) from raw latents (rows, D), accumulated in Double. A dimension
  /// that does not vary gets a unit divisor with `.standard` (nothing to spread, no 1/0).
  /// - Throws: `DiffusionError.singularCovariance` naming `path` with `.whiten` when the
  ///   latents do not vary in any direction or their covariance is not finite: there is no
  ///   Σ^(−1/2) (the floor on its eigenvalues is relative to the largest, itself 0).
  public func fitNormalization(_ latents: Matrix, path: String = "latents") throws {
    let d = config.dimension
    let n = Double(max(latents.rows, 1))
    var sums = [Double](repeating: 0, count: d)
    for i in 0..<latents.rows {
      let row = latents.row(i)
      for j in 0..<d { sums[j] += Double(row[j]) }
    }
    let means = sums.map { $0 / n }
    for j in 0..<d { mean.base[j] = Float(means[j]) }
    if config.normalization == .whiten {
      do throws(SingularCovariance) {
        try fitWhitening(latents, means: means)
      } catch {
        throw DiffusionError.singularCovariance(path: path, varies: error != .noVariance)
      }
      return
    }
    guard config.normalization == .standard else { return }
    var squares = [Double](repeating: 0, count: d)
    for i in 0..<latents.rows {
      let row = latents.row(i)
      for j in 0..<d {
        let c = Double(row[j]) - means[j]
        squares[j] += c * c
      }
    }
    let scale = buffers["normalization.scale"].value
    for j in 0..<d {
      let std = (squares[j] / n).squareRoot()
      // A constant dimension keeps a unit divisor: there is nothing to spread.
      scale.base[j] = std > 1e-6 ? Float(std / Double(config.sigmaData)) : 1
    }
  }

  /// Σ (accumulated in Double over the rows) and the whitening and colouring matrices.
  /// - Throws: `SingularCovariance` (then the buffers are left as they were).
  func fitWhitening(_ latents: Matrix, means: [Double]) throws(SingularCovariance) {
    let d = config.dimension
    var covariance = [Double](repeating: 0, count: d * d)
    var centred = [Double](repeating: 0, count: d)
    for i in 0..<latents.rows {
      let row = latents.row(i)
      for j in 0..<d { centred[j] = Double(row[j]) - means[j] }
      for j in 0..<d {
        let cj = centred[j]
        for k in j..<d { covariance[j * d + k] += cj * centred[k] }
      }
    }
    let n = Double(max(latents.rows, 1))
    for j in 0..<d {
      for k in j..<d {
        covariance[j * d + k] /= n
        covariance[k * d + j] = covariance[j * d + k]
      }
    }
    let (whitening, coloring) = try whiteningMatrices(
      covariance: covariance, n: d, sigmaData: Double(config.sigmaData))
    // Entries beyond float32's range (a covariance near 1e76) would turn every row into inf.
    guard whitening.allSatisfy({ Float($0).isFinite }) && coloring.allSatisfy({ Float($0).isFinite }) else {
      throw .notFinite
    }
    let w = buffers["normalization.whitening"].value
    let c = buffers["normalization.coloring"].value
    for k in 0..<d * d {
      w.base[k] = Float(whitening[k])
      c.base[k] = Float(coloring[k])
    }
  }

  /// `x ← (x + shift)·M` in place (M symmetric D × D), through a scratch copy.
  func multiplyRows(_ x: Matrix, by m: Matrix, addingFirst shift: Float) {
    let workspace = Workspace()
    withExtendedLifetime(workspace) {
      let copy = workspace.matrix(rows: x.rows, cols: x.cols)
      for i in 0..<x.rows {
        let from = x.row(i)
        let to = copy.row(i)
        for j in 0..<x.cols { to[j] = from[j] + shift * mean.base[j] }
      }
      gemm(copy, m, into: x)
    }
  }

  /// (z − mean) / divisor in place, or σ_data·Σ^(−1/2)·(z − mean) with `.whiten`.
  public func normalize(_ latents: Matrix) {
    if config.normalization == .whiten {
      multiplyRows(latents, by: buffers["normalization.whitening"].value, addingFirst: -1)
      return
    }
    let inverses = (0..<config.dimension).map { 1 / divisor($0) }
    for i in 0..<latents.rows {
      let row = latents.row(i)
      for j in 0..<latents.cols { row[j] = (row[j] - mean.base[j]) * inverses[j] }
    }
  }

  /// x·divisor + mean in place (with `.whiten`, Σ^(1/2)·x/σ_data + mean).
  public func denormalize(_ x: Matrix) {
    if config.normalization == .whiten {
      multiplyRows(x, by: buffers["normalization.coloring"].value, addingFirst: 0)
      for i in 0..<x.rows {
        let row = x.row(i)
        for j in 0..<x.cols { row[j] += mean.base[j] }
      }
      return
    }
    let scales = (0..<config.dimension).map(divisor)
    for i in 0..<x.rows {
      let row = x.row(i)
      for j in 0..<x.cols { row[j] = row[j] * scales[j] + mean.base[j] }
    }
  }

  public var configuration: DiffusionModelConfiguration {
    DiffusionModelConfiguration(
      model: "tab-diffuse", diffusion: config, latents: origin, training: training)
  }

  /// Writes the model (the parameter values currently in the arena) as a checkpoint stream.
  public func write(to sink: ByteSink, provenance: [ProvenanceStep], level: Int32 = 3) throws {
    try Checkpoint.write(
      parameters: denoiser.arena, buffers: buffers, configuration: try JSONValue(encoding: configuration),
      provenance: provenance, to: sink, level: level)
  }

  /// Reads a model file written by `write`; returns the model and the file's provenance.
  public static func read(from source: ByteSource) throws -> (LatentModel, [ProvenanceStep]) {
    let reader = try Checkpoint.Reader(source: source)
    let configuration: DiffusionModelConfiguration
    do {
      configuration = try reader.checkpoint.configuration.decode(as: DiffusionModelConfiguration.self)
    } catch {
      throw DiffusionError.notADiffusionModel(
        path: reader.path, detail: "its configuration is not a diffusion model's")
    }
    guard configuration.model == "tab-diffuse" else {
      throw DiffusionError.notADiffusionModel(
        path: reader.path, detail: "it was made by \(configuration.model)")
    }
    if let problem = configuration.diffusion.problem {
      throw DiffusionError.notADiffusionModel(path: reader.path, detail: problem)
    }
    guard configuration.latents.layout.floatWidth == configuration.diffusion.dimension else {
      throw DiffusionError.notADiffusionModel(
        path: reader.path, detail: "latent layout and dimension disagree")
    }
    let model = LatentModel(config: configuration.diffusion, origin: configuration.latents)
    model.training = configuration.training
    try reader.load(into: model.denoiser.arena, buffers: model.buffers)
    return (model, reader.provenance)
  }
}

/// Reads a whole latent stream into memory (rows, D floats), checking header and values.
public func readLatents(_ reader: StreamReader) throws -> (origin: LatentOrigin, values: [Float], rows: Int) {
  let origin = try LatentOrigin(header: reader.header, path: reader.path)
  let d = origin.layout.floatWidth
  var values: [Float] = []
  var block = RowBlock(layout: reader.header.layout)
  var rows = 0
  while try reader.read(into: &block) {
    for (k, v) in block.floats.enumerated() where !v.isFinite {
      throw DiffusionError.notFinite(
        path: reader.path, row: rows + k / d, field: origin.layout.floatFields[k % d].name)
    }
    values.append(contentsOf: block.floats)
    rows += block.rows
  }
  return (origin, values, rows)
}
