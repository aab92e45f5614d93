// G.711 against the ITU-T G.191 reference, on every SIMD path (each forced in turn):
//   - both encoders, all 65,536 PCM inputs, against sweep-r.u / sweep-r.a;
//   - both decoders, all 256 codes, against tables read from sweep-r.u-u / sweep-r.a-a and
//     against a literal transcription of the G.191 loops (below), plus the full decode sweeps;
//   - A<->µ direct conversion, all 256 codes, against decode-then-encode of the reference;
//   - every buffer length 0..200 at several misaligned offsets, with guard bytes (tails);
//   - in-place conversion.
// The vector directory is CLUTCHCALL_G711_VECTORS (env) or the CMake cache default.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "g711/g711.h"
#include "g711/g711_scalar.h"

namespace {

// ---- G.191 reference, transcribed loop-for-loop (deliberately NOT the closed forms) ----------

uint8_t ref_alaw_compress(int16_t lin) {
  int ix = lin < 0 ? (~lin) >> 4 : lin >> 4;
  if (ix > 15) {
    int iexp = 1;
    while (ix > 16 + 15) {
      ix >>= 1;
      iexp++;
    }
    ix -= 16;
    ix += iexp << 4;
  }
  if (lin >= 0) ix |= 0x80;
  return static_cast<uint8_t>(ix ^ 0x55);
}

int16_t ref_alaw_expand(uint8_t log) {
  int ix = log ^ 0x55;
  ix &= 0x7F;
  const int iexp = ix >> 4;
  int mant = ix & 0x0F;
  if (iexp > 0) mant += 16;
  mant = (mant << 4) + 8;
  if (iexp > 1) mant <<= (iexp - 1);
  return static_cast<int16_t>(log > 127 ? mant : -mant);
}

uint8_t ref_ulaw_compress(int16_t lin) {
  int absno = lin < 0 ? ((~lin) >> 2) + 33 : (lin >> 2) + 33;
  if (absno > 0x1FFF) absno = 0x1FFF;
  int i = absno >> 6;
  int segno = 1;
  while (i != 0) {
    segno++;
    i >>= 1;
  }
  const int high = 8 - segno;
  const int low = 0x0F - ((absno >> segno) & 0x0F);
  int code = (high << 4) | low;
  if (lin >= 0) code |= 0x80;
  return static_cast<uint8_t>(code);
}

int16_t ref_ulaw_expand(uint8_t log) {
  const int sign = log < 0x80 ? -1 : 1;
  int mantissa = ~log;
  const int exponent = (mantissa >> 4) & 0x07;
  const int segment = exponent + 1;
  mantissa &= 0x0F;
  const int step = 4 << segment;
  return static_cast<int16_t>(sign * ((0x80 << exponent) + step * mantissa + step / 2 - 4 * 33));
}

// ---- ITU vector files --------------------------------------------------------------------------

std::string vectors_dir() {
  if (const char *env = std::getenv("CLUTCHCALL_G711_VECTORS"); env != nullptr && *env != '\0') {
    return env;
  }
  return CLUTCHCALL_G711_VECTORS_DEFAULT;
}

// 65536 little-endian 16-bit words, or nullopt if the file is missing or has the wrong size.
std::optional<std::vector<uint16_t>> read_words(const std::string &name) {
  std::ifstream f(vectors_dir() + "/" + name, std::ios::binary);
  if (!f) return std::nullopt;
  std::vector<unsigned char> bytes(131072);
  f.read(reinterpret_cast<char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (f.gcount() != 131072 || f.peek() != std::char_traits<char>::eof()) return std::nullopt;
  std::vector<uint16_t> w(65536);
  for (size_t i = 0; i < w.size(); ++i) {
    w[i] = static_cast<uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8));
  }
  return w;
}

struct Vectors {
  std::vector<int16_t> src;           // sweep.src
  std::vector<uint8_t> ulaw, alaw;    // sweep-r.u, sweep-r.a
  std::vector<int16_t> ulaw_dec, alaw_dec;  // sweep-r.u-u, sweep-r.a-a
  std::array<int16_t, 256> ulaw_table{}, alaw_table{};  // code -> PCM, from the files
};

const Vectors *load_vectors(std::string *why) {
  static std::string reason;
  static const std::optional<Vectors> v = []() -> std::optional<Vectors> {
    Vectors out;
    const char *names[] = {"sweep.src", "sweep-r.u", "sweep-r.a", "sweep-r.u-u", "sweep-r.a-a"};
    std::vector<uint16_t> w[5];
    for (int i = 0; i < 5; ++i) {
      auto r = read_words(names[i]);
      if (!r) {
        reason = "ITU-T G.191 vector " + vectors_dir() + "/" + names[i] +
                 " missing or not 131072 bytes (set CLUTCHCALL_G711_VECTORS)";
        return std::nullopt;
      }
      w[i] = std::move(*r);
    }
    for (size_t i = 0; i < 65536; ++i) {
      out.src.push_back(static_cast<int16_t>(w[0][i]));
      out.ulaw.push_back(static_cast<uint8_t>(w[1][i]));
      out.alaw.push_back(static_cast<uint8_t>(w[2][i]));
      out.ulaw_dec.push_back(static_cast<int16_t>(w[3][i]));
      out.alaw_dec.push_back(static_cast<int16_t>(w[4][i]));
      if (w[1][i] > 0xFF || w[2][i] > 0xFF) {
        reason = "code word above 0xFF in sweep-r.u/sweep-r.a";
        return std::nullopt;
      }
    }
    // Decode tables from the files. Every code must occur and decode consistently.
    std::array<bool, 256> seen_u{}, seen_a{};
    for (size_t i = 0; i < 65536; ++i) {
      const uint8_t cu = out.ulaw[i], ca = out.alaw[i];
      if (seen_u[cu] && out.ulaw_table[cu] != out.ulaw_dec[i]) return std::nullopt;
      if (seen_a[ca] && out.alaw_table[ca] != out.alaw_dec[i]) return std::nullopt;
      seen_u[cu] = seen_a[ca] = true;
      out.ulaw_table[cu] = out.ulaw_dec[i];
      out.alaw_table[ca] = out.alaw_dec[i];
    }
    for (int c = 0; c < 256; ++c) {
      if (!seen_u[static_cast<size_t>(c)] || !seen_a[static_cast<size_t>(c)]) {
        reason = "a code never occurs in the ITU sweep";
        return std::nullopt;
      }
    }
    return out;
  }();
  if (!v) {
    *why = reason;
    return nullptr;
  }
  return &*v;
}

#define REQUIRE_VECTORS(var)                                              \
  std::string why_;                                                       \
  const Vectors *var = load_vectors(&why_);                               \
  if (var == nullptr) {                                                   \
    std::printf("SKIPPED: %s\n", why_.c_str());                           \
    GTEST_SKIP() << why_;                                                 \
  }

// ---- Path-independent checks ------------------------------------------------------------------

TEST(G711Reference, TranscriptionMatchesItuFiles) {
  REQUIRE_VECTORS(v);
  for (size_t i = 0; i < 65536; ++i) {
    ASSERT_EQ(v->src[i], static_cast<int16_t>(static_cast<int>(i) - 32768)) << i;
    ASSERT_EQ(ref_ulaw_compress(v->src[i]), v->ulaw[i]) << v->src[i];
    ASSERT_EQ(ref_alaw_compress(v->src[i]), v->alaw[i]) << v->src[i];
    ASSERT_EQ(ref_ulaw_expand(v->ulaw[i]), v->ulaw_dec[i]) << int{v->ulaw[i]};
    ASSERT_EQ(ref_alaw_expand(v->alaw[i]), v->alaw_dec[i]) << int{v->alaw[i]};
  }
}

TEST(G711Reference, ClosedFormsMatchTranscription) {
  for (int x = -32768; x <= 32767; ++x) {
    const auto s = static_cast<int16_t>(x);
    ASSERT_EQ(clutchcall::g711::scalar::ulaw_encode(s), ref_ulaw_compress(s)) << x;
    ASSERT_EQ(clutchcall::g711::scalar::alaw_encode(s), ref_alaw_compress(s)) << x;
  }
  for (int c = 0; c < 256; ++c) {
    const auto b = static_cast<uint8_t>(c);
    ASSERT_EQ(clutchcall::g711::scalar::ulaw_decode(b), ref_ulaw_expand(b)) << c;
    ASSERT_EQ(clutchcall::g711::scalar::alaw_decode(b), ref_alaw_expand(b)) << c;
  }
}

// Spot values any G.711 implementation must give (independent of the files).
TEST(G711Reference, KnownValues) {
  using namespace clutchcall::g711;
  static_assert(scalar::ulaw_encode(0) == 0xFF);
  static_assert(scalar::ulaw_encode(-1) == 0x7F);
  static_assert(scalar::alaw_encode(0) == 0xD5);
  static_assert(scalar::alaw_encode(-1) == 0x55);
  static_assert(scalar::ulaw_decode(0x00) == -32124);
  static_assert(scalar::ulaw_decode(0x80) == 32124);
  static_assert(scalar::alaw_decode(0xAA) == 32256);
  static_assert(scalar::alaw_decode(0x2A) == -32256);
  EXPECT_EQ(ref_ulaw_expand(0xFF), 0);
  EXPECT_EQ(ref_alaw_expand(0xD5), 8);
}

TEST(G711Dispatch, LevelsAndNames) {
  EXPECT_STREQ(cc_g711_level_name(CC_G711_SCALAR), "scalar");
  EXPECT_STREQ(cc_g711_level_name(CC_G711_SSE41), "sse4.1");
  EXPECT_STREQ(cc_g711_level_name(CC_G711_AVX2), "avx2");
  EXPECT_STREQ(cc_g711_level_name(CC_G711_AVX512BW), "avx512bw");
  EXPECT_EQ(cc_g711_level_supported(CC_G711_SCALAR), 1);
  const cc_g711_level best = cc_g711_best_level();
  EXPECT_EQ(cc_g711_level_supported(best), 1);
  for (int l = best + 1; l <= CC_G711_AVX512BW; ++l) {
    EXPECT_EQ(cc_g711_level_supported(static_cast<cc_g711_level>(l)), 0);
    EXPECT_EQ(cc_g711_force_level(static_cast<cc_g711_level>(l)), -1);
  }
  ASSERT_EQ(cc_g711_force_level(CC_G711_SCALAR), 0);
  EXPECT_STREQ(clutchcall::g711::simd_level(), "scalar");
  cc_g711_reset_level();
  EXPECT_EQ(cc_g711_current_level(), best);
  EXPECT_STREQ(cc_g711_simd_level(), cc_g711_level_name(best));
  std::printf("best G.711 path on this machine: %s\n", cc_g711_simd_level());
}

// ---- Every path, forced -----------------------------------------------------------------------

class G711Path : public ::testing::TestWithParam<cc_g711_level> {
 protected:
  void SetUp() override {
    if (cc_g711_force_level(GetParam()) != 0) {
      std::printf("SKIPPED: path %s not supported by this CPU/build\n",
                  cc_g711_level_name(GetParam()));
      GTEST_SKIP() << "path " << cc_g711_level_name(GetParam()) << " not supported here";
    }
    ASSERT_STREQ(cc_g711_simd_level(), cc_g711_level_name(GetParam()));
  }
  void TearDown() override { cc_g711_reset_level(); }
};

TEST_P(G711Path, EncodersMatchItuSweep) {
  REQUIRE_VECTORS(v);
  std::vector<uint8_t> out(65536);
  cc_g711_ulaw_encode(v->src.data(), v->src.size(), out.data());
  for (size_t i = 0; i < 65536; ++i) ASSERT_EQ(out[i], v->ulaw[i]) << "ulaw x=" << v->src[i];
  cc_g711_alaw_encode(v->src.data(), v->src.size(), out.data());
  for (size_t i = 0; i < 65536; ++i) ASSERT_EQ(out[i], v->alaw[i]) << "alaw x=" << v->src[i];
}

TEST_P(G711Path, DecodersMatchItuForAllCodes) {
  REQUIRE_VECTORS(v);
  std::array<uint8_t, 256> codes{};
  for (size_t c = 0; c < 256; ++c) codes[c] = static_cast<uint8_t>(c);
  std::array<int16_t, 256> out{};
  cc_g711_ulaw_decode(codes.data(), 256, out.data());
  for (size_t c = 0; c < 256; ++c) {
    ASSERT_EQ(out[c], v->ulaw_table[c]) << "ulaw code " << c;
    ASSERT_EQ(out[c], ref_ulaw_expand(codes[c])) << "ulaw code " << c;
  }
  cc_g711_alaw_decode(codes.data(), 256, out.data());
  for (size_t c = 0; c < 256; ++c) {
    ASSERT_EQ(out[c], v->alaw_table[c]) << "alaw code " << c;
    ASSERT_EQ(out[c], ref_alaw_expand(codes[c])) << "alaw code " << c;
  }
}

TEST_P(G711Path, DecodersMatchItuSweep) {
  REQUIRE_VECTORS(v);
  std::vector<int16_t> out(65536);
  cc_g711_ulaw_decode(v->ulaw.data(), 65536, out.data());
  EXPECT_EQ(out, v->ulaw_dec);
  cc_g711_alaw_decode(v->alaw.data(), 65536, out.data());
  EXPECT_EQ(out, v->alaw_dec);
}

TEST_P(G711Path, DirectConversionIsDecodeThenEncode) {
  REQUIRE_VECTORS(v);
  std::array<uint8_t, 256> codes{}, out{};
  for (size_t c = 0; c < 256; ++c) codes[c] = static_cast<uint8_t>(c);
  cc_g711_ulaw_to_alaw(codes.data(), 256, out.data());
  for (size_t c = 0; c < 256; ++c) {
    ASSERT_EQ(out[c], ref_alaw_compress(v->ulaw_table[c])) << "ulaw->alaw code " << c;
  }
  cc_g711_alaw_to_ulaw(codes.data(), 256, out.data());
  for (size_t c = 0; c < 256; ++c) {
    ASSERT_EQ(out[c], ref_ulaw_compress(v->alaw_table[c])) << "alaw->ulaw code " << c;
  }
  // In place.
  std::array<uint8_t, 256> inplace = codes;
  cc_g711_ulaw_to_alaw(inplace.data(), 256, inplace.data());
  cc_g711_ulaw_to_alaw(codes.data(), 256, out.data());
  EXPECT_EQ(inplace, out);
}

// Lengths 0..200 at misaligned offsets; guard elements on both sides must stay untouched.
TEST_P(G711Path, AllLengthsAndOffsets) {
  constexpr size_t kMax = 200, kPad = 80;
  std::vector<int16_t> pcm(kMax + 2 * kPad);
  std::vector<uint8_t> codes(kMax + 2 * kPad);
  uint32_t seed = 12345;
  for (size_t i = 0; i < pcm.size(); ++i) {
    seed = seed * 1664525u + 1013904223u;
    pcm[i] = static_cast<int16_t>(seed >> 16);
    codes[i] = static_cast<uint8_t>(seed >> 8);
  }
  constexpr uint8_t kGuard8 = 0xA5;
  constexpr int16_t kGuard16 = 0x5A5A;
  for (size_t off = 0; off < 8; ++off) {
    for (size_t n = 0; n <= kMax; ++n) {
      const int16_t *pin = pcm.data() + off;
      const uint8_t *cin = codes.data() + off;
      std::vector<uint8_t> o8(kMax + 2 * kPad, kGuard8);
      std::vector<int16_t> o16(kMax + 2 * kPad, kGuard16);
      const size_t oo = kPad + (off * 3) % 8;  // output misaligned differently from input

      auto check8 = [&](uint8_t (*model)(uint8_t, int16_t), const char *what) {
        for (size_t i = 0; i < o8.size(); ++i) {
          if (i < oo || i >= oo + n) {
            ASSERT_EQ(o8[i], kGuard8) << what << " wrote outside n=" << n << " off=" << off;
          } else {
            ASSERT_EQ(o8[i], model(cin[i - oo], pin[i - oo])) << what << " n=" << n << " i=" << i - oo;
          }
        }
        std::fill(o8.begin(), o8.end(), kGuard8);
      };
      auto check16 = [&](int16_t (*model)(uint8_t), const char *what) {
        for (size_t i = 0; i < o16.size(); ++i) {
          if (i < oo || i >= oo + n) {
            ASSERT_EQ(o16[i], kGuard16) << what << " wrote outside n=" << n << " off=" << off;
          } else {
            ASSERT_EQ(o16[i], model(cin[i - oo])) << what << " n=" << n << " i=" << i - oo;
          }
        }
        std::fill(o16.begin(), o16.end(), kGuard16);
      };

      cc_g711_ulaw_encode(pin, n, o8.data() + oo);
      check8([](uint8_t, int16_t x) { return ref_ulaw_compress(x); }, "ulaw_encode");
      cc_g711_alaw_encode(pin, n, o8.data() + oo);
      check8([](uint8_t, int16_t x) { return ref_alaw_compress(x); }, "alaw_encode");
      cc_g711_ulaw_to_alaw(cin, n, o8.data() + oo);
      check8([](uint8_t c, int16_t) { return ref_alaw_compress(ref_ulaw_expand(c)); }, "u2a");
      cc_g711_alaw_to_ulaw(cin, n, o8.data() + oo);
      check8([](uint8_t c, int16_t) { return ref_ulaw_compress(ref_alaw_expand(c)); }, "a2u");
      cc_g711_ulaw_decode(cin, n, o16.data() + oo);
      check16(ref_ulaw_expand, "ulaw_decode");
      cc_g711_alaw_decode(cin, n, o16.data() + oo);
      check16(ref_alaw_expand, "alaw_decode");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllPaths, G711Path,
                         ::testing::Values(CC_G711_SCALAR, CC_G711_SSE41, CC_G711_AVX2,
                                           CC_G711_AVX512BW),
                         [](const ::testing::TestParamInfo<cc_g711_level> &p) {
                           switch (p.param) {
                             case CC_G711_SCALAR:
                               return std::string("scalar");
                             case CC_G711_SSE41:
                               return std::string("sse41");
                             case CC_G711_AVX2:
                               return std::string("avx2");
                             case CC_G711_AVX512BW:
                               return std::string("avx512bw");
                           }
                           return std::string("unknown");
                         });

}  // namespace
