import XCTest

@testable import Weft

/// Select from plain threads: the ready case fires, NULL cases never do, ready
/// cases are chosen about equally, duplicates and send+receive on one channel.
final class SelectTests: XCTestCase {
  private func select(_ cases: inout [SelectCase], nonBlocking: Bool = false, deadline: Int64 = noDeadline) -> Int {
    cases.withUnsafeMutableBufferPointer {
      Select.select($0.baseAddress!, count: $0.count, nonBlocking: nonBlocking, deadline: deadline)
    }
  }

  func testPicksTheReadyCaseAndSkipsNil() {
    let a = Channel.make(elemSize: 8, capacity: 1)!
    let b = Channel.make(elemSize: 8, capacity: 1)!
    var v: Int64 = 9
    XCTAssertNil(b.send(&v))
    let out = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
    defer { out.deallocate() }
    var cases = [
      SelectCase(channel: a, op: SelectCase.receive, elem: nil),
      SelectCase(channel: nil, op: SelectCase.receive, elem: nil),
      SelectCase(channel: b, op: SelectCase.receive, elem: UnsafeMutableRawPointer(out)),
    ]
    XCTAssertEqual(select(&cases), 2)
    XCTAssertEqual(out.pointee, 9)
    XCTAssertEqual(select(&cases, nonBlocking: true), Int(WeftError.wouldBlock.code))
    XCTAssertEqual(select(&cases, deadline: monotonicNow() + 1_000_000), Int(WeftError.timedOut.code))
    var none: [SelectCase] = [SelectCase(channel: nil, op: SelectCase.send, elem: nil)]
    XCTAssertEqual(select(&none), Int(WeftError.deadlock.code))
  }

  func testFairAmongReadyCases() {
    let channels = (0..<4).map { _ in Channel.make(elemSize: 0, capacity: 100_000)! }
    var counts = [0, 0, 0, 0]
    for _ in 0..<8000 {
      for c in channels where c.count == 0 { _ = c.trySend(nil) }
      var cases = channels.map { SelectCase(channel: $0, op: SelectCase.receive, elem: nil) }
      counts[select(&cases)] += 1
    }
    for n in counts { XCTAssert(n > 1700 && n < 2300, "\(counts)") }  // 2000 +- 8 sigma
  }

  func testSameChannelInSeveralCases() {
    let c = Channel.make(elemSize: 8, capacity: 1)!
    var v: Int64 = 1
    var cases = [
      SelectCase(channel: c, op: SelectCase.receive, elem: nil),
      SelectCase(channel: c, op: SelectCase.send, elem: UnsafeMutableRawPointer(&v)),
      SelectCase(channel: c, op: SelectCase.receive, elem: nil),
    ]
    XCTAssertEqual(select(&cases), 1)  // empty: only the send can go
    XCTAssertEqual(c.count, 1)
    XCTAssertNotEqual(select(&cases), 1)  // full: only a receive can go
    XCTAssertEqual(c.count, 0)
    XCTAssertNil(c.close())
    let fired = select(&cases)
    XCTAssertEqual(cases[fired].result, WeftError.closed.code)
  }

  func testWokenByAnotherThread() {
    let a = Channel.make(elemSize: 8, capacity: 0)!
    let b = Channel.make(elemSize: 8, capacity: 0)!
    let peer = Thread {
      usleep(2000)
      var v: Int64 = 77
      XCTAssertNil(b.send(&v))
    }
    peer.start()
    let out = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
    defer { out.deallocate() }
    var cases = [
      SelectCase(channel: a, op: SelectCase.receive, elem: UnsafeMutableRawPointer(out)),
      SelectCase(channel: b, op: SelectCase.receive, elem: UnsafeMutableRawPointer(out)),
    ]
    XCTAssertEqual(select(&cases), 1)
    XCTAssertEqual(out.pointee, 77)
    XCTAssertEqual(a.tryReceive(into: nil), .wouldBlock)
  }
}
