import Synchronization

/// A task-aware reader/writer lock (Go's sync.RWMutex): many readers or one
/// writer. A waiting writer holds back new readers (no writer starvation); a
/// writer's unlock first lets in every reader that queued behind it (no reader
/// starvation), then the next writer waits for those readers.
///
/// State word (`state`, one 64-bit atomic):
///   bits 0..31  `readers`        read locks held.
///   bit 32      `writerLocked`   a writer holds the lock (readers == 0 then).
///   bit 33      `writerWaiting`  `writers` is non-empty: new readers queue.
///   bit 34      `readerWaiting`  `readers` queue is non-empty.
///
/// Fast paths (one CAS, no lock): rlock while no writer holds or waits; runlock
/// unless it is the last reader and a writer waits; lock 0 -> writerLocked;
/// unlock writerLocked -> 0 when nobody waits.
///
/// Hand-off: the lock is passed to waiters directly, under `queueLock`, by whoever
/// releases it: the last reader grants the head writer (writerLocked set for it);
/// a writer's unlock grants every queued reader (readers += k), or else the next
/// writer. A granted waiter owns its lock when it wakes.
///
/// Invariants (outside `queueLock`):
///   - writerWaiting  <=>  `writers` non-empty; readerWaiting <=> `readers` non-empty.
///   - writerWaiting  =>  writerLocked or readers > 0 (someone will hand off).
///   - readerWaiting  =>  writerLocked or writerWaiting.
///   - a waiter that gives up (deadline, context, shutdown) was never granted;
///     if it was the last writer waiting and no writer holds the lock, the
///     readers queued behind it are let in at once.
///
/// Lock rules: `queueLock` guards both queues and every change of the waiting
/// bits; grants (and the decrement of the last reader while a writer waits)
/// happen under it. Outside it only the fast paths CAS the word; with
/// writerWaiting set none of them can succeed except a non-last runlock, and no
/// writer fast path succeeds while any waiting bit is set (a grant in progress
/// may briefly show the lock free). Wakes happen under `queueLock` (they never
/// block).
public final class RWMutex: @unchecked Sendable {
  static let readerMask: UInt64 = 0xFFFF_FFFF
  static let writerLocked: UInt64 = 1 << 32
  static let writerWaiting: UInt64 = 1 << 33
  static let readerWaiting: UInt64 = 1 << 34
  static let maxReaders: UInt64 = 0x7FFF_FFFF

  let state = Atomic<UInt64>(0)
  let queueLock = SpinLock()
  /// Queued readers and writers, FIFO each.
  @exclusivity(unchecked)
  var readers = WaitQueue()
  @exclusivity(unchecked)
  var writers = WaitQueue()

  /// An unlocked reader/writer mutex.
  public init() {}


  // MARK: - Readers

  /// Takes a read lock. nil, or .shutdown when it had to wait during shutdown.
  @inline(__always)
  package func coreReadLock() -> WeftError? {
    if coreTryReadLock() { return nil }
    return rlockSlow(deadline: noDeadline, context: nil)
  }

  /// rlock with a deadline and/or context (.timedOut, .canceled, ...). A free
  /// lock is taken even past the deadline; a done context fails at once.
  package func coreReadLock(deadline: Int64, context: Context? = nil) -> WeftError? {
    if let context, let error = context.error { return error }
    if coreTryReadLock() { return nil }
    return rlockSlow(deadline: deadline, context: context)
  }

  /// Takes a read lock if no writer holds or waits for the lock; never waits.
  @inline(__always)
  package func coreTryReadLock() -> Bool {
    var s = state.load(ordering: .relaxed)
    while s & (RWMutex.writerLocked | RWMutex.writerWaiting) == 0 && s & RWMutex.readerMask < RWMutex.maxReaders {
      let (done, now) = state.compareExchange(expected: s, desired: s + 1, ordering: .acquiring)
      if done { return true }
      s = now
    }
    return false
  }

  /// Releases a read lock. .notOwner when no read lock is held.
  @inline(__always)
  package func coreReadUnlock() -> WeftError? {
    var s = state.load(ordering: .relaxed)
    while true {
      let n = s & RWMutex.readerMask
      if n == 0 { return .notOwner }
      if n == 1 && s & RWMutex.writerWaiting != 0 { return runlockSlow() }
      let (done, now) = state.compareExchange(expected: s, desired: s - 1, ordering: .releasing)
      if done { return nil }
      s = now
    }
  }

  @inline(never)
  private func rlockSlow(deadline: Int64, context: Context?) -> WeftError? {
    ParkerRef.with { parker in
      queueLock.lock()
      var s = state.load(ordering: .relaxed)
      while true {
        if s & (RWMutex.writerLocked | RWMutex.writerWaiting) == 0 {
          if s & RWMutex.readerMask >= RWMutex.maxReaders {
            queueLock.unlock()
            return .outOfRange
          }
          let (done, now) = state.compareExchange(expected: s, desired: s + 1, ordering: .acquiring)
          if done {
            queueLock.unlock()
            return nil
          }
          s = now
          continue
        }
        if deadline != noDeadline && monotonicNow() >= deadline {
          queueLock.unlock()
          return .timedOut
        }
        let (done, now) = state.compareExchange(
          expected: s, desired: s | RWMutex.readerWaiting, ordering: .relaxed)
        if done { break }
        s = now
      }
      return parkQueued(writer: false, parker, deadline: deadline, context: context)
    }
  }

  /// Queues the caller as a reader or a writer and parks (called with queueLock
  /// held and the waiting bit set; returns with it released): nil once the lock
  /// was handed over, else the error after leaving the queue (the last one out
  /// clears the waiting bit).
  private func parkQueued(
    writer: Bool, _ parker: ParkerRef, deadline: Int64, context: Context?
  ) -> WeftError? {
    let outcome = parker.waitQueued(
      lock: queueLock, deadline: deadline, context: context,
      reason: writer ? "rwmutex lock" : "rwmutex rlock",
      enqueue: { w in if writer { writers.enqueue(w) } else { readers.enqueue(w) } },
      leave: { w in
        if writer {
          writers.remove(w)
          if writers.isEmpty {
            // The last writer left: readers queued behind it may go now.
            let s = state.bitwiseAnd(~RWMutex.writerWaiting, ordering: .relaxed).newValue
            if s & RWMutex.writerLocked == 0 { grantReaders() }
          }
        } else {
          readers.remove(w)
          if readers.isEmpty { state.bitwiseAnd(~RWMutex.readerWaiting, ordering: .relaxed) }
        }
      })
    guard case .claimed = outcome else { return outcome.error }
    _ = state.load(ordering: .acquiring)
    return nil
  }

  @inline(never)
  private func runlockSlow() -> WeftError? {
    // The woken may drop the last reference at once: keep self until done here.
    let keep = Unmanaged.passUnretained(self).retain()
    defer { keep.release() }
    queueLock.lock()
    defer { queueLock.unlock() }
    var s = state.load(ordering: .relaxed)
    while true {
      if s & RWMutex.readerMask == 0 { return .notOwner }
      let (done, now) = state.compareExchange(expected: s, desired: s - 1, ordering: .releasing)
      if done { break }
      s = now
    }
    s -= 1
    if s & RWMutex.readerMask == 0 && s & RWMutex.writerWaiting != 0 {
      if !grantWriter() { grantReaders() }
    }
    return nil
  }

  // MARK: - Writers

  /// Takes the write lock. nil, or .shutdown when it had to wait during shutdown.
  @inline(__always)
  package func coreLock() -> WeftError? {
    if state.compareExchange(expected: 0, desired: RWMutex.writerLocked, ordering: .acquiring).exchanged {
      return nil
    }
    return lockSlow(deadline: noDeadline, context: nil)
  }

  /// lock with a deadline and/or context; see rlock(deadline:context:).
  package func coreLock(deadline: Int64, context: Context? = nil) -> WeftError? {
    if let context, let error = context.error { return error }
    if state.compareExchange(expected: 0, desired: RWMutex.writerLocked, ordering: .acquiring).exchanged {
      return nil
    }
    return lockSlow(deadline: deadline, context: context)
  }

  /// Takes the write lock if nobody holds or waits for it. readerWaiting counts
  /// as busy too: inside a grant (unlockSlow between clearing writerLocked and
  /// adding the queued readers) the word reads just `readerWaiting`.
  package func coreTryLock() -> Bool {
    var s = state.load(ordering: .relaxed)
    let busy = RWMutex.readerMask | RWMutex.writerLocked | RWMutex.writerWaiting | RWMutex.readerWaiting
    while s & busy == 0 {
      let (done, now) = state.compareExchange(
        expected: s, desired: s | RWMutex.writerLocked, ordering: .acquiring)
      if done { return true }
      s = now
    }
    return false
  }

  /// Releases the write lock. .notOwner when no writer holds it.
  @inline(__always)
  package func coreUnlock() -> WeftError? {
    if state.compareExchange(expected: RWMutex.writerLocked, desired: 0, ordering: .releasing).exchanged {
      return nil
    }
    return unlockSlow()
  }

  @inline(never)
  private func lockSlow(deadline: Int64, context: Context?) -> WeftError? {
    ParkerRef.with { parker in
      queueLock.lock()
      var s = state.load(ordering: .relaxed)
      while true {
        if s & (RWMutex.readerMask | RWMutex.writerLocked | RWMutex.writerWaiting) == 0 {
          let (done, now) = state.compareExchange(
            expected: s, desired: s | RWMutex.writerLocked, ordering: .acquiring)
          if done {
            queueLock.unlock()
            return nil
          }
          s = now
          continue
        }
        if deadline != noDeadline && monotonicNow() >= deadline {
          queueLock.unlock()
          return .timedOut
        }
        let (done, now) = state.compareExchange(
          expected: s, desired: s | RWMutex.writerWaiting, ordering: .relaxed)
        if done { break }
        s = now
      }
      return parkQueued(writer: true, parker, deadline: deadline, context: context)
    }
  }

  @inline(never)
  private func unlockSlow() -> WeftError? {
    // The woken may drop the last reference at once: keep self until done here.
    let keep = Unmanaged.passUnretained(self).retain()
    defer { keep.release() }
    queueLock.lock()
    defer { queueLock.unlock() }
    let s = state.load(ordering: .relaxed)
    if s & RWMutex.writerLocked == 0 { return .notOwner }
    // Held by a writer: no fast path can change the word now.
    state.store(s & ~RWMutex.writerLocked, ordering: .releasing)
    if grantReaders() > 0 { return nil }
    if s & RWMutex.writerWaiting != 0, !grantWriter() {
      grantReaders()
    }
    return nil
  }

  // MARK: - Grants (under queueLock)

  /// Hands the lock (free: no readers, no writer) to the head writer. False, and
  /// writerWaiting cleared, when no queued writer could be claimed.
  private func grantWriter() -> Bool {
    guard let writer = writers.dequeueClaiming() else {
      state.bitwiseAnd(~RWMutex.writerWaiting, ordering: .relaxed)
      return false
    }
    var s = state.load(ordering: .relaxed)
    while true {
      var desired = s | RWMutex.writerLocked
      if writers.isEmpty { desired &= ~RWMutex.writerWaiting }
      let (done, now) = state.compareExchange(expected: s, desired: desired, ordering: .acquiringAndReleasing)
      if done { break }
      s = now
    }
    writer.pointee.parker.wake()
    return true
  }

  /// Lets every queued reader in (no writer holds the lock). Returns how many.
  @discardableResult
  private func grantReaders() -> Int {
    var granted = 0
    while let reader = readers.dequeueClaiming() {
      state.add(1, ordering: .acquiringAndReleasing)
      reader.pointee.parker.wake()
      granted += 1
    }
    state.bitwiseAnd(~RWMutex.readerWaiting, ordering: .relaxed)
    return granted
  }
}
