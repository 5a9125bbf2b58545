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
///  - Every operation runs under its own cancel context, a child of `context`
///    (nil: background), registered under (notify, tag) in notify's
///    NotifyState: `NotifyState.cancel(tag)` or ending `context` withdraws the
///    operation; it then did not happen (nothing received, nothing sent, no
///    lock held). Tags are unique among the pending operations of a notify.
///  - After sending its completion the task signals notify's eventfd (if one
///    was requested); a completion that finds notify full counts an overflow
///    and signals before it parks, so a poller drains and makes room.
///  - Buffers (`out`, `elem`, select cases) belong to the caller and must stay
///    valid until the completion arrives.
package struct AsyncCompletion {
  package var tag: UInt64
  package var result: Int32
  package var reserved: Int32

  package init(tag: UInt64, result: Int32) {
    self.tag = tag
    self.result = result
    self.reserved = 0
  }

  package static let size = MemoryLayout<AsyncCompletion>.stride
}

package final class AsyncOp: @unchecked Sendable {
  package enum Kind {
    case receive(Channel, UnsafeMutableRawPointer?)
    case send(Channel, UnsafeRawPointer?)
    /// The cases array and the channels it names (kept alive while pending);
    /// finish(index) runs before the completion is sent. Count 0: only the
    /// context ends it.
    case select(UnsafeMutablePointer<SelectCase>, Int, [Channel], finish: (Int) -> Void)
    case waitGroup(WaitGroup)
    case mutex(Mutex)
    case semaphore(Semaphore, Int64)
    /// Waits until the context itself is done (start it with context: target).
    case contextDone(Context)
  }

  let kind: Kind
  let context: Context
  let notify: Channel
  let state: NotifyState
  let tag: UInt64

  init(_ kind: Kind, context: Context, notify: Channel, state: NotifyState, tag: UInt64) {
    self.kind = kind
    self.context = context
    self.notify = notify
    self.state = state
    self.tag = tag
  }

  /// Spawns the task running kind; .invalid when notify does not carry
  /// AsyncCompletion records, .busy when tag is already pending on notify.
  package static func start(_ kind: Kind, context: Context?, notify: Channel, tag: UInt64) -> WeftError? {
    guard notify.elemSize == AsyncCompletion.size else { return .invalid }
    let state = NotifyState.of(notify)
    let own = Context.withCancel(context ?? Context.background)
    guard state.add(tag, own) else {
      own.cancel()
      return .busy
    }
    let op = AsyncOp(kind, context: own, notify: notify, state: state, tag: tag)
    let raw = Unmanaged.passRetained(op).toOpaque()
    if let error = Runtime.spawn(asyncTrampoline, raw) {
      Unmanaged<AsyncOp>.fromOpaque(raw).release()
      state.remove(tag)
      own.cancel()
      return error
    }
    return nil
  }

  /// Sends the completion, then signals the eventfd.
  func complete(_ result: Int32) {
    state.remove(tag)
    context.cancel()  // unlinks the op's context from its parent
    var completion = AsyncCompletion(tag: tag, result: result)
    withUnsafePointer(to: &completion) { record in
      if notify.trySend(UnsafeRawPointer(record)) == .wouldBlock {
        overflowed()
        _ = notify.send(UnsafeRawPointer(record))
      }
    }
    state.signal()
  }

  @inline(never)
  private func overflowed() {
    state.overflows.add(1, ordering: .relaxed)
    state.signal()
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
      return code(group.coreWait(context: context))
    case .mutex(let mutex):
      return code(mutex.coreLock(deadline: noDeadline, context: context))
    case .semaphore(let semaphore, let n):
      return code(semaphore.coreAcquire(n, context: context))
    case .contextDone(let target):
      // The op's context is target's child: it ends with target, or earlier
      // when the op is canceled by tag.
      let error = context.coreWait()
      return code(target.isDone ? target.error : error)
    }
  }
}

private let asyncTrampoline: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
  let op = Unmanaged<AsyncOp>.fromOpaque(raw!).takeRetainedValue()
  op.complete(op.perform())
}
