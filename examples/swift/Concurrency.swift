import Weft

/// Swift Concurrency and Weft together: Swift Tasks await the same channels go {}
/// tasks block on; a go {} task calls async code through runAsync; a Swift Task
/// awaits a go {} handle.
func concurrencyExample(_ test: Bool) throws -> Bool {
  let requests = Chan<Int>(capacity: 16)
  let replies = Chan<Int>(capacity: 16)
  // A Weft server task: blocking receive, parks between requests.
  let server = try go { () -> Int in
    var served = 0
    for n in requests {
      // Async code from a task: runs on Swift's executor, the task parks meanwhile.
      let doubled = runAsync { () async -> Int in
        await Task.yield()
        return n * 2
      }
      try! replies.send(doubled)
      served += 1
    }
    replies.close()
    return served
  }
  // Swift Tasks as clients: they suspend on the channels, no thread blocked.
  let clients = try go { () -> Int in
    runAsync {
      await withTaskGroup(of: Int.self) { group in
        for i in 1...10 { group.addTask { try! await requests.send(i); return i } }
        var sent = 0
        for await _ in group { sent += 1 }
        requests.close()
        var sum = 0
        while let reply = try! await replies.receive() { sum += reply }
        return sum + 0 * sent
      }
    }
  }
  let sum = clients.wait()
  let served = server.wait()
  print("10 Swift Tasks sent requests; the go {} server served \(served); doubled sum \(sum)")
  return sum == 110 && served == 10
}
