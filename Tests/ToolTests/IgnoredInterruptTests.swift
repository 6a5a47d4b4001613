// A tool started with SIGINT ignored (`cmd &` in a script, nohup) must leave it ignored: a
// Ctrl-C meant for the shell's foreground job would otherwise stop a background pipeline too.

import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct IgnoredInterrupt {
  /// Starts `executable` with a pipe on its stdin, waits until it is blocked reading it, and
  /// sends SIGINT.
  private func interrupted(_ executable: String, _ arguments: [String]) throws -> (Process, Pipe) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let input = Pipe()
    process.standardInput = input
    process.standardError = Pipe()
    try process.run()
    usleep(300_000)
    kill(process.processIdentifier, SIGINT)
    return (process, input)
  }

  @Test func anIgnoredSIGINTStaysIgnored() throws {
    // `trap "" INT` makes the shell ignore SIGINT; exec keeps that disposition for the tool.
    let encode = Paths.binaries.appendingPathComponent("tab-encode").path
    let (process, input) = try interrupted("/bin/sh", ["-c", "trap '' INT; exec '\(encode)' -q -o /dev/null"])
    // Interrupted while waiting for its input, it must still take a table and finish.
    usleep(100_000)
    input.fileHandleForWriting.write(Data("a,b\n1,x\n2,y\n3,x\n".utf8))
    try input.fileHandleForWriting.close()
    process.waitUntilExit()
    #expect(process.terminationReason == .exit)
    #expect(process.terminationStatus == 0)
  }

  @Test func aSIGINTStillStopsAToolThatWasNotIgnoringIt() throws {
    let encode = Paths.binaries.appendingPathComponent("tab-encode").path
    let (process, input) = try interrupted(encode, ["-q", "-o", "/dev/null"])
    process.waitUntilExit()
    try input.fileHandleForWriting.close()
    #expect(process.terminationStatus == 130)
  }
}
