import Glibc
import Synchronization

/// One case of a select (the @c layer copies the caller's weft_case array into
/// these, naming channel objects instead of handles).
public struct SelectCase {
  public static let receive: Int32 = 1
  public static let send: Int32 = 2

  /// An `Unmanaged<Channel>` as an opaque pointer; nil: never ready.
  public var channel: UnsafeMutableRawPointer?
  public var op: Int32
  /// Send: the value; receive: where it goes (nil discards).
  public var elem: UnsafeMutableRawPointer?
  /// Out, for the case that fired: 0 or WEFT_ECLOSED.
  public var result: Int32

  public init(channel: Channel?, op: Int32, elem: UnsafeMutableRawPointer?) {
    self.channel = channel.map { Unmanaged.passUnretained($0).toOpaque() }
    self.op = op
    self.elem = elem
    self.result = 0
  }
}

/// Go's select (runtime/select.go) over Weft channels.
///
/// Invariants and protocol:
///  - Exactly one case fires. While polling, the select holds the locks of all
///    its channels (each distinct channel once, in ascending address order, so
///    two selects never deadlock) and performs the first ready case in a random
///    permutation (Fisher-Yates, so each ready case is equally likely).
///  - A blocked select queues its waiters in lock order, which keeps the random
///    poll order among cases on the same channel: of two sends (or receives) on
///    one channel, either is equally likely to be the one a peer completes.
///  - Otherwise it publishes one Waiter per case (caseIndex = the case's index,
///    owner = its channel), all pointing to ONE Parker, still under all the
///    locks, then unlocks and parks. A peer that claims the Parker for case i
///    performs case i (copies the value, writes `result`); every other waiter
///    of this select is dead from then on (its claim fails) and is unlinked by
///    the select itself (under the locks again) before its stack frame goes.
///  - NULL channels are never ready. A channel may appear in several cases,
///    even as send and receive: both waiters share the Parker, so at most one
///    fires, and a select never meets itself (it polls before it publishes).
///  - While parked, the select holds a reference to each channel.
///
/// No heap allocation for up to 8 cases (orders and waiters live on the stack);
/// more use malloc (WEFT_ENOMEM when it fails).
public enum Select {
  /// Returns the index of the case that fired (its `result` is 0 or ECLOSED), or
  /// a negative WeftError code: EAGAIN (nonBlocking, nothing ready), ETIMEDOUT,
  /// ECANCELED, ESHUTDOWN, EDEADLK (nothing could ever fire), EINVAL (bad op,
  /// missing send value).
  public static func select(
    _ cases: UnsafeMutablePointer<SelectCase>, count n: Int, nonBlocking: Bool = false,
    deadline: Int64 = noDeadline, context: Context? = nil
  ) -> Int {
    var active = 0
    for i in 0..<n {
      guard let raw = cases[i].channel else { continue }
      let op = cases[i].op
      guard op == SelectCase.receive || op == SelectCase.send else { return Int(WeftError.invalid.code) }
      if op == SelectCase.send, cases[i].elem == nil,
        Unmanaged<Channel>.fromOpaque(raw)._withUnsafeGuaranteedRef({ $0.elemSize }) != 0
      {
        return Int(WeftError.invalid.code)
      }
      active += 1
    }
    if active == 0 { return waitWithoutCases(nonBlocking: nonBlocking, deadline: deadline, context: context) }
    if active > stackCases {
      // Off the stack: a task's stack has a fixed guard (see StackPool), so the
      // runtime never puts scratch of unbounded size on it.
      let orders = malloc(2 * active * MemoryLayout<Int>.stride)
      let waiters = malloc(active * MemoryLayout<Waiter>.stride)
      defer {
        free(orders)
        free(waiters)
      }
      guard let orders, let waiters else { return Int(WeftError.noMemory.code) }
      let o = orders.assumingMemoryBound(to: Int.self)
      return run(
        cases, n, active, poll: o, lockOrder: o + active, waiters: waiters.assumingMemoryBound(to: Waiter.self),
        nonBlocking: nonBlocking, deadline: deadline, context: context)
    }
    return withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * active) { orders in
      withUnsafeTemporaryAllocation(of: Waiter.self, capacity: active) { waiters in
        run(
          cases, n, active, poll: orders.baseAddress!, lockOrder: orders.baseAddress! + active,
          waiters: waiters.baseAddress!, nonBlocking: nonBlocking, deadline: deadline, context: context)
      }
    }
  }

  /// Cases whose scratch (orders and waiters, under 1 KiB) lives on the stack.
  static let stackCases = 8

  /// A select with no usable case: only the deadline or the context can end it.
  public static func waitWithoutCases(nonBlocking: Bool, deadline: Int64, context: Context?) -> Int {
    if nonBlocking { return Int(WeftError.wouldBlock.code) }
    if deadline == noDeadline, context == nil { return Int(WeftError.deadlock.code) }
    return ParkerRef.with { parker in
      parker.prepare()
      let claim = parker.park(deadline: deadline, context: context, reason: "select (no cases)")
      return Int((Parker.error(forClaim: claim, context: context) ?? .invalid).code)
    }
  }

  @inline(__always)
  static func storage(_ raw: UnsafeMutableRawPointer) -> ChannelStorageRef {
    Unmanaged<Channel>.fromOpaque(raw)._withUnsafeGuaranteedRef { $0.storage }
  }

  private static func run(
    _ cases: UnsafeMutablePointer<SelectCase>, _ n: Int, _ m: Int,
    poll: UnsafeMutablePointer<Int>, lockOrder: UnsafeMutablePointer<Int>,
    waiters: UnsafeMutablePointer<Waiter>, nonBlocking: Bool, deadline: Int64, context: Context?
  ) -> Int {
    // Poll order: a uniform random permutation of the active cases (inside-out
    // Fisher-Yates). Lock order: the poll order stably sorted by channel address,
    // so cases on one channel keep their random relative order — the order their
    // waiters are queued in when the select blocks (Go's lockorder), and so
    // which of two such cases a peer arriving later completes.
    var random = Select.seed()
    var k = 0
    for i in 0..<n where cases[i].channel != nil {
      random ^= random << 13
      random ^= random >> 7
      random ^= random << 17
      let j = Int((UInt64(UInt32(truncatingIfNeeded: random >> 16)) &* UInt64(k + 1)) >> 32)
      poll[k] = poll[j]
      poll[j] = i
      k += 1
    }
    for p in 0..<m {
      let i = poll[p]
      let address = UInt(bitPattern: cases[i].channel)
      var slot = p
      while slot > 0, UInt(bitPattern: cases[lockOrder[slot - 1]].channel) > address {
        lockOrder[slot] = lockOrder[slot - 1]
        slot -= 1
      }
      lockOrder[slot] = i
    }
    let expired = deadline != noDeadline && deadline <= monotonicNow()

    return ParkerRef.with { parker in
      lockAll(cases, lockOrder, m)
      // Pass 1: the first ready case in poll order.
      for p in 0..<m {
        let i = poll[p]
        let storage = storage(cases[i].channel!)
        var wake: ParkerRef? = nil
        let status =
          cases[i].op == SelectCase.send
          ? storage.sendLocked(cases[i].elem, wake: &wake)
          : storage.receiveLocked(cases[i].elem, wake: &wake)
        if status != WeftError.wouldBlock.code {
          unlockAll(cases, lockOrder, m)
          if let wake { wake.wake() }
          cases[i].result = status
          return i
        }
      }
      if nonBlocking || expired {
        unlockAll(cases, lockOrder, m)
        return Int((nonBlocking ? WeftError.wouldBlock : WeftError.timedOut).code)
      }
      // Pass 2: publish a waiter on every channel, then park.
      parker.prepare()
      forEachChannel(cases, lockOrder, m) { _ = Unmanaged<Channel>.fromOpaque($0).retain() }
      for l in 0..<m {
        let i = lockOrder[l]
        let raw = cases[i].channel!
        let waiter = waiters + l
        waiter.initialize(to: Waiter(parker: parker, elem: cases[i].elem, caseIndex: i))
        waiter.pointee.owner = raw
        let storage = storage(raw)
        if cases[i].op == SelectCase.send {
          storage.pointee.machine.senders.enqueue(waiter)
        } else {
          storage.pointee.machine.receivers.enqueue(waiter)
        }
      }
      unlockAll(cases, lockOrder, m)
      let claim = parker.park(deadline: deadline, context: context, reason: "select")
      // Pass 3: unlink the waiters that did not fire.
      lockAll(cases, lockOrder, m)
      var fired: Int32 = 0
      for l in 0..<m {
        let waiter = waiters + l
        let i = waiter.pointee.caseIndex
        if i == claim { fired = waiter.pointee.result }
        let storage = storage(cases[i].channel!)
        if cases[i].op == SelectCase.send {
          storage.pointee.machine.senders.remove(waiter)
        } else {
          storage.pointee.machine.receivers.remove(waiter)
        }
      }
      unlockAll(cases, lockOrder, m)
      forEachChannel(cases, lockOrder, m) { Unmanaged<Channel>.fromOpaque($0).release() }
      if claim >= 0 {
        cases[claim].result = fired
        return claim
      }
      return Int((Parker.error(forClaim: claim, context: context) ?? .invalid).code)
    }
  }

  /// body(channel) once per distinct channel, in lock order (a channel named by
  /// several cases sits in adjacent slots of the order).
  @inline(__always)
  private static func forEachChannel(
    _ cases: UnsafeMutablePointer<SelectCase>, _ lockOrder: UnsafeMutablePointer<Int>, _ m: Int,
    _ body: (UnsafeMutableRawPointer) -> Void
  ) {
    var previous: UnsafeMutableRawPointer? = nil
    for l in 0..<m {
      let raw = cases[lockOrder[l]].channel!
      if raw != previous { body(raw) }
      previous = raw
    }
  }

  @inline(__always)
  private static func lockAll(
    _ cases: UnsafeMutablePointer<SelectCase>, _ lockOrder: UnsafeMutablePointer<Int>, _ m: Int
  ) {
    forEachChannel(cases, lockOrder, m) { storage($0).lock() }
  }

  @inline(__always)
  private static func unlockAll(
    _ cases: UnsafeMutablePointer<SelectCase>, _ lockOrder: UnsafeMutablePointer<Int>, _ m: Int
  ) {
    forEachChannel(cases, lockOrder, m) { storage($0).unlock() }
  }

  private static let seedCounter = Atomic<UInt64>(0x2545_F491_4F6C_DD1D)

  /// A random 64-bit seed: the worker's generator in a task, else a splitmix
  /// step of a shared counter. Never zero (xorshift's fixed point).
  @inline(__always)
  static func seed() -> UInt64 {
    var x: UInt64
    if let worker = Scheduler.currentWorker() {
      x = worker.nextRandom()
    } else {
      x = seedCounter.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
      x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
      x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
      x ^= x >> 31
    }
    return x == 0 ? 0x9E37_79B9_7F4A_7C15 : x
  }
}
