import Glibc
import Weft

// Conversions shared by the @c functions: error codes and handles.

@inline(__always)
func code(_ error: WeftError?) -> Int32 { error?.code ?? 0 }

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
