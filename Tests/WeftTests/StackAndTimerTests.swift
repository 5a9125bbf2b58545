import Glibc
import Synchronization
import XCTest

@testable import Weft

final class StackPoolTests: XCTestCase {
  func testSizeClassesHoldTheRequestPlusTheGuardRegion() {
    XCTAssertEqual(StackPool.classIndex(forUsable: 1), 0)
    // The default: exactly 64 KiB usable above a 64 KiB guard, in a 128 KiB slot.
    XCTAssertEqual(StackPool.classIndex(forUsable: 64 << 10), 0)
    XCTAssertEqual(StackPool.slotSize(0) - StackPool.guardBytes, 64 << 10)
    XCTAssertEqual(StackPool.classIndex(forUsable: (64 << 10) + 1), 1)
    for size in [16 << 10, 60 << 10, 64 << 10, 1 << 20, 64 << 20] {
      let slot = StackPool.slotSize(StackPool.classIndex(forUsable: size))
      XCTAssertGreaterThanOrEqual(slot - StackPool.guardBytes, size)
    }
  }

  func testStacksAreCarvedGuardedAndReused() throws {
    let pool = StackPool()
    let a = try XCTUnwrap(pool.take(usable: 64 << 10))
    let b = try XCTUnwrap(pool.take(usable: 64 << 10))
    XCTAssertNotEqual(a.bottom, b.bottom)
    if !a.guarded { XCTAssertEqual(a.bottom.load(as: UInt64.self), StackPool.canary) }
    // Writable across the whole usable range.
    a.bottom.advanced(by: a.size - 8).storeBytes(of: 1, as: UInt64.self)
    pool.give(a)
    let c = try XCTUnwrap(pool.take(usable: 64 << 10))
    XCTAssertEqual(c.bottom, a.bottom, "a freed stack is reused first")
  }
}

final class TimerTests: XCTestCase {
  private static let fired = Atomic<Int>(0)
  private static let onFire: TimerCallback = { _ in TimerTests.fired.add(1, ordering: .relaxed) }

  func testOneShotFiresOnceNotEarly() throws {
    TimerTests.fired.store(0, ordering: .relaxed)
    let start = monotonicNow()
    let timer = try XCTUnwrap(Timers.start(deadline: start + 3_000_000, fire: TimerTests.onFire, target: nil))
    eventually("timer") { TimerTests.fired.load(ordering: .relaxed) == 1 }
    XCTAssertGreaterThanOrEqual(monotonicNow() - start, 3_000_000)
    XCTAssertFalse(Timers.cancel(timer), "already fired")
    try? Scheduler.sleep(for: .nanoseconds(5_000_000))
    XCTAssertEqual(TimerTests.fired.load(ordering: .relaxed), 1)
  }

  func testCancelBeforeFiringStopsIt() throws {
    TimerTests.fired.store(0, ordering: .relaxed)
    var timers: [TimerRef] = []
    for _ in 0..<1000 {
      timers.append(try XCTUnwrap(Timers.start(deadline: monotonicNow() + 50_000_000, fire: TimerTests.onFire, target: nil)))
    }
    for timer in timers { XCTAssertTrue(Timers.cancel(timer)) }
    try? Scheduler.sleep(for: .nanoseconds(80_000_000))
    XCTAssertEqual(TimerTests.fired.load(ordering: .relaxed), 0)
    eventually("timers freed") { (RuntimeStats.snapshot()?.timersPending ?? 1) == 0 }
  }

  func testTickerRepeatsUntilCanceled() throws {
    TimerTests.fired.store(0, ordering: .relaxed)
    let timer = try XCTUnwrap(
      Timers.start(deadline: monotonicNow() + 1_000_000, period: 1_000_000, fire: TimerTests.onFire, target: nil))
    eventually("ticks") { TimerTests.fired.load(ordering: .relaxed) >= 5 }
    XCTAssertTrue(Timers.cancel(timer))
    let seen = TimerTests.fired.load(ordering: .relaxed)
    try? Scheduler.sleep(for: .nanoseconds(10_000_000))
    XCTAssertEqual(TimerTests.fired.load(ordering: .relaxed), seen, "no tick after cancel returned")
  }
}
