import CWeftABI
import Weft

// The errgroup section of weft.h. A weft_group_t * is an Unmanaged<Group>; the
// group's context handle is borrowed from the group.

public typealias GroupHandle = UnsafeMutablePointer<weft_group_t>

@inline(__always)
func groupRef(_ handle: GroupHandle?) -> Group? {
  guard let handle else { return nil }
  let ref = Unmanaged<Group>.fromOpaque(UnsafeRawPointer(handle))
  guard ref._withUnsafeGuaranteedRef({ $0.isLive }) else { return nil }
  return ref.takeUnretainedValue()
}

@inline(__always)
func groupFn(_ fn: weft_group_fn) -> GroupFn { unsafeBitCast(fn, to: GroupFn.self) }

@c public func weft_group_make(
  _ parent: CtxHandle?, _ out: UnsafeMutablePointer<GroupHandle?>?, _ ctxOut: UnsafeMutablePointer<CtxHandle?>?
) -> Int32 {
  guard let out, let parent = ctxRef(parent) else { return WeftError.invalid.code }
  let group = Group(parent: parent)
  out.pointee = Unmanaged.passRetained(group).toOpaque().assumingMemoryBound(to: weft_group_t.self)
  ctxOut?.pointee = Unmanaged.passUnretained(group.context).toOpaque().assumingMemoryBound(to: weft_ctx_t.self)
  return 0
}

@c public func weft_group_retain(_ g: GroupHandle?) -> GroupHandle? {
  guard let group = groupRef(g) else { return nil }
  _ = Unmanaged.passUnretained(group).retain()
  return g
}

@c public func weft_group_release(_ g: GroupHandle?) -> Int32 {
  guard let group = groupRef(g) else { return WeftError.invalid.code }
  Unmanaged.passUnretained(group).release()
  return 0
}

@c public func weft_group_set_limit(_ g: GroupHandle?, _ n: Int64) -> Int32 {
  guard let group = groupRef(g) else { return WeftError.invalid.code }
  return code(group.setLimit(Int(n)))
}

@c public func weft_group_go(_ g: GroupHandle?, _ fn: weft_group_fn?, _ arg: UnsafeMutableRawPointer?) -> Int32 {
  guard let group = groupRef(g), let fn else { return WeftError.invalid.code }
  return code(group.go(groupFn(fn), arg))
}

@c public func weft_group_try_go(_ g: GroupHandle?, _ fn: weft_group_fn?, _ arg: UnsafeMutableRawPointer?) -> Int32 {
  guard let group = groupRef(g), let fn else { return WeftError.invalid.code }
  return code(group.tryGo(groupFn(fn), arg))
}

@c public func weft_group_wait(_ g: GroupHandle?) -> Int32 {
  guard let group = groupRef(g) else { return WeftError.invalid.code }
  return group.wait()
}
