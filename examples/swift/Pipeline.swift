import Weft

final class Order: Sendable {  // a class instance, moved through channels by reference
  let id: Int
  let cents: Int
  init(id: Int, cents: Int) { (self.id, self.cents) = (id, cents) }
}

/// A three-stage pipeline: generate -> price (4 workers) -> total. Each stage
/// closes its output when done; the last one is a plain thread ranging over it.
func pipelineExample(_ test: Bool) throws -> Bool {
  let orders = test ? 2_000 : 100_000
  let incoming = Chan<Int>(capacity: 64)
  let priced = Chan<Order>(capacity: 64)
  let workers = WaitGroup()
  try go {
    for id in 0..<orders { try! incoming.send(id) }
    incoming.close()
  }
  for _ in 0..<4 {
    try workers.go {
      for id in incoming { try! priced.send(Order(id: id, cents: id % 100)) }
    }
  }
  try go {
    try workers.wait()
    priced.close()
  }
  var total = 0
  var count = 0
  for order in priced {  // the main thread blocks on the channel; tasks park
    total += order.cents
    count += 1
  }
  let expected = (0..<orders).reduce(0) { $0 + $1 % 100 }
  print("priced \(count) orders, total \(total) cents (expected \(expected))")
  return count == orders && total == expected
}
