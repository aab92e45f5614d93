// Transcoder entry points of the C ABI over core/transcode.
#include <memory>
#include <new>

#include "ffi_common.h"
#include "ffi_opus.h"
#include "shared/shared.h"
#include "transcode/transcoder.h"

using clutchcall::ffi::guarded;
using clutchcall::ffi::present;
using clutchcall::ffi::zero;

using clutchcall::transcode::Transcoder;

struct cc_transcode {
  clutchcall::Shared<Transcoder> impl;  // every call below holds its lock
};

namespace {

cc_status map(cc_transcode_status s) noexcept {
  switch (s) {
    case CC_TRANSCODE_OK: return CC_OK;
    case CC_TRANSCODE_ERR_NULL_ARG: return CC_ERR_NULL_ARG;
    case CC_TRANSCODE_ERR_BAD_CODEC: return CC_ERR_BAD_CODEC;
    case CC_TRANSCODE_ERR_BAD_RATE: return CC_ERR_BAD_RATE;
    case CC_TRANSCODE_ERR_BAD_CHANNELS: return CC_ERR_BAD_CHANNELS;
    case CC_TRANSCODE_ERR_BAD_FRAME_MS: return CC_ERR_BAD_FRAME;
    case CC_TRANSCODE_ERR_G711_NOT_8K_MONO: return CC_ERR_BAD_SHAPE;
    case CC_TRANSCODE_ERR_INPUT_SIZE: return CC_ERR_INPUT_SIZE;
    case CC_TRANSCODE_ERR_INVALID_PACKET: return CC_ERR_INVALID_PACKET;
    case CC_TRANSCODE_ERR_EMPTY_PACKET: return CC_ERR_EMPTY_PACKET;
    case CC_TRANSCODE_ERR_PACKET_TOO_LARGE: return CC_ERR_PACKET_TOO_LARGE;
    case CC_TRANSCODE_ERR_OUTPUT_TOO_SMALL: return CC_ERR_BUFFER_TOO_SMALL;
    case CC_TRANSCODE_ERR_ALLOC: return CC_ERR_ALLOC;
    case CC_TRANSCODE_ERR_BAD_SETTING: return CC_ERR_BAD_SETTING;
    case CC_TRANSCODE_ERR_OPUS:
    case CC_TRANSCODE_ERR_RESAMPLER: return CC_ERR_INTERNAL;
  }
  return CC_ERR_INTERNAL;
}

cc_audio_shape to_core(const cc_shape &s) noexcept {
  return cc_audio_shape_normalize(cc_audio_shape{s.codec, s.sample_rate, s.channels, s.frame_ms});
}

// Shared body of process / process_lost / flush: output buffers checked, counts zeroed on error.
template <class F>
cc_status with_output(cc_transcode *t, uint8_t *out, size_t out_cap, uint32_t *frame_lens,
                      size_t frame_lens_cap, size_t *out_len, size_t *out_frames, F &&call) {
  return guarded([&] {
    zero(out_len);
    zero(out_frames);
    if (t == nullptr || out_len == nullptr || out_frames == nullptr || !present(out, out_cap) ||
        !present(frame_lens, frame_lens_cap))
      return CC_ERR_NULL_ARG;
    cc_transcode_output o{out, out_cap, frame_lens, frame_lens_cap, 0, 0};
    const cc_status s = map(call(o));
    if (s == CC_OK) {
      *out_len = o.len;
      *out_frames = o.n_frames;
    }
    return s;
  });
}

}  // namespace

extern "C" {

cc_status cc_transcode_create(const cc_shape *in, const cc_shape *out,
                              const cc_opus_settings *opus_settings, cc_transcode **t) {
  return guarded([&] {
    if (t == nullptr) return CC_ERR_NULL_ARG;
    *t = nullptr;
    if (in == nullptr || out == nullptr) return CC_ERR_NULL_ARG;
    cc_transcode_status s = CC_TRANSCODE_OK;
    auto impl = clutchcall::transcode::Transcoder::create(
        to_core(*in), to_core(*out), clutchcall::ffi::to_core(opus_settings), &s);
    if (!impl) return s == CC_TRANSCODE_OK ? CC_ERR_INTERNAL : map(s);
    auto *h = new (std::nothrow) cc_transcode{clutchcall::Shared<Transcoder>(std::move(impl))};
    if (h == nullptr) return CC_ERR_ALLOC;
    *t = h;
    return CC_OK;
  });
}

void cc_transcode_destroy(cc_transcode *t) { delete t; }

cc_status cc_transcode_max_output(const cc_transcode *t, size_t *bytes, size_t *frames) {
  return guarded([&] {
    zero(bytes);
    zero(frames);
    if (t == nullptr || bytes == nullptr || frames == nullptr) return CC_ERR_NULL_ARG;
    *bytes = t->impl.fixed().max_output_bytes();
    *frames = t->impl.fixed().max_output_frames();
    return CC_OK;
  });
}

int32_t cc_transcode_is_passthrough(const cc_transcode *t) {
  return t != nullptr && t->impl.fixed().passthrough() ? 1 : 0;
}

cc_status cc_transcode_process(cc_transcode *t, const uint8_t *in, size_t in_len, uint8_t *out,
                               size_t out_cap, uint32_t *frame_lens, size_t frame_lens_cap,
                               size_t *out_len, size_t *out_frames) {
  return with_output(t, out, out_cap, frame_lens, frame_lens_cap, out_len, out_frames,
                     [&](cc_transcode_output &o) {
                       return present(in, in_len) ? t->impl.with([&](Transcoder &x) { return x.process(in, in_len, &o); })
                                                  : CC_TRANSCODE_ERR_NULL_ARG;
                     });
}

cc_status cc_transcode_process_lost(cc_transcode *t, const uint8_t *next_packet, size_t next_len,
                                    uint8_t *out, size_t out_cap, uint32_t *frame_lens,
                                    size_t frame_lens_cap, size_t *out_len, size_t *out_frames) {
  return with_output(t, out, out_cap, frame_lens, frame_lens_cap, out_len, out_frames,
                     [&](cc_transcode_output &o) {
                       if (!present(next_packet, next_len)) return CC_TRANSCODE_ERR_NULL_ARG;
                       return t->impl.with(
                           [&](Transcoder &x) { return x.process_lost(next_len ? next_packet : nullptr, next_len, &o); });
                     });
}

cc_status cc_transcode_flush(cc_transcode *t, uint8_t *out, size_t out_cap, uint32_t *frame_lens,
                             size_t frame_lens_cap, size_t *out_len, size_t *out_frames) {
  return with_output(t, out, out_cap, frame_lens, frame_lens_cap, out_len, out_frames,
                     [&](cc_transcode_output &o) { return t->impl.with([&](Transcoder &x) { return x.flush(&o); }); });
}

}  // extern "C"
