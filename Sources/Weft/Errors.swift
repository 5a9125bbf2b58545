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
    }
  }
}

/// Deadline meaning "wait forever" (the header's WEFT_NO_DEADLINE).
public let noDeadline = Int64.max
