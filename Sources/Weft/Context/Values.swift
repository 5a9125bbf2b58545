/// Value contexts (Go's WithValue): a key (compared by address), a value and an
/// optional destructor run when the context is freed. Lookup walks towards the
/// root; the nearest binding wins. A value context reports the done state of its
/// nearest cancelable ancestor (see Context.sourceRef).
extension Context {
  package static func withValue(
    _ parent: Context, key: UnsafeRawPointer, value: UnsafeMutableRawPointer?,
    destructor: (@convention(c) (UnsafeMutableRawPointer?) -> Void)? = nil
  ) -> Context {
    Context(
      kind: .value, parent: parent, deadline: parent.deadline, key: key, value: value,
      valueDestructor: destructor)
  }

  /// The value bound to key here or in an ancestor; nil when absent.
  package func value(forKey key: UnsafeRawPointer) -> UnsafeMutableRawPointer? {
    var current = Unmanaged.passUnretained(self)
    while true {
      let step: (found: Bool, value: UnsafeMutableRawPointer?, next: Unmanaged<Context>?) =
        current._withUnsafeGuaranteedRef { context in
          if context.kind == .value, context.key == key { return (true, context.value, nil) }
          return (false, nil, context.parent.map { Unmanaged.passUnretained($0) })
        }
      if step.found { return step.value }
      guard let next = step.next else { return nil }
      current = next
    }
  }
}
