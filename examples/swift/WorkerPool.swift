import Synchronization
import Weft

/// A worker pool bounded by a semaphore: one task per job, at most 4 holding
/// a permit at once (the rest park in acquire, costing a parked task each).
func workerPoolExample(_ test: Bool) throws -> Bool {
  let jobs = test ? 200 : 10_000
  let permits = Semaphore(capacity: 4)
  let running = Atomic<Int>(0)
  let peak = Atomic<Int>(0)
  let done = WaitGroup()
  for _ in 0..<jobs {
    try done.go {
      permits.withPermit {
        let now = running.add(1, ordering: .relaxed).newValue
        _ = peak.max(now, ordering: .relaxed)
        Scheduler.yield()  // work that lets others run
        running.subtract(1, ordering: .relaxed)
      }
    }
  }
  try done.wait()
  let most = peak.load(ordering: .relaxed)
  print("\(jobs) jobs, at most \(most) at once (limit 4)")
  return most <= 4 && most >= 1
}
