/* clutchcall_core_ffi.h: the C ABI of the ClutchCall core (library clutchcall_core_ffi.so).
 *
 * One plain C surface for every runtime that is not CPython's pybind11 module: Go (cgo), Rust,
 * Java (FFM/JNA), .NET (P/Invoke), Node (N-API/ffi) and WebAssembly. It is a thin, checked layer
 * over the core's components; it adds no behaviour of its own.
 *
 * ABI RULES
 *   Naming      Every exported symbol starts with `cc_`; nothing else is exported (the library is
 *               linked with -fvisibility=hidden, --exclude-libs,ALL and a version script, symbol
 *               version CLUTCHCALL_CORE_FFI_1).
 *   Versioning  CC_FFI_VERSION_MAJOR/MINOR below describe this header; cc_ffi_version() returns
 *               (major << 16) | minor of the loaded library. A caller accepts the library when
 *               the majors are equal and the library's minor is >= the header's. Minor versions
 *               only ADD (functions, status codes, components); anything else bumps the major.
 *   Types       Only fixed-width integers, size_t, `const char *` (static strings), pointers to
 *               caller buffers and pointers to opaque handles. Structs hold integers only (no
 *               pointers; text as NUL-terminated fixed-size char arrays), so a runtime may move
 *               its buffers between calls. Enumerations travel as int32_t-sized C enums.
 *   Errors      Every fallible function returns cc_status: CC_OK (0) or a negative code naming
 *               the reason; cc_strerror() gives its static name ("ok", "buffer_too_small", ...).
 *               On an error nothing is written to output buffers and count out-parameters are
 *               set to 0, except that CC_ERR_BUFFER_TOO_SMALL from a variable-size result
 *               (the codec calls, cc_relay_call_ids, the cc_relay string getters) sets its
 *               length out-parameter to the size needed. The relay functions also leave a
 *               message naming the cause for cc_relay_last_error(). No C++ exception ever
 *               crosses this boundary: every entry point catches everything and returns
 *               CC_ERR_INTERNAL.
 *   Memory      The library never returns memory for the caller to free. Output goes to
 *               caller-provided buffers with an explicit capacity, in the unit its name says
 *               (`*_frames`: PCM frames; otherwise elements of the buffer's type, e.g. bytes
 *               for uint8_t); size queries say how much is needed. Stateful objects are opaque handles: cc_<object>_create() returns one
 *               through an out-parameter, cc_<object>_destroy() frees it (NULL is a no-op).
 *   Pointers    A pointer may be NULL only when its count/capacity is 0. int16_t buffers must be
 *               2-byte aligned. PCM is native-endian int16 (little-endian on every supported
 *               target), channels interleaved; "frames" count one sample per channel.
 *   Threading   Every handle is safe to share between threads (since 1.2): each call on a
 *               cc_resample, cc_opus_enc, cc_opus_dec, cc_transcode or cc_jbuf holds the
 *               handle's own mutex for its duration, so concurrent calls on one handle run one
 *               after another, each as if alone (a stream's order is then the order the calls
 *               took the lock: a caller that needs a particular order still orders its calls).
 *               Output (a jitter tick's payload included) is copied into the caller's buffers
 *               under that lock. cc_relay calls may run concurrently too; cc_relay_stop waits
 *               for the calls in progress, after which they answer CC_ERR_STOPPED. Only
 *               cc_<object>_destroy() must not overlap any other call on that handle. Functions
 *               without a handle are thread-safe. cc_simd_force() and cc_simd_reset() change a
 *               process-wide setting, atomically; calls already running finish on the old path.
 *
 * Everything between CC_FFI_CDEF_BEGIN and CC_FFI_CDEF_END is plain declarations that cffi
 * parses as is; bindings/cffi/clutchcall_core_ffi.py carries the same text (a test compares).
 */
#ifndef CLUTCHCALL_CORE_FFI_H
#define CLUTCHCALL_CORE_FFI_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define CC_FFI_API __declspec(dllexport)
#elif defined(__GNUC__)
#define CC_FFI_API __attribute__((visibility("default")))
#else
#define CC_FFI_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* CC_FFI_CDEF_BEGIN */
#define CC_FFI_VERSION_MAJOR 1
#define CC_FFI_VERSION_MINOR 3

typedef enum cc_status {
  CC_OK = 0,
  /* generic */
  CC_ERR_NULL_ARG = -1,          /* a required pointer was NULL */
  CC_ERR_INVALID_ARG = -2,       /* an argument is out of its documented range */
  CC_ERR_BUFFER_TOO_SMALL = -3,  /* an output capacity is below what the size query says */
  CC_ERR_UNSUPPORTED = -4,       /* not available in this build or on this CPU */
  CC_ERR_ALLOC = -5,             /* out of memory (only at create) */
  CC_ERR_INTERNAL = -6,          /* unexpected failure inside the library */
  /* audio shapes */
  CC_ERR_BAD_RATE = -10,         /* sample rate not 8000/12000/16000/24000/48000 */
  CC_ERR_BAD_CHANNELS = -11,     /* channels not 1 or 2 */
  CC_ERR_BAD_QUALITY = -12,      /* resampler quality outside 0..10 */
  CC_ERR_BAD_FRAME = -13,        /* frame duration or frame size not allowed */
  CC_ERR_INPUT_TOO_LARGE = -14,  /* more input than one call accepts */
  CC_ERR_BAD_SETTING = -15,      /* codec setting out of range */
  CC_ERR_BAD_CODEC = -16,        /* codec not opus/pcm16/g711_ulaw/g711_alaw */
  CC_ERR_BAD_SHAPE = -17,        /* shape not allowed for its codec (G.711: 8000 Hz mono only) */
  CC_ERR_INPUT_SIZE = -18,       /* input is not exactly one frame of its shape */
  /* codec data */
  CC_ERR_INVALID_PACKET = -20,   /* corrupt or unsupported codec packet */
  CC_ERR_EMPTY_PACKET = -21,     /* zero-length packet where one is required */
  CC_ERR_PACKET_TOO_LARGE = -22, /* packet longer than the codec allows */
  /* RTP */
  CC_ERR_TRUNCATED = -30,           /* shorter than the 12-byte fixed header */
  CC_ERR_BAD_VERSION = -31,         /* RTP version is not 2 */
  CC_ERR_TRUNCATED_CSRC = -32,      /* CC announces more CSRCs than there are bytes */
  CC_ERR_TRUNCATED_EXTENSION = -33, /* X set but the extension runs past the end */
  CC_ERR_BAD_PADDING = -34,         /* P set with count 0 or more than the room left */
  /* generated codecs (the IDL's wire.errors; "truncated" is CC_ERR_TRUNCATED) */
  CC_ERR_UNKNOWN_NAME = -40,        /* no such stream, struct or message */
  CC_ERR_VARINT_OVERLONG = -41,
  CC_ERR_LENGTH_PAST_END = -42,
  CC_ERR_BAD_WIRE_TYPE = -43,
  CC_ERR_INVALID_FIELD_NUMBER = -44,
  CC_ERR_INVALID_UTF8 = -45,
  CC_ERR_TOO_LARGE = -46,
  CC_ERR_TOO_DEEP = -47,
  CC_ERR_INVALID_VALUE = -48,
  CC_ERR_UNKNOWN_TYPE = -49,
  CC_ERR_TRAILING_BYTES = -50,
  CC_ERR_INVALID_JSON = -51,
  /* relay engine (cc_relay_last_error() says why) */
  CC_ERR_UNKNOWN_CALL = -60,        /* no call with that id */
  CC_ERR_START_FAILED = -61,        /* no backend could start, or the engine refused the config */
  CC_ERR_CALL_REFUSED = -62,        /* the engine refused the call (duplicate id or port, ...) */
  CC_ERR_STOPPED = -63              /* the engine was stopped (cc_relay_stop) */
} cc_status;

/* (CC_FFI_VERSION_MAJOR << 16) | CC_FFI_VERSION_MINOR of the loaded library. */
CC_FFI_API uint32_t cc_ffi_version(void);
/* 1 if the component ("g711", "resample", "opus", ...) is built into this library, else 0. */
CC_FFI_API int32_t cc_ffi_has(const char *component);
/* Static name of a status ("ok", "null_arg", "buffer_too_small", ...); "unknown" otherwise. */
CC_FFI_API const char *cc_strerror(cc_status status);

/* ---- G.711 (bit-exact to ITU-T G.191) ----
 * n inputs -> n outputs; out_cap is the output capacity in elements (must be >= n).
 * Encode/decode buffers must not overlap; the code-to-code conversions may run in place. */
CC_FFI_API cc_status cc_ulaw_encode(const int16_t *pcm, size_t n, uint8_t *out, size_t out_cap);
CC_FFI_API cc_status cc_ulaw_decode(const uint8_t *codes, size_t n, int16_t *out, size_t out_cap);
CC_FFI_API cc_status cc_alaw_encode(const int16_t *pcm, size_t n, uint8_t *out, size_t out_cap);
CC_FFI_API cc_status cc_alaw_decode(const uint8_t *codes, size_t n, int16_t *out, size_t out_cap);
CC_FFI_API cc_status cc_ulaw_to_alaw(const uint8_t *ulaw, size_t n, uint8_t *out, size_t out_cap);
CC_FFI_API cc_status cc_alaw_to_ulaw(const uint8_t *alaw, size_t n, uint8_t *out, size_t out_cap);
/* SIMD path in use: "avx512bw", "avx2", "sse4.1" or "scalar". */
CC_FFI_API const char *cc_simd_level(void);
/* 1 if the named path can run here, else 0 (also for unknown names). */
CC_FFI_API int32_t cc_simd_supported(const char *name);
/* Force a path (tests, benchmarks): CC_ERR_INVALID_ARG for an unknown name, CC_ERR_UNSUPPORTED
 * if this CPU/build cannot run it (nothing changes then). */
CC_FFI_API cc_status cc_simd_force(const char *name);
/* Back to the best path the CPU supports. */
CC_FFI_API void cc_simd_reset(void);

/* ---- Resampler (speexdsp), one handle per stream ----
 * Rates 8000/12000/16000/24000/48000, channels 1|2, quality 0..10 (3: VoIP). Frame-by-frame output
 * equals whole-buffer output; the output lags by the filter latency, drained by flush(). */
typedef struct cc_resample cc_resample;
CC_FFI_API cc_status cc_resample_create(uint32_t in_rate, uint32_t out_rate, uint32_t channels,
                                        int32_t quality, cc_resample **out);
CC_FFI_API void cc_resample_destroy(cc_resample *r);
/* Output frames that process() of in_frames frames (or flush(), in_frames = 0) may write: a
 * bound that holds at every rate pair, quality and filter state. */
CC_FFI_API cc_status cc_resample_max_output(const cc_resample *r, size_t in_frames, size_t *frames);
CC_FFI_API cc_status cc_resample_process(cc_resample *r, const int16_t *in, size_t in_frames,
                                         int16_t *out, size_t out_cap_frames, size_t *out_frames);
CC_FFI_API cc_status cc_resample_flush(cc_resample *r, int16_t *out, size_t out_cap_frames,
                                       size_t *out_frames);
CC_FFI_API cc_status cc_resample_reset(cc_resample *r);

/* ---- Opus (libopus), one encoder/decoder handle per session ---- */
#define CC_FFI_OPUS_MAX_PACKET 4000    /* encoder output bound, bytes */
#define CC_FFI_OPUS_MAX_FRAMES 5760    /* longest packet (120 ms) at 48 kHz, frames */
typedef struct cc_opus_settings {
  int32_t bitrate;         /* bits/s 6000..510000, or -1000 (auto) / -1 (max) */
  int32_t complexity;      /* 0..10 */
  int32_t fec;             /* 0|1 in-band FEC */
  int32_t packet_loss_pct; /* 0..100 */
  int32_t dtx;             /* 0|1 */
} cc_opus_settings;
/* VoIP defaults: 32 kbit/s, complexity 5, FEC on at 5% loss, DTX off. */
CC_FFI_API void cc_opus_settings_default(cc_opus_settings *out);
typedef struct cc_opus_enc cc_opus_enc;
/* frame_ms 10|20|40|60; settings may be NULL (defaults). */
CC_FFI_API cc_status cc_opus_enc_create(uint32_t rate, uint32_t channels, uint32_t frame_ms,
                                        const cc_opus_settings *settings, cc_opus_enc **out);
CC_FFI_API void cc_opus_enc_destroy(cc_opus_enc *e);
/* Frames (samples per channel) of one encoder frame. */
CC_FFI_API cc_status cc_opus_enc_frame_frames(const cc_opus_enc *e, size_t *frames);
/* pcm holds exactly one frame; packet_cap >= CC_FFI_OPUS_MAX_PACKET always suffices. */
CC_FFI_API cc_status cc_opus_enc_encode(cc_opus_enc *e, const int16_t *pcm, size_t frames,
                                        uint8_t *packet, size_t packet_cap, size_t *packet_len);
CC_FFI_API cc_status cc_opus_enc_reset(cc_opus_enc *e);
typedef struct cc_opus_dec cc_opus_dec;
CC_FFI_API cc_status cc_opus_dec_create(uint32_t rate, uint32_t channels, cc_opus_dec **out);
CC_FFI_API void cc_opus_dec_destroy(cc_opus_dec *d);
CC_FFI_API cc_status cc_opus_dec_decode(cc_opus_dec *d, const uint8_t *packet, size_t len,
                                        int16_t *pcm, size_t cap_frames, size_t *frames);
/* Packet-loss concealment for `frames` lost frames (a multiple of 2.5 ms, at most 120 ms). */
CC_FFI_API cc_status cc_opus_dec_conceal(cc_opus_dec *d, size_t frames, int16_t *pcm,
                                         size_t cap_frames, size_t *out_frames);
CC_FFI_API cc_status cc_opus_dec_reset(cc_opus_dec *d);
/* Duration of a packet in frames at `rate`, without decoding (validates the framing). */
CC_FFI_API cc_status cc_opus_packet_duration(const uint8_t *packet, size_t len, uint32_t rate,
                                             size_t *frames);

/* ---- Transcoder between two audio shapes of the IDL, frame by frame ----
 * codec: 1 opus, 2 pcm16 (little-endian), 3 g711_ulaw, 4 g711_alaw (the IDL enum Codec; 0 and
 * zero fields take the IDL defaults opus/48000/1/20). Each call writes 0..n output frames back to
 * back into `out`, frame i being frame_lens[i] bytes; the buffers must be at least what
 * cc_transcode_max_output() says (checked before anything changes). */
typedef struct cc_shape {
  uint32_t codec;
  uint32_t sample_rate;
  uint32_t channels;
  uint32_t frame_ms;
} cc_shape;
typedef struct cc_transcode cc_transcode;
/* opus_settings may be NULL (defaults); used when the output is Opus. */
CC_FFI_API cc_status cc_transcode_create(const cc_shape *in, const cc_shape *out,
                                         const cc_opus_settings *opus_settings, cc_transcode **t);
CC_FFI_API void cc_transcode_destroy(cc_transcode *t);
CC_FFI_API cc_status cc_transcode_max_output(const cc_transcode *t, size_t *bytes, size_t *frames);
/* 1 if the shapes are identical (input copied through unchanged), else 0. */
CC_FFI_API int32_t cc_transcode_is_passthrough(const cc_transcode *t);
CC_FFI_API cc_status cc_transcode_process(cc_transcode *t, const uint8_t *in, size_t in_len,
                                          uint8_t *out, size_t out_cap, uint32_t *frame_lens,
                                          size_t frame_lens_cap, size_t *out_len,
                                          size_t *out_frames);
/* One lost input frame: PLC, or FEC from next_packet when given (Opus input). */
CC_FFI_API cc_status cc_transcode_process_lost(cc_transcode *t, const uint8_t *next_packet,
                                               size_t next_len, uint8_t *out, size_t out_cap,
                                               uint32_t *frame_lens, size_t frame_lens_cap,
                                               size_t *out_len, size_t *out_frames);
/* End of stream: drain the resampler, pad the last partial frame with silence. */
CC_FFI_API cc_status cc_transcode_flush(cc_transcode *t, uint8_t *out, size_t out_cap,
                                        uint32_t *frame_lens, size_t frame_lens_cap,
                                        size_t *out_len, size_t *out_frames);

/* ---- RTP (RFC 3550) header parse and build ----
 * A parsed packet refers to its parts by byte OFFSETS into the caller's buffer (no pointers). */
typedef struct cc_rtp_info {
  uint8_t marker;
  uint8_t payload_type;   /* 0..127 */
  uint8_t csrc_count;     /* 0..15 */
  uint8_t has_extension;
  uint8_t has_padding;
  uint8_t padding_len;    /* trailing bytes incl. the count byte */
  uint16_t sequence;
  uint32_t timestamp;
  uint32_t ssrc;
  uint32_t csrc[15];      /* host order; csrc_count used */
  uint16_t ext_profile;   /* 0 without extension */
  uint32_t ext_offset;    /* extension body (after its 4-byte header) */
  uint32_t ext_len;       /* bytes, a multiple of 4 */
  uint32_t payload_offset;
  uint32_t payload_len;
  uint32_t header_len;
} cc_rtp_info;
/* Packets longer than 65535 bytes are CC_ERR_INPUT_TOO_LARGE. */
CC_FFI_API cc_status cc_rtp_read(const uint8_t *data, size_t len, cc_rtp_info *out);
typedef struct cc_rtp_fields {
  uint8_t marker;
  uint8_t payload_type;   /* 0..127 */
  uint8_t csrc_count;     /* 0..15 */
  uint8_t has_extension;  /* 1: write an extension (ext_profile + ext bytes, even if empty) */
  uint8_t padding_len;    /* 0: none; else P=1 and this many trailing bytes */
  uint16_t sequence;
  uint16_t ext_profile;
  uint32_t timestamp;
  uint32_t ssrc;
  uint32_t csrc[15];
} cc_rtp_fields;
/* Bytes cc_rtp_write would write (ext_len a multiple of 4). */
CC_FFI_API cc_status cc_rtp_write_size(const cc_rtp_fields *fields, size_t ext_len,
                                       size_t payload_len, size_t *size);
CC_FFI_API cc_status cc_rtp_write(const cc_rtp_fields *fields, const uint8_t *ext, size_t ext_len,
                                  const uint8_t *payload, size_t payload_len, uint8_t *out,
                                  size_t cap, size_t *written);

/* ---- Adaptive jitter buffer for one RTP stream ----
 * insert() on each arrival, tick() once per frame period: each tick yields a FRAME (in sequence
 * order), a LOSS (run PLC; the sequence number is consumed) or WAIT (buffering). */
typedef struct cc_jbuf_config {
  uint32_t capacity;            /* slots, power of two 16..32768 (128) */
  uint32_t max_payload;         /* bytes per slot 1..65535 (1500); capacity x max_payload bytes
                                   are reserved, resident only as payloads are stored */
  uint32_t clock_rate;          /* RTP clock, Hz (8000) */
  uint32_t frame_ms;            /* tick period (20) */
  uint32_t min_depth;           /* frames (2) */
  uint32_t max_depth;           /* frames (6) */
  uint32_t initial_depth;       /* frames (3) */
  uint32_t reset_threshold;     /* packets (100): larger jumps restart the stream */
  uint32_t decrease_hold_ticks; /* (50) */
  uint32_t shrink_window_ticks; /* (50) */
} cc_jbuf_config;
CC_FFI_API void cc_jbuf_config_default(cc_jbuf_config *out);
typedef struct cc_jbuf cc_jbuf;
/* config may be NULL (defaults); an invalid config is CC_ERR_INVALID_ARG. */
CC_FFI_API cc_status cc_jbuf_create(const cc_jbuf_config *config, cc_jbuf **out);
/* Since 1.3: as cc_jbuf_create, with the quantile of the packets' relative delay that the target
 * depth covers, in permille 500..999 (cc_jbuf_create uses 990). A separate entry point, not a
 * cc_jbuf_config field, so that 1.2 callers' struct keeps its size. */
CC_FFI_API cc_status cc_jbuf_create_quantile(const cc_jbuf_config *config,
                                             uint32_t target_quantile_permille, cc_jbuf **out);
CC_FFI_API void cc_jbuf_destroy(cc_jbuf *jb);
/* Insert outcomes (*outcome): 0 inserted, 1 inserted after a reset, 2 duplicate, 3 late.
 * A payload over max_payload is CC_ERR_INPUT_TOO_LARGE (counted as rejected). */
CC_FFI_API cc_status cc_jbuf_insert(cc_jbuf *jb, uint16_t sequence, uint32_t timestamp,
                                    uint32_t ssrc, uint8_t marker, const uint8_t *payload,
                                    size_t len, int64_t arrival_us, int32_t *outcome);
/* Parse an RTP packet (cc_rtp_read's errors) and insert its payload. */
CC_FFI_API cc_status cc_jbuf_insert_rtp(cc_jbuf *jb, const uint8_t *packet, size_t len,
                                        int64_t arrival_us, int32_t *outcome);
typedef struct cc_jbuf_frame {
  int32_t kind;          /* 0 FRAME, 1 LOSS, 2 WAIT */
  uint8_t marker;        /* FRAME */
  uint16_t sequence;     /* FRAME, LOSS */
  uint32_t timestamp;    /* FRAME */
  int64_t ext_seq;       /* FRAME, LOSS: extended sequence number since the last reset */
  uint32_t payload_len;  /* FRAME: bytes copied to the payload buffer */
} cc_jbuf_frame;
/* One playout tick; payload_cap must be >= max_payload (checked before the tick). */
CC_FFI_API cc_status cc_jbuf_tick(cc_jbuf *jb, uint8_t *payload, size_t payload_cap,
                                  cc_jbuf_frame *out);
CC_FFI_API cc_status cc_jbuf_reset(cc_jbuf *jb);
typedef struct cc_jbuf_stats {
  uint64_t received;
  uint64_t released;
  uint64_t losses;
  uint64_t late_losses;
  uint64_t duplicates;
  uint64_t resets;
  uint64_t reset_dropped;
  uint64_t discarded;
  uint64_t rejected;
  uint64_t underruns;
  uint64_t stretches;
  uint64_t ticks;
  uint32_t buffered;
  uint32_t target_depth;
  uint32_t depth;
  uint32_t delay_ms;
  uint32_t jitter;       /* RFC 3550 A.8, timestamp units */
  uint32_t jitter_us;
} cc_jbuf_stats;
CC_FFI_API cc_status cc_jbuf_get_stats(const cc_jbuf *jb, cc_jbuf_stats *out);

/* ---- Generated codecs (MoQT draft-14, RPC envelope, DTOs), values as UTF-8 JSON text ----
 * Names: streams "moqt_d14.control" / "moqt_d14.data" / "moqt_d14.datagram", wire structs
 * "protocol.Struct" (e.g. "moqt_d14.Subscribe", "envelope.Envelope"), DTO messages by IDL name.
 * `args` are a wire struct's stream arguments (0/1 bytes) in declared order. JSON output is not
 * NUL-terminated; with too small a buffer the call returns CC_ERR_BUFFER_TOO_SMALL and sets the
 * length to the size needed (call with cap 0 to ask). */
CC_FFI_API cc_status cc_codec_parse_stream(const char *stream, const uint8_t *data, size_t len,
                                           size_t chunk, char *json, size_t json_cap,
                                           size_t *json_len);
CC_FFI_API cc_status cc_codec_decode_struct(const char *name, const uint8_t *data, size_t len,
                                            const uint8_t *args, size_t nargs, char *json,
                                            size_t json_cap, size_t *json_len);
CC_FFI_API cc_status cc_codec_encode_struct(const char *name, const char *json, size_t json_len,
                                            const uint8_t *args, size_t nargs, uint8_t *out,
                                            size_t out_cap, size_t *out_len);
CC_FFI_API cc_status cc_codec_message_to_json(const char *name, const uint8_t *data, size_t len,
                                              char *json, size_t json_cap, size_t *json_len);
CC_FFI_API cc_status cc_codec_message_from_json(const char *name, const char *json,
                                                size_t json_len, uint8_t *out, size_t out_cap,
                                                size_t *out_len);
/* ---- RTP relay engine (core/relay): shards relaying calls over AF_XDP, io_uring or recvmmsg ----
 * The packets never touch the caller: the shards run in their own threads. The control calls
 * below mirror clutchcall_core.relay.Engine. Every fallible cc_relay_* function also records,
 * per thread, a message saying why it failed (the engine's own text, or the argument's name),
 * which cc_relay_last_error() copies out; a successful call clears it. */
#define CC_RELAY_IFNAME_MAX 16  /* bytes of cc_relay_config.ifname, NUL included (IFNAMSIZ) */
#define CC_RELAY_MAX_CPUS 256   /* entries of cc_relay_config.cpus */
#define CC_RELAY_IP_MAX 46      /* bytes of an IP text field, NUL included (INET6_ADDRSTRLEN) */
typedef enum cc_relay_backend_kind {
  CC_RELAY_AUTO = 0,      /* AF_XDP on ifname, else io_uring, else recvmmsg */
  CC_RELAY_AF_XDP = 1,
  CC_RELAY_IO_URING = 2,
  CC_RELAY_RECVMMSG = 3
} cc_relay_backend_kind;
typedef struct cc_relay_config {
  int32_t backend;          /* cc_relay_backend_kind (CC_RELAY_AUTO) */
  char ifname[16];          /* AF_XDP interface, NUL-terminated ("") */
  uint16_t port_lo;         /* RTP port range, inclusive (16384..32767) */
  uint16_t port_hi;
  uint32_t shards;          /* 0: one per CPU in cpus (0) */
  uint8_t busy_poll;        /* 0|1: spin instead of waiting when idle (0) */
  uint8_t pin;              /* 0|1: pin shard i to cpus[i % cpu_count] (1) */
  uint32_t cpu_count;       /* 0..CC_RELAY_MAX_CPUS; 0: the process's affinity mask (0) */
  int32_t cpus[256];        /* cpu_count used; each in the affinity mask, once; needs pin */
  uint32_t max_calls;       /* 1..16777216 (16384); slots are allocated as calls arrive */
  uint32_t handoff_depth;   /* frags in flight toward one shard from all others, a power of
                               two in 16..262144, >= 16 x (shards - 1 rounded up to a power
                               of two); rings take ~shards x handoff_depth x 2 KiB (4096) */
  uint32_t xsk_rx_frames;   /* AF_XDP UMEM frames per queue, power of two 64..262144; 0: default */
  uint32_t xsk_tx_frames;
} cc_relay_config;
/* The defaults in parentheses above (those of clutchcall_core.relay.Engine). */
CC_FFI_API void cc_relay_config_default(cc_relay_config *out);
typedef struct cc_relay cc_relay;
/* Starts the shards. A bad field is CC_ERR_INVALID_ARG, a config the engine refuses or no usable
 * backend CC_ERR_START_FAILED; cc_relay_last_error() has the reason either way. */
CC_FFI_API cc_status cc_relay_start(const cc_relay_config *config, cc_relay **out);
/* Stops the shards and detaches from the interface (idempotent); the handle stays valid, its
 * getters keep answering and everything else is CC_ERR_STOPPED. */
CC_FFI_API cc_status cc_relay_stop(cc_relay *r);
/* Stops if needed and frees the handle (NULL is a no-op). */
CC_FFI_API void cc_relay_destroy(cc_relay *r);
/* Copies the calling thread's last relay error message (not NUL-terminated; "" after a
 * success) into buf; with too small a buffer, CC_ERR_BUFFER_TOO_SMALL and *len = size needed. */
CC_FFI_API cc_status cc_relay_last_error(char *buf, size_t cap, size_t *len);
/* Static name of the backend running: "af_xdp", "io_uring" or "recvmmsg" ("" for NULL). */
CC_FFI_API const char *cc_relay_backend(const cc_relay *r);
/* Why a preferred backend was skipped ("" when the requested one runs) and, for AF_XDP, the
 * attach and bind mode ("native, copy", ...; "" otherwise): the variable-size convention. */
CC_FFI_API cc_status cc_relay_fallback_reason(const cc_relay *r, char *buf, size_t cap,
                                              size_t *len);
CC_FFI_API cc_status cc_relay_xdp_mode(const cc_relay *r, char *buf, size_t cap, size_t *len);
CC_FFI_API cc_status cc_relay_shard_count(const cc_relay *r, uint32_t *count);
/* One leg of a call. Audio fields take cc_shape's codec ids; zero fields: codec opus, rate 48000
 * for Opus and 8000 otherwise, 1 channel, 20 ms. */
typedef struct cc_relay_leg {
  char local_ip[46];        /* ours, NUL-terminated text ("127.0.0.1", "::1") */
  uint16_t local_port;      /* within the engine's port range, unique within the engine */
  char remote_ip[46];       /* the peer; "": the unspecified address of local_ip's family */
  uint16_t remote_port;     /* 0: latch from the first packet */
  uint32_t codec;
  uint32_t sample_rate;
  uint32_t channels;
  uint32_t frame_ms;
  uint8_t payload_type;     /* 0..127: the PT we send on this leg when transcoding */
} cc_relay_leg;
/* Zeroed, then G.711 mu-law 8000 Hz mono 20 ms (clutchcall_core.relay.Leg's defaults). */
CC_FFI_API void cc_relay_leg_default(cc_relay_leg *out);
/* A bad leg field is CC_ERR_INVALID_ARG ("a.local_ip: ..."), a call the engine refuses
 * (duplicate id or port, port outside the range, no free slot, bad shape, port not bindable)
 * CC_ERR_CALL_REFUSED. */
CC_FFI_API cc_status cc_relay_add_call(cc_relay *r, uint64_t id, const cc_relay_leg *a,
                                       const cc_relay_leg *b);
typedef struct cc_relay_leg_stats {
  uint64_t rx_packets;
  uint64_t rx_bytes;
  uint64_t tx_packets;
  uint64_t tx_bytes;
  uint64_t malformed;        /* not RTP */
  uint64_t foreign_source;   /* from someone other than the peer */
  uint64_t tx_dropped;
  uint64_t ssrc_changes;
  uint64_t late_losses;
  uint64_t concealed;
  uint64_t transcode_errors;
  uint64_t handoff_out;
  uint64_t handoff_in;
  uint64_t ring_lost;        /* handoff_out - handoff_in (exact once the call is quiet) */
} cc_relay_leg_stats;
typedef struct cc_relay_call_stats {
  uint64_t id;
  uint32_t shard;
  uint8_t transcoding;
  cc_relay_leg_stats a;
  cc_relay_leg_stats b;
} cc_relay_call_stats;
/* Stops relaying the call; out (may be NULL) gets its final counters. */
CC_FFI_API cc_status cc_relay_remove_call(cc_relay *r, uint64_t id, cc_relay_call_stats *out);
CC_FFI_API cc_status cc_relay_get_call_stats(const cc_relay *r, uint64_t id,
                                             cc_relay_call_stats *out);
/* The ids of the calls relayed, in no particular order. */
CC_FFI_API cc_status cc_relay_call_ids(const cc_relay *r, uint64_t *ids, size_t cap, size_t *n);
typedef struct cc_relay_io_stats {
  uint64_t rx_packets;
  uint64_t rx_bytes;
  uint64_t tx_packets;
  uint64_t tx_bytes;
  uint64_t rx_dropped;
  uint64_t tx_dropped;
  uint64_t wakeups;
} cc_relay_io_stats;
typedef struct cc_relay_shard_stats {
  uint32_t shard;
  int32_t cpu;               /* pinned CPU, -1 if not pinned */
  uint32_t calls;
  uint64_t rx_packets;
  uint64_t rx_bytes;
  uint64_t tx_packets;
  uint64_t tx_bytes;
  uint64_t tx_dropped;
  uint64_t unknown_port;
  uint64_t handoff_out;
  uint64_t handoff_in;
  uint64_t handoff_refused;
  uint64_t ring_overruns;
  uint64_t ring_lost;
  uint64_t loops;
  uint64_t idle_waits;
  uint64_t kernel_rx_dropped;      /* AF_XDP only: the XSK's XDP_STATISTICS */
  uint64_t kernel_rx_ring_full;
  uint64_t kernel_fill_ring_empty;
  cc_relay_io_stats io;
} cc_relay_shard_stats;
/* index < cc_relay_shard_count() (else CC_ERR_INVALID_ARG). */
CC_FFI_API cc_status cc_relay_get_shard_stats(const cc_relay *r, uint32_t index,
                                              cc_relay_shard_stats *out);
/* CC_FFI_CDEF_END */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CLUTCHCALL_CORE_FFI_H */
