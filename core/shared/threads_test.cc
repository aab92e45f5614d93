// Many threads on one Shared<T> of every stateful kind: nothing races (this test runs under
// ThreadSanitizer, ctest label tsan) and the results are still right. Calls on one object are
// serialized, so with the same input on every call the k-th call (in lock order) returns what the
// k-th call of a single-threaded run returns: the outputs from all threads, as a multiset, must
// equal the single-threaded outputs. RTP is stateless apart from its small value types. The relay
// engine's control is covered in relay_test.
#include "shared/shared.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "jitter/jitter.h"
#include "opus/opus_codec.h"
#include "resample/resampler.h"
#include "rtp/rtp.h"
#include "transcode/transcoder.h"

namespace clutchcall {
namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr int kThreads = 8;

std::vector<std::int16_t> tone(std::size_t frames, std::uint32_t rate) {
  std::vector<std::int16_t> pcm(frames);
  for (std::size_t i = 0; i < frames; ++i) {
    pcm[i] = static_cast<std::int16_t>(8000.0 * std::sin(2.0 * 3.14159265358979 * 440.0 * static_cast<double>(i) / rate));
  }
  return pcm;
}

// `calls` calls of `step` single-threaded on a fresh object from `make`, then the same number
// spread over kThreads threads on one Shared object: equal multisets of outputs.
template <class T, class Make, class Step>
void expect_serialized(Make make, Step step, int calls) {
  std::vector<Bytes> alone;
  {
    std::unique_ptr<T> obj = make();
    ASSERT_TRUE(obj);
    for (int i = 0; i < calls; ++i) alone.push_back(step(*obj));
  }
  Shared<T> shared(make());
  ASSERT_TRUE(shared);
  std::vector<std::vector<Bytes>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < calls; i += kThreads) got[static_cast<std::size_t>(t)].push_back(shared.with([&](T &obj) { return step(obj); }));
    });
  }
  for (auto &th : threads) th.join();
  std::vector<Bytes> together;
  for (auto &g : got) together.insert(together.end(), g.begin(), g.end());
  ASSERT_EQ(together.size(), alone.size());
  std::sort(alone.begin(), alone.end());
  std::sort(together.begin(), together.end());
  EXPECT_TRUE(alone == together);
  // The check can fail: the outputs really depend on the call's position.
  EXPECT_GT(std::unique(alone.begin(), alone.end()) - alone.begin(), 1);
}

template <class V>
Bytes as_bytes(const V *p, std::size_t n) {
  Bytes b(n * sizeof(V));
  if (n) std::memcpy(b.data(), p, b.size());
  return b;
}

TEST(Threads, SharedResampler) {
  const auto in = tone(441, 48000);  // not a whole number of output periods: the phase moves
  expect_serialized<resample::Resampler>(
      [] { return resample::Resampler::create(48000, 16000, 1, CC_RESAMPLER_QUALITY_VOIP, nullptr); },
      [&](resample::Resampler &r) {
        std::vector<std::int16_t> out(r.max_output(in.size()));
        std::size_t got = 0;
        EXPECT_EQ(r.process(in.data(), in.size(), out.data(), out.size(), &got), CC_RESAMPLER_OK);
        return as_bytes(out.data(), got);
      },
      400);
}

TEST(Threads, SharedOpusEncoderAndDecoder) {
  const auto pcm = tone(960, 48000);
  auto settings = cc_opus_encoder_settings_default();
  expect_serialized<opus::Encoder>(
      [&] { return opus::Encoder::create(48000, 1, 20, settings, nullptr); },
      [&](opus::Encoder &e) {
        std::uint8_t packet[CC_OPUS_MAX_PACKET];
        std::size_t len = 0;
        EXPECT_EQ(e.encode(pcm.data(), pcm.size(), packet, sizeof packet, &len), CC_OPUS_OK);
        return Bytes(packet, packet + len);
      },
      160);
  auto enc = opus::Encoder::create(48000, 1, 20, settings, nullptr);
  std::uint8_t packet[CC_OPUS_MAX_PACKET];
  std::size_t len = 0;
  for (int i = 0; i < 5; ++i) ASSERT_EQ(enc->encode(pcm.data(), pcm.size(), packet, sizeof packet, &len), CC_OPUS_OK);
  expect_serialized<opus::Decoder>(
      [] { return opus::Decoder::create(48000, 1, nullptr); },
      [&](opus::Decoder &d) {
        std::vector<std::int16_t> out(CC_OPUS_MAX_FRAME_FRAMES);
        std::size_t got = 0;
        EXPECT_EQ(d.decode(packet, len, out.data(), out.size(), &got), CC_OPUS_OK);
        return as_bytes(out.data(), got);
      },
      160);
}

TEST(Threads, SharedTranscoder) {
  const auto pcm = tone(160, 8000);
  const Bytes frame = as_bytes(pcm.data(), pcm.size());
  const cc_audio_shape in{CC_CODEC_PCM16, 8000, 1, 20}, out{CC_CODEC_OPUS, 48000, 1, 20};
  expect_serialized<transcode::Transcoder>(
      [&] { return transcode::Transcoder::create(in, out, cc_opus_encoder_settings_default(), nullptr); },
      [&](transcode::Transcoder &t) {
        // The output points into caller buffers filled inside with(): copied before it returns.
        Bytes data(t.max_output_bytes());
        std::vector<std::uint32_t> lens(t.max_output_frames());
        cc_transcode_output o{data.data(), data.size(), lens.data(), lens.size(), 0, 0};
        EXPECT_EQ(t.process(frame.data(), frame.size(), &o), CC_TRANSCODE_OK);
        data.resize(o.len);
        return data;
      },
      160);
}

// Inserters and tickers on one jitter buffer: every released frame carries its own sequence
// number as payload (copied inside with()), no frame is released twice, and the counters obey
// the buffer's conservation law.
TEST(Threads, SharedJitterBuffer) {
  jitter::Config cfg = jitter::default_config();
  Shared<jitter::JitterBuffer> shared(std::make_unique<jitter::JitterBuffer>(cfg));
  constexpr int kInserters = 4, kTickers = 2, kPackets = 4000;
  std::mutex seen_mu;
  std::map<std::int64_t, int> released;  // ext seq -> times
  std::vector<std::thread> threads;
  std::atomic<int> bad_payload{0};
  for (int t = 0; t < kInserters; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kPackets; i += kInserters) {
        const auto seq = static_cast<std::uint16_t>(i);
        std::uint8_t payload[4];
        std::memcpy(payload, &i, sizeof payload);
        const jitter::Packet p{seq, static_cast<std::uint32_t>(i) * 160u, 7, 0, payload, sizeof payload,
                               static_cast<std::int64_t>(i) * 20000};
        shared.with([&](jitter::JitterBuffer &jb) { return jb.insert(p); });
      }
    });
  }
  for (int t = 0; t < kTickers; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPackets / kTickers; ++i) {
        std::int64_t ext = -1;
        int value = -1;
        const bool frame = shared.with([&](jitter::JitterBuffer &jb) {
          const jitter::Frame f = jb.tick();
          if (f.kind != CC_JITTER_FRAME) return false;
          ext = f.ext_seq;
          if (f.payload_len == 4) std::memcpy(&value, f.payload, 4);
          return true;
        });
        if (!frame) continue;
        if (value < 0 || static_cast<std::uint16_t>(value) != static_cast<std::uint16_t>(ext)) ++bad_payload;
        std::lock_guard<std::mutex> lock(seen_mu);
        ++released[ext];
      }
    });
  }
  for (auto &th : threads) th.join();
  EXPECT_EQ(bad_payload.load(), 0);
  const jitter::Stats s = shared.with([](const jitter::JitterBuffer &jb) { return jb.stats(); });
  EXPECT_EQ(s.received, s.released + s.late_losses + s.duplicates + s.reset_dropped + s.discarded + s.buffered);
  EXPECT_EQ(s.received, static_cast<std::uint64_t>(kPackets));  // every insert counted once
  std::uint64_t frames = 0;
  for (const auto &[ext, times] : released) {
    EXPECT_EQ(times, 1) << "ext " << ext << " released twice";
    frames += static_cast<std::uint64_t>(times);
  }
  EXPECT_EQ(frames, s.released);
  EXPECT_GT(frames, 0u);
}

// RTP: parse and build are stateless (every thread reads one shared packet and builds its own);
// the A.1 sequence state is a value type, shared here through Shared<T>: every update counts.
TEST(Threads, RtpStatelessCallsAndASharedSequenceTracker) {
  const Bytes payload(160, 0x55);
  rtp::Header h{};
  h.payload_type = 0;
  h.sequence = 1234;
  h.timestamp = 160;
  h.ssrc = 0xCAFE;
  Bytes packet(12 + payload.size());
  std::size_t written = 0;
  ASSERT_EQ(rtp::build(h, payload, packet, written), rtp::Status::ok);
  Shared<rtp::SequenceTracker> tracker(std::make_unique<rtp::SequenceTracker>(std::uint16_t{0}));
  tracker.with([](rtp::SequenceTracker &s) {
    EXPECT_FALSE(s.update(0));  // on probation (A.1: two in order)
    EXPECT_TRUE(s.update(1));   // counted from here
  });
  std::uint32_t next = 2;  // the next sequence number: guarded by the tracker's lock, like the tracker
  constexpr int kPerThread = 9000;  // 72,000 updates: the 16-bit numbers wrap once
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Bytes mine(packet.size());
      for (int i = 0; i < kPerThread; ++i) {
        rtp::PacketView v;
        if (v.parse(packet) != rtp::Status::ok || v.sequence() != 1234 || v.ssrc() != 0xCAFE) ++bad;
        rtp::Header own = h;
        own.sequence = static_cast<std::uint16_t>(t * kPerThread + i);
        std::size_t n = 0;
        if (rtp::build(own, payload, mine, n) != rtp::Status::ok || v.parse(mine) != rtp::Status::ok ||
            v.sequence() != own.sequence) {
          ++bad;
        }
        // In order across threads: 2, 3, ... wrapping past 65535 (the cycle count must follow).
        if (!tracker.with([&](rtp::SequenceTracker &s) { return s.update(static_cast<std::uint16_t>(next++)); })) ++bad;
      }
    });
  }
  for (auto &th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  tracker.with([](const rtp::SequenceTracker &s) {
    EXPECT_EQ(s.received(), 1u + kThreads * kPerThread);  // 1 (which ended probation) counts too
    EXPECT_EQ(s.extended_max(), static_cast<std::uint32_t>(1 + kThreads * kPerThread));
    EXPECT_EQ(s.lost(), 0);
  });
}

}  // namespace
}  // namespace clutchcall
