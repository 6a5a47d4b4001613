// tab-vae end to end on small tables made here: train, encode, decode, tab-decode back to CSV;
// --seed reproducibility; the latent stream contract; the documented errors; SIGINT.

import Foundation
import TabStream
import Testing

@testable import TabVAE

/// A 48-row table: two categorical columns, two numerical ones that follow them, and a few
/// missing numbers, so every token kind (value, category, missing indicator) is present.
func smallTable(seed: UInt64) -> String {
  var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
  func next() -> Double {
    state ^= state << 13
    state ^= state >> 7
    state ^= state << 17
    return Double(state % 1_000_000) / 1_000_000
  }
  var lines = ["colour,size,weight,price"]
  let colours = ["red", "green", "blue"], sizes = ["S", "L"]
  for i in 0..<48 {
    let c = Int(next() * 3), s = Int(next() * 2)
    let weight = 10 + 5 * Double(c) + 3 * next()
    let price = i % 9 == 4 ? "" : String(Int(100 * Double(s + 1) + 50 * next()))
    lines.append("\(colours[c]),\(sizes[s]),\(String(format: "%.2f", weight)),\(price)")
  }
  return lines.joined(separator: "\n") + "\n"
}

/// The fast training options of these tests (the model is small; the table is tiny).
let quickTraining = [
  "--batch-size", "16", "--lr", "0.01", "--ff-width", "16", "--layers", "1",
  "--beta-max", "0.0001", "--val-fraction", "0.1", "-q",
]

struct Prepared {
  let directory: URL
  let csv: URL
  let tokens: URL
}

func prepare(_ name: String, seed: UInt64 = 1) throws -> Prepared {
  let directory = try ToolPaths.scratch(name)
  let csv = directory.appendingPathComponent("table.csv")
  try smallTable(seed: seed).write(to: csv, atomically: true, encoding: .utf8)
  let tokens = directory.appendingPathComponent("tokens.bin")
  let encoded = try runTool("tab-encode", [csv.path, "-o", tokens.path])
  #expect(encoded.status == 0, "tab-encode: \(encoded.stderr)")
  return Prepared(directory: directory, csv: csv, tokens: tokens)
}

func header(of file: URL) throws -> StreamHeader {
  try StreamReader(source: try FileInput(path: file.path)).header
}

/// Every row's floats and ints, as bit patterns.
func rows(of file: URL) throws -> [UInt32] {
  let reader = try StreamReader(source: try FileInput(path: file.path))
  var block = RowBlock(layout: reader.header.layout)
  var all: [UInt32] = []
  while try reader.read(into: &block) {
    all += block.floats.prefix(block.rows * block.floatWidth).map(\.bitPattern)
    all += block.ints.prefix(block.rows * block.intWidth).map { UInt32(bitPattern: $0) }
  }
  return all
}

func csvRows(_ data: Data) -> [[Substring]] {
  String(decoding: data, as: UTF8.self).split(separator: "\n").map {
    $0.split(separator: ",", omittingEmptySubsequences: false)
  }
}

@Suite(.serialized) struct TabVAEToolTests {
  @Test func trainEncodeDecodeReproducesTheTableAndSeedsRepeat() throws {
    let p = try prepare("roundtrip")
    // The same command line (relative paths: provenance records the arguments) in two folders.
    var paths: [URL] = []
    for (run, seed, epochs) in [("a", "5", "100"), ("b", "5", "100"), ("c", "6", "2")] {
      let folder = p.directory.appendingPathComponent(run)
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      try FileManager.default.copyItem(at: p.tokens, to: folder.appendingPathComponent("tokens.bin"))
      let trained = try runTool(
        "tab-vae", ["train", "-m", "vae.model", "--seed", seed, "tokens.bin"] + quickTraining + ["--epochs", epochs],
        directory: folder)
      #expect(trained.status == 0, "train: \(trained.stderr)")
      paths.append(folder.appendingPathComponent("vae.model"))
    }
    let model = paths[0], again = paths[1], other = paths[2]
    let bytes = try Data(contentsOf: model)
    let againBytes = try Data(contentsOf: again), otherBytes = try Data(contentsOf: other)
    #expect(bytes == againBytes, "same seed, same model file")
    #expect(bytes != otherBytes, "another seed, another model")

    let latents = p.directory.appendingPathComponent("z.bin")
    let encoded = try runTool("tab-vae", ["encode", "-m", model.path, p.tokens.path, "-o", latents.path])
    #expect(encoded.status == 0, "encode: \(encoded.stderr)")
    let latents2 = p.directory.appendingPathComponent("z2.bin")
    try runTool("tab-vae", ["encode", "-m", again.path, p.tokens.path, "-o", latents2.path])
    // (The headers differ by the provenance's command line; the rows must not.)
    let latentRows = try rows(of: latents), latentRows2 = try rows(of: latents2)
    #expect(!latentRows.isEmpty && latentRows == latentRows2, "latents repeat")

    // The latent stream contract: kind, z-fields, the encoder copied, the VAE's identity.
    let z = try header(of: latents)
    let tokens = try header(of: p.tokens)
    #expect(z.kind == .latents)
    let tokenCount = tokens.layout.floatWidth + tokens.layout.intWidth
    #expect(z.layout.floatWidth == 4 * tokenCount && z.layout.intWidth == 0)
    #expect(z.layout.floatFields.first?.name == "z0" && z.layout.floatFields.allSatisfy { $0.role == "latent" })
    #expect(z.encoder == tokens.encoder)
    #expect(z.model?["tokens"] == .number(Double(tokenCount)))
    #expect(z.model?["token_width"] == .number(4))
    let file = try VAEModelFile.read(try FileInput(path: model.path))
    #expect(z.model?["vae"] == .string(file.configuration.id))
    #expect(file.configuration.id.count == 16)

    let decodedTokens = p.directory.appendingPathComponent("t.bin")
    let decoded = try runTool("tab-vae", ["decode", "-m", model.path, latents.path, "-o", decodedTokens.path])
    #expect(decoded.status == 0, "decode: \(decoded.stderr)")
    #expect(try header(of: decodedTokens).layout == tokens.layout)
    let csv = try runTool("tab-decode", [decodedTokens.path])
    #expect(csv.status == 0, "tab-decode: \(csv.stderr)")
    let original = csvRows(try Data(contentsOf: p.csv)), back = csvRows(csv.stdout)
    try #require(original.count == back.count)
    #expect(back[0] == original[0])
    var categoricalWrong = 0, missingWrong = 0, worstWeight = 0.0, worstPrice = 0.0
    for (a, b) in zip(original.dropFirst(), back.dropFirst()) {
      if a[0] != b[0] { categoricalWrong += 1 }
      if a[1] != b[1] { categoricalWrong += 1 }
      worstWeight = max(worstWeight, abs(Double(a[2])! - Double(b[2])!))
      if a[3].isEmpty != b[3].isEmpty {
        missingWrong += 1
      } else if !a[3].isEmpty {
        worstPrice = max(worstPrice, abs(Double(a[3])! - Double(b[3])!))
      }
    }
    #expect(categoricalWrong == 0, "categorical cells reproduced")
    #expect(missingWrong == 0, "missing cells reproduced")
    #expect(worstWeight < 1.5, "weight (range 10..23) within 1.5, worst \(worstWeight)")
    #expect(worstPrice < 25, "price (range 100..250) within 25, worst \(worstPrice)")

    // Draws: --sample and --sample-categories repeat under a seed, and --sample differs from μ.
    let s1 = try runTool("tab-vae", ["encode", "-m", model.path, "--sample", "--seed", "3", "--force"], stdin: p.tokens)
    let s2 = try runTool("tab-vae", ["encode", "-m", model.path, "--sample", "--seed", "3", "--force"], stdin: p.tokens)
    let meanLatents = try Data(contentsOf: latents)
    #expect(s1.status == 0 && s1.stdout == s2.stdout && s1.stdout != meanLatents)
    let d1 = try runTool("tab-vae", ["decode", "-m", model.path, "--sample-categories", "--seed", "4", "--force"], stdin: latents)
    let d2 = try runTool("tab-vae", ["decode", "-m", model.path, "--sample-categories", "--seed", "4", "--force"], stdin: latents)
    #expect(d1.status == 0 && d1.stdout == d2.stdout)

    // Latents of another VAE, and streams of the wrong kind or width: exit 65, one line.
    let wrongVAE = try runTool("tab-vae", ["decode", "-m", other.path, latents.path, "--force"])
    #expect(wrongVAE.status == 65 && wrongVAE.stderr.contains("belong to VAE"), "\(wrongVAE.stderr)")
    let tokensToDecode = try runTool("tab-vae", ["decode", "-m", model.path, p.tokens.path, "--force"])
    #expect(tokensToDecode.status == 65 && tokensToDecode.stderr.hasPrefix("tab-vae: "), "\(tokensToDecode.stderr)")
    let latentsToEncode = try runTool("tab-vae", ["encode", "-m", model.path, latents.path, "--force"])
    #expect(latentsToEncode.status == 65, "\(latentsToEncode.stderr)")
    let latentsToTrain = try runTool("tab-vae", ["train", "-m", other.path, latents.path, "-q"])
    #expect(latentsToTrain.status == 65, "\(latentsToTrain.stderr)")
    let otherAfter = try Data(contentsOf: other)
    #expect(otherAfter == otherBytes, "a failed run leaves the model alone")
  }

  @Test func widthMismatchAndDefaultModelPath() throws {
    let p = try prepare("widths")
    // A model trained on another table (one column fewer) refuses these tokens and latents.
    let narrow = p.directory.appendingPathComponent("narrow.csv")
    let text = smallTable(seed: 2).split(separator: "\n").map { $0.split(separator: ",").prefix(3).joined(separator: ",") }
    try (text.joined(separator: "\n") + "\n").write(to: narrow, atomically: true, encoding: .utf8)
    let narrowTokens = p.directory.appendingPathComponent("narrow.bin")
    try runTool("tab-encode", [narrow.path, "-o", narrowTokens.path])
    // No -m: the model goes to $TABPIPE_MODEL_DIR/vae.model.
    let models = p.directory.appendingPathComponent("models")
    let env = ["TABPIPE_MODEL_DIR": models.path]
    let missing = try runTool("tab-vae", ["encode", p.tokens.path, "--force"], environment: env)
    #expect(missing.status == 66 && missing.stderr.contains("train one first"), "\(missing.stderr)")
    let trained = try runTool(
      "tab-vae", ["train", narrowTokens.path, "--epochs", "2", "--ff-width", "8", "--layers", "1", "-q"],
      environment: env)
    #expect(trained.status == 0, "\(trained.stderr)")
    #expect(FileManager.default.fileExists(atPath: models.appendingPathComponent("vae.model").path))
    let wide = try runTool("tab-vae", ["encode", p.tokens.path, "--force"], environment: env)
    #expect(wide.status == 65 && wide.stderr.contains("does not match"), "\(wide.stderr)")
    // Latents of the wide table (from a model made on it) are too wide for the narrow VAE.
    let wideModel = p.directory.appendingPathComponent("wide.model")
    try runTool("tab-vae", ["train", "-m", wideModel.path, p.tokens.path, "--epochs", "1", "--ff-width", "8", "--layers", "1", "-q"])
    let wideLatents = p.directory.appendingPathComponent("wide-z.bin")
    try runTool("tab-vae", ["encode", "-m", wideModel.path, p.tokens.path, "-o", wideLatents.path])
    let tooWide = try runTool("tab-vae", ["decode", wideLatents.path, "--force"], environment: env)
    #expect(tooWide.status == 65 && tooWide.stderr.contains("floats"), "\(tooWide.stderr)")
    // An unwritable model path fails before any training, with the output status.
    let unwritable = try runTool(
      "tab-vae", ["train", "-m", p.directory.appendingPathComponent("no/such/dir/x.model").path, p.tokens.path, "-q"])
    #expect(unwritable.status == 73 && unwritable.stderr.contains("cannot create"), "\(unwritable.stderr)")
    // The working-directory default when TABPIPE_MODEL_DIR is unset.
    let inCwd = try runTool("tab-vae", ["encode", p.tokens.path, "--force"], directory: p.directory)
    #expect(inCwd.status == 66 && inCwd.stderr.contains("tabpipe-models/vae.model"), "\(inCwd.stderr)")
  }

  @Test func interruptKeepsTheBestModel() throws {
    let p = try prepare("interrupt")
    let model = p.directory.appendingPathComponent("i.model")
    let (process, _, errPipe) = try launch(
      "tab-vae",
      ["train", "-m", model.path, p.tokens.path, "--epochs", "1000000", "--seed", "2", "--ff-width", "8", "--layers", "1",
       "--batch-size", "16", "--progress"])
    // Wait for two epoch lines, then ask for a stop.
    var seen = ""
    let handle = errPipe.fileHandleForReading
    while seen.components(separatedBy: "epoch ").count < 3 {
      let chunk = handle.availableData
      if chunk.isEmpty { break }
      seen += String(decoding: chunk, as: UTF8.self)
    }
    kill(process.processIdentifier, SIGINT)
    let rest = handle.readDataToEndOfFile()
    process.waitUntilExit()
    seen += String(decoding: rest, as: UTF8.self)
    #expect(process.terminationStatus == 130, "\(seen)")
    #expect(seen.contains("interrupted; kept the best model (epoch"), "\(seen)")
    let file = try VAEModelFile.read(try FileInput(path: model.path))
    #expect(file.configuration.bestEpoch >= 1)
    let encoded = try runTool("tab-vae", ["encode", "-m", model.path, p.tokens.path, "--force"])
    #expect(encoded.status == 0 && !encoded.stdout.isEmpty)
    // --max-time ends a long run cleanly with the best model.
    let budget = p.directory.appendingPathComponent("budget.model")
    let timed = try runTool(
      "tab-vae",
      ["train", "-m", budget.path, p.tokens.path, "--epochs", "1000000", "--max-time", "1s", "--ff-width", "8",
       "--layers", "1", "-q"])
    #expect(timed.status == 0, "\(timed.stderr)")
    #expect(try VAEModelFile.read(try FileInput(path: budget.path)).configuration.bestEpoch >= 1)
  }
}
