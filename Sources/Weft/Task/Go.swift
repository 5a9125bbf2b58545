import Synchronization

/// Runs `body` as a Weft task (a stackful coroutine on the runtime's workers)
/// and returns its handle: wait for its value from a task or thread
/// (`wait()`), await it from async code (`value`, `result`), or ignore it.
///
///     let sum = try go { (1...100).reduce(0, +) }
///     print(try await sum.value)          // or sum.wait() outside async code
///
/// A thrown error is carried by the handle (`Failure`), never lost or fatal.
/// Throws `.invalid` for a bad stackSize (0 = the runtime's default, else 16 KiB
/// to 64 MiB) and `.shutdown` after shutdown.
///
/// The body may park (channels, locks, sleeps) anywhere; it may resume on
/// another thread, so it must not hold a Swift lock (`Synchronization.Mutex`,
/// `NSLock`, `os_unfair_lock`) across anything that parks: use Weft's `Mutex`
/// there. It calls async code through `runAsync(_:)`.
@inlinable
@discardableResult
public func go<Success: Sendable, Failure: Error>(
  stackSize: Int = 0, name: String? = nil, _ body: @escaping @Sendable () throws(Failure) -> Success
) throws(WeftError) -> GoTask<Success, Failure> {
  let handle = GoTask<Success, Failure>()
  let box = Unmanaged.passRetained(
    TaskBody {
      let result: Result<Success, Failure>
      do throws(Failure) { result = .success(try body()) } catch { result = .failure(error) }
      handle.finish(result)
    }
  ).toOpaque()
  let error: WeftError? =
    if let name {
      name.withCString { Runtime.spawn(runTaskBody, box, stackSize: stackSize, name: $0) }
    } else {
      Runtime.spawn(runTaskBody, box, stackSize: stackSize)
    }
  if let error {
    Unmanaged<TaskBody>.fromOpaque(box).release()
    throw error
  }
  return handle
}

/// Runs `operation` as a Swift Task and waits for it, parking the calling `go {}`
/// task (or blocking a plain thread): the bridge from Weft tasks to async code.
/// The operation runs on Swift Concurrency's executors, never on a Weft worker.
///
///     try go { let page = try runAsync { try await client.get(url) } }
///
/// Don't call it from a Swift Task's own thread (it would block a cooperative
/// thread); async code awaits the async forms instead.
@available(*, noasync, message: "await the operation directly in async code")
public func runAsync<Success: Sendable, Failure: Error>(
  _ operation: sending @escaping @isolated(any) () async throws(Failure) -> Success
) throws(Failure) -> Success {
  let handle = GoTask<Success, Failure>()
  Task {
    let result: Result<Success, Failure>
    do throws(Failure) { result = .success(try await operation()) } catch { result = .failure(error) }
    handle.finish(result)
  }
  return try handle.wait()
}

/// A `go {}` task's (or `runAsync`'s) outcome, delivered once: a typed future.
/// Wait for it from tasks and threads with `wait()`, from async code with
/// `value` / `result`. Sendable (its value crosses tasks, so it must be Sendable).
///
/// Invariants: `outcome` is written once, by the task, before `finished`
/// becomes true (release); readers read it only after seeing `finished` (acquire). Waiters
/// queue under `lock` and are woken once, after the lock is dropped.
public final class GoTask<Success: Sendable, Failure: Error>: @unchecked Sendable {
  private let lock = SpinLock()
  private let finished = Atomic<Bool>(false)
  private var waiters = WaitQueue()
  @usableFromInline var outcome: Result<Success, Failure>? = nil

  @usableFromInline init() {}

  /// True once the task returned or threw.
  public var isFinished: Bool { finished.load(ordering: .acquiring) }

  /// Inlined into the spawning client (specialized: no metadata lookups); the
  /// wake-up half needs no type information.
  @inlinable
  func finish(_ result: Result<Success, Failure>) {
    outcome = result
    finishWaiters()
  }

  @usableFromInline
  func finishWaiters() {
    lock.lock()
    finished.store(true, ordering: .releasing)
    var woken = WakeList(capacity: waiters.count)
    while let waiter = waiters.dequeueClaiming() { woken.append(waiter.pointee.parker) }
    lock.unlock()
    woken.wakeAll()
  }

  /// Parks the calling task (or blocks the thread) until the task ends; its
  /// value, or rethrows its error.
  @available(*, noasync, message: "use `await handle.value` in async code")
  public func wait() throws(Failure) -> Success {
    try waitResult().get()
  }

  /// Parks the calling task (or blocks the thread) until the task ends.
  @available(*, noasync, message: "use `await handle.result` in async code")
  public func waitResult() -> Result<Success, Failure> {
    if !finished.load(ordering: .acquiring) {
      ParkerRef.with { parker in
        lock.lock()
        if finished.load(ordering: .acquiring) { return lock.unlock() }
        _ = parker.waitQueued(
          lock: lock, deadline: noDeadline, context: nil, reason: "go task wait",
          enqueue: { waiters.enqueue($0) }, leave: { waiters.remove($0) })
      }
    }
    guard finished.load(ordering: .acquiring) else { Self.abandoned() }
    return outcome!
  }

  /// The task's value, suspending (not blocking) until it ends; rethrows its error.
  public var value: Success {
    get async throws(Failure) { try await result.get() }
  }

  /// The task's outcome, suspending (not blocking) until it ends. Cancelling the
  /// awaiting Swift Task does not cancel the Weft task (pass it a Context).
  public var result: Result<Success, Failure> {
    get async {
      if !finished.load(ordering: .acquiring) {
        _ = await AsyncWait.wait(
          context: nil, cancelable: false,
          publish: { waiter in
            lock.lock()
            defer { lock.unlock() }
            if finished.load(ordering: .acquiring) { return 0 }
            waiters.enqueue(waiter)
            return nil
          },
          leave: { waiter in
            lock.lock()
            waiters.remove(waiter)
            lock.unlock()
          })
      }
      guard finished.load(ordering: .acquiring) else { Self.abandoned() }
    return outcome!
    }
  }

  /// Only at shutdown can a wait end without an outcome.
  private static func abandoned() -> Never {
    fatalError("weft: waited for a go {} task the runtime shut down before it finished")
  }
}

@usableFromInline
final class TaskBody {
  @usableFromInline let body: () -> Void
  @usableFromInline init(_ body: @escaping () -> Void) { self.body = body }
}

@usableFromInline
let runTaskBody: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
  Unmanaged<TaskBody>.fromOpaque(raw!).takeRetainedValue().body()
}
