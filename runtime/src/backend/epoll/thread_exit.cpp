// at_thread_exit on Linux: glibc runs thread_local destructors before it frees the thread's
// TLS block, so one thread_local list with a destructor is enough.
#include "quay/runtime/thread_exit.hpp"

#include <utility>
#include <vector>

namespace quay::detail {
namespace {

struct exit_list {
  std::vector<std::pair<void (*)(void*), void*>> calls;
  ~exit_list() {
    while (!calls.empty()) {
      const auto [fn, arg] = calls.back();
      calls.pop_back();
      fn(arg);
    }
  }
};

}  // namespace

void at_thread_exit(void (*fn)(void*), void* arg) {
  thread_local exit_list list;
  list.calls.emplace_back(fn, arg);
}

}  // namespace quay::detail
