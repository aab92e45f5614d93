// libopus wrapper: per-session OpusEncoder/OpusDecoder objects behind RAII classes and a C API.
#include "opus/opus_codec.h"

#include <opus.h>

#include <new>

namespace clutchcall::opus {

namespace {

constexpr bool rate_ok(uint32_t r) {
  return r == 8000 || r == 12000 || r == 16000 || r == 24000 || r == 48000;
}

cc_opus_status map(int opus_err) {
  switch (opus_err) {
    case OPUS_OK: return CC_OPUS_OK;
    case OPUS_BAD_ARG: return CC_OPUS_ERR_BAD_ARG;
    case OPUS_BUFFER_TOO_SMALL: return CC_OPUS_ERR_BUFFER_TOO_SMALL;
    case OPUS_INVALID_PACKET: return CC_OPUS_ERR_INVALID_PACKET;
    case OPUS_UNIMPLEMENTED: return CC_OPUS_ERR_UNIMPLEMENTED;
    case OPUS_INVALID_STATE: return CC_OPUS_ERR_INVALID_STATE;
    case OPUS_ALLOC_FAIL: return CC_OPUS_ERR_ALLOC;
    default: return CC_OPUS_ERR_INTERNAL;
  }
}

cc_opus_status check_settings(const Settings &s) {
  const bool bitrate_ok = s.bitrate == CC_OPUS_BITRATE_AUTO || s.bitrate == CC_OPUS_BITRATE_MAX ||
                          (s.bitrate >= 6000 && s.bitrate <= 510000);
  if (!bitrate_ok || s.complexity < 0 || s.complexity > 10 || (s.fec != 0 && s.fec != 1) ||
      s.packet_loss_pct < 0 || s.packet_loss_pct > 100 || (s.dtx != 0 && s.dtx != 1))
    return CC_OPUS_ERR_BAD_SETTING;
  return CC_OPUS_OK;
}

}  // namespace

// ---- Encoder ----------------------------------------------------------------------------------

std::unique_ptr<Encoder> Encoder::create(uint32_t rate, uint32_t channels, uint32_t frame_ms,
                                         const Settings &settings,
                                         cc_opus_status *status) noexcept {
  cc_opus_status ignored;
  cc_opus_status &s = status ? *status : ignored;
  if (!rate_ok(rate)) return s = CC_OPUS_ERR_BAD_RATE, nullptr;
  if (channels != 1 && channels != 2) return s = CC_OPUS_ERR_BAD_CHANNELS, nullptr;
  if (frame_ms != 10 && frame_ms != 20 && frame_ms != 40 && frame_ms != 60)
    return s = CC_OPUS_ERR_BAD_FRAME_MS, nullptr;
  if ((s = check_settings(settings)) != CC_OPUS_OK) return nullptr;
  int err = OPUS_OK;
  OpusEncoder *e = opus_encoder_create(static_cast<opus_int32>(rate), static_cast<int>(channels),
                                       OPUS_APPLICATION_VOIP, &err);
  if (e == nullptr || err != OPUS_OK) {
    if (e != nullptr) opus_encoder_destroy(e);
    return s = map(err == OPUS_OK ? OPUS_ALLOC_FAIL : err), nullptr;
  }
  std::unique_ptr<Encoder> enc(new (std::nothrow) Encoder(e, rate, channels, frame_ms));
  if (!enc) {
    opus_encoder_destroy(e);
    return s = CC_OPUS_ERR_ALLOC, nullptr;
  }
  if ((s = enc->apply(settings)) != CC_OPUS_OK) return nullptr;
  return enc;
}

Encoder::~Encoder() { opus_encoder_destroy(enc_); }

cc_opus_status Encoder::apply(const Settings &st) noexcept {
  if (const cc_opus_status s = check_settings(st); s != CC_OPUS_OK) return s;
  int err = opus_encoder_ctl(enc_, OPUS_SET_BITRATE(st.bitrate));
  if (err == OPUS_OK) err = opus_encoder_ctl(enc_, OPUS_SET_COMPLEXITY(st.complexity));
  if (err == OPUS_OK) err = opus_encoder_ctl(enc_, OPUS_SET_INBAND_FEC(st.fec));
  if (err == OPUS_OK) err = opus_encoder_ctl(enc_, OPUS_SET_PACKET_LOSS_PERC(st.packet_loss_pct));
  if (err == OPUS_OK) err = opus_encoder_ctl(enc_, OPUS_SET_DTX(st.dtx));
  // Telephony speech: tell the mode decision so it does not try music modes.
  if (err == OPUS_OK) err = opus_encoder_ctl(enc_, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
  return map(err);
}

cc_opus_status Encoder::encode(const int16_t *pcm, size_t frames, uint8_t *packet, size_t cap,
                               size_t *packet_len) noexcept {
  if (packet_len == nullptr) return CC_OPUS_ERR_NULL_ARG;
  *packet_len = 0;
  if (pcm == nullptr || packet == nullptr) return CC_OPUS_ERR_NULL_ARG;
  if (frames != frame_frames()) return CC_OPUS_ERR_BAD_FRAME_SIZE;
  if (cap == 0) return CC_OPUS_ERR_BUFFER_TOO_SMALL;  // libopus would say bad_arg
  if (cap > CC_OPUS_MAX_PACKET) cap = CC_OPUS_MAX_PACKET;
  const opus_int32 n = opus_encode(enc_, pcm, static_cast<int>(frames), packet,
                                   static_cast<opus_int32>(cap));
  if (n < 0) return map(n);
  *packet_len = static_cast<size_t>(n);
  return CC_OPUS_OK;
}

cc_opus_status Encoder::reset() noexcept { return map(opus_encoder_ctl(enc_, OPUS_RESET_STATE)); }

size_t Encoder::lookahead() const noexcept {
  opus_int32 v = 0;
  if (opus_encoder_ctl(enc_, OPUS_GET_LOOKAHEAD(&v)) != OPUS_OK || v < 0) return 0;
  return static_cast<size_t>(v);
}

// ---- Decoder ----------------------------------------------------------------------------------

std::unique_ptr<Decoder> Decoder::create(uint32_t rate, uint32_t channels,
                                         cc_opus_status *status) noexcept {
  cc_opus_status ignored;
  cc_opus_status &s = status ? *status : ignored;
  if (!rate_ok(rate)) return s = CC_OPUS_ERR_BAD_RATE, nullptr;
  if (channels != 1 && channels != 2) return s = CC_OPUS_ERR_BAD_CHANNELS, nullptr;
  int err = OPUS_OK;
  OpusDecoder *d =
      opus_decoder_create(static_cast<opus_int32>(rate), static_cast<int>(channels), &err);
  if (d == nullptr || err != OPUS_OK) {
    if (d != nullptr) opus_decoder_destroy(d);
    return s = map(err == OPUS_OK ? OPUS_ALLOC_FAIL : err), nullptr;
  }
  std::unique_ptr<Decoder> dec(new (std::nothrow) Decoder(d, rate, channels));
  if (!dec) {
    opus_decoder_destroy(d);
    return s = CC_OPUS_ERR_ALLOC, nullptr;
  }
  s = CC_OPUS_OK;
  return dec;
}

Decoder::~Decoder() { opus_decoder_destroy(dec_); }

cc_opus_status Decoder::run(const uint8_t *data, size_t len, int16_t *pcm, size_t cap_frames,
                            size_t *frames, int fec) noexcept {
  if (cap_frames > CC_OPUS_MAX_FRAME_FRAMES) cap_frames = CC_OPUS_MAX_FRAME_FRAMES;
  const int n = opus_decode(dec_, data, static_cast<opus_int32>(len), pcm,
                            static_cast<int>(cap_frames), fec);
  if (n < 0) return map(n);
  *frames = static_cast<size_t>(n);
  return CC_OPUS_OK;
}

cc_opus_status Decoder::decode(const uint8_t *packet, size_t len, int16_t *pcm, size_t cap_frames,
                               size_t *frames) noexcept {
  if (frames == nullptr) return CC_OPUS_ERR_NULL_ARG;
  *frames = 0;
  if (packet == nullptr || pcm == nullptr) return CC_OPUS_ERR_NULL_ARG;
  // libopus treats len 0 as "lost"; make that explicit (decode_lost) instead of implicit.
  if (len == 0) return CC_OPUS_ERR_EMPTY_PACKET;
  if (len > CC_OPUS_MAX_PACKET_IN) return CC_OPUS_ERR_PACKET_TOO_LARGE;
  return run(packet, len, pcm, cap_frames, frames, 0);
}

cc_opus_status Decoder::decode_lost(size_t frames, int16_t *pcm, size_t cap_frames,
                                    size_t *out_frames) noexcept {
  if (out_frames == nullptr) return CC_OPUS_ERR_NULL_ARG;
  *out_frames = 0;
  if (pcm == nullptr) return CC_OPUS_ERR_NULL_ARG;
  const size_t quantum = rate_ / 400;  // 2.5 ms
  if (frames == 0 || frames % quantum != 0 || frames > rate_ / 1000 * 120)
    return CC_OPUS_ERR_BAD_FRAME_SIZE;
  if (cap_frames < frames) return CC_OPUS_ERR_BUFFER_TOO_SMALL;
  return run(nullptr, 0, pcm, frames, out_frames, 0);
}

cc_opus_status Decoder::decode_fec(const uint8_t *next_packet, size_t len, size_t frames,
                                   int16_t *pcm, size_t cap_frames, size_t *out_frames) noexcept {
  if (out_frames == nullptr) return CC_OPUS_ERR_NULL_ARG;
  *out_frames = 0;
  if (next_packet == nullptr || pcm == nullptr) return CC_OPUS_ERR_NULL_ARG;
  if (len == 0) return CC_OPUS_ERR_EMPTY_PACKET;
  if (len > CC_OPUS_MAX_PACKET_IN) return CC_OPUS_ERR_PACKET_TOO_LARGE;
  const size_t quantum = rate_ / 400;
  if (frames == 0 || frames % quantum != 0 || frames > rate_ / 1000 * 120)
    return CC_OPUS_ERR_BAD_FRAME_SIZE;
  if (cap_frames < frames) return CC_OPUS_ERR_BUFFER_TOO_SMALL;
  // With decode_fec=1 libopus decodes exactly frame_size frames of the previous packet's audio.
  return run(next_packet, len, pcm, frames, out_frames, 1);
}

cc_opus_status Decoder::reset() noexcept { return map(opus_decoder_ctl(dec_, OPUS_RESET_STATE)); }

}  // namespace clutchcall::opus

// ---- C API ------------------------------------------------------------------------------------

using clutchcall::opus::Decoder;
using clutchcall::opus::Encoder;

struct cc_opus_encoder {
  std::unique_ptr<Encoder> impl;
};
struct cc_opus_decoder {
  std::unique_ptr<Decoder> impl;
};

extern "C" {

cc_opus_encoder_settings cc_opus_encoder_settings_default(void) {
  return cc_opus_encoder_settings{32000, 5, 1, 5, 0};
}

const char *cc_opus_status_name(int status) {
  switch (status) {
    case CC_OPUS_OK: return "ok";
    case CC_OPUS_ERR_BAD_ARG: return "bad_arg";
    case CC_OPUS_ERR_BUFFER_TOO_SMALL: return "buffer_too_small";
    case CC_OPUS_ERR_INTERNAL: return "internal";
    case CC_OPUS_ERR_INVALID_PACKET: return "invalid_packet";
    case CC_OPUS_ERR_UNIMPLEMENTED: return "unimplemented";
    case CC_OPUS_ERR_INVALID_STATE: return "invalid_state";
    case CC_OPUS_ERR_ALLOC: return "alloc";
    case CC_OPUS_ERR_NULL_ARG: return "null_arg";
    case CC_OPUS_ERR_BAD_RATE: return "bad_rate";
    case CC_OPUS_ERR_BAD_CHANNELS: return "bad_channels";
    case CC_OPUS_ERR_BAD_FRAME_MS: return "bad_frame_ms";
    case CC_OPUS_ERR_BAD_FRAME_SIZE: return "bad_frame_size";
    case CC_OPUS_ERR_BAD_SETTING: return "bad_setting";
    case CC_OPUS_ERR_EMPTY_PACKET: return "empty_packet";
    case CC_OPUS_ERR_PACKET_TOO_LARGE: return "packet_too_large";
    default: return "unknown";
  }
}

int cc_opus_rate_supported(uint32_t rate) { return clutchcall::opus::rate_ok(rate) ? 1 : 0; }

cc_opus_status cc_opus_encoder_create(uint32_t rate, uint32_t channels, uint32_t frame_ms,
                                      const cc_opus_encoder_settings *settings,
                                      cc_opus_encoder **out) {
  if (out == nullptr) return CC_OPUS_ERR_NULL_ARG;
  *out = nullptr;
  const cc_opus_encoder_settings s = settings ? *settings : cc_opus_encoder_settings_default();
  cc_opus_status st = CC_OPUS_OK;
  auto impl = Encoder::create(rate, channels, frame_ms, s, &st);
  if (!impl) return st;
  auto *h = new (std::nothrow) cc_opus_encoder{std::move(impl)};
  if (h == nullptr) return CC_OPUS_ERR_ALLOC;
  *out = h;
  return CC_OPUS_OK;
}

void cc_opus_encoder_destroy(cc_opus_encoder *e) { delete e; }

size_t cc_opus_encoder_frame_frames(const cc_opus_encoder *e) {
  return e ? e->impl->frame_frames() : 0;
}

cc_opus_status cc_opus_encoder_apply(cc_opus_encoder *e, const cc_opus_encoder_settings *s) {
  if (e == nullptr || s == nullptr) return CC_OPUS_ERR_NULL_ARG;
  return e->impl->apply(*s);
}

cc_opus_status cc_opus_encode(cc_opus_encoder *e, const int16_t *pcm, size_t frames,
                              uint8_t *packet, size_t cap, size_t *packet_len) {
  if (e == nullptr) return CC_OPUS_ERR_NULL_ARG;
  return e->impl->encode(pcm, frames, packet, cap, packet_len);
}

size_t cc_opus_encoder_lookahead(const cc_opus_encoder *e) { return e ? e->impl->lookahead() : 0; }

cc_opus_status cc_opus_encoder_reset(cc_opus_encoder *e) {
  return e ? e->impl->reset() : CC_OPUS_ERR_NULL_ARG;
}

cc_opus_status cc_opus_decoder_create(uint32_t rate, uint32_t channels, cc_opus_decoder **out) {
  if (out == nullptr) return CC_OPUS_ERR_NULL_ARG;
  *out = nullptr;
  cc_opus_status st = CC_OPUS_OK;
  auto impl = Decoder::create(rate, channels, &st);
  if (!impl) return st;
  auto *h = new (std::nothrow) cc_opus_decoder{std::move(impl)};
  if (h == nullptr) return CC_OPUS_ERR_ALLOC;
  *out = h;
  return CC_OPUS_OK;
}

void cc_opus_decoder_destroy(cc_opus_decoder *d) { delete d; }

cc_opus_status cc_opus_decode(cc_opus_decoder *d, const uint8_t *packet, size_t len, int16_t *pcm,
                              size_t cap_frames, size_t *frames) {
  if (d == nullptr) return CC_OPUS_ERR_NULL_ARG;
  return d->impl->decode(packet, len, pcm, cap_frames, frames);
}

cc_opus_status cc_opus_decode_lost(cc_opus_decoder *d, size_t frames, int16_t *pcm,
                                   size_t cap_frames, size_t *out_frames) {
  if (d == nullptr) return CC_OPUS_ERR_NULL_ARG;
  return d->impl->decode_lost(frames, pcm, cap_frames, out_frames);
}

cc_opus_status cc_opus_decode_fec(cc_opus_decoder *d, const uint8_t *next_packet, size_t len,
                                  size_t frames, int16_t *pcm, size_t cap_frames,
                                  size_t *out_frames) {
  if (d == nullptr) return CC_OPUS_ERR_NULL_ARG;
  return d->impl->decode_fec(next_packet, len, frames, pcm, cap_frames, out_frames);
}

cc_opus_status cc_opus_decoder_reset(cc_opus_decoder *d) {
  return d ? d->impl->reset() : CC_OPUS_ERR_NULL_ARG;
}

cc_opus_status cc_opus_packet_frames(const uint8_t *packet, size_t len, uint32_t rate,
                                     size_t *frames) {
  if (packet == nullptr || frames == nullptr) return CC_OPUS_ERR_NULL_ARG;
  *frames = 0;
  if (!clutchcall::opus::rate_ok(rate)) return CC_OPUS_ERR_BAD_RATE;
  if (len == 0) return CC_OPUS_ERR_EMPTY_PACKET;
  if (len > CC_OPUS_MAX_PACKET_IN) return CC_OPUS_ERR_PACKET_TOO_LARGE;
  // opus_packet_parse walks the whole framing (frame count, lengths, padding) without decoding.
  const unsigned char *frame_ptrs[48];
  opus_int16 sizes[48];
  int n = opus_packet_parse(packet, static_cast<opus_int32>(len), nullptr, frame_ptrs, sizes,
                            nullptr);
  if (n < 0) return clutchcall::opus::map(n);
  n = opus_packet_get_nb_samples(packet, static_cast<opus_int32>(len),
                                 static_cast<opus_int32>(rate));
  if (n < 0) return clutchcall::opus::map(n);
  *frames = static_cast<size_t>(n);
  return CC_OPUS_OK;
}

}  // extern "C"
