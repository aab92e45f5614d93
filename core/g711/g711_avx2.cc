// AVX2 path (16 x 16-bit lanes). Compiled with -mavx2 only; reached only after the CPU check.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "g711/g711_impl.h"
#include "g711/g711_x86_tables.h"

namespace clutchcall::g711 {
namespace {

struct Avx2 {
  using V = __m256i;
  static constexpr size_t kLanes = 16;

  static V set1(int16_t v) { return _mm256_set1_epi16(v); }
  static V table(const uint8_t (&t)[16]) {  // same 16-byte table in both 128-bit lanes
    return _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i *>(t)));
  }
  static V load_u8(const uint8_t *p) {  // 16 codes, zero-extended to 16 bits
    return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
  }
  static V load_s16(const int16_t *p) { return _mm256_loadu_si256(reinterpret_cast<const V *>(p)); }
  static void store_s16(int16_t *p, V v) { _mm256_storeu_si256(reinterpret_cast<V *>(p), v); }
  static void store_u8x2(uint8_t *p, V a, V b) {
    // packus works per 128-bit lane: a0 b0 a1 b1 -> restore order a0 a1 b0 b1.
    _mm256_storeu_si256(reinterpret_cast<V *>(p),
                        _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xD8));
  }
  static V add(V a, V b) { return _mm256_add_epi16(a, b); }
  static V sub(V a, V b) { return _mm256_sub_epi16(a, b); }
  static V and_(V a, V b) { return _mm256_and_si256(a, b); }
  static V andnot(V a, V b) { return _mm256_andnot_si256(a, b); }  // ~a & b
  static V or_(V a, V b) { return _mm256_or_si256(a, b); }
  static V xor_(V a, V b) { return _mm256_xor_si256(a, b); }
  template <int N> static V srli(V a) { return _mm256_srli_epi16(a, N); }
  template <int N> static V slli(V a) { return _mm256_slli_epi16(a, N); }
  template <int N> static V srai(V a) { return _mm256_srai_epi16(a, N); }
  static V min_u16(V a, V b) { return _mm256_min_epu16(a, b); }
  static V max_u16(V a, V b) { return _mm256_max_epu16(a, b); }
  static V mullo(V a, V b) { return _mm256_mullo_epi16(a, b); }
  static V shuffle(V table, V idx) { return _mm256_shuffle_epi8(table, idx); }
  static V sign(V a, V s) { return _mm256_sign_epi16(a, s); }
};

#include "g711/g711_x86_generic.inl"

using K = Generic<Avx2>;

}  // namespace

const Kernels kAvx2Kernels = {CC_G711_AVX2,       "avx2",             K::ulaw_encode_buf,
                              K::ulaw_decode_buf, K::alaw_encode_buf, K::alaw_decode_buf,
                              K::ulaw_to_alaw_buf, K::alaw_to_ulaw_buf};

}  // namespace clutchcall::g711
