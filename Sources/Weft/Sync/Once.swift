import Glibc
import Synchronization

/// Runs a function exactly once (Go's sync.Once), task-aware: callers that come
/// while the first call runs park (task) or block (thread) until it returned.
///
/// `state`: 0 not started -> 1 running -> 2 done; never goes back.
/// Fast path: one acquiring load of `state` == done.
///
/// Invariants: exactly one caller moves 0 -> running (under `queueLock`) and calls
/// fn, outside every lock; it alone moves running -> done (release: fn's effects
/// are visible to whoever sees done) and wakes `queue`. `queue` is empty once
/// done. `runner` identifies the calling task or thread while running, so a
/// recursive call from inside fn fails with .deadlock instead of waiting forever.
///
/// Lock rules: `queueLock` guards `queue`, `runner` and the transitions of
/// `state`; fn never runs under it; wakes happen under it.
public final class Once: @unchecked Sendable {
  static let notStarted: UInt32 = 0
  static let running: UInt32 = 1
  static let done: UInt32 = 2

  let state = Atomic<UInt32>(Once.notStarted)
  let queueLock = SpinLock()
  /// Callers waiting for the running call.
  @exclusivity(unchecked)
  var queue = WaitQueue()
  /// The task record or pthread_t of the caller running fn (while running).
  @exclusivity(unchecked)
  var runner: UInt = 0

  /// A Once that has not run.
  public init() {}


  /// True once a run completed.
  public var isDone: Bool { state.load(ordering: .acquiring) == Once.done }

  static func callerIdentity() -> UInt {
    if let task = Scheduler.currentTask() { return UInt(bitPattern: task) }
    return UInt(pthread_self())
  }

  /// Calls fn(arg) if no call did yet, else waits until the first call returned.
  /// nil once fn has returned (here or elsewhere); .deadlock for a call from
  /// inside fn; .timedOut / .canceled / .shutdown when the wait ends first (fn
  /// keeps running in its caller). A done context fails at once unless fn
  /// already returned.
  @inline(__always)
  package func coreRun(
    _ fn: @convention(c) (UnsafeMutableRawPointer?) -> Void, _ arg: UnsafeMutableRawPointer?,
    deadline: Int64 = noDeadline, context: Context? = nil
  ) -> WeftError? {
    if state.load(ordering: .acquiring) == Once.done { return nil }
    return runSlow(deadline: deadline, context: context) { fn(arg) }
  }

  /// The same for a Swift closure.
  package func coreRun(deadline: Int64 = noDeadline, context: Context? = nil, _ body: () -> Void) -> WeftError? {
    if state.load(ordering: .acquiring) == Once.done { return nil }
    return runSlow(deadline: deadline, context: context, body)
  }

  @inline(never)
  private func runSlow(deadline: Int64, context: Context?, _ body: () -> Void) -> WeftError? {
    // The woken may drop the last reference at once: keep self until done here.
    let keep = Unmanaged.passUnretained(self).retain()
    defer { keep.release() }
    if let context, let error = context.error { return error }
    let me = Once.callerIdentity()
    return ParkerRef.with { parker in
      queueLock.lock()
      switch state.load(ordering: .acquiring) {
      case Once.done:
        queueLock.unlock()
        return nil
      case Once.notStarted:
        state.store(Once.running, ordering: .relaxed)
        runner = me
        queueLock.unlock()
        body()
        queueLock.lock()
        runner = 0
        state.store(Once.done, ordering: .releasing)
        while let waiter = queue.dequeueClaiming() { waiter.pointee.parker.wake() }
        queueLock.unlock()
        return nil
      default:
        break
      }
      if runner == me {
        queueLock.unlock()
        return .deadlock
      }
      if deadline != noDeadline && monotonicNow() >= deadline {
        queueLock.unlock()
        return .timedOut
      }
      let outcome = parker.waitQueued(
        lock: queueLock, deadline: deadline, context: context, reason: "once",
        enqueue: { queue.enqueue($0) }, leave: { queue.remove($0) })
      guard case .claimed = outcome else { return outcome.error }
      _ = state.load(ordering: .acquiring)
      return nil
    }
  }
}
