// swift-tools-version: 6.0
// tabpipe: learn a mixed-type table and generate new rows, as small Unix filters.
// Layers (dependencies point down only):
//   CZstd (system) -> TabStream (container, I/O) -> TabTable (CSV, schema, transforms)
//   -> TabCLI (what every tool shares) -> one thin executable per tool.
import PackageDescription

let package = Package(
  name: "tabpipe",
  products: [
    .executable(name: "tab-encode", targets: ["tab-encode"]),
    .executable(name: "tab-decode", targets: ["tab-decode"]),
    .executable(name: "tab-info", targets: ["tab-info"]),
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
    // -march=haswell (AVX2 + FMA) in release: without it SIMD8<Float> multiply-adds and blends
    // become per-lane calls (measured: axpy 10x, SiLU 12x slower). Release binaries then need an
    // AVX2+FMA CPU (Intel Haswell 2013, AMD Excavator 2015, or later).
    .target(
      name: "TabCore", dependencies: ["CBLAS", "TabStream"],
      swiftSettings: [.unsafeFlags(["-Xcc", "-march=haswell"], .when(configuration: .release))]),
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
    // Issue #3's speed benchmark (bench/core-speed.sh); prints figures, never a test.
    .executableTarget(
      name: "core-bench", dependencies: ["TabCore"], path: "bench/core",
      swiftSettings: [.unsafeFlags(["-Xcc", "-march=haswell"], .when(configuration: .release))]),
    .testTarget(name: "TabStreamTests", dependencies: ["TabStream"]),
    .testTarget(name: "TabTableTests", dependencies: ["TabTable", "TabStream"]),
    .testTarget(name: "TabCoreTests", dependencies: ["TabCore", "TabStream"]),
    .testTarget(
      name: "TabCLITests",
      dependencies: ["TabCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    // Runs the built executables; `swift test` builds them first.
    .testTarget(
      name: "ToolTests", dependencies: ["TabStream", "TabTable", "tab-encode", "tab-decode", "tab-info"]),
  ]
)
