// A hand-edited or damaged header gets a message that names the field in the user's words,
// never Foundation's debug dump of a DecodingError, and text from the file is printed safely.

import Testing

@testable import TabStream

extension Array where Element == UInt8 {
  /// Appends one record by hand: its tag, a zero count, the payload's length and the payload
  /// (zstd-compressed first unless `raw`), for streams no writer would make.
  mutating func appendRecord(_ tag: UInt32, _ payload: [UInt8], raw: Bool = false) {
    var frame: [UInt8] = []
    if raw {
      frame = payload
    } else {
      payload.withUnsafeBytes { ZstdCompressor(level: 1).compress($0, into: &frame) }
    }
    appendLittleEndian(tag)
    appendLittleEndian(UInt32(0))
    appendLittleEndian(UInt32(frame.count))
    self += frame
  }

  /// Appends an end record declaring `rows` rows and `blocks` blocks.
  mutating func appendEnd(rows: UInt64 = 0, blocks: UInt64 = 0) {
    var counts: [UInt8] = []
    counts.appendLittleEndian(rows)
    counts.appendLittleEndian(blocks)
    appendRecord(RecordTag.end.rawValue, counts)
  }
}

/// A stream with the given header JSON and no rows.
private func stream(header json: String, declaredRows: UInt64 = 0) -> [UInt8] {
  var stream = StreamFormat.magic
  stream.appendLittleEndian(StreamFormat.major)
  stream.appendLittleEndian(UInt16(0))
  stream.appendRecord(RecordTag.header.rawValue, Array(json.utf8))
  stream.appendEnd(rows: declaredRows)
  return stream
}

private func message(_ bytes: [UInt8]) -> String {
  do {
    let reader = try StreamReader(source: MemoryInput(bytes, name: "h.bin"))
    var block = RowBlock(layout: reader.header.layout)
    while try reader.read(into: &block) {}
    try reader.require([.latents], hint: nil)
    return "no error"
  } catch {
    return "\(error)"
  }
}

private let layout = #""layout":{"floatFields":[],"intFields":[]},"provenance":[]"#

@Test func theEnvelopeMatchesWhatTheWriterWrites() throws {
  // The helper above must build real streams, or the tests below would test nothing.
  let good = stream(header: #"{"kind":"latents",\#(layout)}"#)
  #expect(message(good) == "no error")
}

@Test func aMissingFieldIsNamed() {
  #expect(message(stream(header: "{\(layout)}")) == "h.bin: unreadable stream header: field 'kind' is missing")
  #expect(
    message(stream(header: #"{"kind":"tokens","layout":{"floatFields":[]},"provenance":[]}"#))
      == "h.bin: unreadable stream header: field 'intFields' is missing in 'layout'")
}

@Test func aWrongTypeIsNamedWithItsPlace() {
  let text = message(stream(header: #"{"kind":7,\#(layout)}"#))
  #expect(text == "h.bin: unreadable stream header: 'kind' is not text")
  let nested = message(
    stream(header: #"{"kind":"tokens","layout":{"floatFields":[{"name":1}],"intFields":[]},"provenance":[]}"#))
  #expect(nested.hasPrefix("h.bin: unreadable stream header: 'layout.floatFields[0].name' is not text"))
  #expect(!nested.contains("CodingKeys"))
}

@Test func brokenJSONSaysSo() {
  #expect(message(stream(header: "{\"kind\":")) == "h.bin: unreadable stream header: not valid JSON")
}

@Test func controlCharactersFromTheFileAreEscaped() {
  let text = message(stream(header: "{\"kind\":\"a\\u0000b\\nc\\u001b[31m\",\(layout)}"))
  #expect(text == #"h.bin: stream of kind 'a\u{0}b\u{a}c\u{1b}[31m', expected 'latents'"#)
  #expect(!text.contains("\n"))
}

@Test func anEndRecordCountNear2To64IsNotNegative() {
  let text = message(stream(header: #"{"kind":"latents",\#(layout)}"#, declaredRows: .max))
  #expect(text == "h.bin: corrupt stream: end record declares 18446744073709551615 rows, 0 were read")
}
