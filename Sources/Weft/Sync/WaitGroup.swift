import Glibc
import Synchronization

/// A task-aware WaitGroup (Go's sync.WaitGroup, with Go 1.25's `Go`).
///
/// State word (`state`, one 64-bit atomic, as Go packs it):
///   high 32 bits  the counter (never negative),
///   low 32 bits   the number of queued waiters.
///
/// Fast paths: add/done is one CAS on `state` when the counter does not reach
/// zero or nobody waits; wait is one load when the counter is already zero.
///
/// Invariants (outside `queueLock`):
///   - the waiter count equals the number of waiters in `queue` (a waiter counts
///     itself and enqueues in one `queueLock` section; a waker resets the count and
///     drains the queue in one `queueLock` section; a waiter that gives up
///     uncounts itself only if it is still queued).
///   - a waiter in `queue` belongs to the current generation: the counter has not
///     reached zero since it enqueued. So reuse (add after wait returned, even
///     while old waiters are still waking) never wakes a new waiter early.
///   - add never makes the counter negative or overflow Int32: .outOfRange,
///     state unchanged.
///
/// Lock rules: `queueLock` guards `queue`; the waiter count changes only under
/// it. The counter changes by CAS, under `queueLock` only for the transition to
/// zero while waiters are counted. Wakes happen under `queueLock` (they never
/// block), so a drained waiter's stack stays valid until its wake.
public final class WaitGroup: @unchecked Sendable {
  /// counter << 32 | waiters; see the type's comment.
  let state = Atomic<UInt64>(0)
  /// Guards `queue` and the waiter half of `state`.
  let queueLock = SpinLock()
  /// Parked waiters of the current generation.
  @exclusivity(unchecked)
  var queue = WaitQueue()

  /// A WaitGroup with a zero counter.
  public init() {}


  @inline(__always)
  static func counter(_ s: UInt64) -> Int64 { Int64(Int32(truncatingIfNeeded: s >> 32)) }
  @inline(__always)
  static func waiters(_ s: UInt64) -> UInt64 { s & 0xFFFF_FFFF }

  /// The counter now (a snapshot).
  package var coreCount: Int64 { WaitGroup.counter(state.load(ordering: .acquiring)) }

  /// Adds delta (may be negative). .outOfRange, and no change, when the counter
  /// would go below zero or above Int32.max. Reaching zero wakes every waiter.
  @inline(__always)
  @usableFromInline
  package func coreAdd(_ delta: Int64) -> WeftError? {
    var s = state.load(ordering: .relaxed)
    while true {
      let c = WaitGroup.counter(s) &+ delta
      guard delta >= -Int64(UInt32.max), delta <= Int64(UInt32.max), c >= 0, c <= Int64(Int32.max) else {
        return .outOfRange
      }
      let w = WaitGroup.waiters(s)
      if c == 0 && w != 0 { return addReachingZero(delta) }
      let (done, now) = state.compareExchange(
        expected: s, desired: UInt64(c) << 32 | w, ordering: .acquiringAndReleasing)
      if done { return nil }
      s = now
    }
  }

  /// add(-1): .outOfRange when the counter is already zero.
  @inline(__always)
  package func coreDone() -> WeftError? { coreAdd(-1) }

  /// The counter reaches zero with waiters counted: reset the word and wake the
  /// whole generation, all under queueLock so no waiter counts in between.
  @inline(never)
  private func addReachingZero(_ delta: Int64) -> WeftError? {
    // The woken may drop the last reference at once: keep self until done here.
    let keep = Unmanaged.passUnretained(self).retain()
    defer { keep.release() }
    queueLock.lock()
    var s = state.load(ordering: .relaxed)
    while true {
      let c = WaitGroup.counter(s) &+ delta
      if c < 0 || c > Int64(Int32.max) {
        queueLock.unlock()
        return .outOfRange
      }
      let desired = c == 0 ? 0 : UInt64(c) << 32 | WaitGroup.waiters(s)
      let (done, now) = state.compareExchange(expected: s, desired: desired, ordering: .acquiringAndReleasing)
      if done {
        if c == 0 {
          while let waiter = queue.dequeueClaiming() { waiter.pointee.parker.wake() }
        }
        queueLock.unlock()
        return nil
      }
      s = now
    }
  }

  /// Waits until the counter is zero. .timedOut / .canceled (the context's error)
  /// / .shutdown when the wait ends first. A zero counter returns at once, even
  /// with a done context.
  @available(*, noasync, message: "blocks the thread: use the async form in async code")
  package func coreWait(deadline: Int64 = noDeadline, context: Context? = nil) -> WeftError? {
    if WaitGroup.counter(state.load(ordering: .acquiring)) == 0 { return nil }
    if let context, let error = context.error { return error }
    return ParkerRef.with { parker in
      queueLock.lock()
      var s = state.load(ordering: .acquiring)
      while true {
        if WaitGroup.counter(s) == 0 {
          queueLock.unlock()
          return nil
        }
        if deadline != noDeadline && monotonicNow() >= deadline {
          queueLock.unlock()
          return .timedOut
        }
        let (done, now) = state.compareExchange(expected: s, desired: s &+ 1, ordering: .acquiring)
        if done { break }
        s = now
      }
      let outcome = parker.waitQueued(
        lock: queueLock, deadline: deadline, context: context, reason: "waitgroup wait",
        enqueue: { queue.enqueue($0) },
        leave: { w in
          // Still counted only while still queued (a waker drains and uncounts).
          guard w.pointee.queued else { return }
          queue.remove(w)
          state.subtract(1, ordering: .relaxed)
        })
      guard case .claimed = outcome else { return outcome.error }
      // The waker's CAS (acquiringAndReleasing) happened before its claim.
      _ = state.load(ordering: .acquiring)
      return nil
    }
  }

  /// add(1), then spawns fn(arg) in a task that calls done() when fn returns
  /// (Go 1.25's wg.Go). The task keeps the WaitGroup alive until its done().
  package func go(_ fn: @escaping @convention(c) (UnsafeMutableRawPointer?) -> Void, _ arg: UnsafeMutableRawPointer?)
    -> WeftError?
  {
    if let error = coreAdd(1) { return error }
    let box = UnsafeMutablePointer<GoBox>.allocate(capacity: 1)
    box.initialize(to: GoBox(fn: fn, arg: arg, group: Unmanaged.passRetained(self)))
    if let error = Runtime.spawn(goTrampoline, UnsafeMutableRawPointer(box)) {
      box.pointee.group.release()
      box.deinitialize(count: 1)
      box.deallocate()
      _ = coreAdd(-1)
      return error
    }
    return nil
  }
}

/// What a wg.go task needs: the body and its WaitGroup (retained).
struct GoBox {
  let fn: @convention(c) (UnsafeMutableRawPointer?) -> Void
  let arg: UnsafeMutableRawPointer?
  let group: Unmanaged<WaitGroup>
}

private let goTrampoline: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
  let box = raw!.assumingMemoryBound(to: GoBox.self)
  let fn = box.pointee.fn
  let arg = box.pointee.arg
  let group = box.pointee.group
  box.deinitialize(count: 1)
  box.deallocate()
  fn(arg)
  _ = group._withUnsafeGuaranteedRef { $0.coreDone() }
  group.release()
}
