import XCTest

@testable import Weft

/// The channel's decisions, driven without threads: waiters are stack-less
/// stand-ins whose parkers nobody parks on; claims are plain atomics.
final class ChannelStateMachineTests: XCTestCase {
  /// Parkers and waiters in raw memory for the duration of a test.
  final class Waiters {
    var parkers: [ParkerRef] = []
    var waiters: [WaiterRef] = []

    func make(caseIndex: Int = 0, parker shared: ParkerRef? = nil) -> WaiterRef {
      let parker: ParkerRef
      if let shared {
        parker = shared
      } else {
        parker = ParkerRef.allocate(capacity: 1)
        parker.initialize(to: Parker(task: nil, signal: nil))
        parkers.append(parker)
      }
      let waiter = WaiterRef.allocate(capacity: 1)
      waiter.initialize(to: Waiter(parker: parker, caseIndex: caseIndex))
      waiters.append(waiter)
      return waiter
    }

    deinit {
      for w in waiters { w.deallocate() }
      for p in parkers {
        p.deinitialize(count: 1)
        p.deallocate()
      }
    }
  }

  func testBufferedFIFOAndWrapAround() {
    var m = ChannelStateMachine(capacity: 3)
    XCTAssertEqual(m.receive(), .wouldBlock)
    XCTAssertEqual(m.send(), .buffer(0))
    XCTAssertEqual(m.send(), .buffer(1))
    XCTAssertEqual(m.send(), .buffer(2))
    XCTAssertEqual(m.send(), .wouldBlock)
    XCTAssertEqual(m.count, 3)
    XCTAssertEqual(m.receive(), .take(0))
    XCTAssertEqual(m.send(), .buffer(0))  // wraps
    XCTAssertEqual(m.receive(), .take(1))
    XCTAssertEqual(m.receive(), .take(2))
    XCTAssertEqual(m.receive(), .take(0))
    XCTAssertEqual(m.receive(), .wouldBlock)
    for round in 0..<10 {
      let slot = (1 + round) % 3  // head moved to 1 above
      XCTAssertEqual(m.tail, slot)
      XCTAssertEqual(m.send(), .buffer(slot), "round \(round)")
      XCTAssertEqual(m.receive(), .take(slot))
    }
    XCTAssertEqual(m.count, 0)
  }

  func testUnbufferedHandsOffToAParkedReceiver() {
    let pool = Waiters()
    var m = ChannelStateMachine(capacity: 0)
    XCTAssertEqual(m.send(), .wouldBlock)
    XCTAssertEqual(m.receive(), .wouldBlock)
    let receiver = pool.make()
    m.receivers.enqueue(receiver)
    XCTAssertEqual(m.send(), .handOff(receiver))
    XCTAssertEqual(receiver.pointee.parker.claimed, 0)  // claimed with its case index
    XCTAssertFalse(receiver.pointee.queued)
    XCTAssertEqual(m.send(), .wouldBlock)  // nobody else waits
    let sender = pool.make()
    m.senders.enqueue(sender)
    XCTAssertEqual(m.receive(), .handOff(sender))
    XCTAssertEqual(m.count, 0)
  }

  func testFullBufferWithWaitingSenderRefills() {
    let pool = Waiters()
    var m = ChannelStateMachine(capacity: 2)
    XCTAssertEqual(m.send(), .buffer(0))
    XCTAssertEqual(m.send(), .buffer(1))
    let sender = pool.make()
    m.senders.enqueue(sender)
    // The oldest value leaves slot 0; the sender's value takes slot 0 as newest.
    XCTAssertEqual(m.receive(), .takeAndRefill(0, sender))
    XCTAssertEqual(m.count, 2)
    XCTAssertEqual(m.receive(), .take(1))
    XCTAssertEqual(m.receive(), .take(0))
    XCTAssertEqual(m.receive(), .wouldBlock)
  }

  func testDeadWaitersAreSkipped() {
    let pool = Waiters()
    var m = ChannelStateMachine(capacity: 0)
    let timedOut = pool.make()
    let live = pool.make()
    m.receivers.enqueue(timedOut)
    m.receivers.enqueue(live)
    XCTAssertTrue(timedOut.pointee.parker.tryClaim(Parker.timedOut))
    XCTAssertEqual(m.send(), .handOff(live))
    XCTAssertTrue(m.receivers.isEmpty)
  }

  func testSelectWaitersShareOneClaim() {
    // One select waits to receive on two channels; the first send claims it,
    // the second finds the other waiter dead.
    let pool = Waiters()
    var a = ChannelStateMachine(capacity: 0)
    var b = ChannelStateMachine(capacity: 0)
    let first = pool.make(caseIndex: 0)
    let second = pool.make(caseIndex: 1, parker: first.pointee.parker)
    a.receivers.enqueue(first)
    b.receivers.enqueue(second)
    XCTAssertEqual(b.send(), .handOff(second))
    XCTAssertEqual(first.pointee.parker.claimed, 1)
    XCTAssertEqual(a.send(), .wouldBlock)
    XCTAssertTrue(a.receivers.isEmpty)
  }

  func testSendAndReceiveCasesOnOneChannel() {
    // A select queued as sender and receiver on one channel: a partner's
    // receive takes the send case; the receive case is dead afterwards.
    let pool = Waiters()
    var m = ChannelStateMachine(capacity: 0)
    let sendCase = pool.make(caseIndex: 0)
    let recvCase = pool.make(caseIndex: 1, parker: sendCase.pointee.parker)
    m.senders.enqueue(sendCase)
    m.receivers.enqueue(recvCase)
    XCTAssertEqual(m.receive(), .handOff(sendCase))
    XCTAssertEqual(m.send(), .wouldBlock)
  }

  func testClose() {
    let pool = Waiters()
    var m = ChannelStateMachine(capacity: 2)
    XCTAssertEqual(m.send(), .buffer(0))
    XCTAssertTrue(m.close())
    XCTAssertFalse(m.close())
    XCTAssertEqual(m.send(), .closed)
    XCTAssertEqual(m.count, 1)
    XCTAssertEqual(m.receive(), .take(0))  // drains first
    XCTAssertEqual(m.receive(), .closed)
    XCTAssertEqual(m.receive(), .closed)

    var u = ChannelStateMachine(capacity: 0)
    let r = pool.make()
    u.receivers.enqueue(r)
    XCTAssertTrue(u.close())
    XCTAssertEqual(u.receivers.dequeueClaiming(), r)  // the storage wakes it with ECLOSED
    XCTAssertEqual(u.receive(), .closed)
  }
}
