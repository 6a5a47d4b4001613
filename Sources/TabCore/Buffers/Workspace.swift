// Activation memory for one batch shape, allocated once and reused by every step.

/// Owns the activation buffers of a model for one batch shape (llm.c's acts_memory).
///
/// A model's `XWorkspace` asks for each activation once, when the batch shape is known, and keeps
/// the returned views; a training step then allocates nothing. Buffers start zeroed, are 64-byte
/// aligned and are freed together when the workspace is released; the views must not outlive it.
public final class Workspace {
  private var allocations: [UnsafeMutablePointer<Float>] = []
  /// Floats allocated so far (padding included).
  public private(set) var count = 0

  public init() {}

  deinit {
    for pointer in allocations { pointer.deallocate() }
  }

  /// A new zeroed `rows × cols` buffer owned by this workspace.
  public func matrix(rows: Int, cols: Int) -> Matrix {
    precondition(rows >= 0 && cols >= 0, "Workspace.matrix: negative shape")
    let padded = paddedCount(rows * cols)
    let pointer = allocateFloats(padded)
    allocations.append(pointer)
    count += padded
    return Matrix(pointer, rows: rows, cols: cols)
  }

  /// A new zeroed vector of `count` floats, as a `1 × count` matrix.
  public func vector(count: Int) -> Matrix {
    matrix(rows: 1, cols: count)
  }
}
