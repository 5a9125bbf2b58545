import Synchronization
import Weft

// Handles: the one validation scheme for every weft_*_t * in weft.h.
//
// A handle is not an address. Its 64 bits are (marker, kind, generation, slot):
//     63..56 marker 0x57 ('W')   55..48 kind   47..28 generation   27..0 slot
// C never dereferences it; this table maps the slot to the object. Every call
// first checks marker and kind in the value itself (no memory read), then the
// slot's state word, whose generation and kind must match and whose live bit
// must be set. Hence, for a call that does not race with the handle's own last
// release (like close(2) on a descriptor another thread still uses):
//  - a released handle is WEFT_EINVAL every time: its slot's generation moved
//    on, and a (slot, generation) pair is issued once ever (a slot whose
//    generation would wrap is retired, never reused);
//  - a wrong-kind handle is WEFT_EINVAL: the kind bits differ;
//  - a foreign pointer is WEFT_EINVAL: user-space addresses have a zero top byte;
//  - no check reads freed memory: slot memory is never returned to the
//    allocator (segments only grow), and objects are touched only after the
//    check passed.
//
// State word of a slot: 63..44 generation, 43..36 kind, 35 live, 34 pinned,
// 33 held, 31..0 refs (the C references). A live slot owns one Swift reference
// to its object and frees it (and its aux handle) when refs reaches 0. Flags:
//  - pinned: never freed, retain/release are no-ops (the background context);
//  - held: one of refs belongs to another slot (its aux) and only that owner
//    drops it, so releasing a borrowed handle one time too many is WEFT_EINVAL
//    instead of freeing it under its owner. Borrowed handles: a context's done
//    channel (aux of the context's slot, valid while that handle is) and a
//    group's context (aux of the group's slot).
// retain/release are CAS loops on the state word, so two racing releases of a
// handle holding one reference free it once and the loser gets WEFT_EINVAL.
//
// Adding a handle type: a HandleKind case and a `HandleObject` conformance;
// then handles(make:), object(_:_:), retainHandle and releaseHandle serve it.
// Segment k holds 64 << k slots; 22 segments reach the 28-bit slot limit.
// Lock rules: `table.lock` guards the free list and the high-water mark only;
// no object is released while it is held.

enum HandleKind: UInt8 {
  case channel = 1, context, waitGroup, mutex, rwMutex, once, cond, semaphore, afterFunc, group, future
}

/// A core class that C code names by handle.
protocol HandleObject: AnyObject {
  static var handleKind: HandleKind { get }
}

extension Channel: HandleObject { static var handleKind: HandleKind { .channel } }
extension Context: HandleObject { static var handleKind: HandleKind { .context } }
extension WaitGroup: HandleObject { static var handleKind: HandleKind { .waitGroup } }
extension Weft.Mutex: HandleObject { static var handleKind: HandleKind { .mutex } }
extension RWMutex: HandleObject { static var handleKind: HandleKind { .rwMutex } }
extension Once: HandleObject { static var handleKind: HandleKind { .once } }
extension Cond: HandleObject { static var handleKind: HandleKind { .cond } }
extension Semaphore: HandleObject { static var handleKind: HandleKind { .semaphore } }
extension AfterFunc: HandleObject { static var handleKind: HandleKind { .afterFunc } }
extension Group: HandleObject { static var handleKind: HandleKind { .group } }
extension Future: HandleObject { static var handleKind: HandleKind { .future } }

struct HandleSlot: ~Copyable {
  let state = Atomic<UInt64>(0)
  /// The object's address while live (one Swift reference), 0 when free.
  let object = Atomic<UInt>(0)
  /// A handle this slot owns (held), released with it; 0: none.
  let aux = Atomic<UInt64>(0)
}

private let marker: UInt64 = 0x57
private let slotBits: UInt64 = 28
private let generationBits: UInt64 = 20
private let slotMask: UInt64 = 1 << slotBits - 1
private let generationMask: UInt64 = 1 << generationBits - 1
private let liveBit: UInt64 = 1 << 35
private let pinnedBit: UInt64 = 1 << 34
private let heldBit: UInt64 = 1 << 33
private let refsMask: UInt64 = 0xFFFF_FFFF
private let segmentCount = 22

/// generation and kind as they sit in bits 63..36 of a state word.
@inline(__always)
private func identity(generation: UInt64, kind: UInt64) -> UInt64 { generation << 44 | kind << 36 }

/// The segment directory: 22 words, 0 until segment k exists, in static storage
/// (no lazy-initialization check and one load less on every lookup).
nonisolated(unsafe) private var directoryStorage: (
  UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt,
  UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt
) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

/// The directory's words as atomics (a global's address is stable).
@inline(__always)
private var segments: UnsafeMutablePointer<Atomic<UInt>> {
  withUnsafeMutablePointer(to: &directoryStorage) {
    UnsafeMutableRawPointer($0).assumingMemoryBound(to: Atomic<UInt>.self)
  }
}

private final class HandleTable: @unchecked Sendable {
  let lock = SpinLock()
  // Guarded by lock:
  var free: [UInt32] = []
  var highWater = 1

  /// Slot 0 is the background context's, pinned.
  init() {
    let first = UnsafeMutablePointer<HandleSlot>.allocate(capacity: 64)
    for i in 0..<64 { (first + i).initialize(to: HandleSlot()) }
    let background = Unmanaged.passRetained(Context.background as AnyObject).toOpaque()
    first.pointee.object.store(UInt(bitPattern: background), ordering: .relaxed)
    first.pointee.state.store(
      identity(generation: 0, kind: UInt64(HandleKind.context.rawValue)) | liveBit | pinnedBit | 1, ordering: .relaxed)
    segments[0].store(UInt(bitPattern: first), ordering: .releasing)
  }
}

/// The table, made by the first call that can make or name a handle.
private let table: HandleTable = HandleTable()

/// The background context's handle: slot 0, generation 0.
private let backgroundHandle: UInt64 = marker << 56 | UInt64(HandleKind.context.rawValue) << 48

@inline(__always)
private func slot(_ index: Int) -> UnsafeMutablePointer<HandleSlot>? {
  let q = index >> 6 + 1
  let k = Int.bitWidth - 1 - q.leadingZeroBitCount
  guard k < segmentCount else { return nil }
  let base = segments[k].load(ordering: .acquiring)
  guard base != 0 else { return nil }
  return UnsafeMutablePointer<HandleSlot>(bitPattern: base)! + (index - ((1 << k) - 1) << 6)
}

/// The slot a handle value names and the identity its state must carry; nil when
/// the value cannot be a handle of kind.
@inline(__always)
private func decode(_ value: UInt64, _ kind: HandleKind) -> (UnsafeMutablePointer<HandleSlot>, UInt64)? {
  guard value >> 56 == marker, (value >> 48) & 0xFF == UInt64(kind.rawValue) else { return nil }
  guard let cell = slot(Int(value & slotMask)) else { return nil }
  return (cell, identity(generation: (value >> slotBits) & generationMask, kind: UInt64(kind.rawValue)))
}

/// state names a live slot of identity id.
@inline(__always)
private func matches(_ state: UInt64, _ id: UInt64) -> Bool {
  state & (~(UInt64(1) << 36 - 1) | liveBit) == id | liveBit
}

/// Takes a slot and stores object (one reference, already retained) in it.
/// 0 when the table is full.
private func newHandle(_ object: UnsafeMutableRawPointer, _ kind: HandleKind, pinned: Bool = false, held: Bool = false)
  -> UInt64
{
  table.lock.lock()
  var index: Int
  if let reused = table.free.popLast() {
    index = Int(reused)
  } else {
    index = table.highWater
    let q = index >> 6 + 1
    let k = Int.bitWidth - 1 - q.leadingZeroBitCount
    guard k < segmentCount else {
      table.lock.unlock()
      return 0
    }
    if segments[k].load(ordering: .relaxed) == 0 {
      let count = 64 << k
      let fresh = UnsafeMutablePointer<HandleSlot>.allocate(capacity: count)
      for i in 0..<count { (fresh + i).initialize(to: HandleSlot()) }
      segments[k].store(UInt(bitPattern: fresh), ordering: .releasing)
    }
    table.highWater += 1
  }
  table.lock.unlock()
  let cell = slot(index)!
  let generation = cell.pointee.state.load(ordering: .relaxed) >> 44
  cell.pointee.object.store(UInt(bitPattern: object), ordering: .relaxed)
  cell.pointee.aux.store(0, ordering: .relaxed)
  let flags = liveBit | (pinned ? pinnedBit : 0) | (held ? heldBit : 0)
  cell.pointee.state.store(identity(generation: generation, kind: UInt64(kind.rawValue)) | flags | 1, ordering: .releasing)
  return marker << 56 | UInt64(kind.rawValue) << 48 | generation << slotBits | UInt64(index)
}

/// Frees a slot whose refs just reached 0 (the caller's CAS moved its state to
/// the next generation): drops its object and aux, then reuses or retires it.
private func freeSlot(_ cell: UnsafeMutablePointer<HandleSlot>, _ value: UInt64, retired: Bool) {
  let object = cell.pointee.object.exchange(0, ordering: .acquiring)
  let aux = cell.pointee.aux.exchange(0, ordering: .acquiring)
  if aux != 0 { dropHeld(aux) }
  if let raw = UnsafeMutableRawPointer(bitPattern: object) { Unmanaged<AnyObject>.fromOpaque(raw).release() }
  guard !retired else { return }
  table.lock.lock()
  table.free.append(UInt32(value & slotMask))
  table.lock.unlock()
}

/// Releases one reference. owner: the owning slot drops its held reference.
private func releaseValue(_ value: UInt64, _ kind: HandleKind, owner: Bool = false) -> Bool {
  guard let (cell, id) = decode(value, kind) else { return false }
  var state = cell.pointee.state.load(ordering: .relaxed)
  while true {
    guard matches(state, id) else { return false }
    if state & pinnedBit != 0 { return true }
    let refs = state & refsMask
    if owner {
      if state & heldBit == 0 { return false }
    } else if state & heldBit != 0 && refs <= 1 {
      return false
    }
    let next: UInt64
    let last = refs == 1
    if last {
      let generation = ((state >> 44) + 1) & generationMask
      next = identity(generation: generation, kind: 0)
    } else {
      next = (state & ~(owner ? heldBit : 0)) - 1
    }
    let (done, current) = cell.pointee.state.compareExchange(
      expected: state, desired: next, ordering: .acquiringAndReleasing)
    if done {
      if last { freeSlot(cell, value, retired: next >> 44 == 0) }
      return true
    }
    state = current
  }
}

private func dropHeld(_ value: UInt64) {
  let kind = HandleKind(rawValue: UInt8((value >> 48) & 0xFF))!
  _ = releaseValue(value, kind, owner: true)
}

@inline(__always)
private func bits<P>(_ handle: UnsafeMutablePointer<P>?) -> UInt64 { UInt64(UInt(bitPattern: handle)) }

@inline(__always)
private func pointer<P>(_ value: UInt64) -> UnsafeMutablePointer<P>? { UnsafeMutablePointer(bitPattern: UInt(value)) }

// MARK: - The generic operations every handle type uses

/// A new handle owning one reference to object; nil when the table is full.
func newHandle<T: HandleObject, P>(_ object: T, held: Bool = false) -> UnsafeMutablePointer<P>? {
  let raw = Unmanaged.passRetained(object as AnyObject).toOpaque()
  let value = newHandle(raw, T.handleKind, held: held)
  if value == 0 { Unmanaged<AnyObject>.fromOpaque(raw).release() }
  return pointer(value)
}

/// Stores a new handle for object in out: 0, or WEFT_ENOMEM when the table is full.
func give<T: HandleObject, P>(_ object: T, _ out: UnsafeMutablePointer<UnsafeMutablePointer<P>?>) -> Int32 {
  out.pointee = newHandle(object)
  return out.pointee == nil ? WeftError.noMemory.code : 0
}

/// The object behind a live handle of T's kind; nil for NULL, released, wrong
/// kind or foreign. Borrowed: valid while the caller holds the handle.
@inline(__always)
func object<T: HandleObject, P>(_ handle: UnsafeMutablePointer<P>?, _: T.Type) -> Unmanaged<T>? {
  guard let (cell, id) = decode(bits(handle), T.handleKind) else { return nil }
  guard matches(cell.pointee.state.load(ordering: .acquiring), id) else { return nil }
  // Live: object was stored before state was published (and is cleared only
  // after the slot left this generation, by its last release).
  let raw = cell.pointee.object.load(ordering: .relaxed)
  return Unmanaged<T>.fromOpaque(UnsafeRawPointer(bitPattern: raw).unsafelyUnwrapped)
}

/// Runs body on the live object behind handle; WEFT_EINVAL for a bad handle.
@inline(__always)
func with<T: HandleObject, P>(_ handle: UnsafeMutablePointer<P>?, _ type: T.Type, _ body: (T) -> Int32) -> Int32 {
  guard let object = object(handle, type) else { return WeftError.invalid.code }
  return object._withUnsafeGuaranteedRef(body)
}

/// One more reference to handle: handle itself, nil for a bad handle.
func retainHandle<T: HandleObject, P>(_ handle: UnsafeMutablePointer<P>?, _: T.Type) -> UnsafeMutablePointer<P>? {
  guard let (cell, id) = decode(bits(handle), T.handleKind) else { return nil }
  var state = cell.pointee.state.load(ordering: .relaxed)
  while true {
    guard matches(state, id) else { return nil }
    if state & pinnedBit != 0 { return handle }
    guard state & refsMask < refsMask else { return nil }
    let (done, current) = cell.pointee.state.compareExchange(
      expected: state, desired: state + 1, ordering: .relaxed)
    if done { return handle }
    state = current
  }
}

/// Drops one reference (the last frees the handle): 0, or WEFT_EINVAL for a bad
/// handle or a borrowed one with no reference of the caller's left.
func releaseHandle<T: HandleObject, P>(_ handle: UnsafeMutablePointer<P>?, _: T.Type) -> Int32 {
  releaseValue(bits(handle), T.handleKind) ? 0 : WeftError.invalid.code
}

/// The borrowed handle owner keeps for make()'s object (made at the first call);
/// nil for a bad owner or when make returns nil.
func auxHandle<O: HandleObject, T: HandleObject, P, Q>(
  _ owner: UnsafeMutablePointer<P>?, _: O.Type, _: T.Type, _ make: (O) -> T?
) -> UnsafeMutablePointer<Q>? {
  guard let (cell, id) = decode(bits(owner), O.handleKind),
    matches(cell.pointee.state.load(ordering: .acquiring), id)
  else { return nil }
  let existing = cell.pointee.aux.load(ordering: .acquiring)
  if existing != 0 { return pointer(existing) }
  guard let live = object(owner, O.self), let made = live._withUnsafeGuaranteedRef(make) else { return nil }
  let fresh: UnsafeMutablePointer<Q>? = newHandle(made, held: true)
  guard let fresh else { return nil }
  let (stored, current) = cell.pointee.aux.compareExchange(
    expected: 0, desired: bits(fresh), ordering: .acquiringAndReleasing)
  if !stored {  // a racing caller stored first
    dropHeld(bits(fresh))
    return pointer(current)
  }
  // The owner was freed meanwhile (only when released while in use): undo.
  if !matches(cell.pointee.state.load(ordering: .acquiring), id) {
    if cell.pointee.aux.compareExchange(expected: bits(fresh), desired: 0, ordering: .relaxed).exchanged {
      dropHeld(bits(fresh))
    }
    return nil
  }
  return fresh
}

// MARK: - Contexts: NULL and the background handle name Context.background

/// The background context's handle (pinned: retain/release are no-ops).
var backgroundContextHandle: CtxHandle {
  _ = table  // the table holds the background's slot
  return pointer(backgroundHandle)!
}

/// The context behind a handle (NULL: background); nil for a bad handle.
@inline(__always)
func contextObject(_ handle: CtxHandle?) -> Unmanaged<Context>? {
  guard let handle else { return Unmanaged.passUnretained(Context.background) }
  return object(handle, Context.self)
}

/// handle with one more reference, for a callback that gets it as its ctx
/// (NULL: the background handle); released by the returned lease's deinit.
final class ContextLease: @unchecked Sendable {
  let handle: CtxHandle?
  init?(_ handle: CtxHandle?) {
    guard let held = retainHandle(handle ?? backgroundContextHandle, Context.self) else { return nil }
    self.handle = held
  }
  deinit { _ = releaseHandle(handle, Context.self) }
}
