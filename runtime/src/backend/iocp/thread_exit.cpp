// at_thread_exit on Windows: a fiber-local storage slot whose callback Windows (and Wine) runs
// at thread exit with the slot's value. The list lives on the heap and is reached only through
// the FLS value, never through mingw's emulated TLS, which may already be freed by then.
#include <windows.h>

#include <cstdlib>
#include <new>

#include "quay/runtime/thread_exit.hpp"

namespace quay::detail {
namespace {

struct exit_call {
  void (*fn)(void*);
  void* arg;
  exit_call* next;  // registered earlier
};

void WINAPI run_exit_calls(void* head) {
  auto* c = static_cast<exit_call*>(head);
  while (c != nullptr) {
    exit_call* next = c->next;
    c->fn(c->arg);
    delete c;
    c = next;
  }
}

DWORD exit_slot() {
  static const DWORD slot = [] {
    const DWORD s = ::FlsAlloc(&run_exit_calls);
    if (s == FLS_OUT_OF_INDEXES) std::abort();  // 4,000+ slots in use: nothing sane to do
    return s;
  }();
  return slot;
}

}  // namespace

void at_thread_exit(void (*fn)(void*), void* arg) {
  const DWORD slot = exit_slot();
  auto* c = new exit_call{fn, arg, static_cast<exit_call*>(::FlsGetValue(slot))};
  if (!::FlsSetValue(slot, c)) {
    delete c;
    throw std::bad_alloc();
  }
}

}  // namespace quay::detail
