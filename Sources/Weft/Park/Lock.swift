import CWeftCoro
import Glibc
import Synchronization

/// A short-hold spin lock for the primitives' internal state (Go's runtime
/// `mutex`). Never park or call out while holding it: holders finish in a few
/// dozen instructions, so contenders spin, then yield the CPU.
package struct SpinLock: ~Copyable, @unchecked Sendable {
  private let word = Atomic<UInt32>(0)

  package init() {}

  @inline(__always)
  package func lock() {
    if word.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged { return }
    lockContended()
  }

  @inline(__always)
  package func tryLock() -> Bool {
    word.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged
  }

  @inline(__always)
  package func unlock() {
    weftAssert(word.load(ordering: .relaxed) != 0, "unlock of a SpinLock that is not held")
    word.store(0, ordering: .releasing)
  }

  /// Held by someone (a racy snapshot, for assertions).
  package var isLocked: Bool { word.load(ordering: .relaxed) != 0 }

  @inline(never)
  private func lockContended() {
    // Exponential backoff: under contention from the other CPU, retrying at
    // once only bounces the cache line between the two; waiting a little longer
    // each time lets the holder finish.
    var backoff = 1
    var rounds = 0
    while true {
      if word.load(ordering: .relaxed) == 0,
        word.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged
      {
        return
      }
      rounds += 1
      if rounds < 40 {
        for _ in 0..<backoff { cweft_cpu_relax() }
        if backoff < 64 { backoff <<= 1 }
      } else {
        sched_yield()  // the holder may have been preempted
      }
    }
  }
}
