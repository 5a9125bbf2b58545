// Must NOT compile (run.sh checks each diagnostic): what Weft's Swift face
// rejects at compile time under Swift 6.
import Weft

final class Unshared {  // a non-Sendable class
  var count = 0
}

func nonSendableElement() throws {
  let chan = Chan<Unshared>()
  try go { chan.send(Unshared()) }  // REJECT: capture of 'chan' with non-Sendable type
}

func sharedMutableCapture() throws {
  var total = 0
  try go { total += 1 }  // REJECT: mutation of captured var 'total' in concurrently-executing code
  _ = total
}

func blockingInAsync(_ chan: Chan<Int>) async throws {
  try Scheduler.sleep(for: .milliseconds(1))  // REJECT: blocking form unavailable from asynchronous contexts
  _ = chan
}

func oldErrorConvention(_ mutex: Weft.Mutex) {
  if let error = mutex.unlock() { print(error) }  // REJECT: no WeftError?-returning forms (typed throws only)
}
