// What the trained model does: Q recovers the categorical code, a code moves the generated
// distribution, conditions hold on every emitted row (including the last categorical column,
// where upstream CTGAN put the one at the wrong offset), seeds reproduce bit for bit, and the
// documented errors.

import TabCore
import TabGAN
import TabStream
import TabTable
import Testing

@Suite(.serialized) struct BehaviourTests {
  @Test func qRecoversTheCategoricalCode() {
    let accuracy = trained.trainer.measureCodeAccuracy(batches: 20)
    #expect(accuracy >= 0.9, "Q accuracy \(accuracy) on 1000 fresh rows (chance: 0.25)")
  }

  @Test func changingTheCodeMovesTheDistribution() throws {
    // Pooled over the table's int fields (categories and modes): TVD between code values, and
    // the same between two seeds at one code value (the sampling noise floor).
    let fields = trained.layout.tokenLayout.intWidth
    let bins = trained.layout.spans.map(\.width)
    func distance(_ a: RowBlock, _ b: RowBlock) -> Double {
      (0..<fields).map {
        totalVariation(column(a, field: $0), column(b, field: $0), bins: bins[$0])
      }
      .max()!
    }
    let byCode = try (0..<4).map {
      try sample(trained, rows: 1000, codes: [0: Float($0)], seed: 9).0
    }
    var largest = 0.0
    for i in 0..<4 { for j in i + 1..<4 { largest = max(largest, distance(byCode[i], byCode[j])) } }
    let again = try sample(trained, rows: 1000, codes: [0: 0], seed: 10).0
    let noise = distance(byCode[0], again)
    #expect(largest > 0.1 && largest > 3 * noise, "code shift \(largest), seed noise \(noise)")
    // The report finds the shift too.
    let effects = try CodeReport.measure(
      model: trained.model, encoder: trained.encoder, rows: 500, seed: 1)
    #expect(effects.map(\.name) == ["c0", "c1"])
    #expect(
      effects[0].columns[0].shift > 2 * effects[0].floor,
      "\(effects[0].columns), floor \(effects[0].floor)")
  }

  /// Regression (sdv-dev/CTGAN#169): conditioning on the last categorical column.
  @Test(arguments: ["flag=yes", "flag=no", "color=blue", "size=XL"])
  func categoricalConditionHoldsOnEveryRow(condition: String) throws {
    let (block, sampler) = try sample(trained, rows: 300, conditions: [condition])
    let name = String(condition.split(separator: "=")[0])
    let value = String(condition.split(separator: "=")[1])
    let c = trained.encoder.columns.firstIndex { $0.name == name }!
    let code = Int32(trained.encoder.columns[c].labels!.firstIndex(of: value)!)
    let field = trained.encoder.positions[c].code
    #expect(block.rows == 300)
    #expect(column(block, field: field).allSatisfy { $0 == code })
    // The conditional vector does most of the work: few rows need redrawing.
    let missRate = Double(sampler.generated - sampler.accepted) / Double(sampler.generated)
    #expect(missRate < 0.5, "\(condition): miss rate \(missRate)")
  }

  @Test func unconditionalSamplingFollowsTheTrueFrequencies() throws {
    let (block, _) = try sample(trained, rows: 2000)
    let c = trained.encoder.columns.firstIndex { $0.name == "color" }!
    let field = trained.encoder.positions[c].code
    let counts = trained.sampler.counts[
      trained.layout.conditionSpans.firstIndex {
        trained.layout.spans[$0].field == field
      }!]
    let total = Double(counts.reduce(0, +))
    var generated = [Double](repeating: 0, count: counts.count)
    for x in column(block, field: field) { generated[Int(x)] += 1 / Double(block.rows) }
    let tvd = 0.5 * zip(counts, generated).reduce(0) { $0 + abs(Double($1.0) / total - $1.1) }
    #expect(tvd < 0.12, "color: real \(counts), generated shares \(generated)")
  }

  @Test func numericRangeConditionHolds() throws {
    let (block, _) = try sample(trained, rows: 200, conditions: ["age>=50", "flag=yes"])
    let c = trained.encoder.columns.firstIndex { $0.name == "age" }!
    let p = trained.encoder.positions[c]
    let mixture = trained.encoder.columns[c].mixture!
    for r in 0..<block.rows {
      let k = Int(block.int(row: r, field: p.code))
      let x = Double(block.float(row: r, field: p.value)) * 4 * mixture.stds[k] + mixture.means[k]
      #expect(x >= 50 - 1e-9, "row \(r): age \(x)")
    }
  }

  @Test func hopelessConditionIsAnError() throws {
    // Each bound is within the column's range, together they exclude every row.
    #expect(throws: GANError.self) {
      _ = try sample(trained, rows: 10, conditions: ["age>=60", "age<30"])
    }
  }

  @Test func seedsReproduceTrainingAndSampling() throws {
    let bytes = try encode(syntheticCSV(rows: 120))
    let a = try setup(bytes, config: tinyConfig(), seed: 42)
    let b = try setup(bytes, config: tinyConfig(), seed: 42)
    let c = try setup(bytes, config: tinyConfig(), seed: 43)
    for _ in 0..<2 {
      _ = a.trainer.epoch()
      _ = b.trainer.epoch()
      _ = c.trainer.epoch()
    }
    #expect(Array(a.model.arena.values) == Array(b.model.arena.values))
    #expect(Array(a.model.arena.values) != Array(c.model.arena.values))
    let x = try sample(a, rows: 150, conditions: ["size=M"], seed: 5).0
    let y = try sample(a, rows: 150, conditions: ["size=M"], seed: 5).0
    let z = try sample(a, rows: 150, conditions: ["size=M"], seed: 6).0
    #expect(x.floats == y.floats && x.ints == y.ints)
    #expect(x.floats != z.floats)
  }

  /// The generator update reuses the critic update's fake batch (GANTrainer.reuseFakeBatch):
  /// sound only if the critic update leaves the generator's forward pass as it was.
  @Test func reusedFakeBatchEqualsARecomputedOne() throws {
    let bytes = try encode(syntheticCSV(rows: 120))
    let a = try setup(bytes, config: tinyConfig(), seed: 3)
    let b = try setup(bytes, config: tinyConfig(), seed: 3)
    _ = a.trainer.epoch()
    _ = b.trainer.epoch()
    let reused = a.trainer.generatorGradientsAfterCriticUpdate(recomputingForward: false)
    let recomputed = b.trainer.generatorGradientsAfterCriticUpdate(recomputingForward: true)
    #expect(reused.contains { $0 != 0 })
    #expect(reused == recomputed)
    // And the choice is wired: CTGAN's fresh second batch trains to different weights.
    let c = try setup(bytes, config: tinyConfig(), seed: 3)
    c.trainer.reuseFakeBatch = false
    let d = try setup(bytes, config: tinyConfig(), seed: 3)
    _ = c.trainer.epoch()
    _ = d.trainer.epoch()
    #expect(Array(c.model.arena.values) != Array(d.model.arena.values))
  }

  @Test func modelFileRoundTrips() throws {
    let output = MemoryOutput()
    try trained.model.write(to: output, provenance: [])
    let loaded = try GANModel.load(from: MemoryInput(output.bytes, name: "gan.model"))
    #expect(Array(loaded.arena.values) == Array(trained.model.arena.values))
    #expect(Array(loaded.buffers.values) == Array(trained.model.buffers.values))
    #expect(loaded.info == trained.model.info)
  }

  @Test func quantileStreamIsRefused() throws {
    let reader = try StreamReader(
      source: MemoryInput(try encode(syntheticCSV(rows: 50), numeric: .quantile), name: "q.tok"))
    #expect(throws: GANError.notModeEncoded(path: "q.tok", column: "age")) {
      _ = try GANLayout(reader.header.layout, path: reader.path)
    }
  }

  @Test(arguments: [
    ("height=3", "no column 'height'"), ("color=purple", "no category 'purple'"),
    ("color>=3", "is categorical"), ("age=40", "is numerical"), ("age>=500", "ranges over"),
    ("nonsense", "expected COLUMN=VALUE"),
  ])
  func badConditionsAreRefused(condition: (String, String)) {
    do {
      _ = try SampleCondition(condition.0, encoder: trained.encoder, layout: trained.layout)
      Issue.record("\(condition.0) was accepted")
    } catch let error as ConditionError {
      #expect(error.message.contains(condition.1), "\(error.message)")
    } catch {
      Issue.record("unexpected \(error)")
    }
  }

  @Test func badCodesAreRefused() {
    for codes: [Int: Float] in [[0: 4], [0: 1.5], [1: 2], [2: 0]] {
      #expect(throws: ConditionError.self) {
        _ = try GANSampler(
          model: trained.model, encoder: trained.encoder, conditions: [], codes: codes, seed: 0)
      }
    }
  }
}
