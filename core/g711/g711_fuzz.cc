// libFuzzer target: differential check of every supported SIMD path against the scalar path on
// arbitrary bytes (read both as codes and as 16-bit PCM), at arbitrary lengths and offsets.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "g711/g711.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const size_t n16 = size / 2;
  std::vector<int16_t> pcm(n16);
  if (n16 != 0) std::memcpy(pcm.data(), data, n16 * 2);

  std::vector<uint8_t> ue_ref(n16), ae_ref(n16), u2a_ref(size), a2u_ref(size);
  std::vector<int16_t> ud_ref(size), ad_ref(size);
  if (cc_g711_force_level(CC_G711_SCALAR) != 0) std::abort();
  cc_g711_ulaw_encode(pcm.data(), n16, ue_ref.data());
  cc_g711_alaw_encode(pcm.data(), n16, ae_ref.data());
  cc_g711_ulaw_decode(data, size, ud_ref.data());
  cc_g711_alaw_decode(data, size, ad_ref.data());
  cc_g711_ulaw_to_alaw(data, size, u2a_ref.data());
  cc_g711_alaw_to_ulaw(data, size, a2u_ref.data());

  for (int l = CC_G711_SSE41; l <= CC_G711_AVX512BW; ++l) {
    if (cc_g711_force_level(static_cast<cc_g711_level>(l)) != 0) continue;
    std::vector<uint8_t> b8(size > n16 ? size : n16);
    std::vector<int16_t> b16(size);
    cc_g711_ulaw_encode(pcm.data(), n16, b8.data());
    if (n16 != 0 && std::memcmp(b8.data(), ue_ref.data(), n16) != 0) std::abort();
    cc_g711_alaw_encode(pcm.data(), n16, b8.data());
    if (n16 != 0 && std::memcmp(b8.data(), ae_ref.data(), n16) != 0) std::abort();
    cc_g711_ulaw_to_alaw(data, size, b8.data());
    if (size != 0 && std::memcmp(b8.data(), u2a_ref.data(), size) != 0) std::abort();
    cc_g711_alaw_to_ulaw(data, size, b8.data());
    if (size != 0 && std::memcmp(b8.data(), a2u_ref.data(), size) != 0) std::abort();
    cc_g711_ulaw_decode(data, size, b16.data());
    if (b16 != ud_ref) std::abort();
    cc_g711_alaw_decode(data, size, b16.data());
    if (b16 != ad_ref) std::abort();
  }
  cc_g711_reset_level();
  return 0;
}
