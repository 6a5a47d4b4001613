// What tab-gan says about unusable training input: a non-finite token or a code out of range
// names its row and block (as tab-vae's messages name the row), and a stream with too few rows
// or no fields says so with the real count instead of reaching the model.

import Foundation
import TabCore
import TabGAN
import TabStream
import TabTable
import TestSupport
import Testing

/// The gmm token stream of the synthetic table (blocks of 128 rows), with `edit` applied to the
/// tokens of row `row` (from 0), rewritten as one stream of the same blocks.
private func stream(
  rows: Int = 400, editing row: Int? = nil, _ edit: (inout [Float], inout [Int32], Int, Int) -> Void = { _, _, _, _ in }
) throws -> [UInt8] {
  let reader = try StreamReader(source: MemoryInput(try encode(syntheticCSV(rows: rows)), name: "in"))
  let output = MemoryOutput()
  let writer = try StreamWriter(sink: output, header: reader.header)
  var block = RowBlock(layout: reader.header.layout)
  var first = 0
  while try reader.read(into: &block) {
    if let row, row >= first && row < first + block.rows {
      edit(&block.floats, &block.ints, (row - first) * block.floatWidth, (row - first) * block.intWidth)
    }
    first += block.rows
    try writer.write(block)
  }
  try writer.finish()
  return output.bytes
}

private func sampler(_ bytes: [UInt8]) throws -> DataSampler {
  let reader = try StreamReader(source: MemoryInput(bytes, name: "t.tok"))
  return try DataSampler(reader: reader, layout: try GANLayout(reader.header.layout, path: reader.path))
}

/// The message of the GANError `body` throws, nil if it throws none.
private func message(_ body: () throws -> Void) -> String? {
  do {
    try body()
    return nil
  } catch let error as GANError {
    return error.description
  } catch {
    return "not a GANError: \(error)"
  }
}

@Test func aNonFiniteTokenNamesItsRowAndBlock() throws {
  // Row 300 (from 1: 301) lies in the third block of 128 rows.
  let nan = try stream(editing: 300) { floats, _, f, _ in floats[f] = .nan }
  #expect(message { _ = try sampler(nan) } == "t.tok: row 301 (block 3): field 'age': not a finite number (nan)")
  let inf = try stream(editing: 5) { floats, _, f, _ in floats[f] = -.infinity }
  #expect(message { _ = try sampler(inf) } == "t.tok: row 6 (block 1): field 'age': not a finite number (-inf)")
}

@Test func aCodeOutOfRangeNamesItsRowAndBlock() throws {
  let reader = try StreamReader(source: MemoryInput(try encode(syntheticCSV(rows: 400)), name: "in"))
  let color = reader.header.layout.intFields.firstIndex { $0.name == "color" }!
  let bad = try stream(editing: 129) { _, ints, _, i in ints[i + color] = 9 }
  #expect(message { _ = try sampler(bad) } == "t.tok: row 130 (block 2): field 'color': code 9 outside 0..<3")
}

@Test func tooFewRowsGiveTheRealCount() throws {
  // A stream with fields but one row (an encoder applied to a one-row table).
  let reader = try StreamReader(source: MemoryInput(try encode(syntheticCSV(rows: 400)), name: "in"))
  let output = MemoryOutput()
  let writer = try StreamWriter(sink: output, header: reader.header)
  var block = RowBlock(layout: reader.header.layout)
  _ = try reader.read(into: &block)
  block.resize(rows: 1)
  try writer.write(block)
  try writer.finish()
  #expect(message { _ = try sampler(output.bytes) } == "t.tok: 1 row, tab-gan needs at least 2")
}

@Test func aStreamWithoutFieldsHasNothingToLearn() throws {
  // Every column constant (as in any one-row table): rows but no fields. They used to count as
  // 0 rows; with 2 rows the model was built with a data vector of width 0 and trapped.
  for rows in [1, 2, 5] {
    let csv = "a,b\n" + String(repeating: "1.5,x\n", count: rows)
    let bytes = try encode(csv)
    let reader = try StreamReader(source: MemoryInput(bytes, name: "c.tok"))
    #expect(reader.header.layout.floatWidth + reader.header.layout.intWidth == 0)
    let expected =
      rows == 1 ? "c.tok: 1 row, tab-gan needs at least 2" : "c.tok: no columns to learn (every column is constant or an ID)"
    #expect(message { _ = try DataSampler(reader: reader, layout: try GANLayout(reader.header.layout, path: reader.path)) } == expected)
  }
}

@Test func theToolNamesTheRowOfANaNAndCountsOneRow() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tab-gan-input-\(getpid())")
  try? FileManager.default.removeItem(at: dir)
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  func train(_ bytes: [UInt8], _ name: String) throws -> (Int32, String) {
    let input = dir.appendingPathComponent(name)
    try Data(bytes).write(to: input)
    let process = Process()
    process.executableURL = BuiltTools.directory.appendingPathComponent("tab-gan")
    process.arguments = ["train", "-q", "-m", dir.appendingPathComponent("g.model").path, "--epochs", "1", input.path]
    let err = Pipe()
    process.standardError = err
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, text)
  }
  let nan = try train(try stream(editing: 300) { floats, _, f, _ in floats[f] = .nan }, "nan.tok")
  #expect(nan.0 == 65)
  #expect(nan.1 == "tab-gan: \(dir.path)/nan.tok: row 301 (block 3): field 'age': not a finite number (nan)\n")
  let constant = try train(try encode("a,b\n1.5,x\n"), "one.tok")
  #expect(constant.0 == 65)
  #expect(constant.1 == "tab-gan: \(dir.path)/one.tok: 1 row, tab-gan needs at least 2\n")
  #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("g.model").path))
}
