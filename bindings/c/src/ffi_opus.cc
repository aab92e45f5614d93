// Opus entry points of the C ABI over core/opus.
#include <memory>
#include <new>

#include "ffi_common.h"
#include "ffi_opus.h"
#include "shared/shared.h"

using clutchcall::ffi::guarded;
using clutchcall::ffi::present;
using clutchcall::ffi::zero;

using clutchcall::opus::Decoder;
using clutchcall::opus::Encoder;

// Every call below holds the handle's lock (Shared<T>).
struct cc_opus_enc {
  clutchcall::Shared<Encoder> impl;
};
struct cc_opus_dec {
  clutchcall::Shared<Decoder> impl;
};

namespace clutchcall::ffi {

cc_status map_opus(cc_opus_status s) noexcept {
  switch (s) {
    case CC_OPUS_OK: return CC_OK;
    case CC_OPUS_ERR_BAD_ARG: return CC_ERR_INVALID_ARG;
    case CC_OPUS_ERR_BUFFER_TOO_SMALL: return CC_ERR_BUFFER_TOO_SMALL;
    case CC_OPUS_ERR_INVALID_PACKET: return CC_ERR_INVALID_PACKET;
    case CC_OPUS_ERR_UNIMPLEMENTED: return CC_ERR_UNSUPPORTED;
    case CC_OPUS_ERR_ALLOC: return CC_ERR_ALLOC;
    case CC_OPUS_ERR_NULL_ARG: return CC_ERR_NULL_ARG;
    case CC_OPUS_ERR_BAD_RATE: return CC_ERR_BAD_RATE;
    case CC_OPUS_ERR_BAD_CHANNELS: return CC_ERR_BAD_CHANNELS;
    case CC_OPUS_ERR_BAD_FRAME_MS:
    case CC_OPUS_ERR_BAD_FRAME_SIZE: return CC_ERR_BAD_FRAME;
    case CC_OPUS_ERR_BAD_SETTING: return CC_ERR_BAD_SETTING;
    case CC_OPUS_ERR_EMPTY_PACKET: return CC_ERR_EMPTY_PACKET;
    case CC_OPUS_ERR_PACKET_TOO_LARGE: return CC_ERR_PACKET_TOO_LARGE;
    case CC_OPUS_ERR_INTERNAL:
    case CC_OPUS_ERR_INVALID_STATE: return CC_ERR_INTERNAL;
  }
  return CC_ERR_INTERNAL;
}

cc_opus_encoder_settings to_core(const cc_opus_settings *s) noexcept {
  if (s == nullptr) return cc_opus_encoder_settings_default();
  return cc_opus_encoder_settings{s->bitrate, s->complexity, s->fec, s->packet_loss_pct, s->dtx};
}

}  // namespace clutchcall::ffi

using clutchcall::ffi::map_opus;

extern "C" {

void cc_opus_settings_default(cc_opus_settings *out) {
  if (out == nullptr) return;
  const cc_opus_encoder_settings d = cc_opus_encoder_settings_default();
  *out = cc_opus_settings{d.bitrate, d.complexity, d.fec, d.packet_loss_pct, d.dtx};
}

cc_status cc_opus_enc_create(uint32_t rate, uint32_t channels, uint32_t frame_ms,
                             const cc_opus_settings *settings, cc_opus_enc **out) {
  return guarded([&] {
    if (out == nullptr) return CC_ERR_NULL_ARG;
    *out = nullptr;
    cc_opus_status s = CC_OPUS_OK;
    auto impl = clutchcall::opus::Encoder::create(rate, channels, frame_ms,
                                                  clutchcall::ffi::to_core(settings), &s);
    if (!impl) return s == CC_OPUS_OK ? CC_ERR_INTERNAL : map_opus(s);
    auto *e = new (std::nothrow) cc_opus_enc{clutchcall::Shared<Encoder>(std::move(impl))};
    if (e == nullptr) return CC_ERR_ALLOC;
    *out = e;
    return CC_OK;
  });
}

void cc_opus_enc_destroy(cc_opus_enc *e) { delete e; }

cc_status cc_opus_enc_frame_frames(const cc_opus_enc *e, size_t *frames) {
  return guarded([&] {
    zero(frames);
    if (e == nullptr || frames == nullptr) return CC_ERR_NULL_ARG;
    *frames = e->impl.fixed().frame_frames();
    return CC_OK;
  });
}

cc_status cc_opus_enc_encode(cc_opus_enc *e, const int16_t *pcm, size_t frames, uint8_t *packet,
                             size_t packet_cap, size_t *packet_len) {
  return guarded([&] {
    zero(packet_len);
    if (e == nullptr || packet_len == nullptr || !present(pcm, frames) || !present(packet, packet_cap))
      return CC_ERR_NULL_ARG;
    const cc_status s = map_opus(e->impl.with([&](Encoder &x) { return x.encode(pcm, frames, packet, packet_cap, packet_len); }));
    if (s != CC_OK) zero(packet_len);
    return s;
  });
}

cc_status cc_opus_enc_reset(cc_opus_enc *e) {
  return guarded([&] { return e == nullptr ? CC_ERR_NULL_ARG : map_opus(e->impl.with([](Encoder &x) { return x.reset(); })); });
}

cc_status cc_opus_dec_create(uint32_t rate, uint32_t channels, cc_opus_dec **out) {
  return guarded([&] {
    if (out == nullptr) return CC_ERR_NULL_ARG;
    *out = nullptr;
    cc_opus_status s = CC_OPUS_OK;
    auto impl = clutchcall::opus::Decoder::create(rate, channels, &s);
    if (!impl) return s == CC_OPUS_OK ? CC_ERR_INTERNAL : map_opus(s);
    auto *d = new (std::nothrow) cc_opus_dec{clutchcall::Shared<Decoder>(std::move(impl))};
    if (d == nullptr) return CC_ERR_ALLOC;
    *out = d;
    return CC_OK;
  });
}

void cc_opus_dec_destroy(cc_opus_dec *d) { delete d; }

cc_status cc_opus_dec_decode(cc_opus_dec *d, const uint8_t *packet, size_t len, int16_t *pcm,
                             size_t cap_frames, size_t *frames) {
  return guarded([&] {
    zero(frames);
    if (d == nullptr || frames == nullptr || !present(packet, len) || !present(pcm, cap_frames))
      return CC_ERR_NULL_ARG;
    const cc_status s = map_opus(d->impl.with([&](Decoder &x) { return x.decode(packet, len, pcm, cap_frames, frames); }));
    if (s != CC_OK) zero(frames);
    return s;
  });
}

cc_status cc_opus_dec_conceal(cc_opus_dec *d, size_t frames, int16_t *pcm, size_t cap_frames,
                              size_t *out_frames) {
  return guarded([&] {
    zero(out_frames);
    if (d == nullptr || out_frames == nullptr || !present(pcm, cap_frames)) return CC_ERR_NULL_ARG;
    const cc_status s = map_opus(d->impl.with([&](Decoder &x) { return x.decode_lost(frames, pcm, cap_frames, out_frames); }));
    if (s != CC_OK) zero(out_frames);
    return s;
  });
}

cc_status cc_opus_dec_reset(cc_opus_dec *d) {
  return guarded([&] { return d == nullptr ? CC_ERR_NULL_ARG : map_opus(d->impl.with([](Decoder &x) { return x.reset(); })); });
}

cc_status cc_opus_packet_duration(const uint8_t *packet, size_t len, uint32_t rate, size_t *frames) {
  return guarded([&] {
    zero(frames);
    if (frames == nullptr || !present(packet, len)) return CC_ERR_NULL_ARG;
    if (!cc_opus_rate_supported(rate)) return CC_ERR_BAD_RATE;
    const cc_status s = map_opus(cc_opus_packet_frames(packet, len, rate, frames));
    if (s != CC_OK) zero(frames);
    return s;
  });
}

}  // extern "C"
