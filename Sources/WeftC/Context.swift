import CWeftABI
import Weft

// The contexts section of weft.h. A weft_ctx_t * is an Unmanaged<Context>; NULL
// means background, whose retain/release are no-ops.

public typealias AfterFuncHandle = UnsafeMutablePointer<weft_after_func_t>

/// The context behind a handle (NULL: background); nil for a released handle.
@inline(__always)
func ctxRef(_ handle: CtxHandle?) -> Context? {
  guard let handle else { return Context.background }
  let ref = Unmanaged<Context>.fromOpaque(UnsafeRawPointer(handle))
  guard ref._withUnsafeGuaranteedRef({ $0.isLiveHandle }) else { return nil }
  return ref.takeUnretainedValue()
}

@inline(__always)
func handle(_ context: Context) -> CtxHandle {
  Unmanaged.passRetained(context).toOpaque().assumingMemoryBound(to: weft_ctx_t.self)
}

/// Stores a new context's handle; the common tail of the constructors.
@inline(__always)
func give(_ context: Context, _ out: UnsafeMutablePointer<CtxHandle?>) -> Int32 {
  out.pointee = handle(context)
  return 0
}

@c public func weft_ctx_background() -> CtxHandle? {
  Unmanaged.passUnretained(Context.background).toOpaque().assumingMemoryBound(to: weft_ctx_t.self)
}

@c public func weft_ctx_with_cancel(_ parent: CtxHandle?, _ out: UnsafeMutablePointer<CtxHandle?>?) -> Int32 {
  guard let out, let parent = ctxRef(parent) else { return WeftError.invalid.code }
  return give(Context.withCancel(parent), out)
}

@c public func weft_ctx_with_timeout(
  _ parent: CtxHandle?, _ timeoutNs: Int64, _ out: UnsafeMutablePointer<CtxHandle?>?
) -> Int32 {
  guard let out, let parent = ctxRef(parent) else { return WeftError.invalid.code }
  do { return give(try Context.withTimeout(parent, timeout: timeoutNs), out) } catch { return error.code }
}

@c public func weft_ctx_with_deadline(
  _ parent: CtxHandle?, _ deadlineNs: Int64, _ out: UnsafeMutablePointer<CtxHandle?>?
) -> Int32 {
  guard let out, let parent = ctxRef(parent) else { return WeftError.invalid.code }
  do { return give(try Context.withDeadline(parent, deadline: deadlineNs), out) } catch { return error.code }
}

@c public func weft_ctx_with_value(
  _ parent: CtxHandle?, _ key: UnsafeRawPointer?, _ value: UnsafeMutableRawPointer?,
  _ valueDtor: weft_fn?, _ out: UnsafeMutablePointer<CtxHandle?>?
) -> Int32 {
  guard let out, let key, let parent = ctxRef(parent) else { return WeftError.invalid.code }
  return give(Context.withValue(parent, key: key, value: value, destructor: valueDtor), out)
}

@c public func weft_ctx_without_cancel(_ parent: CtxHandle?, _ out: UnsafeMutablePointer<CtxHandle?>?) -> Int32 {
  guard let out, let parent = ctxRef(parent) else { return WeftError.invalid.code }
  return give(Context.withoutCancel(parent), out)
}

@c public func weft_ctx_with_signals(_ parent: CtxHandle?, _ out: UnsafeMutablePointer<CtxHandle?>?) -> Int32 {
  guard let out, let parent = ctxRef(parent) else { return WeftError.invalid.code }
  return give(Context.withSignals(parent), out)
}

@c public func weft_ctx_retain(_ ctx: CtxHandle?) -> CtxHandle? {
  guard let ctx, let object = ctxRef(ctx) else { return nil }
  if object !== Context.background { _ = Unmanaged.passUnretained(object).retain() }
  return ctx
}

@c public func weft_ctx_release(_ ctx: CtxHandle?) -> Int32 {
  guard let ctx, let object = ctxRef(ctx) else { return WeftError.invalid.code }
  if object !== Context.background { Unmanaged.passUnretained(object).release() }
  return 0
}

@c public func weft_ctx_cancel(_ ctx: CtxHandle?) -> Int32 {
  guard let ctx = ctxRef(ctx) else { return WeftError.invalid.code }
  return code(ctx.cancel())
}

@c public func weft_ctx_cancel_cause(_ ctx: CtxHandle?, _ cause: Int32) -> Int32 {
  guard let ctx = ctxRef(ctx) else { return WeftError.invalid.code }
  return code(ctx.cancel(cause: cause))
}

@c public func weft_ctx_err(_ ctx: CtxHandle?) -> Int32 {
  guard let ctx = ctxRef(ctx) else { return WeftError.invalid.code }
  return code(ctx.error)
}

@c public func weft_ctx_cause(_ ctx: CtxHandle?) -> Int32 {
  guard let ctx = ctxRef(ctx) else { return WeftError.invalid.code }
  return ctx.cause
}

@c public func weft_ctx_deadline(_ ctx: CtxHandle?, _ deadlineNs: UnsafeMutablePointer<Int64>?) -> Int32 {
  guard let ctx = ctxRef(ctx) else { return WeftError.invalid.code }
  guard let deadline = ctx.deadlineIfAny else { return 0 }
  deadlineNs?.pointee = deadline
  return 1
}

@c public func weft_ctx_value(_ ctx: CtxHandle?, _ key: UnsafeRawPointer?) -> UnsafeMutableRawPointer? {
  guard let key, let ctx = ctxRef(ctx) else { return nil }
  return ctx.value(forKey: key)
}

@c public func weft_ctx_done(_ ctx: CtxHandle?) -> ChanHandle? {
  guard let ctx = ctxRef(ctx), let channel = ctx.doneChannelHandle() else { return nil }
  return channel.assumingMemoryBound(to: weft_chan_t.self)
}

@c public func weft_ctx_wait(_ ctx: CtxHandle?) -> Int32 {
  guard let ctx = ctxRef(ctx) else { return WeftError.invalid.code }
  return code(ctx.wait())
}

@c public func weft_ctx_after_func(
  _ ctx: CtxHandle?, _ fn: weft_fn?, _ arg: UnsafeMutableRawPointer?,
  _ out: UnsafeMutablePointer<AfterFuncHandle?>?
) -> Int32 {
  guard let fn, let ctx = ctxRef(ctx) else { return WeftError.invalid.code }
  let record = AfterFunc.register(ctx, fn: fn, arg: arg)
  out?.pointee = Unmanaged.passRetained(record).toOpaque().assumingMemoryBound(to: weft_after_func_t.self)
  return 0
}

@c public func weft_after_func_stop(_ af: AfterFuncHandle?) -> Int32 {
  guard let af else { return WeftError.invalid.code }
  let record = Unmanaged<AfterFunc>.fromOpaque(UnsafeRawPointer(af))
  let stopped = record._withUnsafeGuaranteedRef { $0.stop() }
  record.release()
  return stopped ? 1 : 0
}

@c public func weft_after_func_release(_ af: AfterFuncHandle?) -> Int32 {
  guard let af else { return WeftError.invalid.code }
  Unmanaged<AfterFunc>.fromOpaque(UnsafeRawPointer(af)).release()
  return 0
}
