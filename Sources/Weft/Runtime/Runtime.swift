import CLibUV
import CWeftCoro
import Glibc
import Synchronization

/// The process-wide runtime: the workers, the global queue, the task registry.
///
/// Lifecycle: idle -> running (weft_init or the first call that needs it) ->
/// stopping (weft_shutdown: no new tasks, blocking calls fail) -> stopped.
/// `shared` is written once, before `lifecycle` becomes running (release), and
/// read after loading running (acquire).
public final class Runtime: @unchecked Sendable {
  static let maxWorkers = 64
  static let spinNs: Int64 = 50_000

  enum Phase: Int { case idle = 0, running = 1, stopping = 2, stopped = 3 }
  static let lifecycle = Atomic<Int>(Phase.idle.rawValue)
  nonisolated(unsafe) static var shared: Runtime? = nil
  /// `shared` without reference counting, for hot paths (never released).
  nonisolated(unsafe) static var sharedRef: Unmanaged<Runtime>? = nil
  private static let startLock = SpinLock()

  let config: RuntimeConfig
  @exclusivity(unchecked)
  private(set) var workers: [Worker] = []
  let globalQueue = RunQueue()
  let stacks = StackPool()
  let stopWorkers = Atomic<Bool>(false)
  let sleepers = Atomic<Int>(0)
  let spinning = Atomic<Int>(0)
  /// Active workers not stuck in a task (see Monitor.swift): config.workers in
  /// the steady state.
  let running = Atomic<Int>(0)
  /// How many workers run tasks: config.workers, fewer if some threads could not
  /// be started. Set by launch before any worker looks.
  @exclusivity(unchecked)
  private(set) var target = 0
  private(set) var monitor: Monitor? = nil
  private let nextTaskId = Atomic<UInt64>(1)
  private let nextTimerWorker = Atomic<Int>(0)

  // Counters for work done on plain threads (workers keep their own).
  let foreignSpawned = Atomic<UInt64>(0)
  let foreignUnparks = Atomic<UInt64>(0)

  // Task records come in malloc'ed slabs and are never freed: the slab list
  // doubles as the registry of tasks (a dump walks it for records marked live),
  // so spawn and exit take no shared lock. Both lists are intrusive (record 0
  // of a slab links the slabs, a free record's `next` the free list): nothing
  // but the slab itself is allocated, and its failure is WEFT_ENOMEM. Guarded
  // by recordLock.
  private static let slabSize = 256
  private let recordLock = SpinLock()
  @exclusivity(unchecked)
  private var freeRecords: TaskRef? = nil
  @exclusivity(unchecked)
  private var slabs: TaskRef? = nil

  // Tasks accepted but without a stack yet because none could be mapped: they
  // run as soon as a finishing task frees one (or a worker's retry maps one).
  // While any wait here, spawns return WEFT_ENOMEM. Linked by `next`; guarded
  // by starvedLock.
  private let starvedLock = SpinLock()
  @exclusivity(unchecked)
  private var starvedHead: TaskRef? = nil
  @exclusivity(unchecked)
  private var starvedTail: TaskRef? = nil
  let starvedCount = Atomic<Int>(0)
  /// Workers wait for this before they look at `workers` (see launch).
  private let launched = Atomic<Bool>(false)

  private init(config: RuntimeConfig) {
    self.config = config
  }

  // MARK: - Lifecycle

  @inline(__always)
  static var isRunning: Bool { lifecycle.load(ordering: .acquiring) == Phase.running.rawValue }

  static var phase: Phase { Phase(rawValue: lifecycle.load(ordering: .acquiring))! }

  /// The running runtime, starting it with the defaults on first use; nil once
  /// shut down.
  @inline(__always)
  static func current() -> Runtime? {
    if lifecycle.load(ordering: .acquiring) == Phase.running.rawValue { return shared }
    return startSlow(RuntimeConfig(), explicit: false).runtime
  }

  /// weft_init: starts with config; .busy if already started.
  package static func coreStart(_ config: RuntimeConfig) -> WeftError? {
    startSlow(config, explicit: true).error
  }

  private static func startSlow(_ config: RuntimeConfig, explicit: Bool) -> (
    runtime: Runtime?, error: WeftError?
  ) {
    startLock.lock()
    defer { startLock.unlock() }
    switch phase {
    case .running: return (shared, explicit ? .busy : nil)
    case .stopping, .stopped: return (nil, .shutdown)
    case .idle: break
    }
    let runtime = Runtime(config: config.resolved())
    if let error = runtime.launch() { return (nil, error) }
    Deadlock.start(runtime)
    shared = runtime
    sharedRef = Unmanaged.passUnretained(runtime)
    lifecycle.store(Phase.running.rawValue, ordering: .releasing)
    return (runtime, nil)
  }

  /// Starts the worker threads. When pthread_create fails the runtime runs
  /// with the workers it got (reported on stderr; stats count only those);
  /// .noMemory when it got none. Workers wait for `launched` before reading
  /// `workers`, which is final by then.
  private func launch() -> WeftError? {
    Runtime.registerForkHandler()
    cweft_overflow_handler_install()
    // config.workers run tasks; when they all started, as many spares stand by
    // for workers stuck in a task (their threads start on first use,
    // Monitor.swift).
    let all = (0..<config.workers).map { Worker(runtime: self, index: $0) }
    var started = 0
    var failure: Int32 = 0
    for worker in all {
      worker.active.store(true, ordering: .relaxed)
      failure = startThread(worker)
      if failure != 0 {
        worker.active.store(false, ordering: .relaxed)
        break
      }
      started += 1
    }
    target = started
    workers = Array(all.prefix(started))
    if started < all.count {
      report("weft: started \(started) of \(all.count) workers (pthread_create: \(String(cString: strerror(failure))))\n")
    } else {
      workers += (0..<Monitor.spares(started)).map { Worker(runtime: self, index: started + $0) }
    }
    if started == 0 {
      cweft_overflow_handler_uninstall()
      return .noMemory
    }
    running.store(started, ordering: .sequentiallyConsistent)
    launched.store(true, ordering: .releasing)
    monitor = Monitor(runtime: self)
    return nil
  }

  /// A worker thread's first step: wait until launch() settled `workers`.
  func waitLaunched() {
    while !launched.load(ordering: .acquiring) { sched_yield() }
  }

  /// Creates the worker's thread (at launch, or a spare's on first use); the
  /// pthread_create error, 0 when it started.
  @discardableResult
  func startThread(_ worker: Worker) -> Int32 {
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    pthread_attr_setstacksize(&attr, 1 << 20)
    let raw = Unmanaged.passRetained(worker).toOpaque()
    let rc = pthread_create(
      &worker.thread, &attr,
      { raw in
        let worker = Unmanaged<Worker>.fromOpaque(raw!).takeRetainedValue()
        worker.run()
        return nil
      }, raw)
    pthread_attr_destroy(&attr)
    if rc != 0 {
      Unmanaged<Worker>.fromOpaque(raw).release()
      return rc
    }
    worker.started.store(true, ordering: .sequentiallyConsistent)
    return 0
  }

  /// weft_shutdown. See the header for the contract.
  package static func coreShutdown() -> WeftError? {
    if Scheduler.currentTask() != nil || Scheduler.currentWorker() != nil { return .deadlock }
    startLock.lock()
    let runtime = shared
    switch phase {
    case .idle:
      lifecycle.store(Phase.stopped.rawValue, ordering: .releasing)
      startLock.unlock()
      return nil
    case .stopping, .stopped:
      startLock.unlock()
      return nil
    case .running:
      lifecycle.store(Phase.stopping.rawValue, ordering: .releasing)
    }
    startLock.unlock()
    guard let runtime else {
      _ = ThreadSignal.releaseAllForShutdown()
      AsyncWait.releaseAllForShutdown()  // Swift tasks awaiting the async forms
      ThreadSignal.retireKey()
      return nil
    }
    let deadline = Weft.deadline(after: runtime.config.shutdownGraceNs)
    while runtime.liveTasks > 0 && monotonicNow() < deadline {
      usleep(1000)
    }
    let late = runtime.liveTasks > 0
    // The grace period is over: every task and thread still blocked in a Weft
    // call is resumed with WEFT_ESHUTDOWN (its cleanup runs; it cannot block
    // again), and the tasks get up to drainNs to finish. Repeated, for tasks
    // that were between two parks.
    let drainUntil = Weft.deadline(after: Runtime.drainNs)
    repeat {
      runtime.forEachLiveTask { _ = ParkerSlot.claimForShutdown($0.pointee.parkerSlot) }
      _ = ThreadSignal.releaseAllForShutdown()
      AsyncWait.releaseAllForShutdown()  // Swift tasks awaiting the async forms
      // Done, or only tasks that hold their worker (stuck: they cannot be
      // resumed, their threads are abandoned below) are left.
      if runtime.liveTasks <= runtime.stuckWorkers { break }
      usleep(1000)
    } while monotonicNow() < drainUntil
    runtime.stopWorkers.store(true, ordering: .sequentiallyConsistent)
    // A worker still inside a task (a blocking call, a loop) is abandoned.
    let joined = runtime.monitor?.stopAndJoinWorkers(until: monotonicNow() + Monitor.joinBudgetNs) ?? true
    _ = ThreadSignal.releaseAllForShutdown()
    AsyncWait.releaseAllForShutdown()
    let abandoned = runtime.liveTasks > 0
    if !abandoned && joined {
      // Nothing runs on a task stack any more: give the address space back.
      for worker in runtime.workers { worker.stackCache.removeAll() }
      runtime.stacks.releaseAll()
    }
    lifecycle.store(Phase.stopped.rawValue, ordering: .releasing)
    // What a dlclose would leave dangling: the fault handlers, the thread key's
    // destructor (the workers freed their alternate signal stacks on exit).
    cweft_overflow_handler_uninstall()
    ThreadSignal.retireKey()
    return late ? .timedOut : nil
  }

  /// Workers the monitor found stuck in a task.
  var stuckWorkers: Int { workers.reduce(0) { $0 + ($1.stuck.load(ordering: .relaxed) ? 1 : 0) } }

  /// How long tasks resumed with WEFT_ESHUTDOWN get to finish.
  static let drainNs: Int64 = 1_000_000_000

  // MARK: - fork

  /// Set in a child forked after the runtime started: its workers do not exist
  /// there, so the runtime counts as shut down (every call that needs it returns
  /// WEFT_ESHUTDOWN, stats report no workers and no tasks).
  nonisolated(unsafe) static var forked = false
  private static let forkHandlerRegistered = Atomic<Bool>(false)

  private static func registerForkHandler() {
    if forkHandlerRegistered.exchange(true, ordering: .relaxed) { return }
    pthread_atfork(nil, nil) {
      // Only an atomic store and a flag: the child may have inherited any lock.
      if Runtime.lifecycle.load(ordering: .relaxed) != Phase.idle.rawValue {
        Runtime.forked = true
        Runtime.lifecycle.store(Phase.stopped.rawValue, ordering: .sequentiallyConsistent)
      }
    }
  }

  /// True once weft_shutdown began: blocking calls refuse to park.
  @inline(__always)
  static var isStopping: Bool { lifecycle.load(ordering: .relaxed) >= Phase.stopping.rawValue }

  // MARK: - Spawning

  /// Spawns entry(arg). stackSize 0 means the configured default.
  @usableFromInline
  package static func spawn(
    _ entry: @convention(c) (UnsafeMutableRawPointer?) -> Void, _ arg: UnsafeMutableRawPointer?,
    stackSize: Int = 0, name: UnsafePointer<CChar>? = nil
  ) -> WeftError? {
    guard RuntimeConfig.validStackSize(stackSize) else { return .invalid }
    guard isRunning || current() != nil, !isStopping, let shared = sharedRef else { return .shutdown }
    let error = shared._withUnsafeGuaranteedRef { runtime -> WeftError? in
      // Out of stacks: refuse rather than queue a task nothing can run.
      if runtime.starvedCount.load(ordering: .relaxed) > 0 { return .noMemory }
      return runtime.spawn(entry, arg, stackSize, name)
    }
    Scheduler.preemptPoint()
    return error
  }

  private func spawn(
    _ entry: @convention(c) (UnsafeMutableRawPointer?) -> Void, _ arg: UnsafeMutableRawPointer?,
    _ stackSize: Int, _ name: UnsafePointer<CChar>?
  ) -> WeftError? {
    let onWorker: WeftError?? = Scheduler.withCurrentWorker { worker in
      guard let task = worker.recordCache.popLast() ?? takeRecord() else { return .noMemory }
      prepare(task, entry, arg, stackSize, name)
      Worker.bump(worker.spawned)
      worker.pushRunnext(task)
      // Go's newproc does the same: a new task may be work for an idle worker.
      wakeIdleWorkerIfNeeded()
      return nil
    }
    if let onWorker { return onWorker }
    guard let task = takeRecord() else { return .noMemory }
    prepare(task, entry, arg, stackSize, name)
    foreignSpawned.add(1, ordering: .relaxed)
    inject(task)
    return nil
  }

  private func prepare(
    _ task: TaskRef, _ entry: @convention(c) (UnsafeMutableRawPointer?) -> Void,
    _ arg: UnsafeMutableRawPointer?, _ stackSize: Int, _ name: UnsafePointer<CChar>?
  ) {
    task.pointee.entry = entry
    task.pointee.arg = arg
    task.pointee.requestedStack = UInt32(stackSize == 0 ? config.stackSize : stackSize)
    task.pointee.setName(name)
    task.pointee.waitReason = nil
    task.pointee.state.store(TaskRecord.running, ordering: .relaxed)
    task.pointee.id = nextTaskId.add(1, ordering: .relaxed).oldValue
    task.pointee.live.store(true, ordering: .releasing)
  }

  /// Queues a task from a plain thread and wakes a worker for it.
  func inject(_ task: TaskRef) {
    globalQueue.push(task)
    for worker in workers where worker.wakeIfSleeping() { return }
  }

  var hasIdleWorker: Bool {
    sleepers.load(ordering: .relaxed) > 0 || spinning.load(ordering: .relaxed) > 0
  }

  /// After a local push: wake a sleeping worker to steal, unless one is already
  /// spinning for work (it will find it).
  @inline(__always)
  func wakeIdleWorkerIfNeeded() {
    if sleepers.load(ordering: .sequentiallyConsistent) == 0 { return }
    if spinning.load(ordering: .sequentiallyConsistent) > 0 { return }
    for worker in workers where worker.wakeIfSleeping() { return }
  }

  /// The worker that hosts a timer started from a plain thread (round robin
  /// over the first `target` workers, whose threads always run).
  func timerWorker() -> Worker {
    workers[nextTimerWorker.add(1, ordering: .relaxed).oldValue % target]
  }

  /// Wakes one sleeping worker (work went to the global queue).
  func wakeAnyWorker() {
    for worker in workers where worker.wakeIfSleeping() { return }
  }

  /// More workers run tasks than configured: one of them should retire.
  @inline(__always)
  var tooManyRunning: Bool { running.load(ordering: .relaxed) > target }

  /// Counts one running worker out if more run than configured; true if it did.
  func releaseRunning() -> Bool {
    var n = running.load(ordering: .sequentiallyConsistent)
    while n > target {
      let (done, now) = running.compareExchange(expected: n, desired: n - 1, ordering: .sequentiallyConsistent)
      if done { return true }
      n = now
    }
    return false
  }

  // MARK: - Task records and the registry

  /// A free record; nil when no slab can be allocated.
  private func takeRecord() -> TaskRef? {
    recordLock.lock()
    defer { recordLock.unlock() }
    if let task = freeRecords {
      freeRecords = task.pointee.next
      task.pointee.next = nil
      return task
    }
    guard let raw = malloc(Runtime.slabSize * MemoryLayout<TaskRecord>.stride) else { return nil }
    let slab = raw.bindMemory(to: TaskRecord.self, capacity: Runtime.slabSize)
    for i in 0..<Runtime.slabSize { (slab + i).initialize(to: TaskRecord()) }
    slab.pointee.next = slabs  // record 0: the slab link, never handed out
    slabs = slab
    for i in 2..<Runtime.slabSize {
      slab[i].next = freeRecords
      freeRecords = slab + i
    }
    return slab + 1
  }

  func giveRecord(_ task: TaskRef) {
    recordLock.lock()
    task.pointee.next = freeRecords
    freeRecords = task
    recordLock.unlock()
  }

  // MARK: - Tasks waiting for a stack

  /// A worker could not map a stack for task's first run: keep it until one
  /// is freed (never drop an accepted task).
  func starve(_ task: TaskRef) {
    starvedLock.lock()
    task.pointee.next = nil
    if let tail = starvedTail { tail.pointee.next = task } else { starvedHead = task }
    starvedTail = task
    starvedCount.add(1, ordering: .relaxed)
    starvedLock.unlock()
  }

  /// The oldest task waiting for a stack, if any.
  func takeStarved() -> TaskRef? {
    if starvedCount.load(ordering: .relaxed) == 0 { return nil }
    starvedLock.lock()
    defer { starvedLock.unlock() }
    guard let task = starvedHead else { return nil }
    starvedHead = task.pointee.next
    if starvedHead == nil { starvedTail = nil }
    task.pointee.next = nil
    starvedCount.subtract(1, ordering: .relaxed)
    return task
  }

  /// Spawned and not finished. Finished is read first: a task's spawn is counted
  /// before it can finish, so the difference never goes below the truth.
  var liveTasks: Int {
    var finished: UInt64 = 0
    for worker in workers { finished &+= worker.finished.load(ordering: .acquiring) }
    var spawned = foreignSpawned.load(ordering: .acquiring)
    for worker in workers { spawned &+= worker.spawned.load(ordering: .acquiring) }
    return spawned > finished ? Int(spawned - finished) : 0
  }

  /// Calls body for every live task (records are read racily: a dump is a
  /// snapshot, not a consistent cut).
  func forEachLiveTask(_ body: (TaskRef) -> Void) {
    recordLock.lock()
    var slab = slabs
    recordLock.unlock()
    while let current = slab {  // a slab's link never changes once published
      for i in 1..<Runtime.slabSize where current[i].live.load(ordering: .acquiring) {
        body(current + i)
      }
      slab = current.pointee.next
    }
  }

  func report(_ message: String) {
    var text = message
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
  }
}


