import CLibUV
import Glibc
import Synchronization

/// Timers on the workers' libuv loops: deadlines of parked calls, weft_after,
/// tickers, context deadlines.
///
/// Each worker keeps its timers in a binary heap (TimerHeap) and one libuv timer
/// armed for the earliest: a pending timer costs a small entry, not a uv handle
/// (100,000 parked deadlines are cheap). A timer belongs to one worker (its
/// `owner`): only that worker's thread touches its heap. Other threads start and
/// stop timers by posting a TimerOp. libuv counts in milliseconds and timers are
/// checked against the nanosecond clock when it fires: timers never fire early.
///
/// Lifetime: two references, the loop's (dropped once the timer has left the
/// heap: fired or stopped) and the holder's (dropped by `cancel` or `release`);
/// the last one frees the entry. `state` arbitrates firing against cancelling: a
/// canceller that finds `firing` waits for the callback to finish, so a callback
/// never touches a target that its holder has given up.
public typealias TimerRef = UnsafeMutablePointer<TimerEntry>

public typealias TimerCallback = @convention(c) (UnsafeMutableRawPointer?) -> Void

public struct TimerEntry: ~Copyable {
  static let pending: UInt8 = 0
  static let armed: UInt8 = 1
  static let firing: UInt8 = 2
  static let fired: UInt8 = 3
  static let canceled: UInt8 = 4

  // The small fields first, sharing a word: an entry is per pending timer.
  let state = Atomic<UInt8>(TimerEntry.pending)
  let refs = Atomic<UInt8>(2)
  // Owner-only:
  var loopReleased = false
  var heapIndex: Int32 = -1  // position in the owner's heap, -1 when not in it
  let owner: Unmanaged<Worker>
  var deadline: Int64
  let period: Int64
  let fire: TimerCallback
  let target: UnsafeMutableRawPointer?
  /// Runs on the owner once the timer has left the loop (releases the target).
  let dispose: TimerCallback?

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
    }
  }

  /// Owner only. Puts the timer in the heap (first time: pending -> armed); a
  /// timer canceled before that leaves at once.
  private static func arm(_ timer: TimerRef, on worker: Worker) {
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
    worker.timerHeap.insert(timer)
    worker.timersActive.store(worker.timerHeap.count, ordering: .relaxed)
    if worker.timerHeap.min == timer { schedule(worker) }
  }

  /// Owner only: arms the worker's libuv timer for the earliest deadline.
  static func schedule(_ worker: Worker) {
    guard let first = worker.timerHeap.min else {
      uv_timer_stop(worker.heapTimer)
      worker.heapTimerDeadline = noDeadline
      return
    }
    let deadline = first.pointee.deadline
    if deadline == worker.heapTimerDeadline { return }
    worker.heapTimerDeadline = deadline
    uv_update_time(worker.loop)
    uv_timer_start(worker.heapTimer, heapFired, remainingMs(until: deadline), 0)
  }

  /// The worker's libuv timer: runs every due timer, then re-arms for the next.
  static let heapFired: uv_timer_cb = { handle in
    let worker = Unmanaged<Worker>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
    worker.heapTimerDeadline = noDeadline
    // The callbacks may have made tasks runnable. libuv 1.44's UV_RUN_ONCE runs
    // due timers BEFORE it polls, with the poll timeout computed afterwards (-1
    // when no timer is left): without this an idle worker would run them and
    // then sleep in epoll with the woken tasks on its queue. uv_stop makes that
    // poll non-blocking; uv_run clears the flag on return.
    if runDue(worker) { uv_stop(worker.loop) }
    schedule(worker)
  }

  /// Owner only: fires every timer whose deadline passed; true if any did. The
  /// worker also calls this between tasks, so a busy worker does not wait for
  /// its next libuv poll to serve deadlines.
  @discardableResult
  static func runDue(_ worker: Worker) -> Bool {
    var now = monotonicNow()
    var ran = false
    worker.firingTimers = true
    defer { worker.firingTimers = false }
    while let timer = worker.timerHeap.min {
      if timer.pointee.deadline > now {
        now = monotonicNow()  // callbacks take time: look again before stopping
        if timer.pointee.deadline > now { break }
      }
      worker.timerHeap.remove(timer)
      fireDue(timer, on: worker, now: now)
      ran = true
    }
    if ran { worker.timersActive.store(worker.timerHeap.count, ordering: .relaxed) }
    return ran
  }

  /// Owner only: a due timer, already out of the heap.
  private static func fireDue(_ timer: TimerRef, on worker: Worker, now: Int64) {
    guard
      timer.pointee.state.compareExchange(
        expected: TimerEntry.armed, desired: TimerEntry.firing, ordering: .acquiringAndReleasing
      ).exchanged
    else {
      leaveLoop(timer)  // canceled meanwhile
      return
    }
    timer.pointee.fire(timer.pointee.target)
    let period = timer.pointee.period
    if period > 0 {
      var next = saturatingAdd(timer.pointee.deadline, period)
      if next <= now { next = saturatingAdd(now, period) }  // missed ticks are dropped
      timer.pointee.deadline = next
      timer.pointee.state.store(TimerEntry.armed, ordering: .releasing)
      worker.timerHeap.insert(timer)
    } else {
      timer.pointee.state.store(TimerEntry.fired, ordering: .releasing)
      leaveLoop(timer)
    }
  }

  /// Owner only.
  private static func stopOnOwner(_ timer: TimerRef) {
    let worker = timer.pointee.owner.takeUnretainedValue()
    if timer.pointee.heapIndex >= 0 {
      worker.timerHeap.remove(timer)  // the uv timer may fire early: harmless
      worker.timersActive.store(worker.timerHeap.count, ordering: .relaxed)
    }
    leaveLoop(timer)
  }

  /// Owner only: the timer will not fire again; drop the loop's reference once.
  private static func leaveLoop(_ timer: TimerRef) {
    guard !timer.pointee.loopReleased else { return }
    timer.pointee.loopReleased = true
    timer.pointee.dispose?(timer.pointee.target)
    dropReference(timer)
  }

  /// The last reference frees the entry, on any thread: it is out of every heap.
  private static func dropReference(_ timer: TimerRef) {
    guard timer.pointee.refs.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
    timer.deinitialize(count: 1)
    timer.deallocate()
  }
}

/// A 4-ary min-heap of timers by deadline (Go's timer heap shape): the
/// deadlines sit in the heap's own array, so sifting reads no entry, and each
/// entry knows its index, so a stopped timer leaves in O(log n). Owner-only.
struct TimerHeap {
  private var items: [(deadline: Int64, timer: TimerRef)] = []

  var count: Int { items.count }
  var min: TimerRef? { items.first?.timer }

  mutating func insert(_ timer: TimerRef) {
    items.append((timer.pointee.deadline, timer))
    siftUp(items.count - 1)
  }

  mutating func remove(_ timer: TimerRef) {
    let index = Int(timer.pointee.heapIndex)
    guard index >= 0 else { return }
    timer.pointee.heapIndex = -1
    let last = items.removeLast()
    guard index < items.count else { return }
    items[index] = last
    siftDown(index)
    siftUp(Int(last.timer.pointee.heapIndex))
  }

  private mutating func siftUp(_ start: Int) {
    var child = start
    let moving = items[child]
    while child > 0 {
      let parent = (child - 1) / 4
      guard moving.deadline < items[parent].deadline else { break }
      place(items[parent], at: child)
      child = parent
    }
    place(moving, at: child)
  }

  private mutating func siftDown(_ start: Int) {
    var parent = start
    let moving = items[parent]
    let n = items.count
    while true {
      let first = 4 * parent + 1
      if first >= n { break }
      var smallest = first
      var i = first + 1
      while i < Swift.min(first + 4, n) {
        if items[i].deadline < items[smallest].deadline { smallest = i }
        i += 1
      }
      guard items[smallest].deadline < moving.deadline else { break }
      place(items[smallest], at: parent)
      parent = smallest
    }
    place(moving, at: parent)
  }

  @inline(__always)
  private mutating func place(_ item: (deadline: Int64, timer: TimerRef), at index: Int) {
    items[index] = item
    item.timer.pointee.heapIndex = Int32(index)
  }
}
