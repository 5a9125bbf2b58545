import Glibc
import XCTest

@testable import Weft

/// The byte channel and the typed Chan<T> from plain threads (the C tests cover
/// tasks): blocking, closing, destructors, no leaks.
final class ChannelTests: XCTestCase {
  func testBytesRoundTripBetweenThreads() {
    let channel = Channel.make(elemSize: 8, capacity: 0)!
    let n = 2000
    let producer = Thread {
      for i in 0..<n {
        var v = Int64(i)
        XCTAssertNil(channel.send(&v))
      }
      XCTAssertNil(channel.close())
    }
    producer.start()
    var expect: Int64 = 0
    var v: Int64 = -1
    while channel.receive(into: &v) == nil {
      XCTAssertEqual(v, expect)
      expect += 1
    }
    XCTAssertEqual(expect, Int64(n))
    XCTAssertEqual(channel.receive(into: &v), .closed)
  }

  func testDeadlinesAndTryForms() {
    let channel = Channel.make(elemSize: 4, capacity: 1)!
    var v: Int32 = 5
    XCTAssertEqual(channel.tryReceive(into: &v), .wouldBlock)
    XCTAssertNil(channel.trySend(&v))
    XCTAssertEqual(channel.trySend(&v), .wouldBlock)
    XCTAssertEqual(channel.send(&v, deadline: monotonicNow() + 2_000_000), .timedOut)
    XCTAssertNil(channel.receive(into: &v, deadline: monotonicNow() + 2_000_000))
    XCTAssertEqual(channel.receive(into: &v, deadline: monotonicNow() + 2_000_000), .timedOut)
    XCTAssertNil(channel.close())
    XCTAssertEqual(channel.close(), .closed)
    XCTAssertEqual(channel.send(&v), .closed)
  }

  func testAbsurdSizesAreRefused() {
    XCTAssertNil(Channel.make(elemSize: 1 << 20, capacity: 1 << 20))
    XCTAssertNil(Channel.make(elemSize: Int.max, capacity: 2))
    XCTAssertNotNil(Channel.make(elemSize: 0, capacity: 1 << 32))
  }

  // MARK: - Chan<T>

  final class Tracked: Sendable {
    static let lock = NSLock()
    nonisolated(unsafe) static var live = 0
    let value: Int
    init(_ value: Int) {
      self.value = value
      Tracked.lock.lock()
      Tracked.live += 1
      Tracked.lock.unlock()
    }
    deinit {
      Tracked.lock.lock()
      Tracked.live -= 1
      Tracked.lock.unlock()
    }
  }

  func testChanMovesClassInstancesBetweenThreads() throws {
    let before = Tracked.live
    do {
      let chan = Chan<Tracked>(capacity: 0)
      let producer = Thread {
        for i in 0..<500 { try? chan.send(Tracked(i)) }
        chan.close()
      }
      producer.start()
      var expect = 0
      for item in chan {
        XCTAssertEqual(item.value, expect)
        expect += 1
      }
      XCTAssertEqual(expect, 500)
    }
    XCTAssertEqual(Tracked.live, before)
  }

  func testChanDestroysLeftoversAndDropsFailedSends() throws {
    let before = Tracked.live
    do {
      let chan = Chan<Tracked>(capacity: 8)
      for i in 0..<5 { try chan.send(Tracked(i)) }
      XCTAssertEqual(try chan.receive()?.value, 0)
      XCTAssertEqual(Tracked.live, before + 4)
      chan.close()
      XCTAssertThrowsError(try chan.send(Tracked(99))) { XCTAssertEqual($0 as? WeftError, .closed) }
      XCTAssertEqual(Tracked.live, before + 4)  // the failed send dropped its value
      XCTAssertEqual(try chan.receive()?.value, 1)
    }
    XCTAssertEqual(Tracked.live, before)  // three leftovers deinitialized with the channel
  }

  func testChanOfStringsAndStructs() throws {
    struct Pair: Equatable {
      var name: String
      var numbers: [Int]
    }
    let chan = Chan<Pair>(capacity: 2)
    try chan.send(Pair(name: "a" + String(repeating: "x", count: 100), numbers: [1, 2, 3]))
    XCTAssertEqual(try chan.trySend(Pair(name: "b", numbers: [])), true)
    XCTAssertEqual(try chan.trySend(Pair(name: "c", numbers: [])), false)
    XCTAssertEqual(try chan.receive()?.numbers, [1, 2, 3])
    XCTAssertEqual(chan.tryReceive()?.name, "b")
    XCTAssertNil(chan.tryReceive())
    XCTAssertThrowsError(try chan.receive(timeout: .milliseconds(1))) {
      XCTAssertEqual($0 as? WeftError, .timedOut)
    }
  }
}
