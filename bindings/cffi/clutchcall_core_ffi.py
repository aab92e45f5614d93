"""cffi binding (ABI mode, ``ffi.dlopen``) of the C ABI ``clutchcall_core_ffi.so``.

The declarations below are the text between ``CC_FFI_CDEF_BEGIN`` and ``CC_FFI_CDEF_END`` of
``bindings/c/include/clutchcall_core_ffi.h`` (comments and the ``CC_FFI_API`` marker dropped);
``tests/core/test_ffi_abi.py`` fails if the two drift apart. No compiler is needed at run time.

The library is found, in order: ``$CLUTCHCALL_CORE_FFI`` (a path to the .so), then ``lib/`` beside
this file (the wheel installs ``clutchcall_core/clutchcall_core_ffi.py`` and
``clutchcall_core/lib/clutchcall_core_ffi.so``; the library is kept out of the package directory
itself because Python would take a ``.so`` of the same name for an extension module).

Besides the raw ``lib``/``ffi`` objects, the functions below give the same Python-level G.711
surface as ``clutchcall_core.g711`` (bytes in, bytes out), so tests can compare the two.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cffi

CDEF = """
#define CC_FFI_VERSION_MAJOR 1
#define CC_FFI_VERSION_MINOR 3

typedef enum cc_status {
  CC_OK = 0,

  CC_ERR_NULL_ARG = -1,
  CC_ERR_INVALID_ARG = -2,
  CC_ERR_BUFFER_TOO_SMALL = -3,
  CC_ERR_UNSUPPORTED = -4,
  CC_ERR_ALLOC = -5,
  CC_ERR_INTERNAL = -6,

  CC_ERR_BAD_RATE = -10,
  CC_ERR_BAD_CHANNELS = -11,
  CC_ERR_BAD_QUALITY = -12,
  CC_ERR_BAD_FRAME = -13,
  CC_ERR_INPUT_TOO_LARGE = -14,
  CC_ERR_BAD_SETTING = -15,
  CC_ERR_BAD_CODEC = -16,
  CC_ERR_BAD_SHAPE = -17,
  CC_ERR_INPUT_SIZE = -18,

  CC_ERR_INVALID_PACKET = -20,
  CC_ERR_EMPTY_PACKET = -21,
  CC_ERR_PACKET_TOO_LARGE = -22,

  CC_ERR_TRUNCATED = -30,
  CC_ERR_BAD_VERSION = -31,
  CC_ERR_TRUNCATED_CSRC = -32,
  CC_ERR_TRUNCATED_EXTENSION = -33,
  CC_ERR_BAD_PADDING = -34,

  CC_ERR_UNKNOWN_NAME = -40,
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

  CC_ERR_UNKNOWN_CALL = -60,
  CC_ERR_START_FAILED = -61,
  CC_ERR_CALL_REFUSED = -62,
  CC_ERR_STOPPED = -63
} cc_status;

uint32_t cc_ffi_version(void);

int32_t cc_ffi_has(const char *component);

const char *cc_strerror(cc_status status);

cc_status cc_ulaw_encode(const int16_t *pcm, size_t n, uint8_t *out, size_t out_cap);
cc_status cc_ulaw_decode(const uint8_t *codes, size_t n, int16_t *out, size_t out_cap);
cc_status cc_alaw_encode(const int16_t *pcm, size_t n, uint8_t *out, size_t out_cap);
cc_status cc_alaw_decode(const uint8_t *codes, size_t n, int16_t *out, size_t out_cap);
cc_status cc_ulaw_to_alaw(const uint8_t *ulaw, size_t n, uint8_t *out, size_t out_cap);
cc_status cc_alaw_to_ulaw(const uint8_t *alaw, size_t n, uint8_t *out, size_t out_cap);

const char *cc_simd_level(void);

int32_t cc_simd_supported(const char *name);

cc_status cc_simd_force(const char *name);

void cc_simd_reset(void);

typedef struct cc_resample cc_resample;
cc_status cc_resample_create(uint32_t in_rate, uint32_t out_rate, uint32_t channels,
                                        int32_t quality, cc_resample **out);
void cc_resample_destroy(cc_resample *r);

cc_status cc_resample_max_output(const cc_resample *r, size_t in_frames, size_t *frames);
cc_status cc_resample_process(cc_resample *r, const int16_t *in, size_t in_frames,
                                         int16_t *out, size_t out_cap_frames, size_t *out_frames);
cc_status cc_resample_flush(cc_resample *r, int16_t *out, size_t out_cap_frames,
                                       size_t *out_frames);
cc_status cc_resample_reset(cc_resample *r);

#define CC_FFI_OPUS_MAX_PACKET 4000
#define CC_FFI_OPUS_MAX_FRAMES 5760
typedef struct cc_opus_settings {
  int32_t bitrate;
  int32_t complexity;
  int32_t fec;
  int32_t packet_loss_pct;
  int32_t dtx;
} cc_opus_settings;

void cc_opus_settings_default(cc_opus_settings *out);
typedef struct cc_opus_enc cc_opus_enc;

cc_status cc_opus_enc_create(uint32_t rate, uint32_t channels, uint32_t frame_ms,
                                        const cc_opus_settings *settings, cc_opus_enc **out);
void cc_opus_enc_destroy(cc_opus_enc *e);

cc_status cc_opus_enc_frame_frames(const cc_opus_enc *e, size_t *frames);

cc_status cc_opus_enc_encode(cc_opus_enc *e, const int16_t *pcm, size_t frames,
                                        uint8_t *packet, size_t packet_cap, size_t *packet_len);
cc_status cc_opus_enc_reset(cc_opus_enc *e);
typedef struct cc_opus_dec cc_opus_dec;
cc_status cc_opus_dec_create(uint32_t rate, uint32_t channels, cc_opus_dec **out);
void cc_opus_dec_destroy(cc_opus_dec *d);
cc_status cc_opus_dec_decode(cc_opus_dec *d, const uint8_t *packet, size_t len,
                                        int16_t *pcm, size_t cap_frames, size_t *frames);

cc_status cc_opus_dec_conceal(cc_opus_dec *d, size_t frames, int16_t *pcm,
                                         size_t cap_frames, size_t *out_frames);
cc_status cc_opus_dec_reset(cc_opus_dec *d);

cc_status cc_opus_packet_duration(const uint8_t *packet, size_t len, uint32_t rate,
                                             size_t *frames);

typedef struct cc_shape {
  uint32_t codec;
  uint32_t sample_rate;
  uint32_t channels;
  uint32_t frame_ms;
} cc_shape;
typedef struct cc_transcode cc_transcode;

cc_status cc_transcode_create(const cc_shape *in, const cc_shape *out,
                                         const cc_opus_settings *opus_settings, cc_transcode **t);
void cc_transcode_destroy(cc_transcode *t);
cc_status cc_transcode_max_output(const cc_transcode *t, size_t *bytes, size_t *frames);

int32_t cc_transcode_is_passthrough(const cc_transcode *t);
cc_status cc_transcode_process(cc_transcode *t, const uint8_t *in, size_t in_len,
                                          uint8_t *out, size_t out_cap, uint32_t *frame_lens,
                                          size_t frame_lens_cap, size_t *out_len,
                                          size_t *out_frames);

cc_status cc_transcode_process_lost(cc_transcode *t, const uint8_t *next_packet,
                                               size_t next_len, uint8_t *out, size_t out_cap,
                                               uint32_t *frame_lens, size_t frame_lens_cap,
                                               size_t *out_len, size_t *out_frames);

cc_status cc_transcode_flush(cc_transcode *t, uint8_t *out, size_t out_cap,
                                        uint32_t *frame_lens, size_t frame_lens_cap,
                                        size_t *out_len, size_t *out_frames);

typedef struct cc_rtp_info {
  uint8_t marker;
  uint8_t payload_type;
  uint8_t csrc_count;
  uint8_t has_extension;
  uint8_t has_padding;
  uint8_t padding_len;
  uint16_t sequence;
  uint32_t timestamp;
  uint32_t ssrc;
  uint32_t csrc[15];
  uint16_t ext_profile;
  uint32_t ext_offset;
  uint32_t ext_len;
  uint32_t payload_offset;
  uint32_t payload_len;
  uint32_t header_len;
} cc_rtp_info;

cc_status cc_rtp_read(const uint8_t *data, size_t len, cc_rtp_info *out);
typedef struct cc_rtp_fields {
  uint8_t marker;
  uint8_t payload_type;
  uint8_t csrc_count;
  uint8_t has_extension;
  uint8_t padding_len;
  uint16_t sequence;
  uint16_t ext_profile;
  uint32_t timestamp;
  uint32_t ssrc;
  uint32_t csrc[15];
} cc_rtp_fields;

cc_status cc_rtp_write_size(const cc_rtp_fields *fields, size_t ext_len,
                                       size_t payload_len, size_t *size);
cc_status cc_rtp_write(const cc_rtp_fields *fields, const uint8_t *ext, size_t ext_len,
                                  const uint8_t *payload, size_t payload_len, uint8_t *out,
                                  size_t cap, size_t *written);

typedef struct cc_jbuf_config {
  uint32_t capacity;
  uint32_t max_payload;
  uint32_t clock_rate;
  uint32_t frame_ms;
  uint32_t min_depth;
  uint32_t max_depth;
  uint32_t initial_depth;
  uint32_t reset_threshold;
  uint32_t decrease_hold_ticks;
  uint32_t shrink_window_ticks;
} cc_jbuf_config;
void cc_jbuf_config_default(cc_jbuf_config *out);
typedef struct cc_jbuf cc_jbuf;

cc_status cc_jbuf_create(const cc_jbuf_config *config, cc_jbuf **out);
cc_status cc_jbuf_create_quantile(const cc_jbuf_config *config,
                                  uint32_t target_quantile_permille, cc_jbuf **out);
void cc_jbuf_destroy(cc_jbuf *jb);

cc_status cc_jbuf_insert(cc_jbuf *jb, uint16_t sequence, uint32_t timestamp,
                                    uint32_t ssrc, uint8_t marker, const uint8_t *payload,
                                    size_t len, int64_t arrival_us, int32_t *outcome);

cc_status cc_jbuf_insert_rtp(cc_jbuf *jb, const uint8_t *packet, size_t len,
                                        int64_t arrival_us, int32_t *outcome);
typedef struct cc_jbuf_frame {
  int32_t kind;
  uint8_t marker;
  uint16_t sequence;
  uint32_t timestamp;
  int64_t ext_seq;
  uint32_t payload_len;
} cc_jbuf_frame;

cc_status cc_jbuf_tick(cc_jbuf *jb, uint8_t *payload, size_t payload_cap,
                                  cc_jbuf_frame *out);
cc_status cc_jbuf_reset(cc_jbuf *jb);
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
  uint32_t jitter;
  uint32_t jitter_us;
} cc_jbuf_stats;
cc_status cc_jbuf_get_stats(const cc_jbuf *jb, cc_jbuf_stats *out);

cc_status cc_codec_parse_stream(const char *stream, const uint8_t *data, size_t len,
                                           size_t chunk, char *json, size_t json_cap,
                                           size_t *json_len);
cc_status cc_codec_decode_struct(const char *name, const uint8_t *data, size_t len,
                                            const uint8_t *args, size_t nargs, char *json,
                                            size_t json_cap, size_t *json_len);
cc_status cc_codec_encode_struct(const char *name, const char *json, size_t json_len,
                                            const uint8_t *args, size_t nargs, uint8_t *out,
                                            size_t out_cap, size_t *out_len);
cc_status cc_codec_message_to_json(const char *name, const uint8_t *data, size_t len,
                                              char *json, size_t json_cap, size_t *json_len);
cc_status cc_codec_message_from_json(const char *name, const char *json,
                                                size_t json_len, uint8_t *out, size_t out_cap,
                                                size_t *out_len);

#define CC_RELAY_IFNAME_MAX 16
#define CC_RELAY_MAX_CPUS 256
#define CC_RELAY_IP_MAX 46
typedef enum cc_relay_backend_kind {
  CC_RELAY_AUTO = 0,
  CC_RELAY_AF_XDP = 1,
  CC_RELAY_IO_URING = 2,
  CC_RELAY_RECVMMSG = 3
} cc_relay_backend_kind;
typedef struct cc_relay_config {
  int32_t backend;
  char ifname[16];
  uint16_t port_lo;
  uint16_t port_hi;
  uint32_t shards;
  uint8_t busy_poll;
  uint8_t pin;
  uint32_t cpu_count;
  int32_t cpus[256];
  uint32_t max_calls;
  uint32_t handoff_depth;
  uint32_t xsk_rx_frames;
  uint32_t xsk_tx_frames;
} cc_relay_config;
void cc_relay_config_default(cc_relay_config *out);
typedef struct cc_relay cc_relay;
cc_status cc_relay_start(const cc_relay_config *config, cc_relay **out);
cc_status cc_relay_stop(cc_relay *r);
void cc_relay_destroy(cc_relay *r);
cc_status cc_relay_last_error(char *buf, size_t cap, size_t *len);
const char *cc_relay_backend(const cc_relay *r);
cc_status cc_relay_fallback_reason(const cc_relay *r, char *buf, size_t cap,
                                              size_t *len);
cc_status cc_relay_xdp_mode(const cc_relay *r, char *buf, size_t cap, size_t *len);
cc_status cc_relay_shard_count(const cc_relay *r, uint32_t *count);
typedef struct cc_relay_leg {
  char local_ip[46];
  uint16_t local_port;
  char remote_ip[46];
  uint16_t remote_port;
  uint32_t codec;
  uint32_t sample_rate;
  uint32_t channels;
  uint32_t frame_ms;
  uint8_t payload_type;
} cc_relay_leg;
void cc_relay_leg_default(cc_relay_leg *out);
cc_status cc_relay_add_call(cc_relay *r, uint64_t id, const cc_relay_leg *a,
                                       const cc_relay_leg *b);
typedef struct cc_relay_leg_stats {
  uint64_t rx_packets;
  uint64_t rx_bytes;
  uint64_t tx_packets;
  uint64_t tx_bytes;
  uint64_t malformed;
  uint64_t foreign_source;
  uint64_t tx_dropped;
  uint64_t ssrc_changes;
  uint64_t late_losses;
  uint64_t concealed;
  uint64_t transcode_errors;
  uint64_t handoff_out;
  uint64_t handoff_in;
  uint64_t ring_lost;
} cc_relay_leg_stats;
typedef struct cc_relay_call_stats {
  uint64_t id;
  uint32_t shard;
  uint8_t transcoding;
  cc_relay_leg_stats a;
  cc_relay_leg_stats b;
} cc_relay_call_stats;
cc_status cc_relay_remove_call(cc_relay *r, uint64_t id, cc_relay_call_stats *out);
cc_status cc_relay_get_call_stats(const cc_relay *r, uint64_t id,
                                             cc_relay_call_stats *out);
cc_status cc_relay_call_ids(const cc_relay *r, uint64_t *ids, size_t cap, size_t *n);
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
  int32_t cpu;
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
  uint64_t kernel_rx_dropped;
  uint64_t kernel_rx_ring_full;
  uint64_t kernel_fill_ring_empty;
  cc_relay_io_stats io;
} cc_relay_shard_stats;
cc_status cc_relay_get_shard_stats(const cc_relay *r, uint32_t index,
                                              cc_relay_shard_stats *out);
"""

LIBRARY_NAME = "clutchcall_core_ffi.so"


def library_path() -> Path:
    """Where the shared library is loaded from (see the module docstring)."""
    env = os.environ.get("CLUTCHCALL_CORE_FFI")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent / "lib" / LIBRARY_NAME


ffi = cffi.FFI()
ffi.cdef(CDEF)
_path = library_path()
if not _path.is_file():
    raise ImportError(f"clutchcall_core_ffi: no {LIBRARY_NAME} at {_path} (set CLUTCHCALL_CORE_FFI)")
lib: Any = ffi.dlopen(str(_path))

if lib.cc_ffi_version() >> 16 != lib.CC_FFI_VERSION_MAJOR:
    raise ImportError(
        f"clutchcall_core_ffi: {_path} has ABI major {lib.cc_ffi_version() >> 16}, "
        f"this binding needs {lib.CC_FFI_VERSION_MAJOR}"
    )


class FfiError(Exception):
    """A non-OK cc_status; ``status`` is the code, the message its cc_strerror name."""

    def __init__(self, status: int, where: str, detail: str = "") -> None:
        self.status = status
        self.name = ffi.string(lib.cc_strerror(status)).decode()
        self.detail = detail
        super().__init__(f"{where}: {self.name} ({status})" + (f": {detail}" if detail else ""))


def check(status: int, where: str) -> None:
    if status != lib.CC_OK:
        raise FfiError(status, where)


def version() -> tuple[int, int]:
    v = lib.cc_ffi_version()
    return v >> 16, v & 0xFFFF


def has(component: str) -> bool:
    return bool(lib.cc_ffi_has(component.encode()))


# ---- G.711: same shapes as clutchcall_core.g711 (PCM is little-endian int16 bytes) ----


def _pcm_to_codes(fn: Any, name: str, pcm: bytes) -> bytes:
    if len(pcm) % 2:
        raise ValueError(f"pcm: odd byte length {len(pcm)}")
    n = len(pcm) // 2
    src = ffi.new("int16_t[]", max(n, 1))
    ffi.memmove(src, pcm, len(pcm))
    out = ffi.new("uint8_t[]", max(n, 1))
    check(fn(src, n, out, n), name)
    return bytes(ffi.buffer(out, n))


def _codes_to_pcm(fn: Any, name: str, codes: bytes) -> bytes:
    n = len(codes)
    out = ffi.new("int16_t[]", max(n, 1))
    check(fn(ffi.from_buffer("uint8_t[]", codes), n, out, n), name)
    return bytes(ffi.buffer(out, 2 * n))


def _codes_to_codes(fn: Any, name: str, codes: bytes) -> bytes:
    n = len(codes)
    out = ffi.new("uint8_t[]", max(n, 1))
    check(fn(ffi.from_buffer("uint8_t[]", codes), n, out, n), name)
    return bytes(ffi.buffer(out, n))


def ulaw_encode(pcm: bytes) -> bytes:
    return _pcm_to_codes(lib.cc_ulaw_encode, "cc_ulaw_encode", pcm)


def alaw_encode(pcm: bytes) -> bytes:
    return _pcm_to_codes(lib.cc_alaw_encode, "cc_alaw_encode", pcm)


def ulaw_decode(codes: bytes) -> bytes:
    return _codes_to_pcm(lib.cc_ulaw_decode, "cc_ulaw_decode", codes)


def alaw_decode(codes: bytes) -> bytes:
    return _codes_to_pcm(lib.cc_alaw_decode, "cc_alaw_decode", codes)


def ulaw_to_alaw(codes: bytes) -> bytes:
    return _codes_to_codes(lib.cc_ulaw_to_alaw, "cc_ulaw_to_alaw", codes)


def alaw_to_ulaw(codes: bytes) -> bytes:
    return _codes_to_codes(lib.cc_alaw_to_ulaw, "cc_alaw_to_ulaw", codes)


def simd_level() -> str:
    return str(ffi.string(lib.cc_simd_level()).decode())


def simd_supported(name: str) -> bool:
    return bool(lib.cc_simd_supported(name.encode()))


def force_simd_level(name: str) -> None:
    check(lib.cc_simd_force(name.encode()), f"cc_simd_force({name!r})")


def reset_simd_level() -> None:
    lib.cc_simd_reset()


# ---- Stateful objects: same shapes as the pybind11 classes (bytes in, bytes out) ----


def _handle(create: Any, destroy: Any, ctype: str, where: str, *args: Any) -> Any:
    out = ffi.new(f"{ctype} **")
    check(create(*args, out), where)
    return ffi.gc(out[0], destroy)


def _pcm(pcm: bytes, channels: int = 1) -> tuple[Any, int]:
    """int16 copy of PCM bytes and its frame count."""
    if len(pcm) % (2 * channels):
        raise ValueError(f"pcm: {len(pcm)} bytes is not a whole number of {channels}-channel int16 frames")
    buf = ffi.new("int16_t[]", max(len(pcm) // 2, 1))
    ffi.memmove(buf, pcm, len(pcm))
    return buf, len(pcm) // (2 * channels)


class Resampler:
    def __init__(self, in_rate: int, out_rate: int, channels: int = 1, quality: int = 3) -> None:
        self.channels = channels
        self._h = _handle(
            lib.cc_resample_create, lib.cc_resample_destroy, "cc_resample", "cc_resample_create",
            in_rate, out_rate, channels, quality,
        )  # fmt: skip

    def _run(self, in_frames: int, call: Any) -> bytes:
        cap = ffi.new("size_t *")
        check(lib.cc_resample_max_output(self._h, in_frames, cap), "cc_resample_max_output")
        out = ffi.new("int16_t[]", max(cap[0] * self.channels, 1))
        got = ffi.new("size_t *")
        check(call(out, cap[0], got), "cc_resample")
        return bytes(ffi.buffer(out, got[0] * self.channels * 2))

    def process(self, pcm: bytes) -> bytes:
        buf, frames = _pcm(pcm, self.channels)
        if frames == 0:
            return b""
        return self._run(frames, lambda out, cap, got: lib.cc_resample_process(self._h, buf, frames, out, cap, got))

    def flush(self) -> bytes:
        return self._run(0, lambda out, cap, got: lib.cc_resample_flush(self._h, out, cap, got))

    def reset(self) -> None:
        check(lib.cc_resample_reset(self._h), "cc_resample_reset")


def _settings(**kw: Any) -> Any:
    s = ffi.new("cc_opus_settings *")
    lib.cc_opus_settings_default(s)
    for key, value in kw.items():
        if value is not None:
            setattr(s, key, int(value))
    return s


class OpusEncoder:
    def __init__(self, rate: int, channels: int = 1, frame_ms: int = 20, **settings: Any) -> None:
        self.channels = channels
        self._h = _handle(
            lib.cc_opus_enc_create, lib.cc_opus_enc_destroy, "cc_opus_enc", "cc_opus_enc_create",
            rate, channels, frame_ms, _settings(**settings),
        )  # fmt: skip
        n = ffi.new("size_t *")
        check(lib.cc_opus_enc_frame_frames(self._h, n), "cc_opus_enc_frame_frames")
        self.frame_frames = int(n[0])

    def encode(self, pcm: bytes) -> bytes:
        buf, frames = _pcm(pcm, self.channels)
        packet = ffi.new("uint8_t[]", lib.CC_FFI_OPUS_MAX_PACKET)
        n = ffi.new("size_t *")
        check(lib.cc_opus_enc_encode(self._h, buf, frames, packet, lib.CC_FFI_OPUS_MAX_PACKET, n), "cc_opus_enc_encode")
        return bytes(ffi.buffer(packet, n[0]))


class OpusDecoder:
    def __init__(self, rate: int, channels: int = 1) -> None:
        self.channels = channels
        self._h = _handle(
            lib.cc_opus_dec_create, lib.cc_opus_dec_destroy, "cc_opus_dec", "cc_opus_dec_create", rate, channels
        )

    def _run(self, call: Any, where: str) -> bytes:
        pcm = ffi.new("int16_t[]", lib.CC_FFI_OPUS_MAX_FRAMES * self.channels)
        got = ffi.new("size_t *")
        check(call(pcm, lib.CC_FFI_OPUS_MAX_FRAMES, got), where)
        return bytes(ffi.buffer(pcm, got[0] * self.channels * 2))

    def decode(self, packet: bytes) -> bytes:
        src = ffi.from_buffer("uint8_t[]", packet)
        return self._run(lambda pcm, cap, got: lib.cc_opus_dec_decode(self._h, src, len(packet), pcm, cap, got),
                         "cc_opus_dec_decode")  # fmt: skip

    def decode_lost(self, frames: int) -> bytes:
        return self._run(lambda pcm, cap, got: lib.cc_opus_dec_conceal(self._h, frames, pcm, cap, got),
                         "cc_opus_dec_conceal")  # fmt: skip


def opus_packet_frames(packet: bytes, rate: int) -> int:
    n = ffi.new("size_t *")
    check(lib.cc_opus_packet_duration(ffi.from_buffer("uint8_t[]", packet), len(packet), rate, n),
          "cc_opus_packet_duration")  # fmt: skip
    return int(n[0])


CODECS = {"opus": 1, "pcm16": 2, "g711_ulaw": 3, "g711_alaw": 4}


def _shape(d: dict[str, Any]) -> Any:
    s = ffi.new("cc_shape *")
    codec = d.get("codec", 0)
    s.codec = CODECS[codec] if isinstance(codec, str) else int(codec)
    s.sample_rate, s.channels, s.frame_ms = d.get("sample_rate", 0), d.get("channels", 0), d.get("frame_ms", 0)
    return s


class Transcoder:
    def __init__(self, input: dict[str, Any], output: dict[str, Any], **settings: Any) -> None:
        self._h = _handle(
            lib.cc_transcode_create, lib.cc_transcode_destroy, "cc_transcode", "cc_transcode_create",
            _shape(input), _shape(output), _settings(**settings),
        )  # fmt: skip
        nbytes, nframes = ffi.new("size_t *"), ffi.new("size_t *")
        check(lib.cc_transcode_max_output(self._h, nbytes, nframes), "cc_transcode_max_output")
        self._cap, self._fcap = int(nbytes[0]), int(nframes[0])
        self.passthrough = bool(lib.cc_transcode_is_passthrough(self._h))

    def _run(self, call: Any, where: str) -> list[bytes]:
        out = ffi.new("uint8_t[]", max(self._cap, 1))
        lens = ffi.new("uint32_t[]", max(self._fcap, 1))
        n, nf = ffi.new("size_t *"), ffi.new("size_t *")
        check(call(out, self._cap, lens, self._fcap, n, nf), where)
        frames, at = [], 0
        for i in range(nf[0]):
            frames.append(bytes(ffi.buffer(out + at, lens[i])))
            at += lens[i]
        return frames

    def process(self, data: bytes) -> list[bytes]:
        src = ffi.from_buffer("uint8_t[]", data)
        return self._run(lambda *o: lib.cc_transcode_process(self._h, src, len(data), *o), "cc_transcode_process")

    def process_lost(self, next_packet: bytes | None = None) -> list[bytes]:
        src = ffi.from_buffer("uint8_t[]", next_packet) if next_packet else ffi.NULL
        n = len(next_packet) if next_packet else 0
        return self._run(lambda *o: lib.cc_transcode_process_lost(self._h, src, n, *o), "cc_transcode_process_lost")

    def flush(self) -> list[bytes]:
        return self._run(lambda *o: lib.cc_transcode_flush(self._h, *o), "cc_transcode_flush")


# ---- RTP and the jitter buffer ----


def rtp_read(data: bytes) -> dict[str, Any]:
    """Parse one RTP packet; parts are sliced out of `data` by the offsets the ABI returns."""
    info = ffi.new("cc_rtp_info *")
    check(lib.cc_rtp_read(ffi.from_buffer("uint8_t[]", data), len(data), info), "cc_rtp_read")
    return {
        "marker": bool(info.marker),
        "payload_type": info.payload_type,
        "sequence": info.sequence,
        "timestamp": info.timestamp,
        "ssrc": info.ssrc,
        "csrc": [info.csrc[i] for i in range(info.csrc_count)],
        "extension_profile": info.ext_profile if info.has_extension else None,
        "extension": bytes(data[info.ext_offset : info.ext_offset + info.ext_len]),
        "payload": bytes(data[info.payload_offset : info.payload_offset + info.payload_len]),
        "padding_len": info.padding_len,
        "header_len": info.header_len,
    }


def rtp_write(
    payload: bytes,
    *,
    payload_type: int,
    sequence: int,
    timestamp: int,
    ssrc: int,
    marker: bool = False,
    csrc: list[int] | tuple[int, ...] = (),
    extension_profile: int | None = None,
    extension: bytes = b"",
    padding_len: int = 0,
) -> bytes:
    f = ffi.new("cc_rtp_fields *")
    f.marker, f.payload_type, f.sequence, f.timestamp, f.ssrc = int(marker), payload_type, sequence, timestamp, ssrc
    f.csrc_count = len(csrc)
    for i, c in enumerate(csrc):
        f.csrc[i] = c
    f.has_extension = int(extension_profile is not None)
    f.ext_profile = extension_profile or 0
    f.padding_len = padding_len
    size = ffi.new("size_t *")
    check(lib.cc_rtp_write_size(f, len(extension), len(payload), size), "cc_rtp_write_size")
    out = ffi.new("uint8_t[]", size[0])
    written = ffi.new("size_t *")
    ext = ffi.from_buffer("uint8_t[]", extension) if extension else ffi.NULL
    body = ffi.from_buffer("uint8_t[]", payload) if payload else ffi.NULL
    check(lib.cc_rtp_write(f, ext, len(extension), body, len(payload), out, size[0], written), "cc_rtp_write")
    return bytes(ffi.buffer(out, written[0]))


OUTCOMES = ("inserted", "inserted_after_reset", "duplicate", "late")
KINDS = ("frame", "loss", "wait")


class JitterBuffer:
    def __init__(self, target_quantile_permille: int | None = None, **settings: int) -> None:
        c = ffi.new("cc_jbuf_config *")
        lib.cc_jbuf_config_default(c)
        for key, value in settings.items():
            setattr(c, key, value)
        self._max_payload = c.max_payload
        if target_quantile_permille is None:
            self._h = _handle(lib.cc_jbuf_create, lib.cc_jbuf_destroy, "cc_jbuf", "cc_jbuf_create", c)
        else:
            self._h = _handle(
                lib.cc_jbuf_create_quantile,
                lib.cc_jbuf_destroy,
                "cc_jbuf",
                "cc_jbuf_create_quantile",
                c,
                target_quantile_permille,
            )

    def insert(
        self, sequence: int, timestamp: int, ssrc: int, payload: bytes, arrival_us: int, marker: bool = False
    ) -> str:
        outcome = ffi.new("int32_t *")
        body = ffi.from_buffer("uint8_t[]", payload) if payload else ffi.NULL
        check(
            lib.cc_jbuf_insert(
                self._h, sequence, timestamp, ssrc, int(marker), body, len(payload), arrival_us, outcome
            ),
            "cc_jbuf_insert",
        )
        return OUTCOMES[outcome[0]]

    def insert_rtp(self, packet: bytes, arrival_us: int) -> str:
        outcome = ffi.new("int32_t *")
        check(
            lib.cc_jbuf_insert_rtp(self._h, ffi.from_buffer("uint8_t[]", packet), len(packet), arrival_us, outcome),
            "cc_jbuf_insert_rtp",
        )
        return OUTCOMES[outcome[0]]

    def tick(self) -> dict[str, Any]:
        f = ffi.new("cc_jbuf_frame *")
        payload = ffi.new("uint8_t[]", self._max_payload)  # per call: the object may be shared
        check(lib.cc_jbuf_tick(self._h, payload, self._max_payload, f), "cc_jbuf_tick")
        kind = KINDS[f.kind]
        return {
            "kind": kind,
            "sequence": f.sequence,
            "ext_seq": f.ext_seq,
            "timestamp": f.timestamp,
            "marker": bool(f.marker),
            "payload": bytes(ffi.buffer(payload, f.payload_len)) if kind == "frame" else None,
        }

    def reset(self) -> None:
        check(lib.cc_jbuf_reset(self._h), "cc_jbuf_reset")

    def stats(self) -> dict[str, int]:
        s = ffi.new("cc_jbuf_stats *")
        check(lib.cc_jbuf_get_stats(self._h, s), "cc_jbuf_get_stats")
        return {name: getattr(s, name) for name, _ in ffi.typeof("cc_jbuf_stats").fields}


# ---- Generated codecs (values as JSON) ----


def _sized(call: Any, out_type: str, where: str) -> bytes:
    """Size query (cap 0), then the real call: the ABI's variable-size result convention."""
    n = ffi.new("size_t *")
    status = call(ffi.NULL, 0, n)
    if status == lib.CC_OK:
        return b""
    if status != lib.CC_ERR_BUFFER_TOO_SMALL:
        check(status, where)
    buf = ffi.new(f"{out_type}[]", n[0])
    check(call(buf, n[0], n), where)
    return bytes(ffi.buffer(buf, n[0]))


def _data(data: bytes) -> Any:
    return ffi.from_buffer("uint8_t[]", data) if data else ffi.NULL


def _args(args: Sequence[bool]) -> tuple[Any, int]:
    return (ffi.new("uint8_t[]", [int(a) for a in args]) if args else ffi.NULL), len(args)


def codec_parse_stream(stream: str, data: bytes, chunk: int = 0) -> Any:
    src = _data(data)
    text = _sized(
        lambda out, cap, n: lib.cc_codec_parse_stream(stream.encode(), src, len(data), chunk, out, cap, n),
        "char",
        "cc_codec_parse_stream",
    )
    return json.loads(text)


def codec_decode_struct(name: str, data: bytes, args: Sequence[bool] = ()) -> Any:
    src, (a, na) = _data(data), _args(args)
    text = _sized(
        lambda out, cap, n: lib.cc_codec_decode_struct(name.encode(), src, len(data), a, na, out, cap, n),
        "char",
        "cc_codec_decode_struct",
    )
    return json.loads(text)


def codec_encode_struct(name: str, value: Any, args: Sequence[bool] = ()) -> bytes:
    text = json.dumps(value).encode()
    a, na = _args(args)
    return _sized(
        lambda out, cap, n: lib.cc_codec_encode_struct(name.encode(), text, len(text), a, na, out, cap, n),
        "uint8_t",
        "cc_codec_encode_struct",
    )


def codec_message_to_json(name: str, data: bytes) -> str:
    src = _data(data)
    return _sized(
        lambda out, cap, n: lib.cc_codec_message_to_json(name.encode(), src, len(data), out, cap, n),
        "char",
        "cc_codec_message_to_json",
    ).decode()


def codec_message_from_json(name: str, text: str) -> bytes:
    raw = text.encode()
    return _sized(
        lambda out, cap, n: lib.cc_codec_message_from_json(name.encode(), raw, len(raw), out, cap, n),
        "uint8_t",
        "cc_codec_message_from_json",
    )


# ---- Relay engine: same shapes as clutchcall_core.relay (stats as dicts) ----

RELAY_BACKENDS = {"auto": 0, "af_xdp": 1, "io_uring": 2, "recvmmsg": 3}


def relay_last_error() -> str:
    """The calling thread's message for its last failed cc_relay_* call ("" after a success)."""
    return _sized(lambda out, cap, n: lib.cc_relay_last_error(out, cap, n), "char", "cc_relay_last_error").decode()


def _relay_check(status: int, where: str) -> None:
    if status != lib.CC_OK:
        raise FfiError(status, where, relay_last_error())


def _relay_leg(leg: dict[str, Any]) -> Any:
    """A cc_relay_leg from clutchcall_core.relay.Leg's arguments: local=(ip, port), remote=None|(ip, port)."""
    out = ffi.new("cc_relay_leg *")
    lib.cc_relay_leg_default(out)
    local_ip, out.local_port = leg["local"]
    out.local_ip = local_ip.encode()
    remote = leg.get("remote")
    if remote is not None:
        remote_ip, out.remote_port = remote
        out.remote_ip = remote_ip.encode()
    codec = leg.get("codec", "g711_ulaw")
    out.codec = CODECS[codec] if isinstance(codec, str) else int(codec)
    out.sample_rate = leg.get("sample_rate", 0)
    out.channels, out.frame_ms = leg.get("channels", 1), leg.get("frame_ms", 20)
    out.payload_type = leg.get("payload_type", 0)
    return out


def _fields(value: Any, ctype: str) -> dict[str, Any]:
    """A stats struct as a dict (nested structs as nested dicts), by the ABI's field names."""
    out: dict[str, Any] = {}
    for name, field in ffi.typeof(ctype).fields:
        v = getattr(value, name)
        out[name] = _fields(v, field.type.cname) if field.type.kind == "struct" else v
    return out


def _call_dict(s: Any) -> dict[str, Any]:
    d = _fields(s, "cc_relay_call_stats")
    d["transcoding"] = bool(d["transcoding"])
    return d


class RelayEngine:
    """clutchcall_core.relay.Engine over the C ABI; config keys are cc_relay_config's fields."""

    def __init__(self, backend: str = "auto", cpus: Sequence[int] = (), **config: Any) -> None:
        c = ffi.new("cc_relay_config *")
        lib.cc_relay_config_default(c)
        c.backend = RELAY_BACKENDS[backend]
        c.cpu_count = len(cpus)
        for i, cpu in enumerate(cpus):
            c.cpus[i] = cpu
        for key, value in config.items():
            setattr(c, key, value.encode() if isinstance(value, str) else int(value))
        out = ffi.new("cc_relay **")
        _relay_check(lib.cc_relay_start(c, out), "cc_relay_start")
        self._h = ffi.gc(out[0], lib.cc_relay_destroy)
        self.backend = ffi.string(lib.cc_relay_backend(self._h)).decode()
        self.fallback_reason = _sized(
            lambda b, cap, n: lib.cc_relay_fallback_reason(self._h, b, cap, n), "char", "cc_relay_fallback_reason"
        ).decode()
        self.xdp_mode = _sized(
            lambda b, cap, n: lib.cc_relay_xdp_mode(self._h, b, cap, n), "char", "cc_relay_xdp_mode"
        ).decode()
        count = ffi.new("uint32_t *")
        _relay_check(lib.cc_relay_shard_count(self._h, count), "cc_relay_shard_count")
        self.shard_count = int(count[0])

    def add_call(self, id: int, a: dict[str, Any], b: dict[str, Any]) -> None:
        _relay_check(lib.cc_relay_add_call(self._h, id, _relay_leg(a), _relay_leg(b)), "cc_relay_add_call")

    def remove_call(self, id: int) -> dict[str, Any]:
        s = ffi.new("cc_relay_call_stats *")
        _relay_check(lib.cc_relay_remove_call(self._h, id, s), "cc_relay_remove_call")
        return _call_dict(s)

    def call_stats(self, id: int) -> dict[str, Any]:
        s = ffi.new("cc_relay_call_stats *")
        _relay_check(lib.cc_relay_get_call_stats(self._h, id, s), "cc_relay_get_call_stats")
        return _call_dict(s)

    def call_ids(self) -> list[int]:
        n = ffi.new("size_t *")
        while True:
            buf = ffi.new("uint64_t[]", max(n[0], 1))
            status = lib.cc_relay_call_ids(self._h, buf, n[0], n)
            if status != lib.CC_ERR_BUFFER_TOO_SMALL:  # calls may come and go between the two
                _relay_check(status, "cc_relay_call_ids")
                return [int(buf[i]) for i in range(n[0])]

    def shard_stats(self) -> list[dict[str, Any]]:
        out = []
        for i in range(self.shard_count):
            s = ffi.new("cc_relay_shard_stats *")
            _relay_check(lib.cc_relay_get_shard_stats(self._h, i, s), "cc_relay_get_shard_stats")
            out.append(_fields(s, "cc_relay_shard_stats"))
        return out

    def stop(self) -> None:
        _relay_check(lib.cc_relay_stop(self._h), "cc_relay_stop")

    def __enter__(self) -> RelayEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
