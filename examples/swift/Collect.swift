import Weft

/// Collect with partial success: ask 8 backends under one deadline; keep the
/// answers that came in time, report the rest as failures, never wait longer.
func collectExample(_ test: Bool) throws -> Bool {
  let deadline = try Context.withTimeout(.background, .milliseconds(30))
  let answers = Chan<(backend: Int, result: Result<String, WeftError>)>(capacity: 8)
  for backend in 0..<8 {
    try go {
      let delay = backend % 2 == 0 ? 1 : 200  // odd backends are too slow
      let result: Result<String, WeftError>
      do throws(WeftError) {
        _ = try Chan<Int>().receive(timeout: .milliseconds(delay), context: deadline)
        result = .success("?!")
      } catch .timedOut where !deadline.isDone {
        result = .success("answer \(backend)")  // its own work finished in time
      } catch {
        result = .failure(error)
      }
      try! answers.send((backend, result))
    }
  }
  var good: [Int] = []
  var failed: [Int] = []
  for _ in 0..<8 {
    let answer = try answers.receive()!
    switch answer.result {
    case .success: good.append(answer.backend)
    case .failure: failed.append(answer.backend)
    }
  }
  print("answered \(good.sorted()), failed \(failed.sorted())")
  return good.sorted() == [0, 2, 4, 6] && failed.sorted() == [1, 3, 5, 7]
}
