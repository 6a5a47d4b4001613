// TabSyn's MLP denoiser F (tabsyn.md §3.2) with EDM's preconditioning (§3.3) and loss (§3.4):
// explicit forward and backward over TabCore layers, activations sized once per batch capacity.

import TabCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The denoiser's parameters and layers. D(x; σ) = c_skip·x + c_out·F(c_in·x, c_noise).
public final class Denoiser {
  public let config: DiffusionConfig
  public let arena: ParameterArena
  let embed0: Linear
  let embed1: Linear
  let input: Linear
  let hidden: [Linear]
  let output: Linear
  let embedding: NoiseEmbedding
  let silu = SiLU()

  /// The parameter tensors of a denoiser with `config`, in file order.
  public static func parameterShapes(_ config: DiffusionConfig) -> [ParameterShape] {
    let w = config.width
    var shapes = Linear.parameterShapes("embed.0", inputs: w, outputs: w)
    shapes += Linear.parameterShapes("embed.1", inputs: w, outputs: w)
    shapes += Linear.parameterShapes("input", inputs: config.dimension, outputs: w)
    var previous = w
    for (i, width) in config.hiddenWidths.enumerated() {
      shapes += Linear.parameterShapes("hidden.\(i)", inputs: previous, outputs: width)
      previous = width
    }
    shapes += Linear.parameterShapes("output", inputs: previous, outputs: config.dimension)
    return shapes
  }

  /// A denoiser with zeroed parameters (call `initialize` or load a checkpoint).
  /// - Precondition: `config.problem == nil`.
  public init(config: DiffusionConfig) {
    precondition(config.problem == nil, "Denoiser: \(config.problem ?? "")")
    self.config = config
    let arena = ParameterArena(Self.parameterShapes(config))
    self.arena = arena
    embed0 = Linear("embed.0", in: arena)
    embed1 = Linear("embed.1", in: arena)
    input = Linear("input", in: arena)
    hidden = config.hiddenWidths.indices.map { Linear("hidden.\($0)", in: arena) }
    output = Linear("output", in: arena)
    embedding = NoiseEmbedding(width: config.width, order: .sinFirst)
  }

  /// PyTorch's default initialisation of every layer.
  public func initialize(using generator: inout SeededGenerator) {
    for layer in [embed0, embed1, input] + hidden + [output] { layer.initialize(using: &generator) }
  }

  var layers: [Linear] { [embed0, embed1, input] + hidden + [output] }
}

/// The activations of one batch shape (capacity rows; any smaller batch uses the first rows).
public final class DenoiserWorkspace {
  public let capacity: Int
  let workspace = Workspace()
  // Forward.
  let xIn, noise, sinusoid, e1, s1, emb, h0, f: Matrix
  let a: [Matrix]
  let p: [Matrix]
  // Backward.
  let dF, dH0, dS1, dE1: Matrix
  let dA: [Matrix]
  let dP: [Matrix]

  public init(config: DiffusionConfig, capacity: Int) {
    precondition(capacity >= 1, "DenoiserWorkspace: capacity \(capacity)")
    self.capacity = capacity
    let ws = workspace
    let w = config.width
    let d = config.dimension
    xIn = ws.matrix(rows: capacity, cols: d)
    noise = ws.matrix(rows: capacity, cols: 1)
    sinusoid = ws.matrix(rows: capacity, cols: w)
    e1 = ws.matrix(rows: capacity, cols: w)
    s1 = ws.matrix(rows: capacity, cols: w)
    emb = ws.matrix(rows: capacity, cols: w)
    h0 = ws.matrix(rows: capacity, cols: w)
    a = config.hiddenWidths.map { ws.matrix(rows: capacity, cols: $0) }
    p = config.hiddenWidths.map { ws.matrix(rows: capacity, cols: $0) }
    f = ws.matrix(rows: capacity, cols: d)
    dF = ws.matrix(rows: capacity, cols: d)
    dH0 = ws.matrix(rows: capacity, cols: w)
    dS1 = ws.matrix(rows: capacity, cols: w)
    dE1 = ws.matrix(rows: capacity, cols: w)
    dA = config.hiddenWidths.map { ws.matrix(rows: capacity, cols: $0) }
    dP = config.hiddenWidths.map { ws.matrix(rows: capacity, cols: $0) }
  }
}

extension Denoiser {
  /// F(xIn, c_noise) for the first `rows` rows of `ws.xIn` and `ws.noise` into `ws.f`.
  ///
  /// With `sharedNoise` (every row has the noise level of row 0, as in sampling) the noise
  /// embedding is computed once and added to every row, which gives the same numbers as
  /// computing it per row.
  public func forward(rows: Int, _ ws: DenoiserWorkspace, sharedNoise: Bool = false) {
    precondition(rows >= 1 && rows <= ws.capacity, "Denoiser.forward: \(rows) rows")
    let embRows = sharedNoise ? 1 : rows
    let sinusoid = ws.sinusoid.rows(0..<embRows)
    let e1 = ws.e1.rows(0..<embRows)
    let s1 = ws.s1.rows(0..<embRows)
    let emb = ws.emb.rows(0..<embRows)
    embedding.forward(ws.noise.rows(0..<embRows), into: sinusoid)
    embed0.forward(sinusoid, into: e1)
    silu.forward(e1, into: s1)
    embed1.forward(s1, into: emb)
    let h0 = ws.h0.rows(0..<rows)
    input.forward(ws.xIn.rows(0..<rows), into: h0)
    if sharedNoise {
      for i in 0..<rows { add(emb.base, into: h0.row(i), count: h0.cols) }
    } else {
      add(emb.base, into: h0.base, count: h0.count)
    }
    var previous = h0
    for (i, layer) in hidden.enumerated() {
      let a = ws.a[i].rows(0..<rows)
      let p = ws.p[i].rows(0..<rows)
      layer.forward(previous, into: a)
      siluParallel(a, into: p)
      previous = p
    }
    output.forward(previous, into: ws.f.rows(0..<rows))
  }

  /// Accumulates parameter gradients from ∂L/∂F in `ws.dF` (first `rows` rows), after a
  /// per-row `forward` of the same rows.
  public func backward(rows: Int, _ ws: DenoiserWorkspace) {
    let last = hidden.count - 1
    let dP = ws.dP[last].rows(0..<rows)
    dP.zero()
    output.backward(ws.dF.rows(0..<rows), input: ws.p[last].rows(0..<rows), dx: dP)
    for i in stride(from: last, through: 0, by: -1) {
      let dA = ws.dA[i].rows(0..<rows)
      dA.zero()
      siluBackwardParallel(ws.dP[i].rows(0..<rows), input: ws.a[i].rows(0..<rows), dx: dA)
      let dInput = i == 0 ? ws.dH0.rows(0..<rows) : ws.dP[i - 1].rows(0..<rows)
      dInput.zero()
      let x = i == 0 ? ws.h0.rows(0..<rows) : ws.p[i - 1].rows(0..<rows)
      hidden[i].backward(dA, input: x, dx: dInput)
    }
    let dH0 = ws.dH0.rows(0..<rows)
    input.backward(dH0, input: ws.xIn.rows(0..<rows), dx: nil)
    // h0 = input(x) + emb: the embedding's gradient is dH0.
    let dS1 = ws.dS1.rows(0..<rows)
    dS1.zero()
    embed1.backward(dH0, input: ws.s1.rows(0..<rows), dx: dS1)
    let dE1 = ws.dE1.rows(0..<rows)
    dE1.zero()
    silu.backward(dS1, input: ws.e1.rows(0..<rows), dx: dE1)
    embed0.backward(dE1, input: ws.sinusoid.rows(0..<rows), dx: nil)
  }

  /// The preconditioned denoiser D(x; σ) at one σ for every row: `x` (rows, D) into `result`.
  public func denoise(_ x: Matrix, sigma: Float, into result: Matrix, _ ws: DenoiserWorkspace) {
    let rows = x.rows
    precondition(x.cols == config.dimension && result.rows == rows && result.cols == x.cols)
    let c = Preconditioning(sigma: sigma, sigmaData: config.sigmaData)
    let xIn = ws.xIn.rows(0..<rows)
    for i in 0..<x.count { xIn.base[i] = c.input * x.base[i] }
    ws.noise.base[0] = c.noise
    forward(rows: rows, ws, sharedNoise: true)
    let f = ws.f.base
    for i in 0..<x.count { result.base[i] = c.skip * x.base[i] + c.out * f[i] }
  }

  /// EDM's loss on clean rows `y` (rows, D) with given noise levels σ_i (`sigma`, rows values)
  /// and unit normals `epsilon` (rows, D): x = y + σ·ε, L = mean λ(σ)·(D(x; σ) − y)².
  /// Fills the forward activations and, if `gradient`, ∂L/∂F in `ws.dF` (call `backward` next).
  ///
  /// Since λ(σ)·c_out² = 1, L = mean (F − (y − c_skip·x)/c_out)², which is how it is computed.
  public func loss(
    clean y: Matrix, sigma: UnsafePointer<Float>, epsilon: Matrix, _ ws: DenoiserWorkspace,
    gradient: Bool
  ) -> Double {
    let rows = y.rows
    let d = config.dimension
    precondition(y.cols == d && epsilon.rows == rows && epsilon.cols == d && rows <= ws.capacity)
    // Targets of F go in dF's memory until the forward is done.
    let target = ws.dF.rows(0..<rows)
    for i in 0..<rows {
      let c = Preconditioning(sigma: sigma[i], sigmaData: config.sigmaData)
      ws.noise.base[i] = c.noise
      let yRow = y.row(i)
      let eRow = epsilon.row(i)
      let xRow = ws.xIn.row(i)
      let tRow = target.row(i)
      let s = sigma[i]
      for j in 0..<d {
        let x = yRow[j] + s * eRow[j]
        xRow[j] = c.input * x
        tRow[j] = (yRow[j] - c.skip * x) / c.out
      }
    }
    forward(rows: rows, ws)
    let f = ws.f.base
    let t = target.base
    let n = rows * d
    var total = 0.0
    let factor = 2 / Float(n)
    for i in 0..<n {
      let diff = f[i] - t[i]
      total += Double(diff * diff)
      if gradient { t[i] = factor * diff }
    }
    return total / Double(n)
  }
}

/// SiLU over two threads for large activations (TabCore's kernel is single-threaded).
func siluParallel(_ x: Matrix, into y: Matrix) {
  ParallelFor.run(count: x.count) { range in
    siluForward(x.base + range.lowerBound, into: y.base + range.lowerBound, count: range.count)
  }
}

func siluBackwardParallel(_ dy: Matrix, input x: Matrix, dx: Matrix) {
  ParallelFor.run(count: x.count) { range in
    siluBackward(
      dy.base + range.lowerBound, input: x.base + range.lowerBound,
      dx: dx.base + range.lowerBound, count: range.count)
  }
}
