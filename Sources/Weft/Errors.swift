/// The runtime's error codes: the negative values of include/weft.h, so the @c
/// layer passes them through unchanged.
public enum WeftError: Int32, Error, Sendable {
  case notOwner = -1
  case wouldBlock = -11
  case noMemory = -12
  case busy = -16
  case invalid = -22
  case closed = -32
  case outOfRange = -34
  case deadlock = -35
  case shutdown = -108
  case timedOut = -110
  case canceled = -125
  // I/O (IO/): errno's numbers, negated, except where taken or not an errno.
  case noEntry = -2
  case io = -5
  case badFd = -9
  case access = -13
  case tooManyFiles = -24
  case notSocket = -88
  case addressInUse = -98
  case addressNotAvailable = -99
  case networkUnreachable = -101
  case connectionAborted = -103
  case connectionReset = -104
  case notConnected = -107
  case connectionRefused = -111
  case hostUnreachable = -113
  case nameNotFound = -3008
  case brokenPipe = -4094
  case endOfStream = -4095

  /// The header's WEFT_E* value (negative).
  public var code: Int32 { rawValue }

  /// What went wrong, in words (weft_strerror).
  public var message: StaticString {
    switch self {
    case .notOwner: "operation not permitted: not locked or not the owner"
    case .wouldBlock: "operation would block"
    case .noMemory: "out of memory"
    case .busy: "resource busy"
    case .invalid: "invalid argument"
    case .closed: "channel closed"
    case .outOfRange: "counter out of range"
    case .deadlock: "operation would wait forever"
    case .shutdown: "runtime is shut down"
    case .timedOut: "deadline exceeded"
    case .canceled: "operation canceled"
    case .noEntry: "no such file or directory"
    case .io: "input/output error"
    case .badFd: "bad file descriptor"
    case .access: "permission denied"
    case .tooManyFiles: "too many open files"
    case .notSocket: "not a socket"
    case .addressInUse: "address already in use"
    case .addressNotAvailable: "address not available"
    case .networkUnreachable: "network is unreachable"
    case .connectionAborted: "connection aborted"
    case .connectionReset: "connection reset by peer"
    case .notConnected: "socket is not connected"
    case .connectionRefused: "connection refused"
    case .hostUnreachable: "host is unreachable"
    case .nameNotFound: "host name not found"
    case .brokenPipe: "broken pipe"
    case .endOfStream: "end of stream"
    }
  }

  /// The header's constant name, e.g. "WEFT_ETIMEDOUT".
  public var name: StaticString {
    switch self {
    case .notOwner: "WEFT_EPERM"
    case .wouldBlock: "WEFT_EAGAIN"
    case .noMemory: "WEFT_ENOMEM"
    case .busy: "WEFT_EBUSY"
    case .invalid: "WEFT_EINVAL"
    case .closed: "WEFT_ECLOSED"
    case .outOfRange: "WEFT_ERANGE"
    case .deadlock: "WEFT_EDEADLK"
    case .shutdown: "WEFT_ESHUTDOWN"
    case .timedOut: "WEFT_ETIMEDOUT"
    case .canceled: "WEFT_ECANCELED"
    case .noEntry: "WEFT_ENOENT"
    case .io: "WEFT_EIO"
    case .badFd: "WEFT_EBADF"
    case .access: "WEFT_EACCES"
    case .tooManyFiles: "WEFT_EMFILE"
    case .notSocket: "WEFT_ENOTSOCK"
    case .addressInUse: "WEFT_EADDRINUSE"
    case .addressNotAvailable: "WEFT_EADDRNOTAVAIL"
    case .networkUnreachable: "WEFT_ENETUNREACH"
    case .connectionAborted: "WEFT_ECONNABORTED"
    case .connectionReset: "WEFT_ECONNRESET"
    case .notConnected: "WEFT_ENOTCONN"
    case .connectionRefused: "WEFT_ECONNREFUSED"
    case .hostUnreachable: "WEFT_EHOSTUNREACH"
    case .nameNotFound: "WEFT_ENAMENOTFOUND"
    case .brokenPipe: "WEFT_EPIPE"
    case .endOfStream: "WEFT_EOF"
    }
  }
}

/// Deadline meaning "wait forever" (the header's WEFT_NO_DEADLINE).
@usableFromInline
package let noDeadline = Int64.max
