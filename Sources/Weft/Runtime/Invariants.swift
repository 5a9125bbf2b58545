import Glibc

/// The debug assertion layer: the invariants the file headers state, checked
/// where they must hold (queue membership, claim states, lock held, select's lock
/// order, the channel's counts, timer-heap ownership).
///
/// On in debug builds (`swift build`, `swift test`: SwiftPM defines DEBUG) and in
/// any build compiled with `-Xswiftc -DWEFT_CHECKS` (the sanitizer and fuzz
/// builds: `make test-asan`, `make fuzz`, the checked library the bounded fuzz
/// run uses). In a release build without WEFT_CHECKS the body is empty and
/// inlined, and the condition — an autoclosure — is never evaluated: a check
/// costs nothing there.
///
/// A failed check prints the message with the file and line to stderr and aborts:
/// a broken invariant means memory is about to be corrupted.
@inline(__always)
@_transparent
func weftAssert(
  _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
  file: StaticString = #fileID, line: UInt = #line
) {
  #if DEBUG || WEFT_CHECKS
    if !condition() { invariantFailed(message(), file, line) }
  #endif
}

/// True in builds that check invariants (for tests that want to know).
public let weftChecksEnabled: Bool = {
  #if DEBUG || WEFT_CHECKS
    return true
  #else
    return false
  #endif
}()

@inline(never)
func invariantFailed(_ message: String, _ file: StaticString, _ line: UInt) -> Never {
  let text = "weft: invariant violated at \(file):\(line): \(message)\n"
  _ = text.withCString { write(2, $0, strlen($0)) }
  abort()
}
