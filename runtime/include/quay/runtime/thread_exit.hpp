#pragma once
/// Per-thread cleanup that is safe on every platform.
///
/// A C++ `thread_local` with a destructor is not: mingw-w64 emulates TLS and may free a
/// thread's thread_local storage *before* running that thread's thread_local destructors, so
/// the destructor reads freed memory (heap corruption at thread exit, seen under Wine). Code
/// in Quay therefore keeps only trivially destructible thread_locals (plain pointers) and
/// registers the cleanup of per-thread heap objects here.

namespace quay::detail {

/// Calls `fn(arg)` once when the calling thread exits, after any callback registered later on
/// the same thread (last in, first out). Not called for a thread that is still running when
/// the process exits. Thread contract: affects only the calling thread; `fn` must not touch
/// the caller's thread_local variables (they may already be gone). Throws std::bad_alloc.
void at_thread_exit(void (*fn)(void*), void* arg);

}  // namespace quay::detail
