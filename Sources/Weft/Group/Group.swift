/// errgroup (golang.org/x/sync/errgroup): tasks that share a context; the first
/// non-zero result cancels that context (cause: the result) so siblings stop;
/// `wait` returns it and cancels the context too. `limit` bounds how many tasks
/// run at once.
///
/// Built directly on Park/: `slotWaiters` are go() calls waiting for a slot under
/// the limit (a finishing task hands its slot to the first one: `active` stays
/// the same), `waiters` are wait() calls, woken when `active` reaches 0.
///
/// Lock rules: `lock` guards active, limit, firstError and both queues; never
/// held while spawning, cancelling the context or running user code.
package final class Group: @unchecked Sendable {
  let lock = SpinLock()
  package let context: Context
  @exclusivity(unchecked)
  private var active = 0
  @exclusivity(unchecked)
  private var limit = -1
  @exclusivity(unchecked)
  private var firstError: Int32 = 0
  @exclusivity(unchecked)
  private var waiters = WaitQueue()
  @exclusivity(unchecked)
  private var slotWaiters = WaitQueue()

  package init(parent: Context) {
    context = Context.withCancel(parent)
  }

  /// At most n tasks at once (n < 0: no limit); .busy while tasks run.
  package func setLimit(_ n: Int) -> WeftError? {
    lock.lock()
    defer { lock.unlock() }
    if active > 0 { return .busy }
    limit = n < 0 ? -1 : n
    return nil
  }

  /// Runs body(ctx) in a new task, first waiting for a slot under the limit;
  /// body returns 0 or an error code.
  package func go(_ body: @escaping (Context) -> Int32) -> WeftError? {
    if let error = takeSlot(wait: true) { return error }
    return launch(Job(body: body))
  }

  /// go() that returns .wouldBlock instead of waiting for a slot.
  package func tryGo(_ body: @escaping (Context) -> Int32) -> WeftError? {
    if let error = takeSlot(wait: false) { return error }
    return launch(Job(body: body))
  }

  /// Waits for every task; returns the first non-zero result (0 if none) and
  /// cancels the group's context. ESHUTDOWN (and the context canceled with it)
  /// when shutdown ends the wait while tasks still run: never 0 before they
  /// all finished. (The C header's weft_group_wait: user results and runtime
  /// codes share the return value; waitResult keeps them apart.)
  package func wait() -> Int32 {
    switch waitResult() {
    case .success(let result): return result
    case .failure(let error): return error.code
    }
  }

  /// Waits for every task until deadline or until context ends. .success(the
  /// first non-zero task result, 0 if none) once every task finished (the
  /// group's context is canceled then); .failure(.timedOut / .canceled) when
  /// the deadline or context ends the wait first: the tasks keep running, the
  /// group's context is left alone and the caller may wait again;
  /// .failure(.shutdown) when shutdown ends it (the group's context canceled).
  package func waitResult(deadline: Int64 = noDeadline, context ctx: Context? = nil) -> Result<Int32, WeftError> {
    lock.lock()
    if active > 0 {
      if let ctx, let error = ctx.error {
        lock.unlock()
        return .failure(error)
      }
      if deadline != noDeadline && monotonicNow() >= deadline {
        lock.unlock()
        return .failure(.timedOut)
      }
      let outcome = ParkerRef.with { parker in
        parker.waitQueued(
          lock: lock, deadline: deadline, context: ctx, reason: "group wait",
          enqueue: { waiters.enqueue($0) }, leave: { waiters.remove($0) })
      }
      if let error = outcome.error {
        if error == .shutdown { context.cancel(cause: error.code) }
        return .failure(error)
      }
      lock.lock()
    }
    let result = firstError
    lock.unlock()
    context.cancel(cause: result)
    return .success(result)
  }

  // MARK: - Internals

  struct Job {
    var body: (Context) -> Int32
  }

  private func takeSlot(wait: Bool) -> WeftError? {
    lock.lock()
    if limit < 0 || active < limit {
      active += 1
      lock.unlock()
      return nil
    }
    guard wait else {
      lock.unlock()
      return .wouldBlock
    }
    if limit == 0 {
      lock.unlock()
      return .deadlock
    }
    // Claimed: a finishing task handed us its slot.
    return ParkerRef.with { parker in
      parker.waitQueued(
        lock: lock, deadline: noDeadline, context: nil, reason: "group go",
        enqueue: { slotWaiters.enqueue($0) }, leave: { slotWaiters.remove($0) })
    }.error
  }

  private func launch(_ job: Job) -> WeftError? {
    let record = UnsafeMutablePointer<GroupTask>.allocate(capacity: 1)
    record.initialize(to: GroupTask(group: Unmanaged.passRetained(self), job: job))
    if let error = Runtime.spawn(groupTaskEntry, UnsafeMutableRawPointer(record)) {
      record.pointee.group.release()
      record.deinitialize(count: 1)
      record.deallocate()
      finished(0)
      return error
    }
    return nil
  }

  /// A task ended with result: record the first error (cancelling the context
  /// before anyone can see the task done), then hand the slot on or free it.
  fileprivate func finished(_ result: Int32) {
    var cancel = false
    lock.lock()
    if result != 0 && firstError == 0 {
      firstError = result
      cancel = true
    }
    lock.unlock()
    if cancel { context.cancel(cause: result) }
    lock.lock()
    if let next = slotWaiters.dequeueClaiming() {
      next.pointee.parker.wake()
    } else {
      active -= 1
      if active == 0 {
        while let waiter = waiters.dequeueClaiming() { waiter.pointee.parker.wake() }
      }
    }
    lock.unlock()
  }

  /// Tasks running or holding a slot (tests).
  package var running: Int {
    lock.lock()
    defer { lock.unlock() }
    return active
  }
}

struct GroupTask {
  let group: Unmanaged<Group>
  let job: Group.Job
}

private let groupTaskEntry: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
  let record = raw!.assumingMemoryBound(to: GroupTask.self)
  let group = record.pointee.group.takeRetainedValue()
  let job = record.pointee.job
  record.deinitialize(count: 1)
  record.deallocate()
  group.finished(job.body(group.context))
}
