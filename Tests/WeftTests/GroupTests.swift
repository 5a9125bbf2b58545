import Synchronization
import XCTest

@testable import Weft

final class GroupTests: XCTestCase {
  func testFirstErrorCancelsSiblings() {
    let group = Group(parent: .background)
    let stopped = Atomic<Int>(0)
    for _ in 0..<8 {
      XCTAssertNil(group.go { ctx in
        if ctx.wait() == .canceled { stopped.add(1, ordering: .relaxed) }
        return 0
      })
    }
    XCTAssertNil(group.go { _ in -3 })
    XCTAssertEqual(group.wait(), -3)
    XCTAssertEqual(stopped.load(ordering: .relaxed), 8)
    XCTAssertEqual(group.context.cause, -3)
  }

  func testLimitAndTryGo() {
    let group = Group(parent: .background)
    XCTAssertNil(group.setLimit(2))
    let running = Atomic<Int>(0)
    let peak = Atomic<Int>(0)
    for _ in 0..<20 {
      XCTAssertNil(group.go { _ in
        let now = running.add(1, ordering: .relaxed).newValue
        var seen = peak.load(ordering: .relaxed)
        while now > seen, !peak.compareExchange(expected: seen, desired: now, ordering: .relaxed).exchanged {
          seen = peak.load(ordering: .relaxed)
        }
        try? Scheduler.sleep(for: .nanoseconds(1_000_000))
        running.subtract(1, ordering: .relaxed)
        return 0
      })
    }
    XCTAssertEqual(group.wait(), 0)
    XCTAssertLessThanOrEqual(peak.load(ordering: .relaxed), 2)
    XCTAssertEqual(group.context.error, .canceled)  // wait cancels it
  }
}
