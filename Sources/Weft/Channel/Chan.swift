/// A typed Go channel: moves any Swift value, reference-counted ones included,
/// between tasks, threads and (through the `async` overloads) Swift tasks.
///
///     let jobs = Chan<Job>(capacity: 64)
///     try go { for job in jobs { handle(job) } }
///     try jobs.send(Job(id: 1))
///     jobs.close()
///
/// Ownership: `send` copies the value (a retain) and moves the copy into the channel's bytes
/// (bitwise, no retain); `receive` moves it out again. A value leaves a channel
/// exactly once: received, dropped by a send that failed (closed, timed out,
/// canceled), or deinitialized with the channel when it is still buffered then.
///
/// Sendable only when `Element` is: a channel of a non-Sendable class cannot be
/// captured by a `go {}` closure or a Swift `Task`.
///
/// Speed: the blocking forms are `@inlinable`, so a client's code is specialized
/// for its `Element` and runs the byte channel's hot path with one stack slot.
public final class Chan<Element> {
  /// The byte channel underneath (elemSize = the element's stride).
  @usableFromInline let channel: Channel

  /// A channel with room for `capacity` values (0: unbuffered, each send waits
  /// for its receiver). Traps when capacity is negative or the buffer would
  /// exceed 1 GiB.
  public init(capacity: Int = 0) {
    precondition(capacity >= 0, "Chan capacity must not be negative")
    let destructor: ((UnsafeMutableRawPointer) -> Void)? =
      _isPOD(Element.self)
      ? nil : { $0.assumingMemoryBound(to: Element.self).deinitialize(count: 1) }
    guard
      let channel = Channel.make(
        elemSize: MemoryLayout<Element>.stride, capacity: capacity, destructor: destructor)
    else { preconditionFailure("Chan capacity \(capacity) of \(Element.self) exceeds 1 GiB") }
    self.channel = channel
  }

  /// The buffer's size (0 for an unbuffered channel).
  public var capacity: Int { channel.capacity }
  /// Values buffered now.
  public var count: Int { channel.count }
  /// True once `close()` ran (buffered values may still be received).
  public var isClosed: Bool { channel.isClosed }

  /// Sends `value`, parking the task (or blocking the thread) until a receiver
  /// or buffer room takes it. Throws `.closed` for a closed channel,
  /// `.timedOut` after `timeout`, the context's error when `context` ends first,
  /// or `.shutdown`; the value is dropped then.
  @inlinable
  @available(*, noasync, message: "blocks the thread: use the async send in async code")
  public func send(
    _ value: Element, timeout: Duration? = nil, context: Context? = nil
  ) throws(WeftError) {
    let error = withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { buffer in
      let slot = buffer.baseAddress.unsafelyUnwrapped
      slot.initialize(to: value)
      let error = channel.send(slot, deadline: weftDeadline(timeout), context: context)
      if error != nil { slot.deinitialize(count: 1) }
      return error
    }
    if let error { throw error }
  }

  /// Sends only if that needs no waiting: false (the value dropped) when no
  /// receiver waits and the buffer is full. Throws `.closed`.
  @inlinable
  @discardableResult
  public func trySend(_ value: Element) throws(WeftError) -> Bool {
    let error = withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { buffer in
      let slot = buffer.baseAddress.unsafelyUnwrapped
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

  /// The next value, parking the task (or blocking the thread) until one comes;
  /// nil once the channel is closed and drained. Throws `.timedOut` after
  /// `timeout`, the context's error when `context` ends first, or `.shutdown`.
  @inlinable
  @available(*, noasync, message: "blocks the thread: use the async receive in async code")
  public func receive(timeout: Duration? = nil, context: Context? = nil) throws(WeftError) -> Element? {
    let result: Result<Element?, WeftError> = withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) {
      buffer in
      let slot = buffer.baseAddress.unsafelyUnwrapped
      switch channel.receive(into: slot, deadline: weftDeadline(timeout), context: context) {
      case nil: return .success(slot.move())
      case .closed: return .success(nil)
      case let error?: return .failure(error)
      }
    }
    return try result.get()
  }

  /// A value if one is ready now, else nil (check `isClosed` to tell a closed
  /// channel from an empty one).
  @inlinable
  public func tryReceive() -> Element? {
    withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { buffer in
      let slot = buffer.baseAddress.unsafelyUnwrapped
      return channel.tryReceive(into: slot) == nil ? slot.move() : nil
    }
  }

  /// Closes the channel: buffered values stay receivable, then receivers get
  /// nil; blocked and later senders get `.closed`. False if it was already closed.
  @discardableResult
  public func close() -> Bool { channel.close() == nil }
}

extension Chan: @unchecked Sendable where Element: Sendable {}

// MARK: - async/await

extension Chan {
  /// Sends `value` from async code: suspends the Swift task (never blocking its
  /// thread, no task spawned) until a receiver or buffer room takes it. Throws
  /// `.closed`, `.timedOut`, the context's error, `.canceled` when the Swift
  /// task is canceled while it waits, or `.shutdown`; the value is dropped then.
  @inlinable
  public func send(
    _ value: Element, timeout: Duration? = nil, context: Context? = nil
  ) async throws(WeftError) {
    let slot = UnsafeMutablePointer<Element>.allocate(capacity: 1)
    defer { slot.deallocate() }
    slot.initialize(to: value)
    if let error = await channel.sendAsync(slot, deadline: weftDeadline(timeout), context: context) {
      slot.deinitialize(count: 1)
      throw error
    }
  }

  /// The next value, from async code: suspends the Swift task until one comes;
  /// nil once the channel is closed and drained. Throws `.timedOut`, the
  /// context's error, `.canceled` when the Swift task is canceled while it
  /// waits, or `.shutdown`.
  @inlinable
  public func receive(timeout: Duration? = nil, context: Context? = nil) async throws(WeftError) -> Element? {
    let slot = UnsafeMutablePointer<Element>.allocate(capacity: 1)
    defer { slot.deallocate() }
    switch await channel.receiveAsync(into: slot, deadline: weftDeadline(timeout), context: context) {
    case nil: return slot.move()
    case .closed: return nil
    case let error?: throw error
    }
  }
}

extension Chan: AsyncSequence {
  /// Receiving fails only with a WeftError.
  public typealias Failure = WeftError

  /// Receives (suspending) until the channel is closed and drained; throws
  /// `.canceled` when the Swift task is canceled, `.shutdown` at shutdown.
  public struct AsyncIterator: AsyncIteratorProtocol {
    /// Receiving fails only with a WeftError.
    public typealias Failure = WeftError
    @usableFromInline let chan: Chan

    @inlinable init(chan: Chan) { self.chan = chan }

    /// The next value; nil once closed and drained.
    @inlinable
    public mutating func next() async throws(WeftError) -> Element? { try await chan.receive() }
  }

  /// `for try await value in chan`: an iterator that suspends instead of blocking.
  @inlinable
  public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chan: self) }
}

extension Chan: Sequence {
  /// Receives until the channel is closed and drained (Go's `for v := range ch`);
  /// stops early at shutdown.
  public struct Iterator: IteratorProtocol {
    @usableFromInline let chan: Chan

    @inlinable init(chan: Chan) { self.chan = chan }

    /// The next value; nil once closed and drained (or at shutdown).
    @inlinable
    public mutating func next() -> Element? { (try? chan.receive()) ?? nil }
  }

  /// An iterator that receives (blocking) until the channel is closed and drained.
  @inlinable
  public func makeIterator() -> Iterator { Iterator(chan: self) }
}

/// The core's deadline (monotonic ns, `noDeadline` for nil) for a timeout from now.
@inlinable
func weftDeadline(_ timeout: Duration?) -> Int64 {
  guard let timeout else { return noDeadline }
  return deadline(after: timeout.nanoseconds)
}

extension Duration {
  /// Whole nanoseconds, saturating at Int64's range.
  @inlinable
  package var nanoseconds: Int64 {
    let (seconds, attoseconds) = components
    let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    if overflow { return seconds < 0 ? Int64.min : Int64.max }
    let (sum, overflow2) = ns.addingReportingOverflow(attoseconds / 1_000_000_000)
    return overflow2 ? Int64.max : sum
  }
}
