import Weft

/// A context tree with a timeout: a request context with a deadline, a child
/// per sub-request; the deadline ends every sub-request blocked on a channel,
/// and select sees the context end beside a channel.
func contextTreeExample(_ test: Bool) throws -> Bool {
  let request = try Context.withTimeout(.background, .milliseconds(20))
  let nobody = Chan<String>()  // never fed: every sub-request waits until the deadline
  var handles: [GoTask<String, Never>] = []
  for i in 0..<3 {
    let sub = Context.withCancel(request)
    handles.append(
      try go { () -> String in
        do {
          _ = try nobody.receive(context: sub)
          return "sub \(i): answered?!"
        } catch {
          return "sub \(i): \(error)"
        }
      })
  }
  let outcomes = handles.map { $0.wait() }
  print(outcomes.joined(separator: ", "))

  // select on a channel and the context's end.
  let ticks = Chan<Int>(capacity: 1)
  let late = try Context.withTimeout(.background, .milliseconds(5))
  var ended = false
  try select { s in
    s.receive(from: ticks) { _ in }
    s.done(late) { ended = true }
  }
  print("select saw the context end: \(ended)")
  return outcomes.allSatisfy { $0.hasSuffix("timedOut") } && ended && request.error == .timedOut
}
