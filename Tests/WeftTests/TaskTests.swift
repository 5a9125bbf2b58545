import Glibc
import Synchronization
import XCTest

@testable import Weft

final class TaskTests: XCTestCase {
  func testClosuresRunAsTasksWithDistinctIds() throws {
    let ran = Counter()
    let ids = Mutex<Set<UInt64>>([])
    for _ in 0..<100 {
      try go {
        XCTAssertTrue(Scheduler.inTask)
        let id = Scheduler.currentTaskId
        Scheduler.yield()
        XCTAssertEqual(Scheduler.currentTaskId, id, "a task keeps its id across a switch")
        ids.withLock { _ = $0.insert(id) }
        ran.bump()
      }
    }
    eventually("100 tasks") { ran.count == 100 }
    XCTAssertEqual(ids.withLock { $0.count }, 100)
    XCTAssertFalse(Scheduler.inTask)
    XCTAssertEqual(Scheduler.currentTaskId, 0)
  }

  func testSleepNeverReturnsEarlyInTasksOrThreads() throws {
    let done = Counter()
    for _ in 0..<50 {
      try go {
        let start = monotonicNow()
        XCTAssertNil(err { try Scheduler.sleep(for: .nanoseconds(5_000_000)) })
        XCTAssertGreaterThanOrEqual(monotonicNow() - start, 5_000_000)
        done.bump()
      }
    }
    let start = monotonicNow()
    XCTAssertNil(err { try Scheduler.sleep(for: .nanoseconds(3_000_000)) })
    XCTAssertGreaterThanOrEqual(monotonicNow() - start, 3_000_000)
    eventually("sleepers") { done.count == 50 }
  }

  func testBadStackSizesAreRejected() {
    XCTAssertThrowsError(try go(stackSize: 1024) {}) { XCTAssertEqual($0 as? WeftError, .invalid) }
    XCTAssertThrowsError(try go(stackSize: 1 << 40) {}) { XCTAssertEqual($0 as? WeftError, .invalid) }
  }

  func testLargeStackAndNameAreHonoured() throws {
    let done = Counter()
    try go(stackSize: 1 << 20, name: "big") {
      // ~600 KiB of stack: more than the default 64 KiB could hold.
      withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 600 << 10) { buffer in
        buffer.initialize(repeating: 7)
        XCTAssertEqual(buffer[1000], 7)
      }
      done.bump()
    }
    eventually("big-stack task") { done.count == 1 }
  }

  func testStatsCountSpawnsAndSwitches() throws {
    let before = RuntimeStats.snapshot()
    let done = Counter()
    for _ in 0..<10 { try go { done.bump() } }
    eventually("tasks") { done.count == 10 }
    let after = try XCTUnwrap(RuntimeStats.snapshot())
    XCTAssertGreaterThanOrEqual(after.tasksSpawned, (before?.tasksSpawned ?? 0) + 10)
    XCTAssertGreaterThanOrEqual(after.switches, (before?.switches ?? 0) + 10)
    XCTAssertGreaterThan(after.workers, 0)
    XCTAssertEqual(after.runQueueLengths.count, after.workers)
  }
}
