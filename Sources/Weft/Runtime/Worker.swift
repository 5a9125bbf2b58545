import CLibUV
import CWeftCoro
import Glibc
import Synchronization

/// A worker: one OS thread, one libuv loop, one local run queue.
///
/// A task that parks, yields or exits switches straight to the next local task,
/// or to the thread's own stack (`g0`, the scheduling loop) when there is none;
/// whoever runs next completes the transition (`finishSwitch`: the `post` action
/// for `previous`) once the old stack is no longer in use — only then may another
/// worker run that task.
///
/// Ownership: `current`, `post`, the caches and the libuv loop belong to the
/// worker's thread. Other threads touch only `queue` (steal), `runnext` (an idle
/// worker may take a task that sat there while this worker ran one long task),
/// `timerOps` (under its lock), `due` and the timer heap (under their locks),
/// `sleeping`, `active`, `stuck`, the counters (read) and `wakeup`.
///
/// Active and inactive (Runtime/Monitor.swift): `runtime.config.workers` of the
/// workers run tasks; the others are spares. When the monitor finds a worker
/// stuck in one task, it hands that worker's queued tasks and timers over and
/// activates a spare; a worker that finds more workers running than configured
/// retires (`serveInactive`): it keeps serving its libuv loop and its timers but
/// forwards every task they make runnable to the global queue.
final class Worker: @unchecked Sendable {
  /// Open withParkingForbidden regions of the running task (debug builds) and
  /// what the innermost holds: a switch away while > 0 traps (Swift/ParkGuard.swift).
  var parkForbiddenDepth = 0
  var parkForbiddenWhat: StaticString = ""
  enum PostSwitch { case none, park, yield, exit }

  private let runtimeRef: Unmanaged<Runtime>
  var runtime: Runtime { runtimeRef.takeUnretainedValue() }

  /// body(runtime) without reference counting, for hot paths (the runtime is
  /// never freed while workers run).
  @inline(__always)
  func withRuntime<R>(_ body: (Runtime) -> R) -> R { runtimeRef._withUnsafeGuaranteedRef(body) }

  let index: Int
  let loop: UnsafeMutablePointer<uv_loop_t>
  let wakeup: UnsafeMutablePointer<uv_async_t>
  let g0: UnsafeMutablePointer<cweft_context>
  private let recheckTimer: UnsafeMutablePointer<uv_timer_t>
  /// This worker's timers (Time/Timers.swift) and the libuv timer armed for the
  /// earliest of them. Owner-only.
  @exclusivity(unchecked)
  var timerHeap = TimerHeap()
  let heapTimer: UnsafeMutablePointer<uv_timer_t>
  @exclusivity(unchecked)
  var heapTimerDeadline = noDeadline
  let queue = LocalRunQueue()
  let sleeping = Atomic<Bool>(false)
  @exclusivity(unchecked)
  var thread = pthread_t()

  @exclusivity(unchecked)
  var current: TaskRef? = nil
  /// The task to run next (a TaskRef's bits, 0 for none); see pushRunnext.
  let runnextSlot = Atomic<UInt>(0)
  @exclusivity(unchecked)
  var post = PostSwitch.none
  /// Tasks made runnable by this worker's timers (deadlines that passed): they
  /// run before anything queued, FIFO, so a deadline is served promptly even
  /// when thousands of tasks are waiting to run. Pushed by the owner; emptied by
  /// the owner, or by the monitor when the owner is stuck.
  let due = RunQueue()
  /// True while this worker runs timer callbacks (see Scheduler.ready).
  @exclusivity(unchecked)
  var firingTimers = false
  /// Guards `timerHeap` (see Time/Timers.swift); `earliestTimer` is its first
  /// deadline (noDeadline when empty), readable without the lock.
  let timerLock = SpinLock()
  let earliestTimer = Atomic<Int64>(noDeadline)
  /// Runs tasks (see the type's comment); set by the monitor and by `retire`.
  let active = Atomic<Bool>(false)
  /// Set by the monitor while this worker has run one task too long.
  let stuck = Atomic<Bool>(false)
  /// The monitor asks the running task to yield at its next preemption point
  /// (Scheduler.preemptPoint) by storing the switch count it saw; stale as soon
  /// as this worker switches.
  let preemptAt = Atomic<UInt64>(UInt64.max)
  @inline(__always)
  var preemptRequested: Bool { preemptAt.load(ordering: .relaxed) == switches.load(ordering: .relaxed) }
  /// The thread was created (spares start on first use).
  let started = Atomic<Bool>(false)
  /// The thread's kernel id (for the monitor's look at its state), set when it starts.
  @exclusivity(unchecked)
  var tid: Int32 = 0
  /// The thread left its scheduling loop (shutdown joins it then).
  let exited = Atomic<Bool>(false)

  func pushDue(_ task: TaskRef) { due.push(task) }

  @inline(__always)
  private func popDue() -> TaskRef? { due.pop() }

  /// The task that switched away and whose `post` action is still to be done.
  @exclusivity(unchecked)
  var previous: TaskRef? = nil
  /// Per victim: its queue's head index (+1) when we last looked, and since when
  /// it has not moved (see steal).
  @exclusivity(unchecked)
  private var staleWatch: [(head: UInt64, since: Int64)] = Array(
    repeating: (0, 0), count: Runtime.maxWorkers)
  /// Per victim: its runnext slot and switch count at our last spin round (see
  /// stealStaleRunnext). Both tables are allocated once: the stealing path
  /// allocates nothing.
  @exclusivity(unchecked)
  private var seenRunnext: [(UInt, UInt64)] = Array(repeating: (0, 0), count: Runtime.maxWorkers)
  /// How long a queue must sit untouched before another worker takes from it.
  static let staleNs: Int64 = 20_000
  /// Consecutive task-to-task switches since this worker's g0 last ran.
  @exclusivity(unchecked)
  private var directRun = 0
  @exclusivity(unchecked)
  private var tick: UInt32 = 0
  @exclusivity(unchecked)
  private var random: UInt64

  @exclusivity(unchecked)
  var stackCache: [Stack] = []
  @exclusivity(unchecked)
  var recordCache: [TaskRef] = []
  static let cacheLimit = 256

  let timerOpsLock = SpinLock()
  @exclusivity(unchecked)
  var timerOps: [TimerOp] = []
  let timerOpsPending = Atomic<Bool>(false)

  // Counters written by this worker only; read racily by weft_stats.
  let switches = Atomic<UInt64>(0)
  let steals = Atomic<UInt64>(0)
  let spawned = Atomic<UInt64>(0)
  let finished = Atomic<UInt64>(0)
  let parks = Atomic<UInt64>(0)
  let unparks = Atomic<UInt64>(0)
  let timersActive = Atomic<Int>(0)
  /// fd readiness on this loop (IO/Poller.swift): posted ops, active handles.
  let io = WorkerIO()
  private var lastBusyPoll: Int64 = 0
  static let busyPollNs: Int64 = 10_000_000

  init(runtime: Runtime, index: Int) {
    self.runtimeRef = Unmanaged.passUnretained(runtime)
    self.index = index
    self.random = UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15
    loop = .allocate(capacity: 1)
    wakeup = .allocate(capacity: 1)
    g0 = .allocate(capacity: 1)
    g0.initialize(to: cweft_context())
    uv_loop_init(loop)
    uv_async_init(loop, wakeup) { _ in }  // waking uv_run is all it is for
    recheckTimer = .allocate(capacity: 1)
    uv_timer_init(loop, recheckTimer)
    heapTimer = .allocate(capacity: 1)
    uv_timer_init(loop, heapTimer)
    stackCache.reserveCapacity(Worker.cacheLimit)
    recordCache.reserveCapacity(Worker.cacheLimit)
    heapTimer.pointee.data = Unmanaged.passUnretained(self).toOpaque()
  }

  @inline(__always)
  static func bump(_ counter: borrowing Atomic<UInt64>) {
    counter.store(counter.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
  }

  func nextRandom() -> UInt64 {
    random ^= random << 13
    random ^= random >> 7
    random ^= random << 17
    return random
  }

  // MARK: - Queues

  /// Makes task the next to run here (Go's runnext): a task woken by the running
  /// task runs on this worker as soon as the waker parks, with no cross-CPU hop.
  func pushRunnext(_ task: TaskRef) {
    let previous = runnextSlot.exchange(UInt(bitPattern: task), ordering: .acquiringAndReleasing)
    if let displaced = TaskRef(bitPattern: previous) { pushLocal(displaced) }
  }

  var hasRunnext: Bool { runnextSlot.load(ordering: .relaxed) != 0 }

  private func takeRunnext() -> TaskRef? {
    if runnextSlot.load(ordering: .relaxed) == 0 { return nil }
    return TaskRef(bitPattern: runnextSlot.exchange(0, ordering: .acquiringAndReleasing))
  }

  /// Takes a victim's runnext task only if it sat there across one of our spin
  /// rounds while the victim ran the same task (its switch count unchanged):
  /// a busy ping-pong pair keeps its hand-offs on its own worker.
  private func stealStaleRunnext() -> TaskRef? {
    for victim in runtime.workers where victim !== self {
      let i = victim.index
      let slot = victim.runnextSlot.load(ordering: .acquiring)
      let switches = victim.switches.load(ordering: .relaxed)
      defer { seenRunnext[i] = (slot, switches) }
      guard slot != 0, seenRunnext[i] == (slot, switches) else { continue }
      if victim.runnextSlot.compareExchange(expected: slot, desired: 0, ordering: .acquiringAndReleasing)
        .exchanged
      {
        steals.add(1, ordering: .relaxed)
        return TaskRef(bitPattern: slot)
      }
    }
    return nil
  }

  func pushLocal(_ task: TaskRef) {
    if !queue.push(task) {
      // Full: half of it, and this task, go to the global queue in one batch.
      if let (first, last, count) = queue.takeHalf() {
        last.pointee.next = task
        task.pointee.next = nil
        withRuntime { $0.globalQueue.pushChain(first, count: count + 1) }
      } else {
        withRuntime { $0.globalQueue.push(task) }
      }
    }
    // A lone task is most likely a hand-off its owner runs next (see steal):
    // only a second one is worth waking a sleeping worker for.
    if queue.count >= 2 { withRuntime { $0.wakeIdleWorkerIfNeeded() } }
  }

  private func findRunnable() -> TaskRef? {
    tick &+= 1
    // Every 61st pick looks past runnext and the local queue so neither a
    // ping-pong pair nor a busy local queue starves the others.
    if tick % 61 == 0 {
      if let task = withRuntime({ $0.globalQueue.pop() }) { return task }
      if let task = queue.pop() { return task }
    }
    if let task = popDue() { return task }
    if let task = takeRunnext() { return task }
    if let task = queue.pop() { return task }
    if let task = takeGlobalBatch() { return task }
    return steal()
  }

  /// A fair share of the global queue at once (Go's globrunqget): one lock
  /// round trip per batch instead of one per task when a spawner or a full
  /// ring feeds it. The first is returned, the rest go to the (empty) ring.
  private func takeGlobalBatch() -> TaskRef? {
    withRuntime { runtime in
      let queued = runtime.globalQueue.count.load(ordering: .relaxed)
      if queued == 0 { return nil }
      let share = min(queued / runtime.target + 1, Int(LocalRunQueue.capacity) / 2)
      guard let (first, rest, _) = runtime.globalQueue.popBatch(max: share) else { return nil }
      var next = rest
      while let task = next {
        next = task.pointee.next
        task.pointee.next = nil
        if !queue.push(task) { runtime.globalQueue.push(task) }
      }
      return first
    }
  }

  private func steal() -> TaskRef? {
    let workers = runtime.workers
    let n = workers.count
    if n < 2 { return nil }
    let start = Int(nextRandom() % UInt64(n))
    for i in 0..<n {
      let victim = workers[(start + i) % n]
      if victim === self { continue }
      if victim.queue.isEmpty { continue }
      // Take only from a queue its owner has left untouched (head unchanged)
      // for 20 µs: a busy hand-off chain keeps popping its own queue and stays
      // on one CPU, while a worker stuck in a long task, or a spawner running
      // ahead of its queue, gets help.
      let head = UInt64(victim.queue.headIndex) + 1
      let now = monotonicNow()
      if staleWatch[victim.index].head != head {
        staleWatch[victim.index] = (head, now)
        continue
      }
      if now - staleWatch[victim.index].since < Worker.staleNs { continue }
      guard let (task, count) = queue.steal(from: victim.queue) else { continue }
      steals.add(UInt64(count), ordering: .relaxed)
      return task
    }
    return nil
  }

  var hasWork: Bool {
    if !due.isEmpty || hasRunnext || !queue.isEmpty || !runtime.globalQueue.isEmpty { return true }
    if timerOpsPending.load(ordering: .sequentiallyConsistent) { return true }
    // Work queued elsewhere is left to wake-ups and the 1 ms recheck (see
    // steal and idle): its owner may well be about to run it.
    return false
  }

  // MARK: - The scheduling loop

  func run() {
    runtime.waitLaunched()
    cweft_tls_set(Unmanaged.passUnretained(self).toOpaque())
    tid = Monitor.currentThreadId()
    cweft_overflow_thread_init()
    cweft_context_init_thread(g0)
    while !withRuntime({ $0.stopWorkers.load(ordering: .acquiring) }) {
      if !active.load(ordering: .relaxed) || (withRuntime { $0.tooManyRunning } && retire()) {
        serveInactive()
        continue
      }
      if timerOpsPending.load(ordering: .relaxed) { drainTimerOps() }
      if io.pending.load(ordering: .relaxed) { Poller.drain(self) }
      if earliestTimer.load(ordering: .relaxed) <= monotonicNow() {
        Timers.runDue(self)
        Timers.schedule(self)
      }
      if let task = findRunnable() {
        execute(task)
        // The loop is polled when nothing is runnable (below), as Go's
        // findrunnable polls the network; while busy only every 10 ms (Go's
        // sysmon): polling a busy worker more often piles up woken I/O tasks
        // faster than they run, and the overflow waits in the global queue.
        if tick % 64 == 0 {
          let now = monotonicNow()
          if now - lastBusyPoll > Worker.busyPollNs {
            lastBusyPoll = now
            uv_run(loop, UV_RUN_NOWAIT)
          }
        }
        continue
      }
      uv_run(loop, UV_RUN_NOWAIT)  // due timers may make tasks runnable
      if !due.isEmpty || hasRunnext || !queue.isEmpty { continue }
      if let task = spinForWork() {
        execute(task)
        continue
      }
      idle()
    }
    cweft_overflow_thread_exit()
    cweft_tls_set(nil)
    exited.store(true, ordering: .releasing)
  }

  /// Looks for work for a short while before sleeping: waking a sleeping vCPU
  /// costs tens of microseconds here, a short spin much less.
  private func spinForWork() -> TaskRef? {
    runtime.spinning.add(1, ordering: .sequentiallyConsistent)
    defer { runtime.spinning.subtract(1, ordering: .sequentiallyConsistent) }
    let until = deadline(after: Runtime.spinNs)
    var rounds = 0
    for i in seenRunnext.indices { seenRunnext[i] = (0, 0) }
    while true {
      if let task = findRunnable() { return task }
      if rounds % 2 == 1, let task = stealStaleRunnext() { return task }
      if timerOpsPending.load(ordering: .relaxed) || io.pending.load(ordering: .relaxed) { return nil }
      // Watched fds: look at the loop while spinning, or a readiness waits
      // for the end of the spin.
      if io.active.load(ordering: .relaxed) > 0 { uv_run(loop, UV_RUN_NOWAIT) }
      for _ in 0..<32 { cweft_cpu_relax() }
      rounds += 1
      if rounds % 16 == 0 {
        if runtime.stopWorkers.load(ordering: .relaxed) || monotonicNow() > until { return nil }
      }
    }
  }

  /// Sleeps in uv_run until a timer, a wake-up or a signal. The store to
  /// `sleeping` and the re-check of every queue pair with the pushers' "push,
  /// then look for a sleeper" (both sequentially consistent): no lost wake-up.
  private func idle() {
    sleeping.store(true, ordering: .sequentiallyConsistent)
    runtime.sleepers.add(1, ordering: .sequentiallyConsistent)
    if !hasWork && !runtime.stopWorkers.load(ordering: .sequentiallyConsistent) {
      // A task waiting in another worker's run-next slot (or alone in its queue)
      // is only taken once it went stale: come back to look in a millisecond
      // rather than never (there is no preemption of the task holding that worker).
      // Tasks waiting for a stack: retry mapping one every millisecond.
      let starved = runtime.starvedCount.load(ordering: .relaxed) > 0
      let recheck = starved || runtime.workers.contains { $0 !== self && ($0.hasRunnext || !$0.queue.isEmpty) }
      if recheck { uv_timer_start(recheckTimer, { _ in }, 1, 0) }
      uv_run(loop, UV_RUN_ONCE)
      if recheck { uv_timer_stop(recheckTimer) }
      if starved, let task = runtime.takeStarved() { pushLocal(task) }
    }
    if sleeping.exchange(false, ordering: .sequentiallyConsistent) {
      runtime.sleepers.subtract(1, ordering: .sequentiallyConsistent)
    }
  }

  /// Wakes this worker if it sleeps; true if it did.
  func wakeIfSleeping() -> Bool {
    guard sleeping.load(ordering: .sequentiallyConsistent),
      sleeping.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent)
        .exchanged
    else { return false }
    runtime.sleepers.subtract(1, ordering: .sequentiallyConsistent)
    uv_async_send(wakeup)
    return true
  }

  // MARK: - Running a task

  /// From g0: runs task until some task switches back to g0.
  private func execute(_ task: TaskRef) {
    guard enter(task) else { return }
    cweft_context_switch(g0, &task.pointee.context)
    finishSwitch()
  }

  /// Makes task the current one (giving it a stack on its first run); false when
  /// no stack can be had: the task waits in the runtime's starved list until a
  /// stack is freed (recycle) or a retry maps one (idle).
  @inline(__always)
  private func enter(_ task: TaskRef) -> Bool {
    if task.pointee.stack == nil, !attachStack(task) {
      withRuntime { $0.starve(task) }
      return false
    }
    current = task
    Worker.bump(switches)
    let stack = task.pointee.stack!
    cweft_overflow_set_running(stack.guardLow, stack.bottom, task.pointee.id, task.pointee.name)
    return true
  }

  /// Called on task's own stack to park, yield or exit: switches straight to the
  /// next local task when there is one (one switch instead of two through g0),
  /// else to g0. Every 32nd consecutive direct switch goes through g0 anyway, so
  /// timers, the global queue and shutdown are never starved. Whoever runs next
  /// completes the transition (finishSwitch) once task's stack is no longer in use.
  func switchAway(from task: TaskRef, _ action: PostSwitch) {
    checkCanary(task)
    post = action
    previous = task
    if directRun < 32, let next = popDue() ?? takeRunnext() ?? queue.pop() {
      directRun += 1
      if enter(next) {
        cweft_context_switch(&task.pointee.context, &next.pointee.context)
        return
      }
    }
    directRun = 0
    current = nil
    cweft_overflow_set_running(nil, nil, 0, nil)
    cweft_context_switch(&task.pointee.context, g0)
  }

  /// Completes the switch away from `previous` (see switchAway): runs on the
  /// stack of whatever runs next — g0, a resumed task, a task's first frame.
  func finishSwitch() {
    guard let task = previous else { return }
    previous = nil
    let action = post
    post = .none
    switch action {
    case .park:
      // Last touch of the task here: once parked, a waker may run it anywhere.
      if task.pointee.state.compareExchange(
        expected: TaskRecord.parking, desired: TaskRecord.parked, ordering: .sequentiallyConsistent
      ).exchanged {
        Worker.bump(parks)
      } else {
        task.pointee.state.store(TaskRecord.running, ordering: .relaxed)
        pushRunnext(task)
      }
    case .yield:
      pushLocal(task)
    case .exit:
      recycle(task)
    case .none:
      fatalError("weft: a task switched away without saying why")
    }
  }

  private func attachStack(_ task: TaskRef) -> Bool {
    let wanted = Int(task.pointee.requestedStack)
    let stack: Stack
    if wanted == runtime.config.stackSize, let cached = stackCache.popLast() {
      stack = cached
    } else if let fresh = runtime.stacks.take(usable: wanted) {
      stack = fresh
    } else {
      return false
    }
    task.pointee.stack = stack
    cweft_context_make(&task.pointee.context, stack.bottom, stack.size, taskTrampoline, task)
    return true
  }

  private func checkCanary(_ task: TaskRef) {
    guard let stack = task.pointee.stack, !stack.guarded else { return }
    if stack.bottom.load(as: UInt64.self) != StackPool.canary {
      runtime.report(
        "weft: stack overflow in task \(task.pointee.id) '\(task.pointee.nameString)' (stack \(stack.size) bytes); aborting\n"
      )
      abort()
    }
  }

  private func recycle(_ task: TaskRef) {
    task.pointee.live.store(false, ordering: .releasing)
    Worker.bump(finished)
    // A stack is about to be free: a task waiting for one can have it.
    if task.pointee.stack != nil, let starved = withRuntime({ $0.takeStarved() }) { pushLocal(starved) }
    if let stack = task.pointee.stack {
      task.pointee.stack = nil
      if stack.size >= runtime.config.stackSize,
        StackPool.classIndex(forUsable: runtime.config.stackSize) == stack.classIndex,
        stackCache.count < Worker.cacheLimit
      {
        stackCache.append(stack)
      } else {
        runtime.stacks.give(stack)
      }
    }
    if recordCache.count < Worker.cacheLimit {
      recordCache.append(task)
    } else {
      runtime.giveRecord(task)
    }
  }

  // MARK: - Timer operations posted by other threads

  func postTimerOp(_ op: TimerOp) {
    timerOpsLock.lock()
    timerOps.append(op)
    timerOpsPending.store(true, ordering: .sequentiallyConsistent)
    timerOpsLock.unlock()
    uv_async_send(wakeup)
  }

  /// The owner (and the monitor for a stuck owner, `owner` false, which then
  /// leaves the pending flag set: the owner re-arms its libuv timer when back).
  func drainTimerOps(owner: Bool = true) {
    timerOpsLock.lock()
    let ops = timerOps
    timerOps.removeAll(keepingCapacity: true)
    timerOpsPending.store(!owner, ordering: .sequentiallyConsistent)
    timerOpsLock.unlock()
    for op in ops { Timers.perform(op, on: self, owner: owner) }
    if owner { Timers.schedule(self) }
  }

  // MARK: - Hand-off (Runtime/Monitor.swift)

  /// Any thread: moves every task queued here (due, runnext, the ring) to the
  /// global queue and wakes a worker for them. The monitor calls it for a stuck
  /// worker; an inactive worker for what its loop made runnable.
  func handOffQueued() {
    var moved = false
    while let task = due.pop() {
      runtime.globalQueue.push(task)
      moved = true
    }
    if let task = TaskRef(bitPattern: runnextSlot.exchange(0, ordering: .acquiringAndReleasing)) {
      runtime.globalQueue.push(task)
      moved = true
    }
    if let (first, _, count) = queue.takeAll() {
      runtime.globalQueue.pushChain(first, count: count)
      moved = true
    }
    if moved { runtime.wakeAnyWorker() }
  }

  /// On g0: stops running tasks if more workers run than configured (a stuck
  /// one came back). false if another worker retired first.
  private func retire() -> Bool {
    guard runtime.releaseRunning() else { return false }
    active.store(false, ordering: .sequentiallyConsistent)
    handOffQueued()
    // This worker may have been woken for work in the global queue: pass it on.
    if !runtime.globalQueue.isEmpty { runtime.wakeAnyWorker() }
    return true
  }

  /// One round of an inactive worker: serves its timers, posted ops and loop,
  /// forwarding what they make runnable, and sleeps until a timer, a wake-up
  /// or its activation.
  private func serveInactive() {
    if timerOpsPending.load(ordering: .relaxed) { drainTimerOps() }
    if io.pending.load(ordering: .relaxed) { Poller.drain(self) }
    if earliestTimer.load(ordering: .relaxed) <= monotonicNow() {
      Timers.runDue(self)
      Timers.schedule(self)
    }
    handOffQueued()
    if active.load(ordering: .sequentiallyConsistent) || runtime.stopWorkers.load(ordering: .acquiring) { return }
    uv_run(loop, UV_RUN_ONCE)
    handOffQueued()
  }
}
