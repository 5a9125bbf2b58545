/// A parked caller's entry in one primitive's wait queue (Go's `sudog`). A select
/// publishes one Waiter per case, all pointing to the same Parker; a waker claims
/// the parker with the waiter's `caseIndex` and only then touches `elem`.
///
/// Waiters live on the parked caller's stack. Lock rule: a waiter's links and
/// `queued` are guarded by the lock of the primitive whose queue holds it.
public struct Waiter {
  public var parker: ParkerRef
  var next: WaiterRef? = nil
  var prev: WaiterRef? = nil
  public internal(set) var queued = false
  /// Send: the value to take; receive: where the value goes (nil discards).
  public var elem: UnsafeMutableRawPointer?
  /// The claim value that selects this waiter (a select's case index, else 0).
  public var caseIndex: Int
  /// Written by the claimer before wake(): 0 or a WeftError code.
  public var result: Int32 = 0
  /// Primitive-specific: semaphore weight, reader/writer kind, ...
  public var amount: Int64 = 0
  /// Primitive-specific identity (the channel a select case waits on).
  public var owner: UnsafeMutableRawPointer? = nil

  public init(parker: ParkerRef, elem: UnsafeMutableRawPointer? = nil, caseIndex: Int = 0) {
    self.parker = parker
    self.elem = elem
    self.caseIndex = caseIndex
  }
}

public typealias WaiterRef = UnsafeMutablePointer<Waiter>

/// An intrusive FIFO of waiters; the owning primitive's lock guards it.
public struct WaitQueue {
  public private(set) var head: WaiterRef? = nil
  private var tail: WaiterRef? = nil
  public private(set) var count = 0

  public init() {}

  public var isEmpty: Bool { head == nil }

  public mutating func enqueue(_ waiter: WaiterRef) {
    waiter.pointee.next = nil
    waiter.pointee.prev = tail
    if let tail { tail.pointee.next = waiter } else { head = waiter }
    tail = waiter
    waiter.pointee.queued = true
    count += 1
  }

  /// Puts a waiter at the front: a woken waiter that lost the race re-queues
  /// ahead of later arrivals and keeps its place (Go's LIFO semacquire).
  public mutating func enqueueFront(_ waiter: WaiterRef) {
    waiter.pointee.prev = nil
    waiter.pointee.next = head
    if let head { head.pointee.prev = waiter } else { tail = waiter }
    head = waiter
    waiter.pointee.queued = true
    count += 1
  }

  public mutating func remove(_ waiter: WaiterRef) {
    guard waiter.pointee.queued else { return }
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
  public mutating func dequeueClaiming() -> WaiterRef? {
    while let waiter = head {
      remove(waiter)
      if waiter.pointee.parker.tryClaim(waiter.pointee.caseIndex) { return waiter }
    }
    return nil
  }

  /// Drops waiters already claimed elsewhere from the front, so `head` is live.
  public mutating func pruneClaimed() {
    while let waiter = head, waiter.pointee.parker.claimed != Parker.unclaimed {
      remove(waiter)
    }
  }
}

/// Claimed parkers to wake after a lock is released (a close, a broadcast).
/// It keeps what wake() needs — the task, or the thread's parker — in one dense
/// array, so waking 100,000 tasks does not walk 100,000 stacks a second time.
public struct WakeList {
  private var tasks: [TaskRef] = []
  private var threads: [ParkerRef] = []

  public init(capacity: Int) { tasks.reserveCapacity(capacity) }

  /// Call right after claiming parker (its waiter is still valid).
  public mutating func append(_ parker: ParkerRef) {
    if let task = parker.pointee.task { tasks.append(task) } else { threads.append(parker) }
  }

  public func wakeAll() {
    for task in tasks { Scheduler.unpark(task) }
    for parker in threads { parker.wake() }
  }
}

/// How a queued wait ended (see `waitQueued`).
public enum QueuedWait {
  /// A waker claimed the waiter and wrote `result` before waking it.
  case claimed(result: Int32)
  /// The deadline, the context or shutdown ended the wait; the waiter left its queue.
  case failed(WeftError)

  /// nil when claimed, else the error.
  public var error: WeftError? {
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
  public func waitQueued(
    lock: borrowing SpinLock, elem: UnsafeMutableRawPointer? = nil, amount: Int64 = 0,
    deadline: Int64, context: Context?, reason: StaticString,
    enqueue: (WaiterRef) -> Void, leave: (WaiterRef) -> Void,
    beforePark: () -> WeftError? = { nil }
  ) -> QueuedWait {
    prepare()
    var waiter = Waiter(parker: self, elem: elem)
    waiter.amount = amount
    return withUnsafeMutablePointer(to: &waiter) { w in
      enqueue(w)
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
      let claim = park(deadline: deadline, context: context, reason: reason)
      if claim == w.pointee.caseIndex { return .claimed(result: w.pointee.result) }
      lock.lock()
      leave(w)
      lock.unlock()
      return .failed(Parker.error(forClaim: claim, context: context) ?? .canceled)
    }
  }
}
