import CWeftABI
import Weft

// The futures section of weft.h. fn gets the ctx handle its caller passed (NULL:
// the background handle), with a reference held while the future or the
// collect's jobs can still run it.

public typealias FutureHandle = UnsafeMutablePointer<weft_future_t>

@c public func weft_future_spawn(
  _ ctx: CtxHandle?, _ valueSize: UInt, _ fn: weft_future_fn?, _ arg: UnsafeMutableRawPointer?,
  _ out: UnsafeMutablePointer<FutureHandle?>?
) -> Int32 {
  guard let out else { return WeftError.invalid.code }
  out.pointee = nil
  guard let fn, let context = ctxRef(ctx), let lease = ContextLease(ctx), Sizes.bufferBytes(1, valueSize) != nil else {
    return WeftError.invalid.code
  }
  switch Future.spawn(context: context, valueSize: Int(valueSize), { _, buffer in fn(lease.handle, arg, buffer) }) {
  case .success(let future): return give(future, out)
  case .failure(let error): return error.code
  }
}

@c public func weft_future_retain(_ f: FutureHandle?) -> FutureHandle? { retainHandle(f, Future.self) }

@c public func weft_future_release(_ f: FutureHandle?) -> Int32 { releaseHandle(f, Future.self) }

@c public func weft_future_await(_ f: FutureHandle?, _ ctx: CtxHandle?, _ valueOut: UnsafeMutableRawPointer?) -> Int32 {
  withContext(ctx) { context in with(f, Future.self) { $0.await(context: context, into: valueOut) } }
}

@c public func weft_future_await_result(
  _ f: FutureHandle?, _ valueOut: UnsafeMutableRawPointer?, _ result: UnsafeMutablePointer<Int32>?
) -> Int32 {
  with(f, Future.self) { code($0.awaitResult(context: nil, into: valueOut), result) }
}

@c public func weft_future_await_result_until(
  _ f: FutureHandle?, _ deadline_ns: Int64, _ valueOut: UnsafeMutableRawPointer?,
  _ result: UnsafeMutablePointer<Int32>?
) -> Int32 {
  with(f, Future.self) { code($0.awaitResult(deadline: deadline_ns, context: nil, into: valueOut), result) }
}

@c public func weft_future_await_result_ctx(
  _ f: FutureHandle?, _ ctx: CtxHandle?, _ valueOut: UnsafeMutableRawPointer?,
  _ result: UnsafeMutablePointer<Int32>?
) -> Int32 {
  withContext(ctx) { context in
    with(f, Future.self) { code($0.awaitResult(context: context, into: valueOut), result) }
  }
}

@c public func weft_future_ready(_ f: FutureHandle?) -> Int32 { with(f, Future.self) { $0.isReady ? 1 : 0 } }

@c public func weft_collect(
  _ ctx: CtxHandle?, _ jobs: UnsafePointer<weft_job>?, _ n: UInt, _ valueSize: UInt,
  _ values: UnsafeMutableRawPointer?, _ errs: UnsafeMutablePointer<Int32>?, _ limit: Int64
) -> Int64 {
  guard let context = ctxRef(ctx) else { return Int64(WeftError.invalid.code) }
  if n == 0 { return 0 }
  guard let jobs, let errs, valueSize == 0 || values != nil, n <= 1 << 24 else { return Int64(WeftError.invalid.code) }
  guard Sizes.bufferBytes(n, valueSize) != nil else { return Int64(WeftError.noMemory.code) }
  guard let lease = ContextLease(ctx) else { return Int64(WeftError.invalid.code) }
  var fns: [(weft_future_fn, UnsafeMutableRawPointer?)] = []
  fns.reserveCapacity(Int(n))
  for i in 0..<Int(n) {
    guard let fn = jobs[i].fn else { return Int64(WeftError.invalid.code) }
    fns.append((fn, jobs[i].arg))
  }
  let result = Future.collect(
    context: context, count: Int(n), valueSize: Int(valueSize), values: values, codes: errs,
    limit: Int(clamping: limit)
  ) { i, slot in fns[i].0(lease.handle, fns[i].1, slot) }
  switch result {
  case .success(let count): return Int64(count)
  case .failure(let error): return Int64(error.code)
  }
}
