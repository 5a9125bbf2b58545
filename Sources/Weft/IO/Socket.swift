import Glibc
import Synchronization

/// A TCP or Unix-domain stream socket on a non-blocking fd: the system calls
/// are made here, straight into the caller's buffer; EAGAIN parks through
/// Poller.wait (deadline and context included).
///
/// Lifetime: `ops` counts the calls in flight, plus `closedBit` once close
/// began. close() wakes every waiter (Poller.beginClose) at once, but the fd is
/// close(2)d only when the last call in flight has left (Go's fdMutex): a call
/// never reads or writes a reused fd number. Calls on a closed socket return
/// .closed.
package final class Socket: @unchecked Sendable {
  package let fd: Int32
  package let isUnix: Bool
  private let ops = Atomic<Int>(0)
  private static let closedBit = 1 << 40

  init(fd: Int32, isUnix: Bool) {
    self.fd = fd
    self.isUnix = isUnix
  }

  deinit { _ = close() }

  // MARK: - Calls in flight

  private func enter() -> Bool {
    var value = ops.load(ordering: .relaxed)
    while value & Socket.closedBit == 0 {
      let (exchanged, original) = ops.compareExchange(
        expected: value, desired: value + 1, ordering: .acquiring)
      if exchanged { return true }
      value = original
    }
    return false
  }

  private func exit() {
    if ops.subtract(1, ordering: .acquiringAndReleasing).newValue == Socket.closedBit {
      _ = Poller.endClose(fd: fd, closeFd: true)
    }
  }

  @inline(__always)
  private func call<R>(_ closed: R, _ body: () -> R) -> R {
    guard enter() else { return closed }
    defer { exit() }
    return body()
  }

  var isClosed: Bool { ops.load(ordering: .acquiring) & Socket.closedBit != 0 }

  /// Closes the socket: waiters wake with .closed; the fd goes once no call is
  /// in flight. .closed the second time.
  package func close() -> WeftError? {
    guard enter() else { return .closed }
    if ops.bitwiseOr(Socket.closedBit, ordering: .acquiringAndReleasing).oldValue & Socket.closedBit != 0 {
      exit()
      return .closed
    }
    _ = Poller.beginClose(fd: fd)
    exit()
    return nil
  }

  // MARK: - Making sockets

  static func makeFd(_ family: Int32) -> Result<Int32, WeftError> {
    let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    return fd < 0 ? .failure(WeftError(errno: errno)) : .success(fd)
  }

  static func setNoDelay(_ fd: Int32) {
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
  }

  /// Resolves host (nil or "": any address / loopback) for a stream socket.
  /// Numeric addresses are parsed here; names go through the offload pool.
  static func resolve(
    _ host: String?, _ port: Int, passive: Bool, deadline: Int64, context: Context?
  ) -> Result<[Address], WeftError> {
    guard port >= 0, port <= 65535 else { return .failure(.invalid) }
    let node = (host?.isEmpty ?? true) ? nil : host
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = (passive ? AI_PASSIVE : 0) | AI_NUMERICSERV | AI_NUMERICHOST
    if let numeric = lookup(node, port, hints) { return numeric }
    hints.ai_flags &= ~AI_NUMERICHOST
    hints.ai_flags |= AI_ADDRCONFIG
    // getaddrinfo may block for seconds: on the pool. A wait that gives up
    // leaves the lookup to finish on its thread; its result is dropped.
    final class Box: @unchecked Sendable { var result: Result<[Address], WeftError> = .failure(.nameNotFound) }
    let box = Box()
    if let error = Offload.coreRun(deadline: deadline, context: context, { box.result = lookup(node, port, hints) ?? .failure(.nameNotFound) }) {
      return .failure(error)
    }
    return box.result
  }

  /// getaddrinfo; nil when a numeric-only lookup found that host is a name.
  private static func lookup(_ node: String?, _ port: Int, _ hints: addrinfo) -> Result<[Address], WeftError>? {
    var hints = hints
    var list: UnsafeMutablePointer<addrinfo>? = nil
    let rc = getaddrinfo(node, String(port), &hints, &list)
    if rc != 0 {
      if hints.ai_flags & AI_NUMERICHOST != 0 && rc == EAI_NONAME { return nil }
      if rc == EAI_SYSTEM { return .failure(WeftError(errno: errno)) }
      return .failure(rc == EAI_MEMORY ? .noMemory : .nameNotFound)
    }
    defer { freeaddrinfo(list) }
    var out: [Address] = []
    var cursor = list
    while let info = cursor {
      if let addr = info.pointee.ai_addr { out.append(Address(addr, info.pointee.ai_addrlen)) }
      cursor = info.pointee.ai_next
    }
    return out.isEmpty ? .failure(.nameNotFound) : .success(out)
  }

  package static func listenTCP(host: String?, port: Int, backlog: Int32) -> Result<Socket, WeftError> {
    eachAddress(host, port, passive: true, deadline: noDeadline, context: nil) {
      listen($0, backlog: backlog, isUnix: false)
    }
  }

  /// Resolves host, then tries body on each address until one succeeds; the
  /// last error otherwise (at once for a deadline, a context or shutdown).
  private static func eachAddress(
    _ host: String?, _ port: Int, passive: Bool, deadline: Int64, context: Context?,
    _ body: (Address) -> Result<Socket, WeftError>
  ) -> Result<Socket, WeftError> {
    let addresses: [Address]
    switch resolve(host, port, passive: passive, deadline: deadline, context: context) {
    case .success(let list): addresses = list
    case .failure(let error): return .failure(error)
    }
    var last = WeftError.nameNotFound
    for address in addresses {
      switch body(address) {
      case .success(let socket): return .success(socket)
      case .failure(let error):
        last = error
        if error == .timedOut || error == .canceled || error == .shutdown { return .failure(error) }
      }
    }
    return .failure(last)
  }

  package static func listenUnix(path: String, backlog: Int32) -> Result<Socket, WeftError> {
    guard let address = Address(unixPath: path) else { return .failure(.invalid) }
    return listen(address, backlog: backlog, isUnix: true)
  }

  private static func listen(_ address: Address, backlog: Int32, isUnix: Bool) -> Result<Socket, WeftError> {
    let fd: Int32
    switch makeFd(address.family) {
    case .success(let made): fd = made
    case .failure(let error): return .failure(error)
    }
    var one: Int32 = 1
    if !isUnix { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
    let ok = address.withSockaddr { Glibc.bind(fd, $0, $1) } == 0 && Glibc.listen(fd, backlog > 0 ? backlog : SOMAXCONN) == 0
    if !ok {
      let error = WeftError(errno: errno)
      Glibc.close(fd)
      return .failure(error)
    }
    return .success(Socket(fd: fd, isUnix: isUnix))
  }

  package func accept(deadline: Int64 = noDeadline, context: Context? = nil) -> Result<Socket, WeftError> {
    call(.failure(.closed)) {
      while true {
        let conn = c_accept4(fd, nil, nil, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
        if conn >= 0 {
          if !isUnix { Socket.setNoDelay(conn) }
          return .success(Socket(fd: conn, isUnix: isUnix))
        }
        let err = errno
        switch err {
        case EINTR, ECONNABORTED: continue
        case EAGAIN:
          let rc = Poller.waitOpen(fd: fd, events: IOEvents.readable, deadline: deadline, context: context)
          if rc < 0 { return .failure(WeftError(rawValue: rc) ?? .io) }
        default: return .failure(WeftError(errno: err))
        }
      }
    }
  }

  package static func connectTCP(host: String?, port: Int, deadline: Int64 = noDeadline, context: Context? = nil)
    -> Result<Socket, WeftError>
  {
    guard port > 0 else { return .failure(.invalid) }
    return eachAddress(host, port, passive: false, deadline: deadline, context: context) {
      connect($0, isUnix: false, deadline: deadline, context: context)
    }
  }

  package static func connectUnix(path: String, deadline: Int64 = noDeadline, context: Context? = nil)
    -> Result<Socket, WeftError>
  {
    guard let address = Address(unixPath: path) else { return .failure(.invalid) }
    return connect(address, isUnix: true, deadline: deadline, context: context)
  }

  private static func connect(_ address: Address, isUnix: Bool, deadline: Int64, context: Context?)
    -> Result<Socket, WeftError>
  {
    let fd: Int32
    switch makeFd(address.family) {
    case .success(let made): fd = made
    case .failure(let error): return .failure(error)
    }
    let socket = Socket(fd: fd, isUnix: isUnix)  // its deinit closes fd on failure
    if !isUnix { setNoDelay(fd) }
    var rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
    while rc != 0 {
      let err = errno
      if err == EINTR {
        rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        continue
      }
      // A Unix socket whose backlog is full says EAGAIN: wait, then retry.
      guard err == EINPROGRESS || err == EAGAIN else { return .failure(WeftError(errno: err)) }
      let ready = Poller.waitOpen(fd: fd, events: IOEvents.writable, deadline: deadline, context: context)
      if ready < 0 { return .failure(WeftError(rawValue: ready) ?? .io) }
      if err == EAGAIN {
        rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        continue
      }
      var soError: Int32 = 0
      var length = socklen_t(MemoryLayout<Int32>.size)
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
      if soError != 0 { return .failure(WeftError(errno: soError)) }
      rc = 0
    }
    return .success(socket)
  }

  // MARK: - Reading and writing

  /// Reads up to count bytes: the number read (> 0), 0 at end of stream, or a
  /// negative code.
  package func read(_ buffer: UnsafeMutableRawPointer, _ count: Int, deadline: Int64 = noDeadline, context: Context? = nil) -> Int {
    call(Int(WeftError.closed.code)) {
      while true {
        let n = Glibc.read(fd, buffer, count)
        if n >= 0 { return n }
        let err = errno
        if err == EINTR { continue }
        guard err == EAGAIN else { return Int(WeftError(errno: err).code) }
        let rc = Poller.waitOpen(fd: fd, events: IOEvents.readable, deadline: deadline, context: context)
        if rc < 0 { return Int(rc) }
      }
    }
  }

  /// Reads exactly count bytes: count, .endOfStream when the stream ended
  /// first (the bytes read so far are in buffer, their number in *got), or
  /// another negative code.
  package func readFull(
    _ buffer: UnsafeMutableRawPointer, _ count: Int, got: UnsafeMutablePointer<Int>? = nil,
    deadline: Int64 = noDeadline, context: Context? = nil
  ) -> Int {
    var done = 0
    defer { got?.pointee = done }
    while done < count {
      let n = read(buffer + done, count - done, deadline: deadline, context: context)
      if n < 0 { return n }
      if n == 0 { return Int(WeftError.endOfStream.code) }
      done += n
    }
    return count
  }

  /// Writes all count bytes, parking while the socket's buffer is full: count,
  /// or a negative code (the number written so far in *wrote).
  package func write(
    _ buffer: UnsafeRawPointer, _ count: Int, wrote: UnsafeMutablePointer<Int>? = nil,
    deadline: Int64 = noDeadline, context: Context? = nil
  ) -> Int {
    var done = 0
    defer { wrote?.pointee = done }
    return call(Int(WeftError.closed.code)) {
      while done < count {
        let n = send(fd, buffer + done, count - done, Int32(MSG_NOSIGNAL))
        if n >= 0 {
          done += n
          continue
        }
        let err = errno
        if err == EINTR { continue }
        guard err == EAGAIN else { return Int(WeftError(errno: err).code) }
        let rc = Poller.waitOpen(fd: fd, events: IOEvents.writable, deadline: deadline, context: context)
        if rc < 0 { return Int(rc) }
      }
      return count
    }
  }

  /// Shuts down the write side: the peer reads end of stream.
  package func shutdownWrite() -> WeftError? {
    call(WeftError.closed) { Glibc.shutdown(fd, Int32(SHUT_WR)) == 0 ? nil : WeftError(errno: errno) }
  }

  /// The local (or peer) address as text: "1.2.3.4:80", "[::1]:80", a path.
  package func address(peer: Bool) -> Result<String, WeftError> {
    call(.failure(.closed)) {
      var storage = sockaddr_storage()
      var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
      let rc = withUnsafeMutablePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          peer ? getpeername(fd, $0, &length) : getsockname(fd, $0, &length)
        }
      }
      if rc != 0 { return .failure(WeftError(errno: errno)) }
      return .success(Address(storage: storage, length: length).description)
    }
  }

  /// The local port (TCP), 0 for a Unix socket.
  package var localPort: Int {
    call(Int(WeftError.closed.code)) {
      var storage = sockaddr_storage()
      var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
      let rc = withUnsafeMutablePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
      }
      if rc != 0 { return Int(WeftError(errno: errno).code) }
      return Address(storage: storage, length: length).port
    }
  }
}

/// A socket address (IPv4, IPv6 or Unix) held by value.
struct Address: CustomStringConvertible {
  var storage = sockaddr_storage()
  var length: socklen_t

  init(storage: sockaddr_storage, length: socklen_t) {
    self.storage = storage
    self.length = length
  }

  init(_ addr: UnsafePointer<sockaddr>, _ length: socklen_t) {
    self.length = min(length, socklen_t(MemoryLayout<sockaddr_storage>.size))
    withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: addr, count: Int(self.length))) }
  }

  init?(unixPath path: String) {
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    let room = MemoryLayout.size(ofValue: addr.sun_path)
    guard !bytes.isEmpty, bytes.count < room, !bytes.contains(0) else { return nil }
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
      raw.copyBytes(from: bytes)
      raw[bytes.count] = 0
    }
    length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
    withUnsafeMutableBytes(of: &storage) { dst in
      withUnsafeBytes(of: &addr) { dst.copyMemory(from: $0) }
    }
  }

  var family: Int32 { Int32(storage.ss_family) }

  func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
    var copy = storage
    return withUnsafePointer(to: &copy) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
  }

  var port: Int {
    var copy = storage
    switch family {
    case AF_INET:
      return withUnsafePointer(to: &copy) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) } }
    case AF_INET6:
      return withUnsafePointer(to: &copy) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) } }
    default: return 0
    }
  }

  var description: String {
    var copy = storage
    switch family {
    case AF_INET, AF_INET6:
      var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
      withUnsafePointer(to: &copy) { raw in
        if family == AF_INET {
          raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { var a = $0.pointee.sin_addr; _ = inet_ntop(AF_INET, &a, &text, socklen_t(text.count)) }
        } else {
          raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { var a = $0.pointee.sin6_addr; _ = inet_ntop(AF_INET6, &a, &text, socklen_t(text.count)) }
        }
      }
      let host = String(cString: text)
      return family == AF_INET ? "\(host):\(port)" : "[\(host)]:\(port)"
    case AF_UNIX:
      return withUnsafePointer(to: &copy) { raw in
        raw.withMemoryRebound(to: sockaddr_un.self, capacity: 1) { un in
          withUnsafeBytes(of: un.pointee.sun_path) { path in
            let used = max(0, Int(length) - MemoryLayout<sa_family_t>.size)
            let bytes = path.prefix(used).prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
          }
        }
      }
    default: return "?"
    }
  }
}

/// Glibc's accept4 (a GNU extension the Glibc module does not show).
@_silgen_name("accept4")
private func c_accept4(
  _ fd: Int32, _ addr: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?, _ flags: Int32
) -> Int32
