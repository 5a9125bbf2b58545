import CWeftCoro
import Glibc
import Synchronization

/// One blocking call's rendezvous point: who to wake (a task or a plain thread)
/// and which waker won. Every primitive parks through this (Go's `sudog` +
/// `selectDone`), so channels, select, sync and contexts share one protocol.
///
/// Protocol (no lost wake-ups, exactly one wake):
///  1. The blocking side calls `prepare()` before it publishes any Waiter that
///     points here (a task's state becomes `parking`).
///  2. A waker that finds a published Waiter calls `tryClaim(value)`; only the
///     first claim succeeds. The winner finishes its work (copies the value into
///     the waiter's slot) and then calls `wake()`. Losers leave it alone.
///  3. `park(deadline:)` returns once a claim was made and the claimer woke it;
///     at the deadline the parker tries to claim itself with `timedOut`.
///  4. After `park` returns, the blocking side removes its unclaimed Waiters from
///     their queues, under each primitive's lock, before its stack frame goes.
///
/// A Parker lives on the blocking caller's stack; after `wake()` the waker must
/// not touch it again.
public struct Parker: ~Copyable {
  public static let unclaimed = -1
  public static let timedOut = -2
  public static let canceled = -3
  public static let shutdown = -4

  /// The error a claim value other than a case index stands for.
  public static func error(forClaim claim: Int) -> WeftError? {
    switch claim {
    case timedOut: .timedOut
    case canceled: .canceled
    case shutdown: .shutdown
    default: nil
    }
  }

  let claim = Atomic<Int>(Parker.unclaimed)
  let task: TaskRef?
  /// The blocked thread's signal. Unretained: signals are never freed (see
  /// ThreadSignal), because a waker still inside post() may outlive the thread.
  let signal: Unmanaged<ThreadSignal>?
  /// The context whose cancellation claims this parker, if any (retained by the
  /// caller for the duration of the call).
  var cancelSource: UnsafeMutableRawPointer? = nil

  init(task: TaskRef?, signal: Unmanaged<ThreadSignal>?) {
    self.task = task
    self.signal = signal
  }
}

public typealias ParkerRef = UnsafeMutablePointer<Parker>

extension UnsafeMutablePointer where Pointee == Parker {
  /// Runs body with a parker for the calling task or thread.
  @inline(__always)
  public static func with<R>(_ body: (ParkerRef) -> R) -> R {
    let task = Scheduler.currentTask()
    let signal = task == nil ? ThreadSignal.forCurrentThread() : nil
    return withUnsafeTemporaryAllocation(of: Parker.self, capacity: 1) { buffer in
      let parker = buffer.baseAddress!
      parker.initialize(to: Parker(task: task, signal: signal))
      defer { parker.deinitialize(count: 1) }
      return body(parker)
    }
  }

  /// Step 1: call before publishing a Waiter that points to this parker.
  @inline(__always)
  public func prepare() {
    if let task = pointee.task {
      // Wakers find the task through a waiter published under a lock taken
      // after this store, so release ordering is enough.
      task.pointee.state.store(TaskRecord.parking, ordering: .releasing)
    } else {
      pointee.signal!._withUnsafeGuaranteedRef { $0.reset() }
    }
  }

  /// Undoes prepare() when the caller decides not to park after all (nothing was
  /// published).
  @inline(__always)
  public func unprepare() {
    if let task = pointee.task {
      task.pointee.state.store(TaskRecord.running, ordering: .relaxed)
    }
  }

  @inline(__always)
  public func tryClaim(_ value: Int) -> Bool {
    pointee.claim.compareExchange(
      expected: Parker.unclaimed, desired: value, ordering: .acquiringAndReleasing
    ).exchanged
  }

  public var claimed: Int { pointee.claim.load(ordering: .acquiring) }

  /// Step 2's end: hands control back to the parked side. Only the claimer calls it.
  @inline(__always)
  public func wake() {
    if let task = pointee.task {
      Scheduler.unpark(task)
    } else {
      pointee.signal!._withUnsafeGuaranteedRef { $0.post() }
    }
  }

  /// Step 3: blocks until claimed and woken; returns the claim value. While it
  /// blocks, the parker is published in the task's or thread's ParkerSlot, so
  /// weft_shutdown can claim it (Parker.shutdown) at the end of its grace period.
  public func park(deadline: Int64 = noDeadline, reason: StaticString = "") -> Int {
    if Runtime.isStopping, tryClaim(Parker.shutdown) {
      unprepare()
      return Parker.shutdown
    }
    if let task = pointee.task {
      var timer: TimerRef? = nil
      if deadline != noDeadline {
        timer = Timers.startLocal(deadline: deadline, fire: parkerTimeout, target: UnsafeMutableRawPointer(self))
      }
      ParkerSlot.publish(task.pointee.parkerSlot, self)
      // Shutdown began between the check above and the publish. (Shutdown walks
      // the slots only after its grace period, long after a publish that raced
      // with its start became visible: release ordering is enough.)
      if Runtime.isStopping, tryClaim(Parker.shutdown) { unprepare() } else {
        Scheduler.parkCurrent(task, reason: reason)
      }
      ParkerSlot.retire(task.pointee.parkerSlot)
      if let timer { Timers.cancel(timer) }
    } else {
      pointee.signal!._withUnsafeGuaranteedRef { signal in
        ParkerSlot.publish(signal.parkerSlot, self)
        if !(Runtime.isStopping && tryClaim(Parker.shutdown)) {
          signal.wait(deadline: deadline) { self.tryClaim(Parker.timedOut) }
        }
        ParkerSlot.retire(signal.parkerSlot)
      }
    }
    return claimed
  }
}

/// Where a blocked task or thread shows its Parker to weft_shutdown (a word in
/// the task record or the ThreadSignal, both never freed): 0, a ParkerRef's
/// bits, or `busy` while shutdown claims it. The owner publishes before it
/// blocks and retires after it woke; retire waits while the slot is busy, so a
/// parker shutdown took from the slot stays valid (its frame cannot return)
/// until shutdown is done with it — and shutdown touches only the slot after
/// wake(), as any claimer.
enum ParkerSlot {
  static let busy: UInt = 1

  @inline(__always)
  static func publish(_ slot: borrowing Atomic<UInt>, _ parker: ParkerRef) {
    slot.store(UInt(bitPattern: parker), ordering: .releasing)
  }

  @inline(__always)
  static func retire(_ slot: borrowing Atomic<UInt>) {
    while true {
      let value = slot.load(ordering: .acquiring)
      if value == busy {
        cweft_cpu_relax()
        continue
      }
      if slot.compareExchange(expected: value, desired: 0, ordering: .acquiringAndReleasing).exchanged { return }
    }
  }

  /// Shutdown's claim: if slot holds a parker, claims it with Parker.shutdown
  /// and wakes it. True if it did.
  static func claimForShutdown(_ slot: borrowing Atomic<UInt>) -> Bool {
    let value = slot.load(ordering: .acquiring)
    guard value > busy,
      slot.compareExchange(expected: value, desired: busy, ordering: .acquiringAndReleasing).exchanged
    else { return false }
    let parker = ParkerRef(bitPattern: value)!
    let claimed = parker.tryClaim(Parker.shutdown)
    if claimed { parker.wake() }
    slot.store(value, ordering: .releasing)
    return claimed
  }
}

private let parkerTimeout: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
  let parker = raw!.assumingMemoryBound(to: Parker.self)
  if parker.tryClaim(Parker.timedOut) { parker.wake() }
}

/// How a plain thread blocks: a flag it spins on briefly, then a condition
/// variable on the monotonic clock, one per thread, made on first use and freed
/// when the thread ends. post() skips the mutex and the futex wake-up while the
/// waiter is still spinning: handing a value to a thread that waits in a loop
/// (a consumer on the main thread) then costs no system call.
///
/// `posted` and `asleep` pair as in Dekker's algorithm (both sequentially
/// consistent): the poster stores posted then loads asleep, the waiter stores
/// asleep then loads posted, so at least one of them sees the other.
public final class ThreadSignal: @unchecked Sendable {
  private static let spinNs: Int64 = 20_000
  private var mutex = pthread_mutex_t()
  private var cond = pthread_cond_t()
  private let posted = Atomic<Bool>(false)
  private let asleep = Atomic<Bool>(false)
  /// The parker this thread blocks on (see ParkerSlot).
  let parkerSlot = Atomic<UInt>(0)
  /// Every signal ever made, linked through `nextMade` (guarded by spareLock;
  /// a link never changes once set): weft_shutdown walks them.
  private var nextMade: Unmanaged<ThreadSignal>? = nil
  nonisolated(unsafe) private static var allMade: Unmanaged<ThreadSignal>? = nil

  private init() {
    pthread_mutex_init(&mutex, nil)
    var attr = pthread_condattr_t()
    pthread_condattr_init(&attr)
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
    pthread_cond_init(&cond, &attr)
    pthread_condattr_destroy(&attr)
  }

  /// The calling thread's signal lives in a thread-specific slot; when the
  /// thread ends it goes to `spare` for the next new thread instead of being
  /// freed: a waker can still be inside post() (after storing `posted`, which
  /// already let the thread return and exit), so a signal's memory must stay
  /// valid forever. At most one signal per thread alive at once is ever made.
  private static let key: pthread_key_t = {
    keyMade.store(true, ordering: .releasing)
    var key = pthread_key_t()
    pthread_key_create(&key) { raw in
      guard let raw else { return }
      ThreadSignal.spareLock.lock()
      ThreadSignal.spare.append(Unmanaged<ThreadSignal>.fromOpaque(raw))
      ThreadSignal.spareLock.unlock()
    }
    return key
  }()
  private static let spareLock = SpinLock()
  nonisolated(unsafe) private static var spare: [Unmanaged<ThreadSignal>] = []

  private static let keyMade = Atomic<Bool>(false)
  private static let keyRetired = Atomic<Bool>(false)
  /// The signal of every thread once the key is retired: after shutdown no
  /// thread blocks any more (park refuses), so it is never waited on.
  private static let detached = Unmanaged.passRetained(ThreadSignal())

  /// weft_shutdown, once no thread can block again: deletes the key, so that
  /// host threads exiting later (perhaps after a dlclose) call no destructor
  /// in this library.
  static func retireKey() {
    if keyRetired.exchange(true, ordering: .acquiringAndReleasing) { return }
    if keyMade.load(ordering: .acquiring) { pthread_key_delete(key) }
  }

  static func forCurrentThread() -> Unmanaged<ThreadSignal> {
    if keyRetired.load(ordering: .acquiring) { return detached }
    if let raw = pthread_getspecific(key) { return Unmanaged<ThreadSignal>.fromOpaque(raw) }
    spareLock.lock()
    let reused = spare.popLast()
    spareLock.unlock()
    let signal = reused ?? makeRegistered()
    pthread_setspecific(key, signal.toOpaque())
    return signal
  }

  private static func makeRegistered() -> Unmanaged<ThreadSignal> {
    let signal = Unmanaged.passRetained(ThreadSignal())
    spareLock.lock()
    signal._withUnsafeGuaranteedRef { $0.nextMade = allMade }
    allMade = signal
    spareLock.unlock()
    return signal
  }

  /// Shutdown: claims and wakes every plain thread blocked in a Weft call.
  /// Returns how many.
  static func releaseAllForShutdown() -> Int {
    spareLock.lock()
    var next = allMade
    spareLock.unlock()
    var released = 0
    while let signal = next {
      signal._withUnsafeGuaranteedRef {
        if ParkerSlot.claimForShutdown($0.parkerSlot) { released += 1 }
        next = $0.nextMade
      }
    }
    return released
  }

  func reset() {
    posted.store(false, ordering: .sequentiallyConsistent)
  }

  func post() {
    posted.store(true, ordering: .sequentiallyConsistent)
    guard asleep.load(ordering: .sequentiallyConsistent) else { return }
    pthread_mutex_lock(&mutex)
    pthread_cond_signal(&cond)
    pthread_mutex_unlock(&mutex)
  }

  /// Waits for post(); at the deadline asks `expire` whether it may stop waiting
  /// (it may not when a waker already claimed the parker: its post is coming).
  func wait(deadline: Int64, expire: () -> Bool) {
    let spinUntil = min(deadline, Weft.deadline(after: ThreadSignal.spinNs))
    var rounds = 0
    while !posted.load(ordering: .acquiring) {
      cweft_cpu_relax()
      rounds += 1
      if rounds % 64 == 0, monotonicNow() >= spinUntil { break }
    }
    if posted.load(ordering: .acquiring) { return }
    pthread_mutex_lock(&mutex)
    asleep.store(true, ordering: .sequentiallyConsistent)
    var expired = false
    while !posted.load(ordering: .sequentiallyConsistent) {
      if deadline == noDeadline || expired {
        pthread_cond_wait(&cond, &mutex)
        continue
      }
      var ts = timespec(monotonicDeadline: deadline)
      if pthread_cond_timedwait(&cond, &mutex, &ts) == ETIMEDOUT, !posted.load(ordering: .sequentiallyConsistent) {
        if expire() { break }
        expired = true
      }
    }
    asleep.store(false, ordering: .relaxed)
    pthread_mutex_unlock(&mutex)
  }
}
