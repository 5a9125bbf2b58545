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
  private(set) var workers: [Worker] = []
  let globalQueue = RunQueue()
  let stacks = StackPool()
  let stopWorkers = Atomic<Bool>(false)
  let sleepers = Atomic<Int>(0)
  let spinning = Atomic<Int>(0)
  /// Active workers not stuck in a task (see Monitor.swift): config.workers in
  /// the steady state.
  let running = Atomic<Int>(0)
  private(set) var monitor: Monitor? = nil
  private let nextTaskId = Atomic<UInt64>(1)
  private let nextTimerWorker = Atomic<Int>(0)

  // Counters for work done on plain threads (workers keep their own).
  let foreignSpawned = Atomic<UInt64>(0)
  let foreignUnparks = Atomic<UInt64>(0)

  // Task records come in slabs and are never freed: the slab list doubles as
  // the registry of tasks (a dump walks it for records marked live), so spawn
  // and exit take no shared lock. Guarded by recordLock.
  private static let slabSize = 256
  private let recordLock = SpinLock()
  private var freeRecords: [TaskRef] = []
  private var slabs: [TaskRef] = []

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
  public static func start(_ config: RuntimeConfig) -> WeftError? {
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
    runtime.launch()
    shared = runtime
    sharedRef = Unmanaged.passUnretained(runtime)
    lifecycle.store(Phase.running.rawValue, ordering: .releasing)
    return (runtime, nil)
  }

  private func launch() {
    cweft_overflow_handler_install()
    // config.workers run tasks; as many spares stand by for workers stuck in a
    // task (their threads start on first use, Monitor.swift).
    workers = (0..<config.workers + Monitor.spares(config.workers)).map { Worker(runtime: self, index: $0) }
    for worker in workers.prefix(config.workers) {
      worker.active.store(true, ordering: .relaxed)
      startThread(worker)
    }
    running.store(config.workers, ordering: .sequentiallyConsistent)
    monitor = Monitor(runtime: self)
  }

  /// Creates the worker's thread (at launch, or a spare's on first use).
  @discardableResult
  func startThread(_ worker: Worker) -> Bool {
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
      return false
    }
    worker.started.store(true, ordering: .sequentiallyConsistent)
    return true
  }

  /// weft_shutdown. See the header for the contract.
  public static func shutdown() -> WeftError? {
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
    guard let runtime else { return nil }
    let deadline = monotonicNow() + runtime.config.shutdownGraceNs
    while runtime.liveTasks > 0 && monotonicNow() < deadline {
      usleep(1000)
    }
    let abandoned = runtime.liveTasks > 0
    runtime.stopWorkers.store(true, ordering: .sequentiallyConsistent)
    // A worker still inside a task (a blocking call, a loop) is abandoned.
    runtime.monitor?.stopAndJoinWorkers(until: monotonicNow() + Monitor.joinBudgetNs)
    if abandoned {
      // No task runs again, so the parkers on abandoned stacks stay valid: claim
      // them, so that no later send hands a value to a task that will never
      // receive it (wakers skip waiters whose parker is claimed).
      runtime.forEachLiveTask { task in
        if let raw = task.pointee.parker {
          _ = raw.assumingMemoryBound(to: Parker.self).tryClaim(Parker.shutdown)
        }
      }
    }
    lifecycle.store(Phase.stopped.rawValue, ordering: .releasing)
    return abandoned ? .timedOut : nil
  }

  /// True once weft_shutdown began: blocking calls refuse to park.
  @inline(__always)
  static var isStopping: Bool { lifecycle.load(ordering: .relaxed) >= Phase.stopping.rawValue }

  // MARK: - Spawning

  /// Spawns entry(arg). stackSize 0 means the configured default.
  public static func spawn(
    _ entry: @convention(c) (UnsafeMutableRawPointer?) -> Void, _ arg: UnsafeMutableRawPointer?,
    stackSize: Int = 0, name: UnsafePointer<CChar>? = nil
  ) -> WeftError? {
    guard RuntimeConfig.validStackSize(stackSize) else { return .invalid }
    guard isRunning || current() != nil, !isStopping, let shared = sharedRef else { return .shutdown }
    let error = shared._withUnsafeGuaranteedRef { $0.spawn(entry, arg, stackSize, name) }
    Scheduler.preemptPoint()
    return error
  }

  private func spawn(
    _ entry: @convention(c) (UnsafeMutableRawPointer?) -> Void, _ arg: UnsafeMutableRawPointer?,
    _ stackSize: Int, _ name: UnsafePointer<CChar>?
  ) -> WeftError? {
    let onWorker: Void? = Scheduler.withCurrentWorker { worker in
      let task = worker.recordCache.popLast() ?? takeRecord()
      prepare(task, entry, arg, stackSize, name)
      Worker.bump(worker.spawned)
      worker.pushRunnext(task)
      // Go's newproc does the same: a new task may be work for an idle worker.
      wakeIdleWorkerIfNeeded()
    }
    if onWorker == nil {
      let task = takeRecord()
      prepare(task, entry, arg, stackSize, name)
      foreignSpawned.add(1, ordering: .relaxed)
      inject(task)
    }
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

  /// After a local push: wake a sleeping worker to steal, unless one is already
  /// spinning for work (it will find it).
  @inline(__always)
  func wakeIdleWorkerIfNeeded() {
    if sleepers.load(ordering: .sequentiallyConsistent) == 0 { return }
    if spinning.load(ordering: .sequentiallyConsistent) > 0 { return }
    for worker in workers where worker.wakeIfSleeping() { return }
  }

  /// The worker that hosts a timer started from a plain thread (round robin
  /// over the first config.workers, whose threads always run).
  func timerWorker() -> Worker {
    workers[nextTimerWorker.add(1, ordering: .relaxed).oldValue % config.workers]
  }

  /// Wakes one sleeping worker (work went to the global queue).
  func wakeAnyWorker() {
    for worker in workers where worker.wakeIfSleeping() { return }
  }

  /// More workers run tasks than configured: one of them should retire.
  @inline(__always)
  var tooManyRunning: Bool { running.load(ordering: .relaxed) > config.workers }

  /// Counts one running worker out if more run than configured; true if it did.
  func releaseRunning() -> Bool {
    var n = running.load(ordering: .sequentiallyConsistent)
    while n > config.workers {
      let (done, now) = running.compareExchange(expected: n, desired: n - 1, ordering: .sequentiallyConsistent)
      if done { return true }
      n = now
    }
    return false
  }

  // MARK: - Task records and the registry

  private func takeRecord() -> TaskRef {
    recordLock.lock()
    defer { recordLock.unlock() }
    if let task = freeRecords.popLast() { return task }
    let slab = TaskRef.allocate(capacity: Runtime.slabSize)
    for i in 0..<Runtime.slabSize { (slab + i).initialize(to: TaskRecord()) }
    slabs.append(slab)
    for i in 1..<Runtime.slabSize { freeRecords.append(slab + i) }
    return slab
  }

  func giveRecord(_ task: TaskRef) {
    recordLock.lock()
    freeRecords.append(task)
    recordLock.unlock()
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
    let all = slabs
    recordLock.unlock()
    for slab in all {
      for i in 0..<Runtime.slabSize where slab[i].live.load(ordering: .acquiring) {
        body(slab + i)
      }
    }
  }

  func report(_ message: String) {
    var text = message
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
  }
}


