/* Frame-by-frame audio transcoder between two AudioShapes of the IDL (codec, sample_rate,
 * channels, frame_ms). One transcoder per direction of a call; this is what the AudioBridge uses.
 *
 * Pipeline per input frame: decode (G.711 via g711/, Opus via opus/, pcm16 little-endian)
 *   -> stereo-to-mono downmix (before resampling: half the work) -> resample (resample/, only if
 *   the rates differ) -> mono-to-stereo upmix (after resampling, same reason) -> re-frame FIFO
 *   (input and output frame durations may differ: 20 ms in, 60 ms out gives one output frame
 *   every third call) -> encode each complete output frame.
 *
 * Invariants:
 *   - Shapes: codec opus|pcm16|g711_ulaw|g711_alaw; channels 1|2; frame_ms 10|20|40|60;
 *     sample_rate 8000|16000|24000|48000 (Opus also 12000); G.711 only at 8000 Hz mono (the
 *     standard). Zero fields take the IDL defaults (opus, 48000, 1, 20) through
 *     cc_audio_shape_normalize(); anything else invalid is rejected with a named error.
 *   - Identical shapes: pass-through. The input is validated (size, or Opus framing) and copied
 *     out unchanged as one frame; nothing is decoded or encoded.
 *   - Input: pcm16 and G.711 take exactly one input frame (frame bytes = rate*frame_ms/1000 *
 *     channels * (2 for pcm16, 1 for G.711)); Opus takes one packet of any valid duration up to
 *     120 ms (what a peer sends is not always frame_ms). Stereo Opus into a mono shape is
 *     downmixed by libopus, and vice versa.
 *   - Output: the caller provides the buffers (cc_transcode_output): out bytes >=
 *     cc_transcoder_max_output_bytes() and frame_lens >= cc_transcoder_max_output_frames()
 *     entries, checked BEFORE anything changes, so a call either fails cleanly with
 *     CC_TRANSCODE_ERR_OUTPUT_TOO_SMALL or succeeds. Frames are written back to back; frame i has
 *     frame_lens[i] bytes. No allocation per frame (all buffers are sized at create).
 *   - A malformed Opus packet gives CC_TRANSCODE_ERR_INVALID_PACKET (or EMPTY_PACKET /
 *     PACKET_TOO_LARGE) and leaves the state as it was. Never throws, never aborts.
 *   - Lost input frame: cc_transcoder_process_lost() conceals one input frame (Opus PLC, or FEC
 *     from next_packet if given; silence for pcm16/G.711); in pass-through it outputs nothing.
 *   - cc_transcoder_flush() at the end of a stream drains the resampler and pads the last
 *     partial output frame with silence.
 *   - Threads: one object, one thread at a time; distinct objects are independent. To share one
 *     between threads, wrap it in clutchcall::Shared (shared/shared.h), as the bindings do.
 */
#ifndef CLUTCHCALL_CORE_TRANSCODE_TRANSCODER_H
#define CLUTCHCALL_CORE_TRANSCODE_TRANSCODER_H

#include <stddef.h>
#include <stdint.h>

#include "opus/opus_codec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Numbers of the IDL enum Codec. */
typedef enum cc_codec {
  CC_CODEC_UNSPECIFIED = 0,
  CC_CODEC_OPUS = 1,
  CC_CODEC_PCM16 = 2,
  CC_CODEC_G711_ULAW = 3,
  CC_CODEC_G711_ALAW = 4
} cc_codec;

typedef struct cc_audio_shape {
  uint32_t codec; /* cc_codec */
  uint32_t sample_rate;
  uint32_t channels;
  uint32_t frame_ms;
} cc_audio_shape;

typedef enum cc_transcode_status {
  CC_TRANSCODE_OK = 0,
  CC_TRANSCODE_ERR_NULL_ARG = -1,
  CC_TRANSCODE_ERR_BAD_CODEC = -2,         /* not opus/pcm16/g711_ulaw/g711_alaw */
  CC_TRANSCODE_ERR_BAD_RATE = -3,          /* rate not allowed for the codec */
  CC_TRANSCODE_ERR_BAD_CHANNELS = -4,      /* not 1 or 2 */
  CC_TRANSCODE_ERR_BAD_FRAME_MS = -5,      /* not 10/20/40/60 */
  CC_TRANSCODE_ERR_G711_NOT_8K_MONO = -6,  /* G.711 is 8000 Hz mono only */
  CC_TRANSCODE_ERR_INPUT_SIZE = -7,        /* pcm16/G.711 input is not exactly one frame */
  CC_TRANSCODE_ERR_INVALID_PACKET = -8,    /* malformed Opus packet */
  CC_TRANSCODE_ERR_EMPTY_PACKET = -9,      /* 0-byte Opus packet (use process_lost) */
  CC_TRANSCODE_ERR_PACKET_TOO_LARGE = -10, /* Opus packet over CC_OPUS_MAX_PACKET_IN bytes */
  CC_TRANSCODE_ERR_OUTPUT_TOO_SMALL = -11, /* output buffers below the max_output_* bounds */
  CC_TRANSCODE_ERR_OPUS = -12,             /* other libopus failure (internal) */
  CC_TRANSCODE_ERR_RESAMPLER = -13,        /* resampler failure (internal) */
  CC_TRANSCODE_ERR_ALLOC = -14,            /* out of memory at create */
  CC_TRANSCODE_ERR_BAD_SETTING = -15       /* Opus encoder settings out of range */
} cc_transcode_status;

typedef struct cc_transcode_output {
  uint8_t *data;        /* caller's buffer */
  size_t cap;           /* its size in bytes, >= cc_transcoder_max_output_bytes() */
  uint32_t *frame_lens; /* caller's array, one entry per output frame */
  size_t frame_lens_cap;/* >= cc_transcoder_max_output_frames() */
  size_t len;           /* out: bytes written */
  size_t n_frames;      /* out: frames written */
} cc_transcode_output;

const char *cc_transcode_status_name(int status);
/* Fills zero fields with the IDL defaults (opus, 48000 Hz, 1 channel, 20 ms). */
cc_audio_shape cc_audio_shape_normalize(cc_audio_shape s);
/* Validates a (normalized) shape. */
cc_transcode_status cc_audio_shape_validate(const cc_audio_shape *s);
/* Bytes of one frame for pcm16/G.711 shapes; 0 for Opus (variable). */
size_t cc_audio_shape_frame_bytes(const cc_audio_shape *s);

typedef struct cc_transcoder cc_transcoder;

/* opus_settings may be NULL (cc_opus_encoder_settings_default()); used when out is Opus. */
cc_transcode_status cc_transcoder_create(const cc_audio_shape *in, const cc_audio_shape *out,
                                         const cc_opus_encoder_settings *opus_settings,
                                         cc_transcoder **t);
void cc_transcoder_destroy(cc_transcoder *t);
size_t cc_transcoder_max_output_bytes(const cc_transcoder *t);
size_t cc_transcoder_max_output_frames(const cc_transcoder *t);
int cc_transcoder_is_passthrough(const cc_transcoder *t);
cc_transcode_status cc_transcoder_process(cc_transcoder *t, const uint8_t *in, size_t in_len,
                                          cc_transcode_output *out);
/* next_packet may be NULL (PLC); else FEC from it (Opus input only; ignored otherwise). */
cc_transcode_status cc_transcoder_process_lost(cc_transcoder *t, const uint8_t *next_packet,
                                               size_t next_len, cc_transcode_output *out);
cc_transcode_status cc_transcoder_flush(cc_transcoder *t, cc_transcode_output *out);
/* Back to the state right after create (codec, resampler and FIFO state dropped), e.g. after a
 * hold/resume or a jitter-buffer reset. */
void cc_transcoder_reset(cc_transcoder *t);

#ifdef __cplusplus
} /* extern "C" */

#include <memory>
#include <vector>

#include "resample/resampler.h"

namespace clutchcall::transcode {

using Shape = cc_audio_shape;
using Output = cc_transcode_output;

class Transcoder {
 public:
  static std::unique_ptr<Transcoder> create(const Shape &in, const Shape &out,
                                            const cc_opus_encoder_settings &opus_settings,
                                            cc_transcode_status *status) noexcept;
  Transcoder(const Transcoder &) = delete;
  Transcoder &operator=(const Transcoder &) = delete;
  ~Transcoder();

  size_t max_output_bytes() const noexcept { return max_frames_ * max_frame_bytes_; }
  size_t max_output_frames() const noexcept { return max_frames_; }
  bool passthrough() const noexcept { return passthrough_; }
  const Shape &in_shape() const noexcept { return in_; }
  const Shape &out_shape() const noexcept { return out_; }

  cc_transcode_status process(const uint8_t *in, size_t in_len, Output *out) noexcept;
  cc_transcode_status process_lost(const uint8_t *next_packet, size_t next_len,
                                   Output *out) noexcept;
  cc_transcode_status flush(Output *out) noexcept;
  void reset() noexcept;

 private:
  Transcoder() = default;
  cc_transcode_status check_output(Output *out) const noexcept;
  // Decoded input frames (in_.channels interleaved, dec_ buffer) -> FIFO -> encoded frames.
  cc_transcode_status push_decoded(size_t frames, Output *out) noexcept;
  cc_transcode_status push_work(const int16_t *pcm, size_t frames) noexcept;
  cc_transcode_status drain(Output *out, bool pad) noexcept;
  cc_transcode_status encode_frame(const int16_t *pcm, Output *out) noexcept;

  Shape in_{}, out_{};
  bool passthrough_ = false;
  uint32_t work_channels_ = 1;  // channels between downmix and upmix
  size_t in_frame_ = 0, out_frame_ = 0, max_in_frames_ = 0;
  size_t max_frames_ = 0, max_frame_bytes_ = 0;
  std::unique_ptr<opus::Decoder> dec_;
  std::unique_ptr<opus::Encoder> enc_;
  std::unique_ptr<resample::Resampler> rs_;
  std::vector<int16_t> decoded_, resampled_, fifo_;
  size_t fifo_frames_ = 0;  // frames (out_.channels interleaved) held in fifo_
};

}  // namespace clutchcall::transcode
#endif

#endif /* CLUTCHCALL_CORE_TRANSCODE_TRANSCODER_H */
