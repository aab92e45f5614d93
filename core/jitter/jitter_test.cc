// Jitter buffer: in-order playout, reordering, duplicates, wrap, resets, loss/late-loss, and a
// seeded simulated network (heavy-tailed delays) driving the target depth up and back down.
// Every test runs through Harness, which checks on every call that no frame is released twice,
// released numbers increase within a stream, each payload is the one inserted for its number,
// and packets are conserved (released + late + duplicate + reset-dropped + discarded +
// buffered == received).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "jitter/jitter.h"

namespace {

using clutchcall::jitter::Config;
using clutchcall::jitter::Frame;
using clutchcall::jitter::JitterBuffer;
using clutchcall::jitter::Stats;

constexpr std::int64_t kFrameUs = 20000;

struct Harness {
  explicit Harness(const Config &c = clutchcall::jitter::default_config()) : jb(c) {}

  cc_jitter_status insert(std::uint16_t seq, std::int64_t arrival_us, std::uint32_t ssrc = 0x5555,
                          std::uint32_t ts = 0xFFFFFFFF) {
    std::uint8_t payload[160];
    payload[0] = static_cast<std::uint8_t>(seq >> 8);
    payload[1] = static_cast<std::uint8_t>(seq);
    payload[2] = static_cast<std::uint8_t>(ssrc);
    for (int i = 3; i < 160; ++i) payload[i] = static_cast<std::uint8_t>(seq + i);
    if (ts == 0xFFFFFFFF) {  // default: 160 per packet, continuous across sequence wraps
      seq_ext = clutchcall::rtp::seq_extend(seq_ext, seq);
      ts = static_cast<std::uint32_t>(160 * seq_ext);
    }
    const cc_jitter_status s = jb.insert({seq, ts, ssrc, 0, payload, sizeof payload, arrival_us});
    check();
    return s;
  }

  Frame tick() {
    const Frame f = jb.tick();
    const Stats s = jb.stats();
    if (s.resets != epoch_resets) {
      epoch_resets = s.resets;
      last_ext = INT64_MIN;
    }
    if (f.kind == CC_JITTER_FRAME || f.kind == CC_JITTER_LOSS) {
      EXPECT_GT(f.ext_seq, last_ext) << "released out of order";
      last_ext = f.ext_seq;
      EXPECT_EQ(f.sequence, static_cast<std::uint16_t>(f.ext_seq & 0xFFFF));
    }
    if (f.kind == CC_JITTER_FRAME) {
      EXPECT_TRUE(released.insert({epoch_resets, f.ext_seq}).second) << "released twice";
      EXPECT_EQ(f.payload_len, 160u);
      EXPECT_EQ((f.payload[0] << 8) | f.payload[1], f.sequence) << "payload of another frame";
      EXPECT_EQ(f.payload[100], static_cast<std::uint8_t>(f.sequence + 100));
      frames.push_back(f.sequence);
    } else if (f.kind == CC_JITTER_LOSS) {
      lost.push_back(f.sequence);
    } else {
      ++waits;
    }
    max_target = std::max(max_target, s.target_depth);
    check();
    return f;
  }

  void check() {
    const Stats s = jb.stats();
    ASSERT_EQ(s.received,
              s.released + s.late_losses + s.duplicates + s.reset_dropped + s.discarded + s.buffered);
    ASSERT_GE(s.target_depth, 2u);
    ASSERT_LE(s.target_depth, 6u);
  }

  JitterBuffer jb;
  std::int64_t seq_ext = 0;
  std::set<std::pair<std::uint64_t, std::int64_t>> released;
  std::uint64_t epoch_resets = 0;
  std::int64_t last_ext = INT64_MIN;
  std::vector<std::uint16_t> frames, lost;
  int waits = 0;
  std::uint32_t max_target = 0;
};

TEST(Jitter, InOrderStreamPlaysInOrderAndSettlesAtTwoOrThree) {
  Harness h;
  EXPECT_EQ(h.tick().kind, CC_JITTER_WAIT);  // no stream yet
  std::vector<std::uint32_t> depths;
  for (std::uint16_t i = 0; i < 500; ++i) {
    ASSERT_EQ(h.insert(i, i * kFrameUs), CC_JITTER_INSERTED);
    h.tick();
    depths.push_back(h.jb.stats().depth);
  }
  const Stats s = h.jb.stats();
  EXPECT_EQ(s.target_depth, 2u);  // no jitter: the minimum
  EXPECT_EQ(s.losses, 0u);
  EXPECT_EQ(s.late_losses, 0u);
  EXPECT_LE(s.discarded, 1u);     // at most one frame dropped going from 3 to 2
  EXPECT_EQ(h.waits, 1 + 2);      // idle tick + prefill to depth 3
  EXPECT_EQ(depths[2], 3u);
  for (std::size_t i = 100; i < depths.size(); ++i) ASSERT_TRUE(depths[i] == 2 || depths[i] == 3);
  EXPECT_EQ(s.depth, 2u);
  EXPECT_EQ(s.delay_ms, 40u);
  // Released in order with no gaps except the one shrink drop.
  for (std::size_t i = 1; i < h.frames.size(); ++i) {
    const int step = h.frames[i] - h.frames[i - 1];
    ASSERT_TRUE(step == 1 || (step == 2 && s.discarded == 1)) << i;
  }
  EXPECT_EQ(h.frames.front(), 0);
}

TEST(Jitter, TimestampJumpIsNotJitter) {
  Harness h;
  for (std::uint16_t i = 0; i < 300; ++i) {
    const std::uint32_t ts = 160u * i + (i >= 150 ? 8000u * 3600u : 0u);  // sender clock jump
    h.insert(i, i * kFrameUs, 0x5555, ts);
    h.tick();
    ASSERT_LE(h.jb.stats().target_depth, 3u) << i;
  }
  EXPECT_EQ(h.jb.stats().jitter, 0u);
}

TEST(Jitter, ReorderingWithinTheWindowIsSlottedIn) {
  Harness h;
  // Arrival order 0 2 1 3 5 4 6 8 7 ... (pairs swapped), one tick per arrival.
  std::vector<std::uint16_t> order;
  for (std::uint16_t i = 0; i < 300; i += 3) order.insert(order.end(), {i, static_cast<std::uint16_t>(i + 2), static_cast<std::uint16_t>(i + 1)});
  std::int64_t t = 0;
  for (std::uint16_t seq : order) {
    ASSERT_EQ(h.insert(seq, t), CC_JITTER_INSERTED) << seq;
    h.tick();
    t += kFrameUs;
  }
  const Stats s = h.jb.stats();
  EXPECT_EQ(s.losses, 0u);
  EXPECT_EQ(s.late_losses, 0u);
  EXPECT_TRUE(std::is_sorted(h.frames.begin(), h.frames.end()));
  // A reordered first packet moves the playout start back.
  Harness g;
  EXPECT_EQ(g.insert(11, 0), CC_JITTER_INSERTED);
  EXPECT_EQ(g.insert(10, 1000), CC_JITTER_INSERTED);
  EXPECT_EQ(g.insert(12, 2000), CC_JITTER_INSERTED);
  EXPECT_EQ(g.tick().sequence, 10);
  EXPECT_EQ(g.tick().sequence, 11);
}

TEST(Jitter, DuplicatesAreDroppedAndCounted) {
  Harness h;
  for (std::uint16_t i = 0; i < 50; ++i) {
    ASSERT_EQ(h.insert(i, i * kFrameUs), CC_JITTER_INSERTED);
    ASSERT_EQ(h.insert(i, i * kFrameUs + 10), CC_JITTER_DUPLICATE);  // still buffered
    h.tick();
  }
  // Copies of frames already played are duplicates too, not late losses.
  EXPECT_EQ(h.insert(5, 50 * kFrameUs), CC_JITTER_DUPLICATE);
  EXPECT_EQ(h.insert(40, 50 * kFrameUs), CC_JITTER_DUPLICATE);
  const Stats s = h.jb.stats();
  EXPECT_EQ(s.duplicates, 52u);
  EXPECT_EQ(s.late_losses, 0u);
  std::set<std::uint16_t> unique(h.frames.begin(), h.frames.end());
  EXPECT_EQ(unique.size(), h.frames.size());
}

TEST(Jitter, SequenceWrapIsSeamless) {
  Harness h;
  std::uint16_t seq = 65400;
  for (int i = 0; i < 400; ++i, ++seq) {
    ASSERT_EQ(h.insert(seq, i * kFrameUs), CC_JITTER_INSERTED) << seq;
    h.tick();
    if (seq == 5) {
      // A copy of a frame played just before the wrap is a duplicate, not a 65k jump.
      EXPECT_EQ(h.insert(65530, i * kFrameUs), CC_JITTER_DUPLICATE);
    }
  }
  const Stats s = h.jb.stats();
  EXPECT_EQ(s.resets, 0u);
  EXPECT_EQ(s.losses, 0u);
  EXPECT_EQ(s.duplicates, 1u);
  // 65535 is followed by 0 (or by 1 if the single shrink drop landed exactly there).
  const auto it = std::find(h.frames.begin(), h.frames.end(), 65535);
  ASSERT_NE(it, h.frames.end());
  ASSERT_NE(it + 1, h.frames.end());
  EXPECT_LE(*(it + 1), 1);
  EXPECT_EQ(h.frames.back(), static_cast<std::uint16_t>(seq - 2));  // depth 2: newest-1
}

TEST(Jitter, LossAtItsTickThenLateArrivalIsLateLoss) {
  Harness h;
  std::int64_t t = 0;
  for (std::uint16_t i = 0; i < 30; ++i, t += kFrameUs) {
    if (i != 20) {
      ASSERT_EQ(h.insert(i, t), CC_JITTER_INSERTED);
    }
    h.tick();
  }
  ASSERT_EQ(h.lost.size(), 1u);
  EXPECT_EQ(h.lost[0], 20);
  EXPECT_EQ(std::count(h.frames.begin(), h.frames.end(), 20), 0);
  EXPECT_EQ(h.insert(20, t), CC_JITTER_LATE);
  EXPECT_EQ(h.insert(20, t + 1), CC_JITTER_DUPLICATE);  // a second copy of the late one
  const Stats s = h.jb.stats();
  EXPECT_EQ(s.losses, 1u);
  EXPECT_EQ(s.late_losses, 1u);
}

TEST(Jitter, UnderrunRebuffersWithoutSkipping) {
  Harness h;
  std::int64_t t = 0;
  for (std::uint16_t i = 0; i < 10; ++i, t += kFrameUs) {
    h.insert(i, t);
    h.tick();
  }
  // Drain: the frames still held play out, then WAIT (an underrun), never LOSS.
  std::vector<cc_jitter_kind> kinds;
  for (int k = 0; k < 10; ++k) kinds.push_back(h.tick().kind);
  EXPECT_TRUE(std::is_sorted(kinds.begin(), kinds.end()));  // FRAME... then WAIT...
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), CC_JITTER_LOSS), 0);
  EXPECT_EQ(kinds.back(), CC_JITTER_WAIT);
  EXPECT_EQ(h.jb.stats().underruns, 1u);
  // The stream resumes with contiguous numbers (silence suppression): nothing is lost.
  for (std::uint16_t i = 10; i < 20; ++i, t += kFrameUs) {
    EXPECT_EQ(h.insert(i, t + 200000), CC_JITTER_INSERTED);
    h.tick();
  }
  EXPECT_EQ(h.jb.stats().losses, 0u);
  EXPECT_EQ(h.jb.stats().late_losses, 0u);
}

TEST(Jitter, LargeJumpsAndSsrcChangeReset) {
  Harness h;
  std::int64_t t = 0;
  for (std::uint16_t i = 0; i < 50; ++i, t += kFrameUs) {
    h.insert(i, t);
    h.tick();
  }
  const std::uint32_t held = h.jb.stats().buffered;
  ASSERT_GT(held, 0u);
  // Hold/resume: the sender comes back 5000 packets later.
  EXPECT_EQ(h.insert(5050, t), CC_JITTER_INSERTED_AFTER_RESET);
  Stats s = h.jb.stats();
  EXPECT_EQ(s.resets, 1u);
  EXPECT_EQ(s.reset_dropped, held);
  EXPECT_EQ(s.buffered, 1u);
  EXPECT_EQ(h.tick().kind, CC_JITTER_WAIT);  // rebuffering the new spurt
  for (std::uint16_t i = 5051; i < 5060; ++i, t += kFrameUs) {
    EXPECT_EQ(h.insert(i, t), CC_JITTER_INSERTED);
    h.tick();
  }
  EXPECT_EQ(h.frames.back() >= 5050, true);
  // Exactly the threshold is not a jump; one more is.
  const std::uint16_t newest = 5059;
  EXPECT_EQ(h.insert(static_cast<std::uint16_t>(newest + 100), t), CC_JITTER_INSERTED);
  EXPECT_EQ(h.jb.stats().resets, 1u);
  EXPECT_EQ(h.insert(static_cast<std::uint16_t>(newest + 201), t), CC_JITTER_INSERTED_AFTER_RESET);
  EXPECT_EQ(h.jb.stats().resets, 2u);
  // Backward by more than the threshold.
  EXPECT_EQ(h.insert(static_cast<std::uint16_t>(newest + 201 - 150), t), CC_JITTER_INSERTED_AFTER_RESET);
  EXPECT_EQ(h.jb.stats().resets, 3u);
  // SSRC change, even with a plausible sequence number.
  EXPECT_EQ(h.insert(static_cast<std::uint16_t>(newest + 201 - 149), t, 0x7777), CC_JITTER_INSERTED_AFTER_RESET);
  EXPECT_EQ(h.jb.stats().resets, 4u);
  // Manual reset.
  h.jb.reset();
  s = h.jb.stats();
  EXPECT_EQ(s.resets, 5u);
  EXPECT_EQ(s.buffered, 0u);
  h.check();
}

TEST(Jitter, RejectsOversizedAndBadConfig) {
  Config c = clutchcall::jitter::default_config();
  c.max_payload = 100;
  Harness h(c);
  EXPECT_EQ(h.insert(1, 0), CC_JITTER_ERR_TOO_LARGE);
  EXPECT_EQ(h.jb.stats().rejected, 1u);
  EXPECT_EQ(h.jb.stats().received, 0u);
  Config bad = clutchcall::jitter::default_config();
  bad.capacity = 100;  // not a power of two
  EXPECT_EQ(cc_jitter_config_check(&bad), CC_JITTER_ERR_BAD_CONFIG);
  EXPECT_THROW(JitterBuffer{bad}, std::invalid_argument);
  bad = clutchcall::jitter::default_config();
  bad.initial_depth = 7;
  cc_jitter *jb = nullptr;
  EXPECT_EQ(cc_jitter_create(&bad, &jb), CC_JITTER_ERR_BAD_CONFIG);
  EXPECT_EQ(jb, nullptr);
  EXPECT_STREQ(cc_jitter_status_name(CC_JITTER_LATE), "late");
}

TEST(Jitter, CApiRoundTrip) {
  cc_jitter *jb = nullptr;
  ASSERT_EQ(cc_jitter_create(nullptr, &jb), CC_JITTER_INSERTED);
  const std::uint8_t pl[3] = {7, 8, 9};
  for (std::uint16_t i = 0; i < 3; ++i) {
    cc_jitter_packet p{static_cast<std::uint16_t>(65534 + i), 160u * i, 42, 0, pl, 3, i * kFrameUs};
    ASSERT_EQ(cc_jitter_insert(jb, &p), CC_JITTER_INSERTED);
  }
  cc_jitter_frame f;
  cc_jitter_tick(jb, &f);
  ASSERT_EQ(f.kind, CC_JITTER_FRAME);
  EXPECT_EQ(f.sequence, 65534);
  EXPECT_EQ(f.payload_len, 3u);
  EXPECT_EQ(f.payload[2], 9);
  cc_jitter_tick(jb, &f);
  EXPECT_EQ(f.sequence, 65535);
  cc_jitter_tick(jb, &f);
  EXPECT_EQ(f.sequence, 0);
  EXPECT_EQ(f.ext_seq, cc_jitter_frame{}.ext_seq + 0x10000 + 65534 + 2);
  cc_jitter_stats s;
  cc_jitter_get_stats(jb, &s);
  EXPECT_EQ(s.released, 3u);
  EXPECT_EQ(s.target_depth, 3u);
  EXPECT_EQ(cc_jitter_insert(jb, nullptr), CC_JITTER_ERR_INVALID_ARGUMENT);
  cc_jitter_destroy(jb);
}

// Seeded network: sender every 20 ms; one-way delay = base + jitter. Calm: uniform 0..2 ms.
// Stormy: Pareto (shape 1.6, scale 12 ms, capped at 400 ms). Ticks every 20 ms.
struct Network {
  std::mt19937_64 rng{0xC1A7C4A11ULL};
  double delay_us(bool stormy) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    if (!stormy) return 30000 + 2000 * u(rng);
    const double pareto = 12000.0 / std::pow(1.0 - u(rng), 1.0 / 1.6);
    return 30000 + std::min(pareto, 400000.0);
  }
};

TEST(Jitter, TargetRisesUnderJitterAndFallsWhenCalm) {
  Harness h;
  Network net;
  struct Arrival {
    std::int64_t at;
    std::uint16_t seq;
    std::uint32_t ts;
  };
  std::vector<Arrival> arrivals;
  const int calm1 = 750, storm = 1500, calm2 = 3000;  // packets (15 s, 30 s, 60 s)
  for (int i = 0; i < calm1 + storm + calm2; ++i) {
    const bool stormy = i >= calm1 && i < calm1 + storm;
    const std::int64_t sent = static_cast<std::int64_t>(i) * kFrameUs;
    arrivals.push_back({sent + static_cast<std::int64_t>(net.delay_us(stormy)),
                        static_cast<std::uint16_t>(40000 + i), 160u * static_cast<std::uint32_t>(i)});
  }
  std::stable_sort(arrivals.begin(), arrivals.end(),
                   [](const Arrival &a, const Arrival &b) { return a.at < b.at; });
  std::size_t next = 0;
  std::uint32_t target_end_calm1 = 0, target_max_storm = 0;
  const std::int64_t end = arrivals.back().at + 10 * kFrameUs;
  for (std::int64_t tick = 5000; tick < end; tick += kFrameUs) {
    while (next < arrivals.size() && arrivals[next].at <= tick) {
      const Arrival &a = arrivals[next++];
      const cc_jitter_status st = h.insert(a.seq, a.at, 0x5555, a.ts);
      ASSERT_TRUE(st == CC_JITTER_INSERTED || st == CC_JITTER_LATE) << cc_jitter_status_name(st);
    }
    h.tick();
    const std::int64_t k = tick / kFrameUs;  // ~ packets sent so far
    const std::uint32_t target = h.jb.stats().target_depth;
    if (k == calm1) target_end_calm1 = target;
    if (k > calm1 && k < calm1 + storm) target_max_storm = std::max(target_max_storm, target);
  }
  const Stats s = h.jb.stats();
  EXPECT_LE(target_end_calm1, 2u);
  EXPECT_EQ(target_max_storm, 6u);
  EXPECT_LE(s.target_depth, 2u) << "did not come back down after the storm";
  EXPECT_EQ(s.resets, 0u);
  EXPECT_GT(s.late_losses, 0u);  // a Pareto tail beats any 120 ms buffer
  // The storm costs some frames but far from all of them.
  EXPECT_LT(s.late_losses, static_cast<std::uint64_t>(storm) / 5);
  EXPECT_EQ(s.buffered, 0u);
  EXPECT_EQ(s.received, static_cast<std::uint64_t>(calm1 + storm + calm2));
  std::printf("network sim: released %llu losses %llu late %llu discarded %llu underruns %llu "
              "stretches %llu max target %u\n",
              static_cast<unsigned long long>(s.released), static_cast<unsigned long long>(s.losses),
              static_cast<unsigned long long>(s.late_losses),
              static_cast<unsigned long long>(s.discarded),
              static_cast<unsigned long long>(s.underruns),
              static_cast<unsigned long long>(s.stretches), h.max_target);
}

}  // namespace
