// Global operator new/delete replacements that count calls and, when asked, live bytes.
// malloc_usable_size gives the size on free without a header of our own, so the allocator's
// behaviour (and the RSS figures) stay those of plain glibc malloc.

#include "alloc_counter.hpp"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <new>

namespace quay::bench::alloc {

std::uint64_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0;
  unsigned long long resident = 0;
  int got = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (got != 2) return 0;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

namespace {

void note_alloc(void* p) noexcept {
  if (counting.load(std::memory_order_relaxed)) calls.fetch_add(1, std::memory_order_relaxed);
  if (tracking_bytes.load(std::memory_order_relaxed)) {
    live_bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p)),
                         std::memory_order_relaxed);
  }
}

void note_free(void* p) noexcept {
  if (p != nullptr && tracking_bytes.load(std::memory_order_relaxed)) {
    live_bytes.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)),
                         std::memory_order_relaxed);
  }
}

void* checked_malloc(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  note_alloc(p);
  return p;
}

void* checked_aligned(std::size_t n, std::size_t align) {
  void* p = nullptr;
  if (posix_memalign(&p, align < sizeof(void*) ? sizeof(void*) : align, n == 0 ? 1 : n) != 0) {
    throw std::bad_alloc();
  }
  note_alloc(p);
  return p;
}

void release(void* p) noexcept {
  note_free(p);
  std::free(p);
}

}  // namespace
}  // namespace quay::bench::alloc

namespace qa = quay::bench::alloc;

void* operator new(std::size_t n) { return qa::checked_malloc(n); }
void* operator new[](std::size_t n) { return qa::checked_malloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return qa::checked_malloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return qa::checked_malloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a) {
  return qa::checked_aligned(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return qa::checked_aligned(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { qa::release(p); }
void operator delete[](void* p) noexcept { qa::release(p); }
void operator delete(void* p, std::size_t) noexcept { qa::release(p); }
void operator delete[](void* p, std::size_t) noexcept { qa::release(p); }
void operator delete(void* p, std::align_val_t) noexcept { qa::release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { qa::release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { qa::release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { qa::release(p); }
