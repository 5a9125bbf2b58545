import Synchronization
import XCTest

import Weft

final class TypedSelectTests: XCTestCase {
  func testTypedSelectReceivesSendsAndDefaults() throws {
    let ints = Chan<Int>(capacity: 1)
    let names = Chan<String>(capacity: 1)
    let out = Chan<Double>(capacity: 1)
    try names.send("ann")
    var got: [String] = []
    for _ in 0..<2 {
      try select { s in
        s.receive(from: ints) { v in got.append("int \(v!)") }
        s.receive(from: names) { v in got.append("name \(v!)") }
        s.send(1.5, to: out) { got.append("sent") }
      }
    }
    XCTAssertEqual(Set(got), ["name ann", "sent"])
    var idle = false
    try select { s in
      s.send(2.5, to: out) { XCTFail("out is full") }
      s.receive(from: ints) { _ in XCTFail("ints is empty") }
      s.otherwise { idle = true }
    }
    XCTAssertTrue(idle)
    XCTAssertEqual(out.tryReceive(), 1.5)
  }

  func testTypedSelectWaitsForTasksTimesOutAndSeesContexts() throws {
    let chan = Chan<[Int]>()
    try go { try! chan.send([1, 2, 3]) }
    var got: [Int]? = nil
    try select { s in s.receive(from: chan) { got = $0 } }
    XCTAssertEqual(got, [1, 2, 3])

    XCTAssertThrowsError(try select(timeout: .milliseconds(5)) { s in s.receive(from: chan) { _ in } }) {
      XCTAssertEqual($0 as? WeftError, .timedOut)
    }
    let context = Context.withCancel(.background)
    try go {
      try? Scheduler.sleep(for: .nanoseconds(2_000_000))
      _ = context.cancel()
    }
    var stopped = false
    try select { s in
      s.receive(from: chan) { _ in XCTFail("nobody sends") }
      s.done(context) { stopped = true }
    }
    XCTAssertTrue(stopped)
    // A closed channel fires its receive case with nil.
    chan.close()
    var closed = false
    try select { s in s.receive(from: chan) { closed = $0 == nil } }
    XCTAssertTrue(closed)
    // A handler's error comes out of the select.
    XCTAssertThrowsError(try select { s in s.receive(from: chan) { _ throws(WeftError) in throw .busy } }) {
      XCTAssertEqual($0 as? WeftError, .busy)
    }
  }

  func testTypedSelectWithManyCasesSpillsToTheHeap() throws {
    let chans = (0..<12).map { _ in Chan<Int>(capacity: 1) }
    try chans[11].send(11)
    var fired = -1
    try select { s in
      for (i, chan) in chans.enumerated() { s.receive(from: chan) { _ in fired = i } }
    }
    XCTAssertEqual(fired, 11)
  }
}
