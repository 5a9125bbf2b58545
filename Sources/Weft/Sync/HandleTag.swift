/// Tags the C layer checks to tell a live handle of the right type from a
/// released or foreign one.
package enum HandleTag {
  package static let waitGroup: UInt32 = 0x5746_5701  // "WFW"
  package static let mutex: UInt32 = 0x5746_4D01
  package static let rwMutex: UInt32 = 0x5746_5201
  package static let once: UInt32 = 0x5746_4F01
  package static let cond: UInt32 = 0x5746_4301
  package static let semaphore: UInt32 = 0x5746_5301
}
