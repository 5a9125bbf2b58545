import Foundation
import XCTest

@testable import Weft

/// Runs body in a new task (Runtime.spawn with a boxed closure).
private func spawnTask(_ body: @escaping () -> Void) {
  let box = Unmanaged.passRetained(ClosureBox(body)).toOpaque()
  XCTAssertNil(
    Runtime.spawn(
      { raw in
        let box = Unmanaged<ClosureBox>.fromOpaque(raw!).takeRetainedValue()
        box.body()
      }, box))
}

private final class ClosureBox {
  let body: () -> Void
  init(_ body: @escaping () -> Void) { self.body = body }
}

/// Waits (on this plain thread) until condition holds, failing after 10 s.
private func eventually(_ what: String, _ condition: () -> Bool) {
  let until = monotonicNow() + 10_000_000_000
  while !condition() {
    if monotonicNow() > until {
      XCTFail("timed out waiting for \(what)")
      return
    }
    usleep(500)
  }
}

private final class Flag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = 0
  func add(_ n: Int = 1) { lock.lock(); value += n; lock.unlock() }
  var get: Int { lock.lock(); defer { lock.unlock() }; return value }
}

final class SyncMutexTests: XCTestCase {
  func testLockUnlockAndMisuse() {
    let mu = Weft.Mutex()
    XCTAssertEqual(err { try mu.unlock() }, .notOwner)
    XCTAssertNil(err { try mu.lock() })
    XCTAssertTrue(mu.isLocked)
    XCTAssertFalse(mu.tryLock())
    XCTAssertNil(err { try mu.unlock() })
    XCTAssertEqual(err { try mu.unlock() }, .notOwner)
    XCTAssertTrue(mu.tryLock())
    XCTAssertNil(err { try mu.unlock() })
  }

  func testDeadlineAndCanceledContextWhileWaiting() {
    let mu = Weft.Mutex()
    XCTAssertNil(err { try mu.lock() })
    XCTAssertEqual(err { try mu.lock(timeout: .nanoseconds(5_000_000)) }, .timedOut)
    let ctx = Context(cancelable: true)
    let result = Flag()
    spawnTask {
      let error = err { try mu.lock(context: ctx) }
      result.add(error == .canceled ? 1 : 100)
    }
    usleep(20_000)
    XCTAssertEqual(result.get, 0)
    ctx.finish(.canceled)
    eventually("the canceled lock") { result.get != 0 }
    XCTAssertEqual(result.get, 1)
    // The canceled waiter left no trace: unlock is the fast path, lock works.
    XCTAssertNil(err { try mu.unlock() })
    XCTAssertEqual(mu.state.load(ordering: .relaxed), 0)
    XCTAssertEqual(err { try mu.lock(context: ctx) }, .canceled)  // done context
    XCTAssertNil(err { try mu.lock() })
    XCTAssertNil(err { try mu.unlock() })
  }

  func testContentionFromTasksAndThreads() {
    let mu = Weft.Mutex()
    nonisolated(unsafe) var counter = 0
    let finished = Flag()
    for i in 0..<6 {
      let body: @Sendable () -> Void = {
        for _ in 0..<5000 {
          XCTAssertNil(err { try mu.lock() })
          counter += 1
          XCTAssertNil(err { try mu.unlock() })
        }
        finished.add()
      }
      if i % 3 == 0 { Thread.detachNewThread(body) } else { spawnTask(body) }
    }
    eventually("all lockers") { finished.get == 6 }
    XCTAssertEqual(counter, 30000)
    XCTAssertFalse(mu.isLocked)
  }
}

final class SyncWaitGroupTests: XCTestCase {
  func testNegativeCounterLeavesItUnchanged() {
    let wg = WaitGroup()
    XCTAssertEqual(err { try wg.done() }, .outOfRange)
    XCTAssertNil(err { try wg.add(2) })
    XCTAssertEqual(err { try wg.add(-3) }, .outOfRange)
    XCTAssertEqual(wg.count, 2)
    XCTAssertNil(err { try wg.add(-2) })
    XCTAssertNil(err { try wg.wait() })
  }

  func testWaitFromTasksAndReuse() {
    let wg = WaitGroup()
    let woke = Flag()
    XCTAssertNil(err { try wg.add(1) })
    for _ in 0..<20 { spawnTask { XCTAssertNil(err { try wg.wait() }); woke.add() } }
    usleep(10_000)
    XCTAssertEqual(woke.get, 0)
    XCTAssertNil(err { try wg.done() })
    XCTAssertNil(err { try wg.add(1) })  // reuse at once: the old waiters are released anyway
    eventually("20 waiters") { woke.get == 20 }
    XCTAssertEqual(err { try wg.wait(timeout: .nanoseconds(2_000_000)) }, .timedOut)
    XCTAssertNil(err { try wg.done() })
    XCTAssertEqual(WaitGroup.waiters(wg.state.load(ordering: .relaxed)), 0)
  }

  func testContextCancelUncountsTheWaiter() {
    let wg = WaitGroup()
    XCTAssertNil(err { try wg.add(1) })
    let ctx = Context(cancelable: true)
    let result = Flag()
    Thread.detachNewThread { result.add(err { try wg.wait(context: ctx) } == .canceled ? 1 : 100) }
    eventually("the waiter to count itself") { WaitGroup.waiters(wg.state.load(ordering: .relaxed)) == 1 }
    ctx.finish(.canceled)
    eventually("the canceled wait") { result.get != 0 }
    XCTAssertEqual(result.get, 1)
    XCTAssertEqual(WaitGroup.waiters(wg.state.load(ordering: .relaxed)), 0)
    XCTAssertNil(err { try wg.done() })
  }
}

final class SyncRWMutexTests: XCTestCase {
  func testWaitingWriterHoldsBackReaders() {
    let rw = RWMutex()
    XCTAssertNil(err { try rw.readLock() })
    let wrote = Flag()
    spawnTask {
      XCTAssertNil(err { try rw.lock() })
      wrote.add()
      XCTAssertNil(err { try rw.unlock() })
    }
    eventually("the writer to queue") { rw.state.load(ordering: .relaxed) & RWMutex.writerWaiting != 0 }
    XCTAssertFalse(rw.tryReadLock())
    XCTAssertEqual(err { try rw.readLock(timeout: .nanoseconds(2_000_000)) }, .timedOut)
    XCTAssertNil(err { try rw.readUnlock() })
    eventually("the writer") { wrote.get == 1 }
    XCTAssertNil(err { try rw.readLock() })
    XCTAssertNil(err { try rw.readUnlock() })
    XCTAssertEqual(err { try rw.readUnlock() }, .notOwner)
    XCTAssertEqual(err { try rw.unlock() }, .notOwner)
    XCTAssertEqual(rw.state.load(ordering: .relaxed), 0)
  }
}

final class SyncOnceTests: XCTestCase {
  func testExactlyOnceAndRecursion() {
    let once = Once()
    let calls = Flag()
    let finished = Flag()
    for _ in 0..<10 {
      spawnTask {
        XCTAssertNil(err { try once.run { calls.add(); usleep(5_000) } })
        XCTAssertEqual(calls.get, 1)
        finished.add()
      }
    }
    eventually("10 callers") { finished.get == 10 }
    XCTAssertTrue(once.isDone)
    let inner = Once()
    var nested: WeftError? = nil
    XCTAssertNil(err { try inner.run { nested = err { try inner.run {} } } })
    XCTAssertEqual(nested, .deadlock)
  }
}

final class SyncCondTests: XCTestCase {
  func testTimeoutRelocksAndMisuse() {
    let mu = Weft.Mutex()
    let cond = Cond(mutex: mu)
    XCTAssertEqual(err { try cond.wait() }, .notOwner)
    XCTAssertNil(err { try mu.lock() })
    XCTAssertEqual(err { try cond.wait(timeout: .nanoseconds(2_000_000)) }, .timedOut)
    XCTAssertTrue(mu.isLocked)
    let ctx = Context(cancelable: true)
    ctx.finish(.canceled)
    XCTAssertEqual(err { try cond.wait(context: ctx) }, .canceled)
    XCTAssertTrue(mu.isLocked)
    XCTAssertNil(err { try mu.unlock() })
    XCTAssertTrue(cond.queue.isEmpty)
  }

  func testSignalWakesOne() {
    let mu = Weft.Mutex()
    let cond = Cond(mutex: mu)
    let woke = Flag()
    for _ in 0..<3 {
      spawnTask {
        XCTAssertNil(err { try mu.lock() })
        XCTAssertNil(err { try cond.wait() })
        woke.add()
        XCTAssertNil(err { try mu.unlock() })
      }
    }
    eventually("3 waiters") {
      cond.queueLock.lock()
      defer { cond.queueLock.unlock() }
      return cond.queue.count == 3
    }
    cond.signal()
    eventually("one") { woke.get == 1 }
    usleep(5_000)
    XCTAssertEqual(woke.get, 1)
    cond.broadcast()
    eventually("all") { woke.get == 3 }
  }
}

final class SyncSemaphoreTests: XCTestCase {
  func testCanceledHeadTakesNothingAndUnblocksTheQueue() {
    let sem = Semaphore(capacity: 10)
    XCTAssertNil(Semaphore(coreCapacity: 0))
    XCTAssertNil(err { try sem.acquire(1) })
    let ctx = Context(cancelable: true)
    let big = Flag()
    let small = Flag()
    spawnTask { big.add(err { try sem.acquire(10, context: ctx) } == .canceled ? 1 : 100) }
    eventually("the big request to queue") {
      if (try? sem.tryAcquire(1)) == false { return true }
      XCTAssertNil(err { try sem.release(1) })  // it was free: give it back
      return false
    }
    for _ in 0..<3 { spawnTask { XCTAssertNil(err { try sem.acquire(2) }); small.add() } }
    usleep(5_000)
    XCTAssertEqual(small.get, 0)  // FIFO: behind the big one
    ctx.finish(.canceled)
    eventually("the small ones") { small.get == 3 }
    XCTAssertEqual(big.get, 1)
    XCTAssertEqual(sem.held, 7)  // 1 + 3*2: the canceled request took nothing
    XCTAssertEqual(err { try sem.release(8) }, .outOfRange)
    XCTAssertEqual(err { try sem.acquire(11) }, .invalid)
    XCTAssertNil(err { try sem.release(7) })
    XCTAssertEqual(sem.held, 0)
  }
}
