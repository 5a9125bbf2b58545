import Synchronization

/// Go's errgroup: tasks that share a context, the first error cancels the
/// rest, `wait` returns it. Optional `limit` bounds how many run at once (`go`
/// parks while the group is full).
///
///     let group = ErrGroup(parent: ctx)
///     for url in urls { try group.go { ctx in try fetch(url, ctx) } }
///     try group.wait()                       // or: try await group.wait()
///
/// Invariants: `first` is set once, under `lock` (never held across a park);
/// the context is canceled once the first error is recorded and when `wait`
/// returns, so a finished group's context is always done (as in Go).
public final class ErrGroup: Sendable {
  /// Canceled at the first error and when `wait` returns; pass it to the work.
  public let context: Context
  private let pending = WaitGroup()
  private let slots: Semaphore?
  private let lock = SpinLock()
  nonisolated(unsafe) private var first: (any Error)? = nil

  /// A group under `parent` (canceling parent cancels the group), running at
  /// most `limit` tasks at once (nil: no limit).
  public init(parent: Context = .background, limit: Int? = nil) {
    precondition(limit.map { $0 > 0 } ?? true, "ErrGroup limit must be positive")
    self.context = Context.withCancel(parent)
    self.slots = limit.map { Semaphore(capacity: $0) }
  }

  /// Runs `body(context)` in a `go {}` task; its error (the group's first)
  /// cancels the context. Parks while `limit` tasks run. Throws `.shutdown`
  /// (or the wait's error when the group's slots cannot be had).
  @available(*, noasync, message: "use the async go in async code")
  public func go(_ body: @escaping @Sendable (Context) throws -> Void) throws(WeftError) {
    if let slots { try slots.acquire(1) }
    try spawn(body)
  }

  /// `go` for async callers: waits for a slot without blocking.
  public func go(_ body: @escaping @Sendable (Context) throws -> Void) async throws(WeftError) {
    if let slots { try await slots.acquire(1) }
    try spawn(body)
  }

  private func spawn(_ body: @escaping @Sendable (Context) throws -> Void) throws(WeftError) {
    try pending.add(1)
    do {
      try Weft.go {
        do { try body(self.context) } catch { self.record(error) }
        if let slots = self.slots { _ = slots.coreRelease(1) }
        _ = self.pending.coreDone()
      }
    } catch {
      if let slots { _ = slots.coreRelease(1) }
      _ = pending.coreDone()
      throw error
    }
  }

  private func record(_ error: any Error) {
    lock.lock()
    let isFirst = first == nil
    if isFirst { first = error }
    lock.unlock()
    if isFirst { context.cancel() }
  }

  private func finish() throws {
    context.cancel()
    lock.lock()
    let error = first
    lock.unlock()
    if let error { throw error }
  }

  /// Waits for every task; rethrows the first error.
  @available(*, noasync, message: "use the async wait in async code")
  public func wait() throws {
    try pending.wait()
    try finish()
  }

  /// Suspends until every task ended; rethrows the first error.
  public func wait() async throws {
    try await pending.wait()
    try finish()
  }
}
