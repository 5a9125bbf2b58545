import Glibc

/// Runtime settings (weft_config). Zero fields mean "the default".
public struct RuntimeConfig: Sendable {
  /// Usable stack bytes of a task unless stackSize says otherwise.
  public static let defaultStackSize = 64 << 10
  /// How long shutdown waits for tasks (ns) unless shutdownGraceNs says otherwise.
  package static let defaultShutdownGraceNs: Int64 = 5_000_000_000

  /// Worker threads (0: $WEFT_WORKERS, else one per core).
  public var workers = 0
  /// Usable stack bytes per task (0: the default).
  public var stackSize = 0
  /// How long shutdown waits for tasks to finish (0: the default).
  package var shutdownGraceNs: Int64 = 0
  /// Threads of the blocking-offload pool (IO/Offload.swift); 0: 16.
  public var offloadThreads = 0
  /// Offload pool threads unless offloadThreads says otherwise.
  public static let defaultOffloadThreads = 16

  /// Settings in the C layer's units (weft_config); zeros mean the defaults.
  package init(workers: Int = 0, stackSize: Int = 0, shutdownGraceNs: Int64) {
    self.workers = workers
    self.stackSize = stackSize
    self.shutdownGraceNs = shutdownGraceNs
  }

  /// Zero fields replaced: workers from $WEFT_WORKERS, else one per core.
  func resolved() -> RuntimeConfig {
    var config = self
    if config.workers <= 0 {
      if let text = getenv("WEFT_WORKERS"), let n = Int(String(cString: text)), n > 0 {
        config.workers = n
      } else {
        config.workers = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
      }
    }
    config.workers = min(config.workers, Runtime.maxWorkers)
    if config.stackSize <= 0 { config.stackSize = RuntimeConfig.defaultStackSize }
    if config.shutdownGraceNs <= 0 { config.shutdownGraceNs = RuntimeConfig.defaultShutdownGraceNs }
    if config.offloadThreads <= 0 { config.offloadThreads = RuntimeConfig.defaultOffloadThreads }
    return config
  }

  /// A task stack request is valid from 16 KiB to 64 MiB (0: the default).
  static func validStackSize(_ size: Int) -> Bool {
    size == 0 || (size >= StackPool.minSize && size <= StackPool.maxSize)
  }
}
