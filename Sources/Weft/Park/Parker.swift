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
    weftAssert(claimed != Parker.unclaimed, "wake() of an unclaimed parker")
    if let task = pointee.task {
      Scheduler.unpark(task)
    } else {
      pointee.signal!._withUnsafeGuaranteedRef { $0.post() }
    }
  }

  /// Step 3: blocks until claimed and woken; returns the claim value.
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
      task.pointee.parker = UnsafeMutableRawPointer(self)
      Scheduler.parkCurrent(task, reason: reason)
      task.pointee.parker = nil
      if let timer { Timers.cancel(timer) }
    } else {
      let recorded = Deadlock.threadWillBlock(self, deadline: deadline, reason: reason)
      pointee.signal!._withUnsafeGuaranteedRef { signal in
        signal.wait(deadline: deadline) { self.tryClaim(Parker.timedOut) }
      }
      Deadlock.threadWoke(self, recorded)
    }
    weftAssert(claimed != Parker.unclaimed, "park() returned unclaimed")
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

  static func forCurrentThread() -> Unmanaged<ThreadSignal> {
    if let raw = pthread_getspecific(key) { return Unmanaged<ThreadSignal>.fromOpaque(raw) }
    spareLock.lock()
    let reused = spare.popLast()
    spareLock.unlock()
    let signal = reused ?? Unmanaged.passRetained(ThreadSignal())
    pthread_setspecific(key, signal.toOpaque())
    return signal
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
    let spinUntil = min(deadline, monotonicNow() &+ ThreadSignal.spinNs)
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
      var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
      if pthread_cond_timedwait(&cond, &mutex, &ts) == ETIMEDOUT, !posted.load(ordering: .sequentiallyConsistent) {
        if expire() { break }
        expired = true
      }
    }
    asleep.store(false, ordering: .relaxed)
    pthread_mutex_unlock(&mutex)
  }
}
