import Glibc
import Synchronization
import XCTest

@testable import Weft

/// Go's context tests against the Swift core (the C tests cover the same from C).
final class ContextTests: XCTestCase {
  func testWithCancelAndCause() {
    let parent = Context.withCancel(.background)
    let child = Context.withCancel(parent)
    XCTAssertNil(child.error)
    XCTAssertEqual(parent.liveChildren, 1)
    parent.cancel(cause: 9)
    XCTAssertEqual(child.error, .canceled)
    XCTAssertEqual(child.cause, 9)
    XCTAssertEqual(parent.liveChildren, 0)
    XCTAssertFalse(Context.background.cancel())
  }

  func testChildFinishesFirstRemovesItself() {
    let parent = Context.withCancel(.background)
    for _ in 0..<1000 {
      let child = Context.withCancel(parent)
      child.cancel()
    }
    XCTAssertEqual(parent.liveChildren, 0)
    for _ in 0..<1000 { _ = Context.withCancel(parent) }  // released, never canceled
    XCTAssertEqual(parent.liveChildren, 0)
    XCTAssertNil(parent.error)
  }

  func testLiveCountReturnsToStart() {
    let before = Context.live.load(ordering: .relaxed)
    do {
      let parent = Context.withCancel(.background)
      for i in 0..<10_000 {
        let c = Context.withCancel(parent)
        if i % 2 == 0 { c.cancel() }
      }
      parent.cancel()
    }
    XCTAssertEqual(Context.live.load(ordering: .relaxed), before)
  }

  func testDeadlineAndTimeout() throws {
    let far = try Context.withTimeout(.background, timeout: 3_600_000_000_000)
    let near = try Context.withTimeout(far, timeout: 20_000_000)
    let clipped = try Context.withDeadline(near, deadline: near.deadline + 1_000_000_000)
    XCTAssertEqual(clipped.deadline, near.deadline)
    XCTAssertEqual(clipped.wait(), .timedOut)
    XCTAssertGreaterThanOrEqual(monotonicNow(), near.deadline)
    XCTAssertEqual(near.error, .timedOut)
    XCTAssertNil(far.error)
    far.cancel()
    XCTAssertEqual(far.error, .canceled)
  }

  func testValues() {
    var k1 = 0, k2 = 0
    withUnsafePointer(to: &k1) { p1 in
      withUnsafePointer(to: &k2) { p2 in
        let v1 = Context.withValue(.background, key: p1, value: UnsafeMutableRawPointer(bitPattern: 1))
        let c = Context.withCancel(v1)
        let v2 = Context.withValue(c, key: p2, value: UnsafeMutableRawPointer(bitPattern: 2))
        XCTAssertEqual(v2.value(forKey: p1), UnsafeMutableRawPointer(bitPattern: 1))
        XCTAssertEqual(v2.value(forKey: p2), UnsafeMutableRawPointer(bitPattern: 2))
        XCTAssertNil(c.value(forKey: p2))
        c.cancel()
        XCTAssertEqual(v2.error, .canceled)
        XCTAssertNil(Context.withoutCancel(v2).error)
      }
    }
  }

  func testAfterFuncRunsInTask() {
    let ctx = Context.withCancel(.background)
    let ran = Atomic<Int>(0)
    let inTask = Atomic<Bool>(false)
    let af = AfterFunc.register(ctx) {
      inTask.store(Scheduler.inTask, ordering: .relaxed)
      ran.add(1, ordering: .relaxed)
    }
    let stopped = AfterFunc.register(ctx) { ran.add(100, ordering: .relaxed) }
    XCTAssertTrue(stopped.stop())
    ctx.cancel()
    let limit = monotonicNow() + 5_000_000_000
    while ran.load(ordering: .relaxed) == 0 && monotonicNow() < limit { usleep(1000) }
    XCTAssertEqual(ran.load(ordering: .relaxed), 1)
    XCTAssertTrue(inTask.load(ordering: .relaxed))
    XCTAssertFalse(af.stop())
  }

  func testDoneChannelClosesOnCancel() {
    let ctx = Context.withCancel(.background)
    let done = ctx.doneChannel()!
    XCTAssertEqual(done.tryReceive(into: nil), .wouldBlock)
    ctx.cancel()
    XCTAssertEqual(done.tryReceive(into: nil), .closed)
    XCTAssertNil(Context.background.doneChannel())
  }

  func testWaitFromThreads() {
    let ctx = Context.withCancel(.background)
    threadWoke.store(0, ordering: .relaxed)
    var threads: [pthread_t] = []
    for _ in 0..<4 {
      var t = pthread_t()
      pthread_create(&t, nil, { raw in
        let ctx = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
        if ctx.wait() == .canceled { threadWoke.add(1, ordering: .relaxed) }
        return nil
      }, Unmanaged.passRetained(ctx).toOpaque())
      threads.append(t)
    }
    usleep(20_000)
    XCTAssertEqual(threadWoke.load(ordering: .relaxed), 0)
    ctx.cancel()
    for t in threads { pthread_join(t, nil) }
    XCTAssertEqual(threadWoke.load(ordering: .relaxed), 4)
  }
}

let threadWoke = Atomic<Int>(0)
