import Glibc

/// A snapshot of the runtime's counters (weft_stats). Counters are read without
/// stopping the workers, so they are individually exact but not a consistent cut.
public struct RuntimeStats: Sendable {
  /// Worker threads.
  public var workers = 0
  /// Tasks spawned and not finished.
  public var tasksLive: UInt64 = 0
  /// Live tasks parked now.
  public var tasksParked: UInt64 = 0
  /// Tasks spawned since start.
  public var tasksSpawned: UInt64 = 0
  /// Tasks finished since start.
  public var tasksFinished: UInt64 = 0
  /// Task switches since start.
  public var switches: UInt64 = 0
  /// Tasks taken from another worker's queue.
  public var steals: UInt64 = 0
  /// Timers armed now.
  public var timersPending: UInt64 = 0
  /// Runnable tasks queued per worker.
  public var runQueueLengths: [Int] = []
  /// Tasks alive, all parked, no timer pending, nothing queued: only something
  /// outside the runtime (a plain thread, a signal) could still wake them.
  public var deadlocked = false

  /// nil before the runtime started.
  public static func snapshot() -> RuntimeStats? {
    guard let runtime = Runtime.shared else { return nil }
    var stats = RuntimeStats()
    if Runtime.forked { return stats }  // no workers, no tasks in a forked child
    stats.workers = runtime.target
    var parks: UInt64 = 0
    var unparks = runtime.foreignUnparks.load(ordering: .relaxed)
    stats.tasksSpawned = runtime.foreignSpawned.load(ordering: .relaxed)
    var timers = 0
    var spareQueued = 0
    for worker in runtime.workers {
      stats.tasksSpawned &+= worker.spawned.load(ordering: .relaxed)
      stats.tasksFinished &+= worker.finished.load(ordering: .relaxed)
      stats.switches &+= worker.switches.load(ordering: .relaxed)
      stats.steals &+= worker.steals.load(ordering: .relaxed)
      parks &+= worker.parks.load(ordering: .relaxed)
      unparks &+= worker.unparks.load(ordering: .relaxed)
      timers += worker.timersActive.load(ordering: .relaxed)
      if worker.index < runtime.target {
        stats.runQueueLengths.append(worker.queue.count)
      } else {
        spareQueued += worker.queue.count
      }
    }
    stats.tasksLive = UInt64(runtime.liveTasks)
    stats.tasksParked = parks > unparks ? parks - unparks : 0
    stats.timersPending = UInt64(max(0, timers))
    let queued = stats.runQueueLengths.reduce(0, +) + spareQueued + runtime.globalQueue.count.load(ordering: .relaxed)
    stats.deadlocked =
      stats.tasksLive > 0 && stats.tasksParked == stats.tasksLive && stats.timersPending == 0 && queued == 0
      && Poller.activeHandles == 0  // a task waiting on an fd can be woken by it
    return stats
  }

  /// One line per live task: id, name, state, what it waits on and since when.
  public static func dumpTasks(to fd: Int32) {
    guard let runtime = Runtime.shared, !Runtime.forked else { return }
    var out = "weft: \(runtime.liveTasks) live tasks\n"
    runtime.forEachLiveTask { task in
      let state: String
      switch task.pointee.state.load(ordering: .relaxed) {
      case TaskRecord.parked, TaskRecord.parking:
        state = "parked on \(task.pointee.waitReason.map { String(cString: $0) } ?? "?")"
      default: state = task.pointee.stack == nil ? "runnable (not started)" : "running or runnable"
      }
      let name = task.pointee.nameString
      out += "  task \(task.pointee.id) \(name.isEmpty ? "-" : "'\(name)'"): \(state)\n"
      if out.utf8.count > 1 << 16 {
        writeAll(fd, out)
        out = ""
      }
    }
    writeAll(fd, out)
  }

  private static func writeAll(_ fd: Int32, _ text: String) {
    var text = text
    text.withUTF8 { bytes in
      var offset = 0
      while offset < bytes.count {
        let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if n <= 0 { return }
        offset += n
      }
    }
  }
}
