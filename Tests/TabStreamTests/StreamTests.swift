// The container: round trips, shards read as one stream, and every way a stream can be
// damaged is caught (exhaustively for truncation).

import Testing

@testable import TabStream

private let layout = RowLayout(
  floatFields: [FieldDescriptor(name: "x", role: "value"), FieldDescriptor(name: "y", role: "value")],
  intFields: [FieldDescriptor(name: "c", role: "category", cardinality: 5)])

private func makeBlock(rows: Int, start: Int) -> RowBlock {
  var block = RowBlock(layout: layout)
  block.resize(rows: rows)
  for r in 0..<rows {
    block.floats[2 * r] = Float(start + r) * 0.5
    block.floats[2 * r + 1] = -Float(start + r)
    block.ints[r] = Int32((start + r) % 5)
  }
  return block
}

private func makeStream(blocks: [Int], provenance: String = "test", level: Int32 = 3) throws -> [UInt8] {
  let sink = MemoryOutput()
  let header = StreamHeader(
    kind: .tokens, layout: layout, encoder: .object(["note": .string("hello")]),
    provenance: [ProvenanceStep(tool: provenance, version: "0")])
  let writer = try StreamWriter(sink: sink, header: header, level: level)
  var start = 0
  for rows in blocks {
    try writer.write(makeBlock(rows: rows, start: start))
    start += rows
  }
  try writer.finish()
  return sink.bytes
}

/// Reads every row; returns (floats, ints, blocks).
private func readAll(_ bytes: [UInt8], chunk: Int = .max) throws -> ([Float], [Int32], Int) {
  let reader = try StreamReader(source: MemoryInput(bytes, name: "s.bin", chunk: chunk))
  var block = RowBlock(layout: reader.header.layout)
  var floats: [Float] = []
  var ints: [Int32] = []
  while try reader.read(into: &block) {
    floats += block.floats
    ints += block.ints
  }
  return (floats, ints, reader.blocksRead)
}

@Test func roundTripKeepsEveryValueAndTheHeader() throws {
  let bytes = try makeStream(blocks: [3, 1000, 7])
  let reader = try StreamReader(source: MemoryInput(bytes))
  #expect(reader.header.kind == .tokens)
  #expect(reader.header.layout == layout)
  #expect(reader.header.encoder?["note"]?.stringValue == "hello")
  let (floats, ints, blocks) = try readAll(bytes)
  #expect(blocks == 3)
  let expected = makeBlock(rows: 1010, start: 0)
  #expect(floats == expected.floats)
  #expect(ints == expected.ints)
}

@Test func readsTheSameAtEveryChunkSize() throws {
  let bytes = try makeStream(blocks: [5, 2])
  let whole = try readAll(bytes)
  for chunk in [1, 2, 3, 5, 11, 12, 13, 64, 4096] {
    let parts = try readAll(bytes, chunk: chunk)
    #expect(parts.0 == whole.0 && parts.1 == whole.1, "chunk \(chunk)")
  }
}

@Test func emptyStreamHasHeaderAndNoRows() throws {
  let bytes = try makeStream(blocks: [])
  let (floats, _, blocks) = try readAll(bytes)
  #expect(floats.isEmpty && blocks == 0)
}

@Test func concatenatedShardsReadAsOneStream() throws {
  // Shards of one job may differ in provenance (e.g. seed), not in layout or encoder.
  let a = try makeStream(blocks: [4], provenance: "shard-a")
  let b = try makeStream(blocks: [2, 3], provenance: "shard-b")
  let reader = try StreamReader(source: MemoryInput(a + b))
  var block = RowBlock(layout: layout)
  var rows = 0
  while try reader.read(into: &block) { rows += block.rows }
  #expect(rows == 9)
  #expect(reader.segmentHeaders.count == 2)
  #expect(reader.segmentHeaders[1].provenance[0].tool == "shard-b")
}

@Test func shardsWithDifferentHeadersAreRefused() throws {
  let a = try makeStream(blocks: [4])
  let sink = MemoryOutput()
  let other = StreamHeader(kind: .latents, layout: layout)
  let writer = try StreamWriter(sink: sink, header: other)
  try writer.write(makeBlock(rows: 1, start: 0))
  try writer.finish()
  #expect(throws: StreamError.incompatibleSegment(path: "s.bin", segment: 1)) {
    _ = try readAll(a + sink.bytes)
  }
}

@Test func truncationAtEveryByteIsDetected() throws {
  let bytes = try makeStream(blocks: [3, 2])
  for cut in 0..<bytes.count {
    do {
      _ = try readAll(Array(bytes[0..<cut]))
      Issue.record("a stream cut at byte \(cut) of \(bytes.count) was accepted")
    } catch let error as StreamError {
      switch error {
      case .empty: #expect(cut == 0)
      case .truncated: break
      default: Issue.record("cut at \(cut): unexpected \(error)")
      }
    }
  }
}

@Test func everyFlippedBitInAFrameIsDetected() throws {
  // zstd's content checksum (plus size checks) must catch any single-bit error in the
  // payloads; envelope damage must be caught by the size checks.
  let bytes = try makeStream(blocks: [50])
  let (floats, ints, _) = try readAll(bytes)
  var undetected: [Int] = []
  for position in StreamFormat.preambleBytes..<bytes.count {
    for bit in [0, 3, 7] {
      var damaged = bytes
      damaged[position] ^= UInt8(1 << bit)
      if let result = try? readAll(damaged), result.0 == floats, result.1 == ints {
        continue  // a flip that does not change what is read (e.g. in an unused frame flag)
      } else if (try? readAll(damaged)) != nil {
        undetected.append(position)
      }
    }
  }
  #expect(undetected.isEmpty, "undetected corruption at byte offsets \(undetected.prefix(10))")
}

@Test func newerMajorVersionIsRefusedWithAClearMessage() throws {
  var bytes = try makeStream(blocks: [1])
  bytes[8] = 2  // major version, low byte
  #expect(throws: StreamError.newerVersion(path: "s.bin", major: 2, minor: 0)) {
    _ = try readAll(bytes)
  }
  #expect(
    StreamError.newerVersion(path: "s.bin", major: 2, minor: 0).description
      == "s.bin: stream format 2.0 is newer than this tool reads (1.x); upgrade tabpipe")
}

@Test func newerMinorVersionAndUnknownFieldsAreAccepted() throws {
  // A newer minor version may add header members and optional (lowercase-tagged) records.
  var bytes = try makeStream(blocks: [])
  bytes[10] = 7  // minor version
  let json = Array(#"{"kind":"tokens","layout":{"floatFields":[],"intFields":[]},"provenance":[],"future":{"a":1}}"#.utf8)
  var stream = Array(bytes[0..<12])
  stream.appendRecord(RecordTag.header.rawValue, json)
  // An optional record "note" that this reader does not know.
  stream += Array("note".utf8)
  stream.appendLittleEndian(UInt32(0))
  stream.appendLittleEndian(UInt32(3))
  stream += [1, 2, 3]
  stream.appendEnd()
  let reader = try StreamReader(source: MemoryInput(stream))
  var block = RowBlock(layout: reader.header.layout)
  #expect(try reader.read(into: &block) == false)
}

@Test func nonStreamsGetAHint() throws {
  let csv = Array("age,workclass\n39,State-gov\n".utf8)
  #expect(throws: StreamError.self) { _ = try StreamReader(source: MemoryInput(csv, name: "a.csv")) }
  do {
    _ = try StreamReader(source: MemoryInput(csv, name: "a.csv"))
  } catch {
    #expect("\(error)" == "a.csv: not a tabpipe stream; it looks like text (a CSV?); turn a CSV into a stream with tab-encode")
  }
  #expect(StreamReader.guess([0x28, 0xB5, 0x2F, 0xFD, 0]).contains("zstd -dc"))
  #expect(throws: StreamError.empty(path: "e")) { _ = try StreamReader(source: MemoryInput([], name: "e")) }
}

@Test func wrongKindNamesBothKinds() throws {
  let reader = try StreamReader(source: MemoryInput(try makeStream(blocks: [1]), name: "z.bin"))
  #expect(throws: StreamError.self) { try reader.require([.latents], hint: "run tab-vae encode first") }
  #expect(
    StreamError.wrongKind(path: "z.bin", found: .tokens, expected: [.latents], hint: "run tab-vae encode first")
      .description == "z.bin: stream of kind 'tokens', expected 'latents'; run tab-vae encode first")
}
