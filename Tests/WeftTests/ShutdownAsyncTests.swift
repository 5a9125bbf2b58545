import Foundation
import Synchronization
import XCTest

@testable import Weft

/// Shutdown ends the waits of Swift Tasks awaiting the async forms with
/// `.shutdown` (no hang, no leaked record). Shutdown is once per process, so
/// the scenario runs in a child: this test binary re-run with WEFT_SHUTDOWN_CHILD=1
/// and a filter for `testChildScenario`, which does nothing without that variable.
final class ShutdownAsyncTests: XCTestCase {
  func testShutdownReleasesAwaitingSwiftTasks() throws {
    let child = Process()
    child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    child.arguments = ["WeftTests.ShutdownAsyncTests/testChildScenario"]
    child.environment = ProcessInfo.processInfo.environment.merging(["WEFT_SHUTDOWN_CHILD": "1"]) { $1 }
    let pipe = Pipe()
    child.standardOutput = pipe
    child.standardError = pipe
    try child.run()
    let deadline = Date().addingTimeInterval(60)
    while child.isRunning && Date() < deadline { usleep(20_000) }
    if child.isRunning {
      child.terminate()
      XCTFail("the child hung: shutdown did not release the awaiting Tasks")
      return
    }
    let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    XCTAssertEqual(child.terminationStatus, 0, out)
    XCTAssertTrue(out.contains("SHUTDOWN-CHILD OK 7"), out)
  }

  func testChildScenario() async throws {
    guard ProcessInfo.processInfo.environment["WEFT_SHUTDOWN_CHILD"] == "1" else { return }
    try Runtime.start(RuntimeConfig(workers: 2, shutdownGrace: .milliseconds(100)))
    let empty = Chan<Int>()
    let full = Chan<Int>(capacity: 1)
    XCTAssertTrue(try full.trySend(1))
    let group = WaitGroup()
    try group.add(1)
    let mutex = Weft.Mutex()
    XCTAssertTrue(mutex.tryLock())  // held for good
    let semaphore = Semaphore(capacity: 1)
    _ = try semaphore.tryAcquire()
    let context = Context(cancelable: true)
    let outcomes = Outcomes()
    func record(_ what: String, _ body: @escaping @Sendable () async throws -> Void) -> Task<Void, Never> {
      Task {
        var text = "\(what): returned"
        do { try await body() } catch let error as WeftError { text = "\(what): \(error.name)" } catch {
          text = "\(what): \(error)"
        }
        outcomes.list.withLock { $0.append(text) }
      }
    }
    let tasks = [
      record("receive") { _ = try await empty.receive() },
      record("for-await") { for try await _ in empty {} },
      record("send") { try await full.send(2) },
      record("wait") { try await group.wait() },
      record("lock") { try await mutex.lock() },
      record("acquire") { try await semaphore.acquire() },
      record("done") { if await context.done() != .shutdown { throw WeftError.invalid } else { throw WeftError.shutdown } },
    ]
    try await Task.sleep(for: .milliseconds(100))  // all suspended
    XCTAssertEqual(outcomes.list.withLock { $0.count }, 0)
    let shutdown = Thread { _ = try? Runtime.shutdown() }
    shutdown.start()
    for task in tasks { await task.value }
    let all = outcomes.list.withLock { $0 }
    let released = all.filter { $0.hasSuffix("ESHUTDOWN") || $0.hasSuffix("shutdown") }
    XCTAssertEqual(released.count, 7, "\(all)")
    // A wait begun after shutdown fails at once.
    do {
      _ = try await empty.receive()
      XCTFail("received after shutdown")
    } catch { XCTAssertEqual(error, .shutdown) }
    XCTAssertEqual(AsyncWait.liveRecords.load(ordering: .relaxed), 0, "a leaked wait record")
    print("SHUTDOWN-CHILD OK \(released.count) \(all)")
  }
}

private final class Outcomes: Sendable {
  let list = Mutex<[String]>([])
}
