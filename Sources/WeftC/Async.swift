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
  guard cases != nil || n == 0, n <= 1 << 20 else { return WeftError.invalid.code }
  let count = Int(n)
  let own = SelectCopy(max(count, 1))  // n == 0: waits until ctx ends or the op is canceled by tag
  if let cases, !translate(cases, own.cases, count) { return WeftError.invalid.code }
  let channels = (0..<count).compactMap { own.cases[$0].channel.map { Unmanaged<Channel>.fromOpaque($0).takeUnretainedValue() } }
  return startAsync(ctx, notify, tag) {
    .select(own.cases, count, channels) { index in if let cases { copyBack(index, own.cases, cases) } }
  }
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
  guard let notify = channel(notify)?.takeUnretainedValue() else { return WeftError.invalid.code }
  return code(AsyncOp.start(.contextDone(target), context: target, notify: notify, tag: tag))
}

/// notify's state, for the functions below (WEFT_EINVAL: not a notify channel).
@inline(__always)
func notifyState(_ notify: ChanHandle?, _ body: (NotifyState) -> Int32) -> Int32 {
  guard let notify = channel(notify)?.takeUnretainedValue(), notify.elemSize == AsyncCompletion.size
  else { return WeftError.invalid.code }
  return body(NotifyState.of(notify))
}

@c public func weft_async_cancel(_ notify: ChanHandle?, _ tag: UInt64) -> Int32 {
  notifyState(notify) { $0.cancel(tag) ? 1 : 0 }
}

@c public func weft_async_fd(_ notify: ChanHandle?) -> Int32 {
  notifyState(notify) { state in
    let fd = state.fd()
    return fd >= 0 ? fd : WeftError.noMemory.code
  }
}

@c public func weft_async_poll(
  _ notify: ChanHandle?, _ out: UnsafeMutablePointer<weft_completion>?, _ max: UInt
) -> Int32 {
  guard let out, max > 0 else { return WeftError.invalid.code }
  guard let chan = channel(notify)?.takeUnretainedValue(), chan.elemSize == AsyncCompletion.size
  else { return WeftError.invalid.code }
  NotifyState.existing(chan)?.rearm()
  let limit = Int(min(max, UInt(Int32.max)))
  var n = 0
  while n < limit, chan.tryReceive(into: UnsafeMutableRawPointer(out + n)) == nil { n += 1 }
  return Int32(n)
}

@c public func weft_async_overflows(_ notify: ChanHandle?) -> Int64 {
  guard let chan = channel(notify)?.takeUnretainedValue(), chan.elemSize == AsyncCompletion.size
  else { return Int64(WeftError.invalid.code) }
  return NotifyState.existing(chan)?.overflows.load(ordering: .relaxed) ?? 0
}
