// The codec entry points when the generated C++ package (generated/cpp) is not part of the build:
// the ABI keeps the same symbols and answers CC_ERR_UNSUPPORTED (cc_ffi_has("codec") is 0).
#include "ffi_common.h"

using clutchcall::ffi::zero;

extern "C" {

cc_status cc_codec_parse_stream(const char *, const uint8_t *, size_t, size_t, char *, size_t,
                                size_t *json_len) {
  zero(json_len);
  return CC_ERR_UNSUPPORTED;
}
cc_status cc_codec_decode_struct(const char *, const uint8_t *, size_t, const uint8_t *, size_t,
                                 char *, size_t, size_t *json_len) {
  zero(json_len);
  return CC_ERR_UNSUPPORTED;
}
cc_status cc_codec_encode_struct(const char *, const char *, size_t, const uint8_t *, size_t,
                                 uint8_t *, size_t, size_t *out_len) {
  zero(out_len);
  return CC_ERR_UNSUPPORTED;
}
cc_status cc_codec_message_to_json(const char *, const uint8_t *, size_t, char *, size_t,
                                   size_t *json_len) {
  zero(json_len);
  return CC_ERR_UNSUPPORTED;
}
cc_status cc_codec_message_from_json(const char *, const char *, size_t, uint8_t *, size_t,
                                     size_t *out_len) {
  zero(out_len);
  return CC_ERR_UNSUPPORTED;
}

}  // extern "C"
