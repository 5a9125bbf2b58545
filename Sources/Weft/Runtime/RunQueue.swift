import Synchronization

/// A FIFO of runnable tasks linked through `TaskRecord.next`, under a lock: the
/// global injection queue (pushed by plain threads and by full local queues).
/// `count` is readable without the lock so idle workers can look for work
/// cheaply. The ends live in their own allocation and every method is
/// non-mutating: the queue is a `let` of the runtime that many threads use at
/// once, each touching the ends only under `lock`.
struct RunQueue: ~Copyable {
  private struct Ends {
    var head: TaskRef? = nil
    var tail: TaskRef? = nil
  }

  private let lock = SpinLock()
  private let ends: UnsafeMutablePointer<Ends>
  let count = Atomic<Int>(0)

  init() {
    ends = .allocate(capacity: 1)
    ends.initialize(to: Ends())
  }

  var isEmpty: Bool { count.load(ordering: .sequentiallyConsistent) == 0 }

  func push(_ task: TaskRef) {
    task.pointee.next = nil
    lock.lock()
    if let tail = ends.pointee.tail { tail.pointee.next = task } else { ends.pointee.head = task }
    ends.pointee.tail = task
    count.add(1, ordering: .sequentiallyConsistent)
    lock.unlock()
  }

  /// Appends a chain of tasks already linked through `next` (nil-terminated).
  func pushChain(_ first: TaskRef, count: Int) {
    var last = first
    while let next = last.pointee.next { last = next }
    lock.lock()
    if let tail = ends.pointee.tail { tail.pointee.next = first } else { ends.pointee.head = first }
    ends.pointee.tail = last
    self.count.add(count, ordering: .sequentiallyConsistent)
    lock.unlock()
  }

  /// Takes up to max tasks from the head (Go's globrunqget): the first, and the
  /// rest linked through `next` (nil-terminated), with their number.
  func popBatch(max: Int) -> (first: TaskRef, rest: TaskRef?, restCount: Int)? {
    if isEmpty { return nil }
    lock.lock()
    guard let first = ends.pointee.head else {
      lock.unlock()
      return nil
    }
    var last = first
    var taken = 1
    while taken < max, let next = last.pointee.next {
      last = next
      taken += 1
    }
    ends.pointee.head = last.pointee.next
    if ends.pointee.head == nil { ends.pointee.tail = nil }
    count.subtract(taken, ordering: .relaxed)
    lock.unlock()
    last.pointee.next = nil
    let rest = first.pointee.next
    first.pointee.next = nil
    return (first, rest, taken - 1)
  }

  func pop() -> TaskRef? {
    if isEmpty { return nil }
    lock.lock()
    guard let task = ends.pointee.head else {
      lock.unlock()
      return nil
    }
    ends.pointee.head = task.pointee.next
    if ends.pointee.head == nil { ends.pointee.tail = nil }
    count.subtract(1, ordering: .relaxed)
    lock.unlock()
    task.pointee.next = nil
    return task
  }
}

/// A worker's local run queue (Go's `runq`): a ring of 256 tasks. The owner
/// pushes at `tail` and pops at `head`; idle workers steal half from `head`.
/// `head` and `tail` only grow (wrapping UInt32s); a slot between them belongs to
/// the ring. Slots are plain memory, as in Go: a thief copies slots and then
/// claims them with a compare-and-swap on `head`, discarding the copy if it lost;
/// the owner never writes a slot between head and tail. No lock anywhere.
struct LocalRunQueue: ~Copyable {
  static let capacity: UInt32 = 256
  private let head = Atomic<UInt32>(0)
  private let tail = Atomic<UInt32>(0)
  private let slots: UnsafeMutablePointer<TaskRef?>

  init() {
    slots = .allocate(capacity: Int(LocalRunQueue.capacity))
    slots.initialize(repeating: nil, count: Int(LocalRunQueue.capacity))
  }

  @inline(__always)
  private func slot(_ index: UInt32) -> UnsafeMutablePointer<TaskRef?> {
    slots + Int(index % LocalRunQueue.capacity)
  }

  /// Tasks queued now (a snapshot; exact for the owner).
  var count: Int {
    let h = head.load(ordering: .acquiring)
    let t = tail.load(ordering: .acquiring)
    let n = t &- h
    return n > LocalRunQueue.capacity ? 0 : Int(n)
  }

  var isEmpty: Bool { count == 0 }

  /// Where the next pop or steal takes from: it moves whenever the queue is used.
  var headIndex: UInt32 { head.load(ordering: .relaxed) }

  /// Owner only. false when the ring is full.
  @inline(__always)
  func push(_ task: TaskRef) -> Bool {
    let h = head.load(ordering: .acquiring)
    let t = tail.load(ordering: .relaxed)
    if t &- h >= LocalRunQueue.capacity { return false }
    slot(t).pointee = task
    tail.store(t &+ 1, ordering: .releasing)
    return true
  }

  /// Owner only.
  @inline(__always)
  func pop() -> TaskRef? {
    while true {
      let h = head.load(ordering: .acquiring)
      let t = tail.load(ordering: .relaxed)
      if t == h { return nil }
      let task = slot(h).pointee
      if head.compareExchange(expected: h, desired: h &+ 1, ordering: .acquiringAndReleasing).exchanged {
        return task
      }
    }
  }

  /// Owner only, when the ring is full: takes its older half, linked through
  /// `next` (for the global queue). nil if thieves got there first.
  func takeHalf() -> (first: TaskRef, last: TaskRef, count: Int)? {
    let h = head.load(ordering: .acquiring)
    let t = tail.load(ordering: .relaxed)
    let n = (t &- h) / 2
    guard n > 0 else { return nil }
    return withUnsafeTemporaryAllocation(of: TaskRef?.self, capacity: Int(n)) { batch in
      for i in 0..<n { batch[Int(i)] = slot(h &+ i).pointee }
      guard head.compareExchange(expected: h, desired: h &+ n, ordering: .acquiringAndReleasing).exchanged
      else { return nil }
      for i in 0..<Int(n) { batch[i]!.pointee.next = i + 1 < Int(n) ? batch[i + 1] : nil }
      return (batch[0]!, batch[Int(n) - 1]!, Int(n))
    }
  }

  /// Any thread (the monitor for a stuck owner, an inactive owner): takes every
  /// task, linked through `next`, for the global queue; nil when empty.
  func takeAll() -> (first: TaskRef, last: TaskRef, count: Int)? {
    while true {
      let h = head.load(ordering: .acquiring)
      let t = tail.load(ordering: .acquiring)
      let n = t &- h
      if n == 0 { return nil }
      if n > LocalRunQueue.capacity { continue }  // a torn read of head and tail
      let taken: (TaskRef, TaskRef, Int)? = withUnsafeTemporaryAllocation(of: TaskRef?.self, capacity: Int(n)) {
        batch in
        for i in 0..<n { batch[Int(i)] = slot(h &+ i).pointee }
        guard head.compareExchange(expected: h, desired: h &+ n, ordering: .acquiringAndReleasing).exchanged
        else { return nil }
        for i in 0..<Int(n) { batch[i]!.pointee.next = i + 1 < Int(n) ? batch[i + 1] : nil }
        return (batch[0]!, batch[Int(n) - 1]!, Int(n))
      }
      if let taken { return taken }
    }
  }

  /// Thief (the owner of self, whose ring is empty): moves about half of victim's
  /// tasks here and returns one of them to run, with how many were taken.
  func steal(from victim: borrowing LocalRunQueue) -> (task: TaskRef, count: Int)? {
    while true {
      let h = victim.head.load(ordering: .acquiring)
      let t = victim.tail.load(ordering: .acquiring)
      var n = t &- h
      n -= n / 2
      if n == 0 { return nil }
      if n > LocalRunQueue.capacity / 2 { continue }  // a torn read of head and tail
      let mine = tail.load(ordering: .relaxed)
      for i in 0..<n { slot(mine &+ i).pointee = victim.slot(h &+ i).pointee }
      guard victim.head.compareExchange(expected: h, desired: h &+ n, ordering: .acquiringAndReleasing).exchanged
      else { continue }
      let task = slot(mine &+ n &- 1).pointee!
      if n > 1 { tail.store(mine &+ n &- 1, ordering: .releasing) }
      return (task, Int(n))
    }
  }
}
