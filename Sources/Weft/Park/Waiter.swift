/// A parked caller's entry in one primitive's wait queue (Go's `sudog`). A select
/// publishes one Waiter per case, all pointing to the same Parker; a waker claims
/// the parker with the waiter's `caseIndex` and only then touches `elem`.
///
/// Waiters live on the parked caller's stack. Lock rule: a waiter's links and
/// `queued` are guarded by the lock of the primitive whose queue holds it.
package struct Waiter {
  package var parker: ParkerRef
  var next: WaiterRef? = nil
  var prev: WaiterRef? = nil
  package internal(set) var queued = false
  /// Send: the value to take; receive: where the value goes (nil discards).
  package var elem: UnsafeMutableRawPointer?
  /// The claim value that selects this waiter (a select's case index, else 0).
  package var caseIndex: Int
  /// Written by the claimer before wake(): 0 or a WeftError code.
  package var result: Int32 = 0
  /// Primitive-specific: semaphore weight, reader/writer kind, ...
  package var amount: Int64 = 0
  /// Primitive-specific identity (the channel a select case waits on).
  package var owner: UnsafeMutableRawPointer? = nil

  package init(parker: ParkerRef, elem: UnsafeMutableRawPointer? = nil, caseIndex: Int = 0) {
    self.parker = parker
    self.elem = elem
    self.caseIndex = caseIndex
  }
}

package typealias WaiterRef = UnsafeMutablePointer<Waiter>

/// An intrusive FIFO of waiters; the owning primitive's lock guards it.
package struct WaitQueue {
  package private(set) var head: WaiterRef? = nil
  private var tail: WaiterRef? = nil
  package private(set) var count = 0

  package init() {}

  package var isEmpty: Bool { head == nil }

  package mutating func enqueue(_ waiter: WaiterRef) {
    weftAssert(!waiter.pointee.queued, "a waiter enqueued while already in a queue")
    waiter.pointee.next = nil
    waiter.pointee.prev = tail
    if let tail { tail.pointee.next = waiter } else { head = waiter }
    tail = waiter
    waiter.pointee.queued = true
    count += 1
  }

  /// Puts a waiter at the front: a woken waiter that lost the race re-queues
  /// ahead of later arrivals and keeps its place (Go's LIFO semacquire).
  package mutating func enqueueFront(_ waiter: WaiterRef) {
    weftAssert(!waiter.pointee.queued, "a waiter enqueued while already in a queue")
    waiter.pointee.prev = nil
    waiter.pointee.next = head
    if let head { head.pointee.prev = waiter } else { tail = waiter }
    head = waiter
    waiter.pointee.queued = true
    count += 1
  }

  package mutating func remove(_ waiter: WaiterRef) {
    guard waiter.pointee.queued else { return }
    weftAssert(waiter.pointee.prev != nil || head == waiter, "a waiter removed from a queue that does not hold it")
    let prev = waiter.pointee.prev
    let next = waiter.pointee.next
    if let prev { prev.pointee.next = next } else { head = next }
    if let next { next.pointee.prev = prev } else { tail = prev }
    waiter.pointee.next = nil
    waiter.pointee.prev = nil
    waiter.pointee.queued = false
    count -= 1
  }

  /// Removes and returns the first waiter whose parker this call claims (with the
  /// waiter's caseIndex); waiters already claimed elsewhere are dropped on the way.
  package mutating func dequeueClaiming() -> WaiterRef? {
    while let waiter = head {
      remove(waiter)
      if waiter.pointee.parker.tryClaim(waiter.pointee.caseIndex) { return waiter }
      weftAssert(waiter.pointee.parker.claimed != Parker.unclaimed, "a dequeued waiter is neither ours nor claimed")
    }
    return nil
  }

  /// Drops waiters already claimed elsewhere from the front, so `head` is live.
  package mutating func pruneClaimed() {
    while let waiter = head, waiter.pointee.parker.claimed != Parker.unclaimed {
      remove(waiter)
    }
  }
}

/// Claimed parkers to wake after a lock is released (a close, a broadcast).
/// It keeps what wake() needs — the task, or the thread's parker — in one dense
/// array, so waking 100,000 tasks does not walk 100,000 stacks a second time.
package struct WakeList {
  private var tasks: [TaskRef] = []
  private var threads: [ParkerRef] = []

  package init(capacity: Int) { tasks.reserveCapacity(capacity) }

  /// Call right after claiming parker (its waiter is still valid).
  package mutating func append(_ parker: ParkerRef) {
    if let task = parker.pointee.task { tasks.append(task) } else { threads.append(parker) }
  }

  package func wakeAll() {
    for task in tasks { Scheduler.unpark(task) }
    for parker in threads { parker.wake() }
  }
}

/// How a queued wait ended (see `waitQueued`).
package enum QueuedWait {
  /// A waker claimed the waiter and wrote `result` before waking it.
  case claimed(result: Int32)
  /// The deadline, the context or shutdown ended the wait; the waiter left its queue.
  case failed(WeftError)

  /// nil when claimed, else the error.
  package var error: WeftError? {
    if case .failed(let error) = self { return error }
    return nil
  }
}

extension UnsafeMutablePointer where Pointee == Parker {
  /// The tail every blocking primitive shares. Entered with `lock` held, after
  /// the fast path failed: prepares the parker, publishes a waiter (with `elem`
  /// and `amount` for the primitive) through `enqueue`, unlocks and parks. A
  /// claimed waiter returns `.claimed`; otherwise `leave` runs under `lock` to take
  /// the waiter out of its queue (and fix the primitive's bookkeeping), and the
  /// error is returned. `beforePark` runs between the unlock and the park (Cond
  /// releases its mutex there); an error from it abandons the wait with that
  /// error (a waker that claimed the waiter meanwhile has its wake consumed).
  package func waitQueued(
    lock: borrowing SpinLock, elem: UnsafeMutableRawPointer? = nil, amount: Int64 = 0,
    deadline: Int64, context: Context?, reason: StaticString,
    enqueue: (WaiterRef) -> Void, leave: (WaiterRef) -> Void,
    beforePark: () -> WeftError? = { nil }
  ) -> QueuedWait {
    weftAssert(lock.isLocked, "waitQueued entered without the primitive's lock")
    prepare()
    var waiter = Waiter(parker: self, elem: elem)
    waiter.amount = amount
    return withUnsafeMutablePointer(to: &waiter) { w in
      enqueue(w)
      let object = Deadlock.enabled ? withUnsafePointer(to: lock) { UnsafeRawPointer($0) } : nil
      lock.unlock()
      if let error = beforePark() {
        if tryClaim(Parker.canceled) {
          unprepare()
          lock.lock()
          leave(w)
          lock.unlock()
        } else {
          _ = park(reason: reason)  // claimed by a waker (which dequeued it): take its wake
        }
        return .failed(error)
      }
      if let object { Deadlock.noteWait(self, object) }
      let claim = park(deadline: deadline, context: context, reason: reason)
      if object != nil { Deadlock.clearWait(self) }
      weftAssert(claim == w.pointee.caseIndex || claim < 0, "a waiter claimed for another case")
      if claim == w.pointee.caseIndex { return .claimed(result: w.pointee.result) }
      lock.lock()
      leave(w)
      lock.unlock()
      return .failed(Parker.error(forClaim: claim, context: context) ?? .canceled)
    }
  }
}
