/// The done channel (Go's ctx.Done()): created lazily, closed by `finish`.
/// Placeholder until Channel/ lands: no channel yet.
extension Context {
  func closeDoneChannel(_ channel: AnyObject) {}
}
