import CWeftABI
import Weft

// The select section of weft.h: the caller's weft_case array names channels by
// handle, so each call copies it into SelectCases naming the channel objects
// (on the stack when small) and copies the fired case's result back.

/// Fills cases (count of them) from the caller's; false for a bad channel handle.
func translate(_ from: UnsafeMutablePointer<weft_case>, _ to: UnsafeMutablePointer<SelectCase>, _ count: Int) -> Bool {
  for i in 0..<count {
    var named: Channel? = nil
    if let handle = from[i].chan {
      guard let live = channel(handle) else { return false }
      named = live.takeUnretainedValue()
    }
    (to + i).initialize(to: SelectCase(channel: named, op: from[i].op, elem: from[i].elem))
  }
  return true
}

/// An async select's own copy of its cases, freed with the operation.
final class SelectCopy: @unchecked Sendable {
  let cases: UnsafeMutablePointer<SelectCase>
  init(_ count: Int) { cases = .allocate(capacity: count) }
  deinit { cases.deallocate() }
}

/// The result of the case that fired (index >= 0) back into the caller's array.
@inline(__always)
func copyBack(_ index: Int, _ from: UnsafeMutablePointer<SelectCase>, _ to: UnsafeMutablePointer<weft_case>) {
  if index >= 0 { to[index].result = from[index].result }
}

func select(
  _ cases: UnsafeMutablePointer<weft_case>?, _ n: UInt, _ flags: Int32, _ deadline: Int64, _ ctx: CtxHandle?
) -> Int32 {
  guard flags & ~WEFT_SELECT_DEFAULT == 0 else { return WeftError.invalid.code }
  guard n <= 1 << 20 else { return WeftError.invalid.code }
  let count = Int(n)
  guard let cases else {
    guard count == 0 else { return WeftError.invalid.code }
    return withContext(ctx) { context in Int32(Select.waitWithoutCases(nonBlocking: flags != 0, deadline: deadline, context: context)) }
  }
  return withUnsafeTemporaryAllocation(of: SelectCase.self, capacity: max(count, 1)) { buffer in
    let own = buffer.baseAddress!
    guard translate(cases, own, count) else { return WeftError.invalid.code }
    defer { own.deinitialize(count: count) }
    return withContext(ctx) { context in
      let index = Select.select(own, count: count, nonBlocking: flags != 0, deadline: deadline, context: context)
      copyBack(index, own, cases)
      return Int32(index)
    }
  }
}

@c public func weft_select(
  _ cases: UnsafeMutablePointer<weft_case>?, _ n: UInt, _ flags: Int32, _ deadline: Int64
) -> Int32 {
  select(cases, n, flags, deadline, nil)
}

@c public func weft_select_ctx(
  _ cases: UnsafeMutablePointer<weft_case>?, _ n: UInt, _ flags: Int32, _ ctx: CtxHandle?
) -> Int32 {
  select(cases, n, flags, noDeadline, ctx)
}
