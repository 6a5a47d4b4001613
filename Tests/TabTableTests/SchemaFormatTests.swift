// A schema's "format" member: for datetime columns only, and a message that says so.

import Testing

@testable import TabTable

@Test func aFormatOnAColumnThatIsNotADateIsNamedAsSuch() {
  func schema(_ text: String) throws { _ = try TableSchema(json: Array(text.utf8), path: "s.json") }
  // Whatever the layout, the problem is the type, and the message says so.
  #expect(
    throws: EncodeError.badSchema(
      schema: "s.json", detail: #"column 'b': "format" applies only to datetime columns, not to categorical ones"#)
  ) { try schema(#"{"columns": {"b": {"type": "categorical", "format": "%Y"}}}"#) }
  #expect(
    throws: EncodeError.badSchema(
      schema: "s.json", detail: #"column 'n': "format" applies only to datetime columns, not to numerical ones"#)
  ) { try schema(#"{"columns": {"n": {"type": "numeric", "format": "%d/%m/%Y"}}}"#) }
  // On a date column, an unsupported layout is still named as one; a supported one is fine.
  #expect(throws: EncodeError.badSchema(schema: "s.json", detail: "column 'w': unsupported date format '%Q'")) {
    try schema(#"{"columns": {"w": {"type": "date", "format": "%Q"}}}"#)
  }
  #expect(throws: Never.self) { try schema(#"{"columns": {"w": {"type": "datetime", "format": "%d/%m/%Y"}}}"#) }
}
