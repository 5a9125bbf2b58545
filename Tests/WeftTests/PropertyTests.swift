import Glibc
import Synchronization
import XCTest

@testable import Weft

/// Property tests for the pure structures: random operation sequences against
/// a simple model (an array, a sorted list, a deque), checked after every step.
///
/// Seeded and reproducible: each test runs a fixed list of seeds plus one fresh
/// seed per run; every failure message names the seed and the step. Re-run one
/// seed with `WEFT_PROP_SEED=<n> swift test --filter PropertyTests`; make the
/// runs longer with `WEFT_PROP_STEPS=<n>`.
struct SplitMix64 {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  /// 0 ..< n (n > 0).
  mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
  mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

enum Property {
  static var seeds: [UInt64] {
    if let text = getenv("WEFT_PROP_SEED"), let seed = UInt64(String(cString: text)) { return [seed] }
    var fresh = UInt64(bitPattern: monotonicNow()) ^ UInt64(UInt32(bitPattern: getpid())) << 32
    if fresh == 0 { fresh = 1 }
    return [1, 2, 3, 0xDEAD_BEEF, 20_261_202, fresh]
  }

  static var steps: Int {
    if let text = getenv("WEFT_PROP_STEPS"), let n = Int(String(cString: text)), n > 0 { return n }
    return 2000
  }

  /// Runs body once per seed; body gets a generator and a function that builds
  /// failure messages naming the seed and step.
  static func check(
    _ name: String, file: StaticString = #filePath, line: UInt = #line,
    _ body: (inout SplitMix64, inout Trace) -> Void
  ) {
    for seed in seeds {
      var random = SplitMix64(seed: seed)
      var trace = Trace(name: name, seed: seed)
      body(&random, &trace)
      if trace.failures > 0 {
        print("\(name): FAILED with seed \(seed) (re-run: WEFT_PROP_SEED=\(seed))")
      }
    }
  }
}

/// The current step and the recent operations, for failure messages.
struct Trace {
  let name: String
  let seed: UInt64
  var step = 0
  var recent: [String] = []
  var failures = 0

  mutating func op(_ text: String) {
    step += 1
    recent.append(text)
    if recent.count > 12 { recent.removeFirst() }
  }

  /// Records a failure (at most a few per seed, so one bug does not flood).
  mutating func expect(
    _ condition: @autoclosure () -> Bool, _ what: @autoclosure () -> String,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    if condition() { return }
    failures += 1
    if failures > 3 { return }
    XCTFail(
      "\(name) seed \(seed) step \(step): \(what())\n  last ops: \(recent.joined(separator: "; "))",
      file: file, line: line)
  }
}

/// Parkers and waiters in raw memory, freed at the end of a test.
final class WaiterPool {
  private var parkers: [ParkerRef] = []
  private var waiters: [WaiterRef] = []
  private var cells: [UnsafeMutablePointer<Int>] = []

  func parker() -> ParkerRef {
    let parker = ParkerRef.allocate(capacity: 1)
    parker.initialize(to: Parker(task: nil, signal: nil))
    parkers.append(parker)
    return parker
  }

  func waiter(parker: ParkerRef? = nil, caseIndex: Int = 0, value: Int = 0) -> WaiterRef {
    let cell = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    cell.initialize(to: value)
    cells.append(cell)
    let waiter = WaiterRef.allocate(capacity: 1)
    waiter.initialize(to: Waiter(parker: parker ?? self.parker(), elem: UnsafeMutableRawPointer(cell), caseIndex: caseIndex))
    waiters.append(waiter)
    return waiter
  }

  deinit {
    for w in waiters { w.deallocate() }
    for c in cells { c.deallocate() }
    for p in parkers {
      p.deinitialize(count: 1)
      p.deallocate()
    }
  }
}

extension WaitQueue {
  /// The queue front to back, through the links (checks them on the way).
  func walk(_ trace: inout Trace) -> [WaiterRef] {
    var out: [WaiterRef] = []
    var previous: WaiterRef? = nil
    var node = head
    while let w = node {
      trace.expect(w.pointee.prev == previous, "prev link of queued waiter is wrong")
      trace.expect(w.pointee.queued, "a linked waiter is not marked queued")
      out.append(w)
      previous = w
      node = w.pointee.next
      if out.count > 100_000 {
        trace.expect(false, "queue links form a cycle")
        break
      }
    }
    trace.expect(out.count == count, "count \(count) but \(out.count) linked")
    return out
  }
}

final class PropertyTests: XCTestCase {
  /// A timeout (or a select's other case) claims one of the queued waiters.
  private static func claimElsewhere(
    _ waiters: [WaiterRef], _ random: inout SplitMix64, _ trace: inout Trace, _ label: String
  ) {
    guard !waiters.isEmpty else { return }
    trace.op(label)
    _ = waiters[random.below(waiters.count)].pointee.parker.tryClaim(Parker.timedOut)
  }

  // MARK: - WaitQueue

  /// enqueue / enqueueFront / remove / dequeueClaiming / pruneClaimed / a claim
  /// from elsewhere, against an array.
  func testWaitQueueAgainstAnArray() {
    Property.check("WaitQueue") { random, trace in
      let pool = WaiterPool()
      var queue = WaitQueue()
      var model: [WaiterRef] = []
      var everQueued: [WaiterRef] = []
      for _ in 0..<Property.steps {
        switch random.below(7) {
        case 0, 1:
          let w = pool.waiter()
          trace.op("enqueue")
          queue.enqueue(w)
          model.append(w)
          everQueued.append(w)
        case 2:
          let w = pool.waiter()
          trace.op("enqueueFront")
          queue.enqueueFront(w)
          model.insert(w, at: 0)
          everQueued.append(w)
        case 3:
          // remove: a queued waiter, or one that already left (a no-op).
          guard !everQueued.isEmpty else { continue }
          let w = everQueued[random.below(everQueued.count)]
          trace.op("remove(queued: \(w.pointee.queued))")
          queue.remove(w)
          model.removeAll { $0 == w }
          trace.expect(!w.pointee.queued, "removed waiter still marked queued")
        case 4:
          trace.op("dequeueClaiming")
          let got = queue.dequeueClaiming()
          // The model: drop claimed waiters from the front, claim the first live one.
          var expected: WaiterRef? = nil
          while let first = model.first {
            model.removeFirst()
            if first.pointee.parker.claimed == first.pointee.caseIndex, first == got {
              expected = first
              break
            }
          }
          trace.expect(got == expected, "dequeueClaiming returned the wrong waiter")
          if let got {
            trace.expect(!got.pointee.queued, "a dequeued waiter is still marked queued")
            trace.expect(got.pointee.parker.claimed == got.pointee.caseIndex, "dequeued without a claim")
          }
        case 5:
          PropertyTests.claimElsewhere(model, &random, &trace, "claim elsewhere")
        default:
          trace.op("pruneClaimed")
          queue.pruneClaimed()
          while let first = model.first, first.pointee.parker.claimed != Parker.unclaimed { model.removeFirst() }
          if let head = queue.head {
            trace.expect(head.pointee.parker.claimed == Parker.unclaimed, "head is claimed after pruneClaimed")
          }
        }
        let linked = queue.walk(&trace)
        trace.expect(linked == model, "queue order differs from the model")
        trace.expect(queue.isEmpty == model.isEmpty, "isEmpty wrong")
        let members = trace.step % 64 == 0 ? Set(model) : []
        for w in everQueued where trace.step % 64 == 0 && !members.contains(w) {
          trace.expect(!w.pointee.queued, "a waiter out of the queue is marked queued")
        }
      }
      XCTAssertEqual(trace.failures, 0, "seed \(trace.seed)")
    }
  }

  // MARK: - ChannelStateMachine

  /// A queued channel waiter in the model: which channel, which side, the value
  /// (senders).
  private struct Queued {
    var waiter: WaiterRef
    var value: Int
  }

  /// One channel's model: Go's semantics as sequences. `buffer` holds the
  /// values in order; queued senders' values follow them.
  private struct ChannelModel {
    var capacity: Int
    var buffer: [Int] = []
    var slots: [Int]
    var closed = false
    var senders: [Queued] = []
    var receivers: [WaiterRef] = []
    init(capacity: Int) {
      self.capacity = capacity
      slots = Array(repeating: -1, count: capacity)
    }
  }

  private static func live(_ w: WaiterRef) -> Bool { w.pointee.parker.claimed == Parker.unclaimed }

  /// A receive on this channel would wait (a select may then queue a case on it).
  private func receiveBlocks(_ m: ChannelModel) -> Bool {
    m.buffer.isEmpty && !m.closed && !m.senders.contains { PropertyTests.live($0.waiter) }
  }

  /// Sends, receives, closes, parked senders and receivers (alone or as one
  /// select spanning both channels), waiters claimed elsewhere (a timeout) and
  /// their leaving, on two channels; the values the machine lets through are
  /// carried by the test as ChannelStorage would. Checks FIFO, exactly-once,
  /// no loss, the stated invariants and each decision against the model.
  func testChannelStateMachineAgainstAModel() {
    Property.check("ChannelStateMachine") { random, trace in
      let pool = WaiterPool()
      let capacities = [random.below(4), random.below(2) == 0 ? 0 : 1 + random.below(8)]
      trace.op("capacities \(capacities)")
      var machines = capacities.map { ChannelStateMachine(capacity: $0) }
      var models = capacities.map { ChannelModel(capacity: $0) }
      var nextValue = 0
      var delivered: [[Int]] = [[], []]  // per channel, in receive order
      var committed: [[Int]] = [[], []]  // per channel, in commit order
      // Waiters claimed with a case (not by a timeout) whose outcome we check.
      for _ in 0..<Property.steps {
        let c = random.below(2)
        switch random.below(10) {
        case 0, 1, 2:
          let value = nextValue
          nextValue += 1
          trace.op("send \(value) on \(c)")
          // The model decides before the machine claims anyone.
          let liveReceiver = models[c].receivers.firstIndex(where: PropertyTests.live)
          let action = machines[c].send()
          var m = models[c]
          if m.closed {
            trace.expect(action == .closed, "send on closed: \(action)")
          } else if m.buffer.isEmpty, let i = liveReceiver {
            let receiver = m.receivers[i]
            m.receivers.removeFirst(i + 1)
            trace.expect(action == .handOff(receiver), "expected hand-off to the first live receiver, got \(action)")
            if case .handOff(let w) = action {
              w.pointee.elem!.storeBytes(of: value, as: Int.self)
              committed[c].append(value)
              delivered[c].append(value)
            }
          } else if m.buffer.count < m.capacity {
            trace.expect(action == .buffer((machines[c].head + m.buffer.count) % m.capacity), "expected the tail slot, got \(action)")
            if case .buffer(let s) = action {
              m.slots[s] = value
              m.buffer.append(value)
              committed[c].append(value)
            }
          } else {
            trace.expect(action == .wouldBlock, "expected wouldBlock, got \(action)")
            if action == .wouldBlock, random.chance(70) {
              // Park: alone, or as a select that also receives on the other channel.
              let w = pool.waiter(caseIndex: 0, value: value)
              machines[c].senders.enqueue(w)
              m.senders.append(Queued(waiter: w, value: value))
              if random.chance(30), receiveBlocks(models[1 - c]) {
                let other = pool.waiter(parker: w.pointee.parker, caseIndex: 1)
                machines[1 - c].receivers.enqueue(other)
                models[1 - c].receivers.append(other)
              }
            }
          }
          // Dead receivers the machine dropped on the way are gone from its queue.
          m.receivers.removeAll { !$0.pointee.queued }
          models[c] = m
        case 3, 4, 5:
          trace.op("receive on \(c)")
          let liveSender = models[c].senders.firstIndex { PropertyTests.live($0.waiter) }
          let action = machines[c].receive()
          var m = models[c]
          if !m.buffer.isEmpty {
            let value = m.buffer.removeFirst()
            let slot = machines[c].head == 0 ? m.capacity - 1 : machines[c].head - 1  // head moved past it
            trace.expect(m.slots[slot] == value, "slot \(slot) holds \(m.slots[slot]), expected \(value)")
            delivered[c].append(m.slots[slot])
            if m.buffer.count + 1 == m.capacity, let i = liveSender {
              let sender = m.senders[i]
              m.senders.removeFirst(i + 1)
              trace.expect(action == .takeAndRefill(slot, sender.waiter), "expected take-and-refill, got \(action)")
              if case .takeAndRefill(let s, let w) = action {
                let v = w.pointee.elem!.load(as: Int.self)
                trace.expect(v == sender.value, "refill value")
                m.slots[s] = v
                m.buffer.append(v)
                committed[c].append(v)
              }
            } else {
              trace.expect(action == .take(slot), "expected take(\(slot)), got \(action)")
            }
          } else if m.closed {
            trace.expect(action == .closed, "expected closed, got \(action)")
          } else if let i = liveSender {
            let sender = m.senders[i]
            m.senders.removeFirst(i + 1)
            trace.expect(action == .handOff(sender.waiter), "expected hand-off from the first live sender, got \(action)")
            if case .handOff(let w) = action {
              let v = w.pointee.elem!.load(as: Int.self)
              committed[c].append(v)
              delivered[c].append(v)
            }
          } else {
            trace.expect(action == .wouldBlock, "expected wouldBlock, got \(action)")
            if action == .wouldBlock, random.chance(70) {
              let w = pool.waiter(caseIndex: 0, value: -1)
              machines[c].receivers.enqueue(w)
              m.receivers.append(w)
              if random.chance(30), receiveBlocks(models[1 - c]) {
                let other = pool.waiter(parker: w.pointee.parker, caseIndex: 1)
                machines[1 - c].receivers.enqueue(other)
                models[1 - c].receivers.append(other)
              }
            }
          }
          m.senders.removeAll { !$0.waiter.pointee.queued }
          models[c] = m
        case 6:
          guard random.chance(10) else { continue }
          trace.op("close \(c)")
          let first = machines[c].close()
          trace.expect(first == !models[c].closed, "close returned \(first)")
          models[c].closed = true
          // ChannelStorage claims and wakes every queued waiter with "closed".
          while let w = machines[c].receivers.dequeueClaiming() { w.pointee.result = -1 }
          while let w = machines[c].senders.dequeueClaiming() { w.pointee.result = -1 }
          models[c].receivers.removeAll()
          models[c].senders.removeAll()
        case 7, 8:
          // A timeout or the other case of a select claims a queued waiter.
          let all = models[c].receivers + models[c].senders.map(\.waiter)
          PropertyTests.claimElsewhere(all, &random, &trace, "claim elsewhere on \(c)")
        default:
          // The parked side leaves: removes its dead waiters from both queues.
          trace.op("leave on \(c)")
          for k in 0..<2 {
            for w in models[k].receivers where !PropertyTests.live(w) { machines[k].receivers.remove(w) }
            for q in models[k].senders where !PropertyTests.live(q.waiter) { machines[k].senders.remove(q.waiter) }
            models[k].receivers.removeAll { !$0.pointee.queued }
            models[k].senders.removeAll { !$0.waiter.pointee.queued }
          }
        }
        for k in 0..<2 {
          let machine = machines[k]
          let model = models[k]
          trace.expect(machine.count == model.buffer.count, "channel \(k): count \(machine.count), model \(model.buffer.count)")
          trace.expect(machine.count >= 0 && machine.count <= machine.capacity, "count out of range")
          trace.expect(machine.closed == model.closed, "closed flag")
          let receivers = machine.receivers.walk(&trace)
          let senders = machine.senders.walk(&trace)
          trace.expect(receivers == model.receivers, "channel \(k): receiver queue differs from the model")
          trace.expect(senders == model.senders.map(\.waiter), "channel \(k): sender queue differs from the model")
          // The header's invariants, for live waiters.
          if receivers.contains(where: PropertyTests.live) {
            trace.expect(machine.count == 0, "a live receiver is queued while count is \(machine.count)")
          }
          if senders.contains(where: PropertyTests.live) {
            trace.expect(machine.count == machine.capacity, "a live sender is queued while not full")
            trace.expect(!machine.closed, "a live sender is queued on a closed channel")
          }
          // Values come out in the order they went in, each once.
          trace.expect(delivered[k] == Array(committed[k].prefix(delivered[k].count)), "channel \(k): out of order or duplicated")
          trace.expect(committed[k].count - delivered[k].count == model.buffer.count, "channel \(k): a value was lost")
        }
      }
      XCTAssertEqual(trace.failures, 0, "seed \(trace.seed)")
    }
  }

  // MARK: - TimerHeap

  /// insert / remove (any member, or one already out) / pop the minimum, with
  /// many equal deadlines, against a plain list.
  func testTimerHeapAgainstASortedList() throws {
    guard let runtime = Runtime.current() else { throw XCTSkip("no runtime") }
    let owner = runtime.workers[0]
    let noop: TimerCallback = { _ in }
    Property.check("TimerHeap") { random, trace in
      var heap = TimerHeap()
      var model: [TimerRef] = []
      var all: [TimerRef] = []
      defer {
        for t in all {
          t.deinitialize(count: 1)
          t.deallocate()
        }
      }
      let spread = [4, 100, 1 << 40][random.below(3)]
      for _ in 0..<Property.steps {
        switch random.below(8) {
        case 0, 1, 2, 3:
          let t = TimerRef.allocate(capacity: 1)
          t.initialize(
            to: TimerEntry(owner: owner, deadline: Int64(random.below(spread)), period: 0, fire: noop, target: nil, dispose: nil))
          all.append(t)
          trace.op("insert \(t.pointee.deadline)")
          heap.insert(t)
          model.append(t)
        case 4, 5:
          guard !all.isEmpty else { continue }
          let t = all[random.below(all.count)]
          trace.op("remove (in heap: \(t.pointee.heapIndex >= 0))")
          heap.remove(t)
          model.removeAll { $0 == t }
        default:
          trace.op("pop min")
          if let first = heap.min {
            trace.expect(first.pointee.deadline == model.map { $0.pointee.deadline }.min(), "min is not the earliest")
            heap.remove(first)
            model.removeAll { $0 == first }
          } else {
            trace.expect(model.isEmpty, "heap empty, model not")
          }
        }
        trace.expect(heap.count == model.count, "count \(heap.count), model \(model.count)")
        if let first = heap.min {
          trace.expect(first.pointee.deadline == model.map { $0.pointee.deadline }.min(), "min is not the earliest")
        } else {
          trace.expect(model.isEmpty, "min nil with timers in the heap")
        }
        var seen = Set<Int32>()
        let members = trace.step % 64 == 0 ? Set(model) : []
        for t in all where trace.step % 64 == 0 {
          let inModel = members.contains(t)
          let index = t.pointee.heapIndex
          trace.expect(inModel == (index >= 0), "heapIndex \(index) for a timer \(inModel ? "in" : "out of") the heap")
          if index >= 0 {
            trace.expect(Int(index) < heap.count && seen.insert(index).inserted, "heapIndex \(index) out of range or shared")
          }
        }
      }
      // Draining gives the deadlines in order.
      var drained: [Int64] = []
      while let first = heap.min {
        drained.append(first.pointee.deadline)
        heap.remove(first)
      }
      trace.expect(drained == model.map { $0.pointee.deadline }.sorted(), "draining is not sorted")
      XCTAssertEqual(trace.failures, 0, "seed \(trace.seed)")
    }
  }

  // MARK: - LocalRunQueue

  private final class FakeTasks {
    var tasks: [TaskRef] = []
    func make(_ n: Int) {
      for i in 0..<n {
        let t = TaskRef.allocate(capacity: 1)
        t.initialize(to: TaskRecord())
        t.pointee.id = UInt64(i)
        tasks.append(t)
      }
    }
    deinit {
      for t in tasks {
        t.deinitialize(count: 1)
        t.deallocate()
      }
    }
  }

  /// push / pop / takeHalf / steal between three rings, one thread, against
  /// deques: exact order, capacity, counts.
  func testLocalRunQueueAgainstDeques() {
    Property.check("LocalRunQueue") { random, trace in
      let fake = FakeTasks()
      fake.make(4096)
      var free = fake.tasks
      let rings = UnsafeMutablePointer<LocalRunQueue>.allocate(capacity: 3)
      for r in 0..<3 { (rings + r).initialize(to: LocalRunQueue()) }
      defer {
        rings.deinitialize(count: 3)
        rings.deallocate()
      }
      var models: [[TaskRef]] = [[], [], []]
      // Start each ring at a random head so the indices wrap early.
      for r in 0..<3 {
        for _ in 0..<random.below(300) {
          _ = rings[r].push(free[0])
          _ = rings[r].pop()
        }
      }
      for _ in 0..<Property.steps {
        let r = random.below(3)
        switch random.below(10) {
        case 0, 1, 2, 3, 4:
          let burst = random.chance(10) ? 200 : 1
          for _ in 0..<burst {
            guard let t = free.popLast() else { break }
            trace.op("push on \(r)")
            let ok = rings[r].push(t)
            trace.expect(ok == (models[r].count < Int(LocalRunQueue.capacity)), "push returned \(ok) with \(models[r].count) queued")
            if ok { models[r].append(t) } else { free.append(t) }
          }
        case 5, 6:
          trace.op("pop on \(r)")
          let t = rings[r].pop()
          trace.expect(t == models[r].first, "pop returned the wrong task")
          if let t {
            models[r].removeFirst()
            free.append(t)
          }
        case 7:
          trace.op("takeHalf on \(r)")
          let got = rings[r].takeHalf()
          let n = models[r].count / 2
          if n == 0 {
            trace.expect(got == nil, "takeHalf of \(models[r].count) returned tasks")
          } else if let (first, last, count) = got {
            trace.expect(count == n, "takeHalf took \(count), expected \(n)")
            var chain: [TaskRef] = []
            var node: TaskRef? = first
            while let t = node, chain.count <= n {
              chain.append(t)
              node = t.pointee.next
            }
            trace.expect(chain == Array(models[r].prefix(n)), "takeHalf chain is not the oldest half in order")
            trace.expect(chain.last == last, "takeHalf's last is wrong")
            models[r].removeFirst(n)
            free += chain
          } else {
            trace.expect(false, "takeHalf returned nil with no thief")
          }
        default:
          let v = (r + 1 + random.below(2)) % 3
          guard models[r].isEmpty else { continue }  // a thief steals into an empty ring
          trace.op("steal \(v) -> \(r)")
          let got = rings[r].steal(from: rings[v])
          let n = models[v].count - models[v].count / 2
          if n == 0 {
            trace.expect(got == nil, "steal from an empty ring returned a task")
          } else if let (task, count) = got {
            let taken = Array(models[v].prefix(n))
            models[v].removeFirst(n)
            trace.expect(count == n, "stole \(count), expected \(n)")
            trace.expect(task == taken.last, "steal runs the newest of the stolen tasks")
            models[r] = Array(taken.dropLast())
            free.append(task)
          } else {
            trace.expect(false, "steal returned nil from a ring of \(models[v].count)")
          }
        }
        for k in 0..<3 {
          trace.expect(rings[k].count == models[k].count, "ring \(k): count \(rings[k].count), model \(models[k].count)")
          trace.expect(rings[k].isEmpty == models[k].isEmpty, "ring \(k): isEmpty")
        }
      }
      // Drain: what is left comes out in the model's order.
      for k in 0..<3 {
        var rest: [TaskRef] = []
        while let t = rings[k].pop() { rest.append(t) }
        trace.expect(rest == models[k], "ring \(k): drain order")
      }
      XCTAssertEqual(trace.failures, 0, "seed \(trace.seed)")
    }
  }

  /// The owner pushes and pops while two threads steal (each into its own ring,
  /// then pops it dry): every task is taken exactly once.
  func testLocalRunQueueStealsExactlyOnceUnderContention() {
    let total = 200_000
    let fake = FakeTasks()
    fake.make(4096)
    let victim = UnsafeMutablePointer<LocalRunQueue>.allocate(capacity: 1)
    victim.initialize(to: LocalRunQueue())
    defer { victim.deinitialize(count: 1); victim.deallocate() }
    let taken = UnsafeMutablePointer<Atomic<UInt8>>.allocate(capacity: total)
    for i in 0..<total { (taken + i).initialize(to: Atomic<UInt8>(0)) }
    defer { taken.deallocate() }
    // Each pushed task carries its sequence number in `id`; a task record is
    // reused only after it was taken (the pool of records is bigger than the ring).
    let inFlight = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: 1)
    inFlight.initialize(to: Atomic<Int>(0))
    defer { inFlight.deallocate() }
    let done = UnsafeMutablePointer<Atomic<Bool>>.allocate(capacity: 1)
    done.initialize(to: Atomic<Bool>(false))
    defer { done.deallocate() }
    let free = UnsafeMutablePointer<[TaskRef]>.allocate(capacity: 1)
    free.initialize(to: fake.tasks)
    defer { free.deinitialize(count: 1); free.deallocate() }
    let freeLock = SpinLock()

    func mark(_ t: TaskRef) {
      let seq = Int(t.pointee.id)
      let before = taken[seq].add(1, ordering: .relaxed).oldValue
      if before != 0 { XCTFail("task \(seq) taken twice") }
      inFlight.pointee.subtract(1, ordering: .relaxed)
      freeLock.lock()
      free.pointee.append(t)
      freeLock.unlock()
    }

    let thieves = (0..<2).map { _ in
      PlainThread {
        let mine = LocalRunQueue()
        while !done.pointee.load(ordering: .acquiring) {
          if let (task, _) = mine.steal(from: victim.pointee) {
            mark(task)
            while let t = mine.pop() { mark(t) }
          } else {
            sched_yield()
          }
        }
      }
    }
    for t in thieves { t.start() }
    var random = SplitMix64(seed: 7)
    var next = 0
    while next < total {
      freeLock.lock()
      let t = free.pointee.popLast()
      freeLock.unlock()
      guard let t else {
        if let got = victim.pointee.pop() { mark(got) }
        continue
      }
      t.pointee.id = UInt64(next)
      inFlight.pointee.add(1, ordering: .relaxed)
      if victim.pointee.push(t) {
        next += 1
      } else {
        inFlight.pointee.subtract(1, ordering: .relaxed)
        freeLock.lock()
        free.pointee.append(t)
        freeLock.unlock()
        if let got = victim.pointee.pop() { mark(got) }
      }
      if random.chance(40), let got = victim.pointee.pop() { mark(got) }
    }
    while let got = victim.pointee.pop() { mark(got) }
    done.pointee.store(true, ordering: .releasing)
    for t in thieves { t.join() }
    XCTAssertEqual(inFlight.pointee.load(ordering: .relaxed), 0, "tasks lost")
    var missing = 0
    for i in 0..<total where taken[i].load(ordering: .relaxed) != 1 { missing += 1 }
    XCTAssertEqual(missing, 0, "tasks not taken exactly once")
  }
}

/// A joinable plain thread for the concurrent property tests.
private final class PlainThread {
  private var handle = pthread_t()
  private let body: () -> Void
  init(_ body: @escaping () -> Void) { self.body = body }
  func start() {
    let box = Unmanaged.passRetained(self).toOpaque()
    pthread_create(&handle, nil, { raw in
      let me = Unmanaged<PlainThread>.fromOpaque(raw!).takeRetainedValue()
      me.body()
      return nil
    }, box)
  }
  func join() { pthread_join(handle, nil) }
}
