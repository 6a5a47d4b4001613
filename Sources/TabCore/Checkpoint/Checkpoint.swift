// Model files: a ParameterArena (and optionally the model's buffers and Adam's state) with the
// model's configuration and provenance, written as a tensor stream of kind `model` and read back
// with every check the stream reader makes plus a check of each tensor's shape.
//
// Layout (docs/stream-format.md, kind `model`): rows of width 1, one float32 each, no int
// fields. The header's `model` member is this file's `Checkpoint` as JSON: the configuration, and
// an index of the tensors in the order their values follow, each with its group, name, shape and
// offset (in values, i.e. rows, from the first row). Width 1 keeps every tensor contiguous and
// independent of the row width, so a reader in any language finds tensor k at rows
// offset ..< offset + rows·cols (numpy: `data[offset:offset + rows * cols].reshape(rows, cols)`).
// Tensors are stored without the arena's padding, so the file does not depend on TabCore's
// memory layout. Groups, in file order: every parameter's values, then the buffers (running
// statistics), then Adam's first moments, then its second moments (both only when saved).

import TabStream

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failure to load a model file whose stream is sound but whose content does not fit the model.
public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A tensor the model has is stored with another shape.
  case shapeMismatch(
    path: String, tensor: String, expectedRows: Int, expectedCols: Int, foundRows: Int,
    foundCols: Int)
  /// A tensor the model has is not in the file.
  case missingTensor(path: String, tensor: String)
  /// The file holds a tensor the model does not have.
  case unexpectedTensor(path: String, tensor: String)
  /// Optimizer state was asked for but the file was saved without it.
  case noOptimizerState(path: String)
  /// The `model` member is absent, cannot be decoded, or disagrees with the rows.
  case badIndex(path: String, detail: String)

  public var description: String {
    switch self {
    case .shapeMismatch(let path, let tensor, let rows, let cols, let foundRows, let foundCols):
      return
        "\(path): tensor '\(tensor)' is \(foundRows) x \(foundCols) in the checkpoint, the model "
        + "expects \(rows) x \(cols); was it saved with another configuration?"
    case .missingTensor(let path, let tensor):
      return "\(path): checkpoint has no tensor '\(tensor)'; was it saved by another model?"
    case .unexpectedTensor(let path, let tensor):
      return "\(path): checkpoint tensor '\(tensor)' is not part of the model"
    case .noOptimizerState(let path):
      return "\(path): checkpoint holds no optimizer state; training cannot resume from it"
    case .badIndex(let path, let detail):
      return "\(path): unreadable checkpoint index: \(detail)"
    }
  }
}

/// The `model` member of a model file's header: configuration, tensor index, optimizer state.
public struct Checkpoint: Codable, Equatable, Sendable {
  /// Layout version of this member; readers refuse a higher one.
  public static let version = 1

  /// Which of a model's tensor sets a stored tensor belongs to.
  public enum Group: String, Codable, Sendable {
    /// A trainable parameter's values.
    case parameter
    /// A non-trainable state tensor (BatchNorm's running statistics).
    case buffer
    /// Adam's first moment of the parameter of the same name.
    case firstMoment = "adam.m"
    /// Adam's second moment of the parameter of the same name.
    case secondMoment = "adam.v"
  }

  /// One entry of the index: where a tensor's values are among the stream's rows.
  public struct Tensor: Codable, Equatable, Sendable {
    public var group: Group
    public var name: String
    public var rows: Int
    public var cols: Int
    /// The first row holding this tensor's values (row-major).
    public var offset: Int

    /// How messages name it: the parameter's name, or the name with its group.
    var label: String { Tensor.label(group, name) }

    static func label(_ group: Group, _ name: String) -> String {
      group == .parameter ? name : "\(name) (\(group.rawValue))"
    }
  }

  /// The optimizer's position, saved with its moments.
  public struct OptimizerState: Codable, Equatable, Sendable {
    /// Adam's step count t (its bias corrections depend on it).
    public var step: Int
    /// The learning rate in force (a scheduler may have lowered it).
    public var learningRate: Float
  }

  public var version: Int
  /// The model's hyper-parameters (its `XConfig`, as JSON).
  public var configuration: JSONValue
  /// Every stored tensor, in the order of its values.
  public var tensors: [Tensor]
  /// Present when Adam's moments were saved.
  public var optimizer: OptimizerState?

  /// Values stored in all: the stream's row count.
  public var valueCount: Int { tensors.reduce(0) { $0 + $1.rows * $1.cols } }

  /// The one-field row layout of every model file.
  public static let layout = RowLayout(floatFields: [FieldDescriptor(name: "tensor", role: "value")]
  )

  // MARK: - Writing

  /// Writes `parameters`' values, `buffers`' values (if any) and, if `optimizer` is given, the
  /// arena's Adam moments with the optimizer's step and learning rate, as one model-file segment.
  ///
  /// Tensors are stored unpadded, in arena order, in blocks of `StreamFormat.defaultBlockRows`
  /// rows; memory beyond the arenas is one block. The caller makes the write atomic (a tool's
  /// output target, or `write(..., atomicallyTo:)`).
  /// - Precondition: parameter and buffer names are distinct.
  /// - Throws: `IOError` from the sink; an `EncodingError` if the configuration cannot be encoded.
  public static func write(
    parameters: ParameterArena, buffers: ParameterArena? = nil, optimizer: Adam? = nil,
    configuration: JSONValue, provenance: [ProvenanceStep], to sink: ByteSink, level: Int32 = 3
  ) throws {
    var sources: [(tensor: Tensor, base: UnsafeMutablePointer<Float>)] = []
    var offset = 0
    func add(_ group: Group, _ parameter: Parameter, _ matrix: Matrix) {
      let tensor = Tensor(
        group: group, name: parameter.name, rows: matrix.rows, cols: matrix.cols, offset: offset)
      sources.append((tensor, matrix.base))
      offset += matrix.count
    }
    for p in parameters.parameters { add(.parameter, p, p.value) }
    if let buffers {
      for b in buffers.parameters {
        precondition(
          !parameters.parameters.contains { $0.name == b.name },
          "Checkpoint.write: buffer \(b.name) has a parameter's name")
        add(.buffer, b, b.value)
      }
    }
    if optimizer != nil {
      for p in parameters.parameters { add(.firstMoment, p, p.m) }
      for p in parameters.parameters { add(.secondMoment, p, p.v) }
    }
    let checkpoint = Checkpoint(
      version: version, configuration: configuration, tensors: sources.map(\.tensor),
      optimizer: optimizer.map { OptimizerState(step: $0.step, learningRate: $0.learningRate) })
    let header = StreamHeader(
      kind: .model, layout: layout, model: try JSONValue(encoding: checkpoint),
      provenance: provenance)
    let writer = try StreamWriter(sink: sink, header: header, level: level)
    // Gather the tensors into blocks of equal size (tiny tensors such as biases share a block).
    let blockRows = StreamFormat.defaultBlockRows(rowBytes: layout.rowBytes)
    var block = [Float]()
    block.reserveCapacity(blockRows)
    func flush() throws {
      try block.withUnsafeBytes {
        try writer.write(
          rows: block.count, floats: $0, ints: UnsafeRawBufferPointer(start: nil, count: 0))
      }
      block.removeAll(keepingCapacity: true)
    }
    for (tensor, base) in sources {
      var done = 0
      let count = tensor.rows * tensor.cols
      while done < count {
        let take = min(count - done, blockRows - block.count)
        block.append(contentsOf: UnsafeBufferPointer(start: base + done, count: take))
        done += take
        if block.count == blockRows { try flush() }
      }
    }
    if !block.isEmpty { try flush() }
    try writer.finish()
  }

  /// `write` to a temporary file beside `path` (`.NAME.tmp-PID`), flushed to disk and renamed
  /// over `path` only when complete; on any error the temporary file is removed and `path` is
  /// left as it was. (Tools use TabCLI's output target instead, which also cleans up on SIGINT.)
  /// - Throws: `IOError.cannotCreate` if the file cannot be created or renamed, else as `write`.
  public static func write(
    parameters: ParameterArena, buffers: ParameterArena? = nil, optimizer: Adam? = nil,
    configuration: JSONValue, provenance: [ProvenanceStep], atomicallyTo path: String,
    level: Int32 = 3
  ) throws {
    let slash = path.lastIndex(of: "/")
    let directory = slash.map { String(path[...$0]) } ?? ""
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    let temporary = "\(directory).\(name).tmp-\(getpid())"
    let output: FileOutput
    do {
      output = try FileOutput(creating: temporary)
    } catch IOError.cannotCreate(_, let reason) {
      throw IOError.cannotCreate(path: path, reason: reason)
    }
    do {
      try write(
        parameters: parameters, buffers: buffers, optimizer: optimizer,
        configuration: configuration, provenance: provenance, to: output, level: level)
      try output.synchronize()
      guard rename(temporary, path) == 0 else {
        throw IOError.cannotCreate(path: path, reason: errnoText(errno))
      }
    } catch {
      unlink(temporary)
      throw error
    }
  }

  // MARK: - Reading

  /// Reads a model file in two steps: `init` reads and checks the header (so a caller can build
  /// the model from `checkpoint.configuration`), `load` reads the values into the model's arenas.
  public final class Reader {
    /// The header's `model` member.
    public let checkpoint: Checkpoint
    /// The tools that made the file, oldest first.
    public let provenance: [ProvenanceStep]
    public var path: String { stream.path }
    private let stream: StreamReader
    private var loaded = false

    /// Reads the header; checks the kind, the row layout and the index.
    /// - Throws: `StreamError` (empty, not a stream, truncated, bad header, `wrongKind` if not a
    ///   model file), `CheckpointError.badIndex`, `IOError`.
    public init(source: ByteSource) throws {
      stream = try StreamReader(source: source)
      try stream.require([.model], hint: "a model file was expected")
      let path = stream.path
      guard stream.header.layout.floatWidth == 1 && stream.header.layout.intWidth == 0 else {
        throw CheckpointError.badIndex(
          path: path,
          detail: "rows hold \(stream.header.layout.floatWidth) float(s) and "
            + "\(stream.header.layout.intWidth) int(s), expected 1 float")
      }
      guard let member = stream.header.model else {
        throw CheckpointError.badIndex(path: path, detail: "the header has no 'model' member")
      }
      let checkpoint: Checkpoint
      do {
        checkpoint = try member.decode(as: Checkpoint.self)
      } catch {
        throw CheckpointError.badIndex(path: path, detail: describeDecodingError(error))
      }
      guard checkpoint.version <= Checkpoint.version else {
        throw CheckpointError.badIndex(
          path: path,
          detail:
            "version \(checkpoint.version) is newer than this tool reads (\(Checkpoint.version))")
      }
      // Offsets must follow one another from 0: then the index describes exactly the rows.
      var expected = 0
      var seen = Set<String>()
      for tensor in checkpoint.tensors {
        guard tensor.rows >= 0, tensor.cols >= 0,
          !tensor.rows.multipliedReportingOverflow(by: tensor.cols).overflow
        else {
          throw CheckpointError.badIndex(
            path: path, detail: "tensor '\(tensor.label)' has a bad shape")
        }
        guard tensor.offset == expected else {
          throw CheckpointError.badIndex(
            path: path,
            detail: "tensor '\(tensor.label)' at offset \(tensor.offset), expected \(expected)")
        }
        guard seen.insert("\(tensor.group.rawValue)/\(tensor.name)").inserted else {
          throw CheckpointError.badIndex(
            path: path, detail: "tensor '\(tensor.label)' stored twice")
        }
        expected += tensor.rows * tensor.cols
      }
      self.checkpoint = checkpoint
      provenance = stream.header.provenance
    }

    /// Reads every value and, once the whole stream has passed its checks, copies the parameters
    /// into `parameters` and the buffers into `buffers`. Nothing is written on any error.
    /// - Throws: `CheckpointError` if a tensor is missing, extra or of another shape (checked
    ///   before any value is read); `StreamError` (truncated, corrupt); `IOError`.
    /// - Precondition: called once.
    public func load(into parameters: ParameterArena, buffers: ParameterArena? = nil) throws {
      try load(parameters, buffers, moments: false)
    }

    /// As `load(into:buffers:)`, and also restores Adam's moments into `parameters` and the
    /// step count and learning rate into `optimizer`, to resume training.
    /// - Throws: also `CheckpointError.noOptimizerState` if the file was saved without them.
    public func load(
      into parameters: ParameterArena, buffers: ParameterArena? = nil, optimizer: inout Adam
    ) throws {
      guard let state = checkpoint.optimizer else {
        throw CheckpointError.noOptimizerState(path: path)
      }
      try load(parameters, buffers, moments: true)
      optimizer.step = state.step
      optimizer.learningRate = state.learningRate
    }

    private func load(_ parameters: ParameterArena, _ buffers: ParameterArena?, moments: Bool)
      throws
    {
      precondition(!loaded, "Checkpoint.Reader.load: called twice")
      loaded = true
      // Where each stored tensor goes (nil: stored but not wanted, the moments of a file saved
      // for resuming but loaded for sampling).
      var targets: [Matrix?] = []
      var index: [String: Tensor] = [:]
      for tensor in checkpoint.tensors { index["\(tensor.group.rawValue)/\(tensor.name)"] = tensor }
      var expected: [(Group, Parameter, Matrix)] = parameters.parameters.map {
        (.parameter, $0, $0.value)
      }
      expected += (buffers?.parameters ?? []).map { (.buffer, $0, $0.value) }
      if moments {
        expected += parameters.parameters.map { (.firstMoment, $0, $0.m) }
        expected += parameters.parameters.map { (.secondMoment, $0, $0.v) }
      }
      var destination: [String: Matrix] = [:]
      for (group, parameter, matrix) in expected {
        let key = "\(group.rawValue)/\(parameter.name)"
        let label = Tensor.label(group, parameter.name)
        guard let stored = index[key] else {
          throw CheckpointError.missingTensor(path: path, tensor: label)
        }
        guard stored.rows == matrix.rows && stored.cols == matrix.cols else {
          throw CheckpointError.shapeMismatch(
            path: path, tensor: label, expectedRows: matrix.rows, expectedCols: matrix.cols,
            foundRows: stored.rows, foundCols: stored.cols)
        }
        destination[key] = matrix
      }
      for tensor in checkpoint.tensors {
        let key = "\(tensor.group.rawValue)/\(tensor.name)"
        let optional = !moments && (tensor.group == .firstMoment || tensor.group == .secondMoment)
        if destination[key] == nil && !optional {
          throw CheckpointError.unexpectedTensor(path: path, tensor: tensor.label)
        }
        targets.append(destination[key])
      }
      // Read everything first (bounded by the index, which the arenas bound), so that a truncated
      // or corrupt file leaves the model untouched.
      let total = checkpoint.valueCount
      var values = [Float]()
      values.reserveCapacity(total)
      var block = RowBlock(layout: Checkpoint.layout)
      while try stream.read(into: &block) {
        guard values.count + block.rows <= total else {
          throw CheckpointError.badIndex(
            path: path, detail: "more than the \(total) values its index describes")
        }
        values.append(contentsOf: block.floats)
      }
      guard values.count == total else {
        throw CheckpointError.badIndex(
          path: path, detail: "\(values.count) values, its index describes \(total)")
      }
      values.withUnsafeBufferPointer { stored in
        for (tensor, target) in zip(checkpoint.tensors, targets) {
          guard let target else { continue }
          // This is safe: offset + count <= total (the offsets were checked to be consecutive).
          target.base.update(from: stored.baseAddress! + tensor.offset, count: target.count)
        }
      }
    }
  }
}

extension CheckpointError: BadDataError {}
