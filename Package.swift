// swift-tools-version: 6.0
// tabpipe: learn a mixed-type table and generate new rows, as small Unix filters.
// Layers (dependencies point down only):
//   CZstd (system) -> TabStream (container, I/O) -> TabTable (CSV, schema, transforms)
//   -> TabCLI (what every tool shares) -> one thin executable per tool.
//   CBLAS (system), CVectorMath -> TabCore (numeric core) -> TabVAE, TabDiffusion, TabGAN (the models);
//   CXGBoost (system) -> TabScore (metrics). Each model or metric module has one tool.
import PackageDescription

// -march=haswell (AVX2 + FMA) in release: without it SIMD8<Float> multiply-adds and blends
// become per-lane calls (measured: axpy 10x, SiLU 12x slower). Release binaries then need an
// AVX2+FMA CPU (Intel Haswell 2013, AMD Excavator 2015, or later).
let vectorized: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=haswell"], .when(configuration: .release))]
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

/// A tool: a thin executable over its module and TabCLI.
func tool(_ name: String, _ modules: [Target.Dependency]) -> Target {
  .executableTarget(name: name, dependencies: ["TabCLI", "TabStream", "TabTable", argumentParser] + modules, swiftSettings: vectorized)
}

let package = Package(
  name: "tabpipe",
  products: [
    .executable(name: "tab-encode", targets: ["tab-encode"]),
    .executable(name: "tab-decode", targets: ["tab-decode"]),
    .executable(name: "tab-info", targets: ["tab-info"]),
    .executable(name: "tab-vae", targets: ["tab-vae"]),
    .executable(name: "tab-diffuse", targets: ["tab-diffuse"]),
    .executable(name: "tab-gan", targets: ["tab-gan"]),
    .executable(name: "tab-score", targets: ["tab-score"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    .systemLibrary(
      name: "CZstd", pkgConfig: "libzstd",
      providers: [.apt(["libzstd-dev"])]),
    .target(name: "TabStream", dependencies: ["CZstd"]),
    .target(name: "TabTable", dependencies: ["TabStream"]),
    // Numeric core (issue #3): OpenBLAS's pthread build (see Sources/CBLAS/shim.h).
    .systemLibrary(
      name: "CBLAS", pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"])]),
    // One vector square root that Swift's SIMD types lack on Linux (Sources/CVectorMath).
    .target(name: "CVectorMath"),
    .target(name: "TabCore", dependencies: ["CBLAS", "CVectorMath", "TabStream"], swiftSettings: vectorized),
    // The models (issues #4, #5, #7), each over TabCore and the token layout of TabTable.
    .target(name: "TabVAE", dependencies: ["TabCore", "TabTable", "TabStream"], swiftSettings: vectorized),
    .target(name: "TabDiffusion", dependencies: ["TabCore", "TabStream"], swiftSettings: vectorized),
    .target(name: "TabGAN", dependencies: ["TabCore", "TabTable", "TabStream"], swiftSettings: vectorized),
    // Metrics (issue #6): XGBoost's C API (Debian libxgboost-dev) for the tree detector and
    // machine-learning efficiency.
    .systemLibrary(
      name: "CXGBoost", pkgConfig: "xgboost",
      providers: [.apt(["libxgboost-dev"])]),
    .target(name: "TabScore", dependencies: ["CXGBoost", "TabTable", "TabStream"], swiftSettings: vectorized),
    .target(
      name: "TabCLI",
      dependencies: [
        "TabStream", "TabTable",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(
      name: "tab-encode",
      dependencies: [
        "TabCLI", "TabTable", "TabStream",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(
      name: "tab-decode",
      dependencies: [
        "TabCLI", "TabTable", "TabStream",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(
      name: "tab-info",
      dependencies: [
        "TabCLI", "TabTable", "TabStream",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    tool("tab-vae", ["TabVAE", "TabCore"]),
    tool("tab-diffuse", ["TabDiffusion", "TabCore"]),
    tool("tab-gan", ["TabGAN", "TabCore"]),
    tool("tab-score", ["TabScore"]),
    // Issue #3's speed benchmark (bench/core-speed.sh); prints figures, never a test.
    .executableTarget(
      name: "core-bench", dependencies: ["TabCore", "TabVAE"], path: "bench/core", swiftSettings: vectorized),
    .testTarget(name: "TabStreamTests", dependencies: ["TabStream"]),
    .testTarget(name: "TabTableTests", dependencies: ["TabTable", "TabStream"]),
    .testTarget(name: "TabCoreTests", dependencies: ["TabCore", "TabStream"]),
    .testTarget(name: "TabCLITests", dependencies: ["TabCLI", argumentParser]),
    // Runs the built executables; `swift test` builds them first.
    .testTarget(
      name: "ToolTests",
      dependencies: [
        "TestSupport", "TabStream", "TabTable", "tab-encode", "tab-decode", "tab-info",
        // The example scripts' tests (ExampleScriptTests) run both pipelines.
        "tab-vae", "tab-diffuse", "tab-gan", "tab-score",
      ]),
    // Where the built tools are and scratch folders, for every test target that runs them.
    .target(name: "TestSupport", path: "Tests/TestSupport"),
    // Each model's tests: the module's units, and its tool in pipes with tab-encode/tab-decode.
    .testTarget(
      name: "TabVAETests", dependencies: ["TestSupport", "TabVAE", "TabCore", "TabTable", "TabStream", "tab-vae", "tab-encode", "tab-decode"]),
    .testTarget(
      name: "TabDiffusionTests",
      dependencies: ["TestSupport", "TabDiffusion", "TabCore", "TabStream", "tab-diffuse", "tab-vae", "tab-encode", "tab-decode"]),
    .testTarget(
      name: "TabGANTests", dependencies: ["TestSupport", "TabGAN", "TabCore", "TabTable", "TabStream", "tab-gan", "tab-encode", "tab-decode"]),
    .testTarget(
      name: "TabScoreTests", dependencies: ["TestSupport", "TabScore", "TabTable", "TabStream", "tab-score"], exclude: ["Fixtures"]),
  ]
)
