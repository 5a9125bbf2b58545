import CWeftABI
import Weft

// The select section of weft.h: the caller's weft_case array is used in place
// as [SelectCase] (same layout, checked below).

let selectCaseLayoutMatches: Bool =
  MemoryLayout<SelectCase>.stride == MemoryLayout<weft_case>.stride
  && MemoryLayout<SelectCase>.offset(of: \.channel) == MemoryLayout<weft_case>.offset(of: \.chan)
  && MemoryLayout<SelectCase>.offset(of: \.op) == MemoryLayout<weft_case>.offset(of: \.op)
  && MemoryLayout<SelectCase>.offset(of: \.elem) == MemoryLayout<weft_case>.offset(of: \.elem)
  && MemoryLayout<SelectCase>.offset(of: \.result) == MemoryLayout<weft_case>.offset(of: \.result)

func select(
  _ cases: UnsafeMutablePointer<weft_case>?, _ n: UInt, _ flags: Int32, _ deadline: Int64, _ ctx: CtxHandle?
) -> Int32 {
  precondition(selectCaseLayoutMatches, "weft: weft_case and SelectCase layouts differ")
  guard flags & ~WEFT_SELECT_DEFAULT == 0 else { return WeftError.invalid.code }
  guard n <= 1 << 20 else { return WeftError.invalid.code }
  let count = Int(n)
  guard let cases else {
    guard count == 0 else { return WeftError.invalid.code }
    return Int32(Select.waitWithoutCases(nonBlocking: flags != 0, deadline: deadline, context: context(ctx)))
  }
  for i in 0..<count where cases[i].chan != nil {
    guard channel(cases[i].chan) != nil else { return WeftError.invalid.code }
  }
  return cases.withMemoryRebound(to: SelectCase.self, capacity: count) { cases in
    Int32(Select.select(cases, count: count, nonBlocking: flags != 0, deadline: deadline, context: context(ctx)))
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
