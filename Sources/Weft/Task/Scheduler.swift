import CWeftCoro
import Glibc
import Synchronization

/// What a task (or the code it calls) asks of the scheduler. Every function reads
/// the current worker afresh from the thread-local slot: after a park the task
/// may be running on another worker's thread.
public enum Scheduler {
  @inline(__always)
  static func currentWorker() -> Worker? {
    guard let raw = cweft_tls_get() else { return nil }
    return Unmanaged<Worker>.fromOpaque(raw).takeUnretainedValue()
  }

  /// body(current worker) without reference counting: hot paths use this. nil on
  /// a plain thread. body must not use the worker after a switch.
  @inline(__always)
  static func withCurrentWorker<R>(_ body: (Worker) -> R) -> R? {
    guard let raw = cweft_tls_get() else { return nil }
    return Unmanaged<Worker>.fromOpaque(raw)._withUnsafeGuaranteedRef(body)
  }

  @inline(__always)
  package static func currentTask() -> TaskRef? { withCurrentWorker { $0.current } ?? nil }

  /// True when called on a Weft task (not a plain thread).
  public static var inTask: Bool { currentTask() != nil }

  /// The running task's id (as in dumps), 0 on a plain thread.
  public static var currentTaskId: UInt64 { currentTask()?.pointee.id ?? 0 }

  /// Switches to the worker; the task's state must already be `parking`.
  static func parkCurrent(_ task: TaskRef, reason: StaticString) {
    weftAssert(task.pointee.state.load(ordering: .relaxed) != TaskRecord.running && task.pointee.state.load(ordering: .relaxed) != TaskRecord.parked, "a task parks without prepare()")
    task.pointee.waitReason = reason.utf8Start
    // A wake-up may already have come (state notified): skip the round trip.
    if task.pointee.state.load(ordering: .relaxed) == TaskRecord.notified,
      task.pointee.state.compareExchange(
        expected: TaskRecord.notified, desired: TaskRecord.running, ordering: .acquiring
      ).exchanged
    {
      task.pointee.waitReason = nil
      return
    }
    switchAway(task, .park)
    task.pointee.waitReason = nil
  }

  /// Parks or yields the running task and comes back here once it runs again,
  /// maybe on another worker.
  @inline(__always)
  private static func switchAway(_ task: TaskRef, _ action: Worker.PostSwitch) {
    if ParkGuard.open.load(ordering: .relaxed) != 0 { ParkGuard.check(task) }
    switchedOut(task)
    _ = withCurrentWorker { $0.switchAway(from: task, action) }
    _ = withCurrentWorker { $0.finishSwitch() }
    switchedIn(task)
  }

  /// Dynamic exclusivity: the Swift runtime keeps the open accesses (`modify`
  /// of a class property, a global, an escaping closure's capture) in a
  /// per-thread list whose records live on the task's stack. A task takes its
  /// own off the thread before every switch and puts them back on the thread it
  /// resumes on, as Swift Concurrency does for its tasks: an access held across a
  /// park ends where it is, overlapping accesses within the task are still
  /// caught, and clients need no -enforce-exclusivity flag.
  @inline(__always)
  static func switchedOut(_ task: TaskRef) {
    withUnsafeMutableBytes(of: &task.pointee.accesses) {
      swift_task_exitThreadLocalContext($0.baseAddress!.assumingMemoryBound(to: CChar.self))
    }
  }

  @inline(__always)
  static func switchedIn(_ task: TaskRef) {
    withUnsafeMutableBytes(of: &task.pointee.accesses) {
      swift_task_enterThreadLocalContext($0.baseAddress!.assumingMemoryBound(to: CChar.self))
    }
  }

  /// Makes a parked (or parking) task runnable again. Only a parker's claimer
  /// calls this, once per park. spread: to the global queue when this worker
  /// already has a task to run next and another worker is idle (the loop's I/O
  /// wake-ups, so that one busy loop's connections spread over the workers).
  static func unpark(_ task: TaskRef, spread: Bool = false) {
    while true {
      let state = task.pointee.state.load(ordering: .sequentiallyConsistent)
      if state == TaskRecord.parking {
        if task.pointee.state.compareExchange(
          expected: TaskRecord.parking, desired: TaskRecord.notified,
          ordering: .sequentiallyConsistent
        ).exchanged { return }
      } else if state == TaskRecord.parked {
        if task.pointee.state.compareExchange(
          expected: TaskRecord.parked, desired: TaskRecord.running,
          ordering: .sequentiallyConsistent
        ).exchanged {
          ready(task, spread: spread)
          return
        }
      } else {
        return  // running or already notified: nothing to do
      }
    }
  }

  /// Queues a runnable task: on this worker's runnext when called from a worker,
  /// else on the global queue with a wake-up.
  static func ready(_ task: TaskRef, spread: Bool = false) {
    let onWorker: Void? = withCurrentWorker { worker in
      Worker.bump(worker.unparks)
      if worker.firingTimers {
        worker.pushDue(task)
      } else if spread, worker.hasRunnext, worker.withRuntime({ $0.hasIdleWorker }) {
        worker.withRuntime { $0.inject(task) }
      } else {
        worker.pushRunnext(task)
      }
    }
    if onWorker == nil, let runtime = Runtime.shared {
      runtime.foreignUnparks.add(1, ordering: .relaxed)
      runtime.inject(task)
    }
  }

  /// weft_yield: to the back of the local queue. On a plain thread: sched_yield.
  public static func yield() {
    let task = withCurrentWorker { $0.current } ?? nil
    guard let task else {
      sched_yield()
      return
    }
    switchAway(task, .yield)
  }

  /// Yields if the monitor asked this worker's task to (it ran for 8 ms without
  /// switching, Runtime/Monitor.swift): a task that keeps calling into the
  /// runtime (a spawning loop, a mutex taken and released in a loop) lets the
  /// others run on its own worker instead of being handed a spare thread.
  /// Called where a task may run long without parking: spawning, Mutex.unlock.
  @usableFromInline @inline(__always)
  package static func preemptPoint() {
    if preemptPending.load(ordering: .relaxed) { preemptSlow() }
  }

  /// Set by the monitor while some worker has a preemption request (one load
  /// on the fast paths, no thread-local lookup).
  static let preemptPending = Atomic<Bool>(false)

  @inline(never)
  static func preemptSlow() {
    if withCurrentWorker({ $0.current != nil && $0.preemptRequested }) == true { yield() }
  }

  /// The end of every task (called by the trampoline on the task's stack).
  static func exitCurrent() -> Never {
    if let task = currentTask() { switchedOut(task) }
    _ = withCurrentWorker { $0.switchAway(from: $0.current!, .exit) }
    fatalError("weft: a finished task was resumed")
  }

  /// Sleeps until the deadline, parking the task or blocking the thread.
  @available(*, noasync, message: "blocks the thread: use the async form in async code")
  package static func coreSleep(until deadline: Int64) -> WeftError? {
    if deadline <= monotonicNow() { return nil }
    return ParkerRef.with { parker in
      parker.prepare()
      let claim = parker.park(deadline: deadline, reason: "sleep")
      return claim == Parker.shutdown ? .shutdown : nil
    }
  }
}
