// Runs the built tab-* executables for the tab-vae tests: arguments, environment, working
// directory, standard input from a file, and what came out.

import Foundation
import TestSupport

struct ToolRun {
  var status: Int32
  var stdout: Data
  var stderr: String
}

enum ToolPaths {
  static var binaries: URL { BuiltTools.directory }

  /// A fresh empty directory for one test.
  static func scratch(_ name: String) throws -> URL { try BuiltTools.scratch("vae-tests", name) }
}

/// Starts tool `name`; the caller waits.
func launch(
  _ name: String, _ arguments: [String], stdin: URL? = nil, stdout: URL? = nil,
  directory: URL? = nil, environment: [String: String] = [:]
) throws -> (Process, Pipe?, Pipe) {
  let process = Process()
  process.executableURL = ToolPaths.binaries.appendingPathComponent(name)
  process.arguments = arguments
  if let directory { process.currentDirectoryURL = directory }
  var env = ProcessInfo.processInfo.environment
  env.removeValue(forKey: "TABPIPE_MODEL_DIR")
  for (key, value) in environment { env[key] = value }
  process.environment = env
  process.standardInput = try stdin.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
  var outPipe: Pipe?
  if let stdout {
    _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: stdout)
  } else {
    outPipe = Pipe()
    process.standardOutput = outPipe
  }
  let errPipe = Pipe()
  process.standardError = errPipe
  try process.run()
  return (process, outPipe, errPipe)
}

/// Runs tool `name` to the end.
@discardableResult
func runTool(
  _ name: String, _ arguments: [String], stdin: URL? = nil, stdout: URL? = nil,
  directory: URL? = nil, environment: [String: String] = [:]
) throws -> ToolRun {
  let (process, outPipe, errPipe) = try launch(
    name, arguments, stdin: stdin, stdout: stdout, directory: directory, environment: environment)
  let group = DispatchGroup()
  nonisolated(unsafe) var out = Data()
  nonisolated(unsafe) var err = Data()
  if let outPipe {
    DispatchQueue.global().async(group: group) { out = outPipe.fileHandleForReading.readDataToEndOfFile() }
  }
  DispatchQueue.global().async(group: group) { err = errPipe.fileHandleForReading.readDataToEndOfFile() }
  process.waitUntilExit()
  group.wait()
  return ToolRun(status: process.terminationStatus, stdout: out, stderr: String(decoding: err, as: UTF8.self))
}
