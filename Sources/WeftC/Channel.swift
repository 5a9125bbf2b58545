import CWeftABI
import Weft

// The channels section of weft.h. Handles are Handles.swift's.

public typealias ChanHandle = UnsafeMutablePointer<weft_chan_t>
public typealias CtxHandle = UnsafeMutablePointer<weft_ctx_t>

/// The channel behind a handle; nil for NULL or a bad handle.
@inline(__always)
func channel(_ handle: ChanHandle?) -> Unmanaged<Channel>? { object(handle, Channel.self) }

func makeChannel(
  _ elemSize: UInt, _ capacity: UInt, _ dtor: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?,
  _ out: UnsafeMutablePointer<ChanHandle?>?
) -> Int32 {
  guard let out else { return WeftError.invalid.code }
  out.pointee = nil
  guard elemSize <= UInt(Int.max), capacity <= UInt(Int.max) else { return WeftError.noMemory.code }  // Sizes: no trap
  let destructor: ((UnsafeMutableRawPointer) -> Void)? = dtor.map { fn in { fn($0) } }
  guard let made = Channel.make(elemSize: Int(elemSize), capacity: Int(capacity), destructor: destructor) else {
    return WeftError.noMemory.code
  }
  return give(made, out)
}

@c public func weft_chan_make(_ elemSize: UInt, _ capacity: UInt, _ out: UnsafeMutablePointer<ChanHandle?>?)
  -> Int32
{
  makeChannel(elemSize, capacity, nil, out)
}

@c public func weft_chan_make_opts(
  _ elemSize: UInt, _ capacity: UInt, _ opts: UnsafePointer<weft_chan_opts>?,
  _ out: UnsafeMutablePointer<ChanHandle?>?
) -> Int32 {
  guard let opts else { return makeChannel(elemSize, capacity, nil, out) }
  guard opts.pointee.size >= MemoryLayout<weft_chan_opts>.size else { return WeftError.invalid.code }
  return makeChannel(elemSize, capacity, opts.pointee.elem_dtor, out)
}

@c public func weft_chan_retain(_ ch: ChanHandle?) -> ChanHandle? { retainHandle(ch, Channel.self) }

@c public func weft_chan_release(_ ch: ChanHandle?) -> Int32 { releaseHandle(ch, Channel.self) }

@c public func weft_chan_send(_ ch: ChanHandle?, _ elem: UnsafeRawPointer?) -> Int32 {
  guard let channel = channel(ch) else { return WeftError.invalid.code }
  return channel._withUnsafeGuaranteedRef { channel in
    guard elem != nil || channel.elemSize == 0 else { return WeftError.invalid.code }
    return code(channel.send(elem))
  }
}

@c public func weft_chan_try_send(_ ch: ChanHandle?, _ elem: UnsafeRawPointer?) -> Int32 {
  guard let channel = channel(ch) else { return WeftError.invalid.code }
  return channel._withUnsafeGuaranteedRef { channel in
    guard elem != nil || channel.elemSize == 0 else { return WeftError.invalid.code }
    return code(channel.trySend(elem))
  }
}

@c public func weft_chan_send_until(_ ch: ChanHandle?, _ elem: UnsafeRawPointer?, _ deadline: Int64) -> Int32 {
  guard let channel = channel(ch) else { return WeftError.invalid.code }
  return channel._withUnsafeGuaranteedRef { channel in
    guard elem != nil || channel.elemSize == 0 else { return WeftError.invalid.code }
    return code(channel.send(elem, deadline: deadline))
  }
}

@c public func weft_chan_send_ctx(_ ch: ChanHandle?, _ elem: UnsafeRawPointer?, _ ctx: CtxHandle?) -> Int32 {
  guard let channel = channel(ch) else { return WeftError.invalid.code }
  return channel._withUnsafeGuaranteedRef { channel in
    guard elem != nil || channel.elemSize == 0 else { return WeftError.invalid.code }
    return withContext(ctx) { context in code(channel.send(elem, context: context)) }
  }
}

@c public func weft_chan_recv(_ ch: ChanHandle?, _ out: UnsafeMutableRawPointer?) -> Int32 {
  guard let channel = channel(ch) else { return WeftError.invalid.code }
  return channel._withUnsafeGuaranteedRef { code($0.receive(into: out)) }
}

@c public func weft_chan_try_recv(_ ch: ChanHandle?, _ out: UnsafeMutableRawPointer?) -> Int32 {
  guard let channel = channel(ch) else { return WeftError.invalid.code }
  return channel._withUnsafeGuaranteedRef { code($0.tryReceive(into: out)) }
}

@c public func weft_chan_recv_until(_ ch: ChanHandle?, _ out: UnsafeMutableRawPointer?, _ deadline: Int64)
  -> Int32
{
  guard let channel = channel(ch) else { return WeftError.invalid.code }
  return channel._withUnsafeGuaranteedRef { code($0.receive(into: out, deadline: deadline)) }
}

@c public func weft_chan_recv_ctx(_ ch: ChanHandle?, _ out: UnsafeMutableRawPointer?, _ ctx: CtxHandle?)
  -> Int32
{
  guard let channel = channel(ch) else { return WeftError.invalid.code }
  return withContext(ctx) { context in channel._withUnsafeGuaranteedRef { code($0.receive(into: out, context: context)) } }
}

@c public func weft_chan_close(_ ch: ChanHandle?) -> Int32 {
  guard let channel = channel(ch) else { return WeftError.invalid.code }
  return channel._withUnsafeGuaranteedRef { code($0.close()) }
}

@c public func weft_chan_closed(_ ch: ChanHandle?) -> Int32 {
  guard let channel = channel(ch) else { return WeftError.invalid.code }
  return channel._withUnsafeGuaranteedRef { $0.isClosed ? 1 : 0 }
}

@c public func weft_chan_len(_ ch: ChanHandle?) -> Int64 {
  guard let channel = channel(ch) else { return Int64(WeftError.invalid.code) }
  return channel._withUnsafeGuaranteedRef { Int64($0.count) }
}

@c public func weft_chan_cap(_ ch: ChanHandle?) -> Int64 {
  guard let channel = channel(ch) else { return Int64(WeftError.invalid.code) }
  return channel._withUnsafeGuaranteedRef { Int64($0.capacity) }
}

@c public func weft_chan_elem_size(_ ch: ChanHandle?) -> UInt {
  guard let channel = channel(ch) else { return 0 }
  return channel._withUnsafeGuaranteedRef { UInt($0.elemSize) }
}

@c public func weft_chan_elem_size_get(_ ch: ChanHandle?, _ out: UnsafeMutablePointer<UInt>?) -> Int32 {
  guard let out, let channel = channel(ch) else { return WeftError.invalid.code }
  out.pointee = channel._withUnsafeGuaranteedRef { UInt($0.elemSize) }
  return 0
}
