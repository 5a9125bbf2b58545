// A client of the Weft package built with default exclusivity checking.
//
//   client            park inside open accesses on two workers; prints N passed, N failed
//   client overlap    a task opens an access, parks, resumes and overlaps it: the
//                     Swift runtime must still catch that (the process traps)
import Glibc
import Weft

final class Ledger: @unchecked Sendable {
  var account = Account()
}

struct Account {
  var balance = 0
  /// A mutating method on a class property: `ledger.account.absorb(from:)` holds
  /// a modify access to `ledger.account` while it parks in receive.
  mutating func absorb(from chan: Chan<Int>) throws(WeftError) {
    while let amount = try chan.receive() { balance += amount }
  }

  mutating func absorbThenPeek(from chan: Chan<Int>, peek: () -> Int) throws(WeftError) {
    while let amount = try chan.receive() { balance += amount }
    balance += peek()  // reads ledger.account inside the open modify: a conflict
  }
}

if CommandLine.arguments.dropFirst().first == "overlap" {
  let ledger = Ledger()
  let chan = Chan<Int>()
  let finished = WaitGroup()
  try finished.add(1)
  try go {
    try! ledger.account.absorbThenPeek(from: chan) { ledger.account.balance }
    try? finished.done()
  }
  try go {
    for i in 1...100 { try! chan.send(i); Scheduler.yield() }
    _ = chan.close()
  }
  try finished.wait()
  print("overlap NOT caught")
} else {
  let n = 16
  let ledgers = (0..<n).map { _ in Ledger() }
  let chans = (0..<n).map { _ in Chan<Int>() }
  let finished = WaitGroup()
  for i in 0..<n {
    try finished.add(1)
    let ledger = ledgers[i], chan = chans[i]
    try go {
      try! ledger.account.absorb(from: chan)
      try? finished.done()
    }
    try go {
      for amount in 1...5_000 {
        try! chan.send(amount)
        if amount % 3 == 0 { Scheduler.yield() }  // let tasks migrate between workers
      }
      _ = chan.close()
    }
  }
  try finished.wait()
  var passed = 0
  var failed = 0
  for (i, ledger) in ledgers.enumerated() {
    if ledger.account.balance == 5_000 * 5_001 / 2 {
      passed += 1
    } else {
      failed += 1
      print("FAIL: ledger \(i) holds \(ledger.account.balance)")
    }
  }
  print("\(passed) passed, \(failed) failed")
  if failed > 0 { exit(1) }
}
