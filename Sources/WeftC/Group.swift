import CWeftABI
import Weft

// The errgroup section of weft.h. The group's context handle (ctx_out) is the
// aux of the group's handle: borrowed, valid while the group handle is; each
// task holds a reference to it while its fn runs.

public typealias GroupHandle = UnsafeMutablePointer<weft_group_t>

/// The group's context handle (made with the group's handle).
@inline(__always)
func groupContext(_ g: GroupHandle?) -> CtxHandle? { auxHandle(g, Group.self, Context.self) { $0.context } }

/// Runs launch with a body calling fn(ctx, arg) on the group's context handle.
func goGroup(
  _ g: GroupHandle?, _ fn: weft_group_fn?, _ arg: UnsafeMutableRawPointer?,
  _ launch: (Group, @escaping (Context) -> Int32) -> WeftError?
) -> Int32 {
  guard let fn, let group = object(g, Group.self), let ctx = groupContext(g), let lease = ContextLease(ctx) else {
    return WeftError.invalid.code
  }
  return group._withUnsafeGuaranteedRef { code(launch($0) { _ in fn(lease.handle, arg) }) }
}

@c public func weft_group_make(
  _ parent: CtxHandle?, _ out: UnsafeMutablePointer<GroupHandle?>?, _ ctxOut: UnsafeMutablePointer<CtxHandle?>?
) -> Int32 {
  guard let out, let parent = ctxRef(parent) else { return WeftError.invalid.code }
  let status = give(Group(parent: parent), out)
  guard status == 0 else { return status }
  guard let ctx = groupContext(out.pointee) else {
    _ = releaseHandle(out.pointee, Group.self)
    out.pointee = nil
    return WeftError.noMemory.code
  }
  ctxOut?.pointee = ctx
  return 0
}

@c public func weft_group_retain(_ g: GroupHandle?) -> GroupHandle? { retainHandle(g, Group.self) }

@c public func weft_group_release(_ g: GroupHandle?) -> Int32 { releaseHandle(g, Group.self) }

@c public func weft_group_set_limit(_ g: GroupHandle?, _ n: Int64) -> Int32 {
  with(g, Group.self) { code($0.setLimit(Int(clamping: n))) }
}

@c public func weft_group_go(_ g: GroupHandle?, _ fn: weft_group_fn?, _ arg: UnsafeMutableRawPointer?) -> Int32 {
  goGroup(g, fn, arg) { $0.go($1) }
}

@c public func weft_group_try_go(_ g: GroupHandle?, _ fn: weft_group_fn?, _ arg: UnsafeMutableRawPointer?) -> Int32 {
  goGroup(g, fn, arg) { $0.tryGo($1) }
}

@c public func weft_group_wait(_ g: GroupHandle?) -> Int32 { with(g, Group.self) { $0.wait() } }

@c public func weft_group_wait_result(_ g: GroupHandle?, _ result: UnsafeMutablePointer<Int32>?) -> Int32 {
  with(g, Group.self) { code($0.waitResult(), result) }
}

@c public func weft_group_wait_result_until(
  _ g: GroupHandle?, _ deadline_ns: Int64, _ result: UnsafeMutablePointer<Int32>?
) -> Int32 {
  with(g, Group.self) { code($0.waitResult(deadline: deadline_ns), result) }
}

@c public func weft_group_wait_result_ctx(
  _ g: GroupHandle?, _ ctx: CtxHandle?, _ result: UnsafeMutablePointer<Int32>?
) -> Int32 {
  withContext(ctx) { context in with(g, Group.self) { code($0.waitResult(context: context), result) } }
}
