// Unix manners: a closed pipe ends quietly, logs stay on stderr, binary never goes to a
// terminal by accident, and Python can read what tab-encode writes.

import Foundation
import Testing

@testable import TabStream

@Test func closedPipeEndsQuietlyWithStatusZero() throws {
  // tab-decode writes far more than `head -c 100` reads; the shell reports its status.
  let dir = try Paths.scratch("pipe")
  let stream = dir.appendingPathComponent("adult.bin")
  #expect(try run("tab-encode", ["-q", "-o", stream.path], input: try Paths.table("adult")).status == 0)
  let script = """
    "$1" "$2" | head -c 100 > /dev/null; echo "status=${PIPESTATUS[0]}"
    """
  let result = try run(
    executable: "/bin/bash", ["-c", script, "bash", Paths.binaries.appendingPathComponent("tab-decode").path, stream.path])
  #expect(result.stdoutText == "status=0\n")
  #expect(result.stderr.isEmpty, "stderr: \(result.stderr)")
}

@Test func progressGoesToStderrOnly() throws {
  let csv = try Paths.table("magic")
  let quiet = try run("tab-encode", ["-q"], input: csv)
  let loud = try run("tab-encode", ["--progress"], input: csv)
  #expect(loud.status == 0)
  #expect(loud.stderr.contains("rows/s"))
  // Provenance records the options, so the headers differ; the tables must not.
  #expect(try run("tab-decode", input: loud.stdout).stdout == (try run("tab-decode", input: quiet.stdout).stdout))
  #expect(quiet.stderr.isEmpty)
}

@Test func pythonReadsTheStream() throws {
  // examples/read_stream.py (numpy + zstandard) loads what tab-encode writes: same shape,
  // same values as tab-info's summary.
  let dir = try Paths.scratch("python")
  let stream = dir.appendingPathComponent("beijing.bin")
  #expect(try run("tab-encode", ["-q", "-o", stream.path], input: try Paths.table("beijing")).status == 0)
  let script = """
    import sys; sys.path.insert(0, sys.argv[1])
    from read_stream import read_stream
    header, floats, ints = read_stream(sys.argv[2])
    print(header["kind"], floats.shape[0], floats.shape[1], ints.shape[1])
    print("%.6f %.6f" % (floats[:, 0].astype("float64").sum(), ints.astype("int64").sum()))
    """
  let python = try run(
    executable: "/usr/bin/env", ["python3", "-c", script, Paths.root.appendingPathComponent("examples").path, stream.path])
  #expect(python.status == 0, "\(python.stderr)")
  let lines = python.stdoutText.split(separator: "\n")
  // The same shape and sums computed by the Swift reader.
  let reader = try StreamReader(source: try FileInput(path: stream.path))
  var block = RowBlock(layout: reader.header.layout)
  var firstFloatSum = 0.0
  var intSum = 0
  while try reader.read(into: &block) {
    for r in 0..<block.rows { firstFloatSum += Double(block.float(row: r, field: 0)) }
    intSum += block.ints.reduce(0) { $0 + Int($1) }
  }
  let layout = reader.header.layout
  #expect(lines.first.map(String.init) == "tokens \(reader.rowsRead) \(layout.floatWidth) \(layout.intWidth)")
  #expect(lines.count == 2 && String(lines[1]) == String(format: "%.6f %.6f", firstFloatSum, Double(intSum)))
}

@Test func interruptRemovesTheTemporaryFileAndKeepsTheOldOutput() throws {
  // tab-decode -o FILE is interrupted while its input is still open: exit 130, the previous
  // FILE untouched, no temporary file left behind.
  let dir = try Paths.scratch("interrupt")
  let target = dir.appendingPathComponent("out.csv")
  try Data("previous good output\n".utf8).write(to: target)
  let stream = try run("tab-encode", ["-q"], input: try Paths.table("adult")).stdout
  let process = Process()
  process.executableURL = Paths.binaries.appendingPathComponent("tab-decode")
  process.arguments = ["-o", target.path]
  let input = Pipe()
  process.standardInput = input
  process.standardError = FileHandle.nullDevice
  try process.run()
  try input.fileHandleForWriting.write(contentsOf: stream.prefix(stream.count / 2))  // half, then wait
  var waited = 0
  while waited < 100, (try FileManager.default.contentsOfDirectory(atPath: dir.path)).count < 2 {
    usleep(50_000)  // until the temporary file exists
    waited += 1
  }
  process.interrupt()  // SIGINT
  process.waitUntilExit()
  #expect(process.terminationStatus == 130)
  #expect(try String(contentsOf: target, encoding: .utf8) == "previous good output\n")
  #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.csv"])
}
