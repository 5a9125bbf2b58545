import Glibc

/// weft_collect (the articles' CollectResults): every job in its own task, at
/// most `limit` at once, results in input order with partial success.
///
/// Each job writes into its own slot of a private buffer, then marks itself
/// done under `lock`. The caller alone writes the user's arrays, once per slot,
/// after it stopped collecting (all done, or ctx ended: `closed`); a job that
/// finishes after that writes only private memory, which lives until the last
/// job lets go of the state. Jobs not started when ctx ends never start.
final class CollectState: @unchecked Sendable {
  let lock = SpinLock()
  let context: Context
  let jobs: UnsafeMutablePointer<CollectJob>
  let count: Int
  let valueSize: Int
  let values: UnsafeMutableRawPointer?
  /// Runs job i with its value slot.
  let run: (Int, UnsafeMutableRawPointer?) -> Int32
  let codes: UnsafeMutablePointer<Int32>
  let finished: UnsafeMutablePointer<Bool>
  // Guarded by lock:
  var running = 0
  var completed = 0
  var closed = false
  var waiter: WaiterRef? = nil

  init?(context: Context, count: Int, valueSize: Int, run: @escaping (Int, UnsafeMutableRawPointer?) -> Int32) {
    self.context = context
    self.count = count
    self.run = run
    self.valueSize = valueSize
    guard let bytes = Sizes.bufferBytes(count, valueSize) else { return nil }
    values = bytes > 0 ? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16) : nil
    if let values { memset(values, 0, bytes) }
    codes = .allocate(capacity: max(count, 1))
    finished = .allocate(capacity: max(count, 1))
    finished.initialize(repeating: false, count: max(count, 1))
    jobs = .allocate(capacity: max(count, 1))
    for i in 0..<count { (jobs + i).initialize(to: CollectJob(state: nil, index: i)) }
  }

  deinit {
    values?.deallocate()
    codes.deallocate()
    finished.deallocate()
    jobs.deallocate()
  }

  func slot(_ i: Int) -> UnsafeMutableRawPointer? { values.map { $0 + i * valueSize } }

  /// A job ended: record it and wake the collector.
  func done(_ i: Int, _ code: Int32) {
    lock.lock()
    running -= 1
    if !closed {
      codes[i] = code
      finished[i] = true
      completed += 1
    }
    if let waiter, waiter.pointee.parker.tryClaim(0) {
      self.waiter = nil
      waiter.pointee.parker.wake()
    }
    lock.unlock()
  }
}

struct CollectJob {
  var state: Unmanaged<CollectState>?
  let index: Int
}

private let collectEntry: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
  let job = raw!.assumingMemoryBound(to: CollectJob.self)
  let state = job.pointee.state!.takeRetainedValue()
  let i = job.pointee.index
  state.done(i, state.run(i, state.slot(i)))
}

extension Future {
  /// Runs jobs 0..<count, each as run(i, its value slot), at most limit at once
  /// (<= 0: no limit), and waits for all or
  /// for ctx to end. values (count * valueSize bytes) and codes receive each
  /// job's result in input order; a job not done when ctx ends gets ctx's error.
  /// Returns how many succeeded.
  public static func collect(
    context: Context, count n: Int, valueSize: Int, values: UnsafeMutableRawPointer?,
    codes: UnsafeMutablePointer<Int32>, limit: Int, run: @escaping (Int, UnsafeMutableRawPointer?) -> Int32
  ) -> Result<Int, WeftError> {
    guard let state = CollectState(context: context, count: n, valueSize: valueSize, run: run) else {
      return .failure(.noMemory)
    }
    var next = 0
    var stopError: WeftError? = nil  // a spawn failed, or shutdown ended the wait
    while true {
      state.lock.lock()
      if state.completed == n || context.isDone || stopError != nil {
        state.closed = true
        state.lock.unlock()
        break
      }
      if next < n && (limit <= 0 || state.running < limit) {
        state.running += 1
        let i = next
        next += 1
        state.lock.unlock()
        state.jobs[i].state = Unmanaged.passRetained(state)
        if let error = Runtime.spawn(collectEntry, UnsafeMutableRawPointer(state.jobs + i)) {
          state.jobs[i].state!.release()
          state.lock.lock()
          state.running -= 1
          state.lock.unlock()
          stopError = error
        }
        continue
      }
      // Wait for a job to finish (or ctx to end, or shutdown).
      let outcome = ParkerRef.with { parker in
        parker.waitQueued(
          lock: state.lock, deadline: noDeadline, context: context, reason: "collect",
          enqueue: { state.waiter = $0 }, leave: { if state.waiter == $0 { state.waiter = nil } })
      }
      if let error = outcome.error, !context.isDone { stopError = error }
    }
    // closed: the slots are final; write the user's arrays once each.
    let fallback = context.error?.code ?? stopError?.code ?? WeftError.canceled.code
    var succeeded = 0
    for i in 0..<n {
      if state.finished[i] {
        codes[i] = state.codes[i]
        if let values, let slot = state.slot(i) { memcpy(values + i * valueSize, slot, valueSize) }
        if state.codes[i] == 0 { succeeded += 1 }
      } else {
        codes[i] = fallback
      }
    }
    return .success(succeeded)
  }
}
