// Resampler entry points of the C ABI over core/resample.
#include <memory>
#include <new>

#include "ffi_common.h"
#include "shared/shared.h"
#include "resample/resampler.h"

using clutchcall::ffi::guarded;
using clutchcall::ffi::present;
using clutchcall::ffi::zero;
using clutchcall::resample::Resampler;

struct cc_resample {
  clutchcall::Shared<Resampler> impl;  // every call below holds its lock
};

namespace {
cc_status map(cc_resampler_status s) noexcept {
  switch (s) {
    case CC_RESAMPLER_OK: return CC_OK;
    case CC_RESAMPLER_ERR_NULL_ARG: return CC_ERR_NULL_ARG;
    case CC_RESAMPLER_ERR_BAD_RATE: return CC_ERR_BAD_RATE;
    case CC_RESAMPLER_ERR_BAD_CHANNELS: return CC_ERR_BAD_CHANNELS;
    case CC_RESAMPLER_ERR_BAD_QUALITY: return CC_ERR_BAD_QUALITY;
    case CC_RESAMPLER_ERR_OUTPUT_TOO_SMALL: return CC_ERR_BUFFER_TOO_SMALL;
    case CC_RESAMPLER_ERR_INPUT_TOO_LARGE: return CC_ERR_INPUT_TOO_LARGE;
    case CC_RESAMPLER_ERR_ALLOC: return CC_ERR_ALLOC;
    case CC_RESAMPLER_ERR_INTERNAL: return CC_ERR_INTERNAL;
  }
  return CC_ERR_INTERNAL;
}
}  // namespace

extern "C" {

cc_status cc_resample_create(uint32_t in_rate, uint32_t out_rate, uint32_t channels,
                             int32_t quality, cc_resample **out) {
  return guarded([&] {
    if (out == nullptr) return CC_ERR_NULL_ARG;
    *out = nullptr;
    cc_resampler_status s = CC_RESAMPLER_OK;
    auto impl = Resampler::create(in_rate, out_rate, channels, quality, &s);
    if (!impl) return map(s);
    auto *r = new (std::nothrow) cc_resample{clutchcall::Shared<Resampler>(std::move(impl))};
    if (r == nullptr) return CC_ERR_ALLOC;
    *out = r;
    return CC_OK;
  });
}

void cc_resample_destroy(cc_resample *r) { delete r; }

cc_status cc_resample_max_output(const cc_resample *r, size_t in_frames, size_t *frames) {
  return guarded([&] {
    zero(frames);
    if (r == nullptr || frames == nullptr) return CC_ERR_NULL_ARG;
    if (in_frames > CC_RESAMPLER_MAX_INPUT) return CC_ERR_INPUT_TOO_LARGE;
    // flush() pushes input_latency() frames of silence through.
    *frames = r->impl.with([&](const Resampler &rs) {
      return rs.max_output(in_frames == 0 ? rs.input_latency() : in_frames);
    });
    return CC_OK;
  });
}

cc_status cc_resample_process(cc_resample *r, const int16_t *in, size_t in_frames, int16_t *out,
                              size_t out_cap_frames, size_t *out_frames) {
  return guarded([&] {
    zero(out_frames);
    if (r == nullptr || out_frames == nullptr) return CC_ERR_NULL_ARG;
    if (!present(in, in_frames) || !present(out, out_cap_frames)) return CC_ERR_NULL_ARG;
    if (in_frames == 0) return CC_OK;
    return map(r->impl.with([&](Resampler &rs) { return rs.process(in, in_frames, out, out_cap_frames, out_frames); }));
  });
}

cc_status cc_resample_flush(cc_resample *r, int16_t *out, size_t out_cap_frames, size_t *out_frames) {
  return guarded([&] {
    zero(out_frames);
    if (r == nullptr || out_frames == nullptr || out == nullptr) return CC_ERR_NULL_ARG;
    const cc_status s = map(r->impl.with([&](Resampler &rs) { return rs.flush(out, out_cap_frames, out_frames); }));
    if (s != CC_OK) zero(out_frames);
    return s;
  });
}

cc_status cc_resample_reset(cc_resample *r) {
  return guarded([&] {
    if (r == nullptr) return CC_ERR_NULL_ARG;
    r->impl.with([](Resampler &rs) { rs.reset(); });
    return CC_OK;
  });
}

}  // extern "C"
