// The Swift face of the runtime, the scheduler, contexts and the offload pool:
// typed throws of WeftError, Duration timeouts, ContinuousClock deadlines.

// MARK: - Runtime

extension Runtime {
  /// Starts the runtime with `config` (optional: the first Weft call starts it
  /// with the defaults). Throws `.busy` when it is already running with other
  /// settings, `.invalid` for bad settings, `.shutdown` after a shutdown.
  public static func start(_ config: RuntimeConfig = RuntimeConfig()) throws(WeftError) {
    if let error = coreStart(config) { throw error }
  }

  /// Shuts the runtime down: waits up to the configured grace period for the
  /// tasks to finish, then ends every wait still blocked in Weft — tasks,
  /// threads and Swift `Task`s awaiting the async forms — with `.shutdown`.
  /// Throws `.timedOut` when tasks outlived the grace period (they were
  /// released as above), `.deadlock` when called from inside a task or worker.
  /// Calling it again, or before the runtime started, does nothing.
  @available(*, noasync, message: "blocks the thread for up to the grace period")
  public static func shutdown() throws(WeftError) {
    if let error = coreShutdown() { throw error }
  }
}

extension RuntimeConfig {
  /// Settings for `Runtime.start`. Zeros and nil mean the defaults: `workers`
  /// from `$WEFT_WORKERS`, else one per core; `stackSize` 64 KiB (16 KiB to 64
  /// MiB); `shutdownGrace` 5 s; `offloadThreads` 16.
  public init(workers: Int = 0, stackSize: Int = 0, shutdownGrace: Duration? = nil, offloadThreads: Int = 0) {
    self.init(workers: workers, stackSize: stackSize, shutdownGraceNs: shutdownGrace.map { max(1, $0.nanoseconds) } ?? 0)
    self.offloadThreads = offloadThreads
  }

  /// How long `Runtime.shutdown` waits for tasks to finish (nil: the default).
  public var shutdownGrace: Duration? {
    get { shutdownGraceNs > 0 ? .nanoseconds(shutdownGraceNs) : nil }
    set { shutdownGraceNs = newValue.map { max(1, $0.nanoseconds) } ?? 0 }
  }

  /// The grace period `Runtime.shutdown` gives tasks unless configured.
  public static var defaultShutdownGrace: Duration { .nanoseconds(defaultShutdownGraceNs) }
}

// MARK: - Scheduler

extension Scheduler {
  /// Sleeps for `duration`, parking the task (or blocking the thread). Throws
  /// `.shutdown` when shutdown ends the sleep.
  @available(*, noasync, message: "blocks the thread: use Task.sleep in async code")
  public static func sleep(for duration: Duration) throws(WeftError) {
    if let error = coreSleep(until: weftDeadline(duration)) { throw error }
  }

  /// Sleeps until `deadline` (a `ContinuousClock` instant). Throws `.shutdown`
  /// when shutdown ends the sleep.
  @available(*, noasync, message: "blocks the thread: use Task.sleep in async code")
  public static func sleep(until deadline: ContinuousClock.Instant) throws(WeftError) {
    if let error = coreSleep(until: weftDeadline(deadline)) { throw error }
  }
}

// MARK: - Context

extension Context {
  /// A child canceled with `.timedOut` after `timeout` (Go's WithTimeout).
  /// Throws `.shutdown` when no timer can be started.
  public static func withTimeout(_ parent: Context, _ timeout: Duration) throws(WeftError) -> Context {
    try withDeadline(parent, deadline: weftDeadline(timeout))
  }

  /// A child canceled with `.timedOut` at `deadline` (Go's WithDeadline).
  /// Throws `.shutdown` when no timer can be started.
  public static func withDeadline(_ parent: Context, _ deadline: ContinuousClock.Instant) throws(WeftError) -> Context {
    try withDeadline(parent, deadline: weftDeadline(deadline))
  }

  /// The time left until this context's (or an ancestor's) deadline; nil when
  /// there is none, `.zero` once it passed.
  public var remaining: Duration? {
    guard deadline != noDeadline else { return nil }
    return .nanoseconds(remainingNs(until: deadline))
  }

  /// Cancels the context (and its subtree) with `.canceled`; `cause` is an
  /// optional code of yours (`cause`, 0 for none). Canceling twice is fine.
  /// Returns false, doing nothing, for a context that cannot be canceled
  /// (`.background`, `withoutCancel`, `init(cancelable: false)`).
  @discardableResult
  public func cancel(cause: Int32 = 0) -> Bool { coreCancel(cause: cause) == nil }

  /// Parks the task (or blocks the thread) until the context is done, and
  /// returns why: its error, `.canceled` or `.timedOut` (Go's `<-ctx.Done();
  /// ctx.Err()`) — a result, not a failure, so it is returned. `.deadlock` for
  /// a context that can never end, `.shutdown` when shutdown ends the wait.
  @discardableResult
  @available(*, noasync, message: "blocks the thread: use `await context.done()` in async code")
  public func wait() -> WeftError { coreWait() ?? error ?? .canceled }

  /// Suspends until the context is done and returns why (see `wait()`);
  /// `.canceled` also when the awaiting Swift task is canceled first,
  /// `.shutdown` when shutdown ends the wait.
  @discardableResult
  public func done() async -> WeftError {
    guard canEnd else { return .deadlock }
    if let error { return error }
    let outcome = await AsyncWait.wait(
      context: nil,
      publish: { waiter in
        if self.register(waiter) { return nil }
        return 0  // already done
      },
      leave: { waiter in self.unregister(waiter) })
    return error ?? outcome.error ?? .canceled
  }
}

// MARK: - Offload

extension Offload {
  /// Runs `body` on a thread of the offload pool (for blocking calls that are
  /// not Weft's: file I/O, DNS, a C library) and parks the task (or blocks the
  /// thread) until it returns its value. Throws `.timedOut` after `timeout`,
  /// the context's error when `context` ends first (`body` still runs to its
  /// end on its thread; its value is dropped), `.shutdown`, or `.noMemory`.
  @available(*, noasync, message: "blocks the thread: await the work directly in async code")
  public static func run<T: Sendable>(
    timeout: Duration? = nil, context: Context? = nil, _ body: @escaping @Sendable () -> T
  ) throws(WeftError) -> T {
    let box = OffloadBox<T>()
    if let error = coreRun(deadline: weftDeadline(timeout), context: context, { box.value = body() }) {
      throw error
    }
    return box.value!
  }
}

/// The value an offloaded body hands back (written on the pool thread before
/// the job's completion wakes the caller, which reads it after).
final class OffloadBox<T>: @unchecked Sendable {
  var value: T? = nil
}

// MARK: - Time

/// The core's deadline (monotonic ns) for a `ContinuousClock` instant.
func weftDeadline(_ instant: ContinuousClock.Instant) -> Int64 {
  let left = ContinuousClock.now.duration(to: instant)
  return left <= .zero ? monotonicNow() : deadline(after: left.nanoseconds)
}
