import Synchronization
import XCTest

import Weft

/// Every way a value can leave a Chan deinitializes it exactly once: no leak
/// (live count back to zero), no double release (which would crash or drive
/// the count negative).
final class LifetimeTests: XCTestCase {
  final class Token: Sendable {
    static let live = Atomic<Int>(0)
    static let made = Atomic<Int>(0)
    let id: Int
    init(_ id: Int) {
      self.id = id
      Token.live.add(1, ordering: .relaxed)
      Token.made.add(1, ordering: .relaxed)
    }
    deinit {
      let before = Token.live.subtract(1, ordering: .relaxed).oldValue
      precondition(before > 0, "a Token was released twice")
    }
  }

  var liveBefore = 0

  override func setUp() { liveBefore = Token.live.load(ordering: .relaxed) }

  func assertAllGone(_ what: String, file: StaticString = #filePath, line: UInt = #line) {
    eventually(what) { Token.live.load(ordering: .relaxed) == liveBefore }
    XCTAssertEqual(Token.live.load(ordering: .relaxed), liveBefore, what, file: file, line: line)
  }

  func testBlockingWays() throws {
    do {
      let chan = Chan<Token>(capacity: 4)
      try chan.send(Token(1))
      XCTAssertEqual(try chan.receive()?.id, 1)  // received
      try chan.send(Token(2))
      XCTAssertEqual(chan.tryReceive()?.id, 2)  // tried
      try chan.send(Token(3))
      try chan.send(Token(4))
      XCTAssertTrue(try chan.trySend(Token(5)))
      XCTAssertTrue(try chan.trySend(Token(6)))
      XCTAssertFalse(try chan.trySend(Token(7)))  // full: dropped
      chan.close()
      XCTAssertThrowsError(try chan.send(Token(8)))  // closed: dropped
      XCTAssertEqual(try chan.receive()?.id, 3)  // drained after close
      // 4, 5, 6 stay buffered and go with the channel.
    }
    assertAllGone("buffered values, full and closed sends")

    do {
      let rendezvous = Chan<Token>()
      XCTAssertThrowsError(try rendezvous.send(Token(9), timeout: .milliseconds(2)))  // timed out
      let consumer = try go { () -> Int in
        var n = 0
        for token in rendezvous { n += token.id > 0 ? 1 : 0 }  // hand-offs to a parked receiver
        return n
      }
      for i in 0..<100 { try rendezvous.send(Token(i + 10)) }
      rendezvous.close()
      XCTAssertEqual(consumer.wait(), 100)
    }
    assertAllGone("timed-out send and hand-offs")
  }

  func testSelectWays() throws {
    do {
      let a = Chan<Token>(capacity: 1)
      let b = Chan<Token>(capacity: 1)
      try a.send(Token(1))
      var got = 0
      try select { s in
        s.receive(from: a) { got = $0!.id }  // selected receive
        s.send(Token(2), to: a) {}  // a is full: not fired, dropped
      }
      XCTAssertEqual(got, 1)
      try select { s in
        s.send(Token(3), to: b) {}  // fired: now buffered in b
        s.receive(from: a) { _ in XCTFail("a is empty") }
      }
      XCTAssertThrowsError(try select(timeout: .milliseconds(1)) { s in s.send(Token(4), to: b) {} })  // timed out
      b.close()
      XCTAssertThrowsError(try select { s in s.send(Token(5), to: b) {} })  // closed
    }
    assertAllGone("select cases")
  }

  func testAsyncWays() async throws {
    do {
      let chan = Chan<Token>()
      let receiver = Task { try await chan.receive()?.id }
      try await chan.send(Token(1))  // async hand-off
      let got = try await receiver.value
      XCTAssertEqual(got, 1)
      do {
        try await chan.send(Token(2), timeout: .milliseconds(2))  // async timed out
        XCTFail("nobody receives")
      } catch {}
      let canceled = Task { try await chan.send(Token(3)) }  // async canceled
      try await Task.sleep(for: .milliseconds(5))
      canceled.cancel()
      _ = try? await canceled.value
      let buffered = Chan<Token>(capacity: 8)
      for i in 0..<5 { try await buffered.send(Token(10 + i)) }
      buffered.close()
      var n = 0
      for try await _ in buffered { n += 1 }  // async iteration
      XCTAssertEqual(n, 5)
    }
    assertAllGone("async send and receive")
  }
}
