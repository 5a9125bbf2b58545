import Glibc

/// A Go channel of fixed-size values (weft_chan_t): the facade over
/// ChannelStorage that adds the blocking protocol (Park/), lifetime and timers.
///
/// Invariants:
///  - every blocking call that parks holds a reference to the channel for as long
///    as its Waiter may be queued (a creator's release cannot free a channel a
///    task is blocked on), so `deinit` never finds a queued waiter.
///  - `timer` (weft_after, tickers) is set once, cleared by stopTimer, guarded by
///    the storage lock. The timer does not retain the channel: its callback only
///    touches the storage, and deinit cancels the timer (Timers.cancel waits out
///    a running callback) before freeing the storage. So dropping an unfired
///    `after` channel frees its timer at once: 100k abandoned timeouts cost
///    nothing while they would have been pending.
///
/// Lock rules: see ChannelStorage. This file takes one channel's lock at a time
/// and never parks, allocates or calls out while holding it; wakes happen after
/// unlocking.
///
/// Hot path (no allocation, no ARC traffic): lock, one state-machine decision,
/// one memcpy, unlock, maybe wake. Only a call that must park retains the
/// channel and sets up a Parker and a Waiter on its own stack; it keeps the
/// lock from the failed attempt to the enqueue (one lock round, no retry). The
/// Parker's setup under the lock reads thread-locals only (a plain thread's
/// first block makes its ThreadSignal once).
public final class Channel: @unchecked Sendable {
  public let storage: ChannelStorageRef
  let destructor: ((UnsafeMutableRawPointer) -> Void)?
  var timer: TimerRef? = nil
  public private(set) var isTimerChannel = false

  private init(storage: ChannelStorageRef, destructor: ((UnsafeMutableRawPointer) -> Void)?) {
    self.storage = storage
    self.destructor = destructor
  }

  /// A channel of elemSize-byte values with room for capacity of them (0: an
  /// unbuffered rendezvous). nil when elemSize * capacity is absurd (over 1 GiB)
  /// or memory is short. destructor runs on values still buffered at deinit.
  public static func make(
    elemSize: Int, capacity: Int, destructor: ((UnsafeMutableRawPointer) -> Void)? = nil
  ) -> Channel? {
    guard let storage = ChannelStorageRef.make(elemSize: elemSize, capacity: capacity) else { return nil }
    return Channel(storage: storage, destructor: destructor)
  }

  deinit {
    if let timer { Timers.cancel(timer) }
    storage.destroy(destructor: destructor)
  }

  @inline(__always) public var elemSize: Int { storage.pointee.elemSize }
  @inline(__always) public var capacity: Int { storage.pointee.machine.capacity }

  /// Buffered values now.
  public var count: Int {
    storage.lock()
    defer { storage.unlock() }
    return storage.pointee.machine.count
  }

  public var isClosed: Bool {
    storage.lock()
    defer { storage.unlock() }
    return storage.pointee.machine.closed
  }

  // MARK: - Send

  /// One attempt without waiting: 0, ECLOSED or EAGAIN.
  @inline(__always)
  func sendNow(_ elem: UnsafeRawPointer?) -> Int32 {
    let storage = self.storage
    var wake: ParkerRef? = nil
    storage.lock()
    let status = storage.sendLocked(elem, wake: &wake)
    storage.unlock()
    if let wake { wake.wake() }
    return status
  }

  /// Sends the elemSize bytes at elem, waiting until a receiver or buffer space
  /// takes them, the deadline passes (.timedOut) or the context ends.
  @inline(__always)
  public func send(
    _ elem: UnsafeRawPointer?, deadline: Int64 = noDeadline, context: Context? = nil
  ) -> WeftError? {
    let storage = self.storage
    var wake: ParkerRef? = nil
    storage.lock()
    let status = storage.sendLocked(elem, wake: &wake)
    if status == WeftError.wouldBlock.code { return sendWaiting(elem, deadline: deadline, context: context) }
    storage.unlock()
    if let wake { wake.wake() }
    return WeftError(rawValue: status)
  }

  /// Sends only if that needs no waiting: .wouldBlock otherwise.
  @inline(__always)
  public func trySend(_ elem: UnsafeRawPointer?) -> WeftError? {
    let status = sendNow(elem)
    return status == 0 ? nil : WeftError(rawValue: status)
  }

  /// Called with the lock held, after an attempt found no receiver and no room:
  /// publishes a Waiter and parks (or gives up at a passed deadline).
  @inline(never)
  func sendWaiting(_ elem: UnsafeRawPointer?, deadline: Int64, context: Context?) -> WeftError? {
    let storage = self.storage
    if deadline != noDeadline, deadline <= monotonicNow() {
      storage.unlock()
      return .timedOut
    }
    let me = Unmanaged.passUnretained(self).retain()  // the blocked call's reference
    defer { me.release() }
    return ParkerRef.with { parker in
      let outcome = parker.waitQueued(
        lock: storage.pointee.lock, elem: UnsafeMutableRawPointer(mutating: elem), deadline: deadline, context: context,
        reason: "chan send",
        enqueue: { storage.pointee.machine.senders.enqueue($0) },
        leave: { storage.pointee.machine.senders.remove($0) })
      switch outcome {
      case .claimed(let result): return WeftError(rawValue: result)
      case .failed(let error): return error
      }
    }
  }

  // MARK: - Receive

  /// One attempt without waiting: 0, ECLOSED (closed and drained) or EAGAIN.
  @inline(__always)
  func receiveNow(_ out: UnsafeMutableRawPointer?) -> Int32 {
    let storage = self.storage
    var wake: ParkerRef? = nil
    storage.lock()
    let status = storage.receiveLocked(out, wake: &wake)
    storage.unlock()
    if let wake { wake.wake() }
    return status
  }

  /// Receives into out (nil discards), waiting for a value; .closed once the
  /// channel is closed and drained.
  @inline(__always)
  public func receive(
    into out: UnsafeMutableRawPointer?, deadline: Int64 = noDeadline, context: Context? = nil
  ) -> WeftError? {
    let storage = self.storage
    var wake: ParkerRef? = nil
    storage.lock()
    let status = storage.receiveLocked(out, wake: &wake)
    if status == WeftError.wouldBlock.code { return receiveWaiting(out, deadline: deadline, context: context) }
    storage.unlock()
    if let wake { wake.wake() }
    return WeftError(rawValue: status)
  }

  @inline(__always)
  public func tryReceive(into out: UnsafeMutableRawPointer?) -> WeftError? {
    let status = receiveNow(out)
    return status == 0 ? nil : WeftError(rawValue: status)
  }

  /// Called with the lock held, after an attempt found nothing to take.
  @inline(never)
  func receiveWaiting(_ out: UnsafeMutableRawPointer?, deadline: Int64, context: Context?) -> WeftError? {
    let storage = self.storage
    if deadline != noDeadline, deadline <= monotonicNow() {
      storage.unlock()
      return .timedOut
    }
    let me = Unmanaged.passUnretained(self).retain()
    defer { me.release() }
    return ParkerRef.with { parker in
      let outcome = parker.waitQueued(
        lock: storage.pointee.lock, elem: out, deadline: deadline, context: context,
        reason: "chan recv",
        enqueue: { storage.pointee.machine.receivers.enqueue($0) },
        leave: { storage.pointee.machine.receivers.remove($0) })
      switch outcome {
      case .claimed(let result): return WeftError(rawValue: result)
      case .failed(let error): return error
      }
    }
  }

  // MARK: - Close

  /// Closes the channel: buffered values stay receivable, every blocked sender
  /// and receiver gets .closed. A second close returns .closed.
  public func close() -> WeftError? {
    // Room for every waiter, made before taking the lock (the count is a hint).
    var woken = WakeList(capacity: storage.pointee.machine.receivers.count + storage.pointee.machine.senders.count)
    storage.lock()
    let closedNow = storage.closeLocked(into: &woken)
    storage.unlock()
    guard closedNow else { return .closed }
    woken.wakeAll()
    return nil
  }

  // MARK: - Timer channels (Go's time.After, time.Ticker)

  /// A channel of Int64 receiving monotonicNow() once, ns from now. nil once
  /// the runtime is shut down.
  public static func after(_ ns: Int64) -> Channel? {
    guard let channel = make(elemSize: 8, capacity: 1) else { return nil }
    channel.isTimerChannel = true
    if ns <= 0 {
      timerFire(UnsafeMutableRawPointer(channel.storage))
      return channel
    }
    guard let timer = Timers.start(
      deadline: deadline(after: ns), fire: timerFire, target: UnsafeMutableRawPointer(channel.storage))
    else { return nil }
    channel.storage.lock()
    channel.timer = timer
    channel.storage.unlock()
    return channel
  }

  /// A channel (capacity 1) receiving monotonicNow() every period ns; ticks are
  /// dropped while it is full. nil for period <= 0 or after shutdown.
  public static func ticker(period: Int64) -> Channel? {
    guard period > 0, let channel = make(elemSize: 8, capacity: 1) else { return nil }
    channel.isTimerChannel = true
    guard let timer = Timers.start(
      deadline: deadline(after: period), period: period, fire: timerFire,
      target: UnsafeMutableRawPointer(channel.storage))
    else { return nil }
    channel.storage.lock()
    channel.timer = timer
    channel.storage.unlock()
    return channel
  }

  /// Stops the timer feeding this channel: true if it was still going to fire,
  /// false if it had fired or was stopped. nil: not a timer channel.
  public func stopTimer() -> Bool? {
    guard isTimerChannel else { return nil }
    storage.lock()
    let timer = self.timer
    self.timer = nil
    storage.unlock()
    guard let timer else { return false }
    return Timers.cancel(timer)
  }
}

/// Runs on a worker's scheduler stack: a non-blocking send of the time (a full
/// channel drops the tick, a closed one ignores it).
private let timerFire: TimerCallback = { raw in
  let storage = raw!.assumingMemoryBound(to: ChannelStorage.self)
  var now = monotonicNow()
  var wake: ParkerRef? = nil
  storage.lock()
  _ = storage.sendLocked(&now, wake: &wake)
  storage.unlock()
  if let wake { wake.wake() }
}
