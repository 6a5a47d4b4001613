// Column shapes and pair trends against SDMetrics' QualityReport, per column and per pair, on
// the fixed pairs in Fixtures/ (made by bench/score/make_fixtures.py).

import Foundation
import TabStream
import TabTable
import Testing

@testable import TabScore

enum Fixture {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

  static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  static func expected(_ pair: String) throws -> [String: Any] {
    let data = try Data(contentsOf: directory.appendingPathComponent("\(pair)-expected.json"))
    return try JSONSerialization.jsonObject(with: data) as! [String: Any]
  }

  static func tables(_ pair: String, holdout: Bool = true) throws -> ScoreTables {
    try ScoreTables.read(
      real: path("\(pair)-real.csv"), synthetic: path("\(pair)-synthetic.csv"),
      holdout: holdout ? path("\(pair)-holdout.csv") : nil, encoder: nil, options: FitOptions())
  }
}

@Suite struct FidelityTests {
  @Test(arguments: ["adult", "beijing"])
  func kindsMatchTheFixture(pair: String) throws {
    let tables = try Fixture.tables(pair)
    let kinds = try Fixture.expected(pair)["kinds"] as! [String: String]
    for (c, name) in tables.names.enumerated() {
      #expect(kinds[name] == tables.kinds[c].rawValue, "column \(name)")
    }
    #expect(tables.names.count == kinds.count)
  }

  @Test(arguments: ["adult", "beijing"])
  func shapesAgreeWithSDMetrics(pair: String) throws {
    let tables = try Fixture.tables(pair)
    let expected = try Fixture.expected(pair)
    let shapes = expected["shapes"] as! [[String: Any]]
    #expect(shapes.count == tables.width)
    var sum = 0.0
    for row in shapes {
      let name = row["column"] as! String
      let ours = Fidelity.shape(tables, column: tables.index(of: name)!)
      #expect(ours.metric == row["metric"] as! String, "column \(name)")
      let want = row["score"] as! Double
      #expect(
        abs(ours.score - want) < 1e-6, "column \(name): ours \(ours.score), SDMetrics \(want)")
      sum += ours.score
    }
    let want = expected["shape_score"] as! Double
    #expect(abs(sum / Double(shapes.count) - want) < 1e-6)
  }

  @Test(arguments: ["adult", "beijing"])
  func trendsAgreeWithSDMetrics(pair: String) throws {
    let tables = try Fixture.tables(pair)
    let expected = try Fixture.expected(pair)
    let trends = expected["trends"] as! [[String: Any]]
    #expect(trends.count == tables.width * (tables.width - 1) / 2)
    var worst = (0.0, "")
    for row in trends {
      let (a, b) = (row["first"] as! String, row["second"] as! String)
      let ours = Fidelity.trend(tables, tables.index(of: a)!, tables.index(of: b)!)
      #expect(ours.metric == row["metric"] as! String, "pair \(a), \(b)")
      if let want = row["score"] as? Double {
        let error = abs(ours.score - want)
        if error > worst.0 { worst = (error, "\(a), \(b): ours \(ours.score), SDMetrics \(want)") }
      } else {
        #expect(ours.score.isNaN, "pair \(a), \(b) is incomputable in SDMetrics")
      }
    }
    #expect(worst.0 < 1e-6, "worst pair \(worst.1)")
    let mean = Fidelity.trends(tables).map(\.score).filter { !$0.isNaN }
    let want = expected["trend_score"] as! Double
    #expect(abs(mean.reduce(0, +) / Double(mean.count) - want) < 1e-6)
  }

  @Test func kolmogorovSmirnovOnTiesAndDisjointSamples() {
    #expect(Fidelity.kolmogorovSmirnov([1, 2, 3], [4, 5]) == 1)
    #expect(Fidelity.kolmogorovSmirnov([1, 1, 2, 2], [1, 2]) == 0)
    // F_a(1) = 3/4, F_b(1) = 1/4.
    #expect(abs(Fidelity.kolmogorovSmirnov([1, 1, 1, 2], [1, 2, 2, 2, .nan]) - 0.5) < 1e-15)
  }

  @Test func digitizeMatchesNumpy() {
    // np.digitize(x, np.histogram_bin_edges(x)) for x = [0, 1, ..., 10]: 1..10 then 11.
    let bins = Fidelity.digitize((0...10).map(Double.init) + [.nan])
    #expect(bins == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11])
    // A constant column: edges 4.5 ... 5.5, the value in the middle bin.
    #expect(Fidelity.digitize([5, 5]) == [6, 6])
  }
}

@Suite struct ColumnTypeTests {
  @Test func anEncoderOrSchemaDecidesTheTypes() throws {
    let real = Fixture.path("adult-real.csv")
    let store = try ColumnStore.read(
      CSVReader(source: try FileInput(path: real), dialect: CSVDialect()),
      options: CSVInputOptions())
    var options = FitOptions()
    options.schema = TableSchema(columns: [("education-num", .init(kind: .numerical))])
    let (encoder, _) = try TableFitter.fit(store, options: options)
    let typed = try ScoreTables.read(
      real: real, synthetic: Fixture.path("adult-synthetic.csv"), holdout: nil, encoder: encoder,
      options: FitOptions())
    let inferred = try Fixture.tables("adult", holdout: false)
    let c = typed.index(of: "education-num")!
    #expect(inferred.kinds[c] == .categorical && typed.kinds[c] == .numerical)
    #expect(Fidelity.shape(typed, column: c).metric == "KSComplement")
    // Categories are shared: a label has one code in both tables.
    let w = typed.index(of: "workclass")!
    let label = typed.labels[w][Int(typed.synthetic.columns[w].codes[0])]
    #expect(typed.labels[w].firstIndex(of: label) == Int(typed.synthetic.columns[w].codes[0]))
  }
}
