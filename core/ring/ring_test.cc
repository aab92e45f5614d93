// Tests for ring.h: single-thread exact behaviour, SPSC/SPMC under threads with and without flow
// control, forced overruns and a torn-read stress. Also run under ThreadSanitizer (ctest -L tsan).
#include "ring/ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace clutchcall::ring {
namespace {

// Payload of frag `seq`: size derived from seq (every size 0..mtu comes up), the first 8 bytes
// the seq itself, the rest a window of a random table at a seq-dependent offset, so a torn or
// misplaced copy never passes the check. (Bulk memcpy/memcmp keep the checks cheap under TSan.)
std::uint32_t size_for(std::uint64_t seq, std::uint32_t mtu) {
  return static_cast<std::uint32_t>((seq * 7919u) % (std::uint64_t{mtu} + 1));
}

constexpr std::size_t kTableWindows = 4096;
const std::vector<std::uint8_t>& pattern_table() {
  static const std::vector<std::uint8_t> table = [] {
    std::vector<std::uint8_t> t(kTableWindows + 65536);
    std::uint64_t x = 0x243F6A8885A308D3ull;
    for (auto& b : t) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64
      b = static_cast<std::uint8_t>(x >> 24);
    }
    return t;
  }();
  return table;
}

const std::uint8_t* pattern_for(std::uint64_t seq) {
  return pattern_table().data() + ((seq * 0x9E3779B97F4A7C15ull) >> 52) % kTableWindows;
}

void fill(std::uint64_t seq, std::uint32_t sz, std::uint8_t* out) {
  std::uint8_t head[8];
  for (int i = 0; i < 8; ++i) head[i] = static_cast<std::uint8_t>(seq >> (8 * i));
  std::memcpy(out, head, std::min<std::uint32_t>(sz, 8));
  if (sz > 8) std::memcpy(out + 8, pattern_for(seq) + 8, sz - 8);
}

std::uint64_t sig_for(std::uint64_t seq) { return seq ^ 0xA5A5A5A5DEADBEEFull; }
std::uint16_t ctl_for(std::uint64_t seq) { return static_cast<std::uint16_t>(seq * 3); }

bool publish_seq(Producer& p, std::uint64_t seq, std::uint32_t mtu, std::vector<std::uint8_t>& buf) {
  const std::uint32_t sz = size_for(seq, mtu);
  fill(seq, sz, buf.data());
  return p.publish(std::span<const std::uint8_t>(buf.data(), sz), sig_for(seq), ctl_for(seq));
}

// Returns an empty string when the delivered frag is exactly frag meta.seq, else what differs.
std::string check_frag(const Frag& meta, const std::uint8_t* got, std::uint32_t mtu) {
  const std::uint32_t sz = size_for(meta.seq, mtu);
  if (meta.sz != sz) return "size " + std::to_string(meta.sz) + " != " + std::to_string(sz);
  if (meta.sig != sig_for(meta.seq)) return "sig mismatch";
  if (meta.ctl != ctl_for(meta.seq)) return "ctl mismatch";
  thread_local std::vector<std::uint8_t> want(65536);
  fill(meta.seq, sz, want.data());
  if (std::memcmp(got, want.data(), sz) != 0) {
    for (std::uint32_t i = 0; i < sz; ++i) {
      if (got[i] != want[i]) return "byte " + std::to_string(i) + " of seq " + std::to_string(meta.seq);
    }
  }
  return {};
}

ChannelConfig config(std::uint64_t depth, std::uint32_t mtu, std::uint32_t consumers, bool fc) {
  ChannelConfig c;
  c.depth = depth;
  c.mtu = mtu;
  c.consumers = consumers;
  c.flow_control = fc;
  return c;
}

// ---------------------------------------------------------------------------------------------
// Single thread

TEST(RingSingle, ExactBytesEverySizeAndWrap) {
  constexpr std::uint32_t kMtu = 300;
  auto ch = Channel::create(config(16, kMtu, 1, false));
  Producer p(*ch);
  Consumer c(*ch, 0);
  std::vector<std::uint8_t> src(kMtu), dst(kMtu);
  Frag meta{};
  EXPECT_EQ(c.poll(dst, &meta), Poll::kEmpty);
  // 16 * 100 frags: wraps the mcache 100 times and the dcache many times; every size 0..300 comes
  // up (7919 is coprime to 301). Bursts of 1..16 frags (never more than depth: no overrun).
  std::uint64_t seq = 0;
  for (std::uint64_t burst = 0; seq < 16 * 100; ++burst) {
    const std::uint64_t n = 1 + burst % 16;
    for (std::uint64_t i = 0; i < n; ++i) ASSERT_TRUE(publish_seq(p, seq + i, kMtu, src));
    for (std::uint64_t i = 0; i < n; ++i) {
      ASSERT_EQ(c.poll(dst, &meta), Poll::kFrag) << seq + i;
      ASSERT_EQ(meta.seq, seq + i);
      ASSERT_EQ(check_frag(meta, dst.data(), kMtu), "");
    }
    ASSERT_EQ(c.poll(dst, &meta), Poll::kEmpty);
    seq += n;
  }
  EXPECT_EQ(p.seq(), seq);
  EXPECT_EQ(ch->published(), seq);
  const auto st = c.stats();
  EXPECT_EQ(st.frags, seq);
  EXPECT_EQ(st.overruns, 0u);
  EXPECT_EQ(st.lost, 0u);
  std::uint64_t bytes = 0;
  for (std::uint64_t s = 0; s < seq; ++s) bytes += size_for(s, kMtu);
  EXPECT_EQ(st.bytes, bytes);
  EXPECT_EQ(p.stats().published, seq);
}

TEST(RingSingle, EverySizeZeroToMtu) {
  constexpr std::uint32_t kMtu = 200;
  auto ch = Channel::create(config(4, kMtu, 1, false));
  Producer p(*ch);
  Consumer c(*ch, 0);
  std::vector<std::uint8_t> src(kMtu), dst(kMtu);
  for (std::uint32_t sz = 0; sz <= kMtu; ++sz) {
    for (std::uint32_t i = 0; i < sz; ++i) src[i] = static_cast<std::uint8_t>(sz + i * 13);
    ASSERT_TRUE(p.publish(std::span<const std::uint8_t>(src.data(), sz), sz, static_cast<std::uint16_t>(sz)));
    Frag meta{};
    std::fill(dst.begin(), dst.end(), 0xEE);
    ASSERT_EQ(c.poll(dst, &meta), Poll::kFrag);
    ASSERT_EQ(meta.sz, sz);
    ASSERT_EQ(meta.sig, sz);
    ASSERT_EQ(meta.ctl, sz);
    ASSERT_EQ(0, std::memcmp(src.data(), dst.data(), sz)) << sz;
    for (std::uint32_t i = sz; i < kMtu; ++i) ASSERT_EQ(dst[i], 0xEE) << "wrote past sz " << sz;
  }
}

TEST(RingSingle, TimestampsPassThrough) {
  auto ch = Channel::create(config(8, 64, 1, false));
  Producer p(*ch);
  Consumer c(*ch, 0);
  const std::uint8_t b[3] = {1, 2, 3};
  ASSERT_TRUE(p.publish(b, 7, 9, 0xFFFFFFF0u, 12345u));
  std::uint8_t dst[64];
  Frag meta{};
  ASSERT_EQ(c.poll(dst, &meta), Poll::kFrag);
  EXPECT_EQ(meta.tsorig, 0xFFFFFFF0u);
  EXPECT_EQ(meta.tspub, 12345u);
  EXPECT_EQ(meta.sig, 7u);
  EXPECT_EQ(meta.ctl, 9u);
}

TEST(RingSingle, BadConfigsRejectedWithClearMessages) {
  auto expect_bad = [](ChannelConfig cfg, const std::string& needle) {
    try {
      (void)Channel::create(cfg);
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_bad(config(0, 64, 1, false), "depth must be a power of two in [2, 2^24], got 0");
  expect_bad(config(1, 64, 1, false), "depth must be a power of two in [2, 2^24], got 1");
  expect_bad(config(1000, 64, 1, false), "got 1000");
  expect_bad(config(std::uint64_t{1} << 25, 64, 1, false), "got 33554432");
  expect_bad(config(8, 0, 1, false), "mtu must be in [1, 65535] bytes, got 0");
  expect_bad(config(8, 65536, 1, false), "mtu must be in [1, 65535] bytes, got 65536");
  expect_bad(config(8, 64, 0, false), "consumers must be in [1, 256], got 0");
  expect_bad(config(8, 64, 257, false), "consumers must be in [1, 256], got 257");
  expect_bad(config(std::uint64_t{1} << 24, 65535, 1, false), "limit 1 GiB");
  EXPECT_NO_THROW((void)Channel::create(config(2, 1, 1, false)));
  EXPECT_NO_THROW((void)Channel::create(config(8, 65535, 256, true)));
}

TEST(RingSingle, AttachRules) {
  auto ch = Channel::create(config(8, 64, 2, false));
  {
    Producer p(*ch);
    EXPECT_THROW(Producer p2(*ch), std::logic_error);
  }
  EXPECT_NO_THROW(Producer p3(*ch));  // detached: a new producer may attach
  Consumer c0(*ch, 0);
  EXPECT_THROW(Consumer again(*ch, 0), std::logic_error);
  EXPECT_NO_THROW(Consumer c1(*ch, 1));
  try {
    Consumer bad(*ch, 2);
    ADD_FAILURE() << "index 2 accepted";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("index 2 out of range (channel has 2 consumers)"), std::string::npos)
        << e.what();
  }
}

TEST(RingSingle, PublishOverMtuRefused) {
  auto ch = Channel::create(config(8, 100, 1, false));
  Producer p(*ch);
  Consumer c(*ch, 0);
  std::vector<std::uint8_t> big(101, 1);
  EXPECT_FALSE(p.publish(big));
  EXPECT_EQ(p.seq(), 0u);
  EXPECT_EQ(p.stats().too_big, 1u);
  EXPECT_EQ(p.stats().published, 0u);
  std::uint8_t dst[100];
  Frag meta{};
  EXPECT_EQ(c.poll(dst, &meta), Poll::kEmpty);
  EXPECT_TRUE(p.publish(std::span<const std::uint8_t>(big.data(), 100)));
  ASSERT_EQ(c.poll(dst, &meta), Poll::kFrag);
  EXPECT_EQ(meta.seq, 0u);
  EXPECT_EQ(meta.sz, 100u);
}

TEST(RingSingle, OverrunExactCountsAndResync) {
  constexpr std::uint32_t kMtu = 64;
  auto ch = Channel::create(config(8, kMtu, 1, false));
  Producer p(*ch);
  Consumer c(*ch, 0);
  std::vector<std::uint8_t> src(kMtu), dst(kMtu);
  Frag meta{};
  for (std::uint64_t s = 0; s < 3; ++s) ASSERT_TRUE(publish_seq(p, s, kMtu, src));
  ASSERT_EQ(c.poll(dst, &meta), Poll::kFrag);  // seq 0
  // Publish up to seq 19: line(1) now holds 17, ahead of the expected 1.
  for (std::uint64_t s = 3; s < 20; ++s) ASSERT_TRUE(publish_seq(p, s, kMtu, src));
  ASSERT_EQ(c.poll(dst, &meta), Poll::kOverrun);
  auto st = c.stats();
  EXPECT_EQ(st.overruns, 1u);
  EXPECT_EQ(st.lost, 18u);  // seqs 1..18: resynced to the newest frag, 19
  EXPECT_EQ(c.next_seq(), 19u);
  EXPECT_EQ(st.frags + st.lost, c.next_seq() - c.start_seq());
  ASSERT_EQ(c.poll(dst, &meta), Poll::kFrag);
  EXPECT_EQ(meta.seq, 19u);
  EXPECT_EQ(check_frag(meta, dst.data(), kMtu), "");
  EXPECT_EQ(c.poll(dst, &meta), Poll::kEmpty);
  for (std::uint64_t s = 20; s < 23; ++s) ASSERT_TRUE(publish_seq(p, s, kMtu, src));
  for (std::uint64_t s = 20; s < 23; ++s) {
    ASSERT_EQ(c.poll(dst, &meta), Poll::kFrag);
    EXPECT_EQ(meta.seq, s);
    EXPECT_EQ(check_frag(meta, dst.data(), kMtu), "");
  }
  st = c.stats();
  EXPECT_EQ(st.frags, 5u);
  EXPECT_EQ(st.frags + st.lost, 23u);
  // Exactly depth behind is still readable (line(s) holds s until s + depth is published).
  for (std::uint64_t s = 23; s < 31; ++s) ASSERT_TRUE(publish_seq(p, s, kMtu, src));
  for (std::uint64_t s = 23; s < 31; ++s) {
    ASSERT_EQ(c.poll(dst, &meta), Poll::kFrag);
    EXPECT_EQ(meta.seq, s);
  }
  EXPECT_EQ(c.stats().overruns, 1u);
}

TEST(RingSingle, FlowControlCreditsExact) {
  constexpr std::uint32_t kMtu = 32;
  auto ch = Channel::create(config(8, kMtu, 2, true));
  ASSERT_EQ(ch->fseq_batch(), 1u);  // depth 8: progress published after every frag
  Producer p(*ch);
  Consumer c0(*ch, 0);
  Consumer c1(*ch, 1);
  std::vector<std::uint8_t> src(kMtu), dst(kMtu);
  Frag meta{};
  for (std::uint64_t s = 0; s < 8; ++s) ASSERT_TRUE(publish_seq(p, s, kMtu, src)) << s;
  EXPECT_FALSE(publish_seq(p, 8, kMtu, src));  // no credits: the producer would lap both
  EXPECT_EQ(p.stats().refused, 1u);
  EXPECT_EQ(p.seq(), 8u);
  ASSERT_EQ(c0.poll(dst, &meta), Poll::kFrag);
  EXPECT_FALSE(publish_seq(p, 8, kMtu, src));  // c1 still at 0
  ASSERT_EQ(c1.poll(dst, &meta), Poll::kFrag);
  EXPECT_TRUE(publish_seq(p, 8, kMtu, src));   // both past 0: exactly one credit
  EXPECT_FALSE(publish_seq(p, 9, kMtu, src));
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(c0.poll(dst, &meta), Poll::kFrag);
    ASSERT_EQ(c1.poll(dst, &meta), Poll::kFrag);
    EXPECT_EQ(meta.seq, static_cast<std::uint64_t>(i + 1));
  }
  EXPECT_EQ(c0.poll(dst, &meta), Poll::kEmpty);
  for (std::uint64_t s = 9; s < 17; ++s) ASSERT_TRUE(publish_seq(p, s, kMtu, src)) << s;
  EXPECT_FALSE(publish_seq(p, 17, kMtu, src));
  EXPECT_EQ(c0.stats().overruns + c1.stats().overruns, 0u);
}

TEST(RingSingle, ConsumerResumesAtItsFseq) {
  auto ch = Channel::create(config(8, 32, 1, true));
  Producer p(*ch);
  std::vector<std::uint8_t> src(32), dst(32);
  Frag meta{};
  for (std::uint64_t s = 0; s < 5; ++s) ASSERT_TRUE(publish_seq(p, s, 32, src));
  {
    Consumer c(*ch, 0);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(c.poll(dst, &meta), Poll::kFrag);
  }
  EXPECT_EQ(ch->fseq(0), 3u);
  Consumer c(*ch, 0);
  EXPECT_EQ(c.start_seq(), 3u);
  ASSERT_EQ(c.poll(dst, &meta), Poll::kFrag);
  EXPECT_EQ(meta.seq, 3u);
}

// ---------------------------------------------------------------------------------------------
// Threads

// Start gate: producers wait until every consumer thread has attached, so a consumer that is slow
// to be scheduled does not find the whole run already published.
std::atomic<std::uint32_t> g_ready{0};
void wait_for_consumers(const Channel& ch) {
  while (g_ready.load(std::memory_order_acquire) < ch.config().consumers) std::this_thread::yield();
  g_ready.store(0, std::memory_order_relaxed);
}

struct ConsumerResult {
  std::uint64_t delivered = 0;
  std::uint64_t last_seq = 0;
  bool any = false;
  std::uint64_t frags_after_first_overrun = 0;
  std::string error;  // first failure, empty if none
  Consumer::Stats stats{};
  std::uint64_t next_seq = 0;
};

// Polls until the producer is done and the ring is drained. Checks every delivered frag's bytes,
// strictly increasing seqs (consecutive if `expect_every`), and frags + lost == next - start
// after every poll. `stall(c)` runs after every kFrag and kOverrun and may block (a slow consumer).
template <class Stall>
ConsumerResult consume(Channel& ch, std::uint32_t index, const std::atomic<bool>& done, bool expect_every,
                       Stall stall) {
  ConsumerResult r;
  Consumer c(ch, index);
  g_ready.fetch_add(1, std::memory_order_release);
  const std::uint32_t mtu = ch.config().mtu;
  std::vector<std::uint8_t> dst(mtu);
  Frag meta{};
  bool overran = false;
  for (;;) {
    // Read `done` BEFORE polling: it is released after the last publish, so a kEmpty after
    // seeing it means this consumer is at the producer's final seq (an overwritten frag shows as
    // an overrun, which resyncs to the final pubseq, also visible now).
    const bool finished = done.load(std::memory_order_acquire);
    const Poll res = c.poll(dst, &meta);
    const auto st = c.stats();
    if (r.error.empty() && st.frags + st.lost != c.next_seq() - c.start_seq()) {
      r.error = "frags + lost != next - start at seq " + std::to_string(c.next_seq());
    }
    if (res == Poll::kFrag) {
      if (r.error.empty()) {
        if (r.any && meta.seq <= r.last_seq) r.error = "seq not increasing: " + std::to_string(meta.seq);
        if (expect_every && meta.seq != r.delivered) r.error = "expected seq " + std::to_string(r.delivered);
        const std::string e = check_frag(meta, dst.data(), mtu);
        if (!e.empty()) r.error = "torn/wrong frag: " + e;
      }
      r.any = true;
      r.last_seq = meta.seq;
      ++r.delivered;
      if (overran) ++r.frags_after_first_overrun;
      stall(c);
    } else if (res == Poll::kOverrun) {
      overran = true;
      stall(c);
    } else if (finished) {
      break;
    } else {
      std::this_thread::yield();
    }
  }
  r.stats = c.stats();
  r.next_seq = c.next_seq();
  return r;
}

void produce(Channel& ch, std::uint64_t n, std::atomic<bool>& done) {
  Producer p(ch);
  const std::uint32_t mtu = ch.config().mtu;
  std::vector<std::uint8_t> buf(mtu);
  wait_for_consumers(ch);
  for (std::uint64_t s = 0; s < n;) {
    if (publish_seq(p, s, mtu, buf)) {
      ++s;
      if ((s & 1023) == 0) std::this_thread::yield();  // share the 2-core CI machine
    } else {
      std::this_thread::yield();  // out of credits (flow control)
    }
  }
  done.store(true, std::memory_order_release);
}

// Producer for the no-flow-control tests that must run until the consumers have seen something:
// publishes at least `min_n` frags and until `keep_going()` is false; returns the count.
template <class KeepGoing>
std::uint64_t produce_until(Channel& ch, std::uint64_t min_n, KeepGoing keep_going, std::atomic<bool>& done) {
  Producer p(ch);
  const std::uint32_t mtu = ch.config().mtu;
  std::vector<std::uint8_t> buf(mtu);
  wait_for_consumers(ch);
  std::uint64_t s = 0;
  while (s < min_n || keep_going()) {
    if (publish_seq(p, s, mtu, buf) && (++s & 255) == 0) std::this_thread::yield();  // 2-core CI
  }
  done.store(true, std::memory_order_release);
  return s;
}

constexpr std::uint64_t kSpscFrags = 2'000'000;
auto no_stall = [](Consumer&) {};

TEST(RingThreads, SpscFlowControlEveryFragExactlyOnce) {
  auto ch = Channel::create(config(1024, 256, 1, true));
  std::atomic<bool> done{false};
  ConsumerResult r;
  std::thread cons([&] { r = consume(*ch, 0, done, /*expect_every=*/true, no_stall); });
  produce(*ch, kSpscFrags, done);
  cons.join();
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.delivered, kSpscFrags);
  EXPECT_EQ(r.last_seq, kSpscFrags - 1);
  EXPECT_EQ(r.stats.frags, kSpscFrags);
  EXPECT_EQ(r.stats.overruns, 0u);
  EXPECT_EQ(r.stats.lost, 0u);
  EXPECT_EQ(r.next_seq, kSpscFrags);
}

TEST(RingThreads, SpscNoFlowControlAccountsForEverything) {
  auto ch = Channel::create(config(1024, 256, 1, false));
  std::atomic<bool> done{false};
  ConsumerResult r;
  std::thread cons([&] { r = consume(*ch, 0, done, /*expect_every=*/false, no_stall); });
  produce(*ch, kSpscFrags, done);
  cons.join();
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.delivered, r.stats.frags);
  EXPECT_EQ(r.stats.frags + r.stats.lost, kSpscFrags);  // drained: next == published
  EXPECT_EQ(r.next_seq, kSpscFrags);
  EXPECT_GT(r.stats.frags, 0u);
  if (r.stats.overruns == 0) {
    EXPECT_EQ(r.stats.lost, 0u);
  }
}

TEST(RingThreads, SpmcFlowControlEachConsumerSeesEveryFrag) {
  constexpr std::uint64_t kN = 300'000;
  auto ch = Channel::create(config(256, 200, 3, true));
  std::atomic<bool> done{false};
  ConsumerResult r[3];
  std::vector<std::thread> ts;
  for (std::uint32_t i = 0; i < 3; ++i) {
    ts.emplace_back([&, i] { r[i] = consume(*ch, i, done, /*expect_every=*/true, no_stall); });
  }
  produce(*ch, kN, done);
  for (auto& t : ts) t.join();
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r[i].error, "");
    EXPECT_EQ(r[i].delivered, kN);
    EXPECT_EQ(r[i].stats.overruns, 0u);
    EXPECT_EQ(r[i].stats.lost, 0u);
  }
}

TEST(RingThreads, SpmcNoFlowControlEachDetectsItsOwnOverruns) {
  constexpr std::uint64_t kDepth = 64;
  auto ch = Channel::create(config(kDepth, 200, 3, false));
  std::atomic<bool> done{false};
  std::atomic<int> stalls{0};
  ConsumerResult r[3];
  // Consumer 2 stalls every 2000 seqs until the producer is 3 depths past it: each stall is a
  // certain overrun for it alone.
  // Triggered by sequence progress, not by frags delivered: a consumer that shares a core with
  // the producer may deliver few frags, but its position always moves on.
  std::uint64_t next_stall = 2000;
  auto slow = [&](Consumer& c) {
    if (c.next_seq() < next_stall) return;
    next_stall = c.next_seq() + 2000;
    while (static_cast<std::int64_t>(ch->published() - (c.next_seq() + 3 * kDepth)) < 0 &&
           !done.load(std::memory_order_acquire)) {
      std::this_thread::yield();
    }
    stalls.fetch_add(1, std::memory_order_relaxed);
  };
  std::vector<std::thread> ts;
  for (std::uint32_t i = 0; i < 2; ++i) {
    ts.emplace_back([&, i] { r[i] = consume(*ch, i, done, false, no_stall); });
  }
  ts.emplace_back([&] { r[2] = consume(*ch, 2, done, false, slow); });
  const std::uint64_t n =
      produce_until(*ch, 100'000, [&] { return stalls.load(std::memory_order_relaxed) < 5; }, done);
  for (auto& t : ts) t.join();
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r[i].error, "");
    EXPECT_EQ(r[i].stats.frags + r[i].stats.lost, n);
    EXPECT_EQ(r[i].stats.frags, r[i].delivered);
  }
  EXPECT_GE(r[2].stats.overruns, 4u);  // 5 stalls; the last may end with the producer done
  EXPECT_GE(r[2].stats.lost, 4 * (3 * kDepth - 1));
}

// FORCED OVERRUN. The consumer stalls (5 times, every 2000 seqs) until the producer (no flow
// control) is 3 depths ahead of it, so line(next) has certainly been overwritten. Checked:
//   - after EVERY poll: stats.frags + stats.lost == next_seq - start_seq (start 0), i.e. every
//     seq below the consumer's resync point is either delivered or counted lost, none twice;
//   - at the end (producer done, consumer drained to kEmpty): frags + lost == frags published;
//   - each stall is one overrun at least and loses >= 3 depths - 1 (the resync lands at or past
//     the newest frag when the stall ended): overruns >= 5, lost >= 5 * (3 * depth - 1);
//   - the consumer recovers: frags are delivered after the first overrun;
//   - every delivered frag is intact (size, sig, ctl, every byte derived from its seq) and seqs
//     strictly increase.
TEST(RingThreads, ForcedOverrunRecoversAndAccounts) {
  constexpr std::uint64_t kDepth = 64;
  auto ch = Channel::create(config(kDepth, 200, 1, false));
  std::atomic<bool> done{false};
  std::atomic<int> stalls{0};
  std::uint64_t next_stall = 2000;
  auto stall = [&](Consumer& c) {
    if (c.next_seq() < next_stall || stalls.load(std::memory_order_relaxed) >= 5) return;
    next_stall = c.next_seq() + 2000;
    while (static_cast<std::int64_t>(ch->published() - (c.next_seq() + 3 * kDepth)) < 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    stalls.fetch_add(1, std::memory_order_relaxed);
  };
  ConsumerResult r;
  std::thread cons([&] { r = consume(*ch, 0, done, false, stall); });
  // The producer keeps going until the 5 stalls are done, plus 50,000 more frags of recovery.
  std::atomic<std::uint64_t> after{0};
  const std::uint64_t n = produce_until(
      *ch, 50'000,
      [&] { return stalls.load(std::memory_order_relaxed) < 5 || after.fetch_add(1) < 50'000; }, done);
  cons.join();
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(stalls.load(), 5);
  EXPECT_GE(r.stats.overruns, 5u);
  EXPECT_GE(r.stats.lost, 5 * (3 * kDepth - 1));
  EXPECT_GT(r.frags_after_first_overrun, 0u);
  EXPECT_EQ(r.stats.frags, r.delivered);
  EXPECT_EQ(r.stats.frags + r.stats.lost, n);
  EXPECT_EQ(r.next_seq, n);
}

// Depth 8 and a producer that never waits: the consumer is lapped mid-copy all the time. Every
// frag it does deliver must be intact; a single torn payload or mismatched meta fails.
TEST(RingThreads, TornReadStressDepth8) {
  constexpr std::uint64_t kMin = 1'000'000;
  auto ch = Channel::create(config(8, 128, 1, false));
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> polled{0};  // kFrag + kOverrun results so far
  ConsumerResult r;
  std::thread cons([&] { r = consume(*ch, 0, done, false, [&](Consumer&) { polled.fetch_add(1); }); });
  // At least 1M frags, and on until the consumer has 20,000 results (a loaded machine may starve
  // it of CPU for a while).
  const std::uint64_t n = produce_until(*ch, kMin, [&] { return polled.load() < 20'000; }, done);
  cons.join();
  EXPECT_EQ(r.error, "");
  EXPECT_GT(r.delivered, 0u);
  EXPECT_EQ(r.stats.frags + r.stats.lost, n);
  std::printf("[ torn-read stress ] delivered %llu, overruns %llu, lost %llu of %llu\n",
              static_cast<unsigned long long>(r.stats.frags), static_cast<unsigned long long>(r.stats.overruns),
              static_cast<unsigned long long>(r.stats.lost), static_cast<unsigned long long>(n));
}

}  // namespace
}  // namespace clutchcall::ring
