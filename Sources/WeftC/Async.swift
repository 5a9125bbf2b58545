import CWeftABI
import Weft

// The async completions section of weft.h: each call boxes the operation in an
// AsyncOp (which holds its own references), spawns its task and returns; the
// completion arrives later on notify.

let completionLayoutMatches: Bool =
  MemoryLayout<AsyncCompletion>.stride == MemoryLayout<weft_completion>.stride
  && MemoryLayout<AsyncCompletion>.offset(of: \.tag) == MemoryLayout<weft_completion>.offset(of: \.tag)
  && MemoryLayout<AsyncCompletion>.offset(of: \.result) == MemoryLayout<weft_completion>.offset(of: \.result)

/// Checks notify and ctx, then starts kind(); WEFT_EINVAL for a bad handle.
@inline(__always)
func startAsync(_ ctx: CtxHandle?, _ notify: ChanHandle?, _ tag: UInt64, _ kind: () -> AsyncOp.Kind?) -> Int32 {
  precondition(completionLayoutMatches, "weft: weft_completion and AsyncCompletion layouts differ")
  guard let notify = channel(notify)?.takeUnretainedValue() else { return WeftError.invalid.code }
  return withContext(ctx) { context in
    guard let kind = kind() else { return WeftError.invalid.code }
    return code(AsyncOp.start(kind, context: context, notify: notify, tag: tag))
  }
}

@c public func weft_chan_recv_async(
  _ ch: ChanHandle?, _ out: UnsafeMutableRawPointer?, _ ctx: CtxHandle?, _ notify: ChanHandle?, _ tag: UInt64
) -> Int32 {
  startAsync(ctx, notify, tag) { channel(ch).map { .receive($0.takeUnretainedValue(), out) } }
}

@c public func weft_chan_send_async(
  _ ch: ChanHandle?, _ elem: UnsafeRawPointer?, _ ctx: CtxHandle?, _ notify: ChanHandle?, _ tag: UInt64
) -> Int32 {
  startAsync(ctx, notify, tag) {
    guard let channel = channel(ch)?.takeUnretainedValue(), elem != nil || channel.elemSize == 0 else { return nil }
    return .send(channel, elem)
  }
}

@c public func weft_select_async(
  _ cases: UnsafeMutablePointer<weft_case>?, _ n: UInt, _ ctx: CtxHandle?, _ notify: ChanHandle?, _ tag: UInt64
) -> Int32 {
  guard let cases, n > 0, n <= 1 << 20 else { return WeftError.invalid.code }
  let count = Int(n)
  let own = SelectCopy(count)
  guard translate(cases, own.cases, count) else { return WeftError.invalid.code }
  let channels = (0..<count).compactMap { own.cases[$0].channel.map { Unmanaged<Channel>.fromOpaque($0).takeUnretainedValue() } }
  return startAsync(ctx, notify, tag) { .select(own.cases, count, channels) { copyBack($0, own.cases, cases) } }
}

@c public func weft_wg_wait_async(
  _ wg: UnsafeMutablePointer<weft_wg_t>?, _ ctx: CtxHandle?, _ notify: ChanHandle?, _ tag: UInt64
) -> Int32 {
  startAsync(ctx, notify, tag) { object(wg, WaitGroup.self).map { .waitGroup($0.takeUnretainedValue()) } }
}

@c public func weft_mutex_lock_async(
  _ mu: UnsafeMutablePointer<weft_mutex_t>?, _ ctx: CtxHandle?, _ notify: ChanHandle?, _ tag: UInt64
) -> Int32 {
  startAsync(ctx, notify, tag) { object(mu, Weft.Mutex.self).map { .mutex($0.takeUnretainedValue()) } }
}

@c public func weft_sem_acquire_async(
  _ sem: UnsafeMutablePointer<weft_sem_t>?, _ n: Int64, _ ctx: CtxHandle?, _ notify: ChanHandle?, _ tag: UInt64
) -> Int32 {
  startAsync(ctx, notify, tag) { object(sem, Semaphore.self).map { .semaphore($0.takeUnretainedValue(), n) } }
}

@c public func weft_ctx_wait_async(_ ctx: CtxHandle?, _ notify: ChanHandle?, _ tag: UInt64) -> Int32 {
  guard let target = ctxRef(ctx) else { return WeftError.invalid.code }  // NULL: background
  guard target.canEnd else { return WeftError.deadlock.code }
  return startAsync(nil, notify, tag) { .contextDone(target) }
}
