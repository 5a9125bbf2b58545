/// The decisions of a channel, without memory, locks or threads (the split of
/// swift-async-algorithms' AsyncChannel): which slot of the ring a value goes to
/// or comes from, whether a parked peer takes part, whether the caller must wait.
/// ChannelStorage holds one of these under its lock and carries the decisions out
/// (copies bytes, wakes parkers); the unit tests drive it alone.
///
/// Invariants (Go's chan.go, with "live" = queued and not yet claimed):
///  - 0 <= count <= capacity; the buffered values sit in slots head,
///    head+1, ... (mod capacity), oldest first.
///  - a live receiver is queued only while count == 0;
///    a live sender is queued only while count == capacity (for capacity 0:
///    always, and it waits for a receiver to take its value directly).
///  - once closed, no live sender is queued (close claims them all), no value is
///    added, and receivers drain the buffer before they see "closed".
///  - queued waiters whose parker was claimed elsewhere (a timeout, a context, a
///    select's other case) are dead: `dequeueClaiming` drops them on the way.
///
/// Lock rule: every mutating call runs under the owning channel's lock; the
/// waiters it returns have been claimed for their case and unlinked.
package struct ChannelStateMachine {
  package let capacity: Int
  package private(set) var count = 0
  /// The slot of the oldest buffered value (Go's recvx).
  package private(set) var head = 0
  package private(set) var closed = false
  package var senders = WaitQueue()
  package var receivers = WaitQueue()

  package init(capacity: Int) {
    precondition(capacity >= 0)
    self.capacity = capacity
  }

  package enum SendAction: Equatable {
    /// A parked receiver was claimed: copy the value to its `elem`, set its
    /// result, wake it (no buffer involved).
    case handOff(WaiterRef)
    /// Copy the value into this buffer slot.
    case buffer(Int)
    case closed
    /// Nothing can take the value now: wait (or fail, for try forms).
    case wouldBlock
  }

  package enum ReceiveAction: Equatable {
    /// Copy the value out of this slot.
    case take(Int)
    /// Copy the value out of this slot, then the claimed sender's value into the
    /// same slot (it becomes the newest), set its result and wake it.
    case takeAndRefill(Int, WaiterRef)
    /// Unbuffered: copy the claimed sender's value, set its result, wake it.
    case handOff(WaiterRef)
    /// Closed and drained.
    case closed
    case wouldBlock
  }

  @inline(__always)
  private func advance(_ slot: Int) -> Int {
    let next = slot &+ 1
    return next == capacity ? 0 : next
  }

  /// The slot the next buffered value goes to (Go's sendx).
  @inline(__always)
  package var tail: Int {
    let slot = head &+ count
    return slot >= capacity ? slot &- capacity : slot
  }

  @inline(__always)
  package mutating func send() -> SendAction {
    weftAssert(count >= 0 && count <= capacity && head >= 0 && (capacity == 0 || head < capacity), "channel counts out of range")
    if closed { return .closed }
    if count == 0, let receiver = receivers.dequeueClaiming() { return .handOff(receiver) }
    if count < capacity {
      let slot = tail
      count &+= 1
      return .buffer(slot)
    }
    return .wouldBlock
  }

  @inline(__always)
  package mutating func receive() -> ReceiveAction {
    weftAssert(count == 0 || receivers.head == nil || receivers.head!.pointee.parker.claimed != Parker.unclaimed, "a live receiver is queued on a channel with buffered values")
    if count > 0 {
      let slot = head
      head = advance(slot)
      // Full, with a sender waiting: its value takes the freed place at the end.
      if count == capacity, let sender = senders.dequeueClaiming() {
        return .takeAndRefill(slot, sender)
      }
      count &-= 1
      return .take(slot)
    }
    if closed { return .closed }
    if let sender = senders.dequeueClaiming() { return .handOff(sender) }
    return .wouldBlock
  }

  /// Marks the channel closed; false if it already was. The caller then claims
  /// and wakes every queued waiter with "closed" (`dequeueClaiming` on both
  /// queues until nil).
  package mutating func close() -> Bool {
    weftAssert(count >= 0 && count <= capacity, "channel counts out of range")
    if closed { return false }
    closed = true
    return true
  }
}
