// libFuzzer target: arbitrary bytes as a sequence of Opus packets into transcoders whose input
// is Opus (decode path, several output shapes) and into an Opus pass-through (framing check).
// Every call must return OK or a named error (never an internal one), and outputs must respect
// the advertised bounds.
// Input format: repeated [len_hi, len_lo, flags, packet bytes...]; flags bit 0 = "lost" (PLC,
// or FEC from this packet when bit 1 is also set).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "transcode/transcoder.h"

namespace {

using clutchcall::transcode::Transcoder;

struct Lane {
  std::unique_ptr<Transcoder> t;
  std::vector<uint8_t> data;
  std::vector<uint32_t> lens;
};

Lane make(cc_audio_shape in, cc_audio_shape out) {
  cc_transcode_status s = CC_TRANSCODE_OK;
  Lane l;
  auto os = cc_opus_encoder_settings_default();
  os.complexity = 0;  // the encoder is not under test here; keep runs fast
  l.t = Transcoder::create(in, out, os, &s);
  if (!l.t) std::abort();
  l.data.resize(l.t->max_output_bytes());
  l.lens.resize(l.t->max_output_frames());
  return l;
}

void run(Lane &l, const uint8_t *pkt, size_t len, uint8_t flags) {
  cc_transcode_output o{l.data.data(), l.data.size(), l.lens.data(), l.lens.size(), 0, 0};
  cc_transcode_status s;
  if (flags & 1) {
    s = l.t->process_lost((flags & 2) ? pkt : nullptr, len, &o);
  } else {
    s = l.t->process(pkt, len, &o);
  }
  if (std::strcmp(cc_transcode_status_name(s), "unknown") == 0) std::abort();
  if (s == CC_TRANSCODE_ERR_OPUS || s == CC_TRANSCODE_ERR_RESAMPLER ||
      s == CC_TRANSCODE_ERR_OUTPUT_TOO_SMALL || s == CC_TRANSCODE_ERR_NULL_ARG)
    std::abort();  // internal errors or bound violations: bugs, not input problems
  if (o.len > l.data.size() || o.n_frames > l.lens.size()) std::abort();
  size_t sum = 0;
  for (size_t i = 0; i < o.n_frames; ++i) sum += l.lens[i];
  if (sum != o.len) std::abort();
  if (s != CC_TRANSCODE_OK && o.len != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // Created once (resampler filter design and Opus state setup dominate otherwise) and reset per
  // input, so that every run starts from the same state and is reproducible.
  static Lane lanes[] = {
      make({CC_CODEC_OPUS, 48000, 1, 20}, {CC_CODEC_G711_ULAW, 8000, 1, 20}),
      make({CC_CODEC_OPUS, 16000, 2, 20}, {CC_CODEC_PCM16, 48000, 1, 60}),
      make({CC_CODEC_OPUS, 12000, 1, 60}, {CC_CODEC_OPUS, 24000, 2, 10}),
      make({CC_CODEC_OPUS, 48000, 2, 20}, {CC_CODEC_OPUS, 48000, 2, 20}),  // pass-through
  };
  for (Lane &l : lanes) l.t->reset();
  size_t pos = 0;
  while (pos + 3 <= size) {
    const size_t len = (size_t{data[pos]} << 8 | data[pos + 1]) % 1500;
    const uint8_t flags = data[pos + 2];
    pos += 3;
    const size_t n = len < size - pos ? len : size - pos;
    // Copy to an exact-size heap buffer so ASan catches any over-read past the packet (one
    // byte of room for n == 0, so the pointer is never null).
    std::vector<uint8_t> pkt(n == 0 ? 1 : n);
    if (n != 0) std::memcpy(pkt.data(), data + pos, n);
    pos += n;
    for (Lane &l : lanes) run(l, pkt.data(), n, flags);
  }
  for (Lane &l : lanes) {
    cc_transcode_output o{l.data.data(), l.data.size(), l.lens.data(), l.lens.size(), 0, 0};
    if (l.t->flush(&o) != CC_TRANSCODE_OK) std::abort();
  }
  return 0;
}
