import Synchronization

/// A weighted semaphore (golang.org/x/sync/semaphore), task-aware.
///
/// `size` units exist; `current` are held. acquire(n) takes n units when they are
/// free and nobody is queued, else queues FIFO. A waiter is granted only from the
/// head: a large request at the head holds back smaller ones behind it (no
/// starvation of large requests), and a request larger than `size` fails at once.
///
/// Invariants (outside `lock`):
///   - 0 <= current <= size.
///   - `queue` is empty, or its head needs more than `size - current` units
///     (every release and every head departure grants from the head while it fits).
///   - a granted waiter (its parker claimed with caseIndex 0) has had its units
///     added to `current` by the granter; a waiter that gives up (deadline,
///     context, shutdown) was never granted and takes nothing: x/sync's "a
///     canceled acquire releases nothing" holds by the single claim.
///
/// Lock rules: `lock` guards `current` and `queue`; wakes happen under it.
public final class Semaphore: @unchecked Sendable {
  /// Units in all (> 0).
  package let size: Int64
  let lock = SpinLock()
  /// Units held; guarded by `lock`.
  @exclusivity(unchecked)
  var current: Int64 = 0
  /// Waiters, FIFO; `amount` = units wanted.
  @exclusivity(unchecked)
  var queue = WaitQueue()

  /// nil for a capacity <= 0.
  package init?(coreCapacity capacity: Int64) {
    guard capacity > 0 else { return nil }
    size = capacity
  }


  /// Units held now (a snapshot).
  package var coreHeld: Int64 {
    lock.lock()
    defer { lock.unlock() }
    return current
  }

  /// Takes n units, waiting FIFO. .invalid for n < 0 or n > size (at once);
  /// .timedOut / .canceled / .shutdown when the wait ends first (nothing taken).
  /// A done context fails at once even if the units are free (x/sync).
  @available(*, noasync, message: "blocks the thread: use the async form in async code")
  package func coreAcquire(_ n: Int64, deadline: Int64 = noDeadline, context: Context? = nil) -> WeftError? {
    guard n >= 0, n <= size else { return .invalid }
    if let context, let error = context.error { return error }
    lock.lock()
    if size - current >= n && queue.isEmpty {
      current += n
      lock.unlock()
      return nil
    }
    if deadline != noDeadline && monotonicNow() >= deadline {
      lock.unlock()
      return .timedOut
    }
    return ParkerRef.with { parker in
      let outcome = parker.waitQueued(
        lock: lock, amount: n, deadline: deadline, context: context, reason: "semaphore acquire",
        enqueue: { queue.enqueue($0) },
        leave: { w in
          let wasHead = queue.head == w
          queue.remove(w)
          // Leaving the head may let the ones behind us go (x/sync notifyWaiters).
          if wasHead { grantFromHead() }
        })
      return outcome.error
    }
  }

  /// Takes n units only if they are free and nobody waits. .wouldBlock otherwise,
  /// .invalid for n < 0 or n > size.
  package func coreTryAcquire(_ n: Int64) -> WeftError? {
    guard n >= 0, n <= size else { return .invalid }
    lock.lock()
    defer { lock.unlock() }
    if size - current >= n && queue.isEmpty {
      current += n
      return nil
    }
    return .wouldBlock
  }

  /// Returns n units. .outOfRange (nothing changes) when more than are held,
  /// .invalid for n < 0.
  package func coreRelease(_ n: Int64) -> WeftError? {
    guard n >= 0 else { return .invalid }
    // The woken may drop the last reference at once: keep self until done here.
    let keep = Unmanaged.passUnretained(self).retain()
    defer { keep.release() }
    lock.lock()
    defer { lock.unlock() }
    if n > current { return .outOfRange }
    current -= n
    grantFromHead()
    return nil
  }

  /// Grants waiters from the head while the head's request fits. Under `lock`.
  private func grantFromHead() {
    while true {
      queue.pruneClaimed()
      guard let head = queue.head, size - current >= head.pointee.amount else { return }
      queue.remove(head)
      if head.pointee.parker.tryClaim(head.pointee.caseIndex) {
        current += head.pointee.amount
        head.pointee.parker.wake()
      }
    }
  }
}
