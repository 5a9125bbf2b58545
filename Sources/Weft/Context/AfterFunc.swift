import Synchronization

/// Go's context.AfterFunc: runs a function in a NEW TASK once the context is done
/// (at once if it already is), unless stopped first.
///
/// `state` arbitrates running against stopping: pending → started (the context
/// ended: a task runs the function) or pending → stopped (stop won). A record is
/// held by its handle and, while registered, by its context's `afterFuncHead`
/// list (links guarded by that context's lock). It retains the context it is
/// registered with until it is freed, so `stop` can always reach the list.
package final class AfterFunc: @unchecked Sendable {
  static let pending: UInt8 = 0
  static let started: UInt8 = 1
  static let stopped: UInt8 = 2

  let state = Atomic<UInt8>(AfterFunc.pending)
  let fn: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
  let arg: UnsafeMutableRawPointer?
  let body: (() -> Void)?
  /// The context whose list holds this record (retained), nil if none.
  private var context: Unmanaged<Context>? = nil
  // Guarded by context's lock:
  var next: Unmanaged<AfterFunc>? = nil
  var prev: Unmanaged<AfterFunc>? = nil
  var linked = false

  init(fn: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?, arg: UnsafeMutableRawPointer?, body: (() -> Void)?) {
    self.fn = fn
    self.arg = arg
    self.body = body
  }

  deinit { context?.release() }

  /// Registers fn(arg) to run in a new task once context is done.
  package static func register(
    _ context: Context, fn: @escaping @convention(c) (UnsafeMutableRawPointer?) -> Void,
    arg: UnsafeMutableRawPointer?
  ) -> AfterFunc {
    AfterFunc(fn: fn, arg: arg, body: nil).attach(to: context)
  }

  /// Registers body to run in a new task once context is done.
  package static func register(_ context: Context, _ body: @escaping () -> Void) -> AfterFunc {
    AfterFunc(fn: nil, arg: nil, body: body).attach(to: context)
  }

  private func attach(to context: Context) -> AfterFunc {
    guard let source = context.sourceRef else { return self }  // never done: never runs
    var startNow = false
    source._withUnsafeGuaranteedRef { source in
      source.lock.lock()
      if source.isDone {
        startNow = true
      } else {
        self.context = Unmanaged.passRetained(source)
        let me = Unmanaged.passRetained(self)  // the list's reference
        next = source.afterFuncHead
        if let head = source.afterFuncHead { head._withUnsafeGuaranteedRef { $0.prev = me } }
        source.afterFuncHead = me
        linked = true
      }
      source.lock.unlock()
    }
    if startNow { start() }
    return self
  }

  /// Go's stop(): true if this call kept the function from running.
  @discardableResult
  package func stop() -> Bool {
    guard state.compareExchange(expected: AfterFunc.pending, desired: AfterFunc.stopped, ordering: .acquiringAndReleasing).exchanged
    else { return false }
    guard let context else { return true }
    var unlinked = false
    context._withUnsafeGuaranteedRef { context in
      context.lock.lock()
      if linked {
        if let prev { prev._withUnsafeGuaranteedRef { $0.next = next } } else { context.afterFuncHead = next }
        if let next { next._withUnsafeGuaranteedRef { $0.prev = prev } }
        next = nil
        prev = nil
        linked = false
        unlinked = true
      }
      context.lock.unlock()
    }
    if unlinked { Unmanaged.passUnretained(self).release() }
    return true
  }

  /// Called by the context's finish once it took the record out of its list
  /// (and cleared `linked` under its lock).
  func start() {
    guard state.compareExchange(expected: AfterFunc.pending, desired: AfterFunc.started, ordering: .acquiringAndReleasing).exchanged
    else { return }
    let raw = Unmanaged.passRetained(self).toOpaque()
    if Runtime.spawn(afterFuncEntry, raw, name: nil) != nil {
      Unmanaged<AfterFunc>.fromOpaque(raw).release()  // runtime gone: nothing can run it
    }
  }

  package var hasStarted: Bool { state.load(ordering: .acquiring) == AfterFunc.started }
}

private let afterFuncEntry: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
  let record = Unmanaged<AfterFunc>.fromOpaque(raw!).takeRetainedValue()
  if let fn = record.fn { fn(record.arg) } else { record.body?() }
}
