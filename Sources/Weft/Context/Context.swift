import CWeftCoro
import Glibc
import Synchronization

/// A context (Go's context.Context): cancellation that reaches a whole tree of
/// work, an optional deadline, and values.
///
/// Kinds: `background` (a root, never canceled), `cancel` (WithCancel, and also
/// the deadline and signal contexts: they are cancel contexts with a timer or a
/// signal watch), `value` (WithValue: reports its nearest cancelable ancestor's
/// state) and `withoutCancel` (keeps values, never canceled).
///
/// Invariants:
///  - `errorCode` goes from 0 to an error once and never back; once it is set,
///    `waiters`, `children` and `afterFuncs` stay empty (registration refuses).
///  - Only cancel contexts own a done state. A value context reports its
///    `source` (the nearest cancelable ancestor, kept alive by the parent chain);
///    with no such ancestor it is never done.
///  - A cancel context is linked into its source ancestor's `children` list while
///    both are live. The list holds children UNRETAINED: a child released by
///    everyone frees itself and unlinks in deinit; a child holds its parent
///    strongly (values and deadlines walk up), so there is no cycle. A parent that
///    finishes takes each child out of the list with `swift_tryRetain` (a child
///    already deiniting is skipped) and cancels it after dropping its own lock.
///  - Blocked calls, timers and after-func records retain the context they wait
///    on, so a context is never freed under them.
///
/// Lock rules: `lock` guards `waiters`, `children` (and each child's sibling
/// links and `linked` flag), `timer`, `afterFuncs`, `causeCode`, `doneChannel`.
/// At most one context lock is held at a time, never while cancelling a timer,
/// closing a channel or spawning a task. Waking a parker happens under `lock`:
/// wake never blocks.
public final class Context: @unchecked Sendable {
  package enum Kind: UInt8, Sendable { case background, cancel, value, withoutCancel }

  /// Contexts allocated and not yet freed (tests check the tree leaks nothing).
  package static let live = Atomic<Int>(0)

  /// The shared root: never canceled, no deadline, no values.
  public static let background = Context(kind: .background, parent: nil, deadline: noDeadline)

  let lock = SpinLock()
  private let errorCode = Atomic<Int32>(0)
  @exclusivity(unchecked)
  private var waiters = WaitQueue()
  /// Background, value and without-cancel contexts cannot be canceled themselves.
  public let cancelable: Bool
  package let kind: Kind
  /// Strong: value and deadline lookups walk up the chain. nil for a child of
  /// background (which has nothing to look up): 100,000 contexts made under
  /// background do not all retain the one shared object.
  public let parent: Context?
  /// The effective deadline (the earlier of its own and the parent's).
  package let deadline: Int64
  /// Value contexts: the nearest cancelable ancestor whose state they report.
  private let inheritedSource: Unmanaged<Context>?

  // Values (kind == .value).
  let key: UnsafeRawPointer?
  let value: UnsafeMutableRawPointer?
  let valueDestructor: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?

  // Cancel contexts, guarded by `lock`:
  @exclusivity(unchecked)
  var causeCode: Int32 = 0
  @exclusivity(unchecked)
  private var childHead: Unmanaged<Context>? = nil
  @exclusivity(unchecked)
  package private(set) var childCount = 0
  @exclusivity(unchecked)
  var timer: TimerRef? = nil
  @exclusivity(unchecked)
  var afterFuncHead: Unmanaged<AfterFunc>? = nil
  @exclusivity(unchecked)
  var doneChan: Channel? = nil

  // This context as a child, guarded by `registeredWith`'s lock:
  @exclusivity(unchecked)
  private var registeredWith: Unmanaged<Context>? = nil
  @exclusivity(unchecked)
  private var linked = false
  @exclusivity(unchecked)
  private var siblingPrev: Unmanaged<Context>? = nil
  @exclusivity(unchecked)
  private var siblingNext: Unmanaged<Context>? = nil

  // Signal contexts (SignalContext.swift), guarded by the signal hub's mutex:
  @exclusivity(unchecked)
  var watchesSignals = false
  @exclusivity(unchecked)
  var signalLinked = false
  @exclusivity(unchecked)
  var signalPrev: Unmanaged<Context>? = nil
  @exclusivity(unchecked)
  var signalNext: Unmanaged<Context>? = nil

  init(
    kind: Kind, parent: Context?, deadline: Int64, key: UnsafeRawPointer? = nil,
    value: UnsafeMutableRawPointer? = nil,
    valueDestructor: (@convention(c) (UnsafeMutableRawPointer?) -> Void)? = nil
  ) {
    self.kind = kind
    self.cancelable = kind == .cancel
    self.parent = parent?.kind == .background ? nil : parent
    self.deadline = deadline
    self.key = key
    self.value = value
    self.valueDestructor = valueDestructor
    self.inheritedSource = kind == .value ? parent?.sourceRef : nil
    Context.live.add(1, ordering: .relaxed)
  }

  /// A root context: cancelable (a WithCancel of background) or never canceled.
  public convenience init(cancelable: Bool) {
    self.init(kind: cancelable ? .cancel : .withoutCancel, parent: nil, deadline: noDeadline)
  }

  deinit {
    if let ancestor = registeredWith {
      ancestor._withUnsafeGuaranteedRef { ancestor in
        ancestor.lock.lock()
        if linked { ancestor.unlinkChild(self) }
        ancestor.lock.unlock()
      }
    }
    if watchesSignals { SignalHub.shared.unwatch(self) }
    if let valueDestructor { valueDestructor(value) }
    Context.live.subtract(1, ordering: .relaxed)
  }

  // MARK: - Done state

  /// The context whose done state this one reports (self for cancel contexts);
  /// nil when it can never be done. Unretained: the chain keeps it alive.
  @inline(__always)
  var sourceRef: Unmanaged<Context>? {
    cancelable ? Unmanaged.passUnretained(self) : inheritedSource
  }

  /// True when something can cancel this context (it has a done state).
  public var canEnd: Bool { cancelable || inheritedSource != nil }

  @inline(__always)
  private var stateCode: Int32 {
    if cancelable { return errorCode.load(ordering: .acquiring) }
    guard let source = inheritedSource else { return 0 }
    return source._withUnsafeGuaranteedRef { $0.errorCode.load(ordering: .acquiring) }
  }

  /// nil while live; .canceled or .timedOut once done.
  public var error: WeftError? {
    let code = stateCode
    return code == 0 ? nil : WeftError(rawValue: code)
  }

  /// True once canceled or past its deadline.
  public var isDone: Bool { stateCode != 0 }

  /// The cause given to cancel(cause:), else the error's code; 0 while live.
  public var cause: Int32 {
    guard let source = sourceRef else { return 0 }
    return source._withUnsafeGuaranteedRef { source in
      source.lock.lock()
      defer { source.lock.unlock() }
      return source.errorCode.load(ordering: .acquiring) == 0 ? 0 : source.causeCode
    }
  }

  /// Adds a parked call's registration (caseIndex Parker.canceled); false when the
  /// context is already done, and then the caller must not park on it. A context
  /// that can never be done accepts and ignores it.
  func register(_ waiter: WaiterRef) -> Bool {
    guard let source = sourceRef else { return true }
    return source._withUnsafeGuaranteedRef { source in
      source.lock.lock()
      defer { source.lock.unlock() }
      if source.errorCode.load(ordering: .acquiring) != 0 { return false }
      source.waiters.enqueue(waiter)
      return true
    }
  }

  func unregister(_ waiter: WaiterRef) {
    guard let source = sourceRef else { return }
    source._withUnsafeGuaranteedRef { source in
      source.lock.lock()
      source.waiters.remove(waiter)
      source.lock.unlock()
    }
  }

  /// Marks the context done with error (first call wins), interrupts every
  /// registered call, closes the done channel, stops the deadline timer, starts
  /// the after-funcs, and does the same to the whole subtree with the same error
  /// and cause; then unlinks from its parent. Returns false if it was already done
  /// (or cannot be canceled).
  @discardableResult
  func finish(_ error: WeftError, cause: Int32 = 0, fromTimer: Bool = false) -> Bool {
    guard cancelable else { return false }
    let cause = cause != 0 ? cause : error.code
    var work: Unmanaged<Context>? = nil
    guard finishOne(error, cause: cause, fromTimer: fromTimer, work: &work) else { return false }
    detachFromAncestor()
    // The subtree, without recursion: `work` is a stack of retained children
    // linked through siblingNext (free once they left their parent's list).
    while let child = work {
      child._withUnsafeGuaranteedRef { child in
        work = child.siblingNext
        child.siblingNext = nil
        child.finishOne(error, cause: cause, fromTimer: false, work: &work)
      }
      child.release()
    }
    return true
  }

  /// Cancels a cancel context (cause 0 means WEFT_ECANCELED). .invalid for
  /// contexts that cannot be canceled.
  @discardableResult
  package func coreCancel(cause: Int32 = 0) -> WeftError? {
    guard cancelable else { return .invalid }
    // The woken may drop the last reference at once: keep self until done here.
    let keep = Unmanaged.passUnretained(self).retain()
    defer { keep.release() }
    finish(.canceled, cause: cause)
    return nil
  }

  @discardableResult
  private func finishOne(
    _ error: WeftError, cause: Int32, fromTimer: Bool, work: inout Unmanaged<Context>?
  ) -> Bool {
    lock.lock()
    guard errorCode.compareExchange(expected: 0, desired: error.code, ordering: .acquiringAndReleasing).exchanged
    else {
      lock.unlock()
      return false
    }
    causeCode = cause
    while let waiter = waiters.dequeueClaiming() {
      waiter.pointee.parker.wake()
    }
    while let child = childHead {
      child._withUnsafeGuaranteedRef { unlinkChild($0) }
      // A child already deiniting has nothing left to cancel: skip it.
      if swiftTryRetain(child.toOpaque()) {
        child._withUnsafeGuaranteedRef { $0.siblingNext = work }
        work = child
      }
    }
    let timer = self.timer
    self.timer = nil
    var funcs = afterFuncHead
    afterFuncHead = nil
    var record = funcs
    while let current = record {  // now owned by this call: stop() leaves them alone
      record = current._withUnsafeGuaranteedRef { record in
        record.linked = false
        record.prev = nil
        return record.next
      }
    }
    let done = doneChan
    let signals = watchesSignals
    lock.unlock()

    if let done { closeDoneChannel(done) }
    if let timer {
      if fromTimer { Timers.release(timer) } else { Timers.cancel(timer) }
    }
    while let record = funcs {
      funcs = record._withUnsafeGuaranteedRef { record in
        let next = record.next
        record.next = nil
        record.start()
        return next
      }
      record.release()
    }
    if signals { SignalHub.shared.unwatch(self) }
    return true
  }

  // MARK: - The tree

  /// Links a new cancel context under its nearest cancelable ancestor, or
  /// finishes it at once when that ancestor is already done.
  func attach() {
    guard cancelable, let ancestor = parent?.sourceRef else { return }
    var inherited: (WeftError, Int32)? = nil
    ancestor._withUnsafeGuaranteedRef { ancestor in
      ancestor.lock.lock()
      let code = ancestor.errorCode.load(ordering: .acquiring)
      if code != 0 {
        inherited = (WeftError(rawValue: code) ?? .canceled, ancestor.causeCode)
      } else {
        registeredWith = Unmanaged.passUnretained(ancestor)
        siblingPrev = nil
        siblingNext = ancestor.childHead
        if let head = ancestor.childHead {
          head._withUnsafeGuaranteedRef { $0.siblingPrev = Unmanaged.passUnretained(self) }
        }
        ancestor.childHead = Unmanaged.passUnretained(self)
        ancestor.childCount += 1
        linked = true
      }
      ancestor.lock.unlock()
    }
    if let (error, cause) = inherited { finish(error, cause: cause) }
  }

  /// Under self.lock: takes child out of this context's children list.
  private func unlinkChild(_ child: Context) {
    let prev = child.siblingPrev
    let next = child.siblingNext
    if let prev { prev._withUnsafeGuaranteedRef { $0.siblingNext = next } } else { childHead = next }
    if let next { next._withUnsafeGuaranteedRef { $0.siblingPrev = prev } }
    child.siblingPrev = nil
    child.siblingNext = nil
    child.linked = false
    childCount -= 1
  }

  /// A child that ended first leaves its parent's list (Go's removeChild).
  private func detachFromAncestor() {
    guard let ancestor = registeredWith else { return }
    ancestor._withUnsafeGuaranteedRef { ancestor in
      ancestor.lock.lock()
      if linked { ancestor.unlinkChild(self) }
      ancestor.lock.unlock()
    }
  }

  /// Number of live children linked under this context (tests).
  package var liveChildren: Int {
    lock.lock()
    defer { lock.unlock() }
    return childCount
  }

  // MARK: - Constructors (Go's With* functions)

  /// WithCancel.
  public static func withCancel(_ parent: Context) -> Context {
    let context = Context(kind: .cancel, parent: parent, deadline: parent.deadline)
    context.attach()
    return context
  }

  /// WithoutCancel: parent's values, never canceled, no deadline.
  public static func withoutCancel(_ parent: Context) -> Context {
    Context(kind: .withoutCancel, parent: parent, deadline: noDeadline)
  }
}

/// The Swift runtime's `swift_tryRetain`: false when the object is already deiniting.
@inline(__always)
func swiftTryRetain(_ object: UnsafeMutableRawPointer) -> Bool { swift_tryRetain(object) != nil }

extension UnsafeMutablePointer where Pointee == Parker {
  /// park(deadline:) that a context can also interrupt (claim Parker.canceled).
  /// The context is retained for the duration of the call.
  package func park(deadline: Int64, context: Context?, reason: StaticString = "") -> Int {
    guard let context, context.canEnd else { return park(deadline: deadline, reason: reason) }
    let held = Unmanaged.passRetained(context)
    defer { held.release() }
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
  package static func error(forClaim claim: Int, context: Context?) -> WeftError? {
    if claim == canceled { return context?.error ?? .canceled }
    return error(forClaim: claim)
  }
}

// MARK: - Waiting

extension Context {
  /// Blocks (parks the task, or the thread) until the context is done; returns
  /// its error. .deadlock for a context that can never be done.
  @available(*, noasync, message: "blocks the thread: use the async form in async code")
  package func coreWait() -> WeftError? {
    guard canEnd else { return .deadlock }
    if let error { return error }
    return ParkerRef.with { parker in
      parker.prepare()
      let claim = parker.park(deadline: noDeadline, context: self, reason: "ctx wait")
      return Parker.error(forClaim: claim, context: self)
    }
  }
}
