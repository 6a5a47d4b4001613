// The one place TabCore allocates float memory: 64-byte aligned (a cache line, two AVX
// registers), zero-filled.

/// Alignment of every buffer TabCore allocates, in bytes.
let bufferAlignment = 64

/// Allocates `count` zeroed floats aligned to `bufferAlignment`. Free with `deallocate()`.
func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
  let raw = UnsafeMutableRawPointer.allocate(
    byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: bufferAlignment)
  let floats = raw.bindMemory(to: Float.self, capacity: max(count, 1))
  floats.initialize(repeating: 0, count: max(count, 1))
  return floats
}

/// Rounds `count` up to a whole number of cache lines of floats (16), so that every tensor in an
/// arena or workspace starts aligned and SIMD loops over a whole buffer never straddle two.
func paddedCount(_ count: Int) -> Int {
  let floatsPerLine = bufferAlignment / MemoryLayout<Float>.stride
  return (count + floatsPerLine - 1) / floatsPerLine * floatsPerLine
}
