import CLibUV
import Glibc
import Synchronization

/// fd readiness on the workers' loops: Go's netpoller built on libuv's uv_poll_t.
///
/// A task that waits on an fd publishes a Waiter in the fd's queue (readers or
/// writers; `amount` = the index of the worker it waits on) and makes sure the
/// fd's poll handle on ITS worker's loop watches that event, then parks through
/// the ordinary Parker (deadline and context included). The poll callback, on
/// that worker's scheduler stack, claims the waiters of that loop and wakes
/// them. Plain threads do not register: they poll(2) in slices (see threadWait).
///
/// One FdState per fd number (FdTable, never freed, reset by close); in it one
/// PollHandle per worker loop that ever waited on the fd, reused by every later
/// wait (level-triggered: a ready event nobody waits for is dropped from the
/// handle's mask when it fires, so a steady read/write loop costs no epoll_ctl).
///
/// Lock rules: `FdState.lock` guards the queues, `closing`, the handle slots and
/// each handle's waiter counts. A handle's uv side (`applied`, uv_poll_*) belongs
/// to its worker's thread alone; other threads reach it by posting an IOOp.
/// Never call into libuv while holding the lock.
package enum IOEvents {
  package static let readable: Int32 = 1  // UV_READABLE
  package static let writable: Int32 = 2  // UV_WRITABLE
  static let both: Int32 = 3
}

struct PollHandle {
  let uv: UnsafeMutablePointer<uv_poll_t>
  let state: FdStateRef
  let worker: Int
  /// Waiters of this loop in the fd's queues; under state.lock.
  var readers = 0
  var writers = 0
  /// The mask uv_poll_start was given (0: stopped); owner thread only.
  var applied: Int32 = 0

  var wanted: Int32 { (readers > 0 ? IOEvents.readable : 0) | (writers > 0 ? IOEvents.writable : 0) }
}

typealias PollHandleRef = UnsafeMutablePointer<PollHandle>

struct FdState: ~Copyable {
  let lock = SpinLock()
  let fd: Int32
  var readers = WaitQueue()
  var writers = WaitQueue()
  /// Set by close until the fd is closed and the state reset; new waits fail.
  var closing = false
  /// Bumped by every close: a plain thread's sliced wait notices it.
  let generation = Atomic<UInt64>(0)
  /// One slot per worker (allocated on first registration).
  var handles: UnsafeMutablePointer<PollHandleRef?>? = nil

  init(fd: Int32) { self.fd = fd }
}

typealias FdStateRef = UnsafeMutablePointer<FdState>

/// Per-worker I/O state (Worker.io): ops posted by other threads for this
/// loop's poll handles, and the count of poll handles with a non-empty mask.
final class WorkerIO: @unchecked Sendable {
  enum Op {
    /// Recompute the fd's mask on this loop (a waiter left from elsewhere).
    case sync(FdStateRef)
    /// Stop and free the fd's handle on this loop, then done() the group.
    case destroy(FdStateRef, WaitGroup)
  }
  let lock = SpinLock()
  var ops: [Op] = []
  let pending = Atomic<Bool>(false)
  let active = Atomic<Int>(0)
  init() {}
}

/// fd number -> FdState, two levels (1024 x 1024) so lookups take no lock.
enum FdTable {
  static let chunkSize = 1024
  static let chunks = 1024
  nonisolated(unsafe) private static let slots: UnsafeMutablePointer<Atomic<UInt>> = {
    let slots = UnsafeMutablePointer<Atomic<UInt>>.allocate(capacity: chunks)
    for i in 0..<chunks { (slots + i).initialize(to: Atomic<UInt>(0)) }
    return slots
  }()
  private static let growLock = SpinLock()

  /// The fd's state, made on first use; nil past the table (fd >= 2^20).
  static func state(_ fd: Int32) -> FdStateRef? {
    let index = Int(fd)
    guard index >= 0, index < chunkSize * chunks else { return nil }
    let slot = slots + index / chunkSize
    var bits = slot.pointee.load(ordering: .acquiring)
    if bits == 0 {
      growLock.lock()
      bits = slot.pointee.load(ordering: .acquiring)
      if bits == 0 {
        let chunk = FdStateRef.allocate(capacity: chunkSize)
        let base = Int32(index / chunkSize * chunkSize)
        for i in 0..<chunkSize { (chunk + i).initialize(to: FdState(fd: base + Int32(i))) }
        bits = UInt(bitPattern: chunk)
        slot.pointee.store(bits, ordering: .releasing)
      }
      growLock.unlock()
    }
    return FdStateRef(bitPattern: bits)! + index % chunkSize
  }

  /// The fd's state if one was ever made (no allocation).
  static func existing(_ fd: Int32) -> FdStateRef? {
    let index = Int(fd)
    guard index >= 0, index < chunkSize * chunks else { return nil }
    let bits = (slots + index / chunkSize).pointee.load(ordering: .acquiring)
    return bits == 0 ? nil : FdStateRef(bitPattern: bits)! + index % chunkSize
  }
}

package enum Poller {
  /// How long a plain thread's poll(2) runs before it looks at its context,
  /// the deadline and a concurrent close again.
  static let threadSliceMs: Int32 = 5

  /// True when fd is an open descriptor.
  static func isOpen(_ fd: Int32) -> Bool { fd >= 0 && fcntl(fd, F_GETFD) != -1 }

  /// Waits until fd is ready for one of `events` (IOEvents); returns the ready
  /// event (> 0) or a negative WeftError code. Parks a task, blocks a thread.
  package static func wait(fd: Int32, events: Int32, deadline: Int64 = noDeadline, context: Context? = nil) -> Int32 {
    guard events != 0, events & ~IOEvents.both == 0 else { return WeftError.invalid.code }
    // A closed fd must not reach libuv: epoll_ctl's EBADF aborts it.
    guard isOpen(fd) else { return WeftError.badFd.code }
    return waitOpen(fd: fd, events: events, deadline: deadline, context: context)
  }

  /// wait() for an fd the caller knows is open (a Socket's, during a call).
  static func waitOpen(fd: Int32, events: Int32, deadline: Int64, context: Context?) -> Int32 {
    guard let state = FdTable.state(fd) else { return WeftError.invalid.code }
    if Scheduler.currentTask() != nil { return taskWait(state, events, deadline, context) }
    return threadWait(state, events, deadline, context)
  }

  // MARK: - Tasks

  private static func taskWait(_ state: FdStateRef, _ events: Int32, _ deadline: Int64, _ context: Context?) -> Int32 {
    let worker = Scheduler.currentWorker()!
    let index = worker.index
    let handle: PollHandleRef
    switch handleOnCurrentWorker(state, worker) {
    case .success(let h): handle = h
    case .failure(let error): return error.code
    }
    return ParkerRef.with { parker in
      parker.prepare()
      var readWaiter = Waiter(parker: parker, caseIndex: Int(IOEvents.readable))
      var writeWaiter = Waiter(parker: parker, caseIndex: Int(IOEvents.writable))
      readWaiter.amount = Int64(index)
      writeWaiter.amount = Int64(index)
      return withUnsafeMutablePointer(to: &readWaiter) { r in
        withUnsafeMutablePointer(to: &writeWaiter) { w in
          state.pointee.lock.lock()
          if state.pointee.closing {
            state.pointee.lock.unlock()
            parker.unprepare()
            return WeftError.closed.code
          }
          if events & IOEvents.readable != 0 {
            state.pointee.readers.enqueue(r)
            handle.pointee.readers += 1
          }
          if events & IOEvents.writable != 0 {
            state.pointee.writers.enqueue(w)
            handle.pointee.writers += 1
          }
          let mask = handle.pointee.applied | handle.pointee.wanted
          state.pointee.lock.unlock()
          apply(handle, mask, on: worker)
          let claim = parker.park(deadline: deadline, context: context, reason: "fd wait")
          let won = claim == Int(IOEvents.readable) || claim == Int(IOEvents.writable)
          if !won || events == IOEvents.both {  // else the claimer dequeued it
            state.pointee.lock.lock()
            leave(state, r)
            leave(state, w)
            state.pointee.lock.unlock()
          }
          if won {
            let result = (claim == Int(IOEvents.readable) ? r : w).pointee.result
            return result < 0 ? result : Int32(claim)
          }
          // Timed out, canceled or shut down: nothing of ours may stay armed.
          if let now = Scheduler.currentWorker(), now.index == index {
            sync(state, on: now)
          } else {
            post(.sync(state), to: worker)
          }
          return (Parker.error(forClaim: claim, context: context) ?? .canceled).code
        }
      }
    }
  }

  /// Takes a still-queued waiter out of its queue and its handle's count.
  /// Under state.lock.
  private static func leave(_ state: FdStateRef, _ waiter: WaiterRef) {
    guard waiter.pointee.queued else { return }
    let readable = waiter.pointee.caseIndex == Int(IOEvents.readable)
    if readable { state.pointee.readers.remove(waiter) } else { state.pointee.writers.remove(waiter) }
    if let handle = state.pointee.handles?[Int(waiter.pointee.amount)] {
      if readable { handle.pointee.readers -= 1 } else { handle.pointee.writers -= 1 }
    }
  }

  /// The fd's handle on this worker's loop, made (uv_poll_init) on first use.
  private static func handleOnCurrentWorker(_ state: FdStateRef, _ worker: Worker) -> Result<PollHandleRef, WeftError> {
    if let slots = state.pointee.handles, let handle = slots[worker.index] { return .success(handle) }
    let uv = UnsafeMutablePointer<uv_poll_t>.allocate(capacity: 1)
    let rc = uv_poll_init(worker.loop, uv, state.pointee.fd)
    if rc != 0 {
      uv.deallocate()
      // EPERM: epoll refuses the fd (a regular file); EEXIST: libuv already
      // watches this fd number on this loop.
      return .failure(rc == -EBADF ? .badFd : .invalid)
    }
    let handle = PollHandleRef.allocate(capacity: 1)
    handle.initialize(to: PollHandle(uv: uv, state: state, worker: worker.index))
    uv.pointee.data = UnsafeMutableRawPointer(handle)
    state.pointee.lock.lock()
    if state.pointee.closing {
      state.pointee.lock.unlock()
      closeHandle(handle)
      return .failure(.closed)
    }
    if state.pointee.handles == nil {
      let count = worker.runtime.workers.count
      let slots = UnsafeMutablePointer<PollHandleRef?>.allocate(capacity: count)
      slots.initialize(repeating: nil, count: count)
      state.pointee.handles = slots
    }
    state.pointee.handles![worker.index] = handle
    state.pointee.lock.unlock()
    return .success(handle)
  }

  /// Owner thread: gives the handle's uv side the mask.
  private static func apply(_ handle: PollHandleRef, _ mask: Int32, on worker: Worker) {
    let old = handle.pointee.applied
    guard mask != old else { return }
    if mask == 0 {
      uv_poll_stop(handle.pointee.uv)
    } else {
      uv_poll_start(handle.pointee.uv, mask, pollCallback)
    }
    handle.pointee.applied = mask
    if old == 0 { worker.io.active.add(1, ordering: .relaxed) }
    if mask == 0 { worker.io.active.subtract(1, ordering: .relaxed) }
  }

  /// Owner thread: the mask back to exactly what this loop's waiters want.
  private static func sync(_ state: FdStateRef, on worker: Worker) {
    guard let handle = state.pointee.handles?[worker.index] else { return }
    state.pointee.lock.lock()
    let mask = handle.pointee.wanted
    state.pointee.lock.unlock()
    apply(handle, mask, on: worker)
  }

  /// Owner thread: stops the handle and frees it once libuv let it go.
  private static func destroy(_ state: FdStateRef, on worker: Worker) {
    state.pointee.lock.lock()
    let handle = state.pointee.handles?[worker.index]
    state.pointee.handles?[worker.index] = nil
    state.pointee.lock.unlock()
    guard let handle else { return }
    if handle.pointee.applied != 0 { worker.io.active.subtract(1, ordering: .relaxed) }
    handle.pointee.applied = 0
    closeHandle(handle)
  }

  /// Owner thread: uv_close stops the watcher (epoll_ctl DEL) at once; the
  /// memory goes in the close callback.
  private static func closeHandle(_ handle: PollHandleRef) {
    handle.pointee.uv.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv in
      uv_close(uv) { closed in
        let handle = closed!.pointee.data!.assumingMemoryBound(to: PollHandle.self)
        handle.pointee.uv.deallocate()
        handle.deinitialize(count: 1)
        handle.deallocate()
      }
    }
  }

  /// Runs on the handle's worker, inside uv_run on its scheduler stack.
  private static let pollCallback: uv_poll_cb = { uv, status, events in
    let handle = uv!.pointee.data!.assumingMemoryBound(to: PollHandle.self)
    let state = handle.pointee.state
    let index = handle.pointee.worker
    guard let worker = Scheduler.currentWorker() else { return }
    if status < 0 {
      // POLLERR: libuv stopped the watcher. Wake everyone of this loop: the
      // syscall they retry reports the real error.
      if handle.pointee.applied != 0 { worker.io.active.subtract(1, ordering: .relaxed) }
      handle.pointee.applied = 0
    }
    let ready = status < 0 ? IOEvents.both : events & IOEvents.both
    var served: Int32 = 0
    // Woken tasks go to this worker's runnext, and once that is taken to the
    // global queue while another worker is idle (else this worker's queue):
    // a loop holding many connections must not keep all their tasks (not the
    // due list either: only this worker runs it). Waking under the lock is
    // safe: a task woken elsewhere only spins on the lock until we leave.
    state.pointee.lock.lock()
    if ready & IOEvents.readable != 0, handle.pointee.readers > 0 {
      claimAll(&state.pointee.readers, worker: index, result: 0) { handle.pointee.readers -= 1 } claimed: { Scheduler.unpark($0.pointee.task!, spread: true) }
      served |= IOEvents.readable
    }
    if ready & IOEvents.writable != 0, handle.pointee.writers > 0 {
      claimAll(&state.pointee.writers, worker: index, result: 0) { handle.pointee.writers -= 1 } claimed: { Scheduler.unpark($0.pointee.task!, spread: true) }
      served |= IOEvents.writable
    }
    // Ready events that had waiters stay armed (their tasks are likely to wait
    // again); ready ones nobody waited for are dropped.
    let wanted = handle.pointee.wanted
    state.pointee.lock.unlock()
    apply(handle, status < 0 ? wanted : (handle.pointee.applied & ~ready) | served | wanted, on: worker)
  }

  /// Under state.lock: claims every waiter of the worker (nil: all) in queue,
  /// sets its result and hands its parker to `claimed`.
  private static func claimAll(
    _ queue: inout WaitQueue, worker: Int?, result: Int32, removed: () -> Void, claimed: (ParkerRef) -> Void
  ) {
    var cursor = queue.head
    while let waiter = cursor {
      cursor = waiter.pointee.next
      if let worker, waiter.pointee.amount != Int64(worker) { continue }
      queue.remove(waiter)
      removed()
      if waiter.pointee.parker.tryClaim(waiter.pointee.caseIndex) {
        waiter.pointee.result = result
        claimed(waiter.pointee.parker)
      }
    }
  }

  // MARK: - Plain threads

  /// poll(2) in slices of threadSliceMs, between which the context, the
  /// deadline, shutdown and a close of the fd are looked at.
  private static func threadWait(_ state: FdStateRef, _ events: Int32, _ deadline: Int64, _ context: Context?) -> Int32 {
    let generation = state.pointee.generation.load(ordering: .acquiring)
    var fds = pollfd(fd: state.pointee.fd, events: 0, revents: 0)
    if events & IOEvents.readable != 0 { fds.events |= Int16(POLLIN) }
    if events & IOEvents.writable != 0 { fds.events |= Int16(POLLOUT) }
    while true {
      if Runtime.isStopping { return WeftError.shutdown.code }
      if let error = context?.error { return error.code }
      if state.pointee.generation.load(ordering: .acquiring) != generation { return WeftError.closed.code }
      let now = monotonicNow()
      if now >= deadline { return WeftError.timedOut.code }
      var slice = threadSliceMs
      if deadline != noDeadline {
        slice = Int32(min(Int64(slice), (deadline - now + 999_999) / 1_000_000))
      }
      fds.revents = 0
      let rc = poll(&fds, 1, slice)
      if rc < 0 {
        if errno == EINTR { continue }
        return WeftError(errno: errno).code
      }
      if rc == 0 { continue }
      if state.pointee.generation.load(ordering: .acquiring) != generation { return WeftError.closed.code }
      let revents = Int32(fds.revents)
      if revents & Int32(POLLNVAL) != 0 { return WeftError.badFd.code }
      let anyway = revents & Int32(POLLERR | POLLHUP) != 0
      if events & IOEvents.readable != 0, anyway || revents & Int32(POLLIN) != 0 { return IOEvents.readable }
      if events & IOEvents.writable != 0, anyway || revents & Int32(POLLOUT) != 0 { return IOEvents.writable }
    }
  }

  // MARK: - Close

  /// weft_fd_close (closeFd) / weft_fd_forget: beginClose, then endClose.
  package static func close(fd: Int32, closeFd: Bool) -> Int32 {
    if let error = beginClose(fd: fd) { return error.code }
    return endClose(fd: fd, closeFd: closeFd)
  }

  /// Wakes every waiter of fd with .closed and stops and frees its poll
  /// handles on every loop; until endClose, new waits fail with .closed.
  /// .closed when a close already began, .badFd for a closed fd.
  package static func beginClose(fd: Int32) -> WeftError? {
    guard isOpen(fd) else { return .badFd }
    guard let state = FdTable.state(fd) else { return nil }
    var wake = WakeList(capacity: 4)
    var loops: [Int] = []
    state.pointee.lock.lock()
    if state.pointee.closing {
      state.pointee.lock.unlock()
      return .closed
    }
    state.pointee.closing = true
    state.pointee.generation.add(1, ordering: .releasing)
    claimAll(&state.pointee.readers, worker: nil, result: WeftError.closed.code) {} claimed: { wake.append($0) }
    claimAll(&state.pointee.writers, worker: nil, result: WeftError.closed.code) {} claimed: { wake.append($0) }
    if let slots = state.pointee.handles, let runtime = Runtime.shared {
      for i in 0..<runtime.workers.count {
        guard let handle = slots[i] else { continue }
        handle.pointee.readers = 0
        handle.pointee.writers = 0
        loops.append(i)
      }
    }
    state.pointee.lock.unlock()
    wake.wakeAll()
    if !loops.isEmpty, let runtime = Runtime.shared, Runtime.phase != .stopped {
      let group = WaitGroup()
      for i in loops {
        let worker = runtime.workers[i]
        if Scheduler.currentWorker() === worker {
          destroy(state, on: worker)
        } else {
          _ = group.coreAdd(1)
          post(.destroy(state, group), to: worker)
        }
      }
      // Bounded: a worker that is gone (shutdown) never runs its op.
      _ = group.coreWait(deadline: monotonicNow() + 2_000_000_000)
    }
    return nil
  }

  /// After beginClose: close(2)s fd (closeFd) and lets its number be waited on
  /// again.
  package static func endClose(fd: Int32, closeFd: Bool) -> Int32 {
    guard let state = FdTable.existing(fd) else {
      return closeFd && Glibc.close(fd) != 0 ? WeftError(errno: errno).code : 0
    }
    state.pointee.lock.lock()
    var rc: Int32 = 0
    if closeFd, Glibc.close(fd) != 0, errno != EINTR { rc = WeftError(errno: errno).code }
    state.pointee.closing = false
    state.pointee.lock.unlock()
    return rc
  }

  // MARK: - Ops posted to a worker

  private static func post(_ op: WorkerIO.Op, to worker: Worker) {
    let io = worker.io
    io.lock.lock()
    io.ops.append(op)
    io.pending.store(true, ordering: .sequentiallyConsistent)
    io.lock.unlock()
    uv_async_send(worker.wakeup)
  }

  /// Worker.run calls this on its own thread when `io.pending` is set.
  static func drain(_ worker: Worker) {
    let io = worker.io
    io.lock.lock()
    let ops = io.ops
    io.ops.removeAll(keepingCapacity: true)
    io.pending.store(false, ordering: .sequentiallyConsistent)
    io.lock.unlock()
    for op in ops {
      switch op {
      case .sync(let state): sync(state, on: worker)
      case .destroy(let state, let group):
        destroy(state, on: worker)
        _ = group.coreDone()
      }
    }
  }

  /// Poll handles with a non-empty mask, over every loop (weft_stats).
  package static var activeHandles: Int {
    guard let runtime = Runtime.shared else { return 0 }
    return runtime.workers.reduce(0) { $0 + $1.io.active.load(ordering: .relaxed) }
  }
}

extension WeftError {
  /// The code for an errno value (positive) from a failed system call.
  package init(errno value: Int32) {
    switch value {
    case EAGAIN: self = .wouldBlock
    case ENOMEM, ENOBUFS: self = .noMemory
    case EINVAL: self = .invalid
    case EBUSY: self = .busy
    case EPERM: self = .access
    case ETIMEDOUT: self = .timedOut
    case ECANCELED: self = .canceled
    case ENOENT: self = .noEntry
    case EBADF: self = .badFd
    case EACCES: self = .access
    case EMFILE, ENFILE: self = .tooManyFiles
    case ENOTSOCK: self = .notSocket
    case EADDRINUSE: self = .addressInUse
    case EADDRNOTAVAIL: self = .addressNotAvailable
    case ENETUNREACH, ENETDOWN: self = .networkUnreachable
    case ECONNABORTED: self = .connectionAborted
    case ECONNRESET: self = .connectionReset
    case ENOTCONN: self = .notConnected
    case ECONNREFUSED: self = .connectionRefused
    case EHOSTUNREACH, EHOSTDOWN: self = .hostUnreachable
    case EPIPE: self = .brokenPipe
    default: self = .io
    }
  }
}
