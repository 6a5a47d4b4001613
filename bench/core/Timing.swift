// Wall-clock timing, the machine's load, number formatting, and the directional gradient check
// for core-bench (no Foundation).

import Dispatch
import TabCore

#if canImport(Glibc)
  import Glibc
#endif

/// Milliseconds since some fixed point (monotonic).
func nowMilliseconds() -> Double {
  Double(DispatchTime.now().uptimeNanoseconds) / 1e6
}

/// Wall milliseconds of each of `steps` calls of `body`, after `warmup` untimed calls.
func timeSteps(steps: Int, warmup: Int, _ body: () -> Void) -> [Double] {
  for _ in 0..<warmup { body() }
  var times: [Double] = []
  times.reserveCapacity(steps)
  for _ in 0..<steps {
    let start = nowMilliseconds()
    body()
    times.append(nowMilliseconds() - start)
  }
  return times
}

/// The median of `values` (the mean of the middle two for an even count).
func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  let n = sorted.count
  if n == 0 { return .nan }
  return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
}

/// The 1-minute load average (-1 if unavailable).
func loadAverage() -> Double {
  var loads = [Double](repeating: -1, count: 3)
  _ = getloadavg(&loads, 3)
  return loads[0]
}

/// `value` with `digits` decimals, for tables and JSON.
func fixed(_ value: Double, _ digits: Int) -> String {
  if !value.isFinite { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
  var scale = 1.0
  for _ in 0..<digits { scale *= 10 }
  let rounded = (abs(value) * scale).rounded()
  let whole = Int(rounded / scale)
  var fraction = String(Int(rounded - Double(whole) * scale))
  while fraction.count < digits { fraction = "0" + fraction }
  let sign = value < 0 && rounded != 0 ? "-" : ""
  return digits == 0 ? sign + String(whole) : sign + String(whole) + "." + fraction
}

/// `text` padded with spaces on the left to `width` characters.
func padded(_ text: String, _ width: Int) -> String {
  text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

/// Writes `text` to the file at `path`, replacing it. Returns false on failure.
func writeFile(_ path: String, _ text: String) -> Bool {
  guard let file = fopen(path, "w") else { return false }
  defer { fclose(file) }
  return fputs(text, file) >= 0
}

/// Prints `line` to stdout at once (the figures appear while the run goes on).
func say(_ line: String) {
  print(line)
  fflush(nil)  // all streams: stdout is a global Swift 6 will not touch from here
}

/// Writes `core-bench: message` to standard error (file descriptor 2).
func complain(_ message: String) {
  fflush(nil)
  let line = "core-bench: " + message + "\n"
  _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}

/// Checks a backward pass against a central difference of its loss along the gradient: with
/// g the gradient `lossAndGradients` leaves in `arena` and u = g / ‖g‖, the directional
/// derivative (L(θ + εu) − L(θ − εu)) / 2ε must equal ‖g‖. Returns (‖g‖, the difference) and
/// leaves the values as they were (the gradients hold the last evaluation's).
func directionalCheck(
  _ arena: ParameterArena, epsilon: Float = 1e-3, _ lossAndGradients: () -> Float
) -> (analytic: Double, numeric: Double) {
  _ = lossAndGradients()
  let count = arena.count
  let values = arena.values.baseAddress!
  let direction = UnsafeMutablePointer<Float>.allocate(capacity: count)
  let original = UnsafeMutablePointer<Float>.allocate(capacity: count)
  defer {
    direction.deallocate()
    original.deallocate()
  }
  direction.update(from: arena.grads.baseAddress!, count: count)
  let norm = sumOfSquares(direction, count: count).squareRoot()
  scale(direction, by: Float(1 / norm), count: count)
  original.update(from: values, count: count)
  func lossAt(_ shift: Float) -> Double {
    values.update(from: original, count: count)
    axpy(shift, direction, values, count: count)
    return Double(lossAndGradients())
  }
  let numeric = (lossAt(epsilon) - lossAt(-epsilon)) / Double(2 * epsilon)
  values.update(from: original, count: count)
  return (norm, numeric)
}
