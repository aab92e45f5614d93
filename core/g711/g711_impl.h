// Internal: the per-path kernel tables and the dispatcher's view of them.
#ifndef CLUTCHCALL_CORE_G711_G711_IMPL_H
#define CLUTCHCALL_CORE_G711_G711_IMPL_H

#include <cstddef>
#include <cstdint>

#include "g711/g711.h"

namespace clutchcall::g711 {

// One complete set of buffer kernels; every member is non-null.
struct Kernels {
  cc_g711_level level;
  const char *name;
  void (*ulaw_encode)(const int16_t *, size_t, uint8_t *);
  void (*ulaw_decode)(const uint8_t *, size_t, int16_t *);
  void (*alaw_encode)(const int16_t *, size_t, uint8_t *);
  void (*alaw_decode)(const uint8_t *, size_t, int16_t *);
  void (*ulaw_to_alaw)(const uint8_t *, size_t, uint8_t *);
  void (*alaw_to_ulaw)(const uint8_t *, size_t, uint8_t *);
};

extern const Kernels kScalarKernels;
#if defined(CLUTCHCALL_G711_X86)
// Each defined in its own translation unit compiled with that path's -m flags; only called
// after the CPU check in g711.cc.
extern const Kernels kSse41Kernels;
extern const Kernels kAvx2Kernels;
extern const Kernels kAvx512bwKernels;
#endif

}  // namespace clutchcall::g711

#endif  // CLUTCHCALL_CORE_G711_G711_IMPL_H
