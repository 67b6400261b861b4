#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "quay/actors/actor_ref.hpp"

namespace quay {

class actor;
template <class T = void>
class task;

namespace detail {

struct task_promise_base;
/// Called when a top-level (handler) task finishes: sends its reply or records its failure,
/// unlinks it from its actor and destroys its frame. Worker only (inside the actor's turn).
void finish_top_level_task(task_promise_base& p) noexcept;

struct task_promise_base {
  // Set when awaited by another task: resumed (symmetric transfer) when this one finishes.
  std::coroutine_handle<> continuation{};
  std::exception_ptr error{};
  // Top-level bookkeeping (a handler's task, owned by its actor).
  actor* owner = nullptr;
  std::coroutine_handle<> self{};
  actor_ref reply_to{};
  std::uint64_t request_id = 0;
  task_promise_base* prev = nullptr;
  task_promise_base* next = nullptr;
  // Sends the typed reply of a finished top-level request handler.
  void (*send_reply)(task_promise_base& p) = nullptr;

  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      task_promise_base& p = h.promise();
      if (p.continuation) {
        return p.continuation;
      }
      if (p.owner != nullptr) {
        finish_top_level_task(p);  // destroys the frame
      }
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };

  std::suspend_always initial_suspend() const noexcept { return {}; }
  final_awaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <class T>
struct task_promise : task_promise_base {
  std::optional<T> value;
  task<T> get_return_object() noexcept;
  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
};

template <>
struct task_promise<void> : task_promise_base {
  task<void> get_return_object() noexcept;
  void return_void() noexcept {}
};

}  // namespace detail

/// A coroutine for actor code: message handlers may return `task<>` (or `task<R>` for a request
/// whose reply type is R) and `co_await` requests (`ask`) and other tasks.
///
/// A task is lazy: it starts when awaited, or, for a handler, when the actor dispatches it. A
/// handler's task belongs to its actor: it resumes only inside that actor's turns (so actor
/// state needs no locks), and it is destroyed if the actor stops while it is suspended (a
/// pending request it was answering then gets actor_errc::target_stopped).
///
/// Reentrancy: while a handler's task is suspended in `co_await`, the actor keeps handling other
/// messages. State may change across a `co_await`; re-check what you rely on after it.
///
/// Thread contract: owner only (the actor that runs it).
template <class T>
class task {
 public:
  using promise_type = detail::task_promise<T>;
  using value_type = T;

  task() noexcept = default;
  explicit task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { destroy(); }

  struct awaiter {
    std::coroutine_handle<promise_type> h;
    bool await_ready() const noexcept { return !h || h.done(); }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> cont) noexcept {
      h.promise().continuation = cont;
      return h;
    }
    T await_resume() {
      auto& p = h.promise();
      if (p.error) {
        std::rethrow_exception(p.error);
      }
      if constexpr (!std::is_void_v<T>) {
        return std::move(*p.value);
      }
    }
  };
  /// Runs the task to completion (suspending the awaiting task meanwhile). Owner only.
  awaiter operator co_await() && noexcept { return awaiter{h_}; }

  /// Gives up ownership of the frame. Internal (used by the dispatcher).
  std::coroutine_handle<promise_type> release() noexcept { return std::exchange(h_, {}); }

 private:
  void destroy() noexcept {
    if (h_) {
      h_.destroy();
      h_ = {};
    }
  }
  std::coroutine_handle<promise_type> h_{};
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}

template <class X>
struct is_task : std::false_type {};
template <class T>
struct is_task<task<T>> : std::true_type {};
}  // namespace detail

}  // namespace quay
