// Transcoder throughput, frames per second per core (thread CPU time, so a loaded machine does
// not skew it): the AudioBridge's two directions (µ-law 8 kHz <-> Opus 48 kHz, 20 ms) and a few
// other shapes, plus the resampler alone.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <vector>

#include "g711/g711.h"
#include "transcode/transcoder.h"

namespace {

using clutchcall::transcode::Transcoder;

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::vector<int16_t> speechlike(uint32_t rate, size_t frames, uint32_t ch) {
  std::vector<int16_t> v(frames * ch);
  uint32_t seed = 12345;
  for (size_t i = 0; i < frames; ++i) {
    seed = seed * 1664525u + 1013904223u;
    const double t = static_cast<double>(i) / rate;
    const double x = 6000.0 * std::sin(2 * 3.14159265 * 220.0 * t) +
                     3000.0 * std::sin(2 * 3.14159265 * 1300.0 * t) +
                     static_cast<double>(static_cast<int32_t>(seed >> 20) - 2048);
    for (uint32_t c = 0; c < ch; ++c) v[i * ch + c] = static_cast<int16_t>(x);
  }
  return v;
}

// Encodes `seconds` of audio in the input shape (via a pcm16 -> shape transcoder), then times
// the shape -> shape transcoder over those frames, repeated until at least min_cpu seconds.
void bench(const char *name, cc_audio_shape in, cc_audio_shape out) {
  cc_transcode_status st;
  const cc_audio_shape src{CC_CODEC_PCM16, in.sample_rate, in.channels, in.frame_ms};
  std::vector<std::vector<uint8_t>> frames;
  {
    auto prep = Transcoder::create(src, in, cc_opus_encoder_settings_default(), &st);
    const size_t ff = in.sample_rate / 1000 * in.frame_ms;
    const auto pcm = speechlike(in.sample_rate, in.sample_rate * 10, in.channels);  // 10 s
    std::vector<uint8_t> bytes(pcm.size() * 2);
    for (size_t i = 0; i < pcm.size(); ++i) {
      bytes[2 * i] = static_cast<uint8_t>(static_cast<uint16_t>(pcm[i]) & 0xFF);
      bytes[2 * i + 1] = static_cast<uint8_t>(static_cast<uint16_t>(pcm[i]) >> 8);
    }
    std::vector<uint8_t> buf(prep->max_output_bytes());
    std::vector<uint32_t> lens(prep->max_output_frames());
    for (size_t pos = 0; pos + ff * in.channels * 2 <= bytes.size(); pos += ff * in.channels * 2) {
      cc_transcode_output o{buf.data(), buf.size(), lens.data(), lens.size(), 0, 0};
      if (prep->process(bytes.data() + pos, ff * in.channels * 2, &o) != CC_TRANSCODE_OK) return;
      size_t off = 0;
      for (size_t i = 0; i < o.n_frames; ++i) {
        frames.emplace_back(buf.begin() + static_cast<long>(off),
                            buf.begin() + static_cast<long>(off + lens[i]));
        off += lens[i];
      }
    }
  }
  auto t = Transcoder::create(in, out, cc_opus_encoder_settings_default(), &st);
  std::vector<uint8_t> buf(t->max_output_bytes());
  std::vector<uint32_t> lens(t->max_output_frames());
  size_t n = 0;
  const double t0 = cpu_seconds();
  double t1 = t0;
  while (t1 - t0 < 1.0) {
    for (const auto &f : frames) {
      cc_transcode_output o{buf.data(), buf.size(), lens.data(), lens.size(), 0, 0};
      if (t->process(f.data(), f.size(), &o) != CC_TRANSCODE_OK) return;
      ++n;
    }
    t1 = cpu_seconds();
  }
  const double fps = static_cast<double>(n) / (t1 - t0);
  const double realtime = fps * in.frame_ms / 1000.0;  // streams one core keeps up with
  std::printf("%-44s %10.0f frames/s  %8.1f x realtime (concurrent streams per core)\n", name,
              fps, realtime);
}

}  // namespace

int main() {
  std::printf("transcoder, one core (thread CPU time), input frames per second\n");
  const cc_audio_shape ulaw{CC_CODEC_G711_ULAW, 8000, 1, 20};
  const cc_audio_shape opus48{CC_CODEC_OPUS, 48000, 1, 20};
  bench("ulaw 8k 20ms -> opus 48k 20ms (uplink)", ulaw, opus48);
  bench("opus 48k 20ms -> ulaw 8k 20ms (downlink)", opus48, ulaw);
  bench("ulaw 8k 20ms -> pcm16 24k 20ms", ulaw, {CC_CODEC_PCM16, 24000, 1, 20});
  bench("pcm16 16k 20ms -> ulaw 8k 20ms", {CC_CODEC_PCM16, 16000, 1, 20}, ulaw);
  bench("ulaw 8k 20ms -> alaw 8k 60ms", ulaw, {CC_CODEC_G711_ALAW, 8000, 1, 60});
  bench("ulaw 8k 20ms -> ulaw 8k 20ms (pass-through)", ulaw, ulaw);
  return 0;
}
