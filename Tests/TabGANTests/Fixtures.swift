// A small synthetic table encoded in process as tab-encode --numeric gmm would, a tiny GAN
// configuration, and one model trained once and shared by the tests that need a trained model.

import TabCore
import TabGAN
import TabStream
import TabTable

/// A 400-row table: a bimodal numerical column, three categorical columns that depend on it,
/// and a binary one last (the conditional-vector offset of a last column is the upstream bug).
func syntheticCSV(rows: Int = 400, seed: UInt64 = 7) -> String {
  var random = SeededGenerator(seed: seed)
  var text = "age,color,size,flag\n"
  let colors = ["red", "green", "blue"]
  let sizes = ["S", "M", "L", "XL"]
  for _ in 0..<rows {
    let young = random.uniformFloat() < 0.6
    let age = young ? 25 + 3 * random.normal() : 60 + 5 * random.normal()
    let color =
      young ? (random.uniformFloat() < 0.8 ? 0 : 1) : (random.uniformFloat() < 0.7 ? 2 : 1)
    let size = random.uniformInt(below: 4)
    let flag = random.uniformFloat() < (young ? 0.2 : 0.7) ? "yes" : "no"
    text += "\(Int(age.rounded())),\(colors[color]),\(sizes[size]),\(flag)\n"
  }
  return text
}

/// The token stream of `csv` (fitted in process), as bytes.
func encode(_ csv: String, numeric: NumericTransform = .gmm) throws -> [UInt8] {
  let reader = CSVReader(source: MemoryInput(csv))
  let store = try ColumnStore.read(reader, options: CSVInputOptions())
  var options = FitOptions()
  options.numeric = numeric
  let (fitted, _) = try TableFitter.fit(store, options: options)
  let header = StreamHeader(
    kind: .tokens, layout: fitted.layout, encoder: try JSONValue(encoding: fitted))
  let output = MemoryOutput()
  let writer = try StreamWriter(sink: output, header: header)
  try StoreEncoding.write(store, encoder: fitted, seed: 0, blockRows: 128, to: writer)
  try writer.finish()
  return output.bytes
}

/// Small widths so that tests run in a debug build in seconds.
func tinyConfig(categorical: Int = 4, continuous: Int = 1) -> GANConfig {
  var config = GANConfig()
  config.noiseWidth = 8
  config.generatorWidths = [32, 32]
  config.criticWidths = [32, 32]
  config.qWidth = 32
  config.pac = 5
  config.batch = 50
  config.categoricalCode = categorical
  config.continuousCodes = continuous
  config.learningRate = 1e-3
  return config
}

struct Setup {
  let reader: StreamReader
  let layout: GANLayout
  let sampler: DataSampler
  let encoder: TableEncoder
  let model: GANModel
  let trainer: GANTrainer
}

/// Reads `bytes`, builds the sampler and a fresh model and trainer from `seed`.
func setup(_ bytes: [UInt8], config: GANConfig, seed: UInt64 = 1) throws -> Setup {
  let reader = try StreamReader(source: MemoryInput(bytes, name: "test.tok"))
  let layout = try GANLayout(reader.header.layout, path: reader.path)
  let sampler = try DataSampler(reader: reader, layout: layout)
  let encoder = try TableEncoder.from(reader.header, path: reader.path)
  let info = GANModelInfo(
    config: config, layout: reader.header.layout, encoder: reader.header.encoder,
    counts: sampler.counts, rows: sampler.rows, epochs: 0)
  var random = SeededGenerator(seed: seed)
  let model = GANModel(config: config, layout: layout, info: info, using: &random)
  let trainer = GANTrainer(model: model, sampler: sampler, using: &random)
  return Setup(
    reader: reader, layout: layout, sampler: sampler, encoder: encoder, model: model,
    trainer: trainer)
}

/// One model trained for `trainedEpochs` epochs on the synthetic table, shared by tests.
let trainedEpochs = 40
nonisolated(unsafe) let trained: Setup = {
  let s = try! setup(try! encode(syntheticCSV()), config: tinyConfig())
  for _ in 0..<trainedEpochs { _ = s.trainer.epoch() }
  return s
}()

/// Total variation distance between the histograms of two code lists over `0..<bins`.
func totalVariation(_ a: [Int32], _ b: [Int32], bins: Int) -> Double {
  var p = [Double](repeating: 0, count: bins)
  var q = [Double](repeating: 0, count: bins)
  for x in a { p[Int(x)] += 1 / Double(a.count) }
  for x in b { q[Int(x)] += 1 / Double(b.count) }
  return 0.5 * zip(p, q).reduce(0) { $0 + abs($1.0 - $1.1) }
}

/// `rows` sampled rows as a block.
func sample(
  _ s: Setup, rows: Int, conditions: [String] = [], codes: [Int: Float] = [:], seed: UInt64 = 3
) throws -> (RowBlock, GANSampler) {
  let parsed = try conditions.map { try SampleCondition($0, encoder: s.encoder, layout: s.layout) }
  let sampler = try GANSampler(
    model: s.model, encoder: s.encoder, conditions: parsed, codes: codes, seed: seed, batchRows: 200
  )
  var all = RowBlock(layout: s.layout.tokenLayout)
  try sampler.sample(rows: rows, blockRows: 97) { block in
    let at = all.rows
    all.resize(rows: at + block.rows)
    for k in 0..<block.rows * block.floatWidth {
      all.floats[at * block.floatWidth + k] = block.floats[k]
    }
    for k in 0..<block.rows * block.intWidth { all.ints[at * block.intWidth + k] = block.ints[k] }
  }
  return (all, sampler)
}

/// Int field `field` of every row.
func column(_ block: RowBlock, field: Int) -> [Int32] {
  (0..<block.rows).map { block.int(row: $0, field: field) }
}
