import Glibc
import Synchronization

/// Futures: a task that produces valueSize bytes and an error code, awaited
/// with a context; and `collect`, many jobs with partial success.
///
/// Future invariants: `buffer` is written only by the producing task, before
/// `done` becomes true (release); readers copy it only after seeing `done`
/// (acquire), so the value is delivered whole and never changes. Waiters are
/// woken once, under `lock`, by the producer. A future (and its context) stays
/// alive while its task runs, whoever released their handles.
package final class Future: @unchecked Sendable {
  let lock = SpinLock()
  private let done = Atomic<Bool>(false)
  @exclusivity(unchecked)
  private var waiters = WaitQueue()
  package let valueSize: Int
  let buffer: UnsafeMutableRawPointer?
  @exclusivity(unchecked)
  private var code: Int32 = 0
  package let context: Context
  let body: (Context, UnsafeMutableRawPointer?) -> Int32

  private init(context: Context, valueSize: Int, body: @escaping (Context, UnsafeMutableRawPointer?) -> Int32) {
    self.context = context
    self.valueSize = valueSize
    self.buffer = valueSize > 0 ? UnsafeMutableRawPointer.allocate(byteCount: valueSize, alignment: 16) : nil
    if let buffer { memset(buffer, 0, valueSize) }
    self.body = body
  }

  deinit { buffer?.deallocate() }

  /// Spawns body(ctx, buffer) in a task: it writes valueSize bytes and returns 0
  /// or an error.
  package static func spawn(
    context: Context, valueSize: Int, _ body: @escaping (Context, UnsafeMutableRawPointer?) -> Int32
  ) -> Result<Future, WeftError> {
    Future(context: context, valueSize: valueSize, body: body).launch()
  }

  private func launch() -> Result<Future, WeftError> {
    let raw = Unmanaged.passRetained(self).toOpaque()  // the task's reference
    if let error = Runtime.spawn(futureEntry, raw) {
      Unmanaged<Future>.fromOpaque(raw).release()
      return .failure(error)
    }
    return .success(self)
  }

  fileprivate func run() {
    let result = body(context, buffer)
    lock.lock()
    code = result
    done.store(true, ordering: .releasing)
    while let waiter = waiters.dequeueClaiming() { waiter.pointee.parker.wake() }
    lock.unlock()
  }

  package var isReady: Bool { done.load(ordering: .acquiring) }

  /// Waits for the result: copies the value to out (may be nil) and returns fn's
  /// code; or the context's error when ctx ends first (the future keeps running).
  /// (The C header's weft_future_await: fn's code and runtime codes share the
  /// return value; awaitResult keeps them apart.)
  package func await(context ctx: Context?, into out: UnsafeMutableRawPointer?) -> Int32 {
    switch awaitResult(context: ctx, into: out) {
    case .success(let result): return result
    case .failure(let error): return error.code
    }
  }

  /// Waits for the result until deadline or until ctx ends: .success(fn's code)
  /// with the value copied to out (may be nil), or .failure(.timedOut /
  /// .canceled / .shutdown) when the wait ends first (the future keeps running;
  /// out is untouched).
  package func awaitResult(
    deadline: Int64 = noDeadline, context ctx: Context?, into out: UnsafeMutableRawPointer?
  ) -> Result<Int32, WeftError> {
    if !done.load(ordering: .acquiring) {
      if let ctx, let error = ctx.error { return .failure(error) }
      lock.lock()
      if !done.load(ordering: .acquiring) {
        if deadline != noDeadline && monotonicNow() >= deadline {
          lock.unlock()
          return .failure(.timedOut)
        }
        let outcome = ParkerRef.with { parker in
          parker.waitQueued(
            lock: lock, deadline: deadline, context: ctx, reason: "future await",
            enqueue: { waiters.enqueue($0) }, leave: { waiters.remove($0) })
        }
        if let error = outcome.error { return .failure(error) }
      } else {
        lock.unlock()
      }
    }
    if let out, let buffer { memcpy(out, buffer, valueSize) }
    return .success(code)
  }
}

private let futureEntry: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
  let future = Unmanaged<Future>.fromOpaque(raw!).takeRetainedValue()
  future.run()
}
