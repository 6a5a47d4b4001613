// core-bench: issue #3's speed benchmark, our side. Times one training step of each model built
// from TabCore's layers (the TabSyn denoiser, the TabSyn VAE transformer, a CTGAN step with the
// gradient penalty) on 1 and 2 threads, plus bare gemm at the denoiser's shapes, and prints the
// figures (median ms per step, GFLOP, GFLOP/s). Shapes and FLOP counts match
// bench/torch_reference.py; bench/core-speed.sh runs both and prints the ratios.
//
// Usage: core-bench [--threads T ...] [--cases denoiser vae ctgan ...] [--steps N] [--warmup W]
//                   [--gemm-repeats N] [--json FILE]

import TabCore

#if canImport(Glibc)
  import Glibc
#endif

struct Options {
  var threads = [1, 2]
  var cases = ["denoiser", "vae", "ctgan"]
  var steps: Int? = nil
  var warmup = 3
  var gemmRepeats = 5
  var json: String? = nil
}

func parseOptions() -> Options {
  var options = Options()
  var arguments = Array(CommandLine.arguments.dropFirst())
  func values() -> [String] {
    var taken: [String] = []
    while let next = arguments.first, !next.hasPrefix("--") {
      taken.append(arguments.removeFirst())
    }
    return taken
  }
  func fail(_ message: String) -> Never {
    complain(message)
    exit(64)
  }
  while !arguments.isEmpty {
    let flag = arguments.removeFirst()
    let given = values()
    switch flag {
    case "--threads":
      options.threads = given.compactMap { Int($0) }.filter { $0 >= 1 }
      if options.threads.isEmpty { fail("--threads needs counts of at least 1") }
    case "--cases":
      options.cases = given
      for name in given where !["denoiser", "vae", "ctgan"].contains(name) {
        fail("unknown case '\(name)' (denoiser, vae, ctgan)")
      }
    case "--steps":
      guard let n = given.first.flatMap({ Int($0) }), n >= 1 else { fail("--steps needs N >= 1") }
      options.steps = n
    case "--warmup":
      guard let n = given.first.flatMap({ Int($0) }), n >= 0 else { fail("--warmup needs N >= 0") }
      options.warmup = n
    case "--gemm-repeats":
      guard let n = given.first.flatMap({ Int($0) }), n >= 1 else { fail("--gemm-repeats needs N") }
      options.gemmRepeats = n
    case "--json":
      guard let path = given.first else { fail("--json needs a file") }
      options.json = path
    default:
      fail("unknown option '\(flag)'")
    }
  }
  return options
}

/// One case's figures for one thread count.
struct Result {
  let name: String
  let threads: Int
  let times: [Double]
  let gflop: Double
  let load: Double
  var extra: [(String, String)] = []

  var milliseconds: Double { median(times) }
  var gflops: Double { gflop / milliseconds * 1e3 }

  var json: String {
    let fields =
      [
        ("ms_per_step", fixed(milliseconds, 3)), ("ms_min", fixed(times.min() ?? .nan, 3)),
        ("ms_max", fixed(times.max() ?? .nan, 3)), ("steps", String(times.count)),
        ("gflop", fixed(gflop, 4)), ("gflops", fixed(gflops, 2)),
        ("loadavg_1min_before", fixed(load, 2)),
      ] + extra
    return "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
  }

  func printLine() {
    say(
      "\(name.padding(10))\(padded(fixed(milliseconds, 2), 10)) ms/step  "
        + "\(padded(fixed(gflop, 3), 9)) GFLOP  \(padded(fixed(gflops, 1), 7)) GFLOP/s  "
        + "(min \(fixed(times.min() ?? .nan, 2)) ms, median of \(times.count), load "
        + "\(fixed(load, 2)))")
  }
}

extension String {
  func padding(_ width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
}

/// Runs `step` a few times before timing and refuses to time it unless the loss falls and stays
/// finite: a benchmark of a broken step is worthless.
/// Times `step` (after the correctness guards have passed) and records the machine load first.
func measure(
  _ name: String, threads: Int, steps: Int, warmup: Int, gflop: Double, _ step: () -> Void
) -> Result {
  let load = loadAverage()
  return Result(
    name: name, threads: threads, times: timeSteps(steps: steps, warmup: warmup, step),
    gflop: gflop, load: load)
}

func guardGradient(_ name: String, _ check: (analytic: Double, numeric: Double)) {
  let error = abs(check.analytic - check.numeric) / max(abs(check.analytic), 1e-12)
  let ok = error < 0.05
  say(
    "  guard \(name) backward: |g| \(fixed(check.analytic, 5)), central difference along g "
      + "\(fixed(check.numeric, 5)) -> \(ok ? "agree, ok" : "BROKEN")")
  if !ok {
    complain("\(name): the backward disagrees with a central difference; not timing it")
    exit(70)
  }
}

func guardLoss(_ name: String, _ losses: [Float]) {
  let shown = losses.map { fixed(Double($0), 5) }.joined(separator: " ")
  let finite = losses.allSatisfy { $0.isFinite }
  let falls = losses.count >= 2 && losses.last! < losses.first!
  say("  guard \(name): loss \(shown) -> \(finite && falls ? "falls, ok" : "BROKEN")")
  if !(finite && falls) {
    complain("\(name): the loss does not fall; not timing a broken step")
    exit(70)
  }
}

let options = parseOptions()
let defaultSteps = ["denoiser": 10, "vae": 30, "ctgan": 50]
say(
  "# core-bench: TabCore, float32, OpenBLAS \(BLASThreads.configuration) "
    + "(parallel model \(BLASThreads.parallelism))")
var jsonThreads: [String] = []
for threads in options.threads {
  BLASThreads.maximum = threads
  say("# \(threads) thread(s), load average \(fixed(loadAverage(), 2))")
  var jsonCases: [String] = []
  for name in options.cases {
    var generator = SeededGenerator(seed: 3)
    let steps = options.steps ?? defaultSteps[name]!
    switch name {
    case "denoiser":
      let model = DenoiserStep(generator: &generator)
      guardGradient(name, directionalCheck(model.arena) { model.lossAndGradients() })
      guardLoss(name, (0..<4).map { _ in model.step() })
      var result = measure(
        name, threads: threads, steps: steps, warmup: options.warmup,
        gflop: DenoiserStep.stepFlop / 1e9
      ) {
        _ = model.step()
      }
      result.printLine()
      // Bare gemm of the same 15 products, in the same run.
      let products = DenoiserGEMMs(generator: &generator)
      let perProduct = products.time(repeats: options.gemmRepeats)
      let gemmMilliseconds = perProduct.reduce(0, +)
      let gemmRate = DenoiserStep.stepFlop / 1e9 / gemmMilliseconds * 1e3
      let percent = 100 * result.gflops / gemmRate
      say(
        "gemm      \(padded(fixed(gemmMilliseconds, 2), 10)) ms/step  "
          + "\(padded(fixed(DenoiserStep.stepFlop / 1e9, 3), 9)) GFLOP  "
          + "\(padded(fixed(gemmRate, 1), 7)) GFLOP/s  (15 bare products, sum of medians of "
          + "\(options.gemmRepeats)); step at \(fixed(percent, 1))% of it")
      let shapes = products.products.enumerated().map { index, p in
        let m = p.c.rows
        let n = p.c.cols
        let k = p.transposeA ? p.a.rows : p.a.cols
        let rate = 2 * Double(m * n * k) / perProduct[index] / 1e6
        return "{\"m\": \(m), \"n\": \(n), \"k\": \(k), \"ms\": \(fixed(perProduct[index], 3)), "
          + "\"gflops\": \(fixed(rate, 2))}"
      }
      result.extra = [
        ("gemm_ms", fixed(gemmMilliseconds, 3)), ("gemm_gflops", fixed(gemmRate, 2)),
        ("percent_of_gemm", fixed(percent, 1)),
        ("gemm_shapes", "[" + shapes.joined(separator: ", ") + "]"),
      ]
      jsonCases.append("\"\(name)\": \(result.json)")
    case "vae":
      let model = VAEStep(generator: &generator)
      guardGradient(name, directionalCheck(model.arena) { model.lossAndGradients() })
      guardLoss(name, (0..<5).map { _ in model.step() })
      let result = measure(
        name, threads: threads, steps: steps, warmup: options.warmup,
        gflop: VAEStep.stepFlop / 1e9
      ) {
        _ = model.step()
      }
      result.printLine()
      jsonCases.append("\"\(name)\": \(result.json)")
    case "ctgan":
      let model = CTGANStep(generator: &generator)
      // The GAN's losses are adversarial; the critic's own loss (Wasserstein + penalty) falls
      // over the first steps while the generator is still poor.
      for check in model.directionalChecks() {
        guardGradient("ctgan \(check.name)", (check.analytic, check.numeric))
      }
      let losses = (0..<8).map { _ in model.step() }
      say(
        "  ctgan generator loss: "
          + losses.map { fixed(Double($0.generator), 4) }.joined(separator: " "))
      guardLoss("ctgan critic", losses.map { $0.critic })
      let result = measure(
        name, threads: threads, steps: steps, warmup: options.warmup,
        gflop: CTGANStep.stepFlop / 1e9
      ) {
        _ = model.step()
      }
      result.printLine()
      jsonCases.append("\"\(name)\": \(result.json)")
    default:
      break
    }
  }
  jsonThreads.append(
    "\"\(threads)\": {" + jsonCases.joined(separator: ", ")
      + ", \"loadavg_after\": \(fixed(loadAverage(), 2))}")
}
if let path = options.json {
  let text =
    "{\"side\": \"tabcore\", \"dtype\": \"float32\", \"results\": {"
    + jsonThreads.joined(separator: ", ") + "}}\n"
  if !writeFile(path, text) {
    complain("cannot write \(path)")
    exit(73)
  }
}
