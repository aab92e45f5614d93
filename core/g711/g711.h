/* G.711 µ-law and A-law codecs, bit-exact to the ITU-T G.191 (STL) g711 reference.
 *
 * Plain C-compatible API (usable unchanged from the C ABI in bindings/): pointer + count in,
 * pointer out; no allocation, no errors, no global state beyond the chosen SIMD path.
 *
 * Invariants:
 *   - PCM is 16-bit two's complement, full scale (-32768..32767). The encoders use the
 *     reference's truncation: A-law keeps the top 12 bits, µ-law the top 14 bits, and both take
 *     the one's complement (-x-1) of negative inputs. (CPython's audioop µ-law encoder uses -x and
 *     differs on 508 negative inputs; this library follows G.191.)
 *   - Every code 0..255 is valid for the decoders.
 *   - cc_g711_ulaw_to_alaw(c) == alaw_encode(ulaw_decode(c)) and
 *     cc_g711_alaw_to_ulaw(c) == ulaw_encode(alaw_decode(c)) for every code: the direct
 *     conversions are DEFINED as decode-then-encode through the reference (not the G.711 Annex
 *     tables), so they compose exactly with the buffer functions.
 *   - n may be 0; pointers need only their element type's alignment (no SIMD alignment).
 *     Encode/decode buffers must not overlap. The code-to-code conversions may run in place
 *     (in == out) but not on partially overlapping buffers.
 *   - Every SIMD path produces identical output; the path only changes speed.
 */
#ifndef CLUTCHCALL_CORE_G711_G711_H
#define CLUTCHCALL_CORE_G711_G711_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void cc_g711_ulaw_encode(const int16_t *pcm, size_t n, uint8_t *codes);
void cc_g711_ulaw_decode(const uint8_t *codes, size_t n, int16_t *pcm);
void cc_g711_alaw_encode(const int16_t *pcm, size_t n, uint8_t *codes);
void cc_g711_alaw_decode(const uint8_t *codes, size_t n, int16_t *pcm);
void cc_g711_ulaw_to_alaw(const uint8_t *ulaw, size_t n, uint8_t *alaw);
void cc_g711_alaw_to_ulaw(const uint8_t *alaw, size_t n, uint8_t *ulaw);

/* SIMD paths, slowest to fastest. */
typedef enum cc_g711_level {
  CC_G711_SCALAR = 0,
  CC_G711_SSE41 = 1,
  CC_G711_AVX2 = 2,
  CC_G711_AVX512BW = 3
} cc_g711_level;

/* Name of the path in use: "avx512bw", "avx2", "sse4.1" or "scalar". */
const char *cc_g711_simd_level(void);
/* Name of any level ("?" for an out-of-range value). */
const char *cc_g711_level_name(cc_g711_level level);
/* The path in use, and the best path this CPU (and this build) supports. */
cc_g711_level cc_g711_current_level(void);
cc_g711_level cc_g711_best_level(void);
/* 1 if this build has the path and the CPU/OS can run it. */
int cc_g711_level_supported(cc_g711_level level);
/* Force a path (tests, benchmarks). Returns 0 on success, -1 (and changes nothing) if the path is
 * not supported here. Thread-safe, but calls already running finish on the old path. */
int cc_g711_force_level(cc_g711_level level);
/* Return to the detected best path. */
void cc_g711_reset_level(void);

#ifdef __cplusplus
} /* extern "C" */

namespace clutchcall::g711 {
/* C++ spelling of the path query: "avx512bw", "avx2", "sse4.1" or "scalar". */
inline const char *simd_level() noexcept { return cc_g711_simd_level(); }
}  // namespace clutchcall::g711
#endif

#endif /* CLUTCHCALL_CORE_G711_G711_H */
