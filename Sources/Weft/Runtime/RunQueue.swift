import Synchronization

/// A FIFO of runnable tasks linked through `TaskRecord.next`: a worker's local
/// queue (pushed by its owner, stolen from by idle workers) or the global
/// injection queue (pushed by plain threads). `count` is readable without the lock
/// so idle workers can look for work cheaply. Stored inline (a `var` of
/// its owner, mutated in place by several threads under `lock`) so that reaching
/// it costs no reference counting.
struct RunQueue: ~Copyable {
  private let lock = SpinLock()
  private var head: TaskRef? = nil
  private var tail: TaskRef? = nil
  let count = Atomic<Int>(0)

  var isEmpty: Bool { count.load(ordering: .sequentiallyConsistent) == 0 }

  mutating func push(_ task: TaskRef) {
    task.pointee.next = nil
    lock.lock()
    if let tail { tail.pointee.next = task } else { head = task }
    tail = task
    count.add(1, ordering: .sequentiallyConsistent)
    lock.unlock()
  }

  /// Appends a chain of tasks already linked through `next` (nil-terminated).
  mutating func pushChain(_ first: TaskRef, count: Int) {
    var last = first
    while let next = last.pointee.next { last = next }
    lock.lock()
    if let tail { tail.pointee.next = first } else { head = first }
    tail = last
    self.count.add(count, ordering: .sequentiallyConsistent)
    lock.unlock()
  }

  mutating func pop() -> TaskRef? {
    if isEmpty { return nil }
    lock.lock()
    guard let task = head else {
      lock.unlock()
      return nil
    }
    head = task.pointee.next
    if head == nil { tail = nil }
    count.subtract(1, ordering: .relaxed)
    lock.unlock()
    task.pointee.next = nil
    return task
  }

  /// Takes the older half (at least one) of the queue, as a linked chain.
  mutating func stealHalf() -> (first: TaskRef, count: Int)? {
    if isEmpty { return nil }
    guard lock.tryLock() else { return nil }
    let available = count.load(ordering: .relaxed)
    guard available > 0, let first = head else {
      lock.unlock()
      return nil
    }
    let take = (available + 1) / 2
    var last = first
    for _ in 1..<take { last = last.pointee.next! }
    head = last.pointee.next
    if head == nil { tail = nil }
    last.pointee.next = nil
    count.subtract(take, ordering: .relaxed)
    lock.unlock()
    return (first, take)
  }
}
