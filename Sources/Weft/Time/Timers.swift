import CLibUV
import Glibc
import Synchronization

/// Timers on the workers' libuv loops: deadlines of parked calls, weft_after,
/// tickers, context deadlines.
///
/// A timer belongs to one worker (its `owner`): only that worker's thread touches
/// the uv handle. Other threads start, stop and free it by posting a TimerOp.
/// libuv counts in milliseconds, so a timer that fires before its nanosecond
/// deadline re-arms for the rest: timers never fire early.
///
/// Lifetime: two references, the loop's (dropped once the timer has left the loop:
/// fired or stopped) and the holder's (dropped by `cancel` or `release`); the last
/// one closes the handle on the owner's thread. `state` arbitrates firing against
/// cancelling: a canceller that finds `firing` waits for the callback to finish,
/// so a callback never touches a target that its holder has given up.
public typealias TimerRef = UnsafeMutablePointer<TimerEntry>

public typealias TimerCallback = @convention(c) (UnsafeMutableRawPointer?) -> Void

public struct TimerEntry: ~Copyable {
  static let pending: UInt8 = 0
  static let armed: UInt8 = 1
  static let firing: UInt8 = 2
  static let fired: UInt8 = 3
  static let canceled: UInt8 = 4

  var handle = uv_timer_t()
  let state = Atomic<UInt8>(TimerEntry.pending)
  let refs = Atomic<Int>(2)
  let owner: Unmanaged<Worker>
  var deadline: Int64
  let period: Int64
  let fire: TimerCallback
  let target: UnsafeMutableRawPointer?
  /// Runs on the owner once the timer has left the loop (releases the target).
  let dispose: TimerCallback?
  // Owner-only:
  var initialized = false
  var inLoop = false
  var loopReleased = false

  init(
    owner: Worker, deadline: Int64, period: Int64, fire: TimerCallback,
    target: UnsafeMutableRawPointer?, dispose: TimerCallback?
  ) {
    self.owner = Unmanaged.passUnretained(owner)
    self.deadline = deadline
    self.period = period
    self.fire = fire
    self.target = target
    self.dispose = dispose
  }
}

enum TimerOp {
  case start(TimerRef)
  case stop(TimerRef)
  case close(TimerRef)
}

public enum Timers {
  /// Starts a timer on the calling task's worker (must run on a worker thread).
  static func startLocal(
    deadline: Int64, period: Int64 = 0, fire: TimerCallback, target: UnsafeMutableRawPointer?,
    dispose: TimerCallback? = nil
  ) -> TimerRef {
    let worker = Scheduler.currentWorker()!
    let timer = make(worker, deadline, period, fire, target, dispose)
    arm(timer, on: worker)
    return timer
  }

  /// Starts a timer from any thread: on this worker when called from one, else on
  /// a worker chosen round robin. nil once the runtime is gone.
  public static func start(
    deadline: Int64, period: Int64 = 0, fire: TimerCallback, target: UnsafeMutableRawPointer?,
    dispose: TimerCallback? = nil
  ) -> TimerRef? {
    if Scheduler.currentWorker() != nil {
      return startLocal(deadline: deadline, period: period, fire: fire, target: target, dispose: dispose)
    }
    guard let runtime = Runtime.current() else { return nil }
    let worker = runtime.timerWorker()
    let timer = make(worker, deadline, period, fire, target, dispose)
    worker.postTimerOp(.start(timer))
    return timer
  }

  private static func make(
    _ worker: Worker, _ deadline: Int64, _ period: Int64, _ fire: TimerCallback,
    _ target: UnsafeMutableRawPointer?, _ dispose: TimerCallback?
  ) -> TimerRef {
    let timer = TimerRef.allocate(capacity: 1)
    timer.initialize(
      to: TimerEntry(
        owner: worker, deadline: deadline, period: period, fire: fire, target: target,
        dispose: dispose))
    return timer
  }

  /// Stops the timer if it has not fired and gives up the holder's reference.
  /// Returns true if this call stopped it. After it returns the callback is not
  /// running and will not run.
  @discardableResult
  public static func cancel(_ timer: TimerRef) -> Bool {
    var stopped = false
    while true {
      let state = timer.pointee.state.load(ordering: .acquiring)
      if state == TimerEntry.pending || state == TimerEntry.armed {
        if timer.pointee.state.compareExchange(
          expected: state, desired: TimerEntry.canceled, ordering: .acquiringAndReleasing
        ).exchanged {
          stopped = true
          break
        }
      } else if state == TimerEntry.firing {
        sched_yield()
      } else {
        break
      }
    }
    let owner = timer.pointee.owner.takeUnretainedValue()
    if stopped {
      if Scheduler.currentWorker() !== owner {
        // The posted op still points at the timer: it drops the holder's
        // reference itself, after stopping (dropping it here let the owner free
        // the entry before the op ran).
        owner.postTimerOp(.stop(timer))
        return true
      }
      stopOnOwner(timer)
    }
    dropReference(timer)
    return stopped
  }

  /// Gives up the holder's reference without stopping the timer.
  public static func release(_ timer: TimerRef) { dropReference(timer) }

  /// True while the timer may still fire.
  public static func isActive(_ timer: TimerRef) -> Bool {
    let state = timer.pointee.state.load(ordering: .acquiring)
    return state == TimerEntry.pending || state == TimerEntry.armed || state == TimerEntry.firing
  }

  static func perform(_ op: TimerOp, on worker: Worker) {
    switch op {
    case .start(let timer): arm(timer, on: worker)
    case .stop(let timer):
      stopOnOwner(timer)
      dropReference(timer)  // the canceller's, handed over with the op
    case .close(let timer): close(timer)
    }
  }

  /// Owner only. Puts the timer in the loop (first time: pending -> armed); a
  /// timer canceled before that leaves at once.
  private static func arm(_ timer: TimerRef, on worker: Worker) {
    if !timer.pointee.initialized {
      uv_timer_init(worker.loop, &timer.pointee.handle)
      timer.pointee.handle.data = UnsafeMutableRawPointer(timer)
      timer.pointee.initialized = true
    }
    let state = timer.pointee.state.load(ordering: .acquiring)
    let live =
      state == TimerEntry.armed
      || (state == TimerEntry.pending
        && timer.pointee.state.compareExchange(
          expected: TimerEntry.pending, desired: TimerEntry.armed, ordering: .acquiringAndReleasing
        ).exchanged)
    guard live else {
      leaveLoop(timer)
      return
    }
    if !timer.pointee.inLoop {
      timer.pointee.inLoop = true
      worker.timersActive.add(1, ordering: .relaxed)
    }
    uv_update_time(worker.loop)
    let remaining = max(0, timer.pointee.deadline &- monotonicNow())
    let ms = UInt64((remaining + 999_999) / 1_000_000)
    uv_timer_start(&timer.pointee.handle, timerFired, ms, 0)
  }

  private static let timerFired: uv_timer_cb = { handle in
    let timer = handle!.pointee.data.assumingMemoryBound(to: TimerEntry.self)
    let worker = timer.pointee.owner.takeUnretainedValue()
    if monotonicNow() < timer.pointee.deadline, timer.pointee.state.load(ordering: .acquiring) == TimerEntry.armed {
      arm(timer, on: worker)  // libuv's millisecond clock fired early
      return
    }
    guard
      timer.pointee.state.compareExchange(
        expected: TimerEntry.armed, desired: TimerEntry.firing, ordering: .acquiringAndReleasing
      ).exchanged
    else {
      leaveLoop(timer)  // canceled meanwhile
      return
    }
    timer.pointee.fire(timer.pointee.target)
    // The callback may have made a task runnable. libuv 1.44 runs due timers
    // BEFORE it polls, so uv_run(UV_RUN_ONCE) in Worker.idle would go on to
    // block in epoll (timeout -1 with no other timer) with that task queued:
    // uv_stop makes this uv_run's poll non-blocking and return.
    uv_stop(worker.loop)
    let period = timer.pointee.period
    if period > 0 {
      let now = monotonicNow()
      var next = timer.pointee.deadline &+ period
      if next <= now { next = now &+ period }  // missed ticks are dropped
      timer.pointee.deadline = next
      timer.pointee.state.store(TimerEntry.armed, ordering: .releasing)
      arm(timer, on: worker)
    } else {
      timer.pointee.state.store(TimerEntry.fired, ordering: .releasing)
      leaveLoop(timer)
    }
  }

  /// Owner only.
  private static func stopOnOwner(_ timer: TimerRef) {
    if timer.pointee.inLoop { uv_timer_stop(&timer.pointee.handle) }
    leaveLoop(timer)
  }

  /// Owner only: the timer will not fire again; drop the loop's reference once.
  private static func leaveLoop(_ timer: TimerRef) {
    let worker = timer.pointee.owner.takeUnretainedValue()
    if timer.pointee.inLoop {
      timer.pointee.inLoop = false
      worker.timersActive.subtract(1, ordering: .relaxed)
    }
    guard !timer.pointee.loopReleased else { return }
    timer.pointee.loopReleased = true
    timer.pointee.dispose?(timer.pointee.target)
    dropReference(timer)
  }

  private static func dropReference(_ timer: TimerRef) {
    guard timer.pointee.refs.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
    let owner = timer.pointee.owner.takeUnretainedValue()
    if Scheduler.currentWorker() === owner { close(timer) } else { owner.postTimerOp(.close(timer)) }
  }

  /// Owner only: frees the entry once libuv has let go of the handle.
  private static func close(_ timer: TimerRef) {
    guard timer.pointee.initialized else {
      timer.deinitialize(count: 1)
      timer.deallocate()
      return
    }
    uv_close(UnsafeMutableRawPointer(&timer.pointee.handle).assumingMemoryBound(to: uv_handle_t.self)) {
      handle in
      let timer = handle!.pointee.data.assumingMemoryBound(to: TimerEntry.self)
      timer.deinitialize(count: 1)
      timer.deallocate()
    }
  }
}
