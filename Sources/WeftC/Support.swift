import Glibc
import Weft

// Conversions shared by the @c functions: error codes and handles.

@inline(__always)
func code(_ error: WeftError?) -> Int32 { error?.code ?? 0 }

/// A user result through its out-parameter (may be NULL), a runtime error as
/// the return value: the out-parameter forms of weft_group_wait and
/// weft_future_await.
@inline(__always)
func code(_ result: Result<Int32, WeftError>, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
  switch result {
  case .success(let value):
    out?.pointee = value
    return 0
  case .failure(let error): return error.code
  }
}

func staticCString(_ text: StaticString) -> UnsafePointer<CChar> {
  text.utf8Start.withMemoryRebound(to: CChar.self, capacity: 1) { $0 }
}

/// Runs body with the context a blocking call observes: nil for NULL (background:
/// nothing can end it). WEFT_EINVAL for a released context handle.
@inline(__always)
func withContext(_ handle: CtxHandle?, _ body: (Context?) -> Int32) -> Int32 {
  guard let handle else { return body(nil) }
  guard let context = ctxRef(handle) else { return WeftError.invalid.code }
  return body(context === Context.background ? nil : context)
}
