// Model files: a bit-exact round trip (values, buffers, Adam state), refusal of every truncation,
// of a corrupted byte, of another stream kind and of a checkpoint whose shapes differ.

import Foundation
import TabStream
import Testing

@testable import TabCore

/// A small model's arenas: a Linear 3 -> 5 and a BatchNorm of 5, with random contents.
private func makeModel(seed: UInt64, outputs: Int = 5) -> (ParameterArena, ParameterArena) {
  let parameters = ParameterArena(
    Linear.parameterShapes("fc", inputs: 3, outputs: outputs)
      + BatchNorm.parameterShapes("bn", width: outputs))
  let buffers = ParameterArena(BatchNorm.bufferShapes("bn", width: outputs))
  var generator = SeededGenerator(seed: seed)
  for p in parameters.parameters {
    generator.fillNormal(p.value)
    generator.fillNormal(p.m)
    generator.fillNormal(p.v)
  }
  for b in buffers.parameters { generator.fillNormal(b.value) }
  return (parameters, buffers)
}

private let configuration: JSONValue = .object(["hidden": .number(5), "name": .string("toy")])
private let provenance = [ProvenanceStep(tool: "tab-test", version: "0.1.0", seed: 7)]

/// The model file of `makeModel(seed: 1)`, with Adam state.
private func modelFile() throws -> [UInt8] {
  let (parameters, buffers) = makeModel(seed: 1)
  var adam = Adam(learningRate: 0.003)
  adam.step = 17
  let sink = MemoryOutput()
  try Checkpoint.write(
    parameters: parameters, buffers: buffers, optimizer: adam, configuration: configuration,
    provenance: provenance, to: sink, level: 1)
  return sink.bytes
}

private func bits(_ buffer: UnsafeMutableBufferPointer<Float>) -> [UInt32] {
  buffer.map(\.bitPattern)
}

@Suite struct CheckpointTests {
  @Test func roundTripIsBitExact() throws {
    let (parameters, buffers) = makeModel(seed: 1)
    parameters["fc.bias"].value.base[0] = .nan  // NaN and −0 survive as bit patterns
    parameters["fc.bias"].value.base[1] = -0.0
    var adam = Adam(learningRate: 0.003)
    adam.step = 17
    let sink = MemoryOutput()
    try Checkpoint.write(
      parameters: parameters, buffers: buffers, optimizer: adam, configuration: configuration,
      provenance: provenance, to: sink)

    let reader = try Checkpoint.Reader(source: MemoryInput(sink.bytes))
    #expect(reader.checkpoint.configuration == configuration)
    #expect(reader.provenance == provenance)
    #expect(reader.checkpoint.optimizer == Checkpoint.OptimizerState(step: 17, learningRate: 0.003))
    #expect(
      reader.checkpoint.tensors.map(\.name).prefix(4) == [
        "fc.weight", "fc.bias", "bn.weight", "bn.bias",
      ])
    #expect(reader.checkpoint.tensors[1].offset == 15)
    let (loadedParameters, loadedBuffers) = makeModel(seed: 2)
    var resumed = Adam(learningRate: 1)
    try reader.load(into: loadedParameters, buffers: loadedBuffers, optimizer: &resumed)
    #expect(bits(loadedParameters.values) == bits(parameters.values))
    #expect(bits(loadedParameters.m) == bits(parameters.m))
    #expect(bits(loadedParameters.v) == bits(parameters.v))
    #expect(bits(loadedBuffers.values) == bits(buffers.values))
    #expect(resumed.step == 17 && resumed.learningRate == 0.003)

    // Loading for sampling skips the moments; a file without them cannot resume training.
    let (sampling, samplingBuffers) = makeModel(seed: 3)
    let moments = Array(sampling.m)
    try Checkpoint.Reader(source: MemoryInput(sink.bytes)).load(
      into: sampling, buffers: samplingBuffers)
    #expect(bits(sampling.values) == bits(parameters.values))
    #expect(Array(sampling.m) == moments)
    let plain = MemoryOutput()
    try Checkpoint.write(
      parameters: parameters, buffers: buffers, configuration: configuration, provenance: [],
      to: plain)
    #expect(throws: CheckpointError.noOptimizerState(path: "<memory>")) {
      try Checkpoint.Reader(source: MemoryInput(plain.bytes)).load(
        into: sampling, buffers: samplingBuffers, optimizer: &resumed)
    }
  }

  @Test func everyTruncationIsRefusedAndLeavesTheModelAlone() throws {
    let bytes = try modelFile()
    let (parameters, buffers) = makeModel(seed: 9)
    let before = bits(parameters.values) + bits(buffers.values)
    for length in 0..<bytes.count {
      do {
        let reader = try Checkpoint.Reader(source: MemoryInput(Array(bytes[0..<length])))
        try reader.load(into: parameters, buffers: buffers)
        Issue.record("a checkpoint cut to \(length) of \(bytes.count) bytes was accepted")
      } catch is StreamError {
        // truncated, empty or an unreadable (cut) header: all refused by the stream's checks
      } catch {
        Issue.record("cut to \(length) bytes: unexpected error \(error)")
      }
    }
    #expect(bits(parameters.values) + bits(buffers.values) == before)
  }

  @Test func corruptionIsRefused() throws {
    var bytes = try modelFile()
    bytes[bytes.count - 40] ^= 0x10  // inside the last ROWS frame (the ENDS record is 41 bytes)
    let (parameters, buffers) = makeModel(seed: 9)
    let reader = try Checkpoint.Reader(source: MemoryInput(bytes))
    #expect {
      try reader.load(into: parameters, buffers: buffers)
    } throws: { error in
      if case StreamError.corrupt = error { return true }
      return false
    }
  }

  @Test func mismatchedShapeIsRefusedWithTheMessage() throws {
    let bytes = try modelFile()
    let (wider, widerBuffers) = makeModel(seed: 4, outputs: 6)
    let reader = try Checkpoint.Reader(source: MemoryInput(bytes, name: "toy.model"))
    let expected = CheckpointError.shapeMismatch(
      path: "toy.model", tensor: "fc.weight", expectedRows: 6, expectedCols: 3, foundRows: 5,
      foundCols: 3)
    #expect(throws: expected) { try reader.load(into: wider, buffers: widerBuffers) }
    #expect(
      expected.description
        == "toy.model: tensor 'fc.weight' is 5 x 3 in the checkpoint, the model expects 6 x 3; "
        + "was it saved with another configuration?")
    // A model without the BatchNorm's buffers does not silently drop them.
    let (parameters, _) = makeModel(seed: 5)
    #expect(
      throws: CheckpointError.unexpectedTensor(path: "<memory>", tensor: "bn.runningMean (buffer)")
    ) {
      try Checkpoint.Reader(source: MemoryInput(bytes)).load(into: parameters)
    }
    // A model with a tensor the file lacks.
    let bigger = ParameterArena(
      Linear.parameterShapes("fc", inputs: 3, outputs: 5)
        + BatchNorm.parameterShapes("bn", width: 5)
        + [ParameterShape("extra", rows: 1, cols: 2)])
    let (_, buffers) = makeModel(seed: 6)
    #expect(throws: CheckpointError.missingTensor(path: "<memory>", tensor: "extra")) {
      try Checkpoint.Reader(source: MemoryInput(bytes)).load(into: bigger, buffers: buffers)
    }
  }

  @Test func otherStreamKindsAreRefused() throws {
    let sink = MemoryOutput()
    let writer = try StreamWriter(
      sink: sink, header: StreamHeader(kind: .tokens, layout: Checkpoint.layout))
    try writer.finish()
    #expect {
      try Checkpoint.Reader(source: MemoryInput(sink.bytes))
    } throws: { error in
      if case StreamError.wrongKind(_, let found, _, _) = error { return found == .tokens }
      return false
    }
  }

  @Test func atomicWriteReplacesTheFile() throws {
    let directory = FileManager.default.temporaryDirectory.path + "/tabcore-checkpoint-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/toy.model"
    let (parameters, buffers) = makeModel(seed: 1)
    try Checkpoint.write(
      parameters: parameters, buffers: buffers, configuration: configuration,
      provenance: provenance, atomicallyTo: path)
    try Checkpoint.write(
      parameters: parameters, buffers: buffers, configuration: configuration,
      provenance: provenance, atomicallyTo: path)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["toy.model"])
    let (loaded, loadedBuffers) = makeModel(seed: 2)
    try Checkpoint.Reader(source: FileInput(path: path)).load(into: loaded, buffers: loadedBuffers)
    #expect(bits(loaded.values) == bits(parameters.values))
    // A directory that does not exist: refused, nothing left behind.
    #expect(throws: IOError.self) {
      try Checkpoint.write(
        parameters: parameters, configuration: configuration, provenance: [],
        atomicallyTo: directory + "/missing/toy.model")
    }
  }
}
