/// Async completions: a blocking operation started without blocking the caller,
/// for event loops (the Python asyncio bridge) that must never park.
///
/// Protocol:
///  - `AsyncOp.start` boxes the operation (strong references to every object it
///    touches, so the caller may release its handles at once), spawns a task and
///    returns. The task runs the ordinary blocking core call (it parks the task,
///    never a thread), then sends one `AsyncCompletion {tag, result}` on
///    `notify` with a blocking send: a full notify channel parks the task, a
///    closed one (or shutdown) drops the completion.
///  - Exactly one completion per successful `start`; none when `start` fails.
///  - `context` (nil: none) cancels the operation through the primitive's own
///    context support: the operation then did not happen (nothing received,
///    nothing sent, no lock held).
///  - Buffers (`out`, `elem`, select cases) belong to the caller and must stay
///    valid until the completion arrives.
public struct AsyncCompletion {
  public var tag: UInt64
  public var result: Int32
  public var reserved: Int32

  public init(tag: UInt64, result: Int32) {
    self.tag = tag
    self.result = result
    self.reserved = 0
  }

  public static let size = MemoryLayout<AsyncCompletion>.stride
}

public final class AsyncOp: @unchecked Sendable {
  public enum Kind {
    case receive(Channel, UnsafeMutableRawPointer?)
    case send(Channel, UnsafeRawPointer?)
    /// The cases array and the channels it names (kept alive while pending);
    /// finish(index) runs before the completion is sent.
    case select(UnsafeMutablePointer<SelectCase>, Int, [Channel], finish: (Int) -> Void)
    case waitGroup(WaitGroup)
    case mutex(Mutex)
    case semaphore(Semaphore, Int64)
    /// Waits until the context itself is done (the op's context is ignored).
    case contextDone(Context)
  }

  let kind: Kind
  let context: Context?
  let notify: Channel
  let tag: UInt64

  init(_ kind: Kind, context: Context?, notify: Channel, tag: UInt64) {
    self.kind = kind
    self.context = context
    self.notify = notify
    self.tag = tag
  }

  /// Spawns the task running kind; .invalid when notify does not carry
  /// AsyncCompletion records.
  public static func start(_ kind: Kind, context: Context?, notify: Channel, tag: UInt64) -> WeftError? {
    guard notify.elemSize == AsyncCompletion.size else { return .invalid }
    let raw = Unmanaged.passRetained(AsyncOp(kind, context: context, notify: notify, tag: tag)).toOpaque()
    if let error = Runtime.spawn(asyncTrampoline, raw) {
      Unmanaged<AsyncOp>.fromOpaque(raw).release()
      return error
    }
    return nil
  }

  /// The blocking call: 0 or a negative WEFT_E* code (select: the case index).
  func perform() -> Int32 {
    func code(_ error: WeftError?) -> Int32 { error?.code ?? 0 }
    switch kind {
    case .receive(let channel, let out):
      return code(channel.receive(into: out, context: context))
    case .send(let channel, let elem):
      return code(channel.send(elem, context: context))
    case .select(let cases, let count, _, let finish):
      let index = Select.select(cases, count: count, context: context)
      finish(index)
      return Int32(index)
    case .waitGroup(let group):
      return code(group.wait(context: context))
    case .mutex(let mutex):
      return code(mutex.lock(deadline: noDeadline, context: context))
    case .semaphore(let semaphore, let n):
      return code(semaphore.acquire(n, context: context))
    case .contextDone(let target):
      return code(target.wait())
    }
  }
}

private let asyncTrampoline: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
  let op = Unmanaged<AsyncOp>.fromOpaque(raw!).takeRetainedValue()
  var completion = AsyncCompletion(tag: op.tag, result: op.perform())
  _ = withUnsafePointer(to: &completion) { op.notify.send(UnsafeRawPointer($0)) }
}
