import CWeftABI
import Weft

// The runtime, version, error and introspection section of weft.h.

@c public func weft_version() -> UInt32 {
  UInt32(WEFT_VERSION_MAJOR << 16 | WEFT_VERSION_MINOR << 8 | WEFT_VERSION_PATCH)
}

// Kept equal to the header's macros by Tests/capi/test_version.c.
@c public func weft_version_string() -> UnsafePointer<CChar> { staticCString("0.2.0") }

@c public func weft_strerror(_ err: Int32) -> UnsafePointer<CChar> {
  if err == 0 { return staticCString("success") }
  guard let error = WeftError(rawValue: err) else { return staticCString("unknown error") }
  return error.message.utf8Start.withMemoryRebound(to: CChar.self, capacity: 1) { $0 }
}

@c public func weft_err_name(_ err: Int32) -> UnsafePointer<CChar> {
  if err == 0 { return staticCString("WEFT_OK") }
  guard let error = WeftError(rawValue: err) else { return staticCString("WEFT_EUNKNOWN") }
  return error.name.utf8Start.withMemoryRebound(to: CChar.self, capacity: 1) { $0 }
}

@c public func weft_config_init(_ config: UnsafeMutablePointer<weft_config>?) {
  guard let config else { return }
  config.pointee = weft_config()
  config.pointee.size = MemoryLayout<weft_config>.size
}

/// weft_config's size in 0.1.0, before offload_threads.
private let configSizeV1 = MemoryLayout<weft_config>.offset(of: \weft_config.offload_threads)!

@c public func weft_init(_ config: UnsafePointer<weft_config>?) -> Int32 {
  var settings = RuntimeConfig(shutdownGraceNs: 0)
  if let config {
    // The size must cover 0.1.0's four fields (the first version); fields
    // added since (offload_threads) are read only when it covers them.
    guard config.pointee.size >= configSizeV1 else { return WeftError.invalid.code }
    settings.workers = Int(config.pointee.workers)
    settings.stackSize = config.pointee.stack_size
    settings.shutdownGraceNs = config.pointee.shutdown_grace_ns
    if config.pointee.size >= configSizeV1 + MemoryLayout<UInt32>.size {
      settings.offloadThreads = Int(config.pointee.offload_threads)
    }
    guard settings.stackSize == 0 || settings.stackSize >= 16 << 10 && settings.stackSize <= 64 << 20,
      settings.shutdownGraceNs >= 0
    else { return WeftError.invalid.code }
  }
  return code(Runtime.coreStart(settings))
}

@c public func weft_shutdown() -> Int32 { code(Runtime.coreShutdown()) }

@c public func weft_now_ns() -> Int64 { monotonicNow() }

/// The size of weft_stats in version 0.1.0, before `deadlocked`: callers built
/// against that header still get every field they know of.
private let statsSizeV1 = MemoryLayout<weft_stats>.offset(of: \weft_stats.deadlocked)!

@c public func weft_stats_get(_ out: UnsafeMutablePointer<weft_stats>?) -> Int32 {
  guard let out else { return WeftError.invalid.code }
  let callerSize = out.pointee.size
  guard callerSize >= statsSizeV1 else { return WeftError.invalid.code }
  var stats = weft_stats()
  stats.size = min(callerSize, MemoryLayout<weft_stats>.size)
  if let snapshot = RuntimeStats.snapshot() {
    stats.workers = UInt32(snapshot.workers)
    stats.tasks_live = snapshot.tasksLive
    stats.tasks_parked = snapshot.tasksParked
    stats.tasks_spawned = snapshot.tasksSpawned
    stats.tasks_finished = snapshot.tasksFinished
    stats.switches = snapshot.switches
    stats.steals = snapshot.steals
    stats.timers_pending = snapshot.timersPending
    stats.deadlocked = snapshot.deadlocked ? 1 : 0
    stats.io_polls_active = UInt64(Poller.activeHandles)
    withUnsafeMutableBytes(of: &stats.runq_len) { raw in
      let lengths = raw.bindMemory(to: UInt32.self)
      for (i, length) in snapshot.runQueueLengths.prefix(lengths.count).enumerated() {
        lengths[i] = UInt32(length)
      }
    }
  }
  withUnsafeBytes(of: &stats) { bytes in
    UnsafeMutableRawPointer(out).copyMemory(
      from: bytes.baseAddress!, byteCount: min(callerSize, MemoryLayout<weft_stats>.size))
  }
  return 0
}

@c public func weft_dump_tasks(_ fd: Int32) -> Int32 {
  guard fd >= 0 else { return WeftError.invalid.code }
  RuntimeStats.dumpTasks(to: fd)
  return 0
}
