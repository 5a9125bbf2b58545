import CWeftABI
import Weft

// The tasks section of weft.h.

@c public func weft_task_opts_init(_ opts: UnsafeMutablePointer<weft_task_opts>?) {
  guard let opts else { return }
  opts.pointee = weft_task_opts()
  opts.pointee.size = MemoryLayout<weft_task_opts>.size
}

@c public func weft_go(_ fn: weft_fn?, _ arg: UnsafeMutableRawPointer?) -> Int32 {
  guard let fn else { return WeftError.invalid.code }
  return code(Runtime.spawn(fn, arg))
}

@c public func weft_go_opts(
  _ fn: weft_fn?, _ arg: UnsafeMutableRawPointer?, _ opts: UnsafePointer<weft_task_opts>?
) -> Int32 {
  guard let fn else { return WeftError.invalid.code }
  guard let opts else { return code(Runtime.spawn(fn, arg)) }
  guard opts.pointee.size >= MemoryLayout<weft_task_opts>.size else { return WeftError.invalid.code }
  return code(Runtime.spawn(fn, arg, stackSize: opts.pointee.stack_size, name: opts.pointee.name))
}

@c public func weft_yield() -> Int32 {
  Scheduler.yield()
  return 0
}

@c public func weft_sleep_ns(_ ns: Int64) -> Int32 { code(Scheduler.coreSleep(until: deadline(after: ns))) }

@c public func weft_sleep_until(_ deadline: Int64) -> Int32 { code(Scheduler.coreSleep(until: deadline)) }

@c public func weft_in_task() -> Int32 { Scheduler.inTask ? 1 : 0 }

@c public func weft_task_id() -> UInt64 { Scheduler.currentTaskId }
