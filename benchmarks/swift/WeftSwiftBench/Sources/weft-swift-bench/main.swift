// Weft's Swift face beside Swift Concurrency, in one process: every row runs
// RUNS times (default 5) round-robin and reports the median ns per operation as
// one JSON line (benchmarks/swift/run.sh makes the table).
//
//   weft-swift-bench [row ...]      rows: see `rows` below; none = all
import AsyncAlgorithms
import Glibc
import Synchronization
import Weft

func now() -> Int64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

func check(_ ok: Bool, _ what: @autoclosure () -> String) {
  if !ok {
    print("VERIFY FAILED: \(what())")
    exit(1)
  }
}

/// Runs body on a Swift Task and blocks the calling (main) thread until it ends.
func blockOn(_ body: @escaping @Sendable () async -> Void) {
  let box = DoneBox()
  Task.detached {
    await body()
    box.flag.store(true, ordering: .releasing)
  }
  while !box.flag.load(ordering: .acquiring) { usleep(50) }
}

final class DoneBox: Sendable { let flag = Atomic<Bool>(false) }

// MARK: - Weft rows (go {} tasks, blocking forms)

/// Chan<Int> ping-pong between two go {} tasks: ns per round trip.
func weftPingPong(_ n: Int) -> Int64 {
  let ping = Chan<Int>()
  let pong = Chan<Int>()
  let t0 = now()
  let main = try! go { () throws(WeftError) -> Void in
    try go {
      while let v = try! ping.receive() { try! pong.send(v + 1) }
    }
    for i in 0..<n {
      try ping.send(i)
      let w = try pong.receive()
      check(w == i + 1, "round trip \(i)")
    }
    ping.close()
  }
  try! main.wait()
  return (now() - t0) / Int64(n)
}

/// 1e6 Ints through Chan<Int>(capacity: 1024) from one go {} task to another.
func weftBuffered(_ n: Int) -> Int64 {
  let chan = Chan<Int>(capacity: 1024)
  let t0 = now()
  try! go {
    for i in 0..<n { try! chan.send(i) }
    chan.close()
  }
  let consumer = try! go { () -> Int in
    var sum = 0
    for v in chan { sum &+= v }
    return sum
  }
  let sum = try! consumer.wait()
  check(sum == n * (n - 1) / 2, "buffered sum")
  return (now() - t0) / Int64(n)
}

/// n go {} tasks, each bumping a counter; the spawner waits for all of them.
func weftSpawn(_ n: Int) -> Int64 {
  let group = WaitGroup()
  let count = Counter()
  let t0 = now()
  let spawner = try! go {
    try! group.add(n)
    for _ in 0..<n {
      try! go {
        count.bump()
        try? group.done()
      }
    }
    try! group.wait()
  }
  try! spawner.wait()
  check(count.value.load(ordering: .relaxed) == n, "spawned \(n)")
  return (now() - t0) / Int64(n)
}

final class Counter: Sendable {
  let value = Atomic<Int>(0)
  func bump() { value.add(1, ordering: .relaxed) }
}

// MARK: - Swift Concurrency peers

func asyncChannelPingPong(_ n: Int) -> Int64 {
  let ping = AsyncChannel<Int>()
  let pong = AsyncChannel<Int>()
  let t0 = now()
  blockOn {
    let echo = Task {
      for await v in ping { await pong.send(v + 1) }
    }
    var it = pong.makeAsyncIterator()
    for i in 0..<n {
      await ping.send(i)
      let w = await it.next()
      check(w == i + 1, "round trip \(i)")
    }
    ping.finish()
    await echo.value
  }
  return (now() - t0) / Int64(n)
}

func asyncStreamPingPong(_ n: Int) -> Int64 {
  let (ping, pingIn) = AsyncStream<Int>.makeStream()
  let (pong, pongIn) = AsyncStream<Int>.makeStream()
  let t0 = now()
  blockOn {
    let echo = Task {
      for await v in ping { pongIn.yield(v + 1) }
      pongIn.finish()
    }
    var it = pong.makeAsyncIterator()
    for i in 0..<n {
      pingIn.yield(i)
      let w = await it.next()
      check(w == i + 1, "round trip \(i)")
    }
    pingIn.finish()
    await echo.value
  }
  return (now() - t0) / Int64(n)
}

func asyncStreamBuffered(_ n: Int) -> Int64 {
  let (stream, input) = AsyncStream<Int>.makeStream(bufferingPolicy: .unbounded)
  let t0 = now()
  blockOn {
    let producer = Task {
      for i in 0..<n { input.yield(i) }
      input.finish()
    }
    var sum = 0
    for await v in stream { sum &+= v }
    await producer.value
    check(sum == n * (n - 1) / 2, "stream sum")
  }
  return (now() - t0) / Int64(n)
}

func taskGroupSpawn(_ n: Int) -> Int64 {
  let count = Counter()
  let t0 = now()
  blockOn {
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<n { group.addTask { count.bump() } }
    }
  }
  check(count.value.load(ordering: .relaxed) == n, "task group")
  return (now() - t0) / Int64(n)
}

func discardingTaskGroupSpawn(_ n: Int) -> Int64 {
  let count = Counter()
  let t0 = now()
  blockOn {
    await withDiscardingTaskGroup { group in
      for _ in 0..<n { group.addTask { count.bump() } }
    }
  }
  check(count.value.load(ordering: .relaxed) == n, "discarding task group")
  return (now() - t0) / Int64(n)
}

// MARK: - Swift Tasks through Weft's async bridge

/// Chan<Int> ping-pong between two Swift Tasks (async send/receive).
func bridgePingPong(_ n: Int) -> Int64 {
  let ping = Chan<Int>()
  let pong = Chan<Int>()
  let t0 = now()
  blockOn {
    let echo = Task {
      while let v = try! await ping.receive() { try! await pong.send(v + 1) }
    }
    for i in 0..<n {
      try! await ping.send(i)
      let w = try! await pong.receive()
      check(w == i + 1, "round trip \(i)")
    }
    ping.close()
    await echo.value
  }
  return (now() - t0) / Int64(n)
}

let asyncBridgeRows = [
  Row(key: "pingpong Swift Tasks", impl: "weft Chan<Int> async", n: 50_000, run: bridgePingPong),
  Row(key: "pingpong Swift Tasks", impl: "AsyncChannel", n: 50_000, run: asyncChannelPingPong),
]

// MARK: - Driver

struct Row {
  let key: String
  let impl: String
  let n: Int
  let run: (Int) -> Int64
}

var rows: [Row] = [
  Row(key: "pingpong", impl: "weft Chan<Int> go{}", n: 200_000, run: weftPingPong),
  Row(key: "pingpong", impl: "AsyncChannel", n: 50_000, run: asyncChannelPingPong),
  Row(key: "pingpong", impl: "AsyncStream pair", n: 50_000, run: asyncStreamPingPong),
  Row(key: "spawn 100k", impl: "weft go{}", n: 100_000, run: weftSpawn),
  Row(key: "spawn 100k", impl: "TaskGroup", n: 100_000, run: taskGroupSpawn),
  Row(key: "spawn 100k", impl: "DiscardingTaskGroup", n: 100_000, run: discardingTaskGroupSpawn),
  Row(key: "buffered 1e6", impl: "weft Chan<Int>(1024)", n: 1_000_000, run: weftBuffered),
  Row(key: "buffered 1e6", impl: "AsyncStream", n: 1_000_000, run: asyncStreamBuffered),
]
rows += asyncBridgeRows

let wanted = Set(CommandLine.arguments.dropFirst())
let runs = Int(String(cString: getenv("RUNS") ?? strdup("5"))) ?? 5
let selected = rows.filter { wanted.isEmpty || wanted.contains($0.key) || wanted.contains($0.impl) }
var samples = [[Int64]](repeating: [], count: selected.count)
for _ in 0..<runs {
  for (i, row) in selected.enumerated() { samples[i].append(row.run(row.n)) }
}
for (i, row) in selected.enumerated() {
  let sorted = samples[i].sorted()
  let median = sorted[sorted.count / 2]
  print(
    "{\"key\": \"\(row.key)\", \"impl\": \"\(row.impl)\", \"n\": \(row.n), \"ns_per_op\": \(median), \"samples\": \(sorted)}"
  )
}
