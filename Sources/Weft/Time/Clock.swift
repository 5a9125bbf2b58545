import Glibc

/// The monotonic clock every deadline is measured on (weft_now_ns).
@inline(__always)
public func monotonicNow() -> Int64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
}

/// now + ns, saturating at noDeadline (timeouts of "forever" stay forever).
@inline(__always)
public func deadline(after ns: Int64) -> Int64 {
  if ns <= 0 { return monotonicNow() }
  let (sum, overflow) = monotonicNow().addingReportingOverflow(ns)
  return overflow ? noDeadline : sum
}
