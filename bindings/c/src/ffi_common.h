// Shared helpers of the C ABI's implementation files (never installed, never exported).
#ifndef CLUTCHCALL_BINDINGS_C_FFI_COMMON_H
#define CLUTCHCALL_BINDINGS_C_FFI_COMMON_H

#include <cstddef>
#include <exception>

#include "clutchcall_core_ffi.h"

namespace clutchcall::ffi {

// Runs `body` (returning cc_status) so that no exception escapes an entry point: the ABI rule
// "exceptions never cross" lives here, once.
template <class F>
cc_status guarded(F &&body) noexcept {
  try {
    return body();
  } catch (...) {
    return CC_ERR_INTERNAL;
  }
}

// Sets a count out-parameter to 0 when it exists (the "on error, counts are 0" rule).
inline void zero(size_t *count) noexcept {
  if (count != nullptr) *count = 0;
}

// A pointer is acceptable if it is non-NULL or its count is 0.
template <class T>
inline bool present(const T *p, size_t n) noexcept {
  return p != nullptr || n == 0;
}

}  // namespace clutchcall::ffi

#endif  // CLUTCHCALL_BINDINGS_C_FFI_COMMON_H
