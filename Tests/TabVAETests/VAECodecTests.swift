// The streaming halves: chunking a block does not change its latents or tokens, encode's mean
// is what the training forward feeds the decoder with z = μ, and decode's argmax is the logits'.

import Testing

@testable import TabCore
@testable import TabStream
@testable import TabVAE

@Suite struct VAECodecTests {
  let config = VAEConfig(numerical: 2, categories: [3, 2, 2], width: 4, layers: 2, heads: 1, hidden: 16)

  func block(rows: Int, seed: UInt64) -> RowBlock {
    var generator = SeededGenerator(seed: seed)
    var block = RowBlock(floatWidth: config.numerical, intWidth: config.categories.count, capacity: rows)
    block.resize(rows: rows)
    for i in 0..<rows * config.numerical { block.floats[i] = generator.normal() }
    for r in 0..<rows {
      for (j, k) in config.categories.enumerated() {
        block.ints[r * config.categories.count + j] = Int32(generator.uniformInt(below: k))
      }
    }
    return block
  }

  @Test func chunkingDoesNotChangeResults() {
    let model = VAEModel(config)
    var generator = SeededGenerator(seed: 3)
    model.initialize(using: &generator)
    let tokens = block(rows: 37, seed: 4)
    var none: SeededGenerator? = nil
    let small = VAECodec(model: model, chunkRows: 5), large = VAECodec(model: model, chunkRows: 100)
    let z1 = small.encode(tokens, sampling: &none), z2 = large.encode(tokens, sampling: &none)
    #expect(z1.rows == 37 && z1.floatWidth == config.latentWidth && z1.intWidth == 0)
    let worst = zip(z1.floats, z2.floats).map { abs($0 - $1) }.max()!
    #expect(worst <= 1e-5, "latents differ by \(worst) between chunk sizes")
    let t1 = small.decode(z2, sampling: &none), t2 = large.decode(z2, sampling: &none)
    #expect(t1.ints == t2.ints)
    #expect(zip(t1.floats, t2.floats).allSatisfy { abs($0 - $1) <= 1e-5 })
  }

  @Test func encodeIsTheMeanAndDecodeTheArgmax() {
    let model = VAEModel(config)
    var generator = SeededGenerator(seed: 5)
    model.initialize(using: &generator)
    let rows = 9
    let tokens = block(rows: rows, seed: 6)
    let w = model.workspace(rows: rows, training: false)
    w.numbers.base.update(from: tokens.floats, count: rows * config.numerical)
    for i in 0..<w.codes.count { w.codes[i] = tokens.ints[i] }
    _ = model.forward(w, beta: 0.01, sample: false)  // z = μ through the whole model
    var none: SeededGenerator? = nil
    let codec = VAECodec(model: model, chunkRows: 4)
    let z = codec.encode(tokens, sampling: &none)
    #expect(zip(z.floats, w.latent.toArray()).allSatisfy { abs($0 - $1) <= 1e-5 })
    let back = codec.decode(z, sampling: &none)
    #expect(zip(back.floats, w.prediction.toArray()).allSatisfy { abs($0 - $1) <= 1e-5 })
    for r in 0..<rows {
      let logits = w.logits.row(r)
      for (j, span) in config.spans.enumerated() {
        let best = span.max { logits[$0] < logits[$1] }! - span.lowerBound
        #expect(back.ints[r * config.categories.count + j] == Int32(best))
      }
    }
    // A draw differs from the mean, and repeats under its seed.
    var g1: SeededGenerator? = SeededGenerator(seed: 1), g2: SeededGenerator? = SeededGenerator(seed: 1)
    let s1 = codec.encode(tokens, sampling: &g1), s2 = codec.encode(tokens, sampling: &g2)
    #expect(s1.floats == s2.floats && s1.floats != z.floats)
  }

  @Test func badCodesAndNaNsAreRefusedWithTheirPlace() {
    let layout = RowLayout(
      floatFields: [FieldDescriptor(name: "age", role: "value")],
      intFields: [FieldDescriptor(name: "colour", role: "category", cardinality: 3)])
    var b = RowBlock(layout: layout, capacity: 2)
    b.resize(rows: 2)
    b.floats[0] = 1
    b.floats[1] = 2
    b.ints[0] = 0
    b.ints[1] = 3
    #expect(throws: VAEDataError.self) { try TokenTable.check(b, layout: layout, firstRow: 10, path: "t.bin") }
    do {
      try TokenTable.check(b, layout: layout, firstRow: 10, path: "t.bin")
    } catch {
      #expect("\(error)" == "t.bin: row 12: field 'colour': code 3 outside 0..<3")
    }
    b.ints[1] = 2
    b.floats[0] = .nan
    #expect(throws: VAEDataError.self) { try TokenTable.check(b, layout: layout, firstRow: 0, path: "t.bin") }
  }
}
