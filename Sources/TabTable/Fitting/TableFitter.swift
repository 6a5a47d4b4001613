// Fitting: infer each column's type (unless the schema says), then fit its transform from the
// column's distinct cells and their counts.

import TabStream

/// Choices that shape a fitted encoder.
public struct FitOptions: Sendable {
  public var numeric: NumericTransform = .quantile
  /// Cell texts that mean "missing".
  public var missingMarkers: [String] = ["", "NA", "NaN", "?", "null"]
  public var schema: TableSchema?
  public var schemaPath: String = "schema"
  /// Model ID-like columns instead of excluding them.
  public var keepIdentifiers = false
  /// Integer columns with at most this many distinct values are categorical.
  public var maxIntegerCategories = 20
  /// Columns with at most this many distinct values decode by snapping to them.
  public var snapLimit = 1000
  public var mixtureModes = 10
  public var mixtureThreshold = 0.005
  /// Values the Gaussian mixture is fitted on, at most (a seeded sample of the column).
  public var mixtureSample = 50_000
  public var seed: UInt64 = 0

  public init() {}
}

/// Fits a `TableEncoder` to a table held in a `ColumnStore`.
public enum TableFitter {
  /// - Returns: the encoder and warnings for the user (excluded ID columns).
  /// - Throws: `EncodeError` (all-missing column, schema mismatch, value not of the schema's type).
  public static func fit(_ store: ColumnStore, options: FitOptions) throws -> (TableEncoder, [String]) {
    if let schema = options.schema {
      for (name, _) in schema.columns where !store.names.contains(name) {
        throw EncodeError.schemaColumnNotInTable(schema: options.schemaPath, column: name, table: store.path)
      }
    }
    var markers = Set<[UInt8]>()
    for marker in options.missingMarkers { markers.insert(Array(marker.utf8)) }
    var columns: [ColumnEncoding] = []
    var warnings: [String] = []
    for c in 0..<store.names.count {
      let profile = ColumnProfile(store: store, column: c, markers: markers)
      let given = options.schema?[store.names[c]]
      var columnWarnings: [String] = []
      var column = try fitColumn(profile, given: given, options: options, warnings: &columnWarnings)
      if column.kind == .identifier && given == nil && options.keepIdentifiers {
        columnWarnings = []
        column = try fitColumn(profile, given: nil, options: options, allowIdentifier: false, warnings: &columnWarnings)
      } else if column.kind == .identifier && given == nil {
        let what = column.sequenceStart != nil ? "a fresh sequence" : "empty cells"
        warnings.append(
          "column '\(column.name)' looks like an ID (\(profile.distinct.count) distinct values in "
            + "\(store.rows) rows): not modelled, tab-decode writes \(what); --keep-ids models it")
      }
      warnings += columnWarnings
      columns.append(column)
    }
    let delimiter = String(decoding: [store.dialect.delimiter], as: UTF8.self)
    let encoder = TableEncoder(
      columns: columns, delimiter: delimiter, header: store.hasHeader,
      lineEnding: store.sawCRLF ? .crlf : .lf, missingMarkers: options.missingMarkers, rows: store.rows)
    return (encoder, warnings)
  }

  /// - Parameter warnings: gets a line for the user about what will not come back exactly.
  static func fitColumn(
    _ profile: ColumnProfile, given: TableSchema.Column?, options: FitOptions, allowIdentifier: Bool = true,
    warnings: inout [String]
  ) throws -> ColumnEncoding {
    let name = profile.name
    var column = ColumnEncoding(name: name, kind: .categorical, count: profile.present, missing: profile.missing)
    if profile.present == 0 && given?.kind != .categorical && given?.kind != .constant {
      throw EncodeError.allMissing(path: profile.path, column: name)
    }
    let kind = try given?.kind ?? infer(profile, options: options, allowIdentifier: allowIdentifier)
    column.kind = kind
    switch kind {
    case .constant:
      guard profile.distinctAll.count == 1 else {
        throw EncodeError.badSchema(
          schema: options.schemaPath,
          detail: "column '\(name)' is typed constant but holds \(profile.distinctAll.count) different values")
      }
      column.constant = profile.text(profile.distinctAll[0])
    case .categorical:
      fitCategorical(profile, into: &column)
    case .identifier:
      if let numbers = profile.numbers(), numbers.allSatisfy(\.isInteger) {
        let sorted = numbers.map(\.value).sorted()
        let step = sorted.count > 1 ? sorted[1] - sorted[0] : 1
        if step > 0 && zip(sorted, sorted.dropFirst()).allSatisfy({ $1 - $0 == step }) {
          column.sequenceStart = sorted[0]
          column.sequenceStep = step
        }
      }
    case .numerical:
      guard let numbers = profile.numbers() else {
        let bad = profile.firstNonNumber()!
        throw EncodeError.badValue(
          path: profile.path, line: profile.line(of: bad), column: name, expected: "a number", found: profile.text(bad))
      }
      let values = numbers.map(\.value)
      column.style = NumberStyle(
        integer: numbers.allSatisfy(\.isInteger), decimals: min(numbers.map(\.decimals).max() ?? 0, NumberStyle.maxDecimals),
        fixed: Set(numbers.map(\.decimals)).count == 1 && numbers[0].decimals > 0,
        exponent: numbers.contains(where: \.hasExponent))
      fitNumeric(values, profile: profile, options: options, into: &column)
      if column.values != nil, let warning = indistinguishableValues(profile, values: values) {
        warnings.append(warning)
      }
    case .datetime:
      var format: DateFormat?
      if let pattern = given?.format { format = DateFormat(pattern: pattern) }
      if format == nil { format = DateFormat.detect(profile.distinct.map { profile.text($0) }) }
      guard let format else {
        throw EncodeError.badSchema(schema: options.schemaPath, detail: "column '\(name)': no supported date format fits its values")
      }
      var values: [Double] = []
      for code in profile.distinct {
        guard let seconds = profile.withBytes(code, { format.parse($0) }) else {
          throw EncodeError.badValue(
            path: profile.path, line: profile.line(of: code), column: name,
            expected: "a date like \(format.pattern)", found: profile.text(code))
        }
        values.append(seconds)
      }
      column.dateFormat = format.pattern
      fitNumeric(values, profile: profile, options: options, into: &column)
    }
    return column
  }

  /// The type a column's cells suggest.
  static func infer(_ profile: ColumnProfile, options: FitOptions, allowIdentifier: Bool) throws -> ColumnKind {
    if profile.distinctAll.count == 1 { return .constant }
    let distinct = profile.distinct.count
    let allDistinct = distinct == profile.present && profile.missing == 0
    if let numbers = profile.numbers() {
      let integers = numbers.allSatisfy(\.isInteger)
      if !integers && profile.distinct.allSatisfy(profile.isIntegerText) {
        // Integers beyond ±2^53, which a double cannot hold exactly (64-bit keys, hashes,
        // amounts in wei): typed like text, so that their digits come back. Too many distinct
        // values for categories, and they are numbers again, within a float's precision.
        if allowIdentifier && allDistinct && (distinct >= 20 || (distinct >= 3 && looksLikeIdentifierName(profile.name))) {
          return .identifier
        }
        return distinct <= options.snapLimit ? .categorical : .numerical
      }
      // A row number or key: all distinct integers in arithmetic sequence, or named like an ID.
      if allowIdentifier && integers && allDistinct && distinct >= 3 {
        let sorted = numbers.map(\.value).sorted()
        let step = sorted[1] - sorted[0]
        let arithmetic = step > 0 && zip(sorted, sorted.dropFirst()).allSatisfy { $1 - $0 == step }
        if arithmetic || looksLikeIdentifierName(profile.name) { return .identifier }
      }
      if integers && distinct <= options.maxIntegerCategories { return .categorical }
      return .numerical
    }
    if DateFormat.detect(profile.distinct.map { profile.text($0) }) != nil { return .datetime }
    if allowIdentifier && allDistinct && distinct >= 20 { return .identifier }
    return .categorical
  }

  /// "id", "No", "index", "customer_id", "customer id", "customerId", "CustomerID" (not
  /// "paid" or "humid").
  static func looksLikeIdentifierName(_ name: String) -> Bool {
    let lower = name.lowercased()
    return ["id", "no", "index", "key"].contains(lower) || lower.hasSuffix("_id") || lower.hasSuffix(" id")
      || lower.hasSuffix("-id") || name.hasSuffix("Id") || name.hasSuffix("ID")
  }

  static func fitCategorical(_ profile: ColumnProfile, into column: inout ColumnEncoding) {
    // Codes follow the labels' sorted order (TabSyn's ordinal encoding), so the same table
    // always gets the same codes: numerically when every label is a number (integer codes
    // keep their order), else by bytes; missing markers sort by bytes after the numbers.
    let numbers = profile.distinctAll.map { profile.withBytes($0) { NumberText.parse($0)?.value } }
    let numeric = zip(profile.distinctAll, numbers).allSatisfy { profile.isMissing[Int($0)] || $1 != nil }
    let order = profile.distinctAll.sorted { a, b in
      if numeric {
        let (x, y) = (numbers[Int(a)], numbers[Int(b)])
        let (ma, mb) = (profile.isMissing[Int(a)], profile.isMissing[Int(b)])
        if ma != mb { return mb }
        if !ma, let x, let y, x != y { return x < y }
        // Integers beyond 2^53 that round to the same double: by their digits.
        if !ma, let order = DecimalText.compareIntegers(profile.bytes(a), profile.bytes(b)), order != 0 {
          return order < 0
        }
      }
      return profile.bytes(a).lexicographicallyPrecedes(profile.bytes(b))
    }
    column.labels = order.map { profile.text($0) }
    column.counts = order.map { profile.counts[Int($0)] }
    let missingCodes = order.indices.filter { profile.isMissing[Int(order[$0])] }
    column.missingCodes = missingCodes.isEmpty ? nil : missingCodes
  }

  static func fitNumeric(
    _ values: [Double], profile: ColumnProfile, options: FitOptions, into column: inout ColumnEncoding
  ) {
    // values[i] belongs to profile.distinct[i]; merge texts with equal values ("1", "1.0").
    let counts = profile.distinct.map { profile.counts[Int($0)] }
    let order = values.indices.sorted { values[$0] < values[$1] }
    var sortedValues: [Double] = []
    var sortedCounts: [Int] = []
    var texts: [Int32] = []  // the most frequent text of each value
    // Zero is written by its most frequent unsigned text ("0", "+0.0") whenever the column has
    // one: "-0" and "-0.0" merge with "0" (they are equal), and a zero written back must not
    // gain a minus sign the row did not have. Only a column whose zeros all had one keeps it.
    func preferred(_ a: Int32, over b: Int32, value: Double) -> Bool {
      if value == 0 {
        let (negativeA, negativeB) = (profile.hasMinusSign(a), profile.hasMinusSign(b))
        if negativeA != negativeB { return negativeB }
      }
      return profile.counts[Int(a)] > profile.counts[Int(b)]
    }
    for i in order {
      if let last = sortedValues.last, last == values[i] {
        sortedCounts[sortedCounts.count - 1] += counts[i]
        if preferred(profile.distinct[i], over: texts[texts.count - 1], value: values[i]) {
          texts[texts.count - 1] = profile.distinct[i]
        }
      } else {
        sortedValues.append(values[i] == 0 ? 0 : values[i])  // -0.0 is stored as 0
        sortedCounts.append(counts[i])
        texts.append(profile.distinct[i])
      }
    }
    column.minimum = sortedValues.first
    column.maximum = sortedValues.last
    if sortedValues.count <= options.snapLimit {
      column.values = sortedValues
      column.valueTexts = texts.map { profile.text($0) }
    }
    column.missingMarker = profile.mostFrequentMarker()
    column.transform = options.numeric
    switch options.numeric {
    case .quantile:
      column.quantiles = QuantileTransform(sortedValues: sortedValues, counts: sortedCounts)
    case .gmm:
      let sample = weightedSample(sortedValues, counts: sortedCounts, size: options.mixtureSample, seed: options.seed)
      let all = GaussianMixture.fit(sample, maxModes: options.mixtureModes, weightThreshold: 0)
      column.mixture = pruneModes(all, threshold: options.mixtureThreshold, covering: sortedValues)
    }
  }

  /// A warning when distinct numbers of a column are one double ("9007199254740993" and
  /// "9007199254740992", or decimals past 17 significant digits): the value set cannot tell
  /// them apart, so they come back as one of them. `values[i]` is `profile.distinct[i]`'s.
  static func indistinguishableValues(_ profile: ColumnProfile, values: [Double]) -> String? {
    // Codes by value, each value's codes in order of first appearance.
    let order = profile.distinct.indices.sorted {
      (values[$0], profile.line(of: profile.distinct[$0])) < (values[$1], profile.line(of: profile.distinct[$1]))
    }
    var lost = 0
    var example: (String, String)?
    var start = 0
    while start < order.count {
      var end = start + 1
      while end < order.count && values[order[end]] == values[order[start]] { end += 1 }
      var seen = Set<String>()
      for i in order[start..<end] {
        let code = profile.distinct[i]
        if seen.insert(DecimalText.canonical(profile.bytes(code))).inserted && seen.count > 1 {
          lost += 1
          if example == nil { example = (profile.text(profile.distinct[order[start]]), profile.text(code)) }
        }
      }
      start = end
    }
    guard let example else { return nil }
    return "column '\(profile.name)': \(lost) value\(lost == 1 ? "" : "s") equal to another as a double (such as "
      + "\(quoted(example.1)) and \(quoted(example.0))) will not come back exactly; --schema can type the column "
      + "categorical to keep every text"
  }

  /// CTGAN keeps the modes heavier than the threshold. That silently clips rare values: a
  /// value more than 4σ from every kept mode encodes as ±0.99 of the nearest one (beijing's
  /// snow hours 1-27, 0.4% of rows, all decoded as 0). So a light mode is also kept when it is
  /// the nearest mode, in units of its σ, of an observed value that no kept mode covers.
  static func pruneModes(_ mixture: GaussianMixture, threshold: Double, covering values: [Double]) -> GaussianMixture {
    let heavy = mixture.weights.indices.filter { mixture.weights[$0] > threshold }
    var keep = Set(heavy.isEmpty ? [mixture.weights.indices.max { mixture.weights[$0] < mixture.weights[$1] }!] : heavy)
    func reach(_ x: Double, _ k: Int) -> Double { abs(x - mixture.means[k]) / (4 * mixture.stds[k]) }
    for x in values where keep.allSatisfy({ reach(x, $0) > 0.99 }) {
      keep.insert(mixture.means.indices.min { reach(x, $0) < reach(x, $1) }!)
    }
    let kept = keep.sorted { mixture.means[$0] < mixture.means[$1] }
    return GaussianMixture(
      means: kept.map { mixture.means[$0] }, stds: kept.map { mixture.stds[$0] }, weights: kept.map { mixture.weights[$0] })
  }

  /// All values (with repeats) if there are at most `size`, else `size` values drawn
  /// uniformly at random from the column: the bounded sample the mixture is fitted on.
  static func weightedSample(_ values: [Double], counts: [Int], size: Int, seed: UInt64) -> [Double] {
    let total = counts.reduce(0, +)
    var cumulative = [Int](repeating: 0, count: counts.count)
    var running = 0
    for i in counts.indices {
      running += counts[i]
      cumulative[i] = running
    }
    if total <= size {
      var all: [Double] = []
      all.reserveCapacity(total)
      for i in values.indices { all.append(contentsOf: repeatElement(values[i], count: counts[i])) }
      return all
    }
    var sample: [Double] = []
    sample.reserveCapacity(size)
    for k in 0..<size {
      let rank = Int(CounterRandom.uniform(seed: seed, row: UInt64(k), stream: 0x5A3D) * Double(total))
      var lo = 0
      var hi = cumulative.count - 1
      while lo < hi {
        let mid = (lo + hi) / 2
        if cumulative[mid] > rank { hi = mid } else { lo = mid + 1 }
      }
      sample.append(values[lo])
    }
    return sample
  }
}

/// A column's distinct cells with their counts and missing flags.
struct ColumnProfile {
  let store: ColumnStore
  let column: Int
  let counts: [Int]
  /// isMissing[code]: the cell is a missing marker.
  let isMissing: [Bool]
  /// Codes of distinct non-missing cells, in order of first appearance.
  let distinct: [Int32]
  /// Codes of all distinct cells.
  let distinctAll: [Int32]
  let present: Int
  let missing: Int

  init(store: ColumnStore, column: Int, markers: Set<[UInt8]>) {
    self.store = store
    self.column = column
    counts = store.counts(column: column)
    let dictionary = store.dictionaries[column]
    let isMissing = (0..<dictionary.count).map { markers.contains(Array(dictionary.key($0))) }
    let distinctAll = (0..<dictionary.count).map { Int32($0) }
    let distinct = distinctAll.filter { !isMissing[Int($0)] }
    let counts = self.counts
    let present = distinct.reduce(0) { $0 + counts[Int($1)] }
    self.isMissing = isMissing
    self.distinctAll = distinctAll
    self.distinct = distinct
    self.present = present
    missing = store.rows - present
  }

  var name: String { store.names[column] }
  var path: String { store.path }
  func bytes(_ code: Int32) -> ArraySlice<UInt8> { store.dictionaries[column].key(Int(code)) }
  func text(_ code: Int32) -> String { store.dictionaries[column].string(Int(code)) }
  func line(of code: Int32) -> Int { Int(store.firstLines[column][Int(code)]) }
  func withBytes<R>(_ code: Int32, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    bytes(code).withUnsafeBytes(body)
  }

  /// Every distinct non-missing cell parsed as a finite number, or nil if one is not.
  func numbers() -> [ParsedNumber]? {
    var result: [ParsedNumber] = []
    result.reserveCapacity(distinct.count)
    for code in distinct {
      guard let number = withBytes(code, { NumberText.parse($0) }), number.value.isFinite else { return nil }
      result.append(number)
    }
    return result
  }

  /// Whether the cell's text starts with a minus sign (after leading spaces or tabs).
  func hasMinusSign(_ code: Int32) -> Bool {
    bytes(code).first { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") } == UInt8(ascii: "-")
  }

  /// Whether the cell is a plain integer: spaces or tabs around, an optional sign, digits only.
  func isIntegerText(_ code: Int32) -> Bool {
    DecimalText.integerDigits(bytes(code)) != nil
  }

  func firstNonNumber() -> Int32? {
    distinct.filter { code in
      withBytes(code, { NumberText.parse($0) }).map { !$0.value.isFinite } ?? true
    }.min { line(of: $0) < line(of: $1) }
  }

  /// The missing marker written most often (ties: the first seen), or nil if none.
  func mostFrequentMarker() -> String? {
    let markers = distinctAll.filter { isMissing[Int($0)] }
    guard let best = markers.max(by: { counts[Int($0)] < counts[Int($1)] || (counts[Int($0)] == counts[Int($1)] && $0 > $1) })
    else { return nil }
    return text(best)
  }
}

/// Exact comparisons of number texts, beyond what a Double holds.
enum DecimalText {
  /// The sign and the digits (leading zeros dropped, "0" for zero) of a plain integer text, or
  /// nil if the text is not one.
  static func integerDigits(_ bytes: ArraySlice<UInt8>) -> (negative: Bool, digits: ArraySlice<UInt8>)? {
    var text = bytes
    while let first = text.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { text.removeFirst() }
    while let last = text.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { text.removeLast() }
    var negative = false
    if let first = text.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
      negative = first == UInt8(ascii: "-")
      text.removeFirst()
    }
    guard !text.isEmpty, text.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
    while text.count > 1 && text.first == UInt8(ascii: "0") { text.removeFirst() }
    return (negative && text != [UInt8(ascii: "0")], text)
  }

  /// -1, 0 or 1 as the integer `a` is below, equal to or above `b`; nil unless both are plain
  /// integer texts.
  static func compareIntegers(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int? {
    guard let x = integerDigits(a), let y = integerDigits(b) else { return nil }
    if x.negative != y.negative { return x.negative ? -1 : 1 }
    var order = 0
    if x.digits.count != y.digits.count {
      order = x.digits.count < y.digits.count ? -1 : 1
    } else if x.digits != y.digits {
      order = x.digits.lexicographicallyPrecedes(y.digits) ? -1 : 1
    }
    return x.negative ? -order : order
  }

  /// A number text in a form equal for equal decimal values: "-1.50", "-15e-1" and "-0015E-1"
  /// all give "-15e-1", every zero "0". For texts `NumberText.parse` accepts.
  static func canonical(_ bytes: ArraySlice<UInt8>) -> String {
    var negative = false
    var digits: [UInt8] = []
    var exponent = 0
    var written = 0
    var exponentNegative = false
    var part = 0  // 0: integer digits, 1: fraction, 2: exponent
    for byte in bytes {
      switch byte {
      case UInt8(ascii: "-") where part == 0 && digits.isEmpty: negative = true
      case UInt8(ascii: "-") where part == 2: exponentNegative = true
      case UInt8(ascii: "."): part = 1
      case UInt8(ascii: "e"), UInt8(ascii: "E"): part = 2
      case UInt8(ascii: "0")...UInt8(ascii: "9"):
        if part == 2 {
          if written < 1_000_000 { written = written * 10 + Int(byte - UInt8(ascii: "0")) }
        } else {
          if digits.isEmpty && byte == UInt8(ascii: "0") {
            if part == 1 { exponent -= 1 }
            continue
          }
          digits.append(byte)
          if part == 1 { exponent -= 1 }
        }
      default: break  // spaces, "+"
      }
    }
    while digits.last == UInt8(ascii: "0") {
      digits.removeLast()
      exponent += 1
    }
    guard !digits.isEmpty else { return "0" }
    exponent += exponentNegative ? -written : written
    return (negative ? "-" : "") + String(decoding: digits, as: UTF8.self) + "e\(exponent)"
  }
}
