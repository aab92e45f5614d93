// The relay engine over an in-memory backend: steering and hand-off between shards, FORWARD
// byte for byte, TRANSCODE through jitter buffer + transcoder, latching, counters, control-plane
// errors. The same engine runs over real backends in tests/fastpath (veth + netns).
#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "g711/g711.h"
#include "relay/call_state.h"
#include "relay/engine.h"
#include "rtp/rtp.h"

namespace clutchcall::relay {
namespace {

using Bytes = std::vector<std::uint8_t>;

struct Sent {
  netio::Endpoint local, remote;
  Bytes data;
  std::uint32_t shard;
};

// The "network": per-shard inboxes the test fills, and one outbox every shard writes to.
struct Wire {
  std::mutex mu;
  std::vector<std::deque<std::pair<netio::RxPacket, Bytes>>> inbox;
  std::vector<Sent> outbox;
  std::vector<std::vector<netio::Endpoint>> open;  // per shard
  std::atomic<int> cpu_seen[4] = {-1, -1, -1, -1};  // per shard: the CPU its last rx_burst ran on

  void inject(std::uint32_t shard, const netio::Endpoint &from, const netio::Endpoint &to, Bytes data) {
    std::lock_guard<std::mutex> lock(mu);
    netio::RxPacket p;
    p.remote = from;
    p.local = to;
    p.queue = shard;
    inbox[shard].emplace_back(p, std::move(data));
  }
  std::vector<Sent> take() {
    std::lock_guard<std::mutex> lock(mu);
    return std::exchange(outbox, {});
  }
  std::size_t sent() {
    std::lock_guard<std::mutex> lock(mu);
    return outbox.size();
  }
};

class MemoryIo final : public netio::PacketIo {
 public:
  MemoryIo(Wire &w, std::uint32_t shard) : w_(w), shard_(shard) {}
  const char *name() const noexcept override { return "memory"; }
  std::string open_port(const netio::Endpoint &local) override {
    std::lock_guard<std::mutex> lock(w_.mu);
    w_.open[shard_].push_back(local);
    return {};
  }
  void close_port(const netio::Endpoint &local) override {
    std::lock_guard<std::mutex> lock(w_.mu);
    auto &v = w_.open[shard_];
    v.erase(std::remove(v.begin(), v.end(), local), v.end());
  }
  std::size_t rx_burst(netio::RxPacket *out, std::size_t max) noexcept override {
    if (shard_ < 4) w_.cpu_seen[shard_].store(sched_getcpu(), std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(w_.mu);
    held_.clear();
    auto &q = w_.inbox[shard_];
    std::size_t n = 0;
    while (n < max && !q.empty()) {
      held_.push_back(std::move(q.front()));
      q.pop_front();
      ++n;
    }
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = held_[i].first;
      out[i].data = held_[i].second.data();
      out[i].len = static_cast<std::uint32_t>(held_[i].second.size());
    }
    return n;
  }
  void rx_release(const netio::RxPacket *, std::size_t) noexcept override {}
  std::size_t tx_burst(const netio::TxPacket *p, std::size_t n) noexcept override {
    std::lock_guard<std::mutex> lock(w_.mu);
    for (std::size_t i = 0; i < n; ++i) {
      w_.outbox.push_back(Sent{p[i].local, p[i].remote, Bytes(p[i].data, p[i].data + p[i].len), shard_});
    }
    return n;
  }
  void flush() noexcept override {}
  void wait(int timeout_ms) noexcept override {
    std::this_thread::sleep_for(std::chrono::microseconds(timeout_ms > 0 ? 200 : 50));
  }
  netio::IoStats stats() const noexcept override { return {}; }

 private:
  Wire &w_;
  std::uint32_t shard_;
  std::deque<std::pair<netio::RxPacket, Bytes>> held_;
};

netio::Endpoint ep(const char *ip, std::uint16_t port) {
  netio::Endpoint e;
  EXPECT_TRUE(netio::parse_endpoint(ip, port, &e)) << ip;
  return e;
}

Bytes rtp_packet(std::uint16_t seq, std::uint32_t ts, std::uint32_t ssrc, std::uint8_t pt,
                 const Bytes &payload) {
  rtp::Header h{};
  h.payload_type = pt;
  h.sequence = seq;
  h.timestamp = ts;
  h.ssrc = ssrc;
  Bytes out(12 + payload.size());
  std::size_t n = 0;
  EXPECT_EQ(rtp::build(h, payload, out, n), rtp::Status::ok);
  out.resize(n);
  return out;
}

Bytes ulaw_payload(std::uint32_t k) {
  Bytes p(160);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>((k * 31 + i * 7) & 0xFF);
  return p;
}

template <typename Pred>
bool eventually(Pred pred, int ms = 3000) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
}

struct Fixture {
  Wire wire;
  std::unique_ptr<Engine> engine;

  explicit Fixture(std::uint32_t shards, std::uint32_t depth = 1024) {
    wire.inbox.resize(shards);
    wire.open.resize(shards);
    EngineConfig cfg;
    cfg.backend = Backend::custom;
    cfg.shards = shards;
    cfg.port_lo = 20000;
    cfg.port_hi = 20999;
    cfg.max_calls = 64;
    cfg.handoff_depth = depth;
    cfg.pin = false;
    cfg.io_factory = [this](std::uint32_t shard, std::string *) {
      return std::make_unique<MemoryIo>(wire, shard);
    };
    std::string why;
    engine = Engine::start(cfg, &why);
    EXPECT_TRUE(engine) << why;
  }
};

CallConfig call(std::uint64_t id, std::uint16_t pa, std::uint16_t pb, std::uint32_t codec_a,
                std::uint32_t codec_b) {
  CallConfig c;
  c.id = id;
  c.legs[0].local = ep("10.0.0.1", pa);
  c.legs[0].remote = ep("10.0.0.2", 5000);
  c.legs[0].shape = {codec_a, 8000, 1, 20};
  c.legs[0].payload_type = codec_a == CC_CODEC_G711_ALAW ? 8 : 0;
  c.legs[1].local = ep("10.0.0.1", pb);
  c.legs[1].remote = ep("10.0.0.3", 6000);
  c.legs[1].shape = {codec_b, 8000, 1, 20};
  c.legs[1].payload_type = codec_b == CC_CODEC_G711_ALAW ? 8 : 0;
  return c;
}

TEST(Relay, ForwardsByteForByteAndHandsOffBetweenShards) {
  Fixture f(2);
  const CallConfig c = call(7, 20000, 20002, CC_CODEC_G711_ULAW, CC_CODEC_G711_ULAW);
  ASSERT_EQ(f.engine->add_call(c), "");
  CallStats st{};
  ASSERT_TRUE(f.engine->call_stats(7, &st));
  const std::uint32_t owner = st.shard;
  const std::uint32_t other = 1 - owner;
  EXPECT_FALSE(st.transcoding);

  std::vector<Bytes> sent_a, sent_b;
  for (std::uint16_t i = 0; i < 200; ++i) {
    Bytes a = rtp_packet(i, i * 160u, 0xA, 0, ulaw_payload(i));
    Bytes b = rtp_packet(static_cast<std::uint16_t>(1000 + i), i * 160u, 0xB, 0, ulaw_payload(i + 500));
    // Alternate the landing shard: half arrive on the owner, half need a hand-off.
    f.wire.inject(i % 2 ? owner : other, c.legs[0].remote, c.legs[0].local, a);
    f.wire.inject(i % 2 ? other : owner, c.legs[1].remote, c.legs[1].local, b);
    sent_a.push_back(a);
    sent_b.push_back(b);
  }
  ASSERT_TRUE(eventually([&] { return f.wire.sent() >= 400; })) << f.wire.sent();
  const auto out = f.wire.take();
  ASSERT_EQ(out.size(), 400u);
  std::vector<Bytes> got_b, got_a;  // got_b: what went out on leg b (came in on a)
  for (const Sent &s : out) {
    EXPECT_EQ(s.shard, owner);  // only the owner sends
    if (s.local == c.legs[1].local) {
      EXPECT_EQ(s.remote, c.legs[1].remote);
      got_b.push_back(s.data);
    } else {
      EXPECT_EQ(s.local, c.legs[0].local);
      EXPECT_EQ(s.remote, c.legs[0].remote);
      got_a.push_back(s.data);
    }
  }
  // Byte for byte, and in order per direction where both arrived on the same shard; across
  // shards the order may change, so compare as multisets.
  std::sort(got_b.begin(), got_b.end());
  std::sort(sent_a.begin(), sent_a.end());
  std::sort(got_a.begin(), got_a.end());
  std::sort(sent_b.begin(), sent_b.end());
  EXPECT_EQ(got_b, sent_a);
  EXPECT_EQ(got_a, sent_b);

  CallStats fin{};
  ASSERT_TRUE(f.engine->remove_call(7, &fin));
  for (int leg = 0; leg < 2; ++leg) {
    EXPECT_EQ(fin.legs[leg].rx_packets, 200u);
    EXPECT_EQ(fin.legs[leg].tx_packets, 200u);
    EXPECT_EQ(fin.legs[leg].tx_bytes, 200u * 172u);
    EXPECT_EQ(fin.legs[leg].handoff_out, 100u);
    EXPECT_EQ(fin.legs[leg].handoff_in, 100u);
    EXPECT_EQ(fin.legs[leg].ring_lost(), 0u);
  }
  const auto shards = f.engine->shard_stats();
  EXPECT_EQ(shards[other].handoff_out, 200u);
  EXPECT_EQ(shards[owner].handoff_in, 200u);
  EXPECT_EQ(shards[owner].tx_packets, 400u);
  EXPECT_EQ(shards[0].ring_overruns + shards[1].ring_overruns, 0u);
  // The owner opened the ports, and closed them again on removal.
  std::lock_guard<std::mutex> lock(f.wire.mu);
  EXPECT_TRUE(f.wire.open[0].empty() && f.wire.open[1].empty());
}

TEST(Relay, TranscodesUlawToAlawThroughTheJitterBuffer) {
  Fixture f(1);
  const CallConfig c = call(9, 20010, 20012, CC_CODEC_G711_ULAW, CC_CODEC_G711_ALAW);
  ASSERT_EQ(f.engine->add_call(c), "");
  CallStats st{};
  ASSERT_TRUE(f.engine->call_stats(9, &st));
  EXPECT_TRUE(st.transcoding);
  // Leg b must have spoken (or be configured) before we can send to it: it is configured.
  constexpr int kFrames = 40;
  for (int i = 0; i < kFrames; ++i) {
    f.wire.inject(0, c.legs[0].remote, c.legs[0].local,
                  rtp_packet(static_cast<std::uint16_t>(65530 + i), 1000u + 160u * static_cast<std::uint32_t>(i),
                             0x1234, 0, ulaw_payload(static_cast<std::uint32_t>(i))));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Every frame comes out once the buffer drains (it keeps ticking after the stream stops).
  ASSERT_TRUE(eventually([&] { return f.wire.sent() >= kFrames; }, 2000)) << f.wire.sent();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto out = f.wire.take();
  ASSERT_EQ(out.size(), static_cast<std::size_t>(kFrames));
  std::uint32_t ssrc = 0;
  for (int i = 0; i < kFrames; ++i) {
    const Sent &s = out[static_cast<std::size_t>(i)];
    EXPECT_EQ(s.local, c.legs[1].local);
    EXPECT_EQ(s.remote, c.legs[1].remote);
    rtp::PacketView v;
    ASSERT_EQ(v.parse(s.data), rtp::Status::ok);
    EXPECT_EQ(v.payload_type(), 8);
    if (i == 0) {
      ssrc = v.ssrc();
      EXPECT_TRUE(v.marker());
    } else {
      rtp::PacketView prev;
      ASSERT_EQ(prev.parse(out[static_cast<std::size_t>(i - 1)].data), rtp::Status::ok);
      EXPECT_EQ(v.ssrc(), ssrc);
      EXPECT_EQ(static_cast<std::uint16_t>(prev.sequence() + 1), v.sequence());
      EXPECT_EQ(v.timestamp() - prev.timestamp(), 160u);
    }
    // Oracle: decode the u-law frame to linear, encode as A-law (what the transcoder does).
    const Bytes in = ulaw_payload(static_cast<std::uint32_t>(i));
    std::int16_t pcm[160];
    std::uint8_t alaw[160];
    cc_g711_ulaw_decode(in.data(), 160, pcm);
    cc_g711_alaw_encode(pcm, 160, alaw);
    ASSERT_EQ(v.payload().size(), 160u);
    EXPECT_TRUE(std::equal(alaw, alaw + 160, v.payload().begin())) << "frame " << i;
  }
  CallStats fin{};
  ASSERT_TRUE(f.engine->remove_call(9, &fin));
  EXPECT_EQ(fin.legs[0].rx_packets, static_cast<std::uint64_t>(kFrames));
  EXPECT_EQ(fin.legs[1].tx_packets, static_cast<std::uint64_t>(kFrames));
  EXPECT_EQ(fin.legs[1].concealed, 0u);
  EXPECT_EQ(fin.legs[0].late_losses, 0u);
}

TEST(Relay, LatchesTheFirstSourceAndDropsForeignOnes) {
  Fixture f(1);
  CallConfig c = call(3, 20020, 20022, CC_CODEC_G711_ULAW, CC_CODEC_G711_ULAW);
  c.legs[0].remote.port = 0;  // learn it
  c.legs[1].remote.port = 0;
  ASSERT_EQ(f.engine->add_call(c), "");
  const netio::Endpoint peer_a = ep("10.0.0.2", 7000), peer_b = ep("10.0.0.3", 7002);
  const netio::Endpoint intruder = ep("10.0.0.66", 7000);
  // a speaks first: b has not, so there is nowhere to send yet (dropped, counted).
  f.wire.inject(0, peer_a, c.legs[0].local, rtp_packet(1, 0, 1, 0, ulaw_payload(1)));
  f.wire.inject(0, peer_b, c.legs[1].local, rtp_packet(1, 0, 2, 0, ulaw_payload(2)));
  f.wire.inject(0, peer_a, c.legs[0].local, rtp_packet(2, 160, 1, 0, ulaw_payload(3)));
  f.wire.inject(0, intruder, c.legs[0].local, rtp_packet(3, 320, 1, 0, ulaw_payload(4)));
  f.wire.inject(0, peer_a, c.legs[0].local, Bytes{0x00, 0x01});  // not RTP
  ASSERT_TRUE(eventually([&] { return f.wire.sent() >= 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto out = f.wire.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].remote, peer_a);  // b's packet to the latched a
  EXPECT_EQ(out[1].remote, peer_b);  // a's second packet to the latched b
  CallStats st{};
  ASSERT_TRUE(f.engine->call_stats(3, &st));
  EXPECT_EQ(st.legs[0].foreign_source, 1u);
  EXPECT_EQ(st.legs[0].malformed, 1u);
  EXPECT_EQ(st.legs[0].rx_packets, 2u);
  EXPECT_EQ(st.legs[1].tx_dropped, 1u);
  EXPECT_EQ(st.legs[1].tx_packets, 1u);
}

TEST(Relay, ControlPlaneErrorsAreNamed) {
  Fixture f(2);
  EXPECT_EQ(f.engine->add_call(call(1, 20000, 20002, CC_CODEC_G711_ULAW, CC_CODEC_G711_ULAW)), "");
  EXPECT_EQ(f.engine->add_call(call(1, 20004, 20006, CC_CODEC_G711_ULAW, CC_CODEC_G711_ULAW)),
            "call 1 already exists");
  EXPECT_EQ(f.engine->add_call(call(2, 20002, 20008, CC_CODEC_G711_ULAW, CC_CODEC_G711_ULAW)),
            "local port 20002 is in use by another call");
  EXPECT_EQ(f.engine->add_call(call(3, 30000, 20008, CC_CODEC_G711_ULAW, CC_CODEC_G711_ULAW)),
            "local port 30000 is outside the RTP range 20000..20999");
  EXPECT_EQ(f.engine->add_call(call(4, 20008, 20008, CC_CODEC_G711_ULAW, CC_CODEC_G711_ULAW)),
            "both legs use local port 20008");
  CallConfig bad = call(5, 20010, 20012, CC_CODEC_G711_ULAW, CC_CODEC_G711_ULAW);
  bad.legs[1].shape.sample_rate = 16000;
  EXPECT_EQ(f.engine->add_call(bad), "leg b: bad audio shape (g711_not_8k_mono)");
  EXPECT_FALSE(f.engine->remove_call(99, nullptr));
  EXPECT_EQ(f.engine->call_ids(), std::vector<std::uint64_t>{1});
  // A packet to a port with no call is dropped and counted on the shard that got it.
  f.wire.inject(1, ep("10.0.0.9", 1), ep("10.0.0.1", 20500), rtp_packet(1, 0, 1, 0, ulaw_payload(0)));
  ASSERT_TRUE(eventually([&] { return f.engine->shard_stats()[1].unknown_port == 1; }));
  // Calls spread over the shards (least loaded first).
  EXPECT_EQ(f.engine->add_call(call(6, 20020, 20022, CC_CODEC_G711_ULAW, CC_CODEC_G711_ULAW)), "");
  CallStats s1{}, s6{};
  ASSERT_TRUE(f.engine->call_stats(1, &s1));
  ASSERT_TRUE(f.engine->call_stats(6, &s6));
  EXPECT_NE(s1.shard, s6.shard);
}

TEST(Relay, HandOffRingOverrunIsCountedNotFatal) {
  // Depth 16 and an owner that is busy (its backend stalls in wait while the other shard
  // floods it): the ring laps, the owner counts the overrun and keeps relaying.
  Fixture f(2, 16);
  const CallConfig c = call(11, 20030, 20032, CC_CODEC_G711_ULAW, CC_CODEC_G711_ULAW);
  ASSERT_EQ(f.engine->add_call(c), "");
  CallStats st{};
  ASSERT_TRUE(f.engine->call_stats(11, &st));
  const std::uint32_t other = 1 - st.shard;
  {
    // Queue everything at once on the non-owner: it hands off up to 64 per loop iteration,
    // far faster than ring depth 16 allows the owner to keep up with in the worst case.
    std::lock_guard<std::mutex> lock(f.wire.mu);
    for (std::uint16_t i = 0; i < 5000; ++i) {
      netio::RxPacket p;
      p.remote = c.legs[0].remote;
      p.local = c.legs[0].local;
      f.wire.inbox[other].emplace_back(p, rtp_packet(i, i * 160u, 5, 0, ulaw_payload(i)));
    }
  }
  ASSERT_TRUE(eventually([&] {
    const auto s = f.engine->shard_stats();
    return s[other].handoff_out == 5000;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto s = f.engine->shard_stats();
  CallStats fin{};
  ASSERT_TRUE(f.engine->remove_call(11, &fin));
  // Conservation: every hand-off was either processed or lost in the ring, never both.
  EXPECT_EQ(fin.legs[0].handoff_out, 5000u);
  EXPECT_EQ(fin.legs[0].handoff_in + fin.legs[0].ring_lost(), 5000u);
  EXPECT_EQ(fin.legs[0].handoff_in, fin.legs[0].rx_packets);
  EXPECT_EQ(fin.legs[1].tx_packets, fin.legs[0].rx_packets);
  EXPECT_EQ(s[st.shard].ring_lost, fin.legs[0].ring_lost());
  std::printf("hand-off: %llu processed, %llu lost in %llu overruns\n",
              static_cast<unsigned long long>(fin.legs[0].handoff_in),
              static_cast<unsigned long long>(s[st.shard].ring_lost),
              static_cast<unsigned long long>(s[st.shard].ring_overruns));
}

std::vector<int> affinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> out;
  EXPECT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  for (std::size_t c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) out.push_back(static_cast<int>(c));
  return out;
}

EngineConfig memory_config(Wire &wire, std::uint32_t shards) {
  wire.inbox.resize(shards);
  wire.open.resize(shards);
  EngineConfig cfg;
  cfg.backend = Backend::custom;
  cfg.shards = shards;
  cfg.port_lo = 20000;
  cfg.port_hi = 20999;
  cfg.max_calls = 8;
  cfg.io_factory = [&wire](std::uint32_t shard, std::string *) {
    return std::make_unique<MemoryIo>(wire, shard);
  };
  return cfg;
}

TEST(Relay, ShardsRunOnTheListedCpus) {
  const std::vector<int> allowed = affinity();
  ASSERT_FALSE(allowed.empty());
  // Reversed, so shard 0 is not on the first CPU (when there are two or more).
  std::vector<int> cpus(allowed.rbegin(), allowed.rend());
  if (cpus.size() > 4) cpus.resize(4);
  Wire wire;
  EngineConfig cfg = memory_config(wire, static_cast<std::uint32_t>(cpus.size()));
  cfg.cpus = cpus;
  std::string why;
  auto engine = Engine::start(cfg, &why);
  ASSERT_TRUE(engine) << why;
  const auto st = engine->shard_stats();
  ASSERT_EQ(st.size(), cpus.size());
  for (std::size_t i = 0; i < cpus.size(); ++i) {
    EXPECT_EQ(st[i].cpu, cpus[i]) << "shard " << i;
    // The thread really runs there: its backend sees that CPU.
    ASSERT_TRUE(eventually([&] {
      return wire.cpu_seen[i].load(std::memory_order_relaxed) == cpus[i];
    })) << "shard " << i << " ran on cpu " << wire.cpu_seen[i].load() << ", not " << cpus[i];
  }
}

TEST(Relay, DefaultCpusAreTheAffinityMaskAndWrap) {
  const std::vector<int> allowed = affinity();
  ASSERT_FALSE(allowed.empty());
  Wire wire;
  const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(allowed.size() + 1, 4));
  EngineConfig cfg = memory_config(wire, n);
  std::string why;
  auto engine = Engine::start(cfg, &why);
  ASSERT_TRUE(engine) << why;
  const auto st = engine->shard_stats();
  ASSERT_EQ(st.size(), n);
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(st[i].cpu, allowed[i % allowed.size()]) << i;
  // shards = 0: one per CPU of the mask.
  Wire wire0;
  EngineConfig cfg0 = memory_config(wire0, static_cast<std::uint32_t>(allowed.size()));
  cfg0.shards = 0;
  cfg0.pin = false;
  auto e0 = Engine::start(cfg0, &why);
  ASSERT_TRUE(e0) << why;
  EXPECT_EQ(e0->shard_count(), std::min<std::size_t>(allowed.size(), 64));
  for (const ShardStats &s : e0->shard_stats()) EXPECT_EQ(s.cpu, -1);
}

TEST(Relay, CpusOutsideTheMaskAreRefused) {
  const std::vector<int> allowed = affinity();
  ASSERT_FALSE(allowed.empty());
  std::string mask;
  {
    // The same "0-3,6" form the engine uses.
    for (std::size_t i = 0; i < allowed.size();) {
      std::size_t j = i;
      while (j + 1 < allowed.size() && allowed[j + 1] == allowed[j] + 1) ++j;
      mask += (mask.empty() ? "" : ",") + std::to_string(allowed[i]) +
              (j > i ? "-" + std::to_string(allowed[j]) : "");
      i = j + 1;
    }
  }
  const int outside = allowed.back() + 1;
  Wire wire;
  EngineConfig cfg = memory_config(wire, 1);
  std::string why;
  cfg.cpus = {outside};
  EXPECT_FALSE(Engine::start(cfg, &why));
  EXPECT_EQ(why, "cpu " + std::to_string(outside) + " is not in this process's CPU affinity mask (" +
                     mask + ")");
  cfg.cpus = {-1};
  EXPECT_FALSE(Engine::start(cfg, &why));
  EXPECT_EQ(why, "cpu -1 is not in this process's CPU affinity mask (" + mask + ")");
  cfg.cpus = {allowed[0], allowed[0]};
  EXPECT_FALSE(Engine::start(cfg, &why));
  EXPECT_EQ(why, "cpu " + std::to_string(allowed[0]) + " is listed twice in cpus");
  cfg.cpus = {allowed[0]};
  cfg.pin = false;
  EXPECT_FALSE(Engine::start(cfg, &why));
  EXPECT_EQ(why, "cpus given but pin is off");
}

// The rule EngineConfig::handoff_depth states, and nothing else, decides what start() accepts.
TEST(Relay, HandoffDepthFollowsTheHeaderRule) {
  auto start = [](std::uint32_t shards, std::uint32_t depth, std::string *why) {
    Wire wire;
    EngineConfig cfg = memory_config(wire, shards);
    cfg.pin = false;
    cfg.handoff_depth = depth;
    return Engine::start(cfg, why) != nullptr;
  };
  std::string why;
  for (std::uint32_t bad : {0u, 1u, 8u, 100u, 4095u, 1u << 19, 0x80000000u}) {
    EXPECT_FALSE(start(2, bad, &why)) << bad;
    EXPECT_EQ(why, "handoff_depth must be a power of two in [16, 262144], got " + std::to_string(bad));
  }
  for (std::uint32_t good : {16u, 1024u}) EXPECT_TRUE(start(2, good, &why)) << good << ": " << why;
  EXPECT_TRUE(start(1, 1u << 18, &why)) << why;  // the top of the range (no rings: cheap to test)
  // 5 shards: 4 rings into each, so handoff_depth / 4 >= 16.
  EXPECT_TRUE(start(5, 64, &why)) << why;
  EXPECT_FALSE(start(5, 32, &why));
  EXPECT_EQ(why, "handoff_depth 32 is too small for 5 shards: each of the 4 rings into a shard would get 8 frags, "
                 "fewer than 16; use at least 64");
  // 6 shards: 5 senders round up to 8.
  EXPECT_FALSE(start(6, 64, &why));
  EXPECT_EQ(why, "handoff_depth 64 is too small for 6 shards: each of the 5 rings into a shard would get 8 frags, "
                 "fewer than 16; use at least 128");
  // One shard has no rings: any valid depth is fine.
  EXPECT_TRUE(start(1, 16, &why)) << why;
}

TEST(Relay, HandoffMemoryBeyondTheMachineIsRefusedAtOnce) {
  // 64 shards x 2^18 frags x ~2 KiB: ~32 GiB of rings. Refused before any shard or backend
  // exists (the factory is never called) when the machine has less RAM.
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  const auto ram = static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
  const std::uint64_t need = 64ull * 63 * ((1u << 12) * 32 + ((1u << 12) + 2) * 2048);
  if (need <= ram) GTEST_SKIP() << "this machine has " << (ram >> 20) << " MiB, enough for the rings";
  std::atomic<int> made{0};
  EngineConfig cfg;
  cfg.backend = Backend::custom;
  cfg.shards = 64;
  cfg.pin = false;
  cfg.handoff_depth = 1u << 18;
  cfg.io_factory = [&made](std::uint32_t, std::string *) -> std::unique_ptr<netio::PacketIo> {
    ++made;
    return nullptr;
  };
  std::string why;
  EXPECT_FALSE(Engine::start(cfg, &why));
  EXPECT_EQ(why.rfind("handoff_depth 262144 with 64 shards needs " + std::to_string((need + (1u << 20) - 1) >> 20) +
                          " MiB of hand-off rings, more than this machine's ",
                      0),
            0u)
      << why;
  EXPECT_EQ(made.load(), 0);
}

// max_calls 2^24 allocates slots only as calls arrive; more than one chunk of slots in use,
// removed and reused, relays on every slot; the limit itself is still enforced.
TEST(Relay, CallSlotsAreAllocatedAsCallsArriveAndReused) {
  Wire wire;
  EngineConfig cfg = memory_config(wire, 2);
  cfg.pin = false;
  cfg.port_hi = 29999;
  cfg.max_calls = 1u << 24;
  std::string why;
  auto engine = Engine::start(cfg, &why);
  ASSERT_TRUE(engine) << why;
  constexpr std::uint16_t kCalls = 1500;  // slots 0..1499: two chunks
  auto make = [](std::uint64_t id, std::uint16_t k) {
    return call(id, static_cast<std::uint16_t>(20000 + 2 * k), static_cast<std::uint16_t>(20001 + 2 * k),
                CC_CODEC_G711_ULAW, CC_CODEC_G711_ULAW);
  };
  for (std::uint16_t k = 0; k < kCalls; ++k) ASSERT_EQ(engine->add_call(make(k + 1, k)), "") << k;
  for (std::uint16_t k = 0; k < kCalls; k += 2) ASSERT_TRUE(engine->remove_call(k + 1, nullptr));
  for (std::uint16_t k = 0; k < kCalls; k += 2) ASSERT_EQ(engine->add_call(make(k + 100001, k)), "") << k;
  EXPECT_EQ(engine->call_ids().size(), kCalls);
  // A packet on the last call of the second chunk is relayed.
  const CallConfig last = make(kCalls, kCalls - 1);
  wire.inject(0, last.legs[0].remote, last.legs[0].local, rtp_packet(1, 160, 9, 0, ulaw_payload(1)));
  ASSERT_TRUE(eventually([&] { return wire.sent() == 1; }));
  EXPECT_EQ(wire.take()[0].local.port, last.legs[1].local.port);

  Wire small_wire;
  EngineConfig small = memory_config(small_wire, 1);
  small.pin = false;
  small.max_calls = 2;
  auto e2 = Engine::start(small, &why);
  ASSERT_TRUE(e2) << why;
  ASSERT_EQ(e2->add_call(call(1, 20000, 20001, CC_CODEC_G711_ULAW, CC_CODEC_G711_ULAW)), "");
  ASSERT_EQ(e2->add_call(call(2, 20002, 20003, CC_CODEC_G711_ULAW, CC_CODEC_G711_ULAW)), "");
  EXPECT_EQ(e2->add_call(call(3, 20004, 20005, CC_CODEC_G711_ULAW, CC_CODEC_G711_ULAW)),
            "no free call slot (max_calls 2)");
  ASSERT_TRUE(e2->remove_call(1, nullptr));
  EXPECT_EQ(e2->add_call(call(3, 20004, 20005, CC_CODEC_G711_ULAW, CC_CODEC_G711_ULAW)), "");
}

// The control surface from many threads at once (this suite also runs under ThreadSanitizer):
// adds, removes and stats readers race, every call ends where its thread left it; then stop()
// races with itself and with more adds, which are refused by name.
TEST(Relay, ControlFromManyThreadsThenStopRacingIt) {
  Wire wire;
  EngineConfig cfg = memory_config(wire, 3);
  cfg.pin = false;
  cfg.max_calls = 4096;
  cfg.port_hi = 29999;
  std::string why;
  auto engine = Engine::start(cfg, &why);
  ASSERT_TRUE(engine) << why;
  constexpr int kThreads = 6, kPerThread = 60;
  auto make = [](int t, int i) {
    const int k = t * kPerThread + i;
    return call(static_cast<std::uint64_t>(k + 1), static_cast<std::uint16_t>(20000 + 2 * k),
                static_cast<std::uint16_t>(20001 + 2 * k), CC_CODEC_G711_ULAW,
                i % 3 ? CC_CODEC_G711_ULAW : CC_CODEC_G711_ALAW);
  };
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!engine->add_call(make(t, i)).empty()) ++errors;
        CallStats st{};
        if (!engine->call_stats(make(t, i).id, &st) || st.id != make(t, i).id) ++errors;
        if (i % 2 == 1 && !engine->remove_call(make(t, i - 1).id, nullptr)) ++errors;  // keep the odd ones
        if (engine->shard_stats().size() != 3) ++errors;
      }
    });
  }
  for (auto &th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  std::vector<std::uint64_t> expect;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 1; i < kPerThread; i += 2) expect.push_back(make(t, i).id);
  std::sort(expect.begin(), expect.end());
  EXPECT_EQ(engine->call_ids(), expect);
  std::uint32_t calls = 0;
  for (const ShardStats &s : engine->shard_stats()) calls += s.calls;
  EXPECT_EQ(calls, expect.size());

  threads.clear();
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      if (t < 2) {
        engine->stop();
      } else {
        for (int i = 0; i < 20; ++i) {
          // Either added before the stop or refused by name; nothing else.
          const std::string err = engine->add_call(make(t + kThreads, i));
          if (!err.empty() && err != "engine stopped") ADD_FAILURE() << err;
        }
      }
    });
  }
  for (auto &th : threads) th.join();
  EXPECT_EQ(engine->add_call(make(kThreads + 5, 0)), "engine stopped");
}

}  // namespace
}  // namespace clutchcall::relay
