import Glibc
import Synchronization

/// What the runtime keeps per notify channel of the async completions: the
/// pending operations by tag (for cancel by tag), an eventfd signalled when
/// completions arrive (made on first request), the overflow count.
///
/// Invariants and lock rules:
///  - `table` maps a notify channel's ObjectIdentifier to its state; an entry
///    whose weak `channel` is nil (or another object at the same address) is
///    stale: its fd is closed when the entry is swept. A pending operation
///    retains notify, so a state with pending operations is never stale.
///  - `tableLock` guards `table`; a state's `lock` guards `pending`; neither
///    is held across a park or a call out (the fd write happens unlocked).
///  - `signalled` is the edge for the fd: a completion writes the fd only when
///    it flips the flag from false to true; `rearm` reads the fd, then clears
///    the flag, then the caller drains: a completion whose flip came before the
///    clear was sent before it (the drain finds it), a later one writes again.
package final class NotifyState: @unchecked Sendable {
  weak var channel: Channel?
  private let lock = SpinLock()
  private var pending: [UInt64: Context] = [:]
  private var fdValue: Int32 = -1
  private let signalled = Atomic<Bool>(false)
  package let overflows = Atomic<Int64>(0)

  init(_ channel: Channel) { self.channel = channel }

  deinit { if fdValue >= 0 { close(fdValue) } }

  private static let tableLock = SpinLock()
  nonisolated(unsafe) private static var table: [ObjectIdentifier: NotifyState] = [:]
  nonisolated(unsafe) private static var sweepAt = 64

  /// The state of notify (made on first use); sweeps stale entries now and then.
  package static func of(_ notify: Channel) -> NotifyState {
    let key = ObjectIdentifier(notify)
    tableLock.lock()
    if let state = table[key], state.channel === notify {
      tableLock.unlock()
      return state
    }
    let state = NotifyState(notify)
    table[key] = state
    var stale: [NotifyState] = []
    if table.count >= sweepAt {
      for (k, s) in table where s.channel == nil {
        stale.append(s)
        table[k] = nil
      }
      sweepAt = max(64, 2 * table.count)
    }
    tableLock.unlock()
    stale.removeAll()  // deinit closes their fds, outside the lock
    return state
  }

  /// The state of notify if it has one.
  package static func existing(_ notify: Channel) -> NotifyState? {
    tableLock.lock()
    defer { tableLock.unlock() }
    guard let state = table[ObjectIdentifier(notify)], state.channel === notify else { return nil }
    return state
  }

  // MARK: - pending operations

  /// Registers tag's cancel context; false if tag is already pending.
  func add(_ tag: UInt64, _ context: Context) -> Bool {
    lock.lock()
    defer { lock.unlock() }
    if pending[tag] != nil { return false }
    pending[tag] = context
    return true
  }

  func remove(_ tag: UInt64) {
    lock.lock()
    let context = pending.removeValue(forKey: tag)
    lock.unlock()
    _ = context  // released outside the lock
  }

  /// Cancels the pending operation tag: true if there was one.
  package func cancel(_ tag: UInt64) -> Bool {
    lock.lock()
    let context = pending[tag]
    lock.unlock()
    guard let context else { return false }
    context.cancel()
    return true
  }

  // MARK: - the eventfd

  /// The eventfd (made on first call), or a negative errno.
  package func fd() -> Int32 {
    lock.lock()
    defer { lock.unlock() }
    if fdValue < 0 {
      let fd = systemEventfd(0, O_NONBLOCK | O_CLOEXEC)  // EFD_NONBLOCK | EFD_CLOEXEC
      if fd < 0 { return -errno }
      fdValue = fd
      signalled.store(false, ordering: .sequentiallyConsistent)
    }
    return fdValue
  }

  /// After a completion was sent: makes the fd readable (once per drain).
  func signal() {
    lock.lock()
    let fd = fdValue
    lock.unlock()
    guard fd >= 0 else { return }
    if signalled.exchange(true, ordering: .sequentiallyConsistent) { return }
    var one: UInt64 = 1
    _ = write(fd, &one, 8)
  }

  /// Resets the fd, then the edge, before the caller drains notify.
  package func rearm() {
    lock.lock()
    let fd = fdValue
    lock.unlock()
    guard fd >= 0 else { return }
    var count: UInt64 = 0
    _ = read(fd, &count, 8)
    signalled.store(false, ordering: .sequentiallyConsistent)
  }
}

/// glibc's eventfd (sys/eventfd.h is not in the Glibc module); its flags are
/// O_NONBLOCK and O_CLOEXEC by definition.
@_silgen_name("eventfd")
private func systemEventfd(_ initval: UInt32, _ flags: Int32) -> Int32
