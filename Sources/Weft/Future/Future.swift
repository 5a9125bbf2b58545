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
package typealias FutureFn =
  @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32

package final class Future: @unchecked Sendable {
  static let liveMagic: UInt32 = 0x5746_4655
  @exclusivity(unchecked)
  package private(set) var magic: UInt32 = Future.liveMagic
  let lock = SpinLock()
  private let done = Atomic<Bool>(false)
  @exclusivity(unchecked)
  private var waiters = WaitQueue()
  package let valueSize: Int
  let buffer: UnsafeMutableRawPointer?
  @exclusivity(unchecked)
  private var code: Int32 = 0
  package let context: Context
  let fn: FutureFn?
  let arg: UnsafeMutableRawPointer?
  let body: ((Context, UnsafeMutableRawPointer?) -> Int32)?

  private init(
    context: Context, valueSize: Int, fn: FutureFn?, arg: UnsafeMutableRawPointer?,
    body: ((Context, UnsafeMutableRawPointer?) -> Int32)?
  ) {
    self.context = context
    self.valueSize = valueSize
    self.buffer = valueSize > 0 ? UnsafeMutableRawPointer.allocate(byteCount: valueSize, alignment: 16) : nil
    if let buffer { memset(buffer, 0, valueSize) }
    self.fn = fn
    self.arg = arg
    self.body = body
  }

  deinit {
    magic = 0
    buffer?.deallocate()
  }

  package var isLive: Bool { magic == Future.liveMagic }

  /// Spawns fn(ctx, arg, buffer) in a task.
  package static func spawn(
    context: Context, valueSize: Int, fn: @escaping FutureFn, arg: UnsafeMutableRawPointer?
  ) -> Result<Future, WeftError> {
    Future(context: context, valueSize: valueSize, fn: fn, arg: arg, body: nil).launch()
  }

  /// Swift form: body(ctx, buffer) writes valueSize bytes and returns 0 or an error.
  package static func spawn(
    context: Context, valueSize: Int, _ body: @escaping (Context, UnsafeMutableRawPointer?) -> Int32
  ) -> Result<Future, WeftError> {
    Future(context: context, valueSize: valueSize, fn: nil, arg: nil, body: body).launch()
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
    let result: Int32
    if let fn {
      result = fn(OpaquePointer(Unmanaged.passUnretained(context).toOpaque()), arg, buffer)
    } else {
      result = body!(context, buffer)
    }
    lock.lock()
    code = result
    done.store(true, ordering: .releasing)
    while let waiter = waiters.dequeueClaiming() { waiter.pointee.parker.wake() }
    lock.unlock()
  }

  package var isReady: Bool { done.load(ordering: .acquiring) }

  /// Waits for the result: copies the value to out (may be nil) and returns fn's
  /// code; or the context's error when ctx ends first (the future keeps running).
  package func await(context ctx: Context?, into out: UnsafeMutableRawPointer?) -> Int32 {
    if !done.load(ordering: .acquiring) {
      let error: WeftError? = ParkerRef.with { parker in
        lock.lock()
        if done.load(ordering: .acquiring) {
          lock.unlock()
          return nil
        }
        parker.prepare()
        var waiter = Waiter(parker: parker)
        return withUnsafeMutablePointer(to: &waiter) { waiter in
          waiters.enqueue(waiter)
          lock.unlock()
          let claim = parker.park(deadline: noDeadline, context: ctx, reason: "future await")
          if claim == 0 { return nil }
          lock.lock()
          waiters.remove(waiter)
          lock.unlock()
          return Parker.error(forClaim: claim, context: ctx)
        }
      }
      if let error { return error.code }
    }
    if let out, let buffer { memcpy(out, buffer, valueSize) }
    return code
  }
}

private let futureEntry: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
  let future = Unmanaged<Future>.fromOpaque(raw!).takeRetainedValue()
  future.run()
}
