// Transcoder: the required round trip (20 ms µ-law 8 kHz -> Opus 48 kHz -> µ-law 8 kHz,
// a 1 kHz tone at -10 dBov keeps its frequency within 1% and level within 1 dB), mono/stereo,
// frame re-sizing, pass-through identity, packet loss, flush, invalid shapes and bad input.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "g711/g711.h"
#include "resample/signal_test_util.h"
#include "transcode/transcoder.h"

namespace {

using clutchcall::transcode::Transcoder;
namespace tu = clutchcall::testutil;

constexpr cc_audio_shape kUlaw8k{CC_CODEC_G711_ULAW, 8000, 1, 20};
constexpr cc_audio_shape kOpus48k{CC_CODEC_OPUS, 48000, 1, 20};

// A transcoder plus output buffers of exactly the advertised sizes.
struct Tc {
  explicit Tc(cc_audio_shape in, cc_audio_shape out,
              cc_opus_encoder_settings os = cc_opus_encoder_settings_default()) {
    cc_transcode_status s = CC_TRANSCODE_ERR_OPUS;
    t = Transcoder::create(in, out, os, &s);
    EXPECT_EQ(s, CC_TRANSCODE_OK) << cc_transcode_status_name(s);
    if (t) {
      data.resize(t->max_output_bytes());
      lens.resize(t->max_output_frames());
    }
  }
  cc_transcode_output out() {
    return cc_transcode_output{data.data(), data.size(), lens.data(), lens.size(), 0, 0};
  }
  // Returns the output frames of one call (empty on error; status in *st).
  std::vector<std::vector<uint8_t>> feed(const uint8_t *p, size_t n,
                                         cc_transcode_status *st = nullptr) {
    auto o = out();
    const cc_transcode_status s = t->process(p, n, &o);
    if (st) *st = s;
    else EXPECT_EQ(s, CC_TRANSCODE_OK) << cc_transcode_status_name(s);
    return split(o);
  }
  std::vector<std::vector<uint8_t>> split(const cc_transcode_output &o) {
    std::vector<std::vector<uint8_t>> frames;
    size_t pos = 0;
    for (size_t i = 0; i < o.n_frames; ++i) {
      frames.emplace_back(data.begin() + static_cast<std::ptrdiff_t>(pos),
                          data.begin() + static_cast<std::ptrdiff_t>(pos + lens[i]));
      pos += lens[i];
    }
    EXPECT_EQ(pos, o.len);
    return frames;
  }
  std::unique_ptr<Transcoder> t;
  std::vector<uint8_t> data;
  std::vector<uint32_t> lens;
};

std::vector<uint8_t> le_bytes(const std::vector<int16_t> &s) {
  std::vector<uint8_t> b(s.size() * 2);
  for (size_t i = 0; i < s.size(); ++i) {
    const auto u = static_cast<uint16_t>(s[i]);
    b[2 * i] = static_cast<uint8_t>(u & 0xFF);
    b[2 * i + 1] = static_cast<uint8_t>(u >> 8);
  }
  return b;
}

std::vector<int16_t> from_le(const std::vector<uint8_t> &b) {
  std::vector<int16_t> s(b.size() / 2);
  for (size_t i = 0; i < s.size(); ++i)
    s[i] = static_cast<int16_t>(static_cast<uint16_t>(b[2 * i] | (b[2 * i + 1] << 8)));
  return s;
}

template <typename T>
void append(std::vector<T> &dst, const std::vector<T> &src) {
  dst.insert(dst.end(), src.begin(), src.end());
}

// ---- THE ISSUE'S REQUIRED TEST ----------------------------------------------------------------
TEST(Transcoder, UlawToOpus48kAndBackKeepsA1kHzTone) {
  Tc up(kUlaw8k, kOpus48k);    // PSTN -> your code
  Tc down(kOpus48k, kUlaw8k);  // your code -> PSTN
  ASSERT_TRUE(up.t && down.t);
  EXPECT_FALSE(up.t->passthrough());

  // 2 s of a 1 kHz tone at -10 dBov, G.711 µ-law encoded, in 20 ms (160-byte) frames.
  const auto pcm = tu::tone(1000.0, -10.0, 8000, 16000);
  std::vector<uint8_t> ulaw(pcm.size());
  cc_g711_ulaw_encode(pcm.data(), pcm.size(), ulaw.data());

  std::vector<uint8_t> back;
  size_t opus_frames = 0;
  for (size_t pos = 0; pos < ulaw.size(); pos += 160) {
    const auto packets = up.feed(ulaw.data() + pos, 160);
    ASSERT_EQ(packets.size(), 1u);  // 20 ms in -> one 20 ms Opus frame out
    for (const auto &p : packets) {
      ++opus_frames;
      size_t frames = 0;  // each packet is a valid 20 ms Opus packet at 48 kHz
      ASSERT_EQ(cc_opus_packet_frames(p.data(), p.size(), 48000, &frames), CC_OPUS_OK);
      EXPECT_EQ(frames, 960u);
      const auto out = down.feed(p.data(), p.size());
      ASSERT_EQ(out.size(), 1u);
      ASSERT_EQ(out[0].size(), 160u);
      append(back, out[0]);
    }
  }
  EXPECT_EQ(opus_frames, 100u);
  ASSERT_EQ(back.size(), ulaw.size());

  std::vector<int16_t> decoded(back.size());
  cc_g711_ulaw_decode(back.data(), back.size(), decoded.data());
  // Skip the codec delay (resamplers + Opus lookahead, a few ms) and start-up: first 200 ms.
  const auto x = tu::channel(decoded, 1, 0, 1600);
  const double hz = tu::measure_hz(x, 8000), level = tu::dbov(x);
  EXPECT_NEAR(hz, 1000.0, 10.0) << "frequency " << hz;
  EXPECT_NEAR(level, -10.0, 1.0) << "level " << level;
  EXPECT_GT(tu::tone_fraction(x, 1000.0, 8000), 0.95);  // and it is still mostly that tone
  std::printf("[ measured ] ulaw8k->opus48k->ulaw8k: %.3f Hz, %.3f dBov\n", hz, level);
}

TEST(Transcoder, AlawAndPcmRoundTripsThroughOpusAtEveryRate) {
  for (uint32_t rate : {8000u, 12000u, 16000u, 24000u, 48000u}) {
    SCOPED_TRACE(rate);
    Tc up({CC_CODEC_G711_ALAW, 8000, 1, 20}, {CC_CODEC_OPUS, rate, 1, 40});
    Tc down({CC_CODEC_OPUS, rate, 1, 40}, {CC_CODEC_PCM16, 16000, 1, 10});
    const auto pcm = tu::tone(1000.0, -10.0, 8000, 12800);  // 1.6 s = 40 x 40 ms
    std::vector<uint8_t> alaw(pcm.size());
    cc_g711_alaw_encode(pcm.data(), pcm.size(), alaw.data());
    std::vector<int16_t> out;
    for (size_t pos = 0; pos < alaw.size(); pos += 160)
      for (const auto &p : up.feed(alaw.data() + pos, 160))
        for (const auto &f : down.feed(p.data(), p.size())) {
          ASSERT_EQ(f.size(), 320u);  // 10 ms of 16 kHz mono pcm16
          append(out, from_le(f));
        }
    EXPECT_EQ(out.size(), 25600u);  // 1.6 s at 16 kHz
    const auto x = tu::channel(out, 1, 0, 3200);
    EXPECT_NEAR(tu::measure_hz(x, 16000), 1000.0, 10.0);
    EXPECT_NEAR(tu::dbov(x), -10.0, 1.0);
  }
}

TEST(Transcoder, MonoStereoMixing) {
  // pcm16 mono -> stereo at the same rate: both channels are the input, sample for sample.
  {
    Tc t({CC_CODEC_PCM16, 16000, 1, 20}, {CC_CODEC_PCM16, 16000, 2, 20});
    const auto in = tu::tone(440.0, -6.0, 16000, 320);
    const auto f = t.feed(le_bytes(in).data(), 640);
    ASSERT_EQ(f.size(), 1u);
    const auto s = from_le(f[0]);
    ASSERT_EQ(s.size(), 640u);
    for (size_t i = 0; i < 320; ++i) {
      ASSERT_EQ(s[2 * i], in[i]);
      ASSERT_EQ(s[2 * i + 1], in[i]);
    }
  }
  // pcm16 stereo -> mono: the floor of the mean of the two channels, exactly.
  {
    Tc t({CC_CODEC_PCM16, 8000, 2, 10}, {CC_CODEC_PCM16, 8000, 1, 10});
    std::vector<int16_t> in(160);
    const int16_t pairs[][2] = {{32767, 32767}, {-32768, -32768}, {1, 2}, {-1, -2}, {100, -300}};
    for (size_t i = 0; i < 80; ++i) {
      in[2 * i] = pairs[i % 5][0];
      in[2 * i + 1] = pairs[i % 5][1];
    }
    const auto f = t.feed(le_bytes(in).data(), 320);
    ASSERT_EQ(f.size(), 1u);
    const auto s = from_le(f[0]);
    ASSERT_EQ(s.size(), 80u);
    const int16_t want[] = {32767, -32768, 1, -2, -100};
    for (size_t i = 0; i < 80; ++i) ASSERT_EQ(s[i], want[i % 5]) << i;
  }
  // Opus stereo 48 kHz (a different level per channel) -> pcm16 mono 16 kHz: the mix of both.
  {
    auto os = cc_opus_encoder_settings_default();
    os.bitrate = 96000;
    Tc up({CC_CODEC_PCM16, 48000, 2, 20}, {CC_CODEC_OPUS, 48000, 2, 20}, os);
    Tc down({CC_CODEC_OPUS, 48000, 2, 20}, {CC_CODEC_PCM16, 16000, 1, 20});
    const auto in = tu::tone(1000.0, -10.0, 48000, 48000, 2, 0.0, -20.0);
    const auto bytes = le_bytes(in);
    std::vector<int16_t> out;
    for (size_t pos = 0; pos < bytes.size(); pos += 960 * 4)
      for (const auto &p : up.feed(bytes.data() + pos, 960 * 4))
        for (const auto &f : down.feed(p.data(), p.size())) append(out, from_le(f));
    ASSERT_EQ(out.size(), 16000u);
    const auto x = tu::channel(out, 1, 0, 3200);
    // Mean of amplitudes a(-10 dBov) and a(-20 dBov) in phase: 20 log10((0.3162+0.1)/2) dBov.
    EXPECT_NEAR(tu::dbov(x), 20.0 * std::log10((std::pow(10.0, -0.5) + 0.1) / 2.0), 1.0);
    EXPECT_NEAR(tu::measure_hz(x, 16000), 1000.0, 10.0);
  }
}

TEST(Transcoder, ReframesBetweenDifferentFrameDurations) {
  // Same rate, 20 ms in -> 60 ms out: nothing for two calls, then one frame with the exact
  // samples of the three inputs; the concatenation equals the input stream.
  Tc t({CC_CODEC_PCM16, 8000, 1, 20}, {CC_CODEC_PCM16, 8000, 1, 60});
  const auto in = tu::tone(300.0, -3.0, 8000, 160 * 9);
  std::vector<int16_t> out;
  for (size_t k = 0; k < 9; ++k) {
    const auto bytes = le_bytes(std::vector<int16_t>(in.begin() + static_cast<long>(k * 160),
                                                     in.begin() + static_cast<long>(k * 160 + 160)));
    const auto f = t.feed(bytes.data(), bytes.size());
    ASSERT_EQ(f.size(), k % 3 == 2 ? 1u : 0u) << k;
    for (const auto &x : f) {
      ASSERT_EQ(x.size(), 960u);
      append(out, from_le(x));
    }
  }
  EXPECT_TRUE(out == in);
  // reset() drops the buffered partial frame: after it, two more inputs give nothing yet.
  {
    const auto b = le_bytes(std::vector<int16_t>(in.begin(), in.begin() + 160));
    EXPECT_TRUE(t.feed(b.data(), b.size()).empty());
    t.t->reset();
    EXPECT_TRUE(t.feed(b.data(), b.size()).empty());
    EXPECT_TRUE(t.feed(b.data(), b.size()).empty());
    EXPECT_EQ(t.feed(b.data(), b.size()).size(), 1u);
  }

  // 60 ms in -> 10 ms out: six frames per call, again the exact samples.
  Tc u({CC_CODEC_G711_ULAW, 8000, 1, 60}, {CC_CODEC_PCM16, 8000, 1, 10});
  std::vector<uint8_t> codes(480);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<uint8_t>(i * 7);
  const auto f = u.feed(codes.data(), codes.size());
  ASSERT_EQ(f.size(), 6u);
  std::vector<int16_t> want(480), got;
  cc_g711_ulaw_decode(codes.data(), codes.size(), want.data());
  for (const auto &x : f) append(got, from_le(x));
  EXPECT_TRUE(got == want);

  // With resampling: µ-law 8 kHz 20 ms -> pcm16 24 kHz stereo 40 ms, plus flush at the end.
  Tc r(kUlaw8k, {CC_CODEC_PCM16, 24000, 2, 40});
  const auto pcm = tu::tone(1000.0, -10.0, 8000, 8000 + 80);  // 1.01 s: ends mid-frame
  std::vector<uint8_t> ulaw(pcm.size());
  cc_g711_ulaw_encode(pcm.data(), pcm.size(), ulaw.data());
  std::vector<int16_t> res;
  size_t frames = 0;
  for (size_t pos = 0; pos + 160 <= ulaw.size(); pos += 160)
    for (const auto &x : r.feed(ulaw.data() + pos, 160)) {
      ASSERT_EQ(x.size(), 960u * 2 * 2);
      append(res, from_le(x));
      ++frames;
    }
  EXPECT_EQ(frames, 25u);  // 50 x 20 ms = 25 x 40 ms
  auto o = r.out();
  ASSERT_EQ(r.t->flush(&o), CC_TRANSCODE_OK);
  EXPECT_EQ(o.n_frames, 1u);  // the resampler's tail, padded to one 40 ms frame
  for (const auto &x : r.split(o)) append(res, from_le(x));
  for (uint32_t c = 0; c < 2; ++c) {
    const auto x = tu::channel(res, 2, c, 2400, 24000);
    EXPECT_NEAR(tu::measure_hz(x, 24000), 1000.0, 2.0);
    EXPECT_NEAR(tu::dbov(x), -10.0, 0.3);  // G.711 quantisation only
  }
}

TEST(Transcoder, PassThroughIsIdentity) {
  for (const cc_audio_shape s :
       {kUlaw8k, cc_audio_shape{CC_CODEC_G711_ALAW, 8000, 1, 60},
        cc_audio_shape{CC_CODEC_PCM16, 48000, 2, 10}, kOpus48k}) {
    Tc t(s, s);
    ASSERT_TRUE(t.t->passthrough());
    std::vector<uint8_t> frame;
    if (s.codec == CC_CODEC_OPUS) {
      Tc enc({CC_CODEC_PCM16, 48000, 1, 20}, kOpus48k);
      const auto p = enc.feed(le_bytes(tu::tone(1000.0, -10.0, 48000, 960)).data(), 1920);
      ASSERT_EQ(p.size(), 1u);
      frame = p[0];
    } else {
      frame.resize(cc_audio_shape_frame_bytes(&s));
      for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<uint8_t>(i * 31 + 5);
    }
    const auto f = t.feed(frame.data(), frame.size());
    ASSERT_EQ(f.size(), 1u);
    EXPECT_TRUE(f[0] == frame);
    // Pass-through still validates: a wrong size or malformed Opus framing is refused.
    cc_transcode_status st = CC_TRANSCODE_OK;
    if (s.codec == CC_CODEC_OPUS) {
      const uint8_t bad[] = {0x03};
      EXPECT_TRUE(t.feed(bad, 1, &st).empty());
      EXPECT_EQ(st, CC_TRANSCODE_ERR_INVALID_PACKET);
    } else {
      EXPECT_TRUE(t.feed(frame.data(), frame.size() - 1, &st).empty());
      EXPECT_EQ(st, CC_TRANSCODE_ERR_INPUT_SIZE);
    }
    auto o = t.out();
    EXPECT_EQ(t.t->process_lost(nullptr, 0, &o), CC_TRANSCODE_OK);
    EXPECT_EQ(o.n_frames, 0u);
  }
}

TEST(Transcoder, LostFramesAndMalformedPackets) {
  auto os = cc_opus_encoder_settings_default();
  os.fec = 1;
  os.packet_loss_pct = 20;
  Tc up(kUlaw8k, kOpus48k, os);
  Tc down(kOpus48k, kUlaw8k);
  const auto pcm = tu::tone(1000.0, -10.0, 8000, 8000);
  std::vector<uint8_t> ulaw(pcm.size());
  cc_g711_ulaw_encode(pcm.data(), pcm.size(), ulaw.data());
  std::vector<std::vector<uint8_t>> pkts;
  for (size_t pos = 0; pos < ulaw.size(); pos += 160) append(pkts, up.feed(ulaw.data() + pos, 160));
  ASSERT_EQ(pkts.size(), 50u);

  size_t out_frames = 0;
  for (size_t i = 0; i < pkts.size(); ++i) {
    auto o = down.out();
    cc_transcode_status s;
    if (i == 10) {
      s = down.t->process_lost(nullptr, 0, &o);  // PLC
    } else if (i == 20) {
      s = down.t->process_lost(pkts[21].data(), pkts[21].size(), &o);  // FEC from the next
    } else {
      s = down.t->process(pkts[i].data(), pkts[i].size(), &o);
    }
    ASSERT_EQ(s, CC_TRANSCODE_OK) << i;
    ASSERT_EQ(o.n_frames, 1u) << i;  // a concealed frame has the right length too
    ASSERT_EQ(o.len, 160u);
    ++out_frames;
    if (i == 30) {
      // Malformed packets: named errors, no output, and the stream continues unharmed.
      const uint8_t trunc[] = {0x03};
      const uint8_t odd_pair[] = {0x01, 0xAA, 0xBB, 0xCC};
      std::vector<uint8_t> huge(CC_OPUS_MAX_PACKET_IN + 1, 0x10);
      cc_transcode_status st;
      EXPECT_TRUE(down.feed(trunc, sizeof trunc, &st).empty());
      EXPECT_EQ(st, CC_TRANSCODE_ERR_INVALID_PACKET);
      EXPECT_STREQ(cc_transcode_status_name(st), "invalid_packet");
      EXPECT_TRUE(down.feed(odd_pair, sizeof odd_pair, &st).empty());
      EXPECT_EQ(st, CC_TRANSCODE_ERR_INVALID_PACKET);
      EXPECT_TRUE(down.feed(trunc, 0, &st).empty());
      EXPECT_EQ(st, CC_TRANSCODE_ERR_EMPTY_PACKET);
      EXPECT_TRUE(down.feed(huge.data(), huge.size(), &st).empty());
      EXPECT_EQ(st, CC_TRANSCODE_ERR_PACKET_TOO_LARGE);
    }
  }
  EXPECT_EQ(out_frames, 50u);

  // pcm16/G.711 input: a lost frame becomes one frame of silence.
  Tc p({CC_CODEC_PCM16, 8000, 1, 20}, kUlaw8k);
  auto o = p.out();
  ASSERT_EQ(p.t->process_lost(nullptr, 0, &o), CC_TRANSCODE_OK);
  ASSERT_EQ(o.n_frames, 1u);
  std::vector<int16_t> s(160);
  cc_g711_ulaw_decode(p.data.data(), 160, s.data());
  for (int16_t v : s) EXPECT_EQ(v, 0);
}

TEST(Transcoder, InvalidShapesAndArgumentsGiveNamedErrors) {
  struct Case {
    cc_audio_shape shape;
    cc_transcode_status want;
  };
  const Case cases[] = {
      {{CC_CODEC_G711_ULAW, 16000, 1, 20}, CC_TRANSCODE_ERR_G711_NOT_8K_MONO},
      {{CC_CODEC_G711_ALAW, 8000, 2, 20}, CC_TRANSCODE_ERR_G711_NOT_8K_MONO},
      {{CC_CODEC_PCM16, 12000, 1, 20}, CC_TRANSCODE_ERR_BAD_RATE},  // 12 kHz is Opus-only
      {{CC_CODEC_PCM16, 44100, 1, 20}, CC_TRANSCODE_ERR_BAD_RATE},
      {{CC_CODEC_OPUS, 32000, 1, 20}, CC_TRANSCODE_ERR_BAD_RATE},
      {{CC_CODEC_OPUS, 48000, 3, 20}, CC_TRANSCODE_ERR_BAD_CHANNELS},
      {{CC_CODEC_OPUS, 48000, 1, 30}, CC_TRANSCODE_ERR_BAD_FRAME_MS},
      {{CC_CODEC_OPUS, 48000, 1, 5}, CC_TRANSCODE_ERR_BAD_FRAME_MS},
      {{CC_CODEC_PCM16, 8000, 1, 120}, CC_TRANSCODE_ERR_BAD_FRAME_MS},
      {{9, 8000, 1, 20}, CC_TRANSCODE_ERR_BAD_CODEC},
  };
  for (const Case &c : cases) {
    cc_transcoder *t = nullptr;
    EXPECT_EQ(cc_transcoder_create(&c.shape, &kUlaw8k, nullptr, &t), c.want)
        << cc_transcode_status_name(c.want);
    EXPECT_EQ(cc_transcoder_create(&kUlaw8k, &c.shape, nullptr, &t), c.want);
    EXPECT_EQ(t, nullptr);
    EXPECT_EQ(cc_audio_shape_validate(&c.shape), c.want);
  }
  // Zero fields take the IDL defaults: opus, 48000 Hz, mono, 20 ms.
  const cc_audio_shape unset{0, 0, 0, 0};
  const cc_audio_shape n = cc_audio_shape_normalize(unset);
  EXPECT_EQ(n.codec, static_cast<uint32_t>(CC_CODEC_OPUS));
  EXPECT_EQ(n.sample_rate, 48000u);
  EXPECT_EQ(n.channels, 1u);
  EXPECT_EQ(n.frame_ms, 20u);
  auto bad = cc_opus_encoder_settings_default();
  bad.complexity = 42;
  cc_transcoder *t = nullptr;
  EXPECT_EQ(cc_transcoder_create(&kUlaw8k, &unset, &bad, &t), CC_TRANSCODE_ERR_BAD_SETTING);
  ASSERT_EQ(cc_transcoder_create(&kUlaw8k, &unset, nullptr, &t), CC_TRANSCODE_OK);
  EXPECT_EQ(cc_transcoder_is_passthrough(t), 0);
  cc_transcoder *const first = t;
  EXPECT_EQ(cc_transcoder_create(nullptr, &unset, nullptr, &t), CC_TRANSCODE_ERR_NULL_ARG);
  cc_transcoder_destroy(first);
  EXPECT_EQ(t, nullptr);  // create resets *t first
  ASSERT_EQ(cc_transcoder_create(&kUlaw8k, &unset, nullptr, &t), CC_TRANSCODE_OK);

  // C API with caller buffers: too small -> refused before anything changes; exact -> works.
  const size_t max_bytes = cc_transcoder_max_output_bytes(t);
  const size_t max_frames = cc_transcoder_max_output_frames(t);
  EXPECT_GE(max_frames, 1u);
  std::vector<uint8_t> buf(max_bytes);
  std::vector<uint32_t> lens(max_frames);
  std::vector<uint8_t> frame(160, 0xFF);
  cc_transcode_output o{buf.data(), max_bytes - 1, lens.data(), lens.size(), 0, 0};
  EXPECT_EQ(cc_transcoder_process(t, frame.data(), 160, &o), CC_TRANSCODE_ERR_OUTPUT_TOO_SMALL);
  o = {buf.data(), buf.size(), lens.data(), 0, 0, 0};
  EXPECT_EQ(cc_transcoder_process(t, frame.data(), 160, &o), CC_TRANSCODE_ERR_OUTPUT_TOO_SMALL);
  o = {buf.data(), buf.size(), lens.data(), lens.size(), 0, 0};
  EXPECT_EQ(cc_transcoder_process(t, frame.data(), 159, &o), CC_TRANSCODE_ERR_INPUT_SIZE);
  EXPECT_EQ(cc_transcoder_process(t, nullptr, 160, &o), CC_TRANSCODE_ERR_NULL_ARG);
  EXPECT_EQ(cc_transcoder_process(t, frame.data(), 160, nullptr), CC_TRANSCODE_ERR_NULL_ARG);
  EXPECT_EQ(cc_transcoder_process(nullptr, frame.data(), 160, &o), CC_TRANSCODE_ERR_NULL_ARG);
  EXPECT_EQ(cc_transcoder_process(t, frame.data(), 160, &o), CC_TRANSCODE_OK);
  EXPECT_EQ(o.n_frames, 1u);
  EXPECT_EQ(lens[0], o.len);
  EXPECT_EQ(cc_transcoder_flush(t, &o), CC_TRANSCODE_OK);
  cc_transcoder_destroy(t);
  cc_transcoder_destroy(nullptr);
  EXPECT_STREQ(cc_transcode_status_name(CC_TRANSCODE_ERR_G711_NOT_8K_MONO), "g711_not_8k_mono");
  EXPECT_STREQ(cc_transcode_status_name(-999), "unknown");
}

}  // namespace
