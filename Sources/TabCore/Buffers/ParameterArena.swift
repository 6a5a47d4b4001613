// Every trainable tensor of a model in one allocation, with its gradient and Adam moments in
// the same layout (llm.c's params_memory, grads_memory, m_memory, v_memory), so that zeroing
// gradients, clipping, the optimizer step and a checkpoint are each one loop or one write.

/// The name and shape of one parameter tensor, used to lay out a `ParameterArena`.
public struct ParameterShape: Hashable, Sendable {
  public var name: String
  public var rows: Int
  public var cols: Int

  public init(_ name: String, rows: Int, cols: Int) {
    precondition(rows >= 0 && cols >= 0, "ParameterShape \(name): negative shape")
    self.name = name
    self.rows = rows
    self.cols = cols
  }
}

/// A named parameter tensor: four same-shaped views into its arena.
///
/// `value` is what the model computes with, `grad` accumulates ∂loss/∂value during backward, and
/// `m`, `v` are Adam's first and second moments. The views are valid while the arena lives.
public struct Parameter {
  public let name: String
  public let value: Matrix
  public let grad: Matrix
  public let m: Matrix
  public let v: Matrix
  /// Offset of this tensor in each of the arena's four buffers, in floats.
  public let offset: Int
}

/// One allocation holding the values, gradients and both Adam moments of every parameter.
///
/// The memory is four equal sections `[values | grads | m | v]` of `count` floats each; a
/// parameter sits at the same offset in every section. Each tensor starts on a 64-byte boundary
/// (padding between tensors is zero and stays zero under every update). Everything starts at zero:
/// initialise values with the layers' `initialize` methods or by writing them.
public final class ParameterArena {
  /// Floats in each section (values, grads, m, v), padding included.
  public let count: Int
  /// The parameters in the order they were declared.
  public let parameters: [Parameter]
  private let memory: UnsafeMutablePointer<Float>
  private let indexByName: [String: Int]

  /// Lays out and allocates the given tensors, zero-filled.
  /// - Precondition: names are unique.
  public init(_ shapes: [ParameterShape]) {
    var offsets: [Int] = []
    var total = 0
    for shape in shapes {
      offsets.append(total)
      total += paddedCount(shape.rows * shape.cols)
    }
    let memory = allocateFloats(4 * total)
    var parameters: [Parameter] = []
    var indexByName: [String: Int] = [:]
    for (shape, offset) in zip(shapes, offsets) {
      precondition(indexByName[shape.name] == nil, "ParameterArena: duplicate name \(shape.name)")
      indexByName[shape.name] = parameters.count
      // This is safe: offset + rows * cols <= total, so each view lies inside its section.
      func view(_ section: Int) -> Matrix {
        Matrix(memory + section * total + offset, rows: shape.rows, cols: shape.cols)
      }
      parameters.append(
        Parameter(name: shape.name, value: view(0), grad: view(1), m: view(2), v: view(3),
          offset: offset))
    }
    self.count = total
    self.memory = memory
    self.parameters = parameters
    self.indexByName = indexByName
  }

  deinit {
    memory.deallocate()
  }

  /// The parameter called `name`.
  /// - Precondition: it exists (a model asking for a tensor it did not declare is a bug).
  public subscript(name: String) -> Parameter {
    guard let index = indexByName[name] else {
      preconditionFailure("ParameterArena: no parameter named \(name)")
    }
    return parameters[index]
  }

  /// All values, `count` floats (checkpoints, EMA of weights).
  public var values: UnsafeMutableBufferPointer<Float> { section(0) }
  /// All gradients, in the layout of `values`.
  public var grads: UnsafeMutableBufferPointer<Float> { section(1) }
  /// Adam's first moments, in the layout of `values`.
  public var m: UnsafeMutableBufferPointer<Float> { section(2) }
  /// Adam's second moments, in the layout of `values`.
  public var v: UnsafeMutableBufferPointer<Float> { section(3) }

  /// Number of trainable scalars (without padding).
  public var scalarCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

  /// Sets every gradient to zero; call once per step before backward.
  public func zeroGradients() {
    (memory + count).update(repeating: 0, count: count)
  }

  /// Sets Adam's moments to zero (a fresh optimizer).
  public func zeroMoments() {
    (memory + 2 * count).update(repeating: 0, count: 2 * count)
  }

  private func section(_ index: Int) -> UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(start: memory + index * count, count: count)
  }
}
