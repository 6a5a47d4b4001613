// tab-diffuse as a user runs it: train on a latent stream, sample with a seed, header members
// carried, refusals with one-line messages and documented statuses, a closed pipe, --max-time
// and SIGINT keeping the best model.

import Foundation
import TabCore
import TabStream
import TestSupport
import Testing

@testable import TabDiffusion

struct Run {
  var status: Int32
  var stdout: Data
  var stderr: String
}

enum DiffusePaths {
  static var tool: String { BuiltTools.path("tab-diffuse") }
  static func scratch(_ name: String) throws -> URL { try BuiltTools.scratch("diffuse-tests", name) }
}

func diffuse(_ arguments: [String], input: URL? = nil, environment: [String: String] = [:]) throws -> Run {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: DiffusePaths.tool)
  process.arguments = arguments
  var env = ProcessInfo.processInfo.environment
  for (k, v) in environment { env[k] = v }
  process.environment = env
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  process.standardInput = try input.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
  try process.run()
  let group = DispatchGroup()
  nonisolated(unsafe) var stdoutData = Data()
  nonisolated(unsafe) var stderrData = Data()
  DispatchQueue.global().async(group: group) { stdoutData = out.fileHandleForReading.readDataToEndOfFile() }
  DispatchQueue.global().async(group: group) { stderrData = err.fileHandleForReading.readDataToEndOfFile() }
  process.waitUntilExit()
  group.wait()
  return Run(status: process.terminationStatus, stdout: stdoutData, stderr: String(decoding: stderrData, as: UTF8.self))
}

/// Writes a latent stream of `rows` rows (a correlated 4-D toy, or all zeros when `flat`) with
/// the contract's members.
func writeLatents(to url: URL, rows: Int, kind: StreamKind = .latents, flat: Bool = false) throws -> StreamHeader {
  let d = 4
  let header = StreamHeader(
    kind: kind, layout: latentLayout(d), encoder: .object(["columns": .array([.string("age")])]),
    model: .object(["vae": .string("00ff00ff00ff00ff"), "tokens": .number(1), "token_width": .number(4)]),
    provenance: [ProvenanceStep(tool: "test", version: "0")])
  let sink = MemoryOutput()
  let writer = try StreamWriter(sink: sink, header: header)
  var g = SeededGenerator(seed: 42)
  var values: [Float] = []
  for _ in 0..<rows {
    let a = g.normal()
    let b = g.normal()
    values += [a, 0.8 * a + 0.6 * b, 2 + 0.5 * b, g.uniformFloat() < 0.5 ? -1 : 1]
  }
  var block = RowBlock(layout: header.layout)
  block.resize(rows: rows)
  block.floats = flat ? values.map { _ in 0 } : values
  try writer.write(block)
  try writer.finish()
  try Data(sink.bytes).write(to: url)
  return header
}

func readStream(_ data: Data) throws -> (StreamHeader, [Float], Int) {
  let reader = try StreamReader(source: MemoryInput([UInt8](data), name: "out"))
  var block = RowBlock(layout: reader.header.layout)
  var values: [Float] = []
  var rows = 0
  while try reader.read(into: &block) {
    values += block.floats
    rows += block.rows
  }
  return (reader.header, values, rows)
}

@Suite(.serialized) struct ToolTests {
  static let small = ["--width", "16", "--batch-size", "64", "-q"]

  @Test func trainThenSampleCarriesTheHeader() throws {
    let dir = try DiffusePaths.scratch("carry")
    let z = dir.appendingPathComponent("z.bin")
    let header = try writeLatents(to: z, rows: 256)
    let model = dir.appendingPathComponent("d.model").path
    let trained = try diffuse(["train", "-m", model, "--epochs", "2"] + Self.small, input: z)
    #expect(trained.status == 0, "\(trained.stderr)")
    #expect(FileManager.default.fileExists(atPath: model))
    let sampled = try diffuse(["sample", "-m", model, "-n", "300", "--seed", "5", "--steps", "4"])
    #expect(sampled.status == 0, "\(sampled.stderr)")
    let (out, values, rows) = try readStream(sampled.stdout)
    #expect(out.kind == .latents)
    #expect(out.layout == header.layout)
    #expect(out.encoder == header.encoder)
    #expect(out.model == header.model)
    #expect(out.provenance.map(\.tool) == ["test", "tab-diffuse", "tab-diffuse"])
    #expect(rows == 300 && values.count == 1200)
    #expect(values.allSatisfy { $0.isFinite })
  }

  @Test func whiteningLatentsThatDoNotVaryIsABadDataError() throws {
    let dir = try DiffusePaths.scratch("flat")
    let z = dir.appendingPathComponent("z.bin")
    _ = try writeLatents(to: z, rows: 128, flat: true)
    let model = dir.appendingPathComponent("d.model").path
    let whiten = try diffuse(["train", "-m", model, "--epochs", "1", "--normalization", "whiten"] + Self.small, input: z)
    #expect(whiten.status == 65, "\(whiten.stderr)")
    #expect(whiten.stderr.contains("--normalization standard") && whiten.stderr.split(separator: "\n").count == 1, "\(whiten.stderr)")
    #expect(!FileManager.default.fileExists(atPath: model))
    // The default normalisation trains on them (each constant dimension keeps unit scale).
    let standard = try diffuse(["train", "-m", model, "--epochs", "1"] + Self.small, input: z)
    #expect(standard.status == 0, "\(standard.stderr)")
  }

  @Test func seedGivesTheSameRowsWhateverTheBatchAndThreads() throws {
    let dir = try DiffusePaths.scratch("seed")
    let z = dir.appendingPathComponent("z.bin")
    _ = try writeLatents(to: z, rows: 256)
    let model = dir.appendingPathComponent("d.model").path
    #expect(try diffuse(["train", "-m", model, "--epochs", "1", "--seed", "3"] + Self.small, input: z).status == 0)
    let common = ["sample", "-m", model, "-n", "600", "--steps", "3"]
    let a = try readStream(try diffuse(common + ["--seed", "9"]).stdout).1
    let b = try readStream(try diffuse(common + ["--seed", "9", "--batch", "300"]).stdout).1
    let c = try readStream(try diffuse(common + ["--seed", "10"]).stdout).1
    // One thread: the chunks run one after the other instead of two at once, with the same
    // single-threaded products, so the same numbers.
    let d = try readStream(try diffuse(common + ["--seed", "9", "--threads", "1"]).stdout).1
    #expect(a.count == 2400)
    #expect(a == b)
    #expect(a == d)
    #expect(a != c)
    // Training is reproducible too: the same seed gives the same model values.
    let model2 = dir.appendingPathComponent("d2.model").path
    #expect(try diffuse(["train", "-m", model2, "--epochs", "1", "--seed", "3"] + Self.small, input: z).status == 0)
    let m1 = try readStream(try Data(contentsOf: URL(fileURLWithPath: model))).1
    let m2 = try readStream(try Data(contentsOf: URL(fileURLWithPath: model2))).1
    #expect(m1 == m2)
  }

  @Test func refusesATokenStream() throws {
    let dir = try DiffusePaths.scratch("kind")
    let tokens = dir.appendingPathComponent("x.bin")
    _ = try writeLatents(to: tokens, rows: 10, kind: .tokens)
    let result = try diffuse(["train", "-m", dir.appendingPathComponent("d.model").path, tokens.path])
    #expect(result.status == 65)
    #expect(result.stderr.contains("x.bin") && result.stderr.contains("'tokens'"), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1)
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("d.model").path))
  }

  @Test func missingDefaultModelSaysHowToMakeOne() throws {
    let dir = try DiffusePaths.scratch("nomodel")
    let result = try diffuse(["sample", "-n", "5"], environment: ["TABPIPE_MODEL_DIR": dir.path])
    #expect(result.status == 66)
    #expect(result.stderr.contains("diffusion.model") && result.stderr.contains("tab-diffuse train"), "\(result.stderr)")
  }

  @Test func closedPipeExitsQuicklyAndQuietly() throws {
    let dir = try DiffusePaths.scratch("pipe")
    let z = dir.appendingPathComponent("z.bin")
    _ = try writeLatents(to: z, rows: 128)
    let model = dir.appendingPathComponent("d.model").path
    #expect(try diffuse(["train", "-m", model, "--epochs", "1"] + Self.small, input: z).status == 0)
    let started = Date()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [
      "-c", "set -o pipefail; '\(DiffusePaths.tool)' sample -m '\(model)' -n 100000000 --steps 4 | head -c 1000 | wc -c",
    ]
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    process.waitUntilExit()
    let elapsed = Date().timeIntervalSince(started)
    #expect(process.terminationStatus == 0)
    #expect(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "1000")
    #expect(err.fileHandleForReading.readDataToEndOfFile().isEmpty)
    #expect(elapsed < 20, "took \(elapsed) s")
  }

  @Test func maxTimeAndInterruptKeepTheBestModel() throws {
    let dir = try DiffusePaths.scratch("stop")
    let z = dir.appendingPathComponent("z.bin")
    _ = try writeLatents(to: z, rows: 128)
    let model = dir.appendingPathComponent("d.model").path
    let timed = try diffuse(["train", "-m", model, "--epochs", "100000", "--max-time", "2s"] + Self.small, input: z)
    #expect(timed.status == 0, "\(timed.stderr)")
    let (loaded, _) = try LatentModel.read(from: try FileInput(path: model))
    let epochs = loaded.training?.epochs ?? 0
    #expect(epochs >= 1 && epochs < 100000)

    // SIGINT once the first epoch is logged: the loop stops, saves, and exits 130.
    let log = dir.appendingPathComponent("log.jsonl")
    let model2 = dir.appendingPathComponent("d2.model").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: DiffusePaths.tool)
    process.arguments = ["train", "-m", model2, "--epochs", "100000", "--log", log.path] + Self.small
    process.standardInput = try FileHandle(forReadingFrom: z)
    let err = Pipe()
    process.standardError = err
    try process.run()
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline, ((try? String(contentsOf: log, encoding: .utf8)) ?? "").isEmpty {
      usleep(20_000)
    }
    kill(process.processIdentifier, SIGINT)
    process.waitUntilExit()
    let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(process.terminationStatus == 130)
    #expect(message.contains("interrupted; kept the best model (epoch"), "\(message)")
    #expect(FileManager.default.fileExists(atPath: model2))
    let first = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").first ?? ""
    #expect(first.hasPrefix("{\"epoch\":1,") && first.contains("\"loss\":"))
  }
}
