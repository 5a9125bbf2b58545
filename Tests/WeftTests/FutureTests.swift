import Glibc
import XCTest

@testable import Weft

final class FutureTests: XCTestCase {
  func testValueAndCode() throws {
    let future = try Future.spawn(context: .background, valueSize: 8) { _, out in
      out!.storeBytes(of: Int64(77), as: Int64.self)
      return -9
    }.get()
    var value: Int64 = 0
    XCTAssertEqual(future.await(context: nil, into: &value), -9)
    XCTAssertEqual(value, 77)
    XCTAssertTrue(future.isReady)
  }

  func testAwaitTimesOutFutureKeepsRunning() throws {
    let future = try Future.spawn(context: .background, valueSize: 0) { _, _ in
      try? Scheduler.sleep(for: .nanoseconds(50_000_000))
      return 0
    }.get()
    let short = try Context.withTimeout(.background, timeout: 5_000_000)
    XCTAssertEqual(future.await(context: short, into: nil), WeftError.timedOut.code)
    XCTAssertEqual(future.await(context: nil, into: nil), 0)
  }
}
