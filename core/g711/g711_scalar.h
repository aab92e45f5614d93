// Single-sample G.711, constexpr: the scalar path, the source of the tables, and the tails' and
// tests' model. Same results as the G.191 reference loops (alaw_compress, ulaw_compress,
// alaw_expand, ulaw_expand), rewritten in closed form so the SIMD paths can mirror them:
//
//   A-law encode: ix = (x < 0 ? ~x : x) >> 4            (0..2047, one's complement for x < 0)
//                 s  = bit_width(ix >> 5)               (0..6; reference exponent - 1)
//                 code = (16*s + (ix >> s)) | (x >= 0 ? 0x80 : 0), then ^ 0x55
//   µ-law encode: a  = min(((x < 0 ? ~x : x) >> 2) + 33, 0x1FFF)
//                 g  = bit_width(a >> 6)                (0..7; reference segno - 1)
//                 code = (143 - 16*g - (a >> (g+1))) | (x >= 0 ? 0x80 : 0)
//                 (a >> (g+1) is always in 16..31, so this is 127 - (16*g + mantissa))
//   µ-law decode: t = ~code; e = (t >> 4) & 7; m = t & 15
//                 |x| = ((8*m + 132) << e) - 132, negative iff t & 0x80
//   A-law decode: t = code ^ 0x55; e = (t >> 4) & 7; m = t & 15
//                 |x| = e == 0 ? 16*m + 8 : (16*m + 264) << (e - 1), positive iff code & 0x80
//
// Functions are `static` on purpose: this header is included by translation units compiled with
// different -m flags, and internal linkage keeps an AVX-512 copy from being merged into the
// scalar path by the linker.
#ifndef CLUTCHCALL_CORE_G711_G711_SCALAR_H
#define CLUTCHCALL_CORE_G711_G711_SCALAR_H

#include <array>
#include <cstdint>

namespace clutchcall::g711::scalar {

// Number of significant bits of v (0 for 0), branch-free for v < 2^31: 2v|1 is never 0.
// __builtin_clz, not std::bit_width: see above.
static constexpr unsigned bit_width(unsigned v) {
  return 31u - static_cast<unsigned>(__builtin_clz((v << 1) | 1u));
}

// x ^ (x >> 15): x for x >= 0, ~x = -x-1 for x < 0. Always 0..32767.
static constexpr unsigned ones_magnitude(int16_t x) {
  const int sign = x >> 15;  // arithmetic shift (defined in C++20): 0 or -1
  return static_cast<unsigned>(x ^ sign);
}

static constexpr uint8_t alaw_encode(int16_t x) {
  const unsigned ix = ones_magnitude(x) >> 4;
  const unsigned s = bit_width(ix >> 5);  // == (ix < 32 ? 0 : bit_width(ix) - 5)
  const unsigned code = (16u * s + (ix >> s)) | (x >= 0 ? 0x80u : 0u);
  return static_cast<uint8_t>(code ^ 0x55u);
}

static constexpr uint8_t ulaw_encode(int16_t x) {
  unsigned a = (ones_magnitude(x) >> 2) + 33u;
  if (a > 0x1FFFu) a = 0x1FFFu;
  const unsigned g = bit_width(a >> 6);
  const unsigned code = (143u - 16u * g - (a >> (g + 1u))) | (x >= 0 ? 0x80u : 0u);
  return static_cast<uint8_t>(code);
}

static constexpr int16_t ulaw_decode(uint8_t code) {
  const unsigned t = ~static_cast<unsigned>(code) & 0xFFu;
  const unsigned e = (t >> 4) & 7u;
  const unsigned m = t & 15u;
  const int mag = static_cast<int>(((8u * m + 132u) << e) - 132u);
  return static_cast<int16_t>((t & 0x80u) ? -mag : mag);
}

static constexpr int16_t alaw_decode(uint8_t code) {
  const unsigned t = static_cast<unsigned>(code) ^ 0x55u;
  const unsigned e = (t >> 4) & 7u;
  const unsigned m = t & 15u;
  const int mag = static_cast<int>(e == 0 ? 16u * m + 8u : (16u * m + 264u) << (e - 1u));
  return static_cast<int16_t>((code & 0x80u) ? mag : -mag);
}

static constexpr uint8_t ulaw_to_alaw(uint8_t code) { return alaw_encode(ulaw_decode(code)); }
static constexpr uint8_t alaw_to_ulaw(uint8_t code) { return ulaw_encode(alaw_decode(code)); }

template <typename Out, Out (*F)(uint8_t)>
static constexpr std::array<Out, 256> make_table() {
  std::array<Out, 256> t{};
  for (unsigned c = 0; c < 256; ++c) t[c] = F(static_cast<uint8_t>(c));
  return t;
}

}  // namespace clutchcall::g711::scalar

#endif  // CLUTCHCALL_CORE_G711_G711_SCALAR_H
