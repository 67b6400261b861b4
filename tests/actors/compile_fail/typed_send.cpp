// Sends through a typed_ref of a type it does not list must not compile. QUAY_CASE=0 is the
// control (only listed types); QUAY_CASE=-1 adds the bad sends. Run by
// check_compile_fails.cmake.

#include "quay/actors/actors.hpp"

namespace {

struct hit {
  int damage;
};
struct heal {
  int amount;
};
struct price {
  using reply_type = int;
};
struct unrelated {};

using monster_ref = quay::typed_ref<hit, heal, price>;

class sender final : public quay::actor {
 public:
  explicit sender(monster_ref m) : m_(m) {}
  static void define(quay::handlers<sender>& h) { h.on<&sender::on_go>(); }

 private:
  quay::task<> on_go(hit) {
    send(m_, hit{1});
    ask(m_, price{}, quay::millis{10}, [](quay::result<int>) {});
    quay::result<int> r = co_await ask(m_, price{}, quay::millis{10});
    (void)r;
#if QUAY_CASE != 0
    send(m_, unrelated{});                                    // case 1
    ask(m_, unrelated_request{}, quay::millis{10}, [](quay::result<int>) {});  // case 2
#endif
  }
#if QUAY_CASE != 0
  struct unrelated_request {
    using reply_type = int;
  };
#endif
  monster_ref m_;
};

}  // namespace

void use(quay::actor_system& sys, monster_ref m) {
  sys.send(m, heal{2});
  quay::typed_ref<hit> only_hits = m;  // a subset converts implicitly
  sys.send(only_hits, hit{3});
  sys.spawn<sender>(m);
#if QUAY_CASE != 0
  sys.send(only_hits, heal{1});  // case 3: not in the narrowed list
  quay::typed_ref<hit, unrelated> wider = only_hits;  // case 4: not a subset
  (void)wider;
#endif
}
