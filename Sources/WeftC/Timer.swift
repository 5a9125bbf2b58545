import CWeftABI
import Weft

// The timers section of weft.h: timer channels are ordinary channels of int64_t.

@c public func weft_after(_ ns: Int64, _ out: UnsafeMutablePointer<ChanHandle?>?) -> Int32 {
  guard let out else { return WeftError.invalid.code }
  out.pointee = nil
  guard let made = Channel.after(ns) else { return WeftError.shutdown.code }
  return give(made, out)
}

@c public func weft_ticker_make(_ period: Int64, _ out: UnsafeMutablePointer<ChanHandle?>?) -> Int32 {
  guard let out else { return WeftError.invalid.code }
  out.pointee = nil
  guard period > 0 else { return WeftError.invalid.code }
  guard let made = Channel.ticker(period: period) else { return WeftError.shutdown.code }
  return give(made, out)
}

@c public func weft_timer_stop(_ ch: ChanHandle?) -> Int32 {
  guard let channel = channel(ch) else { return WeftError.invalid.code }
  guard let stopped = channel._withUnsafeGuaranteedRef({ $0.stopTimer() }) else { return WeftError.invalid.code }
  return stopped ? 1 : 0
}
