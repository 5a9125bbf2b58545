// The Swift face of Weft: typed channels moving any Swift value, `go { }`
// closures, a WaitGroup and a context with a timeout.
//
//   swift run weft-swift-example            (--test: a short run that checks itself)
import Weft

final class Order: Sendable {  // a class instance, moved through a channel by reference
  let id: Int
  let cents: Int
  init(id: Int, cents: Int) { (self.id, self.cents) = (id, cents) }
}

let test = CommandLine.arguments.contains("--test")
let orders = test ? 2_000 : 100_000

// A three-stage pipeline: generate -> price (4 workers) -> total.
let incoming = Chan<Int>(capacity: 64)!
let priced = Chan<Order>(capacity: 64)!
let workers = WaitGroup()

try go {
  for id in 0..<orders { try! incoming.send(id) }
  _ = incoming.close()
}
for _ in 0..<4 {
  _ = workers.add(1)
  try go {
    for id in incoming { try! priced.send(Order(id: id, cents: id % 100)) }
    _ = workers.done()
  }
}
try go {
  _ = workers.wait()
  _ = priced.close()
}

var total = 0
var count = 0
for order in priced {  // the main thread blocks on the channel; tasks park
  total += order.cents
  count += 1
}
let expected = (0..<orders).reduce(0) { $0 + $1 % 100 }
print("priced \(count) orders, total \(total) cents (expected \(expected))")

// A context with a timeout reaching a task blocked on a channel nobody feeds.
let quiet = Chan<String>()!
let context = try Context.withTimeout(.background, timeout: 20_000_000)
let outcome = Chan<String>(capacity: 1)!
try go {
  do {
    _ = try quiet.receive(context: context)
    try! outcome.send("received?!")
  } catch {
    try! outcome.send("gave up: \(error)")
  }
}
let result = try outcome.receive() ?? "nothing"
print("blocked task \(result)")

let ok = count == orders && total == expected && result == "gave up: timedOut"
print(ok ? "ok" : "FAILED")
if !ok { fatalError("swift example failed") }
