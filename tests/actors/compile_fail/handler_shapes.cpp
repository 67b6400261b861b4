// Handler shapes that must not compile: subject<N> registers the bad handler of case N.
// With QUAY_CASE=0 only the good handlers are registered (the control, which must compile:
// it proves the flags are right); with QUAY_CASE=-1 every case is instantiated in one
// compile, each in its own table, so each reports its own error. Run by
// check_compile_fails.cmake.

#include <utility>

#include "quay/actors/actor.hpp"

namespace {

struct msg {};
struct req {
  using reply_type = int;
};

void free_handler(const msg&) {}

class other {
 public:
  void on_msg(const msg&) {}
};

template <int N>
class subject final : public quay::actor {
 public:
  static void define(quay::handlers<subject>& h) {
    h.template on<&subject::ok_msg>().template on<&subject::ok_req>();
    if constexpr (N == 1) {
      h.template on<&free_handler>();
    } else if constexpr (N == 2) {
      h.template on<&other::on_msg>();
    } else if constexpr (N == 3) {
      h.template on<&subject::two_messages>();
    } else if constexpr (N == 4) {
      h.template on<&subject::wrong_promise>();
    } else if constexpr (N == 5) {
      h.template on<&subject::wrong_reply>();
    } else if constexpr (N == 6) {
      h.template on<&subject::coroutine_by_reference>();
    } else if constexpr (N == 7) {
      h.template on<&subject::by_pointer>();
    } else if constexpr (N == 8) {
      h.template on<&subject::promise_and_value>();
    }
  }

 private:
  void ok_msg(const msg&) const noexcept {}
  void ok_req(const req&, quay::response_promise<int>) noexcept {}
  void two_messages(const msg&, const msg&) {}
  void wrong_promise(const req&, quay::response_promise<long>) {}
  long wrong_reply(const req&) { return 0; }
  quay::task<> coroutine_by_reference(const msg&) { co_return; }
  void by_pointer(msg*) {}
  int promise_and_value(const req&, quay::response_promise<int>) { return 0; }
};

}  // namespace

// Instantiates the tables (the static_asserts fire here).
template <int... N>
void instantiate(std::integer_sequence<int, N...>) {
  (quay::detail::table_of<subject<N>>(), ...);
}
void tables() {
#if QUAY_CASE == 0
  instantiate(std::integer_sequence<int, 0>{});
#else
  instantiate(std::integer_sequence<int, 1, 2, 3, 4, 5, 6, 7, 8>{});
#endif
}
