import CWeftCoro
import Glibc
import Synchronization

/// A task: a stackful coroutine run by the workers.
///
/// Records live in raw memory (`TaskRef`), never behind a Swift reference: a task
/// parks in the middle of Swift code and may resume on another thread, so its own
/// bookkeeping must not hold open exclusivity accesses or ARC-managed state that
/// the compiler might cache across the switch. Records are pooled and never freed,
/// so a stale pointer read (dump, stats) never touches unmapped memory.
///
/// State machine of `state` (the park/unpark handshake, see Parker):
///   running --park()--> parking --(g0 after the switch)--> parked --unpark--> running
///                         \--unpark before the switch finished--> notified --g0--> running
package typealias TaskRef = UnsafeMutablePointer<TaskRecord>

package struct TaskRecord: ~Copyable {
  static let running: UInt8 = 0
  static let parking: UInt8 = 1
  static let parked: UInt8 = 2
  static let notified: UInt8 = 3

  // Fields are ordered so that the small ones share a word: a record is per task.
  var context = cweft_context()
  let state = Atomic<UInt8>(0)
  /// Spawned and not yet finished (records are reused).
  let live = Atomic<Bool>(false)
  /// Usable stack bytes to give the task on its first run (at most 64 MiB).
  var requestedStack: UInt32 = 0
  var id: UInt64 = 0
  var entry: (@convention(c) (UnsafeMutableRawPointer?) -> Void)? = nil
  var arg: UnsafeMutableRawPointer? = nil
  var stack: Stack? = nil
  /// Run-queue link (owned by whichever queue holds the task).
  var next: TaskRef? = nil
  /// The task's name (a private copy, up to 31 bytes), nil when unnamed.
  var name: UnsafeMutablePointer<CChar>? = nil
  /// The Parker of the call the task is parked in (on its stack), else 0; see
  /// ParkerSlot (shutdown claims it).
  let parkerSlot = Atomic<UInt>(0)
  /// What the task waits on, for dumps: a static C string, nil when running.
  var waitReason: UnsafePointer<UInt8>? = nil
  /// The task's open exclusivity accesses while it is switched out (the Swift
  /// runtime's two-word state; see Scheduler.switchOut). Zero between tasks.
  var accesses: (UInt, UInt) = (0, 0)

  init() {}

  var nameString: String { name.map { String(cString: $0) } ?? "" }

  mutating func setName(_ text: UnsafePointer<CChar>?) {
    if let name { free(name) }
    name = text.map { strndup($0, 31) }
  }
}

/// Where a task's body starts: runs the entry, then hands the record back to the
/// worker for recycling (never returns).
let taskTrampoline: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
  cweft_context_started()
  let task = raw!.assumingMemoryBound(to: TaskRecord.self)
  _ = Scheduler.withCurrentWorker { $0.finishSwitch() }  // we may have been switched to directly
  Scheduler.switchedIn(task)
  task.pointee.entry?(task.pointee.arg)
  Scheduler.exitCurrent()
}
