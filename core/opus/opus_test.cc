// Opus: round trip of a tone (frequency and level measured) at every rate, mono and stereo and
// every frame duration; PLC and FEC output lengths; malformed packets -> named errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "opus/opus_codec.h"
#include "resample/signal_test_util.h"

namespace {

using clutchcall::opus::Decoder;
using clutchcall::opus::Encoder;
namespace tu = clutchcall::testutil;

std::unique_ptr<Encoder> make_enc(uint32_t rate, uint32_t ch, uint32_t ms,
                                  cc_opus_encoder_settings s = cc_opus_encoder_settings_default()) {
  cc_opus_status st = CC_OPUS_ERR_INTERNAL;
  auto e = Encoder::create(rate, ch, ms, s, &st);
  EXPECT_EQ(st, CC_OPUS_OK) << cc_opus_status_name(st);
  return e;
}

std::unique_ptr<Decoder> make_dec(uint32_t rate, uint32_t ch) {
  cc_opus_status st = CC_OPUS_ERR_INTERNAL;
  auto d = Decoder::create(rate, ch, &st);
  EXPECT_EQ(st, CC_OPUS_OK) << cc_opus_status_name(st);
  return d;
}

// Encodes `pcm` frame by frame; returns the packets.
std::vector<std::vector<uint8_t>> encode_all(Encoder &e, const std::vector<int16_t> &pcm) {
  const size_t ff = e.frame_frames(), ch = e.channels();
  std::vector<std::vector<uint8_t>> pkts;
  for (size_t pos = 0; pos + ff * ch <= pcm.size(); pos += ff * ch) {
    std::vector<uint8_t> p(CC_OPUS_MAX_PACKET);
    size_t n = 0;
    EXPECT_EQ(e.encode(pcm.data() + pos, ff, p.data(), p.size(), &n), CC_OPUS_OK);
    p.resize(n);
    pkts.push_back(std::move(p));
  }
  return pkts;
}

TEST(Opus, ToneRoundTripKeepsFrequencyAndLevel) {
  for (uint32_t rate : {8000u, 12000u, 16000u, 24000u, 48000u}) {
    for (uint32_t ch : {1u, 2u}) {
      for (uint32_t ms : {10u, 20u, 40u, 60u}) {
        SCOPED_TRACE(std::to_string(rate) + " Hz ch" + std::to_string(ch) + " " +
                     std::to_string(ms) + " ms");
        auto s = cc_opus_encoder_settings_default();
        s.bitrate = 48000 * static_cast<int32_t>(ch);
        auto e = make_enc(rate, ch, ms, s);
        auto d = make_dec(rate, ch);
        // Stereo: the right channel 6 dB below the left, to show the channels are kept apart.
        // (Different tones per channel are a poor fit for Opus's joint stereo coding at
        // telephony bitrates: it leaks one channel's tone into the other.)
        const auto in = tu::tone(1000.0, -10.0, rate, rate * 6 / 5, ch, 0.0, -16.0);  // 1.2 s
        std::vector<int16_t> out;
        for (const auto &p : encode_all(*e, in)) {
          std::vector<int16_t> buf(CC_OPUS_MAX_FRAME_FRAMES * ch);
          size_t n = 0;
          ASSERT_EQ(d->decode(p.data(), p.size(), buf.data(), CC_OPUS_MAX_FRAME_FRAMES, &n),
                    CC_OPUS_OK);
          ASSERT_EQ(n, e->frame_frames());
          out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n * ch));
        }
        ASSERT_EQ(out.size(), in.size());
        // Skip 200 ms: codec delay (lookahead) and the encoder's start-up.
        for (uint32_t c = 0; c < ch; ++c) {
          const double hz = 1000.0, level = c == 1 ? -16.0 : -10.0;
          const auto x = tu::channel(out, ch, c, rate / 5);
          EXPECT_NEAR(tu::measure_hz(x, rate), hz, hz * 0.01);
          EXPECT_NEAR(tu::dbov(x), level, 1.0);
          EXPECT_GT(tu::tone_fraction(x, hz, rate), 0.9);
        }
      }
    }
  }
}

TEST(Opus, PacketLossConcealmentAndFecGiveTheRightLength) {
  auto s = cc_opus_encoder_settings_default();
  s.fec = 1;
  s.packet_loss_pct = 20;
  auto e = make_enc(16000, 1, 20, s);
  auto d = make_dec(16000, 1);
  const auto in = tu::tone(440.0, -12.0, 16000, 16000);
  const auto pkts = encode_all(*e, in);
  ASSERT_EQ(pkts.size(), 50u);
  std::vector<int16_t> buf(CC_OPUS_MAX_FRAME_FRAMES);
  size_t n = 0;
  for (size_t i = 0; i < 10; ++i) {
    ASSERT_EQ(d->decode(pkts[i].data(), pkts[i].size(), buf.data(), buf.size(), &n), CC_OPUS_OK);
  }
  // Packet 10 lost: PLC for 20 ms -> exactly 320 frames, and not silence (it continues the tone).
  ASSERT_EQ(d->decode_lost(320, buf.data(), buf.size(), &n), CC_OPUS_OK);
  EXPECT_EQ(n, 320u);
  EXPECT_GT(tu::rms(tu::channel(std::vector<int16_t>(buf.begin(), buf.begin() + 320), 1, 0)),
            100.0);
  // 10 ms and 60 ms of PLC are also legal durations; 7 frames (not n * 2.5 ms) is not.
  ASSERT_EQ(d->decode_lost(160, buf.data(), buf.size(), &n), CC_OPUS_OK);
  EXPECT_EQ(n, 160u);
  EXPECT_EQ(d->decode_lost(7, buf.data(), buf.size(), &n), CC_OPUS_ERR_BAD_FRAME_SIZE);
  EXPECT_EQ(d->decode_lost(320, buf.data(), 100, &n), CC_OPUS_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(d->decode_lost(16 * 125, buf.data(), buf.size(), &n), CC_OPUS_ERR_BAD_FRAME_SIZE);
  // Packet 20 lost, recovered from packet 21's FEC: 320 frames, carrying the tone.
  for (size_t i = 11; i < 20; ++i) {
    ASSERT_EQ(d->decode(pkts[i].data(), pkts[i].size(), buf.data(), buf.size(), &n), CC_OPUS_OK);
  }
  ASSERT_EQ(d->decode_fec(pkts[21].data(), pkts[21].size(), 320, buf.data(), buf.size(), &n),
            CC_OPUS_OK);
  EXPECT_EQ(n, 320u);
  const auto rec = tu::channel(std::vector<int16_t>(buf.begin(), buf.begin() + 320), 1, 0);
  EXPECT_NEAR(tu::dbov(rec), -12.0, 3.0);
  ASSERT_EQ(d->decode(pkts[21].data(), pkts[21].size(), buf.data(), buf.size(), &n), CC_OPUS_OK);
  EXPECT_EQ(n, 320u);
}

TEST(Opus, MalformedPacketsGiveNamedErrors) {
  auto d = make_dec(48000, 1);
  std::vector<int16_t> buf(CC_OPUS_MAX_FRAME_FRAMES);
  size_t n = 7;
  // TOC code 3 (arbitrary frame count) with no count byte: truncated.
  const uint8_t trunc[] = {0x03};
  EXPECT_EQ(d->decode(trunc, sizeof trunc, buf.data(), buf.size(), &n),
            CC_OPUS_ERR_INVALID_PACKET);
  EXPECT_EQ(n, 0u);
  // Code 3 with 0 frames is invalid; so is a count over 120 ms (49 frames of 2.5 ms).
  const uint8_t zero_frames[] = {0x03, 0x00};
  EXPECT_EQ(d->decode(zero_frames, sizeof zero_frames, buf.data(), buf.size(), &n),
            CC_OPUS_ERR_INVALID_PACKET);
  const uint8_t too_long[] = {0xE3, 0x31, 0, 0, 0};
  EXPECT_EQ(d->decode(too_long, sizeof too_long, buf.data(), buf.size(), &n),
            CC_OPUS_ERR_INVALID_PACKET);
  // Code 1 (two frames of equal size) with an odd payload length cannot be split.
  const uint8_t odd_pair[] = {0x01, 0xAA, 0xBB, 0xCC};
  EXPECT_EQ(d->decode(odd_pair, sizeof odd_pair, buf.data(), buf.size(), &n),
            CC_OPUS_ERR_INVALID_PACKET);
  // Code 2 whose first frame length runs past the end of the packet.
  const uint8_t overrun[] = {0x02, 0xFB, 0x01, 0x02};
  EXPECT_EQ(d->decode(overrun, sizeof overrun, buf.data(), buf.size(), &n),
            CC_OPUS_ERR_INVALID_PACKET);
  EXPECT_EQ(d->decode(trunc, 0, buf.data(), buf.size(), &n), CC_OPUS_ERR_EMPTY_PACKET);
  EXPECT_EQ(d->decode(nullptr, 3, buf.data(), buf.size(), &n), CC_OPUS_ERR_NULL_ARG);
  std::vector<uint8_t> huge(CC_OPUS_MAX_PACKET_IN + 1, 0x10);
  EXPECT_EQ(d->decode(huge.data(), huge.size(), buf.data(), buf.size(), &n),
            CC_OPUS_ERR_PACKET_TOO_LARGE);
  // A valid 20 ms packet into a 10 ms buffer.
  auto e = make_enc(48000, 1, 20);
  const auto pkts = encode_all(*e, tu::tone(1000.0, -10.0, 48000, 960));
  ASSERT_EQ(pkts.size(), 1u);
  EXPECT_EQ(d->decode(pkts[0].data(), pkts[0].size(), buf.data(), 480, &n),
            CC_OPUS_ERR_BUFFER_TOO_SMALL);
  size_t frames = 0;
  EXPECT_EQ(cc_opus_packet_frames(pkts[0].data(), pkts[0].size(), 48000, &frames), CC_OPUS_OK);
  EXPECT_EQ(frames, 960u);
  EXPECT_EQ(cc_opus_packet_frames(pkts[0].data(), pkts[0].size(), 8000, &frames), CC_OPUS_OK);
  EXPECT_EQ(frames, 160u);
  EXPECT_EQ(cc_opus_packet_frames(trunc, sizeof trunc, 48000, &frames),
            CC_OPUS_ERR_INVALID_PACKET);
  EXPECT_STREQ(cc_opus_status_name(CC_OPUS_ERR_INVALID_PACKET), "invalid_packet");
  EXPECT_STREQ(cc_opus_status_name(CC_OPUS_ERR_BUFFER_TOO_SMALL), "buffer_too_small");
}

TEST(Opus, CApiArgumentErrorsAndSettings) {
  cc_opus_encoder *e = nullptr;
  cc_opus_decoder *d = nullptr;
  EXPECT_EQ(cc_opus_encoder_create(44100, 1, 20, nullptr, &e), CC_OPUS_ERR_BAD_RATE);
  EXPECT_EQ(cc_opus_encoder_create(48000, 3, 20, nullptr, &e), CC_OPUS_ERR_BAD_CHANNELS);
  EXPECT_EQ(cc_opus_encoder_create(48000, 1, 30, nullptr, &e), CC_OPUS_ERR_BAD_FRAME_MS);
  EXPECT_EQ(cc_opus_encoder_create(48000, 1, 5, nullptr, &e), CC_OPUS_ERR_BAD_FRAME_MS);
  auto bad = cc_opus_encoder_settings_default();
  bad.complexity = 11;
  EXPECT_EQ(cc_opus_encoder_create(48000, 1, 20, &bad, &e), CC_OPUS_ERR_BAD_SETTING);
  bad = cc_opus_encoder_settings_default();
  bad.bitrate = 100;
  EXPECT_EQ(cc_opus_encoder_create(48000, 1, 20, &bad, &e), CC_OPUS_ERR_BAD_SETTING);
  EXPECT_EQ(e, nullptr);
  EXPECT_EQ(cc_opus_decoder_create(11025, 1, &d), CC_OPUS_ERR_BAD_RATE);
  EXPECT_EQ(cc_opus_decoder_create(48000, 0, &d), CC_OPUS_ERR_BAD_CHANNELS);

  auto s = cc_opus_encoder_settings_default();
  s.dtx = 1;
  s.bitrate = 16000;
  s.complexity = 2;
  ASSERT_EQ(cc_opus_encoder_create(8000, 1, 40, &s, &e), CC_OPUS_OK);
  ASSERT_EQ(cc_opus_decoder_create(8000, 1, &d), CC_OPUS_OK);
  EXPECT_EQ(cc_opus_encoder_frame_frames(e), 320u);
  EXPECT_GT(cc_opus_encoder_lookahead(e), 0u);
  std::vector<int16_t> pcm(320, 0);
  std::vector<uint8_t> pkt(CC_OPUS_MAX_PACKET);
  size_t len = 0, n = 0;
  EXPECT_EQ(cc_opus_encode(e, pcm.data(), 160, pkt.data(), pkt.size(), &len),
            CC_OPUS_ERR_BAD_FRAME_SIZE);
  EXPECT_EQ(cc_opus_encode(e, pcm.data(), 320, pkt.data(), 0, &len),
            CC_OPUS_ERR_BUFFER_TOO_SMALL);
  // DTX on silence: after a few frames the encoder emits tiny (<= 2 byte) packets, which the
  // decoder accepts as valid.
  size_t smallest = 1000;
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(cc_opus_encode(e, pcm.data(), 320, pkt.data(), pkt.size(), &len), CC_OPUS_OK);
    smallest = std::min(smallest, len);
    std::vector<int16_t> out(CC_OPUS_MAX_FRAME_FRAMES);
    ASSERT_EQ(cc_opus_decode(d, pkt.data(), len, out.data(), out.size(), &n), CC_OPUS_OK);
    EXPECT_EQ(n, 320u);
  }
  EXPECT_LE(smallest, 2u);
  s.dtx = 0;
  s.bitrate = CC_OPUS_BITRATE_AUTO;
  EXPECT_EQ(cc_opus_encoder_apply(e, &s), CC_OPUS_OK);
  s.packet_loss_pct = 101;
  EXPECT_EQ(cc_opus_encoder_apply(e, &s), CC_OPUS_ERR_BAD_SETTING);
  EXPECT_EQ(cc_opus_encoder_reset(e), CC_OPUS_OK);
  EXPECT_EQ(cc_opus_decoder_reset(d), CC_OPUS_OK);
  EXPECT_EQ(cc_opus_encode(nullptr, pcm.data(), 320, pkt.data(), pkt.size(), &len),
            CC_OPUS_ERR_NULL_ARG);
  cc_opus_encoder_destroy(e);
  cc_opus_decoder_destroy(d);
  cc_opus_encoder_destroy(nullptr);
  cc_opus_decoder_destroy(nullptr);
}

}  // namespace
