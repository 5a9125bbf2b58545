import Glibc

/// A channel's memory: one SpinLock, the state machine (counts, ring indices,
/// closed flag, the two intrusive wait queues) and the ring buffer of
/// `capacity * elemSize` bytes, all in one malloc'd block (the ring follows the
/// header). Values are copied in and out with memcpy of elemSize bytes; nothing
/// here is reference counted.
///
/// Invariants: those of ChannelStateMachine; the ring's slot i lives at
/// `ring + i * elemSize`; a slot holds initialized bytes exactly while the
/// machine counts it as buffered.
///
/// Lock rules (Go's chan.go `lock(&c.lock)`):
///  - `lock` guards `machine` (and so both wait queues, every queued Waiter's
///    links) and the ring's bytes.
///  - The `...Locked` functions run under the lock. They claim a peer's Parker
///    (through the machine's `dequeueClaiming`), copy the value, write the
///    peer's `result`, and hand the claimed Parker back to the caller, which
///    wakes it AFTER unlocking. A claimed peer cannot run until woken, so its
///    Waiter and value slot stay valid until then; after wake() nobody touches
///    them.
///  - Never park, allocate or call user code under the lock. A select holds the
///    locks of several channels at once, always in ascending address order.
public struct ChannelStorage: ~Copyable {
  public let lock = SpinLock()
  public var machine: ChannelStateMachine
  public let elemSize: Int
  public let ring: UnsafeMutableRawPointer

  init(capacity: Int, elemSize: Int, ring: UnsafeMutableRawPointer) {
    machine = ChannelStateMachine(capacity: capacity)
    self.elemSize = elemSize
    self.ring = ring
  }

  /// Capacity limit for zero-size elements (no memory, but counts must fit).
  public static let maxCapacity = 1 << 40
}

public typealias ChannelStorageRef = UnsafeMutablePointer<ChannelStorage>

/// Copies one element: 8 bytes (the common int/pointer case) without a call.
@inline(__always)
func copyElement(_ dst: UnsafeMutableRawPointer, _ src: UnsafeRawPointer, _ size: Int) {
  if size == 8 {
    dst.storeBytes(of: src.loadUnaligned(as: UInt64.self), as: UInt64.self)
  } else if size != 0 {
    dst.copyMemory(from: src, byteCount: size)
  }
}

extension UnsafeMutablePointer where Pointee == ChannelStorage {
  private static var headerBytes: Int { (MemoryLayout<ChannelStorage>.stride + 63) & ~63 }

  /// nil when the sizes are absurd or malloc fails.
  static func make(elemSize: Int, capacity: Int) -> ChannelStorageRef? {
    guard elemSize >= 0, capacity >= 0, capacity <= ChannelStorage.maxCapacity else { return nil }
    guard let bytes = Sizes.bufferBytes(elemSize, capacity) else { return nil }
    guard let raw = malloc(headerBytes + bytes) else { return nil }
    let storage = raw.bindMemory(to: ChannelStorage.self, capacity: 1)
    storage.initialize(to: ChannelStorage(capacity: capacity, elemSize: elemSize, ring: raw + headerBytes))
    return storage
  }

  /// Frees the block, first running destructor on every value still buffered
  /// (oldest first). No waiter can be queued: each blocked call holds a
  /// reference to the channel.
  func destroy(destructor: ((UnsafeMutableRawPointer) -> Void)?) {
    if let destructor {
      var slot = pointee.machine.head
      for _ in 0..<pointee.machine.count {
        destructor(self.slot(slot))
        slot += 1
        if slot == pointee.machine.capacity { slot = 0 }
      }
    }
    deinitialize(count: 1)
    free(UnsafeMutableRawPointer(self))
  }

  @inline(__always) func lock() { pointee.lock.lock() }
  @inline(__always) func unlock() { pointee.lock.unlock() }

  @inline(__always)
  func slot(_ index: Int) -> UnsafeMutableRawPointer { pointee.ring + index &* pointee.elemSize }

  /// Under the lock: sends elem if that needs no waiting. Returns 0, ECLOSED or
  /// EAGAIN (nothing changed); `wake` receives a claimed receiver to wake after
  /// unlocking.
  @inline(__always)
  func sendLocked(_ elem: UnsafeRawPointer?, wake: inout ParkerRef?) -> Int32 {
    switch pointee.machine.send() {
    case .buffer(let index):
      if let elem { copyElement(slot(index), elem, pointee.elemSize) }
      return 0
    case .handOff(let receiver):
      if let dst = receiver.pointee.elem, let elem { copyElement(dst, elem, pointee.elemSize) }
      receiver.pointee.result = 0
      wake = receiver.pointee.parker
      return 0
    case .closed:
      return WeftError.closed.code
    case .wouldBlock:
      return WeftError.wouldBlock.code
    }
  }

  /// Under the lock: receives into out (nil discards) if that needs no waiting.
  /// Returns 0, ECLOSED (closed and drained) or EAGAIN; `wake` as for send.
  @inline(__always)
  func receiveLocked(_ out: UnsafeMutableRawPointer?, wake: inout ParkerRef?) -> Int32 {
    switch pointee.machine.receive() {
    case .take(let index):
      if let out { copyElement(out, slot(index), pointee.elemSize) }
      return 0
    case .takeAndRefill(let index, let sender):
      let place = slot(index)
      if let out { copyElement(out, place, pointee.elemSize) }
      if let src = sender.pointee.elem { copyElement(place, src, pointee.elemSize) }
      sender.pointee.result = 0
      wake = sender.pointee.parker
      return 0
    case .handOff(let sender):
      if let out, let src = sender.pointee.elem { copyElement(out, src, pointee.elemSize) }
      sender.pointee.result = 0
      wake = sender.pointee.parker
      return 0
    case .closed:
      return WeftError.closed.code
    case .wouldBlock:
      return WeftError.wouldBlock.code
    }
  }

  /// Under the lock: closes; false if already closed. Every live waiter is
  /// claimed, given ECLOSED and moved to `woken`; the caller wakes them after
  /// unlocking (`wakeAll`).
  func closeLocked(into woken: inout WakeList) -> Bool {
    guard pointee.machine.close() else { return false }
    while let receiver = pointee.machine.receivers.dequeueClaiming() {
      receiver.pointee.result = WeftError.closed.code
      woken.append(receiver.pointee.parker)
    }
    while let sender = pointee.machine.senders.dequeueClaiming() {
      sender.pointee.result = WeftError.closed.code
      woken.append(sender.pointee.parker)
    }
    return true
  }
}
