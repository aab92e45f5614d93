// Resampler: frame-by-frame == whole buffer (every rate pair, mono and stereo), frequency and
// level preserved, latency/flush accounting, argument errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "resample/resampler.h"
#include "resample/signal_test_util.h"

namespace {

using clutchcall::resample::Resampler;
namespace tu = clutchcall::testutil;

const uint32_t kRates[] = {8000, 12000, 16000, 24000, 48000};

std::unique_ptr<Resampler> make(uint32_t in, uint32_t out, uint32_t ch, int q = 4) {
  cc_resampler_status s = CC_RESAMPLER_ERR_INTERNAL;
  auto r = Resampler::create(in, out, ch, q, &s);
  EXPECT_EQ(s, CC_RESAMPLER_OK);
  return r;
}

// Runs `in` through r in chunks of `chunk` frames (0: one call), appending output.
std::vector<int16_t> run(Resampler &r, const std::vector<int16_t> &in, size_t chunk) {
  const uint32_t ch = r.channels();
  const size_t frames = in.size() / ch;
  if (chunk == 0) chunk = frames;
  std::vector<int16_t> out, buf;
  for (size_t pos = 0; pos < frames; pos += chunk) {
    const size_t n = std::min(chunk, frames - pos);
    buf.assign(r.max_output(n) * ch, 0);
    size_t got = 0;
    EXPECT_EQ(r.process(in.data() + pos * ch, n, buf.data(), r.max_output(n), &got),
              CC_RESAMPLER_OK);
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(got * ch));
  }
  return out;
}

TEST(Resampler, FrameByFrameEqualsWholeBufferForEveryRatePair) {
  for (uint32_t in : kRates) {
    for (uint32_t out : kRates) {
      for (uint32_t ch : {1u, 2u}) {
        SCOPED_TRACE(std::to_string(in) + "->" + std::to_string(out) + " ch" + std::to_string(ch));
        // 1 s of a two-tone signal (different tone per channel in stereo).
        const auto sig = tu::tone(700.0, -6.0, in, in, ch, 1300.0);
        auto whole = make(in, out, ch);
        auto framed = make(in, out, ch);
        auto odd = make(in, out, ch);
        const auto a = run(*whole, sig, 0);
        const auto b = run(*framed, sig, in / 50);  // 20 ms frames
        const auto c = run(*odd, sig, 37);          // arbitrary, unaligned chunks
        ASSERT_EQ(a.size(), b.size());
        EXPECT_TRUE(a == b);
        ASSERT_EQ(a.size(), c.size());
        EXPECT_TRUE(a == c);
        // Output length is the exact rate ratio of the input length.
        EXPECT_EQ(a.size() / ch, static_cast<size_t>(out));
        // Each 20 ms frame produces exactly 20 ms (integer ratios and 10 ms multiples).
        auto one = make(in, out, ch);
        std::vector<int16_t> buf(one->max_output(in / 50) * ch);
        for (int f = 0; f < 5; ++f) {
          size_t got = 0;
          ASSERT_EQ(one->process(sig.data() + static_cast<size_t>(f) * (in / 50) * ch, in / 50,
                                 buf.data(), one->max_output(in / 50), &got),
                    CC_RESAMPLER_OK);
          EXPECT_EQ(got, out / 50);
        }
      }
    }
  }
}

TEST(Resampler, PreservesFrequencyAndLevel) {
  for (uint32_t in : kRates) {
    for (uint32_t out : kRates) {
      for (double hz : {440.0, 1000.0, 2500.0}) {
        if (hz > 0.35 * std::min(in, out)) continue;  // keep inside both passbands
        for (uint32_t ch : {1u, 2u}) {
          SCOPED_TRACE(std::to_string(in) + "->" + std::to_string(out) + " " +
                       std::to_string(hz) + " Hz ch" + std::to_string(ch));
          auto r = make(in, out, ch, CC_RESAMPLER_QUALITY_VOIP);
          const auto sig = tu::tone(hz, -10.0, in, in, ch);  // 1 s
          const auto y = run(*r, sig, in / 50);
          for (uint32_t c = 0; c < ch; ++c) {
            // Skip the filter's start-up (latency + 10 ms) before measuring.
            const auto x = tu::channel(y, ch, c, r->output_latency() + out / 100);
            EXPECT_NEAR(tu::measure_hz(x, out), hz, hz * 0.001);
            EXPECT_NEAR(tu::dbov(x), -10.0, 0.5);
          }
        }
      }
    }
  }
}

TEST(Resampler, LatencyAndFlushReturnTheTail) {
  for (uint32_t in : kRates) {
    for (uint32_t out : kRates) {
      SCOPED_TRACE(std::to_string(in) + "->" + std::to_string(out));
      auto r = make(in, out, 1);
      EXPECT_GT(r->input_latency(), 0u);
      EXPECT_GT(r->output_latency(), 0u);
      // An impulse comes out after ~output_latency frames; flush lets all of it out.
      std::vector<int16_t> sig(in / 10, 0);  // 100 ms
      sig[sig.size() - 1] = 20000;           // impulse at the very end
      auto y = run(*r, sig, in / 50);
      std::vector<int16_t> tail(r->max_output(r->input_latency()));
      size_t got = 0;
      ASSERT_EQ(r->flush(tail.data(), tail.size(), &got), CC_RESAMPLER_OK);
      EXPECT_GT(got, 0u);
      y.insert(y.end(), tail.begin(), tail.begin() + static_cast<std::ptrdiff_t>(got));
      // Peak of the impulse response: at input position (len-1) mapped to output rate plus the
      // reported latency, within 2 output frames.
      size_t peak = 0;
      for (size_t i = 0; i < y.size(); ++i)
        if (std::abs(y[i]) > std::abs(y[peak])) peak = i;
      const double expect =
          static_cast<double>(sig.size() - 1) * out / in + static_cast<double>(r->output_latency());
      EXPECT_NEAR(static_cast<double>(peak), expect, 2.0);
      r->reset();
      // After reset, identical input gives identical output to a fresh resampler.
      auto fresh = make(in, out, 1);
      EXPECT_TRUE(run(*r, sig, 0) == run(*fresh, sig, 0));
    }
  }
}

// The announced bound holds for flush at every rate pair, quality and channel count, whatever
// the filter phase left by earlier input (quality 10 downsampling used to be refused).
TEST(Resampler, FlushFitsItsAnnouncedBoundEverywhere) {
  const size_t kPrior[] = {0, 1, 7, 160, 479};
  for (uint32_t in : kRates) {
    for (uint32_t out : kRates) {
      for (int q = 0; q <= CC_RESAMPLER_QUALITY_MAX; ++q) {
        for (uint32_t ch : {1u, 2u}) {
          for (size_t prior : kPrior) {
            SCOPED_TRACE(std::to_string(in) + "->" + std::to_string(out) + " q" + std::to_string(q) +
                         " ch" + std::to_string(ch) + " after " + std::to_string(prior));
            auto r = make(in, out, ch, q);
            std::vector<int16_t> sig(prior * ch, 1000);
            run(*r, sig, 0);
            const size_t cap = r->max_output(r->input_latency());
            std::vector<int16_t> tail(cap * ch + 64, 0x5A5A);  // guard after the capacity
            size_t got = 0;
            ASSERT_EQ(r->flush(tail.data(), cap, &got), CC_RESAMPLER_OK);
            EXPECT_LE(got, cap);
            for (size_t i = cap * ch; i < tail.size(); ++i) ASSERT_EQ(tail[i], 0x5A5A);
          }
        }
      }
    }
  }
}

TEST(Resampler, CApiAndErrors) {
  cc_resampler *r = nullptr;
  EXPECT_EQ(cc_resampler_create(44100, 48000, 1, 3, &r), CC_RESAMPLER_ERR_BAD_RATE);
  EXPECT_EQ(r, nullptr);
  EXPECT_EQ(cc_resampler_create(8000, 11025, 1, 3, &r), CC_RESAMPLER_ERR_BAD_RATE);
  EXPECT_EQ(cc_resampler_create(8000, 48000, 3, 3, &r), CC_RESAMPLER_ERR_BAD_CHANNELS);
  EXPECT_EQ(cc_resampler_create(8000, 48000, 0, 3, &r), CC_RESAMPLER_ERR_BAD_CHANNELS);
  EXPECT_EQ(cc_resampler_create(8000, 48000, 1, 11, &r), CC_RESAMPLER_ERR_BAD_QUALITY);
  EXPECT_EQ(cc_resampler_create(8000, 48000, 1, -1, &r), CC_RESAMPLER_ERR_BAD_QUALITY);
  EXPECT_EQ(cc_resampler_create(8000, 48000, 1, 3, nullptr), CC_RESAMPLER_ERR_NULL_ARG);
  EXPECT_STREQ(cc_resampler_status_name(CC_RESAMPLER_ERR_BAD_RATE), "bad_rate");
  EXPECT_STREQ(cc_resampler_status_name(12345), "unknown");

  ASSERT_EQ(cc_resampler_create(8000, 48000, 2, 3, &r), CC_RESAMPLER_OK);
  ASSERT_NE(r, nullptr);
  const auto sig = tu::tone(1000.0, -10.0, 8000, 160, 2);
  const size_t cap = cc_resampler_max_output(r, 160);
  EXPECT_GE(cap, 960u);
  std::vector<int16_t> out(cap * 2);
  size_t got = 99;
  EXPECT_EQ(cc_resampler_process(r, sig.data(), 160, out.data(), cap - 3, &got),
            CC_RESAMPLER_ERR_OUTPUT_TOO_SMALL);
  EXPECT_EQ(got, 0u);
  EXPECT_EQ(cc_resampler_process(r, sig.data(), CC_RESAMPLER_MAX_INPUT + 1, out.data(), cap, &got),
            CC_RESAMPLER_ERR_INPUT_TOO_LARGE);
  EXPECT_EQ(cc_resampler_process(r, nullptr, 160, out.data(), cap, &got),
            CC_RESAMPLER_ERR_NULL_ARG);
  EXPECT_EQ(cc_resampler_process(r, sig.data(), 160, out.data(), cap, nullptr),
            CC_RESAMPLER_ERR_NULL_ARG);
  EXPECT_EQ(cc_resampler_process(r, sig.data(), 0, nullptr, 0, &got), CC_RESAMPLER_OK);
  EXPECT_EQ(got, 0u);
  EXPECT_EQ(cc_resampler_process(r, sig.data(), 160, out.data(), cap, &got), CC_RESAMPLER_OK);
  EXPECT_EQ(got, 960u);
  EXPECT_EQ(cc_resampler_output_latency(r), cc_resampler_input_latency(r) * 6);
  EXPECT_EQ(cc_resampler_process(nullptr, sig.data(), 160, out.data(), cap, &got),
            CC_RESAMPLER_ERR_NULL_ARG);
  cc_resampler_reset(r);
  cc_resampler_destroy(r);
  cc_resampler_destroy(nullptr);
}

}  // namespace
