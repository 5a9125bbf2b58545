import Synchronization
import XCTest

@testable import Weft

/// Polls until condition holds or the time runs out (tests never hang).
func eventually(
  _ what: String, seconds: Double = 10, file: StaticString = #filePath, line: UInt = #line,
  _ condition: () -> Bool
) {
  let deadline = monotonicNow() + Int64(seconds * 1e9)
  while !condition() {
    if monotonicNow() > deadline {
      XCTFail("timed out waiting for \(what)", file: file, line: line)
      return
    }
    try? Scheduler.sleep(for: .microseconds(200))
  }
}

final class Counter: Sendable {
  let value = Atomic<Int>(0)
  func bump() { value.add(1, ordering: .relaxed) }
  var count: Int { value.load(ordering: .relaxed) }
}

/// The WeftError a call of the Swift face threw, or nil when it returned.
func err(_ body: () throws -> Void) -> WeftError? {
  do {
    try body()
    return nil
  } catch let error as WeftError {
    return error
  } catch {
    XCTFail("not a WeftError: \(error)")
    return nil
  }
}
