/// Size arithmetic for the buffers a caller sizes (channel rings, future values,
/// collect results): one limit and one checked product, so no size a C caller
/// passes (SIZE_MAX included) can trap a conversion or wrap a multiplication.
public enum Sizes {
  /// The most bytes one caller-sized buffer may take (the header's 1 GiB).
  public static let maxBufferBytes = 1 << 30

  /// count * size when the product is at most maxBufferBytes, nil otherwise.
  @inline(__always)
  public static func bufferBytes(_ count: Int, _ size: Int) -> Int? {
    guard count >= 0, size >= 0 else { return nil }
    let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
    return overflow || bytes > maxBufferBytes ? nil : bytes
  }

  /// The same for sizes straight from C (size_t).
  @inline(__always)
  public static func bufferBytes(_ count: UInt, _ size: UInt) -> Int? {
    guard count <= UInt(Int.max), size <= UInt(Int.max) else { return nil }
    return bufferBytes(Int(count), Int(size))
  }
}
