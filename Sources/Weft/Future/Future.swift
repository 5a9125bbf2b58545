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
public final class Future: @unchecked Sendable {
  let lock = SpinLock()
  private let done = Atomic<Bool>(false)
  private var waiters = WaitQueue()
  public let valueSize: Int
  let buffer: UnsafeMutableRawPointer?
  private var code: Int32 = 0
  public let context: Context
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
  public static func spawn(
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

  public var isReady: Bool { done.load(ordering: .acquiring) }

  /// Waits for the result: copies the value to out (may be nil) and returns fn's
  /// code; or the context's error when ctx ends first (the future keeps running).
  public func await(context ctx: Context?, into out: UnsafeMutableRawPointer?) -> Int32 {
    if !done.load(ordering: .acquiring) {
      lock.lock()
      if !done.load(ordering: .acquiring) {
        let outcome = ParkerRef.with { parker in
          parker.waitQueued(
            lock: lock, deadline: noDeadline, context: ctx, reason: "future await",
            enqueue: { waiters.enqueue($0) }, leave: { waiters.remove($0) })
        }
        if let error = outcome.error { return error.code }
      } else {
        lock.unlock()
      }
    }
    if let out, let buffer { memcpy(out, buffer, valueSize) }
    return code
  }
}

private let futureEntry: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
  let future = Unmanaged<Future>.fromOpaque(raw!).takeRetainedValue()
  future.run()
}
