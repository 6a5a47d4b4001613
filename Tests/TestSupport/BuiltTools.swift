// What every test target that runs the built tab-* executables needs: where `swift build` put
// them, and a fresh folder per test. One copy here instead of one per test target.

import Foundation

public enum BuiltTools {
  /// The repository root (this file is Tests/TestSupport/BuiltTools.swift).
  public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// The folder holding the executables: $TABPIPE_BIN, else the build folder beside the test
  /// bundle (found by walking up from the running test binary), else .build/debug.
  public static let directory: URL = {
    if let override = ProcessInfo.processInfo.environment["TABPIPE_BIN"] {
      return URL(fileURLWithPath: override)
    }
    var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    for _ in 0..<4 {
      url = url.deletingLastPathComponent()
      if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("tab-encode").path) {
        return url
      }
    }
    return root.appendingPathComponent(".build/debug")
  }()

  /// The path of tool `name` ("tab-vae").
  public static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  /// A fresh empty folder `name` under this process's folder for `suite`, in the temporary folder.
  public static func scratch(_ suite: String, _ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("tabpipe-\(suite)-\(getpid())").appendingPathComponent(name)
    try? FileManager.default.removeItem(at: url)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}
