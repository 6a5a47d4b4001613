// The options and formatting every training tool shares (Sources/TabCLI/Training.swift).

import ArgumentParser
import XCTest

@testable import TabCLI

#if canImport(Glibc)
  import Glibc
#endif

final class TrainingOptionsTests: XCTestCase {
  func testDurationsParseWithUnits() {
    XCTAssertEqual(TrainingOptions.parseDuration("90"), 90)
    XCTAssertEqual(TrainingOptions.parseDuration("90s"), 90)
    XCTAssertEqual(TrainingOptions.parseDuration("1.5m"), 90)
    XCTAssertEqual(TrainingOptions.parseDuration("2h"), 7200)
    XCTAssertEqual(TrainingOptions.parseDuration("1d"), 86400)
    for bad in ["", "m", "-5m", "0", "5x", "nan", "inf", "5 m"] {
      XCTAssertNil(TrainingOptions.parseDuration(bad), bad)
    }
  }

  func testValidationNamesTheOption() throws {
    XCTAssertThrowsError(try TrainingOptions.parse(["--max-time", "soon"])) { error in
      XCTAssertTrue(TrainingOptions.message(for: error).contains("--max-time"))
    }
    XCTAssertThrowsError(try TrainingOptions.parse(["--epochs", "0"]))
    XCTAssertThrowsError(try TrainingOptions.parse(["--threads", "0"]))
    let options = try TrainingOptions.parse(["--max-time", "5m", "--seed", "7"])
    XCTAssertEqual(options.maxSeconds, 300)
    XCTAssertEqual(options.seed, 7)
  }

  func testDurationsFormatCompactly() {
    XCTAssertEqual(formatDuration(0.4), "0s")
    XCTAssertEqual(formatDuration(42), "42s")
    XCTAssertEqual(formatDuration(185), "3m05s")
    XCTAssertEqual(formatDuration(3720), "1h02m")
  }

  func testEpochFiguresKeepAboutFourDigits() {
    XCTAssertEqual(EpochReporter.short(0), "0")
    XCTAssertEqual(EpochReporter.short(0.0123456), "0.01235")
    XCTAssertEqual(EpochReporter.short(-0.5), "-0.5")
    XCTAssertEqual(EpochReporter.short(12.34567), "12.346")
    XCTAssertEqual(EpochReporter.short(1234.56), "1234.6")
    XCTAssertEqual(EpochReporter.short(1.5e-5), "1.5e-05")
    XCTAssertEqual(EpochReporter.short(9.99996e-5), "1e-04")
    XCTAssertEqual(EpochReporter.short(2.5e7), "2.5e+07")
  }

  func testDefaultModelPathFollowsTheEnvironment() throws {
    let saved = getenv("TABPIPE_MODEL_DIR").map { String(cString: $0) }
    defer {
      if let saved { setenv("TABPIPE_MODEL_DIR", saved, 1) } else { unsetenv("TABPIPE_MODEL_DIR") }
    }
    unsetenv("TABPIPE_MODEL_DIR")
    let defaults = try ModelOptions.parse([])
    XCTAssertEqual(defaults.path(defaultName: "vae"), "tabpipe-models/vae.model")
    setenv("TABPIPE_MODEL_DIR", "/tmp/models-\(getpid())", 1)
    XCTAssertEqual(defaults.path(defaultName: "gan"), "/tmp/models-\(getpid())/gan.model")
    XCTAssertThrowsError(try defaults.existingPath(defaultName: "gan", trainHint: "tab-gan train")) { error in
      let message = (error as? ToolError)?.message ?? ""
      XCTAssertTrue(message.contains("no model at /tmp/models-\(getpid())/gan.model"), message)
      XCTAssertTrue(message.contains("tab-gan train"), message)
      XCTAssertEqual((error as? ToolError)?.status, ExitStatus.noInput)
    }
    let explicit = try ModelOptions.parse(["-m", "x.model"])
    XCTAssertEqual(try explicit.existingPath(defaultName: "gan", trainHint: ""), "x.model")
  }

  func testLogLinesAreJSONInFieldOrder() throws {
    let path = "/tmp/tabcli-log-\(getpid()).jsonl"
    unlink(path)
    defer { unlink(path) }
    let training = try TrainingOptions.parse(["--log", path])
    let reporting = try ReportingOptions.parse(["-q"])
    let reporter = try EpochReporter(reporting: reporting, training: training, totalEpochs: 2)
    try reporter.epoch(1, rows: 100, epochSeconds: 0.5, fields: [("loss", 0.25), ("beta", .nan)], note: "best")
    try reporter.epoch(2, rows: 100, epochSeconds: 0.5, fields: [("loss", 0.125), ("beta", 0.01)])
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let lines = text.split(separator: "\n")
    XCTAssertEqual(lines.count, 2)
    XCTAssertTrue(lines[0].hasPrefix("{\"epoch\":1,\"seconds\":"), String(lines[0]))
    XCTAssertTrue(lines[0].contains("\"rows_per_s\":200.0,\"loss\":0.25,\"beta\":null,\"note\":\"best\"}"), String(lines[0]))
    for line in lines {
      let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      XCTAssertNotNil(object?["loss"])
    }
  }
}
