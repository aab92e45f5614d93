// 16-byte pshufb tables shared by the x86 paths (indices are nibbles; see g711_scalar.h for the
// closed forms they implement). Plain data, so safe to include from any -m flag set.
#ifndef CLUTCHCALL_CORE_G711_G711_X86_TABLES_H
#define CLUTCHCALL_CORE_G711_G711_X86_TABLES_H

#include <cstdint>

namespace clutchcall::g711::x86 {

// bit_width(i) for a 4-bit i.
alignas(16) inline constexpr uint8_t kBitWidthLo[16] = {0, 1, 2, 2, 3, 3, 3, 3,
                                                        4, 4, 4, 4, 4, 4, 4, 4};
// bit_width(16*h + l) for h = 1..7, whatever l is: h's width + 4. Entry 0 must be 0 so that
// max(kBitWidthLo[l], kBitWidthHi[h]) is the width of the whole (up to 7-bit) value.
alignas(16) inline constexpr uint8_t kBitWidthHi[16] = {0, 5, 6, 6, 7, 7, 7, 7,
                                                        7, 7, 7, 7, 7, 7, 7, 7};
// Indexed by (sign << 3 | e) of a decoded code: 1 << e (µ-law decode multiplier).
alignas(16) inline constexpr uint8_t kUlawDecPow[16] = {1, 2, 4, 8, 16, 32, 64, 128,
                                                        1, 2, 4, 8, 16, 32, 64, 128};
// A-law decode: (2m + base) * 8 * pow, base = e ? 33 : 1, pow = 1 << max(e - 1, 0).
alignas(16) inline constexpr uint8_t kAlawDecBase[16] = {1, 33, 33, 33, 33, 33, 33, 33,
                                                         1, 33, 33, 33, 33, 33, 33, 33};
alignas(16) inline constexpr uint8_t kAlawDecPow[16] = {1, 1, 2, 4, 8, 16, 32, 64,
                                                        1, 1, 2, 4, 8, 16, 32, 64};
// µ-law encode, indexed by segment g = 0..7: 1 << (7 - g) (so (a * it) >> 8 == a >> (g + 1)),
// and 143 - 16 g.
alignas(16) inline constexpr uint8_t kUlawEncPow[16] = {128, 64, 32, 16, 8, 4, 2, 1,
                                                        0,   0,  0,  0,  0, 0, 0, 0};
alignas(16) inline constexpr uint8_t kUlawEncBase[16] = {143, 127, 111, 95, 79, 63, 47, 31,
                                                         0,   0,   0,   0,  0,  0,  0,  0};
// A-law encode, indexed by shift s = 0..6: 1 << (6 - s) (so (ix * it) >> 6 == ix >> s), and 16 s.
alignas(16) inline constexpr uint8_t kAlawEncPow[16] = {64, 32, 16, 8, 4, 2, 1, 0,
                                                        0,  0,  0,  0, 0, 0, 0, 0};
alignas(16) inline constexpr uint8_t kAlawEncSeg[16] = {0, 16, 32, 48, 64, 80, 96, 0,
                                                        0, 0,  0,  0,  0,  0,  0,  0};

}  // namespace clutchcall::g711::x86

#endif  // CLUTCHCALL_CORE_G711_G711_X86_TABLES_H
