import Weft

/// Fan-out: one channel of jobs read by 8 tasks; fan-in: their results merged
/// into one channel, closed when the last worker is done.
func fanOutFanInExample(_ test: Bool) throws -> Bool {
  let n = test ? 1_000 : 100_000
  let jobs = Chan<Int>(capacity: 128)
  let results = Chan<(worker: Int, square: Int)>(capacity: 128)
  let workers = WaitGroup()
  for worker in 0..<8 {
    try workers.go {
      for job in jobs { try! results.send((worker, job * job)) }
    }
  }
  try go {
    for job in 0..<n { try! jobs.send(job) }
    jobs.close()
  }
  try go {
    try workers.wait()
    results.close()
  }
  var sum = 0
  var byWorker = [Int](repeating: 0, count: 8)
  for result in results {
    sum += result.square
    byWorker[result.worker] += 1
  }
  let expected = (0..<n).reduce(0) { $0 + $1 * $1 }
  print("sum of squares \(sum) (expected \(expected)), jobs per worker \(byWorker)")
  return sum == expected && byWorker.reduce(0, +) == n
}
