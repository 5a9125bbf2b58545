/// A typed channel for Swift: moves any Swift value, reference-counted ones
/// included, through a byte Channel.
///
/// Ownership: `send` moves the value into the channel's bytes (bitwise, no
/// retain); `receive` moves it out again. Values still buffered when the last
/// reference goes are deinitialized by the element destructor, so nothing leaks.
/// A failed send (closed, timed out, canceled) drops the value.
public final class Chan<Element>: @unchecked Sendable {
  public let channel: Channel

  /// nil when capacity is absurd (the byte channel's 1 GiB limit).
  public init?(capacity: Int = 0) {
    let destructor: (UnsafeMutableRawPointer) -> Void = { raw in
      raw.assumingMemoryBound(to: Element.self).deinitialize(count: 1)
    }
    guard
      let channel = Channel.make(
        elemSize: MemoryLayout<Element>.stride, capacity: capacity,
        destructor: MemoryLayout<Element>.stride == MemoryLayout<Element>.size && _isPOD(Element.self)
          ? nil : destructor)
    else { return nil }
    self.channel = channel
  }

  public var capacity: Int { channel.capacity }
  public var count: Int { channel.count }

  /// Sends value, waiting for room or a receiver. Throws .closed, .timedOut,
  /// .canceled or .shutdown (the value is dropped then).
  public func send(
    _ value: Element, deadline: Int64 = noDeadline, context: Context? = nil
  ) throws(WeftError) {
    let error = withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { buffer in
      let slot = buffer.baseAddress!
      slot.initialize(to: value)
      let error = channel.send(slot, deadline: deadline, context: context)
      if error != nil { slot.deinitialize(count: 1) }
      return error
    }
    if let error { throw error }
  }

  /// Sends only if no waiting is needed; false (value dropped) otherwise.
  public func trySend(_ value: Element) throws(WeftError) -> Bool {
    let error = withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { buffer in
      let slot = buffer.baseAddress!
      slot.initialize(to: value)
      let error = channel.trySend(slot)
      if error != nil { slot.deinitialize(count: 1) }
      return error
    }
    switch error {
    case nil: return true
    case .wouldBlock: return false
    case let error?: throw error
    }
  }

  /// The next value; nil once the channel is closed and drained. Throws
  /// .timedOut, .canceled or .shutdown.
  public func receive(deadline: Int64 = noDeadline, context: Context? = nil) throws(WeftError) -> Element? {
    let result: Result<Element?, WeftError> = withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) {
      buffer in
      let slot = buffer.baseAddress!
      switch channel.receive(into: slot, deadline: deadline, context: context) {
      case nil: return .success(slot.move())
      case .closed: return .success(nil)
      case let error?: return .failure(error)
      }
    }
    return try result.get()
  }

  /// A value if one is ready now; nil otherwise (check `isClosed`).
  public func tryReceive() -> Element? {
    withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { buffer in
      let slot = buffer.baseAddress!
      return channel.tryReceive(into: slot) == nil ? slot.move() : nil
    }
  }

  public var isClosed: Bool { channel.isClosed }

  /// Closes; false if it was already closed.
  @discardableResult
  public func close() -> Bool { channel.close() == nil }
}

extension Chan: Sequence {
  /// Receives until the channel is closed and drained (Go's `for v := range ch`).
  public struct Iterator: IteratorProtocol {
    let chan: Chan
    public mutating func next() -> Element? { (try? chan.receive()) ?? nil }
  }

  public func makeIterator() -> Iterator { Iterator(chan: self) }
}
