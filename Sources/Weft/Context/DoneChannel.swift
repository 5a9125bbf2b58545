/// The done channel (Go's ctx.Done()): an elem-size-0 channel closed when the
/// context is done, usable in select like any channel.
///
/// Made lazily (most contexts never need one) by the first caller, outside the
/// lock, and installed under it; a losing racer's channel is dropped. A channel
/// installed after `finish` ran is closed by its installer, so it is closed
/// exactly when the context is done. Value contexts share their source's channel;
/// contexts that can never be done have none.
extension Context {
  public func doneChannel() -> Channel? {
    guard let source = sourceRef else { return nil }
    return source._withUnsafeGuaranteedRef { source in
      source.lock.lock()
      if let existing = source.doneChan {
        source.lock.unlock()
        return existing
      }
      source.lock.unlock()
      guard let fresh = Channel.make(elemSize: 0, capacity: 0) else { return nil }
      source.lock.lock()
      if let existing = source.doneChan {
        source.lock.unlock()
        return existing
      }
      source.doneChan = fresh
      let done = source.isDone
      source.lock.unlock()
      if done { _ = fresh.close() }
      return fresh
    }
  }

  func closeDoneChannel(_ channel: Channel) { _ = channel.close() }
}
