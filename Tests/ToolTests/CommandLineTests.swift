// What every tool does before it touches data: --version, a missing subcommand, and a terminal
// where a stream or table should come in.

import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

private let tools = ["tab-encode", "tab-decode", "tab-info", "tab-score", "tab-vae", "tab-diffuse", "tab-gan"]

@Suite struct CommandLine {
  @Test func everyToolPrintsItsVersion() throws {
    for name in tools {
      let result = try run(name, ["--version"])
      #expect(result.status == 0, "\(name): \(result.stderr)")
      #expect(result.stdoutText.hasPrefix("\(name) (tabpipe) 0."), "\(name): \(result.stdoutText)")
    }
  }

  @Test func aMissingSubcommandIsAUsageErrorOnStandardError() throws {
    for (name, subcommands) in [
      ("tab-vae", "train, encode, decode"), ("tab-diffuse", "train, sample"), ("tab-gan", "train, sample, codes"),
    ] {
      let result = try run(name, [])
      #expect(result.status == 64, "\(name)")
      #expect(result.stdout.isEmpty, "\(name): help belongs on stderr")
      #expect(result.stderr.contains("USAGE"), "\(name): \(result.stderr)")
      #expect(result.stderr.hasSuffix("\(name): missing subcommand (\(subcommands))\n"), "\(name): \(result.stderr)")
    }
  }

  @Test func aNegativeNumberAfterAnOptionGetsAHint() throws {
    let result = try run("tab-diffuse", ["sample", "-n", "-5"])
    #expect(result.status == 64)
    #expect(
      result.stderr == "tab-diffuse: Missing value for '-n <rows>' (a negative number needs '=': -n=-5); "
        + "see 'tab-diffuse --help'\n")
    // Written with '=', the value reaches the tool's own check.
    let written = try run("tab-diffuse", ["sample", "-n=-5"])
    #expect(written.status == 64 && written.stderr.contains("-n must not be negative (got -5)"), "\(written.stderr)")
  }

  /// Runs a tool with a pseudo-terminal as its standard input.
  private func runOnTerminal(_ name: String, _ arguments: [String]) throws -> ToolResult {
    // posix_openpt and friends are not imported into Swift: open the multiplexer, unlock the
    // pair and ask for its number with the ioctls they wrap (Linux).
    let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
    try #require(master >= 0)
    defer { close(master) }
    var unlock: Int32 = 0
    var number: UInt32 = 0
    try #require(ioctl(master, 0x4004_5431 /* TIOCSPTLCK */, &unlock) == 0)
    try #require(ioctl(master, 0x8004_5430 /* TIOCGPTN */, &number) == 0)
    let terminal = try #require(FileHandle(forUpdatingAtPath: "/dev/pts/\(number)"))
    defer { try? terminal.close() }
    let process = Process()
    process.executableURL = Paths.binaries.appendingPathComponent(name)
    process.arguments = arguments
    process.standardInput = terminal
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // A tool that wrongly waits for typed input would hang: give up after 20 s.
    let deadline = Date().addingTimeInterval(20)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    return ToolResult(
      status: process.terminationStatus, stdout: out.fileHandleForReading.readDataToEndOfFile(),
      stderr: String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
  }

  @Test func aTerminalOnStandardInputIsRefused() throws {
    let dir = try Paths.scratch("terminal")
    let real = dir.appendingPathComponent("r.csv")
    try Data("a,b\n1,x\n2,y\n3,x\n".utf8).write(to: real)
    for (name, arguments) in [
      ("tab-encode", []), ("tab-decode", []), ("tab-info", []), ("tab-info", ["-"]),
      ("tab-score", ["--real", real.path, "--synthetic", "-"]), ("tab-diffuse", ["train", "-m", dir.appendingPathComponent("d.model").path]),
    ] {
      let result = try runOnTerminal(name, arguments)
      #expect(result.status == 64, "\(name) \(arguments): \(result.stderr)")
      #expect(result.stderr.hasPrefix("\(name): reading ") && result.stderr.contains("from a terminal"), "\(result.stderr)")
    }
  }
}
