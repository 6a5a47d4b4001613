// The hyper-parameters of a latent diffusion model (tabsyn.md §3): what the model file stores
// and what every part of TabDiffusion reads its constants from.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Shape and EDM constants of a latent diffusion model.
///
/// The denoiser is TabSyn's MLPDiffusion scaled by `width` W (the reference uses W = 1024):
/// a sinusoidal embedding of c_noise (W features) through Linear(W→W)·SiLU·Linear(W→W) is added
/// to Linear(D→W)(x), then Linear(W→2W)·SiLU·Linear(2W→2W)·SiLU·Linear(2W→W)·SiLU·Linear(W→D)
/// at the reference's `depth` 3 (in general depth − 1 layers of 2W, then one of W).
public struct DiffusionConfig: Codable, Equatable, Sendable {
  /// D, the latent width (float fields of the latent stream).
  public var dimension: Int
  /// W, the denoiser's base width.
  public var width: Int
  /// Hidden layers after the input layer (TabSyn: 3).
  public var depth: Int
  /// σ_data of EDM's preconditioning (TabSyn: 0.5).
  public var sigmaData: Float
  /// Mean of ln σ in the training loss (EDM's P_mean, −1.2).
  public var logSigmaMean: Float
  /// Standard deviation of ln σ in the training loss (EDM's P_std, 1.2).
  public var logSigmaStd: Float
  /// With `.fixed`, latents are normalised as (z − mean) / latentScale (TabSyn: a fixed 2).
  public var latentScale: Float
  /// How latents are scaled before diffusion (model files older than this option: `.fixed`).
  public var normalization: Normalization

  /// The latent normalisation.
  public enum Normalization: String, Codable, Sendable, CaseIterable {
    /// TabSyn's (z − mean) / latentScale, the same divisor for every dimension.
    case fixed
    /// (z − mean_j) · σ_data / std_j: every dimension gets the spread EDM's preconditioning
    /// assumes, so low-variance dimensions (tight category clusters) are not drowned by the
    /// loss on the wide ones (docs/diffusion-recipe.md).
    case standard
    /// σ_data·Σ^(−1/2)·(z − mean) with the latents' full covariance Σ (Whitening.swift): every
    /// direction, not only every axis, gets σ_data.
    case whiten
  }

  public init(
    dimension: Int, width: Int = 256, depth: Int = 3, sigmaData: Float = 0.5, logSigmaMean: Float = -1.2,
    logSigmaStd: Float = 1.2, latentScale: Float = 2, normalization: Normalization = .fixed
  ) {
    self.dimension = dimension
    self.width = width
    self.depth = depth
    self.sigmaData = sigmaData
    self.logSigmaMean = logSigmaMean
    self.logSigmaStd = logSigmaStd
    self.latentScale = latentScale
    self.normalization = normalization
  }

  enum CodingKeys: String, CodingKey {
    case dimension, width, depth, sigmaData, logSigmaMean, logSigmaStd, latentScale, normalization
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    dimension = try c.decode(Int.self, forKey: .dimension)
    width = try c.decode(Int.self, forKey: .width)
    depth = try c.decode(Int.self, forKey: .depth)
    sigmaData = try c.decode(Float.self, forKey: .sigmaData)
    logSigmaMean = try c.decode(Float.self, forKey: .logSigmaMean)
    logSigmaStd = try c.decode(Float.self, forKey: .logSigmaStd)
    latentScale = try c.decode(Float.self, forKey: .latentScale)
    normalization = try c.decodeIfPresent(Normalization.self, forKey: .normalization) ?? .fixed
  }

  /// Widths of the hidden layers after the input layer: depth − 1 of 2W, then W (then D).
  public var hiddenWidths: [Int] { Array(repeating: 2 * width, count: max(depth - 1, 0)) + [width] }

  /// A one-line reason the configuration cannot be built, or nil.
  public var problem: String? {
    if dimension < 1 { return "latent dimension \(dimension) must be at least 1" }
    if width < 2 || width % 2 != 0 { return "width \(width) must be an even number of at least 2" }
    if depth < 1 { return "depth \(depth) must be at least 1" }
    if !(sigmaData > 0) { return "sigma_data must be positive" }
    if !(latentScale > 0) { return "latent scale must be positive" }
    if !(logSigmaStd >= 0) { return "the spread of ln sigma must not be negative" }
    return nil
  }
}

/// EDM's preconditioning coefficients at noise level σ (tabsyn.md §3.3).
public struct Preconditioning: Equatable, Sendable {
  public var skip: Float
  public var out: Float
  public var input: Float
  public var noise: Float

  /// c_skip = σd²/(σ²+σd²), c_out = σ·σd/√(σ²+σd²), c_in = 1/√(σ²+σd²), c_noise = ln(σ)/4.
  /// Computed in Double and rounded once.
  public init(sigma: Float, sigmaData: Float) {
    let s = Double(sigma)
    let d = Double(sigmaData)
    let total = s * s + d * d
    skip = Float(d * d / total)
    out = Float(s * d / total.squareRoot())
    input = Float(1 / total.squareRoot())
    noise = Float(log(s) / 4)
  }
}

