import Synchronization

// The Swift face of the sync primitives: one error convention (typed throws of
// WeftError), `Duration` timeouts, `withLock`, async forms that suspend (never
// block a Swift Concurrency thread), and `noasync` on the blocking forms. The
// core's code-returning forms (`core*`, package access) serve the C layer.
//
// WaitGroup.wait and Context.done wait natively (AsyncWait, no task). A
// contended lock or acquire from async code runs the blocking core call in one
// `go {}` task for that wait (their hand-off protocols live in the blocking
// paths); the uncontended fast path takes no task. Cancelling the Swift task
// ends any of these waits with `.canceled`; shutdown ends them with `.shutdown`.
//
// Name clashes: `Mutex` also exists in `Synchronization`. A file importing both
// says `Weft.Mutex` (or declares `typealias Mutex = Weft.Mutex` once).

// MARK: - WaitGroup

extension WaitGroup {
  /// Adds `n` (default 1, may be negative) to the counter; reaching zero wakes
  /// every waiter. Throws `.outOfRange` (nothing changes) when the counter
  /// would go below zero or above `Int32.max`.
  @inlinable
  public func add(_ n: Int = 1) throws(WeftError) {
    if let error = coreAdd(Int64(truncatingIfNeeded: n)) { throw error }
  }

  /// `add(-1)`: throws `.outOfRange` when the counter is already zero.
  @inlinable
  public func done() throws(WeftError) {
    if let error = coreAdd(-1) { throw error }
  }

  /// The counter now (a snapshot).
  public var count: Int { Int(coreCount) }

  /// `add(1)`, runs `body` in a `go {}` task, `done()` when it returns (Go
  /// 1.25's `wg.Go`). Throws what `go` throws (`.invalid` stack size,
  /// `.shutdown`), with the counter restored.
  public func go(
    stackSize: Int = 0, name: String? = nil, _ body: @escaping @Sendable () -> Void
  ) throws(WeftError) {
    try add(1)
    do {
      try Weft.go(stackSize: stackSize, name: name) {
        body()
        _ = self.coreDone()
      }
    } catch {
      _ = coreDone()
      throw error
    }
  }

  /// Waits until the counter is zero, parking the task (or blocking the
  /// thread). Throws `.timedOut` after `timeout`, the context's error when
  /// `context` ends first, or `.shutdown`. A zero counter returns at once.
  @available(*, noasync, message: "blocks the thread: use the async wait in async code")
  public func wait(timeout: Duration? = nil, context: Context? = nil) throws(WeftError) {
    if let error = coreWait(deadline: weftDeadline(timeout), context: context) { throw error }
  }

  /// Suspends until the counter is zero; `.timedOut`, the context's error,
  /// `.canceled` (the Swift task was canceled) or `.shutdown` when the wait
  /// ends first.
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
  /// Locks, parking the task (or blocking the thread) while it is held
  /// elsewhere. Throws `.timedOut` after `timeout`, the context's error when
  /// `context` ends first, or `.shutdown` when it had to wait during shutdown.
  /// A free lock is taken even past the timeout; a done context fails at once.
  @inlinable @inline(__always)
  @available(*, noasync, message: "blocks the thread: use the async lock in async code")
  public func lock(timeout: Duration? = nil, context: Context? = nil) throws(WeftError) {
    if timeout == nil, context == nil,
      state.compareExchange(expected: 0, desired: Mutex.locked, ordering: .acquiring).exchanged
    {
      if tracksHolder { noteHolder(true) }
      return
    }
    if let error = coreLock(deadline: weftDeadline(timeout), context: context) { throw error }
  }

  /// Unlocks (any task or thread may). Throws `.notOwner` when it is not locked.
  @inlinable @inline(__always)
  public func unlock() throws(WeftError) {
    if let error = coreUnlock() { throw error }
  }

  /// Runs `body` with the lock held, released however `body` exits. The lock
  /// may be held across parks: that is what a Weft Mutex is for. Traps if the
  /// lock cannot be had (only at shutdown); `withLock(timeout:context:_:)`
  /// throws instead.
  @inlinable
  @available(*, noasync, message: "use the async withLock in async code")
  public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
    if let error = coreLock() { Mutex.lockFailed(error) }
    defer { _ = coreUnlock() }
    return try body()
  }

  /// Runs `body` with the lock held, waiting at most `timeout` and while
  /// `context` lasts: throws the lock's error (`.timedOut`, `.canceled`,
  /// `.shutdown`) or `body`'s.
  @available(*, noasync, message: "use the async withLock in async code")
  public func withLock<T>(
    timeout: Duration?, context: Context? = nil, _ body: () throws(WeftError) -> T
  ) throws(WeftError) -> T {
    try lock(timeout: timeout, context: context)
    defer { _ = coreUnlock() }
    return try body()
  }

  /// Locks from async code, suspending (not blocking) while it is held.
  /// Throws `.timedOut`, the context's error, `.canceled` (the Swift task was
  /// canceled) or `.shutdown`.
  public func lock(timeout: Duration? = nil, context: Context? = nil) async throws(WeftError) {
    try await waitInGoTask(timeout: timeout, context: context, tryNow: tryLock) {
      self.coreLock(deadline: $0, context: $1)
    }
  }

  /// Runs `body` with the lock held, from async code (`body` may await).
  /// Throws the lock's `WeftError` or `body`'s error. Spell the closure
  /// `{ () async in ... }` when it does not await: a plain closure selects the
  /// blocking form.
  public func withLock<T>(
    timeout: Duration? = nil, context: Context? = nil, _ body: () async throws -> T
  ) async throws -> T {
    try await lock(timeout: timeout, context: context)
    defer { _ = coreUnlock() }
    return try await body()
  }

  @usableFromInline
  static func lockFailed(_ error: WeftError) -> Never {
    fatalError("weft: withLock could not lock: \(error.message) (runtime shut down?)")
  }
}

// MARK: - RWMutex

extension RWMutex {
  /// Takes the write (exclusive) lock, parking the task or blocking the thread.
  /// Throws `.timedOut`, the context's error or `.shutdown` when the wait ends
  /// first. A free lock is taken even past the timeout.
  @available(*, noasync, message: "blocks the thread: use the async lock in async code")
  public func lock(timeout: Duration? = nil, context: Context? = nil) throws(WeftError) {
    let error = timeout == nil && context == nil ? coreLock() : coreLock(deadline: weftDeadline(timeout), context: context)
    if let error { throw error }
  }

  /// Takes the write lock only if nobody holds or waits for it.
  public func tryLock() -> Bool { coreTryLock() }

  /// Releases the write lock. Throws `.notOwner` when no writer holds it.
  public func unlock() throws(WeftError) {
    if let error = coreUnlock() { throw error }
  }

  /// Takes a read (shared) lock: many readers at once, none while a writer
  /// holds or waits. Throws like `lock(timeout:context:)`.
  @available(*, noasync, message: "blocks the thread: use the async readLock in async code")
  public func readLock(timeout: Duration? = nil, context: Context? = nil) throws(WeftError) {
    let error =
      timeout == nil && context == nil
      ? coreReadLock() : coreReadLock(deadline: weftDeadline(timeout), context: context)
    if let error { throw error }
  }

  /// Takes a read lock only if no writer holds or waits for the lock.
  public func tryReadLock() -> Bool { coreTryReadLock() }

  /// Releases a read lock. Throws `.notOwner` when no read lock is held.
  public func readUnlock() throws(WeftError) {
    if let error = coreReadUnlock() { throw error }
  }

  /// Runs `body` holding the write lock (released however it exits). Traps if
  /// the lock cannot be had (only at shutdown).
  @available(*, noasync, message: "use the async withLock in async code")
  public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
    if let error = coreLock() { Mutex.lockFailed(error) }
    defer { _ = coreUnlock() }
    return try body()
  }

  /// Runs `body` holding a read lock (released however it exits). Traps if
  /// the lock cannot be had (only at shutdown).
  @available(*, noasync, message: "use the async withReadLock in async code")
  public func withReadLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
    if let error = coreReadLock() { Mutex.lockFailed(error) }
    defer { _ = coreReadUnlock() }
    return try body()
  }

  /// Takes the write lock from async code, suspending while it is busy.
  /// Throws `.timedOut`, the context's error, `.canceled` or `.shutdown`.
  public func lock(timeout: Duration? = nil, context: Context? = nil) async throws(WeftError) {
    try await waitInGoTask(timeout: timeout, context: context, tryNow: coreTryLock) {
      self.coreLock(deadline: $0, context: $1)
    }
  }

  /// Takes a read lock from async code, suspending while a writer has it.
  /// Throws `.timedOut`, the context's error, `.canceled` or `.shutdown`.
  public func readLock(timeout: Duration? = nil, context: Context? = nil) async throws(WeftError) {
    try await waitInGoTask(timeout: timeout, context: context, tryNow: coreTryReadLock) {
      self.coreReadLock(deadline: $0, context: $1)
    }
  }

  /// Runs `body` (which may await) holding the write lock. Throws the lock's
  /// `WeftError` or `body`'s error.
  public func withLock<T>(
    timeout: Duration? = nil, context: Context? = nil, _ body: () async throws -> T
  ) async throws -> T {
    try await lock(timeout: timeout, context: context)
    defer { _ = coreUnlock() }
    return try await body()
  }

  /// Runs `body` (which may await) holding a read lock. Throws the lock's
  /// `WeftError` or `body`'s error.
  public func withReadLock<T>(
    timeout: Duration? = nil, context: Context? = nil, _ body: () async throws -> T
  ) async throws -> T {
    try await readLock(timeout: timeout, context: context)
    defer { _ = coreReadUnlock() }
    return try await body()
  }
}

// MARK: - Once

extension Once {
  /// Runs `body` if no call did yet, else waits until the first call returned
  /// (Go's `once.Do`). Throws `.deadlock` for a call from inside `body`, or
  /// `.timedOut`, the context's error or `.shutdown` when the wait ends first
  /// (the first call keeps running in its caller).
  @available(*, noasync, message: "blocks the thread while another caller runs the body")
  public func run(timeout: Duration? = nil, context: Context? = nil, _ body: () -> Void) throws(WeftError) {
    if let error = coreRun(deadline: weftDeadline(timeout), context: context, body) { throw error }
  }
}

// MARK: - Cond

extension Cond {
  /// Waits for `signal()`/`broadcast()` with the mutex released, and locks it
  /// again before returning (Go's `cond.Wait`; check the condition in a loop).
  /// Throws `.notOwner` when the mutex is not locked (nothing happens then),
  /// `.timedOut`, the context's error or `.shutdown` when the wait ends first
  /// (the mutex is locked again then, except at shutdown if relocking had to wait).
  @available(*, noasync, message: "blocks the thread: wait for a Cond in a go {} task")
  public func wait(timeout: Duration? = nil, context: Context? = nil) throws(WeftError) {
    if let error = coreWait(deadline: weftDeadline(timeout), context: context) { throw error }
  }
}

// MARK: - Semaphore

extension Semaphore {
  /// A semaphore of `capacity` units (Go's `semaphore.NewWeighted`). Traps for
  /// a capacity below 1.
  public convenience init(capacity: Int) {
    precondition(capacity > 0, "Semaphore capacity must be positive")
    self.init(coreCapacity: Int64(capacity))!
  }

  /// The units there are in all.
  public var capacity: Int { Int(size) }

  /// Units held now (a snapshot).
  public var held: Int { Int(coreHeld) }

  /// Takes `n` units (default 1), waiting FIFO, parking the task or blocking
  /// the thread. Throws `.invalid` for `n` < 0 or above the capacity, or
  /// `.timedOut`, the context's error or `.shutdown` when the wait ends first
  /// (nothing taken). A done context fails at once.
  @available(*, noasync, message: "blocks the thread: use the async acquire in async code")
  public func acquire(_ n: Int = 1, timeout: Duration? = nil, context: Context? = nil) throws(WeftError) {
    if let error = coreAcquire(Int64(n), deadline: weftDeadline(timeout), context: context) { throw error }
  }

  /// Takes `n` units only if they are free and nobody waits: false otherwise.
  /// Throws `.invalid` for `n` < 0 or above the capacity.
  public func tryAcquire(_ n: Int = 1) throws(WeftError) -> Bool {
    switch coreTryAcquire(Int64(n)) {
    case nil: return true
    case .wouldBlock: return false
    case let error?: throw error
    }
  }

  /// Returns `n` units (default 1). Throws `.outOfRange` (nothing changes) when
  /// more than are held, `.invalid` for `n` < 0.
  public func release(_ n: Int = 1) throws(WeftError) {
    if let error = coreRelease(Int64(n)) { throw error }
  }

  /// Acquires `n` units from async code, suspending (not blocking) meanwhile.
  /// Throws like the blocking form, and `.canceled` when the Swift task is.
  public func acquire(_ n: Int = 1, timeout: Duration? = nil, context: Context? = nil) async throws(WeftError) {
    try await waitInGoTask(timeout: timeout, context: context, tryNow: { self.coreTryAcquire(Int64(n)) == nil }) {
      self.coreAcquire(Int64(n), deadline: $0, context: $1)
    }
  }

  /// Runs `body` holding `n` units (released however it exits). Traps if the
  /// units cannot be had (`n` above the capacity, or shutdown).
  @available(*, noasync, message: "use the async acquire in async code")
  public func withPermit<T, E: Error>(_ n: Int = 1, _ body: () throws(E) -> T) throws(E) -> T {
    if let error = coreAcquire(Int64(n)) { fatalError("weft: Semaphore.withPermit: \(error.message)") }
    defer { _ = coreRelease(Int64(n)) }
    return try body()
  }

  /// Runs `body` (which may await) holding `n` units. Throws the acquire's
  /// `WeftError` or `body`'s error.
  public func withPermit<T>(
    _ n: Int = 1, timeout: Duration? = nil, context: Context? = nil, _ body: () async throws -> T
  ) async throws -> T {
    try await acquire(n, timeout: timeout, context: context)
    defer { _ = coreRelease(Int64(n)) }
    return try await body()
  }
}

/// The async form of a lock or acquire: `tryNow` (the uncontended fast path,
/// no task), else a passed deadline, a done context, a canceled Swift task or
/// shutdown at once, else the blocking core call `wait(deadline, context)` in
/// a `go {}` task (inGoTask).
func waitInGoTask(
  timeout: Duration?, context: Context?, tryNow: () -> Bool,
  _ wait: @escaping @Sendable (Int64, Context) -> WeftError?
) async throws(WeftError) {
  if context?.error == nil, tryNow() { return }
  let deadline = weftDeadline(timeout)
  if let error = AsyncWait.failFast(deadline: deadline, context: context) { throw error }
  try await inGoTask(context: context) { ctx in wait(deadline, ctx) }
}

/// Runs a blocking core call in a `go {}` task for an async caller; the Swift
/// task's cancellation cancels the child context the call waits with.
func inGoTask(
  context: Context?, _ call: @escaping @Sendable (Context) -> WeftError?
) async throws(WeftError) {
  let child = Context.withCancel(context ?? .background)
  defer { _ = child.coreCancel() }
  let handle = try go { () -> WeftError? in call(child) }
  let result = await withTaskCancellationHandler(
    operation: { () async -> Result<WeftError?, Never> in await handle.result },
    onCancel: { _ = child.coreCancel() })
  if case .success(let error?) = result { throw error == .canceled ? (context?.error ?? .canceled) : error }
}
