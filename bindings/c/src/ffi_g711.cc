// G.711 entry points of the C ABI: capacity-checked wrappers of core/g711 plus the SIMD control.
#include <cstring>

#include "ffi_common.h"
#include "g711/g711.h"

using clutchcall::ffi::guarded;
using clutchcall::ffi::present;

namespace {

template <class In, class Out>
cc_status run(void (*kernel)(const In *, size_t, Out *), const In *in, size_t n, Out *out,
              size_t out_cap) noexcept {
  return guarded([&] {
    if (!present(in, n) || !present(out, out_cap)) return CC_ERR_NULL_ARG;
    if (out_cap < n) return CC_ERR_BUFFER_TOO_SMALL;
    if (n != 0) kernel(in, n, out);
    return CC_OK;
  });
}

// Name -> level; false for unknown names.
bool level_of(const char *name, cc_g711_level *level) noexcept {
  if (name == nullptr) return false;
  for (int i = CC_G711_SCALAR; i <= CC_G711_AVX512BW; ++i) {
    const auto l = static_cast<cc_g711_level>(i);
    if (std::strcmp(name, cc_g711_level_name(l)) == 0) {
      *level = l;
      return true;
    }
  }
  return false;
}

}  // namespace

extern "C" {

cc_status cc_ulaw_encode(const int16_t *pcm, size_t n, uint8_t *out, size_t out_cap) {
  return run(cc_g711_ulaw_encode, pcm, n, out, out_cap);
}
cc_status cc_ulaw_decode(const uint8_t *codes, size_t n, int16_t *out, size_t out_cap) {
  return run(cc_g711_ulaw_decode, codes, n, out, out_cap);
}
cc_status cc_alaw_encode(const int16_t *pcm, size_t n, uint8_t *out, size_t out_cap) {
  return run(cc_g711_alaw_encode, pcm, n, out, out_cap);
}
cc_status cc_alaw_decode(const uint8_t *codes, size_t n, int16_t *out, size_t out_cap) {
  return run(cc_g711_alaw_decode, codes, n, out, out_cap);
}
cc_status cc_ulaw_to_alaw(const uint8_t *ulaw, size_t n, uint8_t *out, size_t out_cap) {
  return run(cc_g711_ulaw_to_alaw, ulaw, n, out, out_cap);
}
cc_status cc_alaw_to_ulaw(const uint8_t *alaw, size_t n, uint8_t *out, size_t out_cap) {
  return run(cc_g711_alaw_to_ulaw, alaw, n, out, out_cap);
}

const char *cc_simd_level(void) { return cc_g711_simd_level(); }

int32_t cc_simd_supported(const char *name) {
  cc_g711_level level{};
  return level_of(name, &level) && cc_g711_level_supported(level) ? 1 : 0;
}

cc_status cc_simd_force(const char *name) {
  return guarded([&] {
    cc_g711_level level{};
    if (name == nullptr) return CC_ERR_NULL_ARG;
    if (!level_of(name, &level)) return CC_ERR_INVALID_ARG;
    return cc_g711_force_level(level) == 0 ? CC_OK : CC_ERR_UNSUPPORTED;
  });
}

void cc_simd_reset(void) { cc_g711_reset_level(); }

}  // extern "C"
