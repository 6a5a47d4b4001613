// Inputs tab-vae used to trap on or pass silently (found by a fuzzing sweep): a table with
// nothing to learn, and non-finite latents, which would decode to plausible-looking rows.

import Foundation
import TabStream
import Testing

@Suite struct RejectedInputs {
  let dir: URL
  init() throws { dir = try Paths.scratch("rejected-\(UUID().uuidString.prefix(8))") }

  @Test func aTableWithNothingToLearnIsADataError() throws {
    // A constant column and an ID: the token stream has no fields.
    let tokens = try run("tab-encode", ["-q"], input: Data("a,b\nk,1\nk,2\nk,3\nk,4\n".utf8))
    try #require(tokens.status == 0)
    let result = try run("tab-vae", ["train", "-q", "--threads", "1", "-m", dir.appendingPathComponent("z.vae").path], input: tokens.stdout)
    #expect(result.status == 65)
    #expect(result.stderr == "tab-vae: <stdin>: no columns to learn (every column is constant or an ID)\n")
  }

  @Test func nonFiniteLatentsAreRefusedWithTheirRow() throws {
    var text = "x,c\n"
    for i in 0..<40 { text += "\(i % 7),\(["u", "v"][i % 2])\n" }
    let tokens = try run("tab-encode", ["-q"], input: Data(text.utf8))
    let model = dir.appendingPathComponent("m.vae").path
    try #require(try run("tab-vae", ["train", "-q", "--epochs", "1", "--threads", "1", "-m", model], input: tokens.stdout).status == 0)
    let latents = try run("tab-vae", ["encode", "-m", model], input: tokens.stdout)
    try #require(latents.status == 0)
    // Rewrite the latent stream with one value made NaN (row 3), through the stream writer.
    let good = dir.appendingPathComponent("z.bin")
    try latents.stdout.write(to: good)
    let decoded = try run("tab-vae", ["decode", "-m", model, good.path])
    #expect(decoded.status == 0, "\(decoded.stderr)")
    let bad = dir.appendingPathComponent("nan.bin")
    try #require(try writeWithNaN(from: good, to: bad, row: 2))
    let result = try run("tab-vae", ["decode", "-m", model, bad.path])
    #expect(result.status == 65)
    #expect(result.stderr.hasPrefix("tab-vae: \(bad.path): row 3: a non-finite latent"), "\(result.stderr)")
    // What reached stdout before the bad row is not a complete stream: a reader downstream fails.
    #expect(throws: (any Error).self) {
      let reader = try StreamReader(source: MemoryInput(Array(result.stdout)))
      var block = RowBlock(layout: reader.header.layout)
      while try reader.read(into: &block) {}
    }
  }
}

/// Copies the stream at `source` to `target` with the first float of row `row` (0-based) made
/// NaN; true when the row exists.
private func writeWithNaN(from source: URL, to target: URL, row: Int) throws -> Bool {
  let reader = try StreamReader(source: try FileInput(path: source.path))
  let sink = try FileOutput(creating: target.path)
  let writer = try StreamWriter(sink: sink, header: reader.header)
  var block = RowBlock(layout: reader.header.layout)
  var seen = 0
  var done = false
  while try reader.read(into: &block) {
    if !done && row < seen + block.rows {
      block.floats[(row - seen) * block.floatWidth] = .nan
      done = true
    }
    seen += block.rows
    try writer.write(block)
  }
  try writer.finish()
  return done
}
