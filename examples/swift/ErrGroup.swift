import Weft

struct FetchError: Error { let id: Int }

/// errgroup: 10 fetches in a group of at most 3 at once; fetch 6 fails, which
/// cancels the group's context: fetches still waiting give up.
func errGroupExample(_ test: Bool) throws -> Bool {
  let group = ErrGroup(limit: 3)
  let slow = Chan<Int>()  // never fed: a fetch waits on it until canceled
  let finished = Chan<Int>(capacity: 10)
  for id in 0..<10 {
    try group.go { ctx in
      if id == 6 { throw FetchError(id: id) }
      if id > 6 {
        _ = try slow.receive(context: ctx)  // canceled by 6's failure
      }
      try! finished.send(id)
    }
  }
  var failure: FetchError? = nil
  do { try group.wait() } catch { failure = error as? FetchError }
  finished.close()
  let done = Array(finished).sorted()
  print("first error: fetch \(failure.map { String($0.id) } ?? "none"); finished \(done)")
  return failure?.id == 6 && done == [0, 1, 2, 3, 4, 5] && group.context.isDone
}
