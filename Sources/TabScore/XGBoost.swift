// A small owner of XGBoost's C API (Debian libxgboost-dev 1.7): a dense float matrix with
// labels, a booster trained for a fixed number of rounds, predictions and gain importances.
// XGBoost is used single-threaded inside each call (`nthread`), seeded, so results repeat.

import CXGBoost

/// An error from XGBoost's C API, carrying its last-error text.
public struct XGBoostError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { "xgboost: \(message)" }
}

/// Throws the library's last error when `status` is not 0.
@inline(__always)
func check(_ status: Int32) throws {
  if status != 0 { throw XGBoostError(message: String(cString: XGBGetLastError())) }
}

/// A dense matrix of features (row-major, NaN = missing) with one label per row.
final class XGBMatrix {
  let handle: DMatrixHandle
  let rows: Int

  /// Shapes: features (rows, width), labels (rows) or empty.
  init(features: UnsafeBufferPointer<Float>, rows: Int, width: Int, labels: [Float]) throws {
    precondition(features.count == rows * width && (labels.isEmpty || labels.count == rows))
    var out: DMatrixHandle?
    try check(
      XGDMatrixCreateFromMat(features.baseAddress, UInt64(rows), UInt64(width), Float.nan, &out))
    handle = out!
    self.rows = rows
    if !labels.isEmpty {
      try labels.withUnsafeBufferPointer {
        try check(XGDMatrixSetFloatInfo(handle, "label", $0.baseAddress, UInt64(rows)))
      }
    }
  }

  deinit { XGDMatrixFree(handle) }
}

/// A gradient-boosted tree ensemble.
final class XGBBooster {
  let handle: BoosterHandle

  /// Trains `rounds` boosting rounds on `train` with string parameters (XGBoost's names).
  init(train: XGBMatrix, parameters: [(String, String)], rounds: Int) throws {
    var out: BoosterHandle?
    var matrices: [DMatrixHandle?] = [train.handle]
    try check(XGBoosterCreate(&matrices, 1, &out))
    handle = out!
    try check(XGBoosterSetParam(handle, "verbosity", "0"))
    for (key, value) in parameters { try check(XGBoosterSetParam(handle, key, value)) }
    for round in 0..<rounds {
      try check(XGBoosterUpdateOneIter(handle, Int32(round), train.handle))
    }
  }

  deinit { XGBoosterFree(handle) }

  /// Predictions for every row of `matrix` (probabilities for logistic objectives; a row of
  /// class probabilities for softprob).
  func predict(_ matrix: XGBMatrix) throws -> [Float] {
    var length: UInt64 = 0
    var result: UnsafePointer<Float>?
    try check(XGBoosterPredict(handle, matrix.handle, 0, 0, 0, &length, &result))
    return Array(UnsafeBufferPointer(start: result, count: Int(length)))
  }

  /// Total gain per feature index (features never split on get 0).
  func totalGain(width: Int) throws -> [Double] {
    var count: UInt64 = 0
    var names: UnsafeMutablePointer<UnsafePointer<CChar>?>?
    var dim: UInt64 = 0
    var shape: UnsafePointer<UInt64>?
    var scores: UnsafePointer<Float>?
    var gains = [Double](repeating: 0, count: width)
    try check(
      XGBoosterFeatureScore(
        handle, "{\"importance_type\": \"total_gain\"}", &count, &names, &dim, &shape, &scores))
    // The library owns the returned arrays until the next call on this booster.
    for i in 0..<Int(count) {
      // Default feature names are "f<index>"; features never split on are absent.
      guard let name = names?[i], let scores else { continue }
      let text = String(cString: name)
      if text.hasPrefix("f"), let index = Int(text.dropFirst()), index < width {
        gains[index] = Double(scores[i])
      }
    }
    return gains
  }
}

/// A value as an XGBoost float: NaN stays missing, and numbers beyond float32's range (valid
/// in a CSV, e.g. 1e160) take the largest finite float instead of inf, which XGBoost refuses.
@inline(__always)
func xgbFloat(_ x: Double) -> Float {
  let limit = Double(Float.greatestFiniteMagnitude)
  return x.isNaN ? .nan : Float(max(-limit, min(limit, x)))
}

/// Threads to give XGBoost: one. Its OpenMP workers spin while they wait, and when the cores
/// are busy a second thread made training 20-40x slower (measured: adult trees detector 45 s on
/// two threads, 2.4 s on one, at load 9); on an idle machine two would save about 1 s.
func xgboostThreads(rows: Int, requested: Int) -> Int { 1 }
