import Glibc
import Synchronization
import XCTest

@testable import Weft

/// The park protocol without any primitive around it.
final class ParkTests: XCTestCase {
  func testWaitQueueIsFifoAndRemovesFromTheMiddle() {
    ParkerRef.with { parker in
      var waiters = (0..<4).map { Waiter(parker: parker, caseIndex: $0) }
      waiters.withUnsafeMutableBufferPointer { buffer in
        var queue = WaitQueue()
        for i in 0..<4 { queue.enqueue(buffer.baseAddress! + i) }
        XCTAssertEqual(queue.count, 4)
        queue.remove(buffer.baseAddress! + 1)
        queue.remove(buffer.baseAddress! + 1)  // removing twice is harmless
        XCTAssertEqual(queue.count, 3)
        // The first claim wins: waiter 0 is claimed, the rest are dropped as
        // already claimed (they share the parker).
        let first = queue.dequeueClaiming()
        XCTAssertEqual(first?.pointee.caseIndex, 0)
        XCTAssertNil(queue.dequeueClaiming())
        XCTAssertTrue(queue.isEmpty)
        XCTAssertEqual(parker.claimed, 0)
      }
    }
  }

  func testDeadlineClaimsFromAThread() {
    ParkerRef.with { parker in
      parker.prepare()
      let start = monotonicNow()
      let claim = parker.park(deadline: start + 2_000_000)
      XCTAssertEqual(claim, Parker.timedOut)
      XCTAssertGreaterThanOrEqual(monotonicNow() - start, 2_000_000)
    }
  }

  func testDeadlineClaimsFromATask() throws {
    let result = Atomic<Int>(0)
    try go {
      ParkerRef.with { parker in
        parker.prepare()
        result.store(parker.park(deadline: monotonicNow() + 2_000_000), ordering: .releasing)
      }
    }
    eventually("timed-out park") { result.load(ordering: .acquiring) == Parker.timedOut }
  }

  /// Many wakers race for one parked thread: exactly one claim wins, one wake.
  func testExactlyOneWakerWins() {
    for _ in 0..<50 {
      let winners = Counter()
      let attempts = Counter()
      ParkerRef.with { parker in
        parker.prepare()
        let address = Int(bitPattern: parker)
        for i in 0..<4 {
          try! go {
            let parker = ParkerRef(bitPattern: address)!
            if parker.tryClaim(i) {
              winners.bump()
              attempts.bump()
              parker.wake()
            } else {
              attempts.bump()
            }
          }
        }
        let claim = parker.park()
        XCTAssert((0..<4).contains(claim))
        // The parker lives on this stack: keep it until every waker tried.
        eventually("wakers") { attempts.count == 4 }
      }
      XCTAssertEqual(winners.count, 1)
    }
  }

  func testContextFinishInterruptsAParkedTask() throws {
    let context = Context(cancelable: true)
    let result = Atomic<Int>(0)
    try go {
      ParkerRef.with { parker in
        parker.prepare()
        result.store(parker.park(deadline: noDeadline, context: context), ordering: .releasing)
      }
    }
    try? Scheduler.sleep(for: .nanoseconds(2_000_000))
    XCTAssertTrue(context.finish(.canceled))
    XCTAssertFalse(context.finish(.timedOut), "the first finish wins")
    eventually("canceled park") { result.load(ordering: .acquiring) == Parker.canceled }
    XCTAssertEqual(Parker.error(forClaim: Parker.canceled, context: context), .canceled)
    // Parking on a finished context returns at once.
    ParkerRef.with { parker in
      parker.prepare()
      XCTAssertEqual(parker.park(deadline: noDeadline, context: context), Parker.canceled)
    }
  }
}
