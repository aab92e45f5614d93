// Public C API and runtime dispatch: detect the best path once, keep it in an atomic pointer
// (so cc_g711_force_level is safe against concurrent calls), forward every call through it.
#include "g711/g711.h"

#include <atomic>

#include "g711/g711_impl.h"

namespace clutchcall::g711 {
namespace {

const Kernels *kernels_for(cc_g711_level level) {
  switch (level) {
    case CC_G711_SCALAR:
      return &kScalarKernels;
#if defined(CLUTCHCALL_G711_X86)
    case CC_G711_SSE41:
      return &kSse41Kernels;
    case CC_G711_AVX2:
      return &kAvx2Kernels;
    case CC_G711_AVX512BW:
      return &kAvx512bwKernels;
#else
    default:
      break;
#endif
  }
  return nullptr;
}

bool cpu_supports(cc_g711_level level) {
#if defined(CLUTCHCALL_G711_X86)
  // libgcc/compiler-rt also check XCR0 (OS saves the YMM/ZMM state), not just CPUID.
  __builtin_cpu_init();
  switch (level) {
    case CC_G711_SCALAR:
      return true;
    case CC_G711_SSE41:
      return __builtin_cpu_supports("sse4.1");
    case CC_G711_AVX2:
      return __builtin_cpu_supports("avx2");
    case CC_G711_AVX512BW:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  }
  return false;
#else
  return level == CC_G711_SCALAR;
#endif
}

cc_g711_level detect_best() {
  for (int l = CC_G711_AVX512BW; l > CC_G711_SCALAR; --l) {
    const auto level = static_cast<cc_g711_level>(l);
    if (kernels_for(level) != nullptr && cpu_supports(level)) return level;
  }
  return CC_G711_SCALAR;
}

// Chosen once (thread-safe static init).
cc_g711_level best_level() {
  static const cc_g711_level best = detect_best();
  return best;
}

std::atomic<const Kernels *> g_active{nullptr};

const Kernels &active() {
  const Kernels *k = g_active.load(std::memory_order_acquire);
  if (k != nullptr) return *k;
  const cc_g711_level level = best_level();
  const Kernels *best = kernels_for(level);
  const Kernels *expected = nullptr;
  // Only the first caller installs the default; a concurrent force_level wins over it.
  if (g_active.compare_exchange_strong(expected, best, std::memory_order_acq_rel)) return *best;
  return *expected;
}

}  // namespace
}  // namespace clutchcall::g711

using clutchcall::g711::active;

extern "C" {

void cc_g711_ulaw_encode(const int16_t *pcm, size_t n, uint8_t *codes) {
  active().ulaw_encode(pcm, n, codes);
}
void cc_g711_ulaw_decode(const uint8_t *codes, size_t n, int16_t *pcm) {
  active().ulaw_decode(codes, n, pcm);
}
void cc_g711_alaw_encode(const int16_t *pcm, size_t n, uint8_t *codes) {
  active().alaw_encode(pcm, n, codes);
}
void cc_g711_alaw_decode(const uint8_t *codes, size_t n, int16_t *pcm) {
  active().alaw_decode(codes, n, pcm);
}
void cc_g711_ulaw_to_alaw(const uint8_t *ulaw, size_t n, uint8_t *alaw) {
  active().ulaw_to_alaw(ulaw, n, alaw);
}
void cc_g711_alaw_to_ulaw(const uint8_t *alaw, size_t n, uint8_t *ulaw) {
  active().alaw_to_ulaw(alaw, n, ulaw);
}

const char *cc_g711_simd_level(void) { return active().name; }

const char *cc_g711_level_name(cc_g711_level level) {
  switch (level) {
    case CC_G711_SCALAR:
      return "scalar";
    case CC_G711_SSE41:
      return "sse4.1";
    case CC_G711_AVX2:
      return "avx2";
    case CC_G711_AVX512BW:
      return "avx512bw";
  }
  return "?";
}

cc_g711_level cc_g711_current_level(void) { return active().level; }

cc_g711_level cc_g711_best_level(void) { return clutchcall::g711::best_level(); }

int cc_g711_level_supported(cc_g711_level level) {
  return clutchcall::g711::kernels_for(level) != nullptr && clutchcall::g711::cpu_supports(level)
             ? 1
             : 0;
}

int cc_g711_force_level(cc_g711_level level) {
  if (cc_g711_level_supported(level) == 0) return -1;
  clutchcall::g711::g_active.store(clutchcall::g711::kernels_for(level), std::memory_order_release);
  return 0;
}

void cc_g711_reset_level(void) { (void)cc_g711_force_level(clutchcall::g711::best_level()); }

}  // extern "C"
