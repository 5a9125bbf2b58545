import CLibUV
import Glibc
import Synchronization

/// The monitor (Go's sysmon): one plain thread that keeps a task which blocks its
/// worker (a blocking system call, a loop that never calls into the runtime)
/// from stalling anything else. There is no preemption; what it does is Go's
/// hand-off of a P:
///
/// - Every 2 ms (4 ms while no worker runs a task) it reads each active worker's
///   switch counter. A worker that has been inside the same task for `stuckNs`
///   is first asked to yield at its next preemption point (a task that keeps
///   spawning then shares its own worker, as it would with Go's preemption);
///   one still there at `stuckNs`, whose thread used CPU time meanwhile or
///   sleeps in the kernel (not one merely descheduled by a loaded machine), is
///   marked `stuck` and counted out of `runtime.running`; its queued tasks
///   (due, runnext, ring) go to the global queue, and a spare worker is
///   activated (its thread started on first use) so that `config.workers`
///   workers run tasks again.
/// - While a worker stays stuck the monitor serves it at every tick: its posted
///   timer ops and its due timers (on the monitor's thread: the tasks they wake
///   go to the global queue) and whatever its task queued meanwhile. Its libuv
///   loop (and the handles on it) wait for the task.
/// - When the stuck task switches away (it parked, yielded or finished), the
///   monitor counts the worker back in; with one worker too many running, the
///   first one to pass the top of its scheduling loop retires
///   (Worker.serveInactive): it keeps serving its own loop and timers and
///   forwards what they make runnable.
///
/// Invariants: the monitor never runs a task, never touches a worker's libuv loop
/// (only `uv_async_send`), and changes `stuck` only itself. `running` counts the
/// active, non-stuck workers: the monitor adds one per activation and per
/// worker back from a stuck task, subtracts one per stuck worker; a worker
/// subtracts one when it retires (Runtime.releaseRunning, never below
/// config.workers).
///
/// Shutdown (stopAndJoinWorkers): the monitor stops first (so it starts no
/// thread), then the workers are joined until a deadline; a worker thread still
/// inside a task then is detached and abandoned.
final class Monitor: @unchecked Sendable {
  static let tickNs: Int64 = 2_000_000
  static let idleTickNs: Int64 = 4_000_000
  /// How long one task may hold its worker before it is asked to yield at its
  /// next preemption point (Scheduler.preemptPoint), and before the worker's
  /// work moves on.
  static let preemptNs: Int64 = 8_000_000
  static let stuckNs: Int64 = 10_000_000
  /// How long weft_shutdown waits for the worker threads after the grace period.
  static let joinBudgetNs: Int64 = 50_000_000

  /// Spare workers beside `workers` active ones: enough for two stuck tasks at
  /// the smallest sizes, one per worker above that, at most 8.
  static func spares(_ workers: Int) -> Int { max(2, min(workers, 8)) }

  private let runtimeRef: Unmanaged<Runtime>
  private var thread = pthread_t()
  private let stop = Atomic<Bool>(false)
  /// Per worker: its switch count when last seen changing, and since when.
  private var watch: [(switches: UInt64, since: Int64)] = []
  /// Per worker: when its task was asked to yield, and its thread's CPU time then.
  private var requested: [(at: Int64, cpu: Int64)] = []
  /// The global queue held work at the last tick while a worker slept.
  private var globalSeen = false

  init(runtime: Runtime) {
    runtimeRef = Unmanaged.passUnretained(runtime)
    watch = Array(repeating: (0, 0), count: runtime.workers.count)
    requested = watch.map { _ in (0, 0) }
    let raw = Unmanaged.passRetained(self).toOpaque()
    if pthread_create(
      &thread, nil,
      { raw in
        let monitor = Unmanaged<Monitor>.fromOpaque(raw!).takeRetainedValue()
        monitor.loop()
        return nil
      }, raw) != 0
    {
      // Without a monitor the runtime works, only without hand-offs.
      Unmanaged<Monitor>.fromOpaque(raw).release()
      stop.store(true, ordering: .relaxed)
      thread = pthread_t()
    }
  }

  private func loop() {
    while !stop.load(ordering: .acquiring) {
      let busy = check(now: monotonicNow())
      var pause = timespec(tv_sec: 0, tv_nsec: Int(busy ? Monitor.tickNs : Monitor.idleTickNs))
      nanosleep(&pause, nil)
    }
  }

  /// One pass over the workers; true if any ran a task.
  private func check(now: Int64) -> Bool {
    let runtime = runtimeRef.takeUnretainedValue()
    var busy = false
    var preempting = false
    for worker in runtime.workers where worker.started.load(ordering: .acquiring) {
      let i = worker.index
      let switches = worker.switches.load(ordering: .relaxed)
      let inTask = worker.current != nil  // a racy read: a hint, confirmed by the counter
      if worker.stuck.load(ordering: .acquiring) {
        busy = true
        if switches != watch[i].switches || !inTask {
          worker.stuck.store(false, ordering: .sequentiallyConsistent)
          runtime.running.add(1, ordering: .sequentiallyConsistent)
          watch[i] = (switches, now)
        } else {
          serve(worker, now: now)
        }
        continue
      }
      guard worker.active.load(ordering: .acquiring), inTask else {
        watch[i] = (switches, now)
        continue
      }
      busy = true
      if switches != watch[i].switches {
        watch[i] = (switches, now)
      } else if now - watch[i].since >= Monitor.preemptNs {
        if worker.preemptAt.load(ordering: .relaxed) != switches {
          worker.preemptAt.store(switches, ordering: .relaxed)  // yield at a preemption point
          requested[i] = (now, Monitor.threadCPU(worker))
          preempting = true
        } else if now - watch[i].since < Monitor.stuckNs {
          preempting = true  // asked, not answered yet
        } else if holdsItsCPU(worker, since: now - requested[i].at, ranBefore: requested[i].cpu) {
          worker.stuck.store(true, ordering: .sequentiallyConsistent)
          runtime.running.subtract(1, ordering: .sequentiallyConsistent)
          serve(worker, now: now)
        }
      }
    }
    if Scheduler.preemptPending.load(ordering: .relaxed) != preempting {
      Scheduler.preemptPending.store(preempting, ordering: .relaxed)
    }
    // A safety net against a lost wake-up: work waits in the global queue
    // while every running worker sleeps.
    if !runtime.globalQueue.isEmpty, runtime.sleepers.load(ordering: .sequentiallyConsistent) > 0 {
      if globalSeen { runtime.wakeAnyWorker() }
      globalSeen = true
    } else {
      globalSeen = false
    }
    // Keep config.workers workers running tasks.
    while runtime.running.load(ordering: .sequentiallyConsistent) < runtime.target,
      !runtime.stopWorkers.load(ordering: .acquiring),
      let spare = runtime.workers.first(where: { !$0.active.load(ordering: .acquiring) })
    {
      if !activate(spare, runtime) { break }
    }
    return busy
  }

  /// Whether a worker that has not switched for stuckNs really holds its thread
  /// in its task: it used CPU time meanwhile (a loop), or its thread sleeps in
  /// the kernel (a blocking call). A thread that is runnable but got no CPU was
  /// only descheduled by a loaded machine: a spare would compete for the same
  /// CPUs, so it is looked at again at the next tick.
  private func holdsItsCPU(_ worker: Worker, since window: Int64, ranBefore: Int64) -> Bool {
    let ran = Monitor.threadCPU(worker) - ranBefore
    if ran * 10 >= window { return true }
    let state = Monitor.threadState(worker.tid)
    return state == UInt8(ascii: "S") || state == UInt8(ascii: "D")
  }

  /// CPU time of the worker's thread (ns), 0 if unknown.
  static func threadCPU(_ worker: Worker) -> Int64 {
    var clock = clockid_t()
    guard pthread_getcpuclockid(worker.thread, &clock) == 0 else { return 0 }
    var ts = timespec()
    guard clock_gettime(clock, &ts) == 0 else { return 0 }
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
  }

  /// The scheduler state letter of a thread of this process (/proc), "S" when unknown.
  static func threadState(_ tid: Int32) -> UInt8 {
    guard tid > 0 else { return UInt8(ascii: "S") }
    let fd = open("/proc/self/task/\(tid)/stat", O_RDONLY)
    guard fd >= 0 else { return UInt8(ascii: "S") }
    defer { close(fd) }
    var buf = [UInt8](repeating: 0, count: 256)
    let n = read(fd, &buf, buf.count)
    guard n > 0, let paren = buf[0..<n].lastIndex(of: UInt8(ascii: ")")), paren + 2 < n else {
      return UInt8(ascii: "S")
    }
    return buf[paren + 2]
  }

  /// The calling thread's kernel id, from /proc/thread-self ("<pid>/task/<tid>").
  static func currentThreadId() -> Int32 {
    var buf = [CChar](repeating: 0, count: 64)
    let n = readlink("/proc/thread-self", &buf, 63)
    guard n > 0 else { return 0 }
    return Int32(String(cString: buf).split(separator: "/").last ?? "") ?? 0
  }

  /// A stuck worker's timers and queued tasks, served from here.
  private func serve(_ worker: Worker, now: Int64) {
    if worker.timerOpsPending.load(ordering: .sequentiallyConsistent) { worker.drainTimerOps(owner: false) }
    if worker.earliestTimer.load(ordering: .relaxed) <= now {
      Timers.runDue(worker, owner: false)
      // The owner re-arms its libuv timer (drainTimerOps) once it is back.
      worker.timerOpsLock.lock()
      worker.timerOpsPending.store(true, ordering: .sequentiallyConsistent)
      worker.timerOpsLock.unlock()
    }
    worker.handOffQueued()
  }

  private func activate(_ worker: Worker, _ runtime: Runtime) -> Bool {
    runtime.running.add(1, ordering: .sequentiallyConsistent)
    worker.active.store(true, ordering: .sequentiallyConsistent)
    if worker.started.load(ordering: .acquiring) {
      uv_async_send(worker.wakeup)
      return true
    }
    if runtime.startThread(worker) == 0 { return true }
    worker.active.store(false, ordering: .sequentiallyConsistent)
    runtime.running.subtract(1, ordering: .sequentiallyConsistent)
    runtime.report("weft: could not start a spare worker thread; a stuck task holds its worker\n")
    return false
  }

  /// weft_shutdown, after stopWorkers is set: stops the monitor, wakes every
  /// worker and joins them until `deadline` (monotonic); a thread still inside a
  /// task then is detached and abandoned (it leaves its loop once its task
  /// switches away).
  /// True when every thread was joined.
  @discardableResult
  func stopAndJoinWorkers(until deadline: Int64) -> Bool {
    if !stop.exchange(true, ordering: .acquiringAndReleasing) { pthread_join(thread, nil) }
    let runtime = runtimeRef.takeUnretainedValue()
    let started = runtime.workers.filter { $0.started.load(ordering: .acquiring) }
    for worker in started { uv_async_send(worker.wakeup) }
    while started.contains(where: { !$0.exited.load(ordering: .acquiring) }) && monotonicNow() < deadline {
      usleep(500)
    }
    var joined = true
    for worker in started {
      if worker.exited.load(ordering: .acquiring) {
        pthread_join(worker.thread, nil)  // returning now
      } else {
        pthread_detach(worker.thread)
        joined = false
      }
    }
    return joined
  }
}
