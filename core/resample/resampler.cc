// speexdsp-backed resampler: the C++ class owns the SpeexResamplerState; the C API wraps it.
#include "resample/resampler.h"

#include <speex/speex_resampler.h>

#include <algorithm>
#include <array>
#include <new>

namespace clutchcall::resample {

namespace {
constexpr bool rate_ok(uint32_t r) {
  return r == 8000 || r == 12000 || r == 16000 || r == 24000 || r == 48000;
}
}  // namespace

Resampler::Resampler(SpeexResamplerState_ *st, uint32_t in_rate, uint32_t out_rate,
                     uint32_t channels, int quality) noexcept
    : st_(st), in_rate_(in_rate), out_rate_(out_rate), channels_(channels), quality_(quality) {}

Resampler::~Resampler() { speex_resampler_destroy(st_); }

std::unique_ptr<Resampler> Resampler::create(uint32_t in_rate, uint32_t out_rate,
                                             uint32_t channels, int quality,
                                             cc_resampler_status *status) noexcept {
  cc_resampler_status ignored;
  cc_resampler_status &s = status ? *status : ignored;
  if (!rate_ok(in_rate) || !rate_ok(out_rate)) return s = CC_RESAMPLER_ERR_BAD_RATE, nullptr;
  if (channels != 1 && channels != 2) return s = CC_RESAMPLER_ERR_BAD_CHANNELS, nullptr;
  if (quality < 0 || quality > CC_RESAMPLER_QUALITY_MAX)
    return s = CC_RESAMPLER_ERR_BAD_QUALITY, nullptr;
  int err = RESAMPLER_ERR_SUCCESS;
  SpeexResamplerState *st = speex_resampler_init(channels, in_rate, out_rate, quality, &err);
  if (st == nullptr || err != RESAMPLER_ERR_SUCCESS) {
    if (st != nullptr) speex_resampler_destroy(st);
    return s = (err == RESAMPLER_ERR_ALLOC_FAILED ? CC_RESAMPLER_ERR_ALLOC
                                                  : CC_RESAMPLER_ERR_INTERNAL),
           nullptr;
  }
  std::unique_ptr<Resampler> r(new (std::nothrow)
                                   Resampler(st, in_rate, out_rate, channels, quality));
  if (!r) {
    speex_resampler_destroy(st);
    return s = CC_RESAMPLER_ERR_ALLOC, nullptr;
  }
  s = CC_RESAMPLER_OK;
  return r;
}

size_t Resampler::max_output(size_t in_frames) const noexcept {
  // The filter phase is exact integer arithmetic, so a call emits at most ceil(in * ratio) + 1
  // frames; +2 for margin. in_frames is capped by CC_RESAMPLER_MAX_INPUT: no overflow.
  const size_t n = std::min<size_t>(in_frames, CC_RESAMPLER_MAX_INPUT);
  return (n * out_rate_ + in_rate_ - 1) / in_rate_ + 2;
}

cc_resampler_status Resampler::process(const int16_t *in, size_t in_frames, int16_t *out,
                                       size_t out_cap, size_t *out_frames) noexcept {
  if (out_frames == nullptr) return CC_RESAMPLER_ERR_NULL_ARG;
  *out_frames = 0;
  if (in_frames == 0) return CC_RESAMPLER_OK;
  if (in == nullptr || out == nullptr) return CC_RESAMPLER_ERR_NULL_ARG;
  if (in_frames > CC_RESAMPLER_MAX_INPUT) return CC_RESAMPLER_ERR_INPUT_TOO_LARGE;
  if (out_cap < max_output(in_frames)) return CC_RESAMPLER_ERR_OUTPUT_TOO_SMALL;
  return run(in, in_frames, out, out_cap, out_frames);
}

cc_resampler_status Resampler::run(const int16_t *in, size_t in_frames, int16_t *out,
                                   size_t out_cap, size_t *out_frames) noexcept {
  // speexdsp consumes everything when the output has room, but loop defensively so that a
  // partial consumption can never silently drop input.
  size_t done_in = 0, done_out = 0;
  while (done_in < in_frames) {
    auto in_len = static_cast<spx_uint32_t>(in_frames - done_in);
    auto out_len = static_cast<spx_uint32_t>(out_cap - done_out);
    if (out_len == 0) return CC_RESAMPLER_ERR_OUTPUT_TOO_SMALL;
    const int err = speex_resampler_process_interleaved_int(
        st_, in + done_in * channels_, &in_len, out + done_out * channels_, &out_len);
    if (err != RESAMPLER_ERR_SUCCESS) return CC_RESAMPLER_ERR_INTERNAL;
    if (in_len == 0 && out_len == 0) return CC_RESAMPLER_ERR_INTERNAL;  // no progress
    done_in += in_len;
    done_out += out_len;
  }
  *out_frames = done_out;
  return CC_RESAMPLER_OK;
}

cc_resampler_status Resampler::flush(int16_t *out, size_t out_cap, size_t *out_frames) noexcept {
  if (out_frames == nullptr || out == nullptr) return CC_RESAMPLER_ERR_NULL_ARG;
  *out_frames = 0;
  static constexpr size_t kChunk = 256;
  static const std::array<int16_t, kChunk * 2> zeros{};
  size_t left = input_latency(), total = 0;
  // One check against the whole tail's bound: output depends only on the input sequence, so the
  // chunks together emit what one call over the whole tail would. Checking each chunk against
  // its own (+2) bound instead added the margin once per chunk and refused capacities that the
  // announced max_output(input_latency()) promised (quality 10 downsampling: several chunks).
  if (out_cap < max_output(left)) return CC_RESAMPLER_ERR_OUTPUT_TOO_SMALL;
  while (left > 0) {
    const size_t n = std::min(left, kChunk);
    size_t got = 0;
    const cc_resampler_status s = run(zeros.data(), n, out + total * channels_, out_cap - total, &got);
    if (s != CC_RESAMPLER_OK) return s;
    total += got;
    left -= n;
  }
  *out_frames = total;
  return CC_RESAMPLER_OK;
}

void Resampler::reset() noexcept { speex_resampler_reset_mem(st_); }

size_t Resampler::input_latency() const noexcept {
  return static_cast<size_t>(speex_resampler_get_input_latency(st_));
}

size_t Resampler::output_latency() const noexcept {
  return static_cast<size_t>(speex_resampler_get_output_latency(st_));
}

}  // namespace clutchcall::resample

using clutchcall::resample::Resampler;

struct cc_resampler {
  std::unique_ptr<Resampler> impl;
};

extern "C" {

const char *cc_resampler_status_name(int status) {
  switch (status) {
    case CC_RESAMPLER_OK: return "ok";
    case CC_RESAMPLER_ERR_NULL_ARG: return "null_arg";
    case CC_RESAMPLER_ERR_BAD_RATE: return "bad_rate";
    case CC_RESAMPLER_ERR_BAD_CHANNELS: return "bad_channels";
    case CC_RESAMPLER_ERR_BAD_QUALITY: return "bad_quality";
    case CC_RESAMPLER_ERR_OUTPUT_TOO_SMALL: return "output_too_small";
    case CC_RESAMPLER_ERR_INPUT_TOO_LARGE: return "input_too_large";
    case CC_RESAMPLER_ERR_ALLOC: return "alloc";
    case CC_RESAMPLER_ERR_INTERNAL: return "internal";
    default: return "unknown";
  }
}

int cc_resampler_rate_supported(uint32_t rate) {
  return clutchcall::resample::rate_ok(rate) ? 1 : 0;
}

cc_resampler_status cc_resampler_create(uint32_t in_rate, uint32_t out_rate, uint32_t channels,
                                        int quality, cc_resampler **out) {
  if (out == nullptr) return CC_RESAMPLER_ERR_NULL_ARG;
  *out = nullptr;
  cc_resampler_status s = CC_RESAMPLER_OK;
  auto impl = Resampler::create(in_rate, out_rate, channels, quality, &s);
  if (!impl) return s;
  auto *h = new (std::nothrow) cc_resampler{std::move(impl)};
  if (h == nullptr) return CC_RESAMPLER_ERR_ALLOC;
  *out = h;
  return CC_RESAMPLER_OK;
}

void cc_resampler_destroy(cc_resampler *r) { delete r; }

size_t cc_resampler_max_output(const cc_resampler *r, size_t in_frames) {
  return r ? r->impl->max_output(in_frames) : 0;
}

cc_resampler_status cc_resampler_process(cc_resampler *r, const int16_t *in, size_t in_frames,
                                         int16_t *out, size_t out_cap, size_t *out_frames) {
  if (r == nullptr) return CC_RESAMPLER_ERR_NULL_ARG;
  return r->impl->process(in, in_frames, out, out_cap, out_frames);
}

cc_resampler_status cc_resampler_flush(cc_resampler *r, int16_t *out, size_t out_cap,
                                       size_t *out_frames) {
  if (r == nullptr) return CC_RESAMPLER_ERR_NULL_ARG;
  return r->impl->flush(out, out_cap, out_frames);
}

void cc_resampler_reset(cc_resampler *r) {
  if (r) r->impl->reset();
}

size_t cc_resampler_input_latency(const cc_resampler *r) {
  return r ? r->impl->input_latency() : 0;
}

size_t cc_resampler_output_latency(const cc_resampler *r) {
  return r ? r->impl->output_latency() : 0;
}

}  // extern "C"
