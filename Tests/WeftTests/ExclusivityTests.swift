import Synchronization
import XCTest

import Weft

/// Dynamic exclusivity checks stay on in this target (no -enforce-exclusivity
/// flag): the scheduler saves and restores each task's open accesses at every
/// switch, so an access held across a park ends on whatever thread the task
/// resumes on.
final class Holder: @unchecked Sendable {
  var total = Accumulator()
}

struct Accumulator {
  var sum = 0
  /// A mutating method: `holder.total.drain(from:)` keeps a modify access to
  /// `holder.total` open while it parks in receive.
  mutating func drain(from chan: Chan<Int>) {
    while let value = try! chan.receive() { sum += value }
  }
}

final class ExclusivityTests: XCTestCase {
  func testParkInsideAnOpenAccess() throws {
    let holders = (0..<8).map { _ in Holder() }
    let chans = (0..<8).map { _ in Chan<Int>() }
    let done = WaitGroup()
    for i in 0..<8 {
      try done.add(1)
      let holder = holders[i], chan = chans[i]
      try go {
        holder.total.drain(from: chan)  // parks inside the access, many times
        try? done.done()
      }
    }
    for i in 0..<8 {
      let chan = chans[i]
      try go {
        for v in 1...2_000 {
          try! chan.send(v)
          if v % 7 == 0 { Scheduler.yield() }
        }
        chan.close()
      }
    }
    XCTAssertNil(err { try done.wait() })
    for holder in holders { XCTAssertEqual(holder.total.sum, 2_000 * 2_001 / 2) }
  }
}
