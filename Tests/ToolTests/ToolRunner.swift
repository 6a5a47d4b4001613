// Runs the built executables as a user would: arguments, standard input from a file or bytes,
// and what came out on stdout, stderr and the exit status.

import Foundation
import TestSupport

/// What one run of a tool produced.
struct ToolResult {
  var status: Int32
  var stdout: Data
  var stderr: String
  var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

enum Paths {
  /// The repository root.
  static let root = BuiltTools.root
  /// The shared benchmark tables, beside the repository.
  static let shared = root.deletingLastPathComponent().appendingPathComponent("shared/data")
  /// Where `swift build` put the executables.
  static var binaries: URL { BuiltTools.directory }

  /// A fresh empty directory for one test.
  static func scratch(_ name: String) throws -> URL { try BuiltTools.scratch("tests", name) }

  /// A shared table as CSV bytes (decompressing the .csv.zst ones).
  static func table(_ name: String) throws -> Data {
    let plain = shared.appendingPathComponent("\(name).csv")
    if FileManager.default.fileExists(atPath: plain.path) { return try Data(contentsOf: plain) }
    return try run(executable: "/usr/bin/env", ["zstd", "-dc", shared.appendingPathComponent("\(name).csv.zst").path]).stdout
  }
}

/// Runs tool `name` (tab-encode, ...) with `arguments`; stdin from `input` bytes or a file.
@discardableResult
func run(_ name: String, _ arguments: [String] = [], input: Data? = nil, inputFile: URL? = nil) throws -> ToolResult {
  try run(executable: Paths.binaries.appendingPathComponent(name).path, arguments, input: input, inputFile: inputFile)
}

func run(executable: String, _ arguments: [String], input: Data? = nil, inputFile: URL? = nil) throws -> ToolResult {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  var inPipe: Pipe?
  if let inputFile {
    process.standardInput = try FileHandle(forReadingFrom: inputFile)
  } else if input != nil {
    inPipe = Pipe()
    process.standardInput = inPipe
  } else {
    process.standardInput = FileHandle.nullDevice
  }
  try process.run()
  // Feed stdin and drain stdout/stderr concurrently, so large data cannot deadlock.
  let group = DispatchGroup()
  nonisolated(unsafe) var stdoutData = Data()
  nonisolated(unsafe) var stderrData = Data()
  DispatchQueue.global().async(group: group) { stdoutData = out.fileHandleForReading.readDataToEndOfFile() }
  DispatchQueue.global().async(group: group) { stderrData = err.fileHandleForReading.readDataToEndOfFile() }
  if let inPipe, let input {
    DispatchQueue.global().async(group: group) {
      try? inPipe.fileHandleForWriting.write(contentsOf: input)
      try? inPipe.fileHandleForWriting.close()
    }
  }
  process.waitUntilExit()
  group.wait()
  return ToolResult(
    status: process.terminationStatus, stdout: stdoutData, stderr: String(decoding: stderrData, as: UTF8.self))
}

/// Parses simple CSV text (the shared tables use no quotes) into rows of fields.
func simpleRows(_ data: Data) -> [[Substring]] {
  String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
    .map { $0.split(separator: ",", omittingEmptySubsequences: false) }
}
