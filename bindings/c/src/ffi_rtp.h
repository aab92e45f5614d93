// RTP helpers shared with the jitter buffer's entry points.
#ifndef CLUTCHCALL_BINDINGS_C_FFI_RTP_H
#define CLUTCHCALL_BINDINGS_C_FFI_RTP_H

#include "clutchcall_core_ffi.h"
#include "rtp/rtp.h"

namespace clutchcall::ffi {
cc_status map_rtp(cc_rtp_status s) noexcept;
// Parse with the ABI's checks (length limit, status mapping); `packet` views `data`.
cc_status parse_rtp(const uint8_t *data, size_t len, cc_rtp_packet *packet) noexcept;
}  // namespace clutchcall::ffi

#endif  // CLUTCHCALL_BINDINGS_C_FFI_RTP_H
