import Glibc
import Synchronization

/// Task stacks: fixed-size virtual regions carved from large mappings, committed
/// lazily by the kernel, guarded, and pooled for reuse.
///
/// Why carve: one mmap per stack plus an mprotect'ed guard page costs two kernel
/// mappings per task, and vm.max_map_count (65530) ends that at ~32k tasks.
/// MADV_GUARD_INSTALL (Linux 6.13+) guards a page without splitting the mapping;
/// without it, mprotect guards are used while the mapping budget lasts, and the
/// canary at the stack's lowest word (checked on every switch) is the last line,
/// written only on stacks without a guard page: it costs a resident page a stack.
///
/// Lock rules: `lock` guards the free lists and the chunk cursor; a stack is owned
/// by exactly one task (or the free list) at a time.
struct Stack {
  var bottom: UnsafeMutableRawPointer  // lowest usable byte (the canary lives here)
  private var sizeBytes: UInt32
  private var sizeClass: UInt8
  var guarded: Bool  // a guard page sits below bottom; no canary

  init(bottom: UnsafeMutableRawPointer, guarded: Bool, size: Int, classIndex: Int) {
    self.bottom = bottom
    self.guarded = guarded
    self.sizeBytes = UInt32(size)
    self.sizeClass = UInt8(classIndex)
  }

  var size: Int { Int(sizeBytes) }  // usable bytes (at most 64 MiB)
  var classIndex: Int { Int(sizeClass) }
}

final class StackPool: @unchecked Sendable {
  static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
  static let minSize = 16 << 10
  static let maxSize = 64 << 20
  static let canary: UInt64 = 0x5745_4654_5354_4b21  // "WEFTSTK!"
  private static let madvGuardInstall: Int32 = 102
  private static let chunkBytes = 32 << 20
  /// mprotect guards allowed when MADV_GUARD_INSTALL is missing (2 mappings each).
  private static let mprotectGuardBudget = 20_000

  private let lock = SpinLock()
  private var free: [[Stack]] = Array(repeating: [], count: 16)
  private var chunkCursor: UnsafeMutableRawPointer? = nil
  private var chunkLeft = 0
  private var guardInstallWorks = true
  private var mprotectGuards = 0

  /// Size class: power of two from 16 KiB (slot size including its guard page).
  static func classIndex(forUsable size: Int) -> Int {
    var slot = minSize
    var index = 0
    while slot - pageSize < size {
      slot <<= 1
      index += 1
    }
    return index
  }

  static func slotSize(_ classIndex: Int) -> Int { minSize << classIndex }

  func take(usable size: Int) -> Stack? {
    let index = StackPool.classIndex(forUsable: size)
    lock.lock()
    if let stack = free[index].popLast() {
      lock.unlock()
      return stack
    }
    let stack = carve(index)
    lock.unlock()
    return stack
  }

  func give(_ stack: Stack) {
    lock.lock()
    free[stack.classIndex].append(stack)
    lock.unlock()
  }

  /// Caller holds `lock`.
  private func carve(_ index: Int) -> Stack? {
    let slot = StackPool.slotSize(index)
    let base: UnsafeMutableRawPointer
    if slot >= StackPool.chunkBytes / 4 {
      guard let mem = StackPool.map(slot) else { return nil }
      base = mem
    } else {
      if chunkLeft < slot {
        guard let mem = StackPool.map(StackPool.chunkBytes) else { return nil }
        chunkCursor = mem
        chunkLeft = StackPool.chunkBytes
      }
      base = chunkCursor!
      chunkCursor = base + slot
      chunkLeft -= slot
    }
    let guarded = installGuard(base)
    let bottom = base + StackPool.pageSize
    if !guarded { bottom.storeBytes(of: StackPool.canary, as: UInt64.self) }
    return Stack(bottom: bottom, guarded: guarded, size: slot - StackPool.pageSize, classIndex: index)
  }

  /// True if the page now faults on access.
  private func installGuard(_ page: UnsafeMutableRawPointer) -> Bool {
    let pageSize = StackPool.pageSize
    if guardInstallWorks {
      if madvise(page, pageSize, StackPool.madvGuardInstall) == 0 { return true }
      guardInstallWorks = false
    }
    if mprotectGuards < StackPool.mprotectGuardBudget,
      mprotect(page, pageSize, PROT_NONE) == 0
    {
      mprotectGuards += 1
      return true
    }
    return false
  }

  private static func map(_ bytes: Int) -> UnsafeMutableRawPointer? {
    let mem = mmap(
      nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
    if mem == MAP_FAILED { return nil }
    return mem
  }
}
