import Glibc

// The clock and all time arithmetic: every deadline and duration in the core
// and the C layer goes through these, so no caller-supplied time (negative,
// INT64_MAX, INT64_MIN) can trap, wrap or reach the OS as an invalid value.
//  - A deadline is absolute nanoseconds on monotonicNow(); noDeadline (Int64.max)
//    is "never"; any value <= now has passed (negative ones included).
//  - Sums saturate: now + a huge duration is noDeadline, not a wrapped past.

/// The monotonic clock every deadline is measured on (weft_now_ns).
@inline(__always)
@usableFromInline
package func monotonicNow() -> Int64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
}

/// a + b, saturating at Int64.min and Int64.max.
@inline(__always)
package func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
  let (sum, overflow) = a.addingReportingOverflow(b)
  return overflow ? (b > 0 ? Int64.max : Int64.min) : sum
}

/// now + ns, saturating at noDeadline (timeouts of "forever" stay forever);
/// ns <= 0 is now.
@inline(__always)
@usableFromInline
package func deadline(after ns: Int64) -> Int64 {
  ns <= 0 ? monotonicNow() : saturatingAdd(monotonicNow(), ns)
}

/// Nanoseconds from now until deadline, never negative (saturating).
@inline(__always)
package func remainingNs(until deadline: Int64, now: Int64 = monotonicNow()) -> Int64 {
  let (left, overflow) = deadline.subtractingReportingOverflow(now)
  if overflow { return deadline > now ? Int64.max : 0 }
  return max(0, left)
}

/// Milliseconds from now until deadline, rounded up (libuv timers), saturating.
@inline(__always)
package func remainingMs(until deadline: Int64, now: Int64 = monotonicNow()) -> UInt64 {
  let ns = remainingNs(until: deadline, now: now)
  return UInt64(ns / 1_000_000) + (ns % 1_000_000 != 0 ? 1 : 0)
}

extension timespec {
  /// An absolute CLOCK_MONOTONIC time for pthread_cond_timedwait: a deadline
  /// before 0 becomes 0 (long past), so tv_nsec is always in 0..<1e9.
  package init(monotonicDeadline deadline: Int64) {
    let clamped = max(0, deadline)
    self.init(tv_sec: Int(clamped / 1_000_000_000), tv_nsec: Int(clamped % 1_000_000_000))
  }
}
