// Version, component query and status names of the C ABI.
#include <cstring>

#include "clutchcall_core_ffi.h"

extern "C" {

uint32_t cc_ffi_version(void) {
  return (static_cast<uint32_t>(CC_FFI_VERSION_MAJOR) << 16) |
         static_cast<uint32_t>(CC_FFI_VERSION_MINOR);
}

int32_t cc_ffi_has(const char *component) {
  if (component == nullptr) return 0;
  // CC_FFI_COMPONENTS is set by CMake: the present components, each followed by a comma.
  const char *list = CC_FFI_COMPONENTS;
  const size_t n = std::strlen(component);
  if (n == 0) return 0;
  for (const char *p = std::strstr(list, component); p != nullptr; p = std::strstr(p + 1, component)) {
    const bool starts = p == list || p[-1] == ',';
    if (starts && p[n] == ',') return 1;
  }
  return 0;
}

const char *cc_strerror(cc_status status) {
  switch (status) {
    case CC_OK: return "ok";
    case CC_ERR_NULL_ARG: return "null_arg";
    case CC_ERR_INVALID_ARG: return "invalid_arg";
    case CC_ERR_BUFFER_TOO_SMALL: return "buffer_too_small";
    case CC_ERR_UNSUPPORTED: return "unsupported";
    case CC_ERR_ALLOC: return "alloc";
    case CC_ERR_INTERNAL: return "internal";
    case CC_ERR_BAD_RATE: return "bad_rate";
    case CC_ERR_BAD_CHANNELS: return "bad_channels";
    case CC_ERR_BAD_QUALITY: return "bad_quality";
    case CC_ERR_BAD_FRAME: return "bad_frame";
    case CC_ERR_INPUT_TOO_LARGE: return "input_too_large";
    case CC_ERR_BAD_SETTING: return "bad_setting";
    case CC_ERR_BAD_CODEC: return "bad_codec";
    case CC_ERR_BAD_SHAPE: return "bad_shape";
    case CC_ERR_INPUT_SIZE: return "input_size";
    case CC_ERR_INVALID_PACKET: return "invalid_packet";
    case CC_ERR_EMPTY_PACKET: return "empty_packet";
    case CC_ERR_PACKET_TOO_LARGE: return "packet_too_large";
    case CC_ERR_TRUNCATED: return "truncated";
    case CC_ERR_BAD_VERSION: return "bad_version";
    case CC_ERR_TRUNCATED_CSRC: return "truncated_csrc";
    case CC_ERR_TRUNCATED_EXTENSION: return "truncated_extension";
    case CC_ERR_BAD_PADDING: return "bad_padding";
    case CC_ERR_UNKNOWN_NAME: return "unknown_name";
    case CC_ERR_VARINT_OVERLONG: return "varint_overlong";
    case CC_ERR_LENGTH_PAST_END: return "length_past_end";
    case CC_ERR_BAD_WIRE_TYPE: return "bad_wire_type";
    case CC_ERR_INVALID_FIELD_NUMBER: return "invalid_field_number";
    case CC_ERR_INVALID_UTF8: return "invalid_utf8";
    case CC_ERR_TOO_LARGE: return "too_large";
    case CC_ERR_TOO_DEEP: return "too_deep";
    case CC_ERR_INVALID_VALUE: return "invalid_value";
    case CC_ERR_UNKNOWN_TYPE: return "unknown_type";
    case CC_ERR_TRAILING_BYTES: return "trailing_bytes";
    case CC_ERR_INVALID_JSON: return "invalid_json";
    case CC_ERR_UNKNOWN_CALL: return "unknown_call";
    case CC_ERR_START_FAILED: return "start_failed";
    case CC_ERR_CALL_REFUSED: return "call_refused";
    case CC_ERR_STOPPED: return "stopped";
  }
  return "unknown";
}

}  // extern "C"
