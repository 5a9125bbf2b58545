import Synchronization

/// How a Swift `async` function waits on a Weft primitive without blocking its
/// thread and without a task per call: a heap record holds a Parker whose
/// wake() resumes a continuation (Parker.asyncWait), the primitive's Waiter and
/// a context registration. The primitive's queues see an ordinary waiter, so a
/// `go {}` task, a plain thread and a Swift Task can meet on one channel.
///
/// Protocol (Parker's, with the continuation as the "thread"):
///  1. The continuation is stored before anything is published.
///  2. `publish` runs under the primitive's lock: it completes the operation at
///     once (returns its result, nothing queued) or queues the waiter (nil).
///  3. Whoever claims the parker — the primitive's waker, the deadline timer,
///     the context, the Swift task's cancellation handler — calls wake(): the
///     first of wake() and the end of step 2 to see the other resumes the
///     continuation (`phase`: 0 nothing yet, 1 waiting, 2 woken before 1).
///  4. Resumed, the waiter cancels its timer, leaves the context, and, when
///     the primitive did not claim it, takes its waiter out of the queue
///     (`leave`, under the primitive's lock); then the record is freed.
/// A claimer never touches the record after wake(). Swift's cancellation handler
/// is removed (and waited for) before withTaskCancellationHandler returns.
///
/// Shutdown: a wait that may suspend is enrolled (step 1) in a list that
/// weft_shutdown walks after its grace period (`releaseAllForShutdown`), claiming
/// each parker with Parker.shutdown: the Swift task resumes with `.shutdown`
/// and withdraws its record, under the list's lock, before freeing it. A wait
/// that enrolls after shutdown began claims itself (the flag is set before the
/// walk, and the lock orders the enrollment against it). Waits for a go {}
/// task's outcome (`cancelable: false`) are not enrolled: shutdown resumes the
/// task, whose end resolves them.
package enum AsyncWait {
  /// Per-wait bookkeeping after the parker and the two waiters.
  struct State: ~Copyable {
    let phase = Atomic<Int>(0)
    var continuation: UnsafeContinuation<Void, Never>? = nil
    var timer: TimerRef? = nil
    var registered = false
    var immediate: Int32? = nil
    /// Links in the shutdown list (guarded by `enrolledLock`).
    var prev: UnsafeMutableRawPointer? = nil
    var next: UnsafeMutableRawPointer? = nil
    var enrolled = false
  }

  /// The waits shutdown ends (see the type's comment), and how many records live.
  static let enrolledLock = SpinLock()
  nonisolated(unsafe) static var enrolledHead: UnsafeMutableRawPointer? = nil
  package static let liveRecords = Atomic<Int>(0)

  static func enroll(_ record: Record) {
    enrolledLock.lock()
    let state = record.state
    state.pointee.next = enrolledHead
    if let head = enrolledHead { Record(raw: head).state.pointee.prev = record.raw }
    enrolledHead = record.raw
    state.pointee.enrolled = true
    enrolledLock.unlock()
  }

  static func withdraw(_ record: Record) {
    enrolledLock.lock()
    let state = record.state
    if let prev = state.pointee.prev {
      Record(raw: prev).state.pointee.next = state.pointee.next
    } else {
      enrolledHead = state.pointee.next
    }
    if let next = state.pointee.next { Record(raw: next).state.pointee.prev = state.pointee.prev }
    state.pointee.enrolled = false
    enrolledLock.unlock()
  }

  /// weft_shutdown's claim of every enrolled async wait (Parker.shutdown): their
  /// Swift tasks resume with `.shutdown`. The list's lock keeps each record
  /// alive while it is claimed (its owner withdraws it before freeing it).
  /// Returns how many it woke.
  @discardableResult
  package static func releaseAllForShutdown() -> Int {
    var woken = 0
    enrolledLock.lock()
    var cursor = enrolledHead
    while let raw = cursor {
      let record = Record(raw: raw)
      cursor = record.state.pointee.next
      if record.parker.tryClaim(Parker.shutdown) {
        record.parker.wake()
        woken += 1
      }
    }
    enrolledLock.unlock()
    return woken
  }

  static let waiterOffset = roundUp(MemoryLayout<Parker>.stride, MemoryLayout<Waiter>.alignment)
  static let registrationOffset = roundUp(waiterOffset + MemoryLayout<Waiter>.stride, MemoryLayout<Waiter>.alignment)
  static let stateOffset = roundUp(
    registrationOffset + MemoryLayout<Waiter>.stride, MemoryLayout<State>.alignment)
  static let size = stateOffset + MemoryLayout<State>.stride

  static func roundUp(_ n: Int, _ alignment: Int) -> Int { (n + alignment - 1) & ~(alignment - 1) }

  struct Record {
    let raw: UnsafeMutableRawPointer
    var parker: ParkerRef { raw.assumingMemoryBound(to: Parker.self) }
    var waiter: WaiterRef { (raw + AsyncWait.waiterOffset).assumingMemoryBound(to: Waiter.self) }
    var registration: WaiterRef { (raw + AsyncWait.registrationOffset).assumingMemoryBound(to: Waiter.self) }
    var state: UnsafeMutablePointer<State> { (raw + AsyncWait.stateOffset).assumingMemoryBound(to: State.self) }
  }

  /// The record's address as a Sendable value (the cancellation handler's capture).
  struct Handle: @unchecked Sendable { let raw: UnsafeMutableRawPointer }

  /// Parker.wake() of an async waiter: step 3.
  static func resume(_ raw: UnsafeMutableRawPointer) {
    let state = Record(raw: raw).state
    if state.pointee.phase.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged {
      return  // the waiting side has not finished publishing: it resumes itself
    }
    state.pointee.continuation.unsafelyUnwrapped.resume()
  }

  /// Waits for the waiter `publish` queues to be claimed (see the protocol).
  /// `elem` and `amount` go into the waiter; `deadline` (monotonic ns) and
  /// `context` may end the wait, as may cancelling the calling Swift task when
  /// `cancelable`.
  package static func wait(
    elem: UnsafeMutableRawPointer? = nil, amount: Int64 = 0, deadline: Int64 = noDeadline,
    context: Context?, cancelable: Bool = true, publish: (WaiterRef) -> Int32?,
    leave: (WaiterRef) -> Void
  ) async -> QueuedWait {
    let record = Record(raw: UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16))
    record.parker.initialize(to: Parker(task: nil, signal: nil))
    record.parker.pointee.asyncWait = record.raw
    record.waiter.initialize(to: Waiter(parker: record.parker, elem: elem))
    record.waiter.pointee.amount = amount
    record.registration.initialize(to: Waiter(parker: record.parker, caseIndex: Parker.canceled))
    record.state.initialize(to: State())
    liveRecords.add(1, ordering: .relaxed)
    defer {
      liveRecords.subtract(1, ordering: .relaxed)
      record.state.deinitialize(count: 1)
      record.registration.deinitialize(count: 1)
      record.waiter.deinitialize(count: 1)
      record.parker.deinitialize(count: 1)
      record.raw.deallocate()
    }
    let handle = Handle(raw: record.raw)
    func suspend() async {
      await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
        let parker = record.parker
        let state = record.state
        state.pointee.continuation = continuation
        if cancelable {
          AsyncWait.enroll(record)
          // Shutdown began: its walk may have passed already (see the type's comment).
          if Runtime.isStopping { _ = parker.tryClaim(Parker.shutdown) }
        }
        // Canceled (or shut down) before we started: claimed, nothing published.
        if parker.claimed != Parker.unclaimed { return continuation.resume() }
        if let result = publish(record.waiter) {
          state.pointee.immediate = result
          return continuation.resume()
        }
        if deadline != noDeadline {
          state.pointee.timer = Timers.start(deadline: deadline, fire: asyncWaitTimeout, target: record.raw)
          if state.pointee.timer == nil, parker.tryClaim(Parker.shutdown) { parker.wake() }
        }
        if let context, context.canEnd {
          if context.register(record.registration) {
            state.pointee.registered = true
          } else if parker.tryClaim(Parker.canceled) {
            parker.wake()
          }
        }
        if !state.pointee.phase.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged {
          continuation.resume()  // woken while we were publishing
        }
      }
    }
    if cancelable {
      await withTaskCancellationHandler(operation: suspend) {
        let parker = Record(raw: handle.raw).parker
        if parker.tryClaim(Parker.canceled) { parker.wake() }
      }
    } else {
      await suspend()
    }
    let state = record.state
    if state.pointee.enrolled { AsyncWait.withdraw(record) }
    if let timer = state.pointee.timer { _ = Timers.cancel(timer) }
    if state.pointee.registered { context!.unregister(record.registration) }
    if let result = state.pointee.immediate { return .claimed(result: result) }
    let claim = record.parker.claimed
    if claim == record.waiter.pointee.caseIndex { return .claimed(result: record.waiter.pointee.result) }
    leave(record.waiter)
    return .failed(Parker.error(forClaim: claim, context: context) ?? .canceled)
  }
}

private let asyncWaitTimeout: TimerCallback = { raw in
  let parker = raw!.assumingMemoryBound(to: Parker.self)
  if parker.tryClaim(Parker.timedOut) { parker.wake() }
}

extension Channel {
  /// receive(into:deadline:context:) for async callers: out must stay valid
  /// until it returns.
  @usableFromInline
  package func receiveAsync(
    into out: UnsafeMutableRawPointer?, deadline: Int64, context: Context?
  ) async -> WeftError? {
    let storage = self.storage
    return await waitAsync(elem: out, deadline: deadline, context: context, receiving: true) { wake in
      storage.receiveLocked(out, wake: &wake)
    }
  }

  /// send(_:deadline:context:) for async callers: elem must stay valid until
  /// it returns.
  @usableFromInline
  package func sendAsync(_ elem: UnsafeRawPointer?, deadline: Int64, context: Context?) async -> WeftError? {
    let storage = self.storage
    return await waitAsync(
      elem: UnsafeMutableRawPointer(mutating: elem), deadline: deadline, context: context, receiving: false
    ) { wake in storage.sendLocked(elem, wake: &wake) }
  }

  /// The shared tail: one attempt, then (under the lock) another attempt or a
  /// waiter queued among the receivers or the senders.
  private func waitAsync(
    elem: UnsafeMutableRawPointer?, deadline: Int64, context: Context?, receiving: Bool,
    attempt: (inout ParkerRef?) -> Int32
  ) async -> WeftError? {
    let storage = self.storage
    var wake: ParkerRef? = nil
    storage.lock()
    var status = attempt(&wake)
    storage.unlock()
    if let wake { wake.wake() }
    if status != WeftError.wouldBlock.code { return WeftError(rawValue: status) }
    if let error = AsyncWait.failFast(deadline: deadline, context: context) { return error }
    return await AsyncWait.wait(
      elem: elem, deadline: deadline, context: context,
      publish: { waiter in
        var wake: ParkerRef? = nil
        storage.lock()
        status = attempt(&wake)
        if status == WeftError.wouldBlock.code {
          if receiving {
            storage.pointee.machine.receivers.enqueue(waiter)
          } else {
            storage.pointee.machine.senders.enqueue(waiter)
          }
        }
        storage.unlock()
        if let wake { wake.wake() }
        return status == WeftError.wouldBlock.code ? nil : status
      },
      leave: { waiter in
        storage.lock()
        if receiving {
          storage.pointee.machine.receivers.remove(waiter)
        } else {
          storage.pointee.machine.senders.remove(waiter)
        }
        storage.unlock()
      }
    ).channelError
  }
}

extension AsyncWait {
  /// A passed deadline, a done context or a canceled Swift task, checked
  /// before anything is published.
  static func failFast(deadline: Int64, context: Context?) -> WeftError? {
    if deadline != noDeadline, deadline <= monotonicNow() { return .timedOut }
    if let error = context?.error { return error }
    if Task.isCancelled { return .canceled }
    if Runtime.isStopping { return .shutdown }
    return nil
  }
}

extension QueuedWait {
  /// nil for a claim with result 0, else the error (the claimer's code or the
  /// reason the wait ended).
  var channelError: WeftError? {
    switch self {
    case .claimed(let result): WeftError(rawValue: result)
    case .failed(let error): error
    }
  }
}
