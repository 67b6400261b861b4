// typed_ref: a handle listing the accepted message types; converts to and from actor_ref.
// (Sends of unlisted types are compile-time errors: the typed_ref.compile_fail test.)

#include <gtest/gtest.h>

#include <vector>

#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"

namespace {

struct hit {
  int damage;
};
struct price {
  using reply_type = int;
};

class monster final : public quay::actor {
 public:
  explicit monster(std::vector<int>* hits) : hits_(hits) {}
  static void define(quay::handlers<monster>& h) {
    h.on<&monster::on_hit>().on<&monster::on_price>();
  }

 private:
  void on_hit(const hit& m) { hits_->push_back(m.damage); }
  int on_price(const price&) const { return 42; }
  std::vector<int>* hits_;
};

using monster_ref = quay::typed_ref<hit, price>;

struct go {
  monster_ref target;
};

class hunter final : public quay::actor {
 public:
  explicit hunter(std::vector<int>* prices) : prices_(prices) {}
  static void define(quay::handlers<hunter>& h) { h.on<&hunter::on_go>(); }

 private:
  quay::task<> on_go(go g) {
    send(g.target, hit{5});
    ask(g.target, price{}, quay::millis{1000},
        [this](quay::result<int> r) { prices_->push_back(r ? *r : -1); });
    quay::result<int> r = co_await ask(g.target, price{}, quay::millis{1000});
    prices_->push_back(r ? *r : -1);
  }
  std::vector<int>* prices_;
};

TEST(typed_ref, sends_and_asks_through_a_typed_handle_reach_the_actor) {
  quay::testing::actor_fixture f;
  std::vector<int> hits;
  std::vector<int> prices;
  const monster_ref m{f.spawn<monster>(&hits)};
  f.sys.send(m, hit{1});
  f.send(f.spawn<hunter>(&prices), go{m});
  f.run();
  EXPECT_EQ(hits, (std::vector<int>{1, 5}));
  EXPECT_EQ(prices, (std::vector<int>{42, 42}));
}

TEST(typed_ref, converts_to_actor_ref_and_to_a_narrower_typed_ref) {
  quay::testing::actor_fixture f;
  std::vector<int> hits;
  const quay::actor_ref untyped = f.spawn<monster>(&hits);
  const monster_ref m{untyped};
  const quay::actor_ref back = m;
  EXPECT_EQ(back, untyped);
  const quay::typed_ref<hit> narrow = m;
  EXPECT_EQ(narrow.untyped(), untyped);
  EXPECT_TRUE(narrow);
  EXPECT_FALSE(quay::typed_ref<hit>{});
  static_assert(monster_ref::accepts<const hit&> && !quay::typed_ref<hit>::accepts<price>);
  static_assert(sizeof(monster_ref) == sizeof(quay::actor_ref));
}

}  // namespace
