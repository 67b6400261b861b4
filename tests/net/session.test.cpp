// Sessions over 127.0.0.1: echo through owner actors and handlers, many sessions, close from
// either side, reset mid-frame, connectors, heartbeats and the connection limit.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "net_test_support.hpp"

namespace quay::net::test {
namespace {

constexpr std::uint16_t text_type = 100;

// Sends `n` frames and expects them echoed back in order.
void expect_echo(raw_client& c, int n, const std::string& tag) {
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(c.send_frame(text_frame(text_type, static_cast<std::uint32_t>(i),
                                        tag + std::to_string(i))));
  }
  for (int i = 0; i < n; ++i) {
    auto p = c.read_frame();
    ASSERT_TRUE(p.has_value()) << tag << " frame " << i;
    auto d = decode(*p);
    EXPECT_EQ(d.type, text_type);
    EXPECT_EQ(d.seq, static_cast<std::uint32_t>(i));
    EXPECT_EQ(d.text, tag + std::to_string(i));
  }
}

// `prefix` followed by `n` in decimal. Built by appending: g++ 12 at -O2 reports a false
// -Wrestrict inside operator+(const char*, std::string&&) (GCC bug 105329), which -Werror
// turns into a failed release build.
std::string label(char prefix, std::size_t n) {
  std::string s(1, prefix);
  s.append(std::to_string(n));
  return s;
}

using session_test = net_fixture;

TEST_F(session_test, an_owner_actor_echoes_frames_in_order) {
  const auto at = listen_echo();
  raw_client c(port_, at);
  ASSERT_TRUE(c.connected());
  expect_echo(c, 200, "a");
  EXPECT_TRUE(rec_.wait_accepted(1));
}

TEST_F(session_test, many_sessions_are_served_at_once) {
  const auto at = listen_echo();
  std::vector<std::unique_ptr<raw_client>> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back(std::make_unique<raw_client>(port_, at));
    ASSERT_TRUE(clients.back()->connected());
  }
  // Interleave: every client sends, then every client reads.
  for (int round = 0; round < 20; ++round) {
    for (std::size_t i = 0; i < clients.size(); ++i) {
      ASSERT_TRUE(clients[i]->send_frame(
          text_frame(text_type, static_cast<std::uint32_t>(round), label('c', i))));
    }
    for (std::size_t i = 0; i < clients.size(); ++i) {
      auto p = clients[i]->read_frame();
      ASSERT_TRUE(p.has_value());
      EXPECT_EQ(decode(*p).text, label('c', i));
    }
  }
  EXPECT_EQ(net_.stats().open_sessions, 50u);
}

TEST_F(session_test, a_client_close_reaches_the_owner_as_closed_by_peer) {
  const auto at = listen_echo();
  {
    raw_client c(port_, at);
    expect_echo(c, 1, "x");
  }
  auto reason = rec_.wait_closed();
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(*reason, errc::closed_by_peer);
  EXPECT_TRUE(poll_until([&] { return net_.stats().open_sessions == 0; }));
}

// An owner that replies to the first frame, then closes gracefully.
class reply_then_close : public actor {
 public:
  reply_then_close(network& n, recorder& r) : net_(n), rec_(r) {}
  static void define(handlers<reply_then_close>& h) {
    h.on<&reply_then_close::on_frame>().on<&reply_then_close::on_closed>();
  }

 private:
  void on_frame(const session_frame& m) {
    // Several frames queued right before the close must all arrive before the FIN.
    for (int i = 0; i < 5; ++i) net_.send(m.session, m.data);
    net_.close(m.session, errc::closed_by_owner);
    EXPECT_EQ(net_.send(m.session, m.data), errc::send_queue_closed);
  }
  void on_closed(const session_closed& m) {
    rec_.on_closed(m.session, m.reason);
    stop();
  }
  network& net_;
  recorder& rec_;
};

TEST_F(session_test, a_server_close_flushes_queued_frames_then_ends_the_stream) {
  endpoint at;
  ASSERT_FALSE(net_.listen(
      {}, [this](session_handle, const endpoint&) {
        return system_.spawn<reply_then_close>(net_, rec_);
      },
      &at));
  raw_client c(port_, at);
  ASSERT_TRUE(c.send_frame(text_frame(text_type, 1, "bye")));
  for (int i = 0; i < 5; ++i) {
    auto p = c.read_frame();
    ASSERT_TRUE(p.has_value()) << i;
    EXPECT_EQ(decode(*p).text, "bye");
  }
  auto end = c.wait_closed();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(*end, quay::errc::end_of_stream);
  c.shutdown_send();
  auto reason = rec_.wait_closed();
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(*reason, errc::closed_by_owner);
}

// An owner that kicks: on the first frame it queues a goodbye, closes gracefully and stops at
// once, while frames of the same receive are still being delivered to it.
class kick_and_stop : public actor {
 public:
  explicit kick_and_stop(network& n) : net_(n) {}
  static void define(handlers<kick_and_stop>& h) {
    h.on<&kick_and_stop::on_frame>().on<&kick_and_stop::on_closed>();
  }

 private:
  void on_frame(const session_frame& m) {
    if (kicked_) return;
    kicked_ = true;
    net_.send(m.session, text_frame(text_type, 0, "goodbye"));
    net_.close(m.session, errc::closed_by_owner);
    stop();
  }
  void on_closed(const session_closed&) {}
  network& net_;
  bool kicked_ = false;
};

TEST_F(session_test, an_owner_that_closes_then_stops_mid_flood_still_flushes_its_last_frame) {
  endpoint at;
  std::mutex mu;
  std::vector<session_handle> sessions;  // one per round, in order
  ASSERT_FALSE(net_.listen(
      {},
      [&](session_handle h, const endpoint&) {
        std::lock_guard lk(mu);
        sessions.push_back(h);
        return system_.spawn<kick_and_stop>(net_);
      },
      &at));
  // Several rounds: the race (deliveries to an owner that has just stopped) needs the flood
  // to be in flight while the owner runs on the other worker.
  for (int round = 0; round < 20; ++round) {
    raw_client c(port_, at);
    ASSERT_TRUE(c.connected());
    // One write of many frames: they arrive together and are delivered in batches.
    bytes flood;
    for (std::uint32_t i = 0; i < 1000; ++i) {
      const auto f = text_frame(text_type, i, "flood");
      flood.insert(flood.end(), f.wire().begin(), f.wire().end());
    }
    ASSERT_TRUE(c.send(flood));
    // Read only after the server has acted (the session is no longer open: closing, or gone
    // after an abort): an abort's RST would arrive before the read and take the unread goodbye
    // with it, which is the failure this test exists to catch.
    ASSERT_TRUE(poll_until([&] {
      session_handle h;
      {
        std::lock_guard lk(mu);
        if (sessions.size() <= static_cast<std::size_t>(round)) return false;
        h = sessions[static_cast<std::size_t>(round)];
      }
      const auto inf = net_.info(h);
      return !inf || !inf->open;
    })) << "round " << round << ": the owner never closed the session";
    auto p = c.read_frame();
    ASSERT_TRUE(p.has_value()) << "round " << round << ": the goodbye was lost";
    EXPECT_EQ(decode(*p).text, "goodbye");
    auto end = c.wait_closed();
    ASSERT_TRUE(end.has_value());
    EXPECT_EQ(*end, quay::errc::end_of_stream) << "round " << round << ": " << end->message();
    c.shutdown_send();
  }
}

TEST_F(session_test, a_reset_in_the_middle_of_a_frame_closes_only_that_session) {
  const auto at = listen_echo();
  raw_client witness(port_, at);
  expect_echo(witness, 1, "w");
  {
    raw_client c(port_, at);
    auto f = text_frame(text_type, 1, std::string(500, 'z'));
    ASSERT_TRUE(c.send(f.wire().first(200)));
    ASSERT_TRUE(rec_.wait_accepted(2));
    c.reset();
  }
  auto reason = rec_.wait_closed();
  ASSERT_TRUE(reason.has_value());
  EXPECT_TRUE(*reason == quay::errc::connection_reset || *reason == errc::closed_by_peer)
      << reason->message();
  expect_echo(witness, 10, "still");
}

// Gets a session into the state where its pending receive writes into the heap read block
// (an active stream keeps it between receives), closes it from the server side with `close`,
// then sends more bytes, which that receive writes into the block. Under ASan a block freed by
// the close is reported here. Repeated, since each round races the worker re-arming the receive.
class session_close_test : public net_fixture {
 protected:
  template <class Close>
  void close_with_a_receive_pending(Close close, std::error_code expected_reason) {
    const auto at = listen_echo();
    constexpr std::size_t rounds = 20;
    for (std::size_t i = 0; i < rounds; ++i) {
      raw_client c(port_, at);
      ASSERT_TRUE(c.connected());
      // Longer than the inline area: the first receive fills it and the frame needs the block.
      ASSERT_TRUE(c.send_frame(text_frame(text_type, 1, std::string(300, 'r'))));
      ASSERT_TRUE(c.read_frame().has_value()) << "round " << i;
      ASSERT_TRUE(rec_.wait_accepted(i + 1));
      session_handle h;
      {
        std::lock_guard lk(rec_.mu);
        h = rec_.accepted[i];
      }
      const auto info = net_.info(h);
      ASSERT_TRUE(info.has_value());
      ASSERT_GT(info->read_heap_bytes, 0u) << "an active session keeps its read block";
      ASSERT_FALSE(close(net_, h));
      // Bytes the closing session still receives (and discards), or that meet a reset socket;
      // either way the send may fail, so its result is not checked.
      const std::vector<std::byte> tail(4096, std::byte{0x5a});
      c.send(tail);
      c.shutdown_send();
      ASSERT_TRUE(c.wait_closed().has_value()) << "round " << i;
      auto reason = rec_.wait_closed(i + 1);
      ASSERT_TRUE(reason.has_value()) << "round " << i;
      EXPECT_EQ(*reason, expected_reason);
    }
    EXPECT_TRUE(poll_until([&] { return net_.stats().open_sessions == 0; }));
  }
};

TEST_F(session_close_test, a_graceful_close_with_a_receive_pending_keeps_its_buffer_until_it_ends) {
  close_with_a_receive_pending(
      [](network& n, session_handle h) { return n.close(h, errc::closed_by_owner); },
      errc::closed_by_owner);
}

TEST_F(session_close_test, an_abort_with_a_receive_pending_keeps_its_buffer_until_it_ends) {
  close_with_a_receive_pending(
      [](network& n, session_handle h) { return n.abort(h, errc::closed_by_owner); },
      errc::closed_by_owner);
}

TEST_F(session_test, echoes_over_ipv6_loopback) {
  listen_options o;
  o.at = endpoint::loopback_v6(0);
  endpoint at;
  const auto ec = net_.listen(
      o, [this](session_handle, const endpoint&) { return system_.spawn<echo_owner>(net_, rec_); },
      &at);
  if (ec) GTEST_SKIP() << "no IPv6 loopback here: " << ec.message();
  EXPECT_TRUE(at.is_v6());
  raw_client c(port_, at);
  ASSERT_TRUE(c.connected());
  expect_echo(c, 20, "v6");
}

TEST_F(session_test, answers_a_ping_with_a_pong_carrying_its_seq) {
  const auto at = listen_echo();
  raw_client c(port_, at);
  ASSERT_TRUE(c.send_frame(encode_ping(4242)));
  auto p = c.read_frame();
  ASSERT_TRUE(p.has_value());
  auto d = decode(*p);
  EXPECT_EQ(d.type, msg_type::pong);
  EXPECT_EQ(d.seq, 4242u);
  std::lock_guard lk(rec_.mu);
  EXPECT_EQ(rec_.frames, 0u) << "heartbeats are not delivered to the owner";
}

TEST_F(session_test, sends_a_ping_to_a_quiet_peer_then_closes_it_at_the_idle_timeout) {
  listen_options o;
  o.session.heartbeat_interval = 100ms;
  o.session.idle_timeout = 600ms;
  const auto at = listen_echo(o);
  raw_client c(port_, at);
  expect_echo(c, 1, "q");
  auto p = c.read_frame(3s);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(decode(*p).type, msg_type::ping);
  auto reason = rec_.wait_closed(1, 5s);
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(*reason, errc::idle_timeout);
}

TEST_F(session_test, a_peer_answering_pings_stays_open_past_the_idle_timeout) {
  listen_options o;
  o.session.heartbeat_interval = 80ms;
  o.session.idle_timeout = 300ms;
  const auto at = listen_echo(o);
  raw_client c(port_, at);
  const auto until = clock::now() + 1s;
  int pongs = 0;
  while (clock::now() < until) {
    auto p = c.read_frame(2s);
    ASSERT_TRUE(p.has_value()) << "closed after " << pongs << " pongs";
    auto d = decode(*p);
    ASSERT_EQ(d.type, msg_type::ping);
    ASSERT_TRUE(c.send_frame(encode_pong(d.seq)));
    ++pongs;
  }
  EXPECT_GE(pongs, 3);
  expect_echo(c, 1, "alive");
}

TEST_F(session_test, refuses_connections_over_the_limit_and_keeps_serving_the_others) {
  listen_options o;
  o.max_connections = 2;
  const auto at = listen_echo(o);
  raw_client a(port_, at), b(port_, at);
  expect_echo(a, 1, "a");
  expect_echo(b, 1, "b");
  raw_client over(port_, at);
  auto end = over.wait_closed(5s);
  ASSERT_TRUE(end.has_value()) << "the connection over the limit is closed at once";
  EXPECT_TRUE(poll_until([&] { return net_.stats().refused_over_limit == 1; }));
  expect_echo(a, 5, "a2");
  expect_echo(b, 5, "b2");
}

// An owner with a small bounded mailbox (reject policy) whose first frame holds its worker until
// the test opens the gate, so frames keep arriving while the mailbox is full. Records the seq of
// every frame it handles.
class bounded_owner : public actor {
 public:
  struct state {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    std::vector<std::uint32_t> seqs;
    std::vector<std::error_code> closed;
  };
  // Shared: the owner hears session_closed at the fixture's shutdown, after the test body.
  explicit bounded_owner(std::shared_ptr<state> st) : st_(std::move(st)) {
    set_mailbox_bound(8, overflow_policy::reject);
  }
  static void define(handlers<bounded_owner>& h) {
    h.on<&bounded_owner::on_frame>().on<&bounded_owner::on_closed>();
  }

 private:
  void on_frame(const session_frame& m) {
    std::unique_lock lk(st_->mu);
    if (st_->seqs.empty()) st_->cv.wait_for(lk, 20s, [&] { return st_->open; });
    st_->seqs.push_back(m.envelope.seq);
    st_->cv.notify_all();
  }
  void on_closed(const session_closed& m) {
    {
      std::lock_guard lk(st_->mu);
      st_->closed.push_back(m.reason);
      st_->cv.notify_all();
    }
    stop();
  }
  std::shared_ptr<state> st_;
};

TEST_F(session_test, a_full_bounded_owner_mailbox_is_backpressure_and_every_frame_arrives_in_order) {
  const auto shared = std::make_shared<bounded_owner::state>();
  auto& st = *shared;
  actor_ref owner;
  endpoint at;
  ASSERT_FALSE(net_.listen(
      {},
      [&](session_handle, const endpoint&) { return owner = system_.spawn<bounded_owner>(shared); },
      &at));
  raw_client c(port_, at);
  ASSERT_TRUE(c.connected());
  constexpr std::uint32_t frames = 300;
  bytes blob;
  for (std::uint32_t i = 0; i < frames; ++i) {
    const auto f = text_frame(text_type, i, "full");
    blob.insert(blob.end(), f.wire().begin(), f.wire().end());
  }
  ASSERT_TRUE(c.send(blob));
  // The mailbox reaches its bound while the owner is held: the session must wait, not reset.
  ASSERT_TRUE(poll_until([&] {
    const auto d = system_.mailbox_depth(owner);
    return !d || *d >= 8;
  }));
  {
    std::lock_guard lk(st.mu);
    st.open = true;
  }
  st.cv.notify_all();
  ASSERT_TRUE(eventually(st.mu, st.cv, [&] { return st.seqs.size() == frames || !st.closed.empty(); }));
  std::lock_guard lk(st.mu);
  ASSERT_TRUE(st.closed.empty()) << "the session was closed: " << st.closed.front().message();
  for (std::uint32_t i = 0; i < frames; ++i) ASSERT_EQ(st.seqs[i], i);
}

TEST_F(session_test, a_session_aborted_while_its_owners_bounded_mailbox_is_full_still_tells_the_owner) {
  // The owner is held in its first frame with its bounded mailbox full; the session is aborted
  // then. Its session_closed must not be refused for the bound: an owner that never hears it
  // holds a dead session (a ghost player) forever.
  const auto shared = std::make_shared<bounded_owner::state>();
  auto& st = *shared;
  actor_ref owner;
  session_handle session;
  endpoint at;
  ASSERT_FALSE(net_.listen(
      {},
      [&](session_handle h, const endpoint&) {
        session = h;
        return owner = system_.spawn<bounded_owner>(shared);
      },
      &at));
  raw_client c(port_, at);
  ASSERT_TRUE(c.connected());
  bytes blob;
  for (std::uint32_t i = 0; i < 100; ++i) {
    const auto f = text_frame(text_type, i, "full");
    blob.insert(blob.end(), f.wire().begin(), f.wire().end());
  }
  ASSERT_TRUE(c.send(blob));
  // Reading pauses once a delivery was refused for the bound: the mailbox is full, and stays
  // so while the owner is held.
  ASSERT_TRUE(poll_until([&] {
    const auto i = net_.info(session);
    return i && i->reading_paused;
  }));
  // Top the mailbox up until the bound refuses: it is full for certain (the depth the session
  // saw when it paused counted the frame in hand).
  struct filler {};
  for (int i = 0; i < 16 && system_.send(owner, filler{}) != actor_errc::mailbox_full; ++i) {
  }
  ASSERT_EQ(system_.send(owner, filler{}), std::error_code(actor_errc::mailbox_full));
  const auto closed_before = net_.stats().closed;
  ASSERT_FALSE(net_.abort(session, errc::closed_by_owner));
  ASSERT_TRUE(poll_until([&] { return net_.stats().closed > closed_before; }));
  {
    std::lock_guard lk(st.mu);
    st.open = true;
  }
  st.cv.notify_all();
  ASSERT_TRUE(eventually(st.mu, st.cv, [&] { return !st.closed.empty(); }))
      << "the owner never heard that its session closed";
  std::lock_guard lk(st.mu);
  EXPECT_EQ(st.closed.front(), std::error_code(errc::closed_by_owner));
}

// A client-side handler for network::connect: records events, keeps received payload texts.
class client_handler final : public session_handler {
 public:
  void on_accepted(session_handle h, const endpoint&) override { rec.on_accepted(h); }
  void on_frame(session_handle, const frame&, const envelope_view& env) override {
    std::lock_guard lk(rec.mu);
    texts.emplace_back(reinterpret_cast<const char*>(env.payload.data()), env.payload.size());
    rec.frames++;
    rec.cv.notify_all();
  }
  void on_closed(session_handle h, std::error_code reason) override { rec.on_closed(h, reason); }
  recorder rec;
  std::vector<std::string> texts;
};

TEST_F(session_test, a_connector_session_exchanges_frames_with_a_listener) {
  const auto at = listen_echo();
  client_handler client;
  const auto h = net_.connect(at, client);
  ASSERT_TRUE(h);
  // Sent before the connection is up: queued, then flushed.
  for (int i = 0; i < 100; ++i) {
    ASSERT_FALSE(net_.send(h, text_frame(text_type, i, label('m', i))));
  }
  ASSERT_TRUE(client.rec.wait_accepted(1));
  ASSERT_TRUE(eventually(client.rec.mu, client.rec.cv, [&] { return client.rec.frames == 100; }));
  {
    std::lock_guard lk(client.rec.mu);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(client.texts[i], label('m', i));
  }
  ASSERT_FALSE(net_.close(h));
  auto reason = client.rec.wait_closed();
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(*reason, errc::closed_by_owner);
  EXPECT_EQ(net_.send(h, text_frame(text_type, 1, "late")), errc::session_gone);
}

TEST_F(session_test, a_connector_reports_a_refused_connection_as_closed) {
  endpoint at;
  {
    // Find a port nobody listens on: bind one, then close it.
    tcp_listener l;
    ASSERT_FALSE(l.open(port_, endpoint::loopback_v4(0)));
    l.local_endpoint(at);
  }
  client_handler client;
  ASSERT_TRUE(net_.connect(at, client));
  auto reason = client.rec.wait_closed();
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(*reason, quay::errc::connection_refused);
  EXPECT_EQ(client.rec.accepted_count(), 0u);
}

}  // namespace
}  // namespace quay::net::test
