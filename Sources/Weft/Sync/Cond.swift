import Synchronization

/// A task-aware condition variable tied to one Mutex (Go's sync.Cond).
///
/// wait: enqueue, unlock the mutex, park, re-lock the mutex (always, also after
/// a timeout or cancellation), so the caller holds the mutex again on return.
/// Enqueueing before unlocking means a signal sent by whoever takes the mutex
/// next cannot be lost. signal wakes the longest waiter, broadcast all of them;
/// both may be called with or without the mutex held.
///
/// Invariants: a waiter is in `queue` from before its unlock until a signal
/// claims it or it gives up (then it removes itself). A claimed waiter was
/// signaled: timeouts and signals never both count (one claim).
///
/// Lock rules: `queueLock` guards `queue`; the mutex is never locked or
/// unlocked under `queueLock`; wakes happen under it (they never block).
public final class Cond: @unchecked Sendable {
  /// The mutex wait releases and re-acquires (kept alive by this reference).
  public let mutex: Mutex
  let queueLock = SpinLock()
  /// Waiters, FIFO.
  @exclusivity(unchecked)
  var queue = WaitQueue()

  /// A condition variable used with `mutex` (held around wait).
  public init(mutex: Mutex) {
    self.mutex = mutex
  }


  /// Waits for signal/broadcast with the mutex released. .notOwner when the mutex
  /// is not locked (nothing happens then). .timedOut / .canceled / .shutdown
  /// when the wait ends first; the mutex is locked again in every case except
  /// .notOwner (and .shutdown if re-locking had to wait during shutdown).
  package func coreWait(deadline: Int64 = noDeadline, context: Context? = nil) -> WeftError? {
    if !mutex.isLocked { return .notOwner }
    queueLock.lock()
    // An already-done context claims at once (park does not block then).
    let outcome = ParkerRef.with { parker in
      parker.waitQueued(
        lock: queueLock, deadline: deadline, context: context, reason: "cond wait",
        enqueue: { queue.enqueue($0) }, leave: { queue.remove($0) },
        // Unlocked by someone else in between: misuse.
        beforePark: { mutex.coreUnlock() != nil ? .notOwner : nil })
    }
    if case .failed(.notOwner) = outcome { return .notOwner }
    if let relock = mutex.coreLock() { return relock }
    return outcome.error
  }

  /// Wakes the longest waiter, if any.
  public func signal() {
    // The woken may drop the last reference at once: keep self until done here.
    let keep = Unmanaged.passUnretained(self).retain()
    defer { keep.release() }
    queueLock.lock()
    if let waiter = queue.dequeueClaiming() { waiter.pointee.parker.wake() }
    queueLock.unlock()
  }

  /// Wakes every waiter.
  public func broadcast() {
    // The woken may drop the last reference at once: keep self until done here.
    let keep = Unmanaged.passUnretained(self).retain()
    defer { keep.release() }
    queueLock.lock()
    while let waiter = queue.dequeueClaiming() { waiter.pointee.parker.wake() }
    queueLock.unlock()
  }
}
