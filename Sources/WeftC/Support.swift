import Glibc
import Weft

// Conversions shared by the @c functions: error codes and handles.

@inline(__always)
func code(_ error: WeftError?) -> Int32 { error?.code ?? 0 }

func staticCString(_ text: StaticString) -> UnsafePointer<CChar> {
  text.utf8Start.withMemoryRebound(to: CChar.self, capacity: 1) { $0 }
}
