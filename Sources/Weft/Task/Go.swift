/// The Swift face of weft_go: runs a closure as a task.
///
///     try go { print("in a task:", Scheduler.inTask) }
public func go(
  stackSize: Int = 0, name: String? = nil, _ body: @escaping @Sendable () -> Void
) throws(WeftError) {
  let box = Unmanaged.passRetained(TaskBody(body)).toOpaque()
  let error: WeftError? =
    if let name {
      name.withCString { Runtime.spawn(runTaskBody, box, stackSize: stackSize, name: $0) }
    } else {
      Runtime.spawn(runTaskBody, box, stackSize: stackSize)
    }
  if let error {
    Unmanaged<TaskBody>.fromOpaque(box).release()
    throw error
  }
}

private final class TaskBody {
  let body: @Sendable () -> Void
  init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

private let runTaskBody: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
  Unmanaged<TaskBody>.fromOpaque(raw!).takeRetainedValue().body()
}
