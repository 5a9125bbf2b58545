import CWeftCoro
import Glibc
import Synchronization

/// Task stacks: fixed-size virtual regions carved from large mappings, committed
/// lazily by the kernel, guarded, and pooled for reuse.
///
/// Layout of a slot (a power of two, 128 KiB and up): a 64 KiB guard region at
/// its base, then the usable stack (the slot minus the guard; 64 KiB for the
/// default). The guard is larger than any frame the runtime itself builds on a
/// task stack (its variable-size scratch is capped at 1 KiB, see Select), and
/// larger than realistic user frames, so a frame that first touches its lowest
/// bytes lands in the guard, not in the stack below. Larger frames need
/// `-fstack-clash-protection` in the user's code (README).
///
/// Why carve: one mmap per stack plus an mprotect'ed guard costs two kernel
/// mappings per task, and vm.max_map_count (65530) ends that at ~32k tasks.
/// MADV_GUARD_INSTALL (Linux 6.13+) guards pages without splitting the mapping
/// and without memory; without it, mprotect guards are used while the mapping
/// budget lasts, and the canary at the stack's lowest word (checked on every
/// switch) is the last line, written only on stacks without a guard: it costs a
/// resident page a stack.
///
/// Allocation: the free lists are intrusive (a node at the top of each free
/// stack), so giving a stack back never allocates; a failed mapping is nil.
///
/// Lock rules: `lock` guards the free lists and the chunk cursor; a stack is owned
/// by exactly one task (or the free list) at a time.
struct Stack {
  var bottom: UnsafeMutableRawPointer  // lowest usable byte (the canary lives here)
  private var sizeBytes: UInt32
  private var sizeClass: UInt8
  var guarded: Bool  // a guard region sits below bottom; no canary

  init(bottom: UnsafeMutableRawPointer, guarded: Bool, size: Int, classIndex: Int) {
    self.bottom = bottom
    self.guarded = guarded
    self.sizeBytes = UInt32(size)
    self.sizeClass = UInt8(classIndex)
  }

  var size: Int { Int(sizeBytes) }  // usable bytes (at most 64 MiB)
  var classIndex: Int { Int(sizeClass) }
  /// The guard region below the stack (empty when unguarded).
  var guardLow: UnsafeMutableRawPointer { bottom - StackPool.guardBytes }
}

/// A free stack's list node, kept at the top of the stack itself.
private struct FreeNode {
  var stack: Stack
  var next: UnsafeMutablePointer<FreeNode>?
}

final class StackPool: @unchecked Sendable {
  static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
  static let guardBytes = 64 << 10
  static let minSize = 16 << 10
  static let maxSize = 64 << 20
  private static let minSlot = 128 << 10
  private static let classes = 11  // 128 KiB .. 128 MiB slots
  static let canary: UInt64 = 0x5745_4654_5354_4b21  // "WEFTSTK!"
  private static let madvGuardInstall: Int32 = 102
  private static let chunkBytes = 32 << 20
  /// mprotect guards allowed when MADV_GUARD_INSTALL is missing (2 mappings each).
  private static let mprotectGuardBudget = 20_000

  private let lock = SpinLock()
  private let free = UnsafeMutablePointer<UnsafeMutablePointer<FreeNode>?>.allocate(
    capacity: StackPool.classes)
  private var chunkCursor: UnsafeMutableRawPointer? = nil
  private var chunkLeft = 0
  /// Every mapping made, for releaseAll (malloc'ed; when it cannot grow, the
  /// mapping is simply not returned at shutdown).
  private var regions: UnsafeMutablePointer<(base: UnsafeMutableRawPointer, bytes: Int)>? = nil
  private var regionCount = 0
  private var regionCapacity = 0
  private var guardInstallWorks = true
  private var mprotectGuards = 0

  init() { free.initialize(repeating: nil, count: StackPool.classes) }

  /// Size class: the smallest power-of-two slot from 128 KiB holding the guard
  /// and size usable bytes.
  static func classIndex(forUsable size: Int) -> Int {
    var slot = minSlot
    var index = 0
    while slot - guardBytes < size {
      slot <<= 1
      index += 1
    }
    return index
  }

  static func slotSize(_ classIndex: Int) -> Int { minSlot << classIndex }

  /// A stack with at least size usable bytes; nil when no memory or address
  /// space is left.
  func take(usable size: Int) -> Stack? {
    let index = StackPool.classIndex(forUsable: size)
    lock.lock()
    if let node = free[index] {
      free[index] = node.pointee.next
      lock.unlock()
      return node.pointee.stack
    }
    let stack = carve(index)
    lock.unlock()
    return stack
  }

  func give(_ stack: Stack) {
    let raw = stack.bottom + stack.size - 64
    cweft_memory_unpoison(raw, 64)
    let node = raw.assumingMemoryBound(to: FreeNode.self)
    lock.lock()
    node.initialize(to: FreeNode(stack: stack, next: free[stack.classIndex]))
    free[stack.classIndex] = node
    lock.unlock()
  }

  /// Caller holds `lock`.
  private func carve(_ index: Int) -> Stack? {
    let slot = StackPool.slotSize(index)
    let base: UnsafeMutableRawPointer
    if slot >= StackPool.chunkBytes / 4 {
      guard let mem = map(slot) else { return nil }
      base = mem
    } else {
      if chunkLeft < slot {
        guard let mem = map(StackPool.chunkBytes) else { return nil }
        chunkCursor = mem
        chunkLeft = StackPool.chunkBytes
      }
      base = chunkCursor!
      chunkCursor = base + slot
      chunkLeft -= slot
    }
    let guarded = installGuard(base)
    let bottom = base + StackPool.guardBytes
    if !guarded { bottom.storeBytes(of: StackPool.canary, as: UInt64.self) }
    return Stack(bottom: bottom, guarded: guarded, size: slot - StackPool.guardBytes, classIndex: index)
  }

  /// True if the guard region now faults on access.
  private func installGuard(_ region: UnsafeMutableRawPointer) -> Bool {
    let bytes = StackPool.guardBytes
    if guardInstallWorks {
      if madvise(region, bytes, StackPool.madvGuardInstall) == 0 { return true }
      guardInstallWorks = false
    }
    if mprotectGuards < StackPool.mprotectGuardBudget,
      mprotect(region, bytes, PROT_NONE) == 0
    {
      mprotectGuards += 1
      return true
    }
    return false
  }

  /// Caller holds `lock`.
  private func map(_ bytes: Int) -> UnsafeMutableRawPointer? {
    guard StackPool.addressSpaceLeft(after: bytes) else { return nil }
    let mem = mmap(
      nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
    guard let mem, mem != MAP_FAILED else { return nil }
    if regionCount == regionCapacity {
      let capacity = max(64, regionCapacity * 2)
      if let grown = realloc(regions, capacity * MemoryLayout<(UnsafeMutableRawPointer, Int)>.stride) {
        regions = grown.assumingMemoryBound(to: (base: UnsafeMutableRawPointer, bytes: Int).self)
        regionCapacity = capacity
      }
    }
    if regionCount < regionCapacity {
      regions![regionCount] = (mem, bytes)
      regionCount += 1
    }
    return mem
  }

  /// Under an address-space limit (RLIMIT_AS, `ulimit -v`), stacks stop short of
  /// it by a reserve, so the runtime's own allocations (timers, records, libuv)
  /// still succeed once stacks run out: spawns then get WEFT_ENOMEM instead of
  /// a later allocation aborting the process. Read at each 32 MiB mapping only.
  private static func addressSpaceLeft(after bytes: Int) -> Bool {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_AS.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return true }
    let reserve = max(64 << 20, Int(clamping: limit.rlim_cur / 4))
    let fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return true }
    defer { close(fd) }
    var text = (Int8(0), Int8(0), Int8(0), Int8(0), Int8(0), Int8(0), Int8(0), Int8(0),
                Int8(0), Int8(0), Int8(0), Int8(0), Int8(0), Int8(0), Int8(0), Int8(0),
                Int8(0), Int8(0), Int8(0), Int8(0), Int8(0), Int8(0), Int8(0), Int8(0))
    let used: Int = withUnsafeMutableBytes(of: &text) { buffer in
      let n = read(fd, buffer.baseAddress, buffer.count - 1)
      guard n > 0 else { return 0 }
      var pages = 0
      for byte in buffer.prefix(n) {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { break }
        pages = pages * 10 + Int(byte - UInt8(ascii: "0"))
      }
      return pages * pageSize
    }
    return used + bytes + reserve <= Int(clamping: limit.rlim_cur)
  }

  /// weft_shutdown, once no task can run again: unmaps every stack (the free
  /// lists and the carving cursor start over).
  func releaseAll() {
    lock.lock()
    for i in 0..<regionCount { munmap(regions![i].base, regions![i].bytes) }
    regionCount = 0
    for i in 0..<StackPool.classes { free[i] = nil }
    chunkCursor = nil
    chunkLeft = 0
    mprotectGuards = 0
    lock.unlock()
  }
}
