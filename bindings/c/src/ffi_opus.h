// Opus helpers shared with the transcoder's entry points (status mapping, settings conversion).
#ifndef CLUTCHCALL_BINDINGS_C_FFI_OPUS_H
#define CLUTCHCALL_BINDINGS_C_FFI_OPUS_H

#include "clutchcall_core_ffi.h"
#include "opus/opus_codec.h"

namespace clutchcall::ffi {
cc_status map_opus(cc_opus_status s) noexcept;
cc_opus_encoder_settings to_core(const cc_opus_settings *s) noexcept;
}  // namespace clutchcall::ffi

#endif  // CLUTCHCALL_BINDINGS_C_FFI_OPUS_H
