import Foundation
import Synchronization
import XCTest

@testable import Weft

/// withParkingForbidden: a park inside traps in debug builds, naming the task
/// (run in a child process, as it crashes on purpose); no park: it just runs.
final class ParkGuardTests: XCTestCase {
  func testRegionWithoutParkRuns() throws {
    let lock = Mutex<Int>(0)
    let done = Chan<Int>(capacity: 1)
    try go(name: "counter") {
      for _ in 0..<100 { lock.withLock { v in withParkingForbidden("lock") { v += 1 } } }
      try? done.send(lock.withLock { $0 })
    }
    XCTAssertEqual(try done.receive(timeout: .seconds(10)), 100)
    XCTAssertEqual(ParkGuard.open.load(ordering: .relaxed), 0)
  }

  func testParkInsideRegionTrapsNamingTheTask() throws {
    #if DEBUG
      let child = Process()
      child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
      child.arguments = ["WeftTests.ParkGuardTests/testChildParksInsideRegion"]
      child.environment = ProcessInfo.processInfo.environment.merging([
        "WEFT_PARKGUARD_CHILD": "1", "SWIFT_BACKTRACE": "enable=no",
      ]) { $1 }
      let pipe = Pipe()
      child.standardOutput = pipe
      child.standardError = pipe
      try child.run()
      let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      child.waitUntilExit()
      XCTAssertNotEqual(child.terminationStatus, 0, out)
      XCTAssertTrue(out.contains("'holder' parked (chan recv"), out)
      XCTAssertTrue(out.contains("while holding the ledger's Synchronization.Mutex"), out)
    #endif
  }

  func testChildParksInsideRegion() throws {
    guard ProcessInfo.processInfo.environment["WEFT_PARKGUARD_CHILD"] == "1" else { return }
    let ledger = Mutex<Int>(0)
    let never = Chan<Int>()
    let finished = Chan<Int>(capacity: 1)
    try go(name: "holder") {
      ledger.withLock { _ in
        withParkingForbidden("the ledger's Synchronization.Mutex") { _ = try? never.receive() }
      }
      try? finished.send(1)
    }
    _ = try finished.receive(timeout: .seconds(10))
    print("NOT TRAPPED")
  }
}
