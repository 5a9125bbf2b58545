import CWeftCoro
import Glibc
import Synchronization

/// A short-hold spin lock for the primitives' internal state (Go's runtime
/// `mutex`). Never park or call out while holding it: holders finish in a few
/// dozen instructions, so contenders spin, then yield the CPU.
public struct SpinLock: ~Copyable, @unchecked Sendable {
  private let word = Atomic<UInt32>(0)

  public init() {}

  @inline(__always)
  public func lock() {
    if word.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged { return }
    lockContended()
  }

  @inline(__always)
  public func tryLock() -> Bool {
    word.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged
  }

  @inline(__always)
  public func unlock() {
    word.store(0, ordering: .releasing)
  }

  @inline(never)
  private func lockContended() {
    var spins = 0
    while true {
      if word.load(ordering: .relaxed) == 0,
        word.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged
      {
        return
      }
      spins += 1
      if spins < 100 { cweft_cpu_relax() } else { sched_yield() }
    }
  }
}
