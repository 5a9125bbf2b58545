/// Go's select over typed channels, type-safe and allocation-free for up to 8
/// cases whose values fit 512 bytes together:
///
///     try select { s in
///       s.receive(from: jobs) { job in handle(job) }     // job: Job? (nil: closed)
///       s.send(result, to: results) { sent += 1 }
///       s.done(ctx) { stopping = true }
///       s.otherwise { idle += 1 }                         // Go's `default:`
///     }
///
/// Exactly one handler runs. `build` is called twice: once to collect the cases
/// (no handler runs), once to run the handler of the case that fired and drop
/// the values of the send cases that did not (as a failed send drops its value).
/// So `build` must name the same cases in the same order both times and keep
/// its side effects inside handlers.
///
/// Throws `.timedOut` after `timeout`, the context's error when `context` ends
/// first, `.closed` when the send that fired found its channel closed,
/// `.deadlock` for a select that can never fire (no channels, no timeout, no
/// context, no `otherwise`), `.shutdown`, or the error the handler threw.
@available(*, noasync, message: "blocks the thread: select in a go {} task")
public func select(
  timeout: Duration? = nil, context: Context? = nil, _ build: (inout SelectCases) -> Void
) throws(WeftError) {
  let failure: WeftError? = withUnsafeTemporaryAllocation(of: SelectCase.self, capacity: SelectCases.inlineCases) {
    cases in
    withUnsafeTemporaryAllocation(byteCount: SelectCases.inlineBytes, alignment: 16) { arena in
      var selector = SelectCases(cases: cases.baseAddress!, arena: arena.baseAddress!)
      defer { selector.freeSpills() }
      build(&selector)
      let fired = selector.run(deadline: weftDeadline(timeout), context: context)
      if fired < 0, fired != SelectCases.defaultFired {
        selector.failure = WeftError(rawValue: Int32(fired)) ?? .invalid
      }
      selector.mode = .dispatch(fired: fired)
      build(&selector)
      return selector.failure
    }
  }
  if let failure { throw failure }
}

/// The cases of one `select` (see `select(timeout:context:_:)`).
public struct SelectCases: ~Copyable {
  @usableFromInline static let inlineCases = 8
  @usableFromInline static let inlineBytes = 512
  static let defaultFired = -1_000_000

  enum Mode { case register, dispatch(fired: Int) }

  var mode = Mode.register
  let inlineCases: UnsafeMutablePointer<SelectCase>
  var cases: UnsafeMutablePointer<SelectCase>
  var capacity = SelectCases.inlineCases
  let arena: UnsafeMutableRawPointer
  var used = 0
  var spills: [UnsafeMutableRawPointer] = []
  var count = 0
  var next = 0
  var hasDefault = false
  var failure: WeftError? = nil

  init(cases: UnsafeMutablePointer<SelectCase>, arena: UnsafeMutableRawPointer) {
    self.inlineCases = cases
    self.cases = cases
    self.arena = arena
  }

  mutating func freeSpills() {
    for spill in spills { spill.deallocate() }
    if cases != inlineCases { cases.deallocate() }
  }

  /// Room for one value: in the arena while it lasts, else on the heap.
  mutating func slot<T>(for: T.Type) -> UnsafeMutablePointer<T> {
    let alignment = MemoryLayout<T>.alignment
    let start = (used + alignment - 1) & ~(alignment - 1)
    if alignment <= 16, start + MemoryLayout<T>.stride <= SelectCases.inlineBytes {
      used = start + MemoryLayout<T>.stride
      return (arena + start).bindMemory(to: T.self, capacity: 1)
    }
    let spill = UnsafeMutablePointer<T>.allocate(capacity: 1)
    spills.append(UnsafeMutableRawPointer(spill))
    return spill
  }

  mutating func append(_ channel: Channel?, op: Int32, elem: UnsafeMutableRawPointer?) {
    if count == capacity {
      let grown = UnsafeMutablePointer<SelectCase>.allocate(capacity: capacity * 2)
      grown.moveInitialize(from: cases, count: count)
      if cases != inlineCases { cases.deallocate() }
      cases = grown
      capacity *= 2
    }
    (cases + count).initialize(to: SelectCase(channel: channel, op: op, elem: elem))
    count += 1
  }

  func run(deadline: Int64, context: Context?) -> Int {
    let fired = Select.select(cases, count: count, nonBlocking: hasDefault, deadline: deadline, context: context)
    if fired == Int(WeftError.wouldBlock.code), hasDefault { return SelectCases.defaultFired }
    return fired
  }

  /// In dispatch mode: this case's index and whether it fired.
  mutating func take() -> (index: Int, fired: Bool)? {
    guard case .dispatch(let fired) = mode else { return nil }
    let index = next
    next += 1
    return (index, index == fired)
  }

  /// Runs the fired case's handler, keeping its error for after the pass.
  mutating func call(_ handler: () throws(WeftError) -> Void) {
    do throws(WeftError) { try handler() } catch { failure = failure ?? error }
  }

  /// Receives from `chan`; `handler` gets the value, or nil once the channel
  /// is closed and drained.
  public mutating func receive<T>(from chan: Chan<T>, _ handler: (T?) throws(WeftError) -> Void) {
    guard let (index, fired) = take() else {
      append(chan.channel, op: SelectCase.receive, elem: UnsafeMutableRawPointer(slot(for: T.self)))
      return
    }
    guard fired else { return }
    let slot = cases[index].elem!.assumingMemoryBound(to: T.self)
    let value = cases[index].result == 0 ? slot.move() : nil
    call { () throws(WeftError) in try handler(value) }
  }

  /// Sends `value` to `chan`; `handler` runs once it was taken. The select
  /// throws `.closed` when this case fired on a closed channel.
  public mutating func send<T>(_ value: T, to chan: Chan<T>, _ handler: () throws(WeftError) -> Void = {}) {
    guard let (index, fired) = take() else {
      let slot = slot(for: T.self)
      slot.initialize(to: value)
      append(chan.channel, op: SelectCase.send, elem: UnsafeMutableRawPointer(slot))
      return
    }
    let sent = fired && cases[index].result == 0
    if !sent { cases[index].elem!.assumingMemoryBound(to: T.self).deinitialize(count: 1) }
    guard fired else { return }
    if sent { call(handler) } else { failure = failure ?? .closed }
  }

  /// Fires when `context` is done (Go's `case <-ctx.Done():`).
  public mutating func done(_ context: Context, _ handler: () throws(WeftError) -> Void) {
    guard let (_, fired) = take() else {
      append(context.doneChannel(), op: SelectCase.receive, elem: nil)
      return
    }
    if fired { call(handler) }
  }

  /// Runs when no case is ready at once (Go's `default:`): the select never waits.
  public mutating func otherwise(_ handler: () throws(WeftError) -> Void) {
    guard case .dispatch(let fired) = mode else {
      hasDefault = true
      return
    }
    if fired == SelectCases.defaultFired { call(handler) }
  }
}
