// SSE4.1 path (8 x 16-bit lanes). Compiled with -msse4.1 only; reached only after the CPU check.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "g711/g711_impl.h"
#include "g711/g711_x86_tables.h"

namespace clutchcall::g711 {
namespace {

struct Sse41 {
  using V = __m128i;
  static constexpr size_t kLanes = 8;

  static V set1(int16_t v) { return _mm_set1_epi16(v); }
  static V table(const uint8_t (&t)[16]) { return _mm_load_si128(reinterpret_cast<const V *>(t)); }
  static V load_u8(const uint8_t *p) {  // 8 codes, zero-extended to 16 bits
    return _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const V *>(p)));
  }
  static V load_s16(const int16_t *p) { return _mm_loadu_si128(reinterpret_cast<const V *>(p)); }
  static void store_s16(int16_t *p, V v) { _mm_storeu_si128(reinterpret_cast<V *>(p), v); }
  static void store_u8x2(uint8_t *p, V a, V b) {  // 16 lanes holding 0..255 -> 16 bytes
    _mm_storeu_si128(reinterpret_cast<V *>(p), _mm_packus_epi16(a, b));
  }
  static V add(V a, V b) { return _mm_add_epi16(a, b); }
  static V sub(V a, V b) { return _mm_sub_epi16(a, b); }
  static V and_(V a, V b) { return _mm_and_si128(a, b); }
  static V andnot(V a, V b) { return _mm_andnot_si128(a, b); }  // ~a & b
  static V or_(V a, V b) { return _mm_or_si128(a, b); }
  static V xor_(V a, V b) { return _mm_xor_si128(a, b); }
  template <int N> static V srli(V a) { return _mm_srli_epi16(a, N); }
  template <int N> static V slli(V a) { return _mm_slli_epi16(a, N); }
  template <int N> static V srai(V a) { return _mm_srai_epi16(a, N); }
  static V min_u16(V a, V b) { return _mm_min_epu16(a, b); }
  static V max_u16(V a, V b) { return _mm_max_epu16(a, b); }
  static V mullo(V a, V b) { return _mm_mullo_epi16(a, b); }
  static V shuffle(V table, V idx) { return _mm_shuffle_epi8(table, idx); }
  static V sign(V a, V s) { return _mm_sign_epi16(a, s); }
};

#include "g711/g711_x86_generic.inl"

using K = Generic<Sse41>;

}  // namespace

const Kernels kSse41Kernels = {CC_G711_SSE41,      "sse4.1",           K::ulaw_encode_buf,
                               K::ulaw_decode_buf, K::alaw_encode_buf, K::alaw_decode_buf,
                               K::ulaw_to_alaw_buf, K::alaw_to_ulaw_buf};

}  // namespace clutchcall::g711
