import CWeftCoro
import Synchronization

/// A task-aware mutual exclusion lock (Go's sync.Mutex): it parks a task, or
/// blocks a plain thread, and it may be unlocked by a task or thread other than
/// the one that locked it.
///
/// State word (`state`, one atomic):
///   bit 0 `locked`  the lock is held.
///   bit 1 `parked`  the wait queue may be non-empty: unlock must take the slow path.
///   bit 2 `woken`   an unlock woke a waiter that has not yet retried: later
///                   unlocks wake nobody else (no thundering herd).
///
/// Fast paths: lock is one CAS 0 -> locked, unlock one CAS locked -> 0. No
/// allocation, no lock, no clock read.
///
/// Modes (Go's normal and starvation modes, per wake-up):
///   normal  unlock clears `locked`, sets `woken` and wakes the head waiter, which
///           competes with spinning newcomers; a waiter that loses re-queues at
///           the FRONT and keeps its first park time.
///   hand-off when the head waiter has waited longer than 1 ms (since its first
///           park), unlock leaves `locked` set and hands the lock over directly
///           (waiter.result = handedOff): newcomers cannot barge, nobody starves.
///
/// Invariants (outside `queueLock`):
///   - `queue` non-empty  =>  `parked` set.
///   - `woken` set  =>  exactly one woken waiter is running towards its retry and
///     will clear `woken` when it takes the lock or parks again.
///   - a waiter gives up (deadline, context, shutdown) only while `locked` is set,
///     so the holder's unlock still wakes someone else.
///
/// Lock rules: `queueLock` (a SpinLock) guards `queue` and every change of
/// `parked` and `woken`'s setting; `locked` alone is changed with a CAS without
/// it. Inside `queueLock`, with `locked` set and `woken` clear, only the holder
/// can change the word, so the unlock slow path may store it. Waiters are woken
/// after `queueLock` is released (the claim keeps them parked until then).
public final class Mutex: @unchecked Sendable {
  @usableFromInline static let locked: UInt32 = 1
  static let parked: UInt32 = 2
  static let woken: UInt32 = 4
  /// A waiter older than this gets the lock handed over (Go's starvationThresholdNs).
  static let starvationNs: Int64 = 1_000_000
  /// Waiter.result for a waiter that owns the lock when it wakes.
  static let handedOff: Int32 = 1
  /// Spin rounds (of `spinPause` CPU pauses) before parking (Go's active_spin).
  static let spinRounds = 4
  static let spinPause = 30

  /// Records the holder for the deadlock report (WEFT_DEADLOCK set). Beside the
  /// lock word, so the fast paths' check loads a line they touch anyway.
  @usableFromInline let tracksHolder = Deadlock.mode != .off
  /// The lock word; see the type's comment.
  @usableFromInline let state = Atomic<UInt32>(0)
  /// Guards `queue` and the `parked`/`woken` bits.
  let queueLock = SpinLock()
  /// Parked lockers, FIFO (a re-queued woken waiter goes first). `amount` holds
  /// the waiter's first park time (monotonicNow).
  @exclusivity(unchecked)
  var queue = WaitQueue()

  /// An unlocked mutex.
  public init() {}


  /// True while held (a racy snapshot; Cond uses it to reject misuse).
  public var isLocked: Bool { state.load(ordering: .relaxed) & Mutex.locked != 0 }

  /// Locks, parking (task) or blocking (thread) while held elsewhere.
  /// nil, or .shutdown when it had to wait during weft_shutdown.
  @available(*, noasync, message: "blocks the thread: use the async form in async code")
  @inlinable @inline(__always)
  package func coreLock() -> WeftError? {
    if state.compareExchange(expected: 0, desired: Mutex.locked, ordering: .acquiring).exchanged {
      if tracksHolder { noteHolder(true) }
      return nil
    }
    return lockSlow(deadline: noDeadline, context: nil)
  }

  /// Lock with a deadline and/or a context: .timedOut, .canceled (or the
  /// context's error) when it ends first. A free lock is taken even past the
  /// deadline (POSIX timedlock); a context already done fails at once.
  @available(*, noasync, message: "blocks the thread: use the async form in async code")
  @inline(__always)
  @usableFromInline
  package func coreLock(deadline: Int64, context: Context? = nil) -> WeftError? {
    if let context, let error = context.error { return error }
    if state.compareExchange(expected: 0, desired: Mutex.locked, ordering: .acquiring).exchanged {
      if tracksHolder { noteHolder(true) }
      return nil
    }
    return lockSlow(deadline: deadline, context: context)
  }

  /// Takes the lock if it is free; never waits.
  @inline(__always)
  public func tryLock() -> Bool {
    var s = state.load(ordering: .relaxed)
    while s & Mutex.locked == 0 {
      let (done, now) = state.compareExchange(expected: s, desired: s | Mutex.locked, ordering: .acquiring)
      if done {
        if tracksHolder { noteHolder(true) }
        return true
      }
      s = now
    }
    return false
  }

  /// Unlocks. .notOwner when the mutex is not locked.
  @inlinable @inline(__always)
  package func coreUnlock() -> WeftError? {
    if tracksHolder { noteHolder(false) }
    if state.compareExchange(expected: Mutex.locked, desired: 0, ordering: .releasing).exchanged {
      Scheduler.preemptPoint()  // a task locking in a loop never parks at one worker
      return nil
    }
    return unlockSlow()
  }

  @usableFromInline @inline(never)
  func noteHolder(_ held: Bool) {
    withUnsafePointer(to: queueLock) { held ? Deadlock.acquired($0) : Deadlock.released($0) }
  }

  private enum Outcome { case acquired, retry, woken, failed(WeftError) }

  @usableFromInline @inline(never)
  func lockSlow(deadline: Int64, context: Context?) -> WeftError? {
    var spins = 0
    var since: Int64 = 0  // first park time; 0 until we park
    var awoke = false  // we were woken without hand-off: we own `woken`
    while true {
      let s = state.load(ordering: .relaxed)
      if s & Mutex.locked == 0 {
        let desired = (awoke ? s & ~Mutex.woken : s) | Mutex.locked
        if state.compareExchange(expected: s, desired: desired, ordering: .acquiring).exchanged {
          if tracksHolder { noteHolder(true) }
          return nil
        }
        continue
      }
      if spins < Mutex.spinRounds {
        // Spin until it looks free (reads only: the line stays shared), then CAS.
        spins += 1
        for _ in 0..<Mutex.spinPause {
          cweft_cpu_relax()
          if state.load(ordering: .relaxed) & Mutex.locked == 0 { break }
        }
        continue
      }
      switch parkOnce(deadline: deadline, context: context, since: &since, awoke: awoke) {
      case .acquired:
        if tracksHolder { noteHolder(true) }
        return nil
      case .retry: continue
      case .woken:
        awoke = true
        spins = 0
      case .failed(let error): return error
      }
      // A woken waiter has cleared `woken` only if it parked again; parkOnce
      // returns .woken only from a fresh wake-up, which set `woken` for us.
    }
  }

  /// Publishes a waiter and parks once. On .retry nothing was published and
  /// `woken` is untouched; on every other outcome a set `woken` (ours, when
  /// awoke) has been cleared.
  private func parkOnce(deadline: Int64, context: Context?, since: inout Int64, awoke: Bool) -> Outcome {
    ParkerRef.with { parker in
      queueLock.lock()
      var s = state.load(ordering: .relaxed)
      var expired = false
      while true {
        if s & Mutex.locked == 0 {
          queueLock.unlock()
          return .retry
        }
        expired = deadline != noDeadline && monotonicNow() >= deadline
        // Giving up also drops our `woken`: the holder's unlock wakes the next.
        var desired = awoke ? s & ~Mutex.woken : s
        if !expired { desired |= Mutex.parked }
        if desired == s { break }
        let (done, now) = state.compareExchange(expected: s, desired: desired, ordering: .relaxed)
        if done { break }
        s = now
      }
      if expired {
        queueLock.unlock()
        return .failed(.timedOut)
      }
      let requeue = since != 0
      if !requeue { since = monotonicNow() }
      let outcome = parker.waitQueued(
        lock: queueLock, amount: since, deadline: deadline, context: context, reason: "mutex lock",
        enqueue: { w in if requeue { queue.enqueueFront(w) } else { queue.enqueue(w) } },
        leave: { w in
          queue.remove(w)
          if queue.isEmpty { state.bitwiseAnd(~Mutex.parked, ordering: .relaxed) }
        })
      switch outcome {
      case .claimed(let result): return result == Mutex.handedOff ? .acquired : .woken
      case .failed(let error): return .failed(error)
      }
    }
  }

  @usableFromInline @inline(never)
  func unlockSlow() -> WeftError? {
    // The woken may drop the last reference at once: keep self until done here.
    let keep = Unmanaged.passUnretained(self).retain()
    defer { keep.release() }
    var s = state.load(ordering: .relaxed)
    while true {
      if s & Mutex.locked == 0 { return .notOwner }
      if s & Mutex.parked != 0 && s & Mutex.woken == 0 { break }
      let (done, now) = state.compareExchange(expected: s, desired: s & ~Mutex.locked, ordering: .releasing)
      if done { return nil }
      s = now
    }
    // Held, waiters parked, nobody woken: wake the head (or hand it the lock).
    queueLock.lock()
    guard let waiter = queue.dequeueClaiming() else {
      state.store(0, ordering: .releasing)
      queueLock.unlock()
      return nil
    }
    weftAssert(state.load(ordering: .relaxed) & Mutex.parked != 0, "mutex waiters queued without the parked bit")
    let rest: UInt32 = queue.isEmpty ? 0 : Mutex.parked
    if monotonicNow() &- waiter.pointee.amount > Mutex.starvationNs {
      waiter.pointee.result = Mutex.handedOff
      state.store(Mutex.locked | rest, ordering: .releasing)
    } else {
      state.store(Mutex.woken | rest, ordering: .releasing)
    }
    queueLock.unlock()
    waiter.pointee.parker.wake()
    return nil
  }
}
