import Synchronization

/// The Swift face of the sync primitives and contexts: async forms (suspend,
/// never block a Swift Concurrency thread), `Duration` timeouts, `withLock`,
/// `WaitGroup.go`.
///
/// WaitGroup.wait and Context.done wait natively (AsyncWait, no task). A
/// contended Mutex.lock or Semaphore.acquire from async code runs the blocking
/// core call in one `go {}` task for that wait (their hand-off protocols live in
/// the blocking paths); the uncontended fast path takes no task. Cancelling the
/// Swift task ends any of these waits with `.canceled`.
///
/// Name clashes: `Mutex` also exists in `Synchronization`, `Channel`-like names
/// in NIOCore. In a file importing both, say `Weft.Mutex` (or add
/// `typealias Mutex = Weft.Mutex` once in the module).

// MARK: - WaitGroup

extension WaitGroup {
  /// Adds `n` (default 1) to the counter; `.outOfRange` when it would go
  /// negative or past Int32.max.
  public func add(count n: Int = 1) throws(WeftError) {
    if let error = add(Int64(n)) { throw error }
  }

  /// add(1), runs `body` in a `go {}` task, done() when it returns (Go 1.25's wg.Go).
  public func go(
    stackSize: Int = 0, name: String? = nil, _ body: @escaping @Sendable () -> Void
  ) throws(WeftError) {
    try add(count: 1)
    do {
      try Weft.go(stackSize: stackSize, name: name) {
        body()
        _ = self.done()
      }
    } catch {
      _ = done()
      throw error
    }
  }

  /// Waits (blocking forms: parks the task or blocks the thread) until the
  /// counter is zero, or `timeout` passes (`.timedOut`) or `context` ends.
  @available(*, noasync, message: "use the async wait in async code")
  public func wait(timeout: Duration, context: Context? = nil) throws(WeftError) {
    if let error = wait(deadline: weftDeadline(timeout), context: context) { throw error }
  }

  /// Suspends until the counter is zero; `.timedOut`, the context's error or
  /// `.canceled` (the Swift task was canceled) when the wait ends first.
  public func wait(timeout: Duration? = nil, context: Context? = nil) async throws(WeftError) {
    if WaitGroup.counter(state.load(ordering: .acquiring)) == 0 { return }
    let deadline = weftDeadline(timeout)
    if let error = AsyncWait.failFast(deadline: deadline, context: context) { throw error }
    let outcome = await AsyncWait.wait(
      deadline: deadline, context: context,
      publish: { waiter in
        queueLock.lock()
        defer { queueLock.unlock() }
        var s = state.load(ordering: .acquiring)
        while true {
          if WaitGroup.counter(s) == 0 { return 0 }
          let (done, now) = state.compareExchange(expected: s, desired: s &+ 1, ordering: .acquiring)
          if done { break }
          s = now
        }
        queue.enqueue(waiter)
        return nil
      },
      leave: { waiter in
        queueLock.lock()
        if waiter.pointee.queued {
          queue.remove(waiter)
          state.subtract(1, ordering: .relaxed)
        }
        queueLock.unlock()
      })
    if let error = outcome.error { throw error }
  }
}

// MARK: - Mutex

extension Mutex {
  /// Runs `body` with the lock held (released however body exits). The lock
  /// may be held across parks: that is what a Weft Mutex is for.
  @available(*, noasync, message: "use the async withLock in async code")
  public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
    if let error = lock() { Mutex.lockFailed(error) }
    defer { _ = unlock() }
    return try body()
  }

  /// Locks with a timeout and/or context: `.timedOut` or the context's error.
  @available(*, noasync, message: "use the async lock in async code")
  public func lock(timeout: Duration?, context: Context? = nil) throws(WeftError) {
    if let error = lock(deadline: weftDeadline(timeout), context: context) { throw error }
  }

  /// Locks from async code, suspending (not blocking) while it is held.
  public func lock(timeout: Duration? = nil, context: Context? = nil) async throws(WeftError) {
    if context == nil || context?.error == nil, tryLock() { return }
    let deadline = weftDeadline(timeout)
    if let error = AsyncWait.failFast(deadline: deadline, context: context) { throw error }
    try await inGoTask(context: context) { ctx in self.lock(deadline: deadline, context: ctx) }
  }

  /// Runs `body` with the lock held, from async code (body may await). Spell
  /// the closure `{ () async in ... }` when it does not await: a plain closure
  /// selects the blocking form.
  public func withLock<T>(
    _ body: () async throws -> T
  ) async throws -> T {
    try await lock()
    defer { _ = unlock() }
    return try await body()
  }

  static func lockFailed(_ error: WeftError) -> Never {
    fatalError("weft: Mutex.withLock could not lock: \(error.message) (runtime shut down?)")
  }
}

// MARK: - Semaphore

extension Semaphore {
  /// Acquires `n` units from async code, suspending (not blocking) meanwhile.
  public func acquire(
    _ n: Int64 = 1, timeout: Duration? = nil, context: Context? = nil
  ) async throws(WeftError) {
    if context?.error == nil, tryAcquire(n) == nil { return }
    let deadline = weftDeadline(timeout)
    if let error = AsyncWait.failFast(deadline: deadline, context: context) { throw error }
    try await inGoTask(context: context) { ctx in self.acquire(n, deadline: deadline, context: ctx) }
  }

  /// Acquires `n` with a timeout and/or context (blocking form).
  @available(*, noasync, message: "use the async acquire in async code")
  public func acquire(_ n: Int64 = 1, timeout: Duration?, context: Context? = nil) throws(WeftError) {
    if let error = acquire(n, deadline: weftDeadline(timeout), context: context) { throw error }
  }

  /// Runs `body` holding `n` units (released however body exits).
  @available(*, noasync, message: "use the async acquire in async code")
  public func withPermit<T, E: Error>(_ n: Int64 = 1, _ body: () throws(E) -> T) throws(E) -> T {
    if let error = acquire(n) { fatalError("weft: Semaphore.withPermit: \(error.message)") }
    defer { _ = release(n) }
    return try body()
  }
}

// MARK: - Context

extension Context {
  /// A child canceled after `timeout` (`.timedOut`): Go's WithTimeout.
  public static func withTimeout(_ parent: Context, _ timeout: Duration) throws(WeftError) -> Context {
    try withTimeout(parent, timeout: timeout.nanoseconds)
  }

  /// Suspends until the context is done; its error (`.canceled`, `.timedOut`).
  /// `.deadlock` for a context that can never end; `.canceled` also when the
  /// awaiting Swift task is canceled first.
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

/// Runs a blocking core call in a `go {}` task for an async caller; the Swift
/// task's cancellation cancels the child context the call waits with.
func inGoTask(
  context: Context?, _ call: @escaping @Sendable (Context) -> WeftError?
) async throws(WeftError) {
  let child = Context.withCancel(context ?? .background)
  defer { _ = child.cancel() }
  let handle = try go { () -> WeftError? in call(child) }
  let result = await withTaskCancellationHandler(
    operation: { () async -> Result<WeftError?, Never> in await handle.result },
    onCancel: { _ = child.cancel() })
  if case .success(let error?) = result { throw error == .canceled ? (context?.error ?? .canceled) : error }
}
