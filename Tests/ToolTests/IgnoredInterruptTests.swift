// A tool started with SIGINT ignored (`cmd &` in a script, nohup) must leave it ignored: a
// Ctrl-C meant for the shell's foreground job would otherwise stop a background pipeline too.

import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct IgnoredInterrupt {
  @Test func anIgnoredSIGINTStaysIgnored() throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    // `trap "" INT` makes the shell ignore SIGINT; exec keeps that disposition for the tool.
    let encode = Paths.binaries.appendingPathComponent("tab-encode").path
    process.arguments = ["-c", "trap '' INT; exec '\(encode)' -q -o /dev/null"]
    let input = Pipe()
    process.standardInput = input
    process.standardError = Pipe()
    try process.run()
    // The tool is waiting for its input: interrupt it, then give it a table.
    usleep(300_000)
    kill(process.processIdentifier, SIGINT)
    usleep(100_000)
    input.fileHandleForWriting.write(Data("a,b\n1,x\n2,y\n3,x\n".utf8))
    try input.fileHandleForWriting.close()
    process.waitUntilExit()
    #expect(process.terminationReason == .exit)
    #expect(process.terminationStatus == 0)
  }

  @Test func aSIGINTStillStopsAToolThatWasNotIgnoringIt() throws {
    let process = Process()
    process.executableURL = Paths.binaries.appendingPathComponent("tab-encode")
    process.arguments = ["-q", "-o", "/dev/null"]
    let input = Pipe()
    process.standardInput = input
    process.standardError = Pipe()
    try process.run()
    usleep(300_000)
    kill(process.processIdentifier, SIGINT)
    process.waitUntilExit()
    try input.fileHandleForWriting.close()
    #expect(process.terminationStatus == 130)
  }
}
