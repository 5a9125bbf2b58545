/// Tags the C layer checks to tell a live handle of the right type from a
/// released or foreign one.
public enum HandleTag {
  public static let waitGroup: UInt32 = 0x5746_5701  // "WFW"
  public static let mutex: UInt32 = 0x5746_4D01
  public static let rwMutex: UInt32 = 0x5746_5201
  public static let once: UInt32 = 0x5746_4F01
  public static let cond: UInt32 = 0x5746_4301
  public static let semaphore: UInt32 = 0x5746_5301
}
