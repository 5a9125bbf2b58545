import CWeftABI
import Glibc
import Weft

// The sockets section of weft.h. A weft_sock_t * is a handle of the table in
// Handles.swift; each call retains its Socket while it runs, so a concurrent
// close or release never frees a socket under a parked call.

public typealias SockHandle = UnsafeMutablePointer<weft_sock_t>

/// The one lookup of a socket handle: the live Socket, retained for the call,
/// or nil for NULL / released / foreign handles.
@inline(__always)
func sockRef(_ handle: SockHandle?) -> Unmanaged<Socket>? {
  object(handle, Socket.self)
}

@inline(__always)
func withSock<R: BinaryInteger>(_ handle: SockHandle?, _ body: (Socket) -> R) -> R {
  guard let ref = sockRef(handle) else { return R(WeftError.invalid.code) }
  let socket = ref.retain().takeRetainedValue()
  return body(socket)
}

/// Runs body with the context of a _ctx call (NULL: none); WEFT_EINVAL for a
/// released context handle.
@inline(__always)
func withIOContext<R: BinaryInteger>(_ handle: CtxHandle?, _ body: (Context?) -> R) -> R {
  guard let handle else { return body(nil) }
  guard let context = ctxRef(handle) else { return R(WeftError.invalid.code) }
  return body(context === Context.background ? nil : context)
}

private func give(_ result: Result<Socket, WeftError>, _ out: UnsafeMutablePointer<SockHandle?>?) -> Int32 {
  switch result {
  case .success(let socket):
    return give(socket, out!)
  case .failure(let error): return error.code
  }
}

private func string(_ text: UnsafePointer<CChar>?) -> String? { text.map { String(cString: $0) } }

// MARK: - Listening and accepting

@c public func weft_tcp_listen(
  _ host: UnsafePointer<CChar>?, _ port: Int32, _ backlog: Int32, _ out: UnsafeMutablePointer<SockHandle?>?
) -> Int32 {
  guard out != nil, port >= 0, port <= 65535 else { return WeftError.invalid.code }
  return give(Socket.listenTCP(host: string(host), port: Int(port), backlog: backlog), out)
}

@c public func weft_unix_listen(
  _ path: UnsafePointer<CChar>?, _ backlog: Int32, _ out: UnsafeMutablePointer<SockHandle?>?
) -> Int32 {
  guard out != nil, let path = string(path) else { return WeftError.invalid.code }
  return give(Socket.listenUnix(path: path, backlog: backlog), out)
}

private func accept(_ l: SockHandle?, _ deadline: Int64, _ context: Context?, _ out: UnsafeMutablePointer<SockHandle?>?) -> Int32 {
  guard out != nil else { return WeftError.invalid.code }
  return withSock(l) { give($0.accept(deadline: deadline, context: context), out) }
}

@c public func weft_sock_accept(_ l: SockHandle?, _ out: UnsafeMutablePointer<SockHandle?>?) -> Int32 {
  accept(l, noDeadline, nil, out)
}

@c public func weft_sock_accept_until(_ l: SockHandle?, _ deadline: Int64, _ out: UnsafeMutablePointer<SockHandle?>?) -> Int32 {
  accept(l, deadline, nil, out)
}

@c public func weft_sock_accept_ctx(_ l: SockHandle?, _ ctx: CtxHandle?, _ out: UnsafeMutablePointer<SockHandle?>?) -> Int32 {
  withIOContext(ctx) { accept(l, noDeadline, $0, out) }
}

// MARK: - Connecting

private func tcpConnect(
  _ host: UnsafePointer<CChar>?, _ port: Int32, _ deadline: Int64, _ context: Context?,
  _ out: UnsafeMutablePointer<SockHandle?>?
) -> Int32 {
  guard out != nil, port > 0, port <= 65535 else { return WeftError.invalid.code }
  return give(Socket.connectTCP(host: string(host), port: Int(port), deadline: deadline, context: context), out)
}

@c public func weft_tcp_connect(_ host: UnsafePointer<CChar>?, _ port: Int32, _ out: UnsafeMutablePointer<SockHandle?>?) -> Int32 {
  tcpConnect(host, port, noDeadline, nil, out)
}

@c public func weft_tcp_connect_until(
  _ host: UnsafePointer<CChar>?, _ port: Int32, _ deadline: Int64, _ out: UnsafeMutablePointer<SockHandle?>?
) -> Int32 {
  tcpConnect(host, port, deadline, nil, out)
}

@c public func weft_tcp_connect_ctx(
  _ host: UnsafePointer<CChar>?, _ port: Int32, _ ctx: CtxHandle?, _ out: UnsafeMutablePointer<SockHandle?>?
) -> Int32 {
  withIOContext(ctx) { tcpConnect(host, port, noDeadline, $0, out) }
}

private func unixConnect(
  _ path: UnsafePointer<CChar>?, _ deadline: Int64, _ context: Context?, _ out: UnsafeMutablePointer<SockHandle?>?
) -> Int32 {
  guard out != nil, let path = string(path) else { return WeftError.invalid.code }
  return give(Socket.connectUnix(path: path, deadline: deadline, context: context), out)
}

@c public func weft_unix_connect(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<SockHandle?>?) -> Int32 {
  unixConnect(path, noDeadline, nil, out)
}

@c public func weft_unix_connect_until(
  _ path: UnsafePointer<CChar>?, _ deadline: Int64, _ out: UnsafeMutablePointer<SockHandle?>?
) -> Int32 {
  unixConnect(path, deadline, nil, out)
}

@c public func weft_unix_connect_ctx(
  _ path: UnsafePointer<CChar>?, _ ctx: CtxHandle?, _ out: UnsafeMutablePointer<SockHandle?>?
) -> Int32 {
  withIOContext(ctx) { unixConnect(path, noDeadline, $0, out) }
}

// MARK: - Reading and writing

/// A buffer argument: NULL only with len 0, len at most SSIZE_MAX.
@inline(__always)
private func validBuffer(_ buf: UnsafeRawPointer?, _ len: UInt) -> Bool {
  len <= UInt(Int.max) && (buf != nil || len == 0)
}

private func read(_ s: SockHandle?, _ buf: UnsafeMutableRawPointer?, _ len: UInt, full: Bool, _ deadline: Int64, _ context: Context?) -> Int64 {
  withSock(s) { socket in
    guard validBuffer(buf, len) else { return Int64(WeftError.invalid.code) }
    guard let buf, len > 0 else { return 0 }
    let count = Int(len)
    return Int64(full ? socket.readFull(buf, count, deadline: deadline, context: context)
                      : socket.read(buf, count, deadline: deadline, context: context))
  }
}

@c public func weft_sock_read(_ s: SockHandle?, _ buf: UnsafeMutableRawPointer?, _ len: UInt) -> Int64 {
  read(s, buf, len, full: false, noDeadline, nil)
}

@c public func weft_sock_read_until(_ s: SockHandle?, _ buf: UnsafeMutableRawPointer?, _ len: UInt, _ deadline: Int64) -> Int64 {
  read(s, buf, len, full: false, deadline, nil)
}

@c public func weft_sock_read_ctx(_ s: SockHandle?, _ buf: UnsafeMutableRawPointer?, _ len: UInt, _ ctx: CtxHandle?) -> Int64 {
  withIOContext(ctx) { read(s, buf, len, full: false, noDeadline, $0) }
}

@c public func weft_sock_read_full(_ s: SockHandle?, _ buf: UnsafeMutableRawPointer?, _ len: UInt) -> Int64 {
  read(s, buf, len, full: true, noDeadline, nil)
}

@c public func weft_sock_read_full_until(
  _ s: SockHandle?, _ buf: UnsafeMutableRawPointer?, _ len: UInt, _ deadline: Int64
) -> Int64 {
  read(s, buf, len, full: true, deadline, nil)
}

@c public func weft_sock_read_full_ctx(
  _ s: SockHandle?, _ buf: UnsafeMutableRawPointer?, _ len: UInt, _ ctx: CtxHandle?
) -> Int64 {
  withIOContext(ctx) { read(s, buf, len, full: true, noDeadline, $0) }
}

private func write(_ s: SockHandle?, _ buf: UnsafeRawPointer?, _ len: UInt, _ deadline: Int64, _ context: Context?) -> Int64 {
  withSock(s) { socket in
    guard validBuffer(buf, len) else { return Int64(WeftError.invalid.code) }
    guard let buf, len > 0 else { return 0 }
    return Int64(socket.write(buf, Int(len), deadline: deadline, context: context))
  }
}

@c public func weft_sock_write(_ s: SockHandle?, _ buf: UnsafeRawPointer?, _ len: UInt) -> Int64 {
  write(s, buf, len, noDeadline, nil)
}

@c public func weft_sock_write_until(_ s: SockHandle?, _ buf: UnsafeRawPointer?, _ len: UInt, _ deadline: Int64) -> Int64 {
  write(s, buf, len, deadline, nil)
}

@c public func weft_sock_write_ctx(_ s: SockHandle?, _ buf: UnsafeRawPointer?, _ len: UInt, _ ctx: CtxHandle?) -> Int64 {
  withIOContext(ctx) { write(s, buf, len, noDeadline, $0) }
}

// MARK: - The rest

@c public func weft_sock_shutdown(_ s: SockHandle?) -> Int32 { withSock(s) { code($0.shutdownWrite()) } }

@c public func weft_sock_close(_ s: SockHandle?) -> Int32 {
  guard let ref = sockRef(s) else { return WeftError.invalid.code }
  let rc = ref._withUnsafeGuaranteedRef { code($0.close()) }
  _ = releaseHandle(s, Socket.self)
  return rc
}

@c public func weft_sock_retain(_ s: SockHandle?) -> SockHandle? {
  retainHandle(s, Socket.self)
}

@c public func weft_sock_release(_ s: SockHandle?) -> Int32 {
  releaseHandle(s, Socket.self)
}

@c public func weft_sock_fd(_ s: SockHandle?) -> Int32 { withSock(s) { $0.fd } }

private func address(_ s: SockHandle?, peer: Bool, _ buf: UnsafeMutablePointer<CChar>?, _ len: UInt) -> Int32 {
  withSock(s) { socket in
    guard let buf, len > 0 else { return WeftError.invalid.code }
    switch socket.address(peer: peer) {
    case .failure(let error): return error.code
    case .success(let text):
      let bytes = Array(text.utf8)
      guard bytes.count < Int(clamping: len) else { return WeftError.outOfRange.code }
      bytes.withUnsafeBufferPointer { UnsafeMutableRawPointer(buf).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
      buf[bytes.count] = 0
      return Int32(bytes.count)
    }
  }
}

@c public func weft_sock_local_addr(_ s: SockHandle?, _ buf: UnsafeMutablePointer<CChar>?, _ len: UInt) -> Int32 {
  address(s, peer: false, buf, len)
}

@c public func weft_sock_peer_addr(_ s: SockHandle?, _ buf: UnsafeMutablePointer<CChar>?, _ len: UInt) -> Int32 {
  address(s, peer: true, buf, len)
}

@c public func weft_sock_local_port(_ s: SockHandle?) -> Int32 { withSock(s) { Int32($0.localPort) } }
