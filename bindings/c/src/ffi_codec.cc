// Generated-codec entry points of the C ABI over the package's by-name registry (JSON values).
#include <cstring>
#include <string>
#include <vector>

#include "clutchcall/registry.h"
#include "ffi_common.h"

using clutchcall::ffi::guarded;
using clutchcall::ffi::present;
using clutchcall::ffi::zero;

namespace {

cc_status map(const clutchcall::Error &e) noexcept {
  using clutchcall::Reason;
  switch (e.reason) {
    case Reason::kTruncated: return CC_ERR_TRUNCATED;
    case Reason::kVarintOverlong: return CC_ERR_VARINT_OVERLONG;
    case Reason::kLengthPastEnd: return CC_ERR_LENGTH_PAST_END;
    case Reason::kBadWireType: return CC_ERR_BAD_WIRE_TYPE;
    case Reason::kInvalidFieldNumber: return CC_ERR_INVALID_FIELD_NUMBER;
    case Reason::kInvalidUtf8: return CC_ERR_INVALID_UTF8;
    case Reason::kTooLarge: return CC_ERR_TOO_LARGE;
    case Reason::kTooDeep: return CC_ERR_TOO_DEEP;
    case Reason::kInvalidValue: return CC_ERR_INVALID_VALUE;
    case Reason::kUnknownType: return CC_ERR_UNKNOWN_TYPE;
    case Reason::kTrailingBytes: return CC_ERR_TRAILING_BYTES;
    case Reason::kInvalidJson: return CC_ERR_INVALID_JSON;
  }
  return CC_ERR_INTERNAL;
}

clutchcall::Bytes view(const uint8_t *data, size_t len) noexcept {
  return {reinterpret_cast<const std::byte *>(data), len};
}

// Copies a variable-size result out (size query on a too-small buffer).
template <class T>
cc_status emit(const T *src, size_t n, T *out, size_t cap, size_t *len) noexcept {
  *len = n;
  if (cap < n) return CC_ERR_BUFFER_TOO_SMALL;
  if (n != 0) std::memcpy(out, src, n);
  return CC_OK;
}

std::vector<bool> flags(const uint8_t *args, size_t nargs) {
  std::vector<bool> v(nargs);
  for (size_t i = 0; i < nargs; ++i) v[i] = args[i] != 0;
  return v;
}

}  // namespace

extern "C" {

cc_status cc_codec_parse_stream(const char *stream, const uint8_t *data, size_t len, size_t chunk,
                                char *json, size_t json_cap, size_t *json_len) {
  return guarded([&] {
    zero(json_len);
    if (stream == nullptr || json_len == nullptr || !present(data, len) || !present(json, json_cap))
      return CC_ERR_NULL_ARG;
    const clutchcall::StreamOps *ops = clutchcall::find_wire_stream(stream);
    if (ops == nullptr) return CC_ERR_UNKNOWN_NAME;
    auto r = ops->parse(view(data, len), chunk);
    if (!r.ok()) return map(r.error());
    const std::string text = r->dump();
    return emit(text.data(), text.size(), json, json_cap, json_len);
  });
}

cc_status cc_codec_decode_struct(const char *name, const uint8_t *data, size_t len,
                                 const uint8_t *args, size_t nargs, char *json, size_t json_cap,
                                 size_t *json_len) {
  return guarded([&] {
    zero(json_len);
    if (name == nullptr || json_len == nullptr || !present(data, len) || !present(args, nargs) ||
        !present(json, json_cap))
      return CC_ERR_NULL_ARG;
    const clutchcall::WireStructOps *ops = clutchcall::find_wire_struct(name);
    if (ops == nullptr) return CC_ERR_UNKNOWN_NAME;
    auto r = ops->to_json(view(data, len), flags(args, nargs));
    if (!r.ok()) return map(r.error());
    const std::string text = r->dump();
    return emit(text.data(), text.size(), json, json_cap, json_len);
  });
}

cc_status cc_codec_encode_struct(const char *name, const char *json, size_t json_len,
                                 const uint8_t *args, size_t nargs, uint8_t *out, size_t out_cap,
                                 size_t *out_len) {
  return guarded([&] {
    zero(out_len);
    if (name == nullptr || out_len == nullptr || !present(json, json_len) || !present(args, nargs) ||
        !present(out, out_cap))
      return CC_ERR_NULL_ARG;
    const clutchcall::WireStructOps *ops = clutchcall::find_wire_struct(name);
    if (ops == nullptr) return CC_ERR_UNKNOWN_NAME;
    auto value = clutchcall::parse_json(std::string_view(json, json_len));
    if (!value.ok()) return map(value.error());
    auto r = ops->from_json(*value, flags(args, nargs));
    if (!r.ok()) return map(r.error());
    return emit(reinterpret_cast<const uint8_t *>(r->data()), r->size(), out, out_cap, out_len);
  });
}

cc_status cc_codec_message_to_json(const char *name, const uint8_t *data, size_t len, char *json,
                                   size_t json_cap, size_t *json_len) {
  return guarded([&] {
    zero(json_len);
    if (name == nullptr || json_len == nullptr || !present(data, len) || !present(json, json_cap))
      return CC_ERR_NULL_ARG;
    const clutchcall::MessageOps *ops = clutchcall::find_message(name);
    if (ops == nullptr) return CC_ERR_UNKNOWN_NAME;
    auto r = ops->to_json(view(data, len));
    if (!r.ok()) return map(r.error());
    return emit(r->data(), r->size(), json, json_cap, json_len);
  });
}

cc_status cc_codec_message_from_json(const char *name, const char *json, size_t json_len,
                                     uint8_t *out, size_t out_cap, size_t *out_len) {
  return guarded([&] {
    zero(out_len);
    if (name == nullptr || out_len == nullptr || !present(json, json_len) || !present(out, out_cap))
      return CC_ERR_NULL_ARG;
    const clutchcall::MessageOps *ops = clutchcall::find_message(name);
    if (ops == nullptr) return CC_ERR_UNKNOWN_NAME;
    auto r = ops->from_json(std::string_view(json, json_len));
    if (!r.ok()) return map(r.error());
    return emit(reinterpret_cast<const uint8_t *>(r->data()), r->size(), out, out_cap, out_len);
  });
}

}  // extern "C"
