import CLibUV
import Glibc

/// Signal contexts (Go's signal.NotifyContext): cancel contexts that SIGINT or
/// SIGTERM cancels, with the signal number as the cause.
///
/// libuv signal handles need a loop thread, so one small dedicated thread (the
/// hub) runs its own uv loop with a uv_signal_t per signal, started while at
/// least one signal context watches. Stopping the last watch (cancel, or the
/// context freed) stops the handles and restores the disposition saved before
/// starting them (libuv alone would reset it to SIG_DFL).
///
/// Lock rules: `mutex` guards the watch list (unretained contexts, linked
/// through their signal* fields), `count`, `watching`, and the request
/// generations. Contexts are finished outside the mutex; the list is walked
/// with swift_tryRetain, and a freed context unlinks itself in deinit.
final class SignalHub: @unchecked Sendable {
  static let shared = SignalHub()
  static let watched: [Int32] = [SIGINT, SIGTERM]

  private var mutex = pthread_mutex_t()
  private var cond = pthread_cond_t()
  private var head: Unmanaged<Context>? = nil
  private var count = 0
  private var requested = 0
  private var applied = 0
  private var watching = false
  private var thread = pthread_t()
  private let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
  private let wakeup = UnsafeMutablePointer<uv_async_t>.allocate(capacity: 1)
  private let handles = UnsafeMutablePointer<uv_signal_t>.allocate(capacity: SignalHub.watched.count)
  private let saved: UnsafeMutablePointer<sigaction> = {
    let bytes = MemoryLayout<sigaction>.stride * SignalHub.watched.count
    let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16)
    memset(raw, 0, bytes)
    return raw.bindMemory(to: sigaction.self, capacity: SignalHub.watched.count)
  }()

  private init() {
    pthread_mutex_init(&mutex, nil)
    pthread_cond_init(&cond, nil)
    uv_loop_init(loop)
    let me = Unmanaged.passUnretained(self).toOpaque()
    uv_async_init(loop, wakeup) { async in
      Unmanaged<SignalHub>.fromOpaque(async!.pointee.data).takeUnretainedValue().apply()
    }
    wakeup.pointee.data = me
    for i in SignalHub.watched.indices {
      uv_signal_init(loop, handles + i)
      handles[i].data = me
    }
    pthread_create(
      &thread, nil,
      { raw in
        let hub = Unmanaged<SignalHub>.fromOpaque(raw!).takeUnretainedValue()
        uv_run(hub.loop, UV_RUN_DEFAULT)
        return nil
      }, me)
  }

  private var onHubThread: Bool { pthread_equal(pthread_self(), thread) != 0 }

  /// Starts watching for context; returns once the handlers are installed.
  func watch(_ context: Context) {
    pthread_mutex_lock(&mutex)
    context.signalPrev = nil
    context.signalNext = head
    let me = Unmanaged.passUnretained(context)
    if let head { head._withUnsafeGuaranteedRef { $0.signalPrev = me } }
    head = me
    context.signalLinked = true
    count += 1
    let needStart = !watching
    pthread_mutex_unlock(&mutex)
    if needStart { sync() }
  }

  /// Stops watching for context (idempotent); the last one stops the handles and
  /// restores the previous dispositions before this returns.
  func unwatch(_ context: Context) {
    pthread_mutex_lock(&mutex)
    guard context.signalLinked else {
      pthread_mutex_unlock(&mutex)
      return
    }
    unlink(context)
    count -= 1
    let needStop = count == 0
    pthread_mutex_unlock(&mutex)
    if needStop { sync() }
  }

  /// Under mutex.
  private func unlink(_ context: Context) {
    let prev = context.signalPrev
    let next = context.signalNext
    if let prev { prev._withUnsafeGuaranteedRef { $0.signalNext = next } } else { head = next }
    if let next { next._withUnsafeGuaranteedRef { $0.signalPrev = prev } }
    context.signalPrev = nil
    context.signalNext = nil
    context.signalLinked = false
  }

  /// Has the hub thread bring the handles in line with `count`, and waits.
  private func sync() {
    if onHubThread {
      apply()
      return
    }
    pthread_mutex_lock(&mutex)
    requested += 1
    let generation = requested
    pthread_mutex_unlock(&mutex)
    uv_async_send(wakeup)
    pthread_mutex_lock(&mutex)
    while applied < generation { pthread_cond_wait(&cond, &mutex) }
    pthread_mutex_unlock(&mutex)
  }

  /// Hub thread only.
  private func apply() {
    pthread_mutex_lock(&mutex)
    let generation = requested
    let want = count > 0
    pthread_mutex_unlock(&mutex)
    if want && !watching {
      for (i, signum) in SignalHub.watched.enumerated() {
        sigaction(signum, nil, saved + i)
        uv_signal_start(handles + i, { handle, signum in
          Unmanaged<SignalHub>.fromOpaque(handle!.pointee.data).takeUnretainedValue().received(signum)
        }, signum)
      }
    } else if !want && watching {
      for (i, signum) in SignalHub.watched.enumerated() {
        uv_signal_stop(handles + i)
        sigaction(signum, saved + i, nil)
      }
    }
    pthread_mutex_lock(&mutex)
    watching = want
    if generation > applied { applied = generation }
    pthread_cond_broadcast(&cond)
    pthread_mutex_unlock(&mutex)
  }

  /// Hub thread: a watched signal arrived; cancel every watching context.
  private func received(_ signum: Int32) {
    var contexts: [Unmanaged<Context>] = []
    pthread_mutex_lock(&mutex)
    while let context = head {
      context._withUnsafeGuaranteedRef { unlink($0) }
      if swiftTryRetain(context.toOpaque()) { contexts.append(context) }
    }
    count = 0
    pthread_mutex_unlock(&mutex)
    apply()  // restore the dispositions before anyone sees the cancellation
    for context in contexts {
      context._withUnsafeGuaranteedRef { _ = $0.finish(.canceled, cause: signum) }
      context.release()
    }
  }
}

extension Context {
  /// Go's signal.NotifyContext: a child of parent canceled by SIGINT or SIGTERM
  /// (cause: the signal number). Cancel it, or free it, to stop watching.
  public static func withSignals(_ parent: Context) -> Context {
    let context = Context(kind: .cancel, parent: parent, deadline: parent.deadline)
    context.watchesSignals = true
    context.attach()
    if context.isDone { return context }
    SignalHub.shared.watch(context)
    if context.isDone { SignalHub.shared.unwatch(context) }  // ended while we linked it
    return context
  }
}
