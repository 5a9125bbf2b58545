import CWeftABI
import Weft

// The fd readiness and blocking-offload sections of weft.h.

@c public func weft_fd_wait(_ fd: Int32, _ events: Int32) -> Int32 {
  Poller.wait(fd: fd, events: events)
}

@c public func weft_fd_wait_until(_ fd: Int32, _ events: Int32, _ deadline: Int64) -> Int32 {
  Poller.wait(fd: fd, events: events, deadline: deadline)
}

@c public func weft_fd_wait_ctx(_ fd: Int32, _ events: Int32, _ ctx: CtxHandle?) -> Int32 {
  withContext(ctx) { Poller.wait(fd: fd, events: events, context: $0) }
}

@c public func weft_fd_close(_ fd: Int32) -> Int32 { Poller.close(fd: fd, closeFd: true) }

@c public func weft_fd_forget(_ fd: Int32) -> Int32 { Poller.close(fd: fd, closeFd: false) }

private func offload(_ fn: weft_fn?, _ arg: UnsafeMutableRawPointer?, _ deadline: Int64, _ context: Context?) -> Int32 {
  guard let fn else { return WeftError.invalid.code }
  nonisolated(unsafe) let arg = arg
  return code(Offload.coreRun(deadline: deadline, context: context) { fn(arg) })
}

@c public func weft_offload(_ fn: weft_fn?, _ arg: UnsafeMutableRawPointer?) -> Int32 {
  offload(fn, arg, noDeadline, nil)
}

@c public func weft_offload_until(_ fn: weft_fn?, _ arg: UnsafeMutableRawPointer?, _ deadline: Int64) -> Int32 {
  offload(fn, arg, deadline, nil)
}

@c public func weft_offload_ctx(_ fn: weft_fn?, _ arg: UnsafeMutableRawPointer?, _ ctx: CtxHandle?) -> Int32 {
  withContext(ctx) { offload(fn, arg, noDeadline, $0) }
}
