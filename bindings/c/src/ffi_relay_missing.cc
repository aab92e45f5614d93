// The relay entry points when core/relay is not part of the build (no AF_XDP/io_uring toolchain):
// the ABI keeps the same symbols and answers CC_ERR_UNSUPPORTED (cc_ffi_has("relay") is 0).
#include <cstring>

#include "ffi_common.h"

using clutchcall::ffi::zero;

namespace {
constexpr char kMessage[] = "the relay engine is not built into this library";
}  // namespace

extern "C" {

void cc_relay_config_default(cc_relay_config *out) {
  if (out != nullptr) std::memset(out, 0, sizeof *out);
}
cc_status cc_relay_start(const cc_relay_config *, cc_relay **out) {
  if (out != nullptr) *out = nullptr;
  return CC_ERR_UNSUPPORTED;
}
cc_status cc_relay_stop(cc_relay *) { return CC_ERR_UNSUPPORTED; }
void cc_relay_destroy(cc_relay *) {}
cc_status cc_relay_last_error(char *buf, size_t cap, size_t *len) {
  if (len == nullptr || (buf == nullptr && cap != 0)) return CC_ERR_NULL_ARG;
  *len = sizeof kMessage - 1;
  if (cap < sizeof kMessage - 1) return CC_ERR_BUFFER_TOO_SMALL;
  std::memcpy(buf, kMessage, sizeof kMessage - 1);
  return CC_OK;
}
const char *cc_relay_backend(const cc_relay *) { return ""; }
cc_status cc_relay_fallback_reason(const cc_relay *, char *, size_t, size_t *len) {
  zero(len);
  return CC_ERR_UNSUPPORTED;
}
cc_status cc_relay_xdp_mode(const cc_relay *, char *, size_t, size_t *len) {
  zero(len);
  return CC_ERR_UNSUPPORTED;
}
cc_status cc_relay_shard_count(const cc_relay *, uint32_t *) { return CC_ERR_UNSUPPORTED; }
void cc_relay_leg_default(cc_relay_leg *out) {
  if (out != nullptr) std::memset(out, 0, sizeof *out);
}
cc_status cc_relay_add_call(cc_relay *, uint64_t, const cc_relay_leg *, const cc_relay_leg *) {
  return CC_ERR_UNSUPPORTED;
}
cc_status cc_relay_remove_call(cc_relay *, uint64_t, cc_relay_call_stats *) {
  return CC_ERR_UNSUPPORTED;
}
cc_status cc_relay_get_call_stats(const cc_relay *, uint64_t, cc_relay_call_stats *) {
  return CC_ERR_UNSUPPORTED;
}
cc_status cc_relay_call_ids(const cc_relay *, uint64_t *, size_t, size_t *n) {
  zero(n);
  return CC_ERR_UNSUPPORTED;
}
cc_status cc_relay_get_shard_stats(const cc_relay *, uint32_t, cc_relay_shard_stats *) {
  return CC_ERR_UNSUPPORTED;
}

}  // extern "C"
