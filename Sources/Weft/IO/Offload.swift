import Glibc
import Synchronization

/// The blocking-offload pool (Go's syscall hand-off, Tokio's spawn_blocking):
/// a function that would block its worker (getaddrinfo, file I/O, a legacy
/// blocking library) runs on one of a bounded set of OS threads while the
/// caller parks.
///
/// Threads start on demand up to `RuntimeConfig.offloadThreads` and then stay;
/// jobs queue FIFO beyond that. A job runs exactly once, to the end, even when
/// its caller stopped waiting (deadline, context, shutdown): a wait that fails
/// only detaches the caller.
///
/// Lock rules: `Pool.mutex` guards the queue and the thread counts (a pthread
/// mutex: pool threads sleep on its condition). `Job.lock` guards `done`,
/// `waiter` (the parked caller, if any) and is the waitQueued lock.
public enum Offload {
  final class Job: @unchecked Sendable {
    let body: () -> Void
    let lock = SpinLock()
    var done = false
    var waiter: WaiterRef? = nil
    init(_ body: @escaping () -> Void) { self.body = body }
  }

  final class Pool: @unchecked Sendable {
    let limit: Int
    var mutex = pthread_mutex_t()
    var cond = pthread_cond_t()
    var queue: [Job] = []
    var head = 0
    var threads = 0
    var idle = 0

    init(limit: Int) {
      self.limit = limit
      pthread_mutex_init(&mutex, nil)
      pthread_cond_init(&cond, nil)
    }

    func submit(_ job: Job) -> WeftError? {
      pthread_mutex_lock(&mutex)
      queue.append(job)
      var spawn = false
      if idle == 0 && threads < limit {
        threads += 1
        spawn = true
      } else {
        pthread_cond_signal(&cond)
      }
      pthread_mutex_unlock(&mutex)
      guard spawn else { return nil }
      var thread = pthread_t()
      let me = Unmanaged.passRetained(self).toOpaque()
      let rc = pthread_create(&thread, nil, { raw in
        let pool = Unmanaged<Pool>.fromOpaque(raw!).takeRetainedValue()
        pool.serve()
        return nil
      }, me)
      if rc != 0 {
        Unmanaged<Pool>.fromOpaque(me).release()
        pthread_mutex_lock(&mutex)
        threads -= 1
        let stranded = threads == 0
        pthread_mutex_unlock(&mutex)
        // With no thread at all nothing would ever run the job: refuse it.
        if stranded {
          pthread_mutex_lock(&mutex)
          queue.removeAll { $0 === job }
          pthread_mutex_unlock(&mutex)
          return .noMemory
        }
        return nil
      }
      pthread_detach(thread)
      return nil
    }

    private func serve() -> Never {
      while true {
        pthread_mutex_lock(&mutex)
        while head == queue.count {
          idle += 1
          pthread_cond_wait(&cond, &mutex)
          idle -= 1
        }
        let job = queue[head]
        head += 1
        if head > 64 && head * 2 > queue.count {
          queue.removeFirst(head)
          head = 0
        }
        pthread_mutex_unlock(&mutex)
        job.body()
        job.lock.lock()
        job.done = true
        if let waiter = job.waiter, waiter.pointee.parker.tryClaim(waiter.pointee.caseIndex) {
          job.waiter = nil
          job.lock.unlock()
          waiter.pointee.parker.wake()
        } else {
          job.lock.unlock()
        }
      }
    }
  }

  private static let poolLock = SpinLock()
  nonisolated(unsafe) private static var shared: Pool? = nil

  private static func pool() -> Pool {
    poolLock.lock()
    defer { poolLock.unlock() }
    if let shared { return shared }
    let limit = Runtime.shared?.config.offloadThreads ?? RuntimeConfig.defaultOffloadThreads
    let pool = Pool(limit: limit)
    shared = pool
    return pool
  }

  /// Runs body on a pool thread and waits (parks a task, blocks a thread) for it
  /// to return, until the deadline or the context ends: then the caller gets
  /// the error and body still runs to its end on its thread.
  package static func coreRun(deadline: Int64 = noDeadline, context: Context? = nil, _ body: @escaping () -> Void) -> WeftError? {
    if Runtime.isStopping { return .shutdown }
    if let error = context?.error { return error }
    if deadline != noDeadline && deadline <= monotonicNow() { return .timedOut }
    let job = Job(body)
    if let error = pool().submit(job) { return error }
    return ParkerRef.with { parker in
      job.lock.lock()
      if job.done {
        job.lock.unlock()
        return nil
      }
      return parker.waitQueued(
        lock: job.lock, deadline: deadline, context: context, reason: "offload",
        enqueue: { job.waiter = $0 }, leave: { _ in job.waiter = nil }
      ).error
    }
  }
}
