import Synchronization

/// Runs `body` as a region in which the current `go {}` task must not park
/// (nor yield): wrap what you do while holding a Swift or pthread lock
/// (`Synchronization.Mutex`, `NSLock`, `pthread_mutex_t`), which must never be
/// held across a park — the task may resume on another thread, and the next
/// task on this worker would deadlock on the lock.
///
///     state.withLock { value in
///       withParkingForbidden("state's Synchronization.Mutex") { value.append(x) }
///     }
///
/// In debug builds of Weft a park inside the region traps with a message
/// naming the task and `what`; in release builds it only runs `body`. Outside
/// a task (a plain thread, a Swift `Task`) it only runs `body`.
public func withParkingForbidden<T, E: Error>(
  _ what: StaticString = "a Swift or pthread lock", _ body: () throws(E) -> T
) throws(E) -> T {
  #if DEBUG
    guard let worker = Scheduler.currentWorker(), worker.current != nil else { return try body() }
    let outer = worker.parkForbiddenWhat
    worker.parkForbiddenDepth += 1
    worker.parkForbiddenWhat = what
    ParkGuard.open.add(1, ordering: .relaxed)
    defer {
      ParkGuard.open.subtract(1, ordering: .relaxed)
      worker.parkForbiddenDepth -= 1
      worker.parkForbiddenWhat = outer
    }
  #endif
  return try body()
}

/// The park path's check (Scheduler.switchAway): one relaxed load while no
/// region is open anywhere.
enum ParkGuard {
  /// Open regions in the process (a gate for the per-worker check).
  static let open = Atomic<Int>(0)

  /// Traps when the worker's running task is inside a region.
  static func check(_ task: TaskRef) {
    guard let worker = Scheduler.currentWorker(), worker.parkForbiddenDepth > 0 else { return }
    let name = task.pointee.nameString
    let label = name.isEmpty ? "task \(task.pointee.id)" : "task \(task.pointee.id) '\(name)'"
    let reason = task.pointee.waitReason.map { String(cString: $0) } ?? "yield"
    fatalError(
      "weft: \(label) parked (\(reason)) while holding \(worker.parkForbiddenWhat): a Swift or pthread lock must not be held across a park (use Weft.Mutex)"
    )
  }
}
