import CLibUV
import Glibc
import Synchronization

/// Timers on the workers' libuv loops: deadlines of parked calls, weft_after,
/// tickers, context deadlines.
///
/// Each worker keeps its timers in a binary heap (TimerHeap) and one libuv timer
/// armed for the earliest: a pending timer costs a small entry, not a uv handle
/// (100,000 parked deadlines are cheap). A timer belongs to one worker (its
/// `owner`), whose heap is guarded by `owner.timerLock` (uncontended in the
/// normal case): the owner's thread arms its libuv timer and serves the heap;
/// other threads start and stop timers by posting a TimerOp. When the owner is
/// stuck in one task (Runtime/Monitor.swift), the monitor serves its heap and its
/// posted ops instead (`owner: false`: the heap only, never the owner's libuv
/// loop), so no timer is reachable through one thread only. Callbacks run with
/// no lock held. libuv counts in milliseconds and timers are checked against the
/// nanosecond clock when it fires: timers never fire early.
///
/// Lifetime: two references, the loop's (dropped once the timer has left the
/// heap: fired or stopped) and the holder's (dropped by `cancel` or `release`);
/// the last one frees the entry. `state` arbitrates firing against cancelling: a
/// canceller that finds `firing` waits for the callback to finish, so a callback
/// never touches a target that its holder has given up.
package typealias TimerRef = UnsafeMutablePointer<TimerEntry>

package typealias TimerCallback = @convention(c) (UnsafeMutableRawPointer?) -> Void

package struct TimerEntry: ~Copyable {
  static let pending: UInt8 = 0
  static let armed: UInt8 = 1
  static let firing: UInt8 = 2
  static let fired: UInt8 = 3
  static let canceled: UInt8 = 4

  // The small fields first, sharing a word: an entry is per pending timer.
  let state = Atomic<UInt8>(TimerEntry.pending)
  let refs = Atomic<UInt8>(2)
  // Under the owner's timerLock:
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

package enum Timers {
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
  package static func start(
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
  package static func cancel(_ timer: TimerRef) -> Bool {
    var stopped = false
    var posted = false
    while true {
      let state = timer.pointee.state.load(ordering: .acquiring)
      if state == TimerEntry.pending || state == TimerEntry.armed {
        if timer.pointee.state.compareExchange(
          expected: state, desired: TimerEntry.canceled, ordering: .acquiringAndReleasing
        ).exchanged {
          stopped = true
          // pending: started from another thread, its start op still queued
          // on the owner (it points at the entry).
          posted = state == TimerEntry.pending
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
      // Off the owner, or a start op still queued: stop through the op queue,
      // after the start op (stopping here freed the entry while the queued
      // start op still pointed at it: heap corruption, issue 13).
      if posted || Scheduler.currentWorker() !== owner {
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
  package static func release(_ timer: TimerRef) { dropReference(timer) }

  /// True while the timer may still fire.
  package static func isActive(_ timer: TimerRef) -> Bool {
    let state = timer.pointee.state.load(ordering: .acquiring)
    return state == TimerEntry.pending || state == TimerEntry.armed || state == TimerEntry.firing
  }

  /// A posted op; `owner` false when the monitor serves a stuck worker.
  static func perform(_ op: TimerOp, on worker: Worker, owner: Bool = true) {
    switch op {
    case .start(let timer): arm(timer, on: worker, owner: owner)
    case .stop(let timer):
      stopOnOwner(timer)
      dropReference(timer)  // the canceller's, handed over with the op
    }
  }

  /// Puts the timer in the heap (first time: pending -> armed); a timer canceled
  /// before that leaves at once. Arms the libuv timer when `owner`.
  private static func arm(_ timer: TimerRef, on worker: Worker, owner: Bool = true) {
    weftAssert(!owner || (Scheduler.currentWorker() === worker && timer.pointee.owner.takeUnretainedValue() === worker), "a timer armed off its owner's thread")
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
    worker.timerLock.lock()
    worker.timerHeap.insert(timer)
    let first = worker.timerHeap.min == timer
    noteHeapChanged(worker)
    worker.timerLock.unlock()
    if first && owner { schedule(worker) }
  }

  /// Under worker.timerLock: publishes the heap's size and earliest deadline.
  @inline(__always)
  private static func noteHeapChanged(_ worker: Worker) {
    worker.timersActive.store(worker.timerHeap.count, ordering: .relaxed)
    worker.earliestTimer.store(worker.timerHeap.min?.pointee.deadline ?? noDeadline, ordering: .relaxed)
  }

  /// Owner only: arms the worker's libuv timer for the earliest deadline.
  static func schedule(_ worker: Worker) {
    worker.timerLock.lock()
    let earliest = worker.timerHeap.min?.pointee.deadline
    worker.timerLock.unlock()
    guard let deadline = earliest else {
      uv_timer_stop(worker.heapTimer)
      worker.heapTimerDeadline = noDeadline
      return
    }
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

  /// Fires every timer of worker's heap whose deadline passed; true if any did.
  /// The owner also calls this between tasks, so a busy worker does not wait for
  /// its next libuv poll to serve deadlines; the monitor calls it (`owner`
  /// false) for a worker stuck in a task, and the tasks the callbacks wake go to
  /// the global queue.
  @discardableResult
  static func runDue(_ worker: Worker, owner: Bool = true) -> Bool {
    weftAssert(!owner || Scheduler.currentWorker() === worker, "timers run off their owner's thread")
    var now = monotonicNow()
    var ran = false
    if owner { worker.firingTimers = true }
    defer { if owner { worker.firingTimers = false } }
    while true {
      worker.timerLock.lock()
      guard let timer = worker.timerHeap.min else {
        worker.timerLock.unlock()
        break
      }
      if timer.pointee.deadline > now {
        now = monotonicNow()  // callbacks take time: look again before stopping
        if timer.pointee.deadline > now {
          worker.timerLock.unlock()
          break
        }
      }
      worker.timerHeap.remove(timer)
      noteHeapChanged(worker)
      worker.timerLock.unlock()
      fireDue(timer, on: worker, now: now)
      ran = true
    }
    return ran
  }

  /// A due timer, already out of the heap; no lock held.
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
      // Back in the heap before it is armed again: a canceller waits while it
      // is firing, then finds it armed and in the heap.
      worker.timerLock.lock()
      worker.timerHeap.insert(timer)
      noteHeapChanged(worker)
      worker.timerLock.unlock()
      timer.pointee.state.store(TimerEntry.armed, ordering: .releasing)
    } else {
      timer.pointee.state.store(TimerEntry.fired, ordering: .releasing)
      leaveLoop(timer)
    }
  }

  /// The owner, or the monitor serving a stuck owner.
  private static func stopOnOwner(_ timer: TimerRef) {
    // nil: the monitor, serving a stuck owner's posted ops.
    weftAssert(
      Scheduler.currentWorker().map { $0 === timer.pointee.owner.takeUnretainedValue() } ?? true,
      "a timer stopped off its owner's thread")
    let worker = timer.pointee.owner.takeUnretainedValue()
    worker.timerLock.lock()
    if timer.pointee.heapIndex >= 0 {
      worker.timerHeap.remove(timer)  // the uv timer may fire early: harmless
      noteHeapChanged(worker)
    }
    worker.timerLock.unlock()
    leaveLoop(timer)
  }

  /// The timer will not fire again; drop the loop's reference once.
  private static func leaveLoop(_ timer: TimerRef) {
    let worker = timer.pointee.owner.takeUnretainedValue()
    worker.timerLock.lock()
    let released = timer.pointee.loopReleased
    timer.pointee.loopReleased = true
    worker.timerLock.unlock()
    guard !released else { return }
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
/// entry knows its index, so a stopped timer leaves in O(log n). Under the
/// owner's timerLock.
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
