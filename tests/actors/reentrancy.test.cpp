// The reentrancy rule: while a handler's coroutine awaits, the actor keeps handling other
// messages (interleaving happens only at co_await points), and it never runs two handlers at
// the same time.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"

namespace {

using namespace std::chrono_literals;
using quay::actor_ref;
using quay::result;
using quay::testing::actor_fixture;

struct question {
  using reply_type = int;
};
struct release {};
struct start_work {
  actor_ref oracle;
};
struct poke {
  int n;
};

// Answers `question` only when told to `release`, so a requester stays suspended meanwhile.
class oracle final : public quay::actor {
 public:
  static void define(quay::handlers<oracle>& h) {
    h.on<&oracle::on_question>().on<&oracle::on_release>();
  }

 private:
  struct gate {
    oracle* self;
    bool await_ready() const noexcept { return self->released_; }
    void await_suspend(std::coroutine_handle<> h) { self->waiters_.push_back(h); }
    void await_resume() const noexcept {}
  };
  quay::task<int> on_question(question) {
    co_await gate{this};
    co_return 7;
  }
  void on_release(release&) {
    released_ = true;
    auto ws = std::move(waiters_);
    for (auto h : ws) {
      h.resume();
    }
  }
  bool released_ = false;
  std::vector<std::coroutine_handle<>> waiters_;
};

class worker final : public quay::actor {
 public:
  explicit worker(std::vector<std::string>* log) : log_(log) {}
  static void define(quay::handlers<worker>& h) {
    h.on<&worker::on_start_work>().on<&worker::on_poke>();
  }

 private:
  quay::task<> on_start_work(start_work w) {
    log_->push_back("begin counter=" + std::to_string(counter_));
    result<int> r = co_await ask(w.oracle, question{}, 10'000ms);
    // State changed while we were suspended: the pokes ran in between.
    log_->push_back("resumed counter=" + std::to_string(counter_) +
                    " answer=" + std::to_string(r ? *r : -1));
  }
  void on_poke(poke& p) {
    counter_ += p.n;
    log_->push_back("poke " + std::to_string(p.n));
  }
  int counter_ = 0;
  std::vector<std::string>* log_;
};

TEST(reentrancy, an_actor_keeps_handling_messages_while_a_handler_awaits) {
  actor_fixture f;
  std::vector<std::string> log;
  const actor_ref o = f.spawn<oracle>();
  const actor_ref w = f.spawn<worker>(&log);
  f.send(w, start_work{o});
  f.run();
  ASSERT_EQ(log, std::vector<std::string>{"begin counter=0"});
  f.send(w, poke{1});
  f.send(w, poke{2});
  f.run();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[1], "poke 1");
  EXPECT_EQ(log[2], "poke 2");
  f.send(o, release{});
  f.run();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[3], "resumed counter=3 answer=7");
}

TEST(reentrancy, two_requests_to_one_actor_interleave_at_their_await_points) {
  actor_fixture f;
  std::vector<std::string> log;
  const actor_ref o = f.spawn<oracle>();
  const actor_ref w = f.spawn<worker>(&log);
  f.send(w, start_work{o});
  f.send(w, start_work{o});
  f.run();
  // Both handlers started before either finished: the second did not wait for the first.
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0], "begin counter=0");
  EXPECT_EQ(log[1], "begin counter=0");
  f.send(o, release{});
  f.run();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[2], "resumed counter=0 answer=7");
  EXPECT_EQ(log[3], "resumed counter=0 answer=7");
}

TEST(reentrancy, a_handler_without_co_await_runs_to_completion_before_the_next_message) {
  actor_fixture f;
  std::vector<std::string> log;
  const actor_ref w = f.spawn<worker>(&log);
  for (int i = 1; i <= 3; ++i) {
    f.send(w, poke{i});
  }
  f.run();
  EXPECT_EQ(log, (std::vector<std::string>{"poke 1", "poke 2", "poke 3"}));
}

}  // namespace
