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
  private static let startLock = SpinLock()

  let config: RuntimeConfig
  private(set) var workers: [Worker] = []
  let globalQueue = RunQueue()
  let stacks = StackPool()
  let stopWorkers = Atomic<Bool>(false)
  let sleepers = Atomic<Int>(0)
  let spinning = Atomic<Int>(0)
  private let nextTaskId = Atomic<UInt64>(1)
  private let nextTimerWorker = Atomic<Int>(0)

  // Counters for work done on plain threads (workers keep their own).
  let foreignSpawned = Atomic<UInt64>(0)
  let foreignUnparks = Atomic<UInt64>(0)

  // Live tasks, for dumps and shutdown: striped lists so spawn and exit on
  // different threads rarely share a lock.
  private static let stripes = 16
  private let registry = (0..<Runtime.stripes).map { _ in RegistryStripe() }
  let live = Atomic<Int>(0)

  private let recordLock = SpinLock()
  private var freeRecords: [TaskRef] = []

  private init(config: RuntimeConfig) {
    self.config = config
  }

  // MARK: - Lifecycle

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
    lifecycle.store(Phase.running.rawValue, ordering: .releasing)
    return (runtime, nil)
  }

  private func launch() {
    cweft_overflow_handler_install()
    workers = (0..<config.workers).map { Worker(runtime: self, index: $0) }
    for worker in workers {
      var attr = pthread_attr_t()
      pthread_attr_init(&attr)
      pthread_attr_setstacksize(&attr, 1 << 20)
      let raw = Unmanaged.passRetained(worker).toOpaque()
      pthread_create(
        &worker.thread, &attr,
        { raw in
          let worker = Unmanaged<Worker>.fromOpaque(raw!).takeRetainedValue()
          worker.run()
          return nil
        }, raw)
      pthread_attr_destroy(&attr)
    }
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
    while runtime.live.load(ordering: .acquiring) > 0 && monotonicNow() < deadline {
      usleep(1000)
    }
    let abandoned = runtime.live.load(ordering: .acquiring) > 0
    runtime.stopWorkers.store(true, ordering: .sequentiallyConsistent)
    for worker in runtime.workers { uv_async_send(worker.wakeup) }
    for worker in runtime.workers { pthread_join(worker.thread, nil) }
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
    guard let runtime = current(), !isStopping else { return .shutdown }
    let worker = Scheduler.currentWorker()
    let task = worker?.recordCache.popLast() ?? runtime.takeRecord()
    task.pointee.entry = entry
    task.pointee.arg = arg
    task.pointee.requestedStack = stackSize == 0 ? runtime.config.stackSize : stackSize
    task.pointee.setName(name)
    task.pointee.waitReason = ""
    task.pointee.state.store(TaskRecord.running, ordering: .relaxed)
    task.pointee.id = runtime.nextTaskId.add(1, ordering: .relaxed).oldValue
    runtime.register(task)
    if let worker {
      Worker.bump(worker.spawned)
      worker.pushRunnext(task)
    } else {
      runtime.foreignSpawned.add(1, ordering: .relaxed)
      runtime.inject(task)
    }
    return nil
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

  /// The worker that hosts a timer started from a plain thread (round robin).
  func timerWorker() -> Worker {
    workers[nextTimerWorker.add(1, ordering: .relaxed).oldValue % workers.count]
  }

  // MARK: - Task records and the registry

  private func takeRecord() -> TaskRef {
    recordLock.lock()
    if let task = freeRecords.popLast() {
      recordLock.unlock()
      return task
    }
    recordLock.unlock()
    let task = TaskRef.allocate(capacity: 1)
    task.initialize(to: TaskRecord())
    return task
  }

  func giveRecord(_ task: TaskRef) {
    recordLock.lock()
    freeRecords.append(task)
    recordLock.unlock()
  }

  private func stripe(of task: TaskRef) -> RegistryStripe {
    registry[Int(task.pointee.id % UInt64(Runtime.stripes))]
  }

  private func register(_ task: TaskRef) {
    live.add(1, ordering: .relaxed)
    let stripe = stripe(of: task)
    stripe.lock.lock()
    task.pointee.livePrev = nil
    task.pointee.liveNext = stripe.head
    stripe.head?.pointee.livePrev = task
    stripe.head = task
    stripe.lock.unlock()
  }

  func unregister(_ task: TaskRef) {
    let stripe = stripe(of: task)
    stripe.lock.lock()
    if let prev = task.pointee.livePrev {
      prev.pointee.liveNext = task.pointee.liveNext
    } else {
      stripe.head = task.pointee.liveNext
    }
    task.pointee.liveNext?.pointee.livePrev = task.pointee.livePrev
    task.pointee.liveNext = nil
    task.pointee.livePrev = nil
    stripe.lock.unlock()
    live.subtract(1, ordering: .releasing)
  }

  /// Calls body for every live task, one stripe locked at a time.
  func forEachLiveTask(_ body: (TaskRef) -> Void) {
    for stripe in registry {
      stripe.lock.lock()
      var cursor = stripe.head
      while let task = cursor {
        body(task)
        cursor = task.pointee.liveNext
      }
      stripe.lock.unlock()
    }
  }

  func report(_ message: String) {
    var text = message
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
  }
}


final class RegistryStripe: @unchecked Sendable {
  let lock = SpinLock()
  var head: TaskRef? = nil
}
