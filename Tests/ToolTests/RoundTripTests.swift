// tab-encode | tab-decode on every shared table (issue #2): categorical cells byte-exact,
// numerical cells exact for columns with at most 1000 distinct values and within the quantile
// grid's resolution otherwise, missing cells in the same places.

import Foundation
import Testing

@testable import TabStream
@testable import TabTable

@Suite(.serialized) struct SharedTableRoundTrips {
  @Test(arguments: ["adult", "adult-test", "default", "shoppers", "magic", "beijing"])
  func encodeThenDecodeIsTheIdentity(table: String) throws {
    let original = try Paths.table(table)
    let encoded = try run("tab-encode", ["-q"], input: original)
    #expect(encoded.status == 0, "\(encoded.stderr)")
    let decoded = try run("tab-decode", input: encoded.stdout)
    #expect(decoded.status == 0, "\(decoded.stderr)")

    let reader = try StreamReader(source: MemoryInput(Array(encoded.stdout)))
    let encoder = try TableEncoder.from(reader.header, path: table)
    let a = simpleRows(original)
    let b = simpleRows(decoded.stdout)
    try #require(a.count == b.count, "row count \(a.count) vs \(b.count)")
    #expect(a[0] == b[0], "header")
    var mismatches: [String] = []
    for (c, column) in encoder.columns.enumerated() {
      let exact = column.kind != .numerical || column.values != nil
      for r in 1..<a.count where a[r][c] != b[r][c] {
        if exact || a[r][c].isEmpty || b[r][c].isEmpty {
          mismatches.append("line \(r + 1) column '\(column.name)': \(a[r][c]) -> \(b[r][c])")
          continue
        }
        // Within the resolution of the quantile grid around the value.
        let x = Double(a[r][c])!
        let y = Double(b[r][c])!
        let q = column.quantiles!.quantiles
        let k = max(0, min(q.count - 2, (q.firstIndex { $0 >= x } ?? q.count - 1) - 1))
        let resolution = max(q[k + 1] - q[k], q[min(k + 2, q.count - 1)] - q[k + 1])
        if abs(x - y) > resolution {
          mismatches.append("line \(r + 1) column '\(column.name)': \(x) -> \(y), resolution \(resolution)")
        }
      }
    }
    #expect(mismatches.isEmpty, "\(mismatches.count) cells differ, first: \(mismatches.prefix(3))")
  }
}

@Test func applyModeDecodesToTheSameTableAsFitMode() throws {
  let dir = try Paths.scratch("apply")
  let csv = try Paths.table("adult")
  let model = dir.appendingPathComponent("enc.model").path
  let fitted = try run("tab-encode", ["-q", "--fit", model], input: csv)
  #expect(fitted.status == 0, "\(fitted.stderr)")
  let applied = try run("tab-encode", ["-q", "--encoder", model], input: try Paths.table("adult-test"))
  #expect(applied.status == 0, "\(applied.stderr)")
  let decoded = try run("tab-decode", input: applied.stdout)
  // adult-test has values adult lacks in its numerical columns; categorical cells must match.
  let a = simpleRows(try Paths.table("adult-test"))
  let b = simpleRows(decoded.stdout)
  #expect(a.count == b.count)
  for column in [1, 3, 5, 6, 7, 8, 9, 13, 14] {
    let differing = (1..<a.count).filter { a[$0][column] != b[$0][column] }
    #expect(differing.isEmpty, "column \(a[0][column]): \(differing.count) cells differ")
  }
}

@Test func concatenatedShardsDecodeAsOneTable() throws {
  let dir = try Paths.scratch("shards")
  let model = dir.appendingPathComponent("enc.model").path
  let all = try Paths.table("shoppers")
  let lines = String(decoding: all, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
  let header = lines[0]
  let first = ([header] + lines[1..<6000]).joined(separator: "\n") + "\n"
  let second = ([header] + lines[6000...].filter { !$0.isEmpty }).joined(separator: "\n") + "\n"
  #expect(try run("tab-encode", ["-q", "--fit", model, "-o", "/dev/null"], input: all).status == 0)
  let a = try run("tab-encode", ["-q", "--encoder", model], input: Data(first.utf8))
  let b = try run("tab-encode", ["-q", "--encoder", model, "--seed", "9"], input: Data(second.utf8))
  let joined = try run("tab-decode", input: a.stdout + b.stdout)
  #expect(joined.status == 0, "\(joined.stderr)")
  let whole = try run("tab-decode", input: try run("tab-encode", ["-q", "--encoder", model], input: all).stdout)
  #expect(joined.stdout == whole.stdout)
  let info = try run("tab-info", input: a.stdout + b.stdout)
  #expect(info.stdoutText.contains("rows:       12330 in 2 block(s), 2 part(s)"), "\(info.stdoutText)")
}

@Test func encodingIsReproducibleBitForBit() throws {
  let csv = try Paths.table("magic")
  let one = try run("tab-encode", ["-q", "--numeric", "gmm", "--seed", "3"], input: csv)
  let two = try run("tab-encode", ["-q", "--numeric", "gmm", "--seed", "3"], input: csv)
  #expect(one.status == 0 && one.stdout == two.stdout && !one.stdout.isEmpty)
  let decoded = try run("tab-decode", input: one.stdout)
  #expect(decoded.status == 0)
  // gmm decoding: the 'class' column and row count survive, numbers stay in range.
  #expect(simpleRows(decoded.stdout).count == simpleRows(csv).count)
}
