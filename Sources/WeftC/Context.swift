import CWeftABI
import Weft

// The contexts section of weft.h. Handles are Handles.swift's; NULL and
// weft_ctx_background() name the background context, whose retain/release are
// no-ops.

public typealias AfterFuncHandle = UnsafeMutablePointer<weft_after_func_t>

/// The context behind a handle (NULL: background); nil for a bad handle.
@inline(__always)
func ctxRef(_ handle: CtxHandle?) -> Context? { contextObject(handle)?.takeUnretainedValue() }

@c public func weft_ctx_background() -> CtxHandle? { backgroundContextHandle }

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

@c public func weft_ctx_retain(_ ctx: CtxHandle?) -> CtxHandle? { retainHandle(ctx, Context.self) }

@c public func weft_ctx_release(_ ctx: CtxHandle?) -> Int32 { releaseHandle(ctx, Context.self) }

@c public func weft_ctx_cancel(_ ctx: CtxHandle?) -> Int32 {
  guard let ctx = ctxRef(ctx) else { return WeftError.invalid.code }
  return code(ctx.coreCancel())
}

@c public func weft_ctx_cancel_cause(_ ctx: CtxHandle?, _ cause: Int32) -> Int32 {
  guard let ctx = ctxRef(ctx) else { return WeftError.invalid.code }
  return code(ctx.coreCancel(cause: cause))
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

/// Borrowed: the context handle's aux, valid while that handle is.
@c public func weft_ctx_done(_ ctx: CtxHandle?) -> ChanHandle? {
  auxHandle(ctx, Context.self, Channel.self) { $0.doneChannel() }
}

@c public func weft_ctx_wait(_ ctx: CtxHandle?) -> Int32 {
  guard let ctx = ctxRef(ctx) else { return WeftError.invalid.code }
  return code(ctx.coreWait())
}

@c public func weft_ctx_after_func(
  _ ctx: CtxHandle?, _ fn: weft_fn?, _ arg: UnsafeMutableRawPointer?,
  _ out: UnsafeMutablePointer<AfterFuncHandle?>?
) -> Int32 {
  guard let fn, let ctx = ctxRef(ctx) else { return WeftError.invalid.code }
  let record = AfterFunc.register(ctx, fn: fn, arg: arg)
  guard let out else { return 0 }
  let status = give(record, out)
  if status != 0 { _ = record.stop() }  // no handle: nothing may run unseen
  return status
}

@c public func weft_after_func_stop(_ af: AfterFuncHandle?) -> Int32 {
  guard let record = object(af, AfterFunc.self) else { return WeftError.invalid.code }
  let stopped = record._withUnsafeGuaranteedRef { $0.stop() }
  guard releaseHandle(af, AfterFunc.self) == 0 else { return WeftError.invalid.code }
  return stopped ? 1 : 0
}

@c public func weft_after_func_release(_ af: AfterFuncHandle?) -> Int32 { releaseHandle(af, AfterFunc.self) }
