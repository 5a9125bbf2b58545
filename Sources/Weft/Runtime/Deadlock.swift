import CLibUV
import Glibc
import Synchronization

/// The deadlock report (Go's "all goroutines are asleep - deadlock!"), opt-in:
/// `WEFT_DEADLOCK=report` prints a report to stderr once; `WEFT_DEADLOCK=abort`
/// prints it and exits with status 2, as Go does. Unset (or anything else): off,
/// and nothing below runs.
///
/// Where it runs: a watchdog thread started with the runtime (only when opted
/// in) samples every `WEFT_DEADLOCK_MS` (default 100) milliseconds. Nothing is
/// added to the hot paths: with the variable unset, the only cost anywhere is
/// one load of `enabled` in a blocking call's slow path (a task or thread that
/// is about to park) and one of a mutex's own `tracksHolder` in its lock and
/// unlock (measured: benchmarks/c mutex, pingpong, select4, buffered_mpmc, see
/// docs/internals.md).
///
/// When it reports: two samples in a row, with no progress between them (no
/// switch, spawn, wake-up or thread wait), find all of:
///   - every live task parked, no timer pending, nothing queued, every worker
///     asleep, no libuv handle or request in flight beyond the workers' own;
///   - at least one task or plain thread waiting;
///   - every thread of the process (/proc/self/task) accounted for: a worker,
///     this watchdog, or a plain thread blocked in a weft call WITHOUT a deadline.
/// Any other thread (one about to send, the signal hub, a thread pool, an
/// interpreter's threads) might still wake someone: then nothing is reported.
/// So a report is never a false alarm, at the price of staying silent in
/// processes with threads it cannot see into.
///
/// What it says: each waiting task (id, name, what it waits on and the object's
/// address) and blocked thread, the channels with their waiters, and for mutexes
/// the wait-for cycle (task A waits for mutex M held by task B, which waits for
/// ... A). Mutex holders are recorded only while the report is enabled.
enum Deadlock {
  enum Mode { case off, report, abort }

  static let mode: Mode = {
    guard let text = getenv("WEFT_DEADLOCK") else { return .off }
    switch String(cString: text) {
    case "report", "1": return .report
    case "abort": return .abort
    default: return .off
    }
  }()

  /// Set once at runtime start when opted in; read by the hooks.
  nonisolated(unsafe) static var enabled = false

  private static let lock = SpinLock()
  /// Waiting task's record (or a thread's parker) address -> the wait's object
  /// (the primitive's lock address).
  nonisolated(unsafe) private static var waits: [UInt: UInt] = [:]
  /// Mutex queue-lock address -> holder (a task id, or a thread's tid | threadBit).
  nonisolated(unsafe) private static var holders: [UInt: UInt64] = [:]
  /// Plain threads blocked without a deadline: parker address -> (tid, reason).
  nonisolated(unsafe) private static var threads: [UInt: (tid: Int32, reason: UnsafePointer<UInt8>)] = [:]
  private static let threadWaits = Atomic<UInt64>(0)
  static let threadBit: UInt64 = 1 << 63

  // MARK: - Hooks (each a no-op while disabled)

  /// Called once the runtime's workers run.
  static func start(_ runtime: Runtime) {
    guard mode != .off else { return }
    enabled = true
    var thread = pthread_t()
    pthread_create(&thread, nil, { _ in
      Deadlock.watch()
      return nil
    }, nil)
    pthread_detach(thread)
  }

  private static func waitKey(_ parker: ParkerRef) -> UInt {
    parker.pointee.task.map { UInt(bitPattern: $0) } ?? UInt(bitPattern: parker)
  }

  /// A parker is about to wait on the primitive whose lock is at `object`.
  static func noteWait(_ parker: ParkerRef, _ object: UnsafeRawPointer) {
    let key = waitKey(parker)
    lock.lock()
    waits[key] = UInt(bitPattern: object)
    lock.unlock()
  }

  static func clearWait(_ parker: ParkerRef) {
    let key = waitKey(parker)
    lock.lock()
    waits[key] = nil
    lock.unlock()
  }

  /// A plain thread blocks (true: it was recorded; pass it to threadWoke).
  static func threadWillBlock(_ parker: ParkerRef, deadline: Int64, reason: StaticString) -> Bool {
    guard enabled, deadline == noDeadline else { return false }
    threadWaits.add(1, ordering: .relaxed)
    lock.lock()
    threads[UInt(bitPattern: parker)] = (currentTid(), reason.utf8Start)
    lock.unlock()
    return true
  }

  static func threadWoke(_ parker: ParkerRef, _ recorded: Bool) {
    guard recorded else { return }
    lock.lock()
    threads[UInt(bitPattern: parker)] = nil
    lock.unlock()
  }

  /// The mutex whose queue lock is at `object` was taken by the caller.
  @usableFromInline static func acquired(_ object: UnsafeRawPointer) {
    let holder = Scheduler.currentTask().map { $0.pointee.id } ?? (UInt64(UInt32(bitPattern: currentTid())) | threadBit)
    lock.lock()
    holders[UInt(bitPattern: object)] = holder
    lock.unlock()
  }

  @usableFromInline static func released(_ object: UnsafeRawPointer) {
    lock.lock()
    holders[UInt(bitPattern: object)] = nil
    lock.unlock()
  }

  /// The kernel's thread id (what /proc/self/task lists), from /proc/thread-self.
  private static func currentTid() -> Int32 {
    var buf = [CChar](repeating: 0, count: 64)
    let n = readlink("/proc/thread-self", &buf, 63)
    guard n > 0, let slash = buf[0..<n].lastIndex(of: CChar(UInt8(ascii: "/"))) else { return 0 }
    return Int32(String(decoding: buf[(slash + 1)..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)) ?? 0
  }

  // MARK: - The watchdog

  private struct Sample: Equatable {
    var stuck = false
    var progress: [UInt64] = []
  }

  private static func watch() {
    var interval: Int64 = 100
    if let text = getenv("WEFT_DEADLOCK_MS"), let n = Int64(String(cString: text)), n > 0 { interval = n }
    var last = Sample()
    while true {
      var ts = timespec(tv_sec: Int(interval / 1000), tv_nsec: Int(interval % 1000) * 1_000_000)
      nanosleep(&ts, nil)
      guard Runtime.lifecycle.load(ordering: .acquiring) == Runtime.Phase.running.rawValue,
        let runtime = Runtime.shared
      else { return }
      let now = sample(runtime)
      if now.stuck && now == last {
        let report = describe(runtime)
        runtime.report(report)
        if mode == .abort { _exit(2) }
        return
      }
      last = now
    }
  }

  private static func sample(_ runtime: Runtime) -> Sample {
    var s = Sample()
    var progress: [UInt64] = [
      runtime.foreignUnparks.load(ordering: .relaxed), runtime.foreignSpawned.load(ordering: .relaxed),
      threadWaits.load(ordering: .relaxed),
    ]
    var allAsleep = true
    var loopsQuiet = true
    for worker in runtime.workers {
      progress += [
        worker.switches.load(ordering: .relaxed), worker.unparks.load(ordering: .relaxed),
        worker.spawned.load(ordering: .relaxed), worker.parks.load(ordering: .relaxed),
      ]
      if !worker.sleeping.load(ordering: .sequentiallyConsistent) { allAsleep = false }
      // The worker's own handles: its wake-up (always active) and its timer heap's
      // uv timer (checked through timersPending). Anything else is I/O, a signal
      // watcher or a request in flight that may still wake someone.
      let loop = worker.loop
      let own: UInt32 = 1 + (uv_is_active(UnsafeMutableRawPointer(worker.heapTimer).assumingMemoryBound(to: uv_handle_t.self)) != 0 ? 1 : 0)
      if loop.pointee.active_handles > own || loop.pointee.active_reqs.count > 0 { loopsQuiet = false }
    }
    s.progress = progress
    guard allAsleep, loopsQuiet, let stats = RuntimeStats.snapshot() else { return s }
    let queued = stats.runQueueLengths.reduce(0, +) + runtime.globalQueue.count.load(ordering: .relaxed)
    guard stats.tasksParked == stats.tasksLive, stats.timersPending == 0, queued == 0 else { return s }
    lock.lock()
    let blockedThreads = threads.count
    lock.unlock()
    guard stats.tasksLive > 0 || blockedThreads > 0 else { return s }
    // Every thread of the process is a worker, this watchdog or a blocked thread.
    guard let osThreads = countThreads(), osThreads == runtime.workers.count + 1 + blockedThreads else { return s }
    s.progress.append(UInt64(blockedThreads))
    s.stuck = true
    return s
  }

  private static func countThreads() -> Int? {
    guard let dir = opendir("/proc/self/task") else { return nil }
    defer { closedir(dir) }
    var n = 0
    while let entry = readdir(dir) {
      if entry.pointee.d_name.0 != UInt8(ascii: ".") { n += 1 }
    }
    return n
  }

  // MARK: - The report

  private static func describe(_ runtime: Runtime) -> String {
    lock.lock()
    let waits = self.waits
    let holders = self.holders
    let threads = self.threads
    lock.unlock()
    func holderName(_ h: UInt64) -> String {
      h & threadBit != 0 ? "thread \(h & ~threadBit)" : "task \(h)"
    }
    func object(_ address: UInt, _ reason: String) -> String {
      let first = reason.split(separator: " ").first.map(String.init) ?? "object"
      let kind = first == "chan" || first == "select" ? "channel" : first
      return "\(kind) 0x\(String(address, radix: 16))"
    }
    var out = "weft: all tasks are asleep - deadlock!\n"
    // who -> (reason, object address or 0)
    var waiting: [(who: UInt64, label: String, reason: String, object: UInt)] = []
    runtime.forEachLiveTask { task in
      let reason = task.pointee.waitReason.map { String(cString: $0) } ?? "?"
      let name = task.pointee.nameString
      waiting.append((task.pointee.id, "task \(task.pointee.id)\(name.isEmpty ? "" : " '\(name)'")", reason, waits[UInt(bitPattern: task)] ?? 0))
    }
    for (parker, entry) in threads.sorted(by: { $0.value.tid < $1.value.tid }) {
      let tid = UInt64(UInt32(bitPattern: entry.tid)) | threadBit
      let main = entry.tid == getpid() ? " (main)" : ""
      waiting.append((tid, "thread \(entry.tid)\(main)", String(cString: entry.reason), waits[parker] ?? 0))
    }
    waiting.sort { $0.who < $1.who }
    for w in waiting {
      var line = "  \(w.label): waiting in \(w.reason)"
      if w.object != 0 {
        line += " on \(object(w.object, w.reason))"
        if let h = holders[w.object] {
          let gone = h & threadBit == 0 && !waiting.contains { $0.who == h }
          line += " (held by \(holderName(h))\(gone ? ", which has finished" : ""))"
        }
      }
      out += line + "\n"
    }
    // Objects with their waiters.
    var byObject: [UInt: [String]] = [:]
    for w in waiting where w.object != 0 { byObject[w.object, default: []].append(w.label) }
    for (address, who) in byObject.sorted(by: { $0.key < $1.key }) where who.count > 1 {
      out += "  \(who.count) waiters on 0x\(String(address, radix: 16)): \(who.joined(separator: ", "))\n"
    }
    // Mutex wait-for cycles: waiter -> mutex -> holder -> the mutex it waits for ...
    var waitsFor: [UInt64: UInt] = [:]
    for w in waiting where w.object != 0 && holders[w.object] != nil { waitsFor[w.who] = w.object }
    let label = Dictionary(waiting.map { ($0.who, $0.label) }, uniquingKeysWith: { a, _ in a })
    var reported = Set<UInt64>()
    for start in waitsFor.keys.sorted() where !reported.contains(start) {
      var path: [UInt64] = []
      var seen = Set<UInt64>()
      var at = start
      while let m = waitsFor[at], let h = holders[m], !seen.contains(at) {
        seen.insert(at)
        path.append(at)
        at = h
      }
      guard let i = path.firstIndex(of: at) else { continue }
      let cycle = Array(path[i...])
      if cycle.contains(where: reported.contains) { continue }
      reported.formUnion(cycle)
      var text = "  wait-for cycle: "
      for who in cycle {
        text += "\(label[who] ?? holderName(who)) waits for mutex 0x\(String(waitsFor[who]!, radix: 16)) held by "
      }
      text += (label[cycle[0]] ?? holderName(cycle[0])) + "\n"
      out += text
    }
    return out
  }
}
