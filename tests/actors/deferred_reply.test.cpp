// Deferred replies: response_promise taken as a handler parameter or with make_promise(),
// delivered later (timer, another message, another actor), exactly once; broken_promise when
// dropped unanswered.

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "actor_test_support.hpp"
#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"
#include "quay/runtime/io_port.hpp"

namespace {

using namespace std::chrono_literals;
using quay::actor_errc;
using quay::actor_ref;
using quay::response_promise;
using quay::result;
using quay::testing::actor_fixture;

struct withdraw {  // answered later, by a timer
  using reply_type = int;
  int amount;
};
struct quote {  // answered later, by another message
  using reply_type = int;
  int item;
};
struct drop_it {  // the handler takes the promise and lets it go
  using reply_type = int;
};
struct keep_it {  // the handler keeps the promise until the actor stops
  using reply_type = int;
};
struct fail_it {  // the handler takes the promise and throws
  using reply_type = int;
};
struct settle {};
struct price {
  int value;
};

struct bank_log {
  std::vector<std::error_code> second_delivers;
  std::vector<std::error_code> spent_delivers;
};

class bank final : public quay::actor {
 public:
  explicit bank(bank_log* log) : log_(log) {}
  static void define(quay::handlers<bank>& h) {
    h.on<&bank::on_withdraw>()
        .on<&bank::on_quote>()
        .on<&bank::on_settle>()
        .on<&bank::on_price>()
        .on<&bank::on_drop>()
        .on<&bank::on_keep>()
        .on<&bank::on_fail>();
  }

 private:
  // The promise parameter: answered by a timer 100 ms later.
  void on_withdraw(const withdraw& m, response_promise<int> p) {
    withdrawals_.emplace_back(m.amount, std::move(p));
    after(100ms, settle{});
  }
  void on_settle(const settle&) {
    for (auto& [amount, p] : withdrawals_) {
      EXPECT_FALSE(p.deliver(amount * 2));
      log_->second_delivers.push_back(p.deliver(-1));  // exactly once: an error, not a reply
    }
    withdrawals_.clear();
  }
  // make_promise(): answered when a `price` message arrives.
  void on_quote(const quote& m) {
    quote_ = make_promise(m);
    // The request is taken: another make_promise gets a spent promise.
    log_->spent_delivers.push_back(make_promise(m).deliver(0));
  }
  void on_price(const price& m) {
    if (quote_) {
      EXPECT_FALSE(quote_.deliver(m.value));
    }
  }
  void on_drop(const drop_it&, response_promise<int> /*p*/) {}  // broken at return
  void on_keep(const keep_it&, response_promise<int> p) { kept_ = std::move(p); }
  void on_fail(const fail_it&, response_promise<int> /*p*/) {
    throw std::runtime_error("bank failed");
  }

  bank_log* log_;
  std::vector<std::pair<int, response_promise<int>>> withdrawals_;
  response_promise<int> quote_;
  response_promise<int> kept_;
};

struct outcome {
  std::vector<int> values;
  std::vector<std::error_code> errors;
  void add(result<int>& r) {
    if (r) {
      values.push_back(*r);
    } else {
      errors.push_back(r.error());
    }
  }
};

template <class Request>
struct call {
  actor_ref target;
  Request request;
  quay::millis timeout = 10'000ms;
};

// Asks with a callback.
template <class Request>
class asker final : public quay::actor {
 public:
  explicit asker(outcome* out) : out_(out) {}
  static void define(quay::handlers<asker>& h) { h.template on<&asker::on_call>(); }

 private:
  void on_call(call<Request>& c) {
    ask(c.target, c.request, c.timeout, [this](result<int> r) { out_->add(r); });
  }
  outcome* out_;
};

// Asks with co_await.
template <class Request>
class co_asker final : public quay::actor {
 public:
  explicit co_asker(outcome* out) : out_(out) {}
  static void define(quay::handlers<co_asker>& h) { h.template on<&co_asker::on_call>(); }

 private:
  quay::task<> on_call(call<Request> c) {
    result<int> r = co_await ask(c.target, c.request, c.timeout);
    out_->add(r);
  }
  outcome* out_;
};

TEST(deferred_reply, a_promise_parameter_is_answered_later_by_a_timer) {
  actor_fixture f;
  bank_log log;
  outcome out;
  const actor_ref b = f.spawn<bank>(&log);
  const actor_ref a = f.spawn<asker<withdraw>>(&out);
  f.send(a, call<withdraw>{b, withdraw{21}});
  f.run();
  EXPECT_TRUE(out.values.empty());
  EXPECT_TRUE(out.errors.empty());
  f.advance(100ms);
  ASSERT_EQ(out.values, std::vector<int>{42});
  EXPECT_TRUE(out.errors.empty());
}

TEST(deferred_reply, a_second_deliver_is_an_error_and_the_asker_sees_one_reply) {
  actor_fixture f;
  bank_log log;
  outcome out;
  const actor_ref b = f.spawn<bank>(&log);
  const actor_ref a = f.spawn<asker<withdraw>>(&out);
  f.send(a, call<withdraw>{b, withdraw{5}});
  f.advance(100ms);
  f.advance(1000ms);
  ASSERT_EQ(log.second_delivers.size(), 1u);
  EXPECT_EQ(log.second_delivers[0], actor_errc::already_answered);
  EXPECT_EQ(out.values, std::vector<int>{10});
  EXPECT_TRUE(out.errors.empty());
}

TEST(deferred_reply, make_promise_answers_a_co_await_ask_from_another_message) {
  actor_fixture f;
  bank_log log;
  outcome out;
  const actor_ref b = f.spawn<bank>(&log);
  const actor_ref a = f.spawn<co_asker<quote>>(&out);
  f.send(a, call<quote>{b, quote{7}});
  f.run();
  EXPECT_TRUE(out.values.empty());
  ASSERT_EQ(log.spent_delivers.size(), 1u);
  EXPECT_EQ(log.spent_delivers[0], actor_errc::already_answered);
  f.send(b, price{99});
  f.run();
  EXPECT_EQ(out.values, std::vector<int>{99});
  EXPECT_TRUE(out.errors.empty());
}

TEST(deferred_reply, a_promise_dropped_unanswered_gives_broken_promise_at_once_not_a_timeout) {
  actor_fixture f;
  bank_log log;
  outcome out;
  outcome co_out;
  const actor_ref b = f.spawn<bank>(&log);
  const actor_ref a = f.spawn<asker<drop_it>>(&out);
  const actor_ref c = f.spawn<co_asker<drop_it>>(&co_out);
  f.send(a, call<drop_it>{b, drop_it{}});
  f.send(c, call<drop_it>{b, drop_it{}});
  f.run();  // no time passes: a timeout could not have fired
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0], actor_errc::broken_promise);
  ASSERT_EQ(co_out.errors.size(), 1u);
  EXPECT_EQ(co_out.errors[0], actor_errc::broken_promise);
  EXPECT_TRUE(out.values.empty());
}

TEST(deferred_reply, a_handler_that_throws_holding_its_promise_gives_target_failed) {
  actor_fixture f;
  bank_log log;
  outcome out;
  const actor_ref b = f.spawn<bank>(&log);
  const actor_ref a = f.spawn<asker<fail_it>>(&out);
  f.send(a, call<fail_it>{b, fail_it{}});
  f.run();
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0], actor_errc::target_failed);
}

TEST(deferred_reply, an_actor_that_stops_holding_a_promise_breaks_it) {
  actor_fixture f;
  bank_log log;
  outcome out;
  const actor_ref b = f.spawn<bank>(&log);
  const actor_ref a = f.spawn<asker<keep_it>>(&out);
  f.send(a, call<keep_it>{b, keep_it{}});
  f.run();
  EXPECT_TRUE(out.errors.empty());
  f.sys.stop(b);
  f.run();
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0], actor_errc::broken_promise);
}

TEST(deferred_reply, a_request_that_was_sent_not_asked_gives_a_spent_promise) {
  actor_fixture f;
  bank_log log;
  const actor_ref b = f.spawn<bank>(&log);
  f.send(b, quote{1});  // a plain send: nobody waits for the answer
  f.run();
  ASSERT_EQ(log.spent_delivers.size(), 1u);
  EXPECT_EQ(log.spent_delivers[0], actor_errc::already_answered);
  f.send(b, price{3});  // the first promise is spent too: nothing is sent anywhere
  f.run();
  EXPECT_EQ(f.sys.dead_letters(), 0u);
}

// ---- across actors and threads (run under TSan) -----------------------------------------------

struct job {
  using reply_type = int;
  int n;
};
struct work {
  int n;
  response_promise<int> p;
};

// Takes each request's promise and hands it to a worker actor, which answers it in its turn.
class front final : public quay::actor {
 public:
  explicit front(actor_ref worker) : worker_(worker) {}
  static void define(quay::handlers<front>& h) { h.on<&front::on_job>(); }

 private:
  void on_job(const job& m, response_promise<int> p) { send(worker_, work{m.n, std::move(p)}); }
  actor_ref worker_;
};

class back final : public quay::actor {
 public:
  static void define(quay::handlers<back>& h) { h.on<&back::on_work>(); }

 private:
  void on_work(work& w) {
    // Every other one is dropped: broken_promise from this actor's turn.
    if (w.n % 2 == 0) {
      (void)w.p.deliver(w.n + 1);
    }
  }
};

struct burst {
  actor_ref front;
  int count;
};

class load final : public quay::actor {
 public:
  load(std::atomic<int>* answered, std::atomic<int>* broken, std::atomic<int>* wrong)
      : answered_(answered), broken_(broken), wrong_(wrong) {}
  static void define(quay::handlers<load>& h) { h.on<&load::on_burst>(); }

 private:
  void on_burst(const burst& b) {
    for (int i = 0; i < b.count; ++i) {
      ask(b.front, job{i}, 30'000ms, [this, i](result<int> r) {
        if (r && *r == i + 1 && i % 2 == 0) {
          answered_->fetch_add(1);
        } else if (!r && r.error() == actor_errc::broken_promise && i % 2 == 1) {
          broken_->fetch_add(1);
        } else {
          wrong_->fetch_add(1);
        }
      });
    }
  }
  std::atomic<int>* answered_;
  std::atomic<int>* broken_;
  std::atomic<int>* wrong_;
};

TEST(deferred_reply, promises_handed_to_another_actor_are_answered_or_broken_from_its_turns) {
  quay::io_port port(quay::io_port_options{.workers = 4});
  {
    quay::actor_system sys(port);
    constexpr int askers = 4;
    constexpr int per_asker = 2000;
    std::atomic<int> answered{0};
    std::atomic<int> broken{0};
    std::atomic<int> wrong{0};
    const actor_ref w = sys.spawn<back>();
    const actor_ref fr = sys.spawn<front>(w);
    for (int i = 0; i < askers; ++i) {
      sys.send(sys.spawn<load>(&answered, &broken, &wrong), burst{fr, per_asker});
    }
    EXPECT_TRUE(quay::actor_test::wait_until(
        [&] { return answered.load() + broken.load() + wrong.load() == askers * per_asker; }));
    EXPECT_EQ(answered.load(), askers * per_asker / 2);
    EXPECT_EQ(broken.load(), askers * per_asker / 2);
    EXPECT_EQ(wrong.load(), 0);
    port.stop();
  }
}

}  // namespace
