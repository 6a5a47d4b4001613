// An open-addressing hash map from byte strings to dense codes 0, 1, 2, ...: interns every
// distinct cell of a column while fitting, and looks labels (or memoised numbers) up while
// applying an encoder. Keys live in one arena; nothing is allocated per lookup.

/// Byte strings mapped to codes in order of first insertion.
public struct ByteDictionary {
  private var arena: [UInt8] = []
  private var offsets: [Int] = [0]  // key i is arena[offsets[i]..<offsets[i+1]]
  private var hashes: [UInt64] = []
  private var slots: [Int32]  // code, or -1 for empty; capacity is a power of two
  private var mask: Int

  public init(capacity: Int = 64) {
    var size = 16
    while size < capacity * 2 { size <<= 1 }
    slots = [Int32](repeating: -1, count: size)
    mask = size - 1
  }

  /// Number of distinct keys.
  public var count: Int { hashes.count }

  /// The code of `key`, or nil.
  @inlinable
  public func code(of key: UnsafeRawBufferPointer) -> Int32? {
    find(key, hash: Self.hash(key)).code
  }

  /// The code of `key`, inserting it with the next code if new.
  /// - Returns: the code and whether the key was new.
  public mutating func insert(_ key: UnsafeRawBufferPointer) -> (code: Int32, inserted: Bool) {
    let h = Self.hash(key)
    let (found, slot) = find(key, hash: h)
    if let found { return (found, false) }
    let code = Int32(hashes.count)
    arena.append(contentsOf: key)
    offsets.append(arena.count)
    hashes.append(h)
    slots[slot] = code
    if hashes.count * 2 > slots.count { grow() }
    return (code, true)
  }

  /// Inserts a string key.
  @discardableResult
  public mutating func insert(_ key: String) -> (code: Int32, inserted: Bool) {
    var key = key
    return key.withUTF8 { insert(UnsafeRawBufferPointer($0)) }
  }

  /// The code of a string key, or nil.
  public func code(of key: String) -> Int32? {
    var key = key
    return key.withUTF8 { code(of: UnsafeRawBufferPointer($0)) }
  }

  /// The key with code `code`, as bytes.
  public func key(_ code: Int) -> ArraySlice<UInt8> { arena[offsets[code]..<offsets[code + 1]] }

  /// The key with code `code`, as a String (invalid UTF-8 is repaired; callers validate first).
  public func string(_ code: Int) -> String { String(decoding: key(code), as: UTF8.self) }

  @usableFromInline
  func find(_ key: UnsafeRawBufferPointer, hash h: UInt64) -> (code: Int32?, slot: Int) {
    var slot = Int(truncatingIfNeeded: h) & mask
    while true {
      let code = slots[slot]
      if code < 0 { return (nil, slot) }
      if hashes[Int(code)] == h && equals(Int(code), key) { return (code, slot) }
      slot = (slot + 1) & mask
    }
  }

  private func equals(_ code: Int, _ key: UnsafeRawBufferPointer) -> Bool {
    let start = offsets[code]
    let length = offsets[code + 1] - start
    guard length == key.count else { return false }
    if length == 0 { return true }
    return arena.withUnsafeBytes { stored in
      // Most cells are short: compare 8 bytes at a time inline instead of calling memcmp.
      if length <= 16 {
        var i = 0
        while i + 8 <= length {
          if stored.loadUnaligned(fromByteOffset: start + i, as: UInt64.self)
            != key.loadUnaligned(fromByteOffset: i, as: UInt64.self)
          { return false }
          i += 8
        }
        while i < length {
          if stored[start + i] != key[i] { return false }
          i += 1
        }
        return true
      }
      return memcmp(stored.baseAddress! + start, key.baseAddress!, length) == 0
    }
  }

  private mutating func grow() {
    let size = slots.count * 2
    slots = [Int32](repeating: -1, count: size)
    mask = size - 1
    for code in 0..<hashes.count {
      var slot = Int(truncatingIfNeeded: hashes[code]) & mask
      while slots[slot] >= 0 { slot = (slot + 1) & mask }
      slots[slot] = Int32(code)
    }
  }

  /// A fast 64-bit hash of a byte string: 8 bytes at a time, multiply-xorshift mixing.
  @inlinable
  public static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
    var i = 0
    let n = key.count
    while i + 8 <= n {
      h = (h ^ key.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
      h ^= h >> 29
      i += 8
    }
    var tail: UInt64 = 0
    var shift: UInt64 = 0
    while i < n {
      tail |= UInt64(key[i]) << shift
      shift += 8
      i += 1
    }
    h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
    h ^= h >> 31
    h = h &* 0xBF58_476D_1CE4_E5B9
    return h ^ (h >> 32)
  }
}

#if canImport(Glibc)
  import Glibc
#endif
