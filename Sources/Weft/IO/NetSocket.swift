import Glibc

/// The Swift face of Socket: a connected or listening stream socket whose
/// calls throw WeftError. Blocking calls park the calling task (block a plain
/// thread); each takes an optional timeout and context (use a deadline context,
/// `Context.withDeadline`, for an absolute deadline).
/// The fd closes on close() or when the last reference goes.
public struct NetSocket: Sendable {
  package let socket: Socket

  init(_ socket: Socket) { self.socket = socket }

  private static func unwrap(_ result: Result<Socket, WeftError>) throws(WeftError) -> NetSocket {
    switch result {
    case .success(let socket): return NetSocket(socket)
    case .failure(let error): throw error
    }
  }

  private static func check(_ n: Int) throws(WeftError) -> Int {
    if n < 0 { throw WeftError(rawValue: Int32(n)) ?? .io }
    return n
  }

  /// Listens on host:port (nil host: every address; port 0: the kernel picks).
  public static func listen(host: String? = nil, port: Int, backlog: Int32 = 0) throws(WeftError) -> NetSocket {
    try unwrap(Socket.listenTCP(host: host, port: port, backlog: backlog))
  }

  /// Listens on the Unix-domain socket at `path`.
  public static func listen(unixPath path: String, backlog: Int32 = 0) throws(WeftError) -> NetSocket {
    try unwrap(Socket.listenUnix(path: path, backlog: backlog))
  }

  /// Connects to host:port (names resolved on the offload pool).
  public static func connect(host: String, port: Int, timeout: Duration? = nil, context: Context? = nil)
    throws(WeftError) -> NetSocket
  {
    try unwrap(Socket.connectTCP(host: host, port: port, deadline: weftDeadline(timeout), context: context))
  }

  /// Connects to the Unix-domain socket at `path`.
  public static func connect(unixPath path: String, timeout: Duration? = nil, context: Context? = nil)
    throws(WeftError) -> NetSocket
  {
    try unwrap(Socket.connectUnix(path: path, deadline: weftDeadline(timeout), context: context))
  }

  /// The next connection, parking until one comes (`.timedOut`, the context's error).
  public func accept(timeout: Duration? = nil, context: Context? = nil) throws(WeftError) -> NetSocket {
    try NetSocket.unwrap(socket.accept(deadline: weftDeadline(timeout), context: context))
  }

  /// Reads some bytes into buffer: their number, 0 at end of stream.
  public func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration? = nil, context: Context? = nil)
    throws(WeftError) -> Int
  {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
    return try NetSocket.check(socket.read(base, buffer.count, deadline: weftDeadline(timeout), context: context))
  }

  /// Reads up to max bytes; an empty array at end of stream.
  public func read(max: Int = 65536, timeout: Duration? = nil, context: Context? = nil) throws(WeftError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: max)
    let n = socket.read(&bytes, max, deadline: weftDeadline(timeout), context: context)
    bytes.removeLast(bytes.count - Swift.max(0, n))
    _ = try NetSocket.check(n)
    return bytes
  }

  /// Fills buffer; throws .endOfStream when the stream ends first.
  public func readFull(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration? = nil, context: Context? = nil)
    throws(WeftError)
  {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    _ = try NetSocket.check(socket.readFull(base, buffer.count, deadline: weftDeadline(timeout), context: context))
  }

  /// Writes every byte, parking under back-pressure.
  public func write(_ bytes: UnsafeRawBufferPointer, timeout: Duration? = nil, context: Context? = nil) throws(WeftError) {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    _ = try NetSocket.check(socket.write(base, bytes.count, deadline: weftDeadline(timeout), context: context))
  }

  /// Writes every byte of `bytes`, parking under back-pressure.
  public func write(_ bytes: [UInt8], timeout: Duration? = nil, context: Context? = nil) throws(WeftError) {
    let n = bytes.withUnsafeBytes { raw in
      raw.count == 0 ? 0 : socket.write(raw.baseAddress!, raw.count, deadline: weftDeadline(timeout), context: context)
    }
    _ = try NetSocket.check(n)
  }

  /// Shuts the write side down (the peer reads end of stream).
  public func shutdownWrite() throws(WeftError) {
    if let error = socket.shutdownWrite() { throw error }
  }

  /// Closes the socket; parked calls on it end with an error.
  public func close() throws(WeftError) {
    if let error = socket.close() { throw error }
  }

  /// This end's address, "host:port" (or the Unix path).
  public var localAddress: String {
    get throws(WeftError) { try socket.address(peer: false).get() }
  }

  /// The peer's address, "host:port" (or the Unix path).
  public var peerAddress: String {
    get throws(WeftError) { try socket.address(peer: true).get() }
  }

  /// This end's TCP port (0 for a Unix socket).
  public var localPort: Int { socket.localPort }
}
