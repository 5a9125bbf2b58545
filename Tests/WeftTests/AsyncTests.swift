import Synchronization
import XCTest

import Weft

/// The async/await bridge: Swift Tasks suspend on Weft channels (no thread
/// blocked, no task per call), go {} handles are awaited, go {} tasks call
/// async code through runAsync.
final class AsyncTests: XCTestCase {
  /// 100 Tasks await receives, one producer Task feeds them: on the 2-thread
  /// cooperative pool a blocking receive would deadlock here.
  func testHundredTasksAwaitReceivesFedByOneProducerTask() async throws {
    let chan = Chan<Int>()
    let consumers = (0..<100).map { _ in
      Task { () async throws -> Int in
        var sum = 0
        for _ in 0..<10 { sum += try await chan.receive()! }
        return sum
      }
    }
    let producer = Task { () async throws in
      for i in 0..<1_000 { try await chan.send(i) }
    }
    try await producer.value
    var total = 0
    for consumer in consumers { total += try await consumer.value }
    XCTAssertEqual(total, 999 * 1_000 / 2)
  }

  func testCancellingAnAwaitingTaskCancelsTheWeftWait() async throws {
    let chan = Chan<Int>()
    let waiting = Task { () async -> WeftError? in
      do throws(WeftError) {
        _ = try await chan.receive()
        return nil
      } catch { return error }
    }
    try await Task.sleep(for: .milliseconds(20))  // let it queue
    waiting.cancel()
    let error = await waiting.value
    XCTAssertEqual(error, .canceled)
    // The canceled waiter left the queue: the next value goes to a live receiver.
    try go { try! chan.send(7) }
    let got = try await chan.receive(timeout: .seconds(5))
    XCTAssertEqual(got, 7)
    // A Task canceled before it waits fails at once.
    let early = Task { () async -> WeftError? in
      withUnsafeCurrentTask { $0?.cancel() }
      do throws(WeftError) {
        _ = try await chan.receive()
        return nil
      } catch { return error }
    }
    let earlyError = await early.value
    XCTAssertEqual(earlyError, .canceled)
  }

  func testAsyncTimeoutAndContext() async throws {
    let chan = Chan<String>()
    let start = ContinuousClock.now
    do {
      _ = try await chan.receive(timeout: .milliseconds(10))
      XCTFail("received from a channel nobody feeds")
    } catch { XCTAssertEqual(error, .timedOut) }
    XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(10))
    let context = Context.withCancel(.background)
    try go {
      try? Scheduler.sleep(for: .nanoseconds(5_000_000))
      _ = context.cancel()
    }
    do {
      try await chan.send("never", context: context)
      XCTFail("sent to a channel nobody reads")
    } catch { XCTAssertEqual(error, .canceled) }
  }

  /// Unbuffered hand-offs both ways between go {} tasks and a Swift Task, and
  /// `for try await` until close.
  func testSwiftTasksAndGoTasksShareChannels() async throws {
    let requests = Chan<Int>()
    let replies = Chan<Int>()
    let server = try go { () throws(WeftError) -> Int in
      var served = 0
      while let n = try requests.receive() {
        try replies.send(n * n)
        served += 1
      }
      replies.close()
      return served
    }
    for n in 0..<200 {
      try await requests.send(n)
      let square = try await replies.receive()
      XCTAssertEqual(square, n * n)
    }
    requests.close()
    var rest = 0
    for try await _ in replies { rest += 1 }
    XCTAssertEqual(rest, 0)
    let served = try await server.value
    XCTAssertEqual(served, 200)
  }

  struct Failure: Error, Equatable { let code: Int }

  func testGoHandlesCarryValuesAndErrors() async throws {
    let ok = try go { (1...100).reduce(0, +) }
    let okValue = await ok.value
    XCTAssertEqual(okValue, 5_050)
    XCTAssertEqual(ok.wait(), 5_050)  // from a thread too
    let bad = try go { () throws(Failure) -> Int in throw Failure(code: 3) }
    do {
      _ = try await bad.value
      XCTFail("no error")
    } catch { XCTAssertEqual(error, Failure(code: 3)) }
    XCTAssertThrowsError(try bad.wait()) { XCTAssertEqual($0 as? Failure, Failure(code: 3)) }
    // Waited for from another task.
    let inner = try go { () -> String in
      try? Scheduler.sleep(for: .nanoseconds(2_000_000))
      return "late"
    }
    let outer = try go { inner.wait() + "!" }
    let outerValue = await outer.value
    XCTAssertEqual(outerValue, "late!")
  }

  func testGoTaskCallsAsyncCodeThroughRunAsync() throws {
    let handle = try go { () throws -> Int in
      let a = runAsync { () async -> Int in
        try? await Task.sleep(for: .milliseconds(2))
        return 40
      }
      let b = try runAsync { () async throws -> Int in 2 }
      return a + b
    }
    XCTAssertEqual(try handle.wait(), 42)
  }

  func testAsyncFormsOfWaitGroupMutexSemaphoreAndContext() async throws {
    // WaitGroup: go tasks count down while a Swift Task awaits.
    let group = WaitGroup()
    let ran = Counter()
    for _ in 0..<50 {
      try group.go {
        try? Scheduler.sleep(for: .nanoseconds(1_000_000))
        ran.bump()
      }
    }
    try await group.wait()
    XCTAssertEqual(ran.count, 50)

    // Mutex: held by a go task across a park; the Swift Task's lock waits for it.
    let mutex = Weft.Mutex()
    let held = Chan<Bool>(capacity: 1)
    let released = Counter()
    try go {
      try mutex.lock()
      try! held.send(true)
      try? Scheduler.sleep(for: .nanoseconds(5_000_000))
      released.bump()
      try mutex.unlock()
    }
    _ = try await held.receive()
    try await mutex.lock()
    XCTAssertEqual(released.count, 1, "the lock was taken only after the holder released it")
    try mutex.unlock()
    let value = try await mutex.withLock { () async in 5 }
    XCTAssertEqual(value, 5)

    // Semaphore: a full semaphore times out, then a release lets one in.
    let semaphore = Semaphore(capacity: 1)
    try await semaphore.acquire()
    do {
      try await semaphore.acquire(timeout: .milliseconds(5))
      XCTFail("acquired a full semaphore")
    } catch { XCTAssertEqual(error, .timedOut) }
    try semaphore.release(1)
    try await semaphore.acquire()
    try semaphore.release(1)

    // Context: done as an async wait.
    let context = try Context.withTimeout(.background, .milliseconds(5))
    let error = await context.done()
    XCTAssertEqual(error, .timedOut)
    let never = await Context.background.done()
    XCTAssertEqual(never, .deadlock)
  }

  func testCancellingATaskAwaitingAContendedMutex() async throws {
    let mutex = Weft.Mutex()
    XCTAssertTrue(mutex.tryLock())
    let waiter = Task { () async -> WeftError? in
      do throws(WeftError) {
        try await mutex.lock()
        return nil
      } catch { return error }
    }
    try await Task.sleep(for: .milliseconds(10))
    waiter.cancel()
    let error = await waiter.value
    XCTAssertEqual(error, .canceled)
    XCTAssertNil(err { try mutex.unlock() })  // still ours: the canceled waiter never got it
    XCTAssertTrue(mutex.tryLock())
    try mutex.unlock()
  }
}
