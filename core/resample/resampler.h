/* Sample-rate conversion of interleaved int16 PCM, one stateful resampler per stream.
 *
 * Backend: speexdsp's resampler. Chosen over libsoxr because (1) Debian's libspeexdsp.a links
 * into a shared object (the engine wheel's extension and clutchcall_core_ffi.so) without PIC
 * problems, so it can be linked statically; (2) it is built for VoIP: low, exactly reported
 * latency (filter length / 2) and a 0..10 quality knob whose low end is cheap enough per call;
 * (3) its interleaved int16 entry point matches our frame layout, with no float copies of ours.
 *
 * Invariants:
 *   - Rates: 8000, 12000, 16000, 24000 or 48000 Hz (12 kHz because Opus decodes at it);
 *     channels: 1 or 2; quality 0 (fastest) .. 10 (best); CC_RESAMPLER_QUALITY_VOIP = 3.
 *   - A "frame" here is one sample per channel; counts are in frames, buffers interleaved.
 *   - process() consumes ALL input, given out_cap >= cc_resampler_max_output(r, in_frames).
 *     Output depends only on the input sequence: any split into calls gives the same samples
 *     as one call over the whole buffer.
 *   - The output lags the input by cc_resampler_output_latency() output frames (the first
 *     frames come from the zero-initialised filter memory). flush() pushes that many input
 *     frames of silence through, so the tail of the real input comes out; reset() clears state.
 *   - Never allocates after create; no global state. Equal rates are allowed (still filtered).
 *   - Threads: one object, one thread at a time; distinct objects are independent. To share one
 *     between threads, wrap it in clutchcall::Shared (shared/shared.h), as the bindings do.
 */
#ifndef CLUTCHCALL_CORE_RESAMPLE_RESAMPLER_H
#define CLUTCHCALL_CORE_RESAMPLE_RESAMPLER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cc_resampler_status {
  CC_RESAMPLER_OK = 0,
  CC_RESAMPLER_ERR_NULL_ARG = -1,         /* a required pointer was NULL */
  CC_RESAMPLER_ERR_BAD_RATE = -2,         /* rate not in {8000,12000,16000,24000,48000} */
  CC_RESAMPLER_ERR_BAD_CHANNELS = -3,     /* channels not 1 or 2 */
  CC_RESAMPLER_ERR_BAD_QUALITY = -4,      /* quality outside 0..10 */
  CC_RESAMPLER_ERR_OUTPUT_TOO_SMALL = -5, /* out_cap < cc_resampler_max_output(in_frames) */
  CC_RESAMPLER_ERR_INPUT_TOO_LARGE = -6,  /* more than CC_RESAMPLER_MAX_INPUT frames */
  CC_RESAMPLER_ERR_ALLOC = -7,            /* out of memory at create */
  CC_RESAMPLER_ERR_INTERNAL = -8          /* speexdsp reported an error */
} cc_resampler_status;

enum { CC_RESAMPLER_QUALITY_VOIP = 3, CC_RESAMPLER_QUALITY_DEFAULT = 4, CC_RESAMPLER_QUALITY_MAX = 10 };
/* Largest input per process() call, in frames (10 s at 48 kHz): bounds every size computation. */
enum { CC_RESAMPLER_MAX_INPUT = 480000 };

typedef struct cc_resampler cc_resampler;

/* Name of a status ("ok", "bad_rate", ...); "unknown" for other values. */
const char *cc_resampler_status_name(int status);
/* 1 if the rate is supported. */
int cc_resampler_rate_supported(uint32_t rate);

cc_resampler_status cc_resampler_create(uint32_t in_rate, uint32_t out_rate, uint32_t channels,
                                        int quality, cc_resampler **out);
void cc_resampler_destroy(cc_resampler *r); /* NULL is a no-op */
/* Upper bound of the output frames for in_frames input frames (any state). */
size_t cc_resampler_max_output(const cc_resampler *r, size_t in_frames);
/* Resample in_frames frames; writes *out_frames frames to out (capacity out_cap frames). */
cc_resampler_status cc_resampler_process(cc_resampler *r, const int16_t *in, size_t in_frames,
                                         int16_t *out, size_t out_cap, size_t *out_frames);
/* Drain the tail: as process() over cc_resampler_input_latency() frames of silence. */
cc_resampler_status cc_resampler_flush(cc_resampler *r, int16_t *out, size_t out_cap,
                                       size_t *out_frames);
void cc_resampler_reset(cc_resampler *r);
/* Delay of the filter, in input frames and in output frames. */
size_t cc_resampler_input_latency(const cc_resampler *r);
size_t cc_resampler_output_latency(const cc_resampler *r);

#ifdef __cplusplus
} /* extern "C" */

#include <memory>

struct SpeexResamplerState_;

namespace clutchcall::resample {

/* RAII owner of one stream's resampler state. Non-copyable, movable through unique_ptr. */
class Resampler {
 public:
  /* nullptr with *status set on bad arguments; never throws. */
  static std::unique_ptr<Resampler> create(uint32_t in_rate, uint32_t out_rate, uint32_t channels,
                                           int quality, cc_resampler_status *status) noexcept;
  ~Resampler();
  Resampler(const Resampler &) = delete;
  Resampler &operator=(const Resampler &) = delete;

  size_t max_output(size_t in_frames) const noexcept;
  cc_resampler_status process(const int16_t *in, size_t in_frames, int16_t *out, size_t out_cap,
                              size_t *out_frames) noexcept;
  cc_resampler_status flush(int16_t *out, size_t out_cap, size_t *out_frames) noexcept;
  void reset() noexcept;
  size_t input_latency() const noexcept;
  size_t output_latency() const noexcept;

  uint32_t in_rate() const noexcept { return in_rate_; }
  uint32_t out_rate() const noexcept { return out_rate_; }
  uint32_t channels() const noexcept { return channels_; }
  int quality() const noexcept { return quality_; }

 private:
  Resampler(SpeexResamplerState_ *st, uint32_t in_rate, uint32_t out_rate, uint32_t channels,
            int quality) noexcept;
  // process() without the capacity check: runs speexdsp until the input is consumed.
  cc_resampler_status run(const int16_t *in, size_t in_frames, int16_t *out, size_t out_cap,
                          size_t *out_frames) noexcept;
  SpeexResamplerState_ *st_;
  uint32_t in_rate_, out_rate_, channels_;
  int quality_;
};

}  // namespace clutchcall::resample
#endif

#endif /* CLUTCHCALL_CORE_RESAMPLE_RESAMPLER_H */
