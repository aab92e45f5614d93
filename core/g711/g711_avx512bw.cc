// AVX-512BW path (32 x 16-bit lanes). Compiled with -mavx512f -mavx512bw only (no VL/VBMI/CD, so
// it runs on every AVX-512BW CPU); reached only after the CPU check. Differs from the generic
// SSE/AVX2 kernels where AVX-512 has better tools: per-lane variable shifts (vpsllvw/vpsrlvw)
// instead of power-of-two multiplies, mask registers for signs, vpternlog for and/or chains, and
// masked loads/stores for the tails (no scalar or bounce-buffer tail).

// GCC 12's avx512fintrin.h self-initialises its "undefined" vectors (`__m512i __Y = __Y;`) and
// then warns about it once inlined (GCC PR 105593, fixed in GCC 13). Silence only that, only here.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "g711/g711_impl.h"
#include "g711/g711_x86_tables.h"

namespace clutchcall::g711 {
namespace {

using V = __m512i;
constexpr size_t kLanes = 32;

V c16(int v) { return _mm512_set1_epi16(static_cast<int16_t>(v)); }
V table(const uint8_t (&t)[16]) {
  return _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i *>(t)));
}
// vpternlog immediates, operands (a, b, c) = (0xF0, 0xCC, 0xAA).
constexpr int kAandBorC = 0xEA;     // (a & b) | c
constexpr int kAorNotBandC = 0xF2;  // a | (~b & c)
constexpr int kAxorBandC = 0x78;    // a ^ (b & c)

// Lowest n bits set (n <= 32 / 64).
__mmask32 mask32(size_t n) { return n >= 32 ? ~__mmask32{0} : (__mmask32{1} << n) - 1u; }
__mmask64 mask64(size_t n) { return n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1u; }

V load_u8(const uint8_t *p) {
  return _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
}
V load_u8_masked(const uint8_t *p, size_t n) {  // n <= 32 codes, rest zero; never reads past n
  return _mm512_cvtepu8_epi16(_mm512_castsi512_si256(_mm512_maskz_loadu_epi8(mask64(n), p)));
}
// Pack two vectors of codes (0..255 per lane) into 64 bytes in order.
V pack(V a, V b) {
  const V order = _mm512_set_epi64(7, 5, 3, 1, 6, 4, 2, 0);  // undo per-128-bit-lane packus
  return _mm512_permutexvar_epi64(order, _mm512_packus_epi16(a, b));
}

V ulaw_decode(V c) {
  const V e = _mm512_andnot_si512(_mm512_srli_epi16(c, 4), c16(7));      // (~c >> 4) & 7
  const V m8 = _mm512_andnot_si512(_mm512_slli_epi16(c, 3), c16(0x78));  // (~c & 15) << 3
  const V mag = _mm512_sub_epi16(_mm512_sllv_epi16(_mm512_add_epi16(m8, c16(132)), e), c16(132));
  const __mmask32 neg = _mm512_testn_epi16_mask(c, c16(0x80));
  return _mm512_mask_sub_epi16(mag, neg, _mm512_setzero_si512(), mag);
}

V alaw_decode(V c) {
  const V t = _mm512_xor_si512(c, c16(0x55));
  const V shift = _mm512_subs_epu16(_mm512_and_si512(_mm512_srli_epi16(t, 4), c16(7)), c16(1));
  V base = _mm512_ternarylogic_epi32(_mm512_slli_epi16(t, 4), c16(0xF0), c16(8), kAandBorC);
  base = _mm512_mask_add_epi16(base, _mm512_test_epi16_mask(t, c16(0x70)), base, c16(256));
  const V mag = _mm512_sllv_epi16(base, shift);  // e ? (16m + 264) << (e-1) : 16m + 8
  const __mmask32 neg = _mm512_testn_epi16_mask(c, c16(0x80));
  return _mm512_mask_sub_epi16(mag, neg, _mm512_setzero_si512(), mag);
}

V ulaw_encode(V x) {
  const V s = _mm512_srai_epi16(x, 15);
  const V a = _mm512_min_epu16(
      _mm512_add_epi16(_mm512_srli_epi16(_mm512_xor_si512(x, s), 2), c16(33)), c16(0x1FFF));
  const V lo = _mm512_and_si512(_mm512_srli_epi16(a, 6), c16(15));
  const V hi = _mm512_srli_epi16(a, 10);
  const V g = _mm512_max_epu16(_mm512_shuffle_epi8(table(x86::kBitWidthLo), lo),
                               _mm512_shuffle_epi8(table(x86::kBitWidthHi), hi));
  const V mant = _mm512_srlv_epi16(_mm512_srli_epi16(a, 1), g);  // a >> (g + 1), 16..31
  const V code = _mm512_sub_epi16(_mm512_sub_epi16(c16(143), _mm512_slli_epi16(g, 4)), mant);
  return _mm512_ternarylogic_epi32(code, s, c16(0x80), kAorNotBandC);
}

V alaw_encode(V x) {
  const V s = _mm512_srai_epi16(x, 15);
  const V ix = _mm512_srli_epi16(_mm512_xor_si512(x, s), 4);
  const V lo = _mm512_and_si512(_mm512_srli_epi16(ix, 5), c16(15));
  const V hi = _mm512_srli_epi16(ix, 9);
  const V g = _mm512_max_epu16(_mm512_shuffle_epi8(table(x86::kBitWidthLo), lo),
                               _mm512_shuffle_epi8(table(x86::kBitWidthHi), hi));
  const V code = _mm512_add_epi16(_mm512_slli_epi16(g, 4), _mm512_srlv_epi16(ix, g));
  // code ^ 0xD5 for x >= 0, code ^ 0x55 for x < 0
  return _mm512_xor_si512(_mm512_ternarylogic_epi32(c16(0xD5), s, c16(0x80), kAxorBandC), code);
}

template <V (*Decode)(V)>
void decode_buf(const uint8_t *in, size_t n, int16_t *out) {
  size_t i = 0;
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    const V a = Decode(load_u8(in + i));
    const V b = Decode(load_u8(in + i + kLanes));
    _mm512_storeu_si512(out + i, a);
    _mm512_storeu_si512(out + i + kLanes, b);
  }
  for (; i < n; i += kLanes) {
    const size_t r = n - i;
    _mm512_mask_storeu_epi16(out + i, mask32(r), Decode(load_u8_masked(in + i, r)));
  }
}

template <V (*Encode)(V)>
void encode_buf(const int16_t *in, size_t n, uint8_t *out) {
  size_t i = 0;
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    const V a = Encode(_mm512_loadu_si512(in + i));
    const V b = Encode(_mm512_loadu_si512(in + i + kLanes));
    _mm512_storeu_si512(out + i, pack(a, b));
  }
  if (i < n) {
    const size_t r = n - i;  // 1..63
    const size_t rb = r > kLanes ? r - kLanes : 0;
    const V a = Encode(_mm512_maskz_loadu_epi16(mask32(r), in + i));
    const V b = Encode(_mm512_maskz_loadu_epi16(mask32(rb), in + i + kLanes));
    _mm512_mask_storeu_epi8(out + i, mask64(r), pack(a, b));
  }
}

template <V (*Decode)(V), V (*Encode)(V)>
void convert_buf(const uint8_t *in, size_t n, uint8_t *out) {
  size_t i = 0;
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    const V a = Encode(Decode(load_u8(in + i)));
    const V b = Encode(Decode(load_u8(in + i + kLanes)));
    _mm512_storeu_si512(out + i, pack(a, b));
  }
  if (i < n) {
    const size_t r = n - i;
    const V wide = _mm512_maskz_loadu_epi8(mask64(r), in + i);
    const V a = Encode(Decode(_mm512_cvtepu8_epi16(_mm512_castsi512_si256(wide))));
    const V b = Encode(Decode(_mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(wide, 1))));
    _mm512_mask_storeu_epi8(out + i, mask64(r), pack(a, b));
  }
}

}  // namespace

const Kernels kAvx512bwKernels = {CC_G711_AVX512BW,
                                  "avx512bw",
                                  encode_buf<ulaw_encode>,
                                  decode_buf<ulaw_decode>,
                                  encode_buf<alaw_encode>,
                                  decode_buf<alaw_decode>,
                                  convert_buf<ulaw_decode, alaw_encode>,
                                  convert_buf<alaw_decode, ulaw_encode>};

}  // namespace clutchcall::g711
