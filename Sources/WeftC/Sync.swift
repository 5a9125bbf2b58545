import CWeftABI
import Weft

// The sync sections of weft.h: WaitGroup, Mutex, RWMutex, Once, Cond, Semaphore.
// Handles are Handles.swift's (NULL, released, wrong-kind and foreign ones are
// WEFT_EINVAL); calls borrow the object: no retain/release per operation.

// MARK: - WaitGroup

@c public func weft_wg_make(_ out: UnsafeMutablePointer<UnsafeMutablePointer<weft_wg_t>?>?) -> Int32 {
  guard let out else { return WeftError.invalid.code }
  return give(WaitGroup(), out)
}

@c public func weft_wg_retain(_ wg: UnsafeMutablePointer<weft_wg_t>?) -> UnsafeMutablePointer<weft_wg_t>? {
  retainHandle(wg, WaitGroup.self)
}

@c public func weft_wg_release(_ wg: UnsafeMutablePointer<weft_wg_t>?) -> Int32 { releaseHandle(wg, WaitGroup.self) }

@c public func weft_wg_add(_ wg: UnsafeMutablePointer<weft_wg_t>?, _ delta: Int64) -> Int32 {
  with(wg, WaitGroup.self) { code($0.coreAdd(delta)) }
}

@c public func weft_wg_done(_ wg: UnsafeMutablePointer<weft_wg_t>?) -> Int32 {
  with(wg, WaitGroup.self) { code($0.coreDone()) }
}

@c public func weft_wg_wait(_ wg: UnsafeMutablePointer<weft_wg_t>?) -> Int32 {
  with(wg, WaitGroup.self) { code($0.coreWait()) }
}

@c public func weft_wg_wait_until(_ wg: UnsafeMutablePointer<weft_wg_t>?, _ deadline_ns: Int64) -> Int32 {
  with(wg, WaitGroup.self) { code($0.coreWait(deadline: deadline_ns)) }
}

@c public func weft_wg_wait_ctx(_ wg: UnsafeMutablePointer<weft_wg_t>?, _ ctx: UnsafeMutablePointer<weft_ctx_t>?)
  -> Int32
{
  withContext(ctx) { context in with(wg, WaitGroup.self) { code($0.coreWait(context: context)) } }
}

@c public func weft_wg_go(_ wg: UnsafeMutablePointer<weft_wg_t>?, _ fn: weft_fn?, _ arg: UnsafeMutableRawPointer?)
  -> Int32
{
  guard let fn else { return WeftError.invalid.code }
  return with(wg, WaitGroup.self) { code($0.go(fn, arg)) }
}

// MARK: - Mutex

@c public func weft_mutex_make(_ out: UnsafeMutablePointer<UnsafeMutablePointer<weft_mutex_t>?>?) -> Int32 {
  guard let out else { return WeftError.invalid.code }
  return give(Weft.Mutex(), out)
}

@c public func weft_mutex_retain(_ mu: UnsafeMutablePointer<weft_mutex_t>?) -> UnsafeMutablePointer<weft_mutex_t>? {
  retainHandle(mu, Weft.Mutex.self)
}

@c public func weft_mutex_release(_ mu: UnsafeMutablePointer<weft_mutex_t>?) -> Int32 { releaseHandle(mu, Weft.Mutex.self) }

@c public func weft_mutex_lock(_ mu: UnsafeMutablePointer<weft_mutex_t>?) -> Int32 {
  with(mu, Weft.Mutex.self) { code($0.coreLock()) }
}

@c public func weft_mutex_try_lock(_ mu: UnsafeMutablePointer<weft_mutex_t>?) -> Int32 {
  with(mu, Weft.Mutex.self) { $0.tryLock() ? 0 : WeftError.wouldBlock.code }
}

@c public func weft_mutex_lock_until(_ mu: UnsafeMutablePointer<weft_mutex_t>?, _ deadline_ns: Int64) -> Int32 {
  with(mu, Weft.Mutex.self) { code($0.coreLock(deadline: deadline_ns)) }
}

@c public func weft_mutex_lock_ctx(_ mu: UnsafeMutablePointer<weft_mutex_t>?, _ ctx: UnsafeMutablePointer<weft_ctx_t>?)
  -> Int32
{
  withContext(ctx) { context in with(mu, Weft.Mutex.self) { code($0.coreLock(deadline: noDeadline, context: context)) } }
}

@c public func weft_mutex_unlock(_ mu: UnsafeMutablePointer<weft_mutex_t>?) -> Int32 {
  with(mu, Weft.Mutex.self) { code($0.coreUnlock()) }
}

// MARK: - RWMutex

@c public func weft_rwmutex_make(_ out: UnsafeMutablePointer<UnsafeMutablePointer<weft_rwmutex_t>?>?) -> Int32 {
  guard let out else { return WeftError.invalid.code }
  return give(RWMutex(), out)
}

@c public func weft_rwmutex_retain(_ rw: UnsafeMutablePointer<weft_rwmutex_t>?)
  -> UnsafeMutablePointer<weft_rwmutex_t>?
{
  retainHandle(rw, RWMutex.self)
}

@c public func weft_rwmutex_release(_ rw: UnsafeMutablePointer<weft_rwmutex_t>?) -> Int32 {
  releaseHandle(rw, RWMutex.self)
}

@c public func weft_rwmutex_rlock(_ rw: UnsafeMutablePointer<weft_rwmutex_t>?) -> Int32 {
  with(rw, RWMutex.self) { code($0.coreReadLock()) }
}

@c public func weft_rwmutex_try_rlock(_ rw: UnsafeMutablePointer<weft_rwmutex_t>?) -> Int32 {
  with(rw, RWMutex.self) { $0.coreTryReadLock() ? 0 : WeftError.wouldBlock.code }
}

@c public func weft_rwmutex_rlock_until(_ rw: UnsafeMutablePointer<weft_rwmutex_t>?, _ deadline_ns: Int64) -> Int32 {
  with(rw, RWMutex.self) { code($0.coreReadLock(deadline: deadline_ns)) }
}

@c public func weft_rwmutex_rlock_ctx(
  _ rw: UnsafeMutablePointer<weft_rwmutex_t>?, _ ctx: UnsafeMutablePointer<weft_ctx_t>?
) -> Int32 {
  withContext(ctx) { context in with(rw, RWMutex.self) { code($0.coreReadLock(deadline: noDeadline, context: context)) } }
}

@c public func weft_rwmutex_runlock(_ rw: UnsafeMutablePointer<weft_rwmutex_t>?) -> Int32 {
  with(rw, RWMutex.self) { code($0.coreReadUnlock()) }
}

@c public func weft_rwmutex_lock(_ rw: UnsafeMutablePointer<weft_rwmutex_t>?) -> Int32 {
  with(rw, RWMutex.self) { code($0.coreLock()) }
}

@c public func weft_rwmutex_try_lock(_ rw: UnsafeMutablePointer<weft_rwmutex_t>?) -> Int32 {
  with(rw, RWMutex.self) { $0.tryLock() ? 0 : WeftError.wouldBlock.code }
}

@c public func weft_rwmutex_lock_until(_ rw: UnsafeMutablePointer<weft_rwmutex_t>?, _ deadline_ns: Int64) -> Int32 {
  with(rw, RWMutex.self) { code($0.coreLock(deadline: deadline_ns)) }
}

@c public func weft_rwmutex_lock_ctx(
  _ rw: UnsafeMutablePointer<weft_rwmutex_t>?, _ ctx: UnsafeMutablePointer<weft_ctx_t>?
) -> Int32 {
  withContext(ctx) { context in with(rw, RWMutex.self) { code($0.coreLock(deadline: noDeadline, context: context)) } }
}

@c public func weft_rwmutex_unlock(_ rw: UnsafeMutablePointer<weft_rwmutex_t>?) -> Int32 {
  with(rw, RWMutex.self) { code($0.coreUnlock()) }
}

// MARK: - Once

@c public func weft_once_make(_ out: UnsafeMutablePointer<UnsafeMutablePointer<weft_once_t>?>?) -> Int32 {
  guard let out else { return WeftError.invalid.code }
  return give(Once(), out)
}

@c public func weft_once_retain(_ once: UnsafeMutablePointer<weft_once_t>?) -> UnsafeMutablePointer<weft_once_t>? {
  retainHandle(once, Once.self)
}

@c public func weft_once_release(_ once: UnsafeMutablePointer<weft_once_t>?) -> Int32 { releaseHandle(once, Once.self) }

@c public func weft_once_do(_ once: UnsafeMutablePointer<weft_once_t>?, _ fn: weft_fn?, _ arg: UnsafeMutableRawPointer?)
  -> Int32
{
  guard let fn else { return WeftError.invalid.code }
  return with(once, Once.self) { code($0.coreRun(fn, arg)) }
}

@c public func weft_once_do_until(
  _ once: UnsafeMutablePointer<weft_once_t>?, _ fn: weft_fn?, _ arg: UnsafeMutableRawPointer?, _ deadline_ns: Int64
) -> Int32 {
  guard let fn else { return WeftError.invalid.code }
  return with(once, Once.self) { code($0.coreRun(fn, arg, deadline: deadline_ns)) }
}

@c public func weft_once_do_ctx(
  _ once: UnsafeMutablePointer<weft_once_t>?, _ fn: weft_fn?, _ arg: UnsafeMutableRawPointer?,
  _ ctx: UnsafeMutablePointer<weft_ctx_t>?
) -> Int32 {
  guard let fn else { return WeftError.invalid.code }
  return withContext(ctx) { context in with(once, Once.self) { code($0.coreRun(fn, arg, context: context)) } }
}

// MARK: - Cond

@c public func weft_cond_make(
  _ mu: UnsafeMutablePointer<weft_mutex_t>?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<weft_cond_t>?>?
) -> Int32 {
  guard let out, let mutex = object(mu, Weft.Mutex.self) else { return WeftError.invalid.code }
  return give(Cond(mutex: mutex.takeUnretainedValue()), out)
}

@c public func weft_cond_retain(_ cond: UnsafeMutablePointer<weft_cond_t>?) -> UnsafeMutablePointer<weft_cond_t>? {
  retainHandle(cond, Cond.self)
}

@c public func weft_cond_release(_ cond: UnsafeMutablePointer<weft_cond_t>?) -> Int32 { releaseHandle(cond, Cond.self) }

@c public func weft_cond_wait(_ cond: UnsafeMutablePointer<weft_cond_t>?) -> Int32 {
  with(cond, Cond.self) { code($0.coreWait()) }
}

@c public func weft_cond_wait_until(_ cond: UnsafeMutablePointer<weft_cond_t>?, _ deadline_ns: Int64) -> Int32 {
  with(cond, Cond.self) { code($0.coreWait(deadline: deadline_ns)) }
}

@c public func weft_cond_wait_ctx(_ cond: UnsafeMutablePointer<weft_cond_t>?, _ ctx: UnsafeMutablePointer<weft_ctx_t>?)
  -> Int32
{
  withContext(ctx) { context in with(cond, Cond.self) { code($0.coreWait(context: context)) } }
}

@c public func weft_cond_signal(_ cond: UnsafeMutablePointer<weft_cond_t>?) -> Int32 {
  with(cond, Cond.self) {
    $0.signal()
    return 0
  }
}

@c public func weft_cond_broadcast(_ cond: UnsafeMutablePointer<weft_cond_t>?) -> Int32 {
  with(cond, Cond.self) {
    $0.broadcast()
    return 0
  }
}

// MARK: - Semaphore

@c public func weft_sem_make(_ capacity: Int64, _ out: UnsafeMutablePointer<UnsafeMutablePointer<weft_sem_t>?>?)
  -> Int32
{
  guard let out, let sem = Semaphore(coreCapacity: capacity) else { return WeftError.invalid.code }
  return give(sem, out)
}

@c public func weft_sem_retain(_ sem: UnsafeMutablePointer<weft_sem_t>?) -> UnsafeMutablePointer<weft_sem_t>? {
  retainHandle(sem, Semaphore.self)
}

@c public func weft_sem_release(_ sem: UnsafeMutablePointer<weft_sem_t>?) -> Int32 { releaseHandle(sem, Semaphore.self) }

@c public func weft_sem_acquire(_ sem: UnsafeMutablePointer<weft_sem_t>?, _ n: Int64) -> Int32 {
  with(sem, Semaphore.self) { code($0.coreAcquire(n)) }
}

@c public func weft_sem_try_acquire(_ sem: UnsafeMutablePointer<weft_sem_t>?, _ n: Int64) -> Int32 {
  with(sem, Semaphore.self) { code($0.coreTryAcquire(n)) }
}

@c public func weft_sem_acquire_until(_ sem: UnsafeMutablePointer<weft_sem_t>?, _ n: Int64, _ deadline_ns: Int64)
  -> Int32
{
  with(sem, Semaphore.self) { code($0.coreAcquire(n, deadline: deadline_ns)) }
}

@c public func weft_sem_acquire_ctx(
  _ sem: UnsafeMutablePointer<weft_sem_t>?, _ n: Int64, _ ctx: UnsafeMutablePointer<weft_ctx_t>?
) -> Int32 {
  withContext(ctx) { context in with(sem, Semaphore.self) { code($0.coreAcquire(n, context: context)) } }
}

@c public func weft_sem_put(_ sem: UnsafeMutablePointer<weft_sem_t>?, _ n: Int64) -> Int32 {
  with(sem, Semaphore.self) { code($0.coreRelease(n)) }
}
