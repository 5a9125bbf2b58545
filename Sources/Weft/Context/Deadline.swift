/// Deadline contexts (Go's WithDeadline / WithTimeout): a cancel context with a
/// libuv timer (Time/Timers.swift) that finishes it with .timedOut. The timer
/// retains the context until it has left the loop (fired or stopped); a context
/// canceled early stops its timer (`finish` → `Timers.cancel`). A child's
/// deadline is never later than its parent's: when the parent's comes first the
/// child is a plain cancel context reporting the parent's deadline.
extension Context {
  /// WithDeadline: a child canceled with .timedOut at `deadline` (monotonic ns).
  package static func withDeadline(_ parent: Context, deadline: Int64) throws(WeftError) -> Context {
    if parent.deadline <= deadline { return withCancel(parent) }
    let context = Context(kind: .cancel, parent: parent, deadline: deadline)
    context.attach()
    if context.isDone { return context }
    if deadline <= monotonicNow() {
      context.finish(.timedOut)
      return context
    }
    let target = Unmanaged.passRetained(context)
    guard
      let timer = Timers.start(
        deadline: deadline, fire: contextDeadlineFired, target: target.toOpaque(),
        dispose: contextTimerDispose)
    else {
      target.release()
      context.finish(.canceled)
      throw .shutdown
    }
    context.lock.lock()
    if context.isDone {
      context.lock.unlock()
      Timers.cancel(timer)  // canceled (or its parent was) while the timer started
    } else {
      context.timer = timer
      context.lock.unlock()
    }
    return context
  }

  /// WithTimeout: a deadline timeout nanoseconds from now.
  package static func withTimeout(_ parent: Context, timeout: Int64) throws(WeftError) -> Context {
    try withDeadline(parent, deadline: Weft.deadline(after: timeout))
  }

  /// The deadline, if this context or an ancestor has one.
  package var deadlineIfAny: Int64? { deadline == noDeadline ? nil : deadline }
}

private let contextDeadlineFired: TimerCallback = { raw in
  Unmanaged<Context>.fromOpaque(raw!)._withUnsafeGuaranteedRef {
    _ = $0.finish(.timedOut, fromTimer: true)
  }
}

private let contextTimerDispose: TimerCallback = { raw in
  Unmanaged<Context>.fromOpaque(raw!).release()
}
