import Synchronization

/// A cancellation context (Go's context.Context), the part every blocking call
/// needs: whether it is done, and the parked calls to interrupt when it becomes
/// done. Trees, deadlines, values, the done channel, after-funcs and signals build
/// on this.
///
/// Invariants: `error` goes from nil to an error once and never back; once it is
/// set, `waiters` stays empty (register refuses). Lock rule: `lock` guards
/// `waiters`; waking a parker happens after its claim, under `lock`, which is
/// fine: wake never blocks.
public final class Context: @unchecked Sendable {
  let lock = SpinLock()
  private let errorCode = Atomic<Int32>(0)
  private var waiters = WaitQueue()
  /// Background, value and without-cancel contexts cannot be canceled themselves.
  public let cancelable: Bool

  public init(cancelable: Bool) {
    self.cancelable = cancelable
  }

  /// nil while live; .canceled or .timedOut once done.
  public var error: WeftError? {
    let code = errorCode.load(ordering: .acquiring)
    return code == 0 ? nil : WeftError(rawValue: code)
  }

  public var isDone: Bool { errorCode.load(ordering: .acquiring) != 0 }

  /// Adds a parked call's registration (caseIndex Parker.canceled); false when the
  /// context is already done, and then the caller must not park on it.
  func register(_ waiter: WaiterRef) -> Bool {
    lock.lock()
    defer { lock.unlock() }
    if isDone { return false }
    waiters.enqueue(waiter)
    return true
  }

  func unregister(_ waiter: WaiterRef) {
    lock.lock()
    waiters.remove(waiter)
    lock.unlock()
  }

  /// Marks the context done with error (first call wins) and interrupts every
  /// registered call. Returns false if it was already done.
  @discardableResult
  func finish(_ error: WeftError) -> Bool {
    lock.lock()
    guard errorCode.compareExchange(expected: 0, desired: error.code, ordering: .acquiringAndReleasing).exchanged
    else {
      lock.unlock()
      return false
    }
    while let waiter = waiters.dequeueClaiming() {
      waiter.pointee.parker.wake()
    }
    lock.unlock()
    return true
  }
}

extension UnsafeMutablePointer where Pointee == Parker {
  /// park(deadline:) that a context can also interrupt (claim Parker.canceled).
  public func park(deadline: Int64, context: Context?, reason: StaticString = "") -> Int {
    guard let context else { return park(deadline: deadline, reason: reason) }
    var registration = Waiter(parker: self, caseIndex: Parker.canceled)
    return withUnsafeMutablePointer(to: &registration) { waiter in
      if !context.register(waiter) {
        if tryClaim(Parker.canceled) {
          unprepare()
          return Parker.canceled
        }
        return park(deadline: deadline, reason: reason)  // a waker got there first
      }
      let claim = park(deadline: deadline, reason: reason)
      context.unregister(waiter)
      return claim
    }
  }
}

extension Parker {
  /// The error a non-case claim stands for, with the context's own error for
  /// Parker.canceled (canceled or deadline exceeded).
  public static func error(forClaim claim: Int, context: Context?) -> WeftError? {
    if claim == canceled { return context?.error ?? .canceled }
    return error(forClaim: claim)
  }
}
