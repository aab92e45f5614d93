/* Opus encode/decode through libopus, one encoder or decoder object per session (per stream).
 *
 * Invariants:
 *   - Sample rates 8000, 12000, 16000, 24000, 48000 Hz; channels 1 or 2; PCM int16 interleaved.
 *   - Encoder: application VOIP; a fixed frame duration of 10, 20, 40 or 60 ms chosen at create;
 *     encode() takes exactly one frame (rate * frame_ms / 1000 frames) and writes one packet of
 *     at most CC_OPUS_MAX_PACKET bytes. With DTX on, a packet of 1..2 bytes means "silence, the
 *     sender may skip it"; the decoder still accepts it.
 *   - Decoder: accepts any valid packet (2.5 .. 120 ms); out_cap must hold the packet's
 *     duration (cc_opus_packet_frames() tells it without decoding; CC_OPUS_MAX_FRAME_FRAMES at
 *     48 kHz always suffices). A lost packet is concealed with decode_lost() (PLC) for a duration
 *     that is a multiple of 2.5 ms, or recovered from the next packet's in-band FEC with
 *     decode_fec() (falls back to PLC inside libopus when the next packet carries no FEC).
 *   - libopus errors map 1:1 to named codes (CC_OPUS_ERR_BAD_ARG .. CC_OPUS_ERR_ALLOC have
 *     libopus's values); our own argument checks have their own codes. Never throws.
 *   - No allocation after create; no global state.
 *   - Threads: one object, one thread at a time; distinct objects are independent. To share one
 *     between threads, wrap it in clutchcall::Shared (shared/shared.h), as the bindings do.
 */
#ifndef CLUTCHCALL_CORE_OPUS_OPUS_CODEC_H
#define CLUTCHCALL_CORE_OPUS_OPUS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cc_opus_status {
  CC_OPUS_OK = 0,
  /* libopus's own errors, same numbers as OPUS_BAD_ARG .. OPUS_ALLOC_FAIL. */
  CC_OPUS_ERR_BAD_ARG = -1,
  CC_OPUS_ERR_BUFFER_TOO_SMALL = -2,
  CC_OPUS_ERR_INTERNAL = -3,
  CC_OPUS_ERR_INVALID_PACKET = -4,
  CC_OPUS_ERR_UNIMPLEMENTED = -5,
  CC_OPUS_ERR_INVALID_STATE = -6,
  CC_OPUS_ERR_ALLOC = -7,
  /* Checks done before libopus is called. */
  CC_OPUS_ERR_NULL_ARG = -100,
  CC_OPUS_ERR_BAD_RATE = -101,        /* not 8/12/16/24/48 kHz */
  CC_OPUS_ERR_BAD_CHANNELS = -102,    /* not 1 or 2 */
  CC_OPUS_ERR_BAD_FRAME_MS = -103,    /* encoder frame not 10/20/40/60 ms */
  CC_OPUS_ERR_BAD_FRAME_SIZE = -104,  /* encode input not exactly one frame; PLC not n*2.5 ms */
  CC_OPUS_ERR_BAD_SETTING = -105,     /* bitrate/complexity/loss percentage out of range */
  CC_OPUS_ERR_EMPTY_PACKET = -106,    /* decode() of 0 bytes (use decode_lost for a gap) */
  CC_OPUS_ERR_PACKET_TOO_LARGE = -107 /* more than CC_OPUS_MAX_PACKET_IN bytes */
} cc_opus_status;

enum {
  CC_OPUS_MAX_PACKET = 4000,       /* encoder output bound (libopus's recommendation) */
  CC_OPUS_MAX_PACKET_IN = 7680,    /* input bound: 120 ms at Opus's 510 kbit/s ceiling + header */
  CC_OPUS_MAX_FRAME_FRAMES = 5760, /* 120 ms at 48 kHz: the longest packet's duration */
  CC_OPUS_BITRATE_AUTO = -1000,    /* OPUS_AUTO */
  CC_OPUS_BITRATE_MAX = -1         /* OPUS_BITRATE_MAX */
};

typedef struct cc_opus_encoder_settings {
  int32_t bitrate;         /* bits/s, 6000..510000, or CC_OPUS_BITRATE_AUTO / _MAX */
  int32_t complexity;      /* 0..10 */
  int32_t fec;             /* 0/1: in-band forward error correction */
  int32_t packet_loss_pct; /* 0..100: expected loss, tunes FEC */
  int32_t dtx;             /* 0/1: discontinuous transmission */
} cc_opus_encoder_settings;

/* VoIP defaults: 32 kbit/s, complexity 5, FEC on with 5% expected loss, DTX off. */
cc_opus_encoder_settings cc_opus_encoder_settings_default(void);
const char *cc_opus_status_name(int status);
int cc_opus_rate_supported(uint32_t rate);

typedef struct cc_opus_encoder cc_opus_encoder;
typedef struct cc_opus_decoder cc_opus_decoder;

/* settings may be NULL (defaults). */
cc_opus_status cc_opus_encoder_create(uint32_t rate, uint32_t channels, uint32_t frame_ms,
                                      const cc_opus_encoder_settings *settings,
                                      cc_opus_encoder **out);
void cc_opus_encoder_destroy(cc_opus_encoder *e);
/* Samples per channel of one frame. */
size_t cc_opus_encoder_frame_frames(const cc_opus_encoder *e);
cc_opus_status cc_opus_encoder_apply(cc_opus_encoder *e, const cc_opus_encoder_settings *s);
/* pcm: exactly frame_frames * channels samples. */
cc_opus_status cc_opus_encode(cc_opus_encoder *e, const int16_t *pcm, size_t frames,
                              uint8_t *packet, size_t cap, size_t *packet_len);
/* Encoder lookahead (algorithmic delay) in frames at the encoder's rate. */
size_t cc_opus_encoder_lookahead(const cc_opus_encoder *e);
cc_opus_status cc_opus_encoder_reset(cc_opus_encoder *e);

cc_opus_status cc_opus_decoder_create(uint32_t rate, uint32_t channels, cc_opus_decoder **out);
void cc_opus_decoder_destroy(cc_opus_decoder *d);
cc_opus_status cc_opus_decode(cc_opus_decoder *d, const uint8_t *packet, size_t len, int16_t *pcm,
                              size_t cap_frames, size_t *frames);
/* Conceal `frames` lost frames (multiple of 2.5 ms, at most 120 ms). */
cc_opus_status cc_opus_decode_lost(cc_opus_decoder *d, size_t frames, int16_t *pcm,
                                   size_t cap_frames, size_t *out_frames);
/* Recover `frames` lost frames from the FEC data in the packet that FOLLOWS the gap; then decode
 * that packet itself normally with cc_opus_decode. */
cc_opus_status cc_opus_decode_fec(cc_opus_decoder *d, const uint8_t *next_packet, size_t len,
                                  size_t frames, int16_t *pcm, size_t cap_frames,
                                  size_t *out_frames);
cc_opus_status cc_opus_decoder_reset(cc_opus_decoder *d);
/* Duration of a packet in frames at `rate`, without decoding (validates the TOC and framing).
 * Returns CC_OPUS_OK and sets *frames, or CC_OPUS_ERR_INVALID_PACKET. */
cc_opus_status cc_opus_packet_frames(const uint8_t *packet, size_t len, uint32_t rate,
                                     size_t *frames);

#ifdef __cplusplus
} /* extern "C" */

#include <memory>

struct OpusEncoder;
struct OpusDecoder;

namespace clutchcall::opus {

using Settings = cc_opus_encoder_settings;

class Encoder {
 public:
  static std::unique_ptr<Encoder> create(uint32_t rate, uint32_t channels, uint32_t frame_ms,
                                         const Settings &settings, cc_opus_status *status) noexcept;
  ~Encoder();
  Encoder(const Encoder &) = delete;
  Encoder &operator=(const Encoder &) = delete;

  cc_opus_status apply(const Settings &s) noexcept;
  cc_opus_status encode(const int16_t *pcm, size_t frames, uint8_t *packet, size_t cap,
                        size_t *packet_len) noexcept;
  cc_opus_status reset() noexcept;
  size_t lookahead() const noexcept;
  size_t frame_frames() const noexcept { return rate_ / 1000 * frame_ms_; }
  uint32_t rate() const noexcept { return rate_; }
  uint32_t channels() const noexcept { return channels_; }
  uint32_t frame_ms() const noexcept { return frame_ms_; }

 private:
  Encoder(OpusEncoder *e, uint32_t rate, uint32_t channels, uint32_t frame_ms) noexcept
      : enc_(e), rate_(rate), channels_(channels), frame_ms_(frame_ms) {}
  OpusEncoder *enc_;
  uint32_t rate_, channels_, frame_ms_;
};

class Decoder {
 public:
  static std::unique_ptr<Decoder> create(uint32_t rate, uint32_t channels,
                                         cc_opus_status *status) noexcept;
  ~Decoder();
  Decoder(const Decoder &) = delete;
  Decoder &operator=(const Decoder &) = delete;

  cc_opus_status decode(const uint8_t *packet, size_t len, int16_t *pcm, size_t cap_frames,
                        size_t *frames) noexcept;
  cc_opus_status decode_lost(size_t frames, int16_t *pcm, size_t cap_frames,
                             size_t *out_frames) noexcept;
  cc_opus_status decode_fec(const uint8_t *next_packet, size_t len, size_t frames, int16_t *pcm,
                            size_t cap_frames, size_t *out_frames) noexcept;
  cc_opus_status reset() noexcept;
  uint32_t rate() const noexcept { return rate_; }
  uint32_t channels() const noexcept { return channels_; }

 private:
  Decoder(OpusDecoder *d, uint32_t rate, uint32_t channels) noexcept
      : dec_(d), rate_(rate), channels_(channels) {}
  cc_opus_status run(const uint8_t *data, size_t len, int16_t *pcm, size_t cap_frames,
                     size_t *frames, int fec) noexcept;
  OpusDecoder *dec_;
  uint32_t rate_, channels_;
};

}  // namespace clutchcall::opus
#endif

#endif /* CLUTCHCALL_CORE_OPUS_OPUS_CODEC_H */
