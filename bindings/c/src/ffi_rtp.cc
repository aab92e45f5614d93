// RTP entry points of the C ABI over core/rtp: offsets instead of pointers across the boundary.
#include <cstring>

#include "ffi_common.h"
#include "ffi_rtp.h"

using clutchcall::ffi::guarded;
using clutchcall::ffi::present;
using clutchcall::ffi::zero;

namespace clutchcall::ffi {

cc_status map_rtp(cc_rtp_status s) noexcept {
  switch (s) {
    case CC_RTP_OK:
    case CC_RTP_END: return CC_OK;
    case CC_RTP_ERR_TRUNCATED: return CC_ERR_TRUNCATED;
    case CC_RTP_ERR_BAD_VERSION: return CC_ERR_BAD_VERSION;
    case CC_RTP_ERR_TRUNCATED_CSRC: return CC_ERR_TRUNCATED_CSRC;
    case CC_RTP_ERR_TRUNCATED_EXTENSION: return CC_ERR_TRUNCATED_EXTENSION;
    case CC_RTP_ERR_BAD_PADDING: return CC_ERR_BAD_PADDING;
    case CC_RTP_ERR_BAD_EXTENSION:
    case CC_RTP_ERR_UNKNOWN_EXTENSION_PROFILE:
    case CC_RTP_ERR_INVALID_ARGUMENT: return CC_ERR_INVALID_ARG;
    case CC_RTP_ERR_BUFFER_TOO_SMALL: return CC_ERR_BUFFER_TOO_SMALL;
  }
  return CC_ERR_INTERNAL;
}

cc_status parse_rtp(const uint8_t *data, size_t len, cc_rtp_packet *packet) noexcept {
  if (!present(data, len)) return CC_ERR_NULL_ARG;
  if (len > 65535) return CC_ERR_INPUT_TOO_LARGE;
  if (len == 0) return CC_ERR_TRUNCATED;
  return map_rtp(cc_rtp_parse(data, len, packet));
}

}  // namespace clutchcall::ffi

namespace {

uint32_t offset(const uint8_t *base, const uint8_t *p) noexcept {
  return p == nullptr ? 0 : static_cast<uint32_t>(p - base);
}

bool to_header(const cc_rtp_fields *f, const uint8_t *ext, size_t ext_len, cc_rtp_header *h) noexcept {
  if (f->csrc_count > 15) return false;
  std::memset(h, 0, sizeof *h);
  h->marker = f->marker;
  h->payload_type = f->payload_type;
  h->sequence = f->sequence;
  h->timestamp = f->timestamp;
  h->ssrc = f->ssrc;
  h->csrc_count = f->csrc_count;
  for (size_t i = 0; i < f->csrc_count; ++i) h->csrc[i] = f->csrc[i];
  h->extension = f->has_extension;
  h->ext_profile = f->ext_profile;
  h->ext_data = ext;
  h->ext_len = ext_len;
  h->padding_len = f->padding_len;
  return true;
}

}  // namespace

extern "C" {

cc_status cc_rtp_read(const uint8_t *data, size_t len, cc_rtp_info *out) {
  return guarded([&] {
    if (out == nullptr) return CC_ERR_NULL_ARG;
    std::memset(out, 0, sizeof *out);
    cc_rtp_packet p{};
    const cc_status s = clutchcall::ffi::parse_rtp(data, len, &p);
    if (s != CC_OK) return s;
    out->marker = p.marker;
    out->payload_type = p.payload_type;
    out->csrc_count = p.csrc_count;
    out->has_extension = p.extension;
    out->has_padding = p.padding;
    out->padding_len = p.padding_len;
    out->sequence = p.sequence;
    out->timestamp = p.timestamp;
    out->ssrc = p.ssrc;
    for (size_t i = 0; i < p.csrc_count; ++i) out->csrc[i] = cc_rtp_packet_csrc(&p, i);
    out->ext_profile = p.ext_profile;
    out->ext_offset = offset(data, p.ext_data);
    out->ext_len = static_cast<uint32_t>(p.ext_len);
    out->payload_offset = offset(data, p.payload);
    out->payload_len = static_cast<uint32_t>(p.payload_len);
    out->header_len = static_cast<uint32_t>(p.header_len);
    return CC_OK;
  });
}

cc_status cc_rtp_write_size(const cc_rtp_fields *fields, size_t ext_len, size_t payload_len, size_t *size) {
  return guarded([&] {
    zero(size);
    if (fields == nullptr || size == nullptr) return CC_ERR_NULL_ARG;
    static const uint8_t kNone[1] = {0};
    cc_rtp_header h;
    // Only the length matters for the size; any non-NULL pointer stands in for the bytes.
    if (!to_header(fields, ext_len ? kNone : nullptr, ext_len, &h)) return CC_ERR_INVALID_ARG;
    const size_t n = cc_rtp_packet_size(&h, payload_len);
    if (n == 0) return CC_ERR_INVALID_ARG;
    *size = n;
    return CC_OK;
  });
}

cc_status cc_rtp_write(const cc_rtp_fields *fields, const uint8_t *ext, size_t ext_len,
                       const uint8_t *payload, size_t payload_len, uint8_t *out, size_t cap,
                       size_t *written) {
  return guarded([&] {
    zero(written);
    if (fields == nullptr || written == nullptr || !present(ext, ext_len) ||
        !present(payload, payload_len) || !present(out, cap))
      return CC_ERR_NULL_ARG;
    cc_rtp_header h;
    if (!to_header(fields, ext, ext_len, &h)) return CC_ERR_INVALID_ARG;
    const cc_status s = clutchcall::ffi::map_rtp(cc_rtp_build(&h, payload, payload_len, out, cap, written));
    if (s != CC_OK) zero(written);
    return s;
  });
}

}  // extern "C"
