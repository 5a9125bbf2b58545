import CWeftABI
import Weft

// The futures section of weft.h. A weft_future_t * is an Unmanaged<Future>.

public typealias FutureHandle = UnsafeMutablePointer<weft_future_t>

@inline(__always)
func futureRef(_ handle: FutureHandle?) -> Future? {
  guard let handle else { return nil }
  let ref = Unmanaged<Future>.fromOpaque(UnsafeRawPointer(handle))
  guard ref._withUnsafeGuaranteedRef({ $0.isLive }) else { return nil }
  return ref.takeUnretainedValue()
}

@inline(__always)
func futureFn(_ fn: weft_future_fn) -> FutureFn { unsafeBitCast(fn, to: FutureFn.self) }

@c public func weft_future_spawn(
  _ ctx: CtxHandle?, _ valueSize: UInt, _ fn: weft_future_fn?, _ arg: UnsafeMutableRawPointer?,
  _ out: UnsafeMutablePointer<FutureHandle?>?
) -> Int32 {
  guard let out, let fn, let ctx = ctxRef(ctx), valueSize <= 1 << 30 else { return WeftError.invalid.code }
  switch Future.spawn(context: ctx, valueSize: Int(valueSize), fn: futureFn(fn), arg: arg) {
  case .success(let future):
    out.pointee = Unmanaged.passRetained(future).toOpaque().assumingMemoryBound(to: weft_future_t.self)
    return 0
  case .failure(let error): return error.code
  }
}

@c public func weft_future_retain(_ f: FutureHandle?) -> FutureHandle? {
  guard let future = futureRef(f) else { return nil }
  _ = Unmanaged.passUnretained(future).retain()
  return f
}

@c public func weft_future_release(_ f: FutureHandle?) -> Int32 {
  guard let future = futureRef(f) else { return WeftError.invalid.code }
  Unmanaged.passUnretained(future).release()
  return 0
}

@c public func weft_future_await(_ f: FutureHandle?, _ ctx: CtxHandle?, _ valueOut: UnsafeMutableRawPointer?) -> Int32 {
  guard let future = futureRef(f), let ctx = ctxRef(ctx) else { return WeftError.invalid.code }
  return future.await(context: ctx, into: valueOut)
}

@c public func weft_future_ready(_ f: FutureHandle?) -> Int32 {
  guard let future = futureRef(f) else { return WeftError.invalid.code }
  return future.isReady ? 1 : 0
}

@c public func weft_collect(
  _ ctx: CtxHandle?, _ jobs: UnsafePointer<weft_job>?, _ n: UInt, _ valueSize: UInt,
  _ values: UnsafeMutableRawPointer?, _ errs: UnsafeMutablePointer<Int32>?, _ limit: Int64
) -> Int64 {
  guard let ctx = ctxRef(ctx) else { return Int64(WeftError.invalid.code) }
  if n == 0 { return 0 }
  guard let jobs, let errs, valueSize == 0 || values != nil, n <= 1 << 24 else { return Int64(WeftError.invalid.code) }
  var fns: [(FutureFn, UnsafeMutableRawPointer?)] = []
  fns.reserveCapacity(Int(n))
  for i in 0..<Int(n) {
    guard let fn = jobs[i].fn else { return Int64(WeftError.invalid.code) }
    fns.append((futureFn(fn), jobs[i].arg))
  }
  switch Future.collect(
    context: ctx, jobs: fns, valueSize: Int(valueSize), values: values, codes: errs, limit: Int(limit))
  {
  case .success(let count): return Int64(count)
  case .failure(let error): return Int64(error.code)
  }
}
