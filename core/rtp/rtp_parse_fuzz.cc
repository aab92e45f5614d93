// libFuzzer target: the RTP parser and the RFC 8285 element iterator on arbitrary bytes. Checks
// that every view stays inside the input, that header + payload + padding add up, and that a
// parsed packet rebuilds to exactly the input bytes (padding content aside).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "rtp/rtp.h"

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
bool inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size) {
  return n == 0 || (p >= data && p + n <= data + size);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cc_rtp_packet p;
  const cc_rtp_status s = cc_rtp_parse(data, size, &p);
  check(cc_rtp_status_name(s)[0] != '\0');
  if (s != CC_RTP_OK) {
    check(s < 0 && p.payload == nullptr && p.payload_len == 0);
    return 0;
  }
  check(p.header_len + p.payload_len + p.padding_len == size);
  check(inside(p.payload, p.payload_len, data, size));
  check(inside(p.ext_data, p.ext_len, data, size));
  check(inside(p.csrc, 4u * p.csrc_count, data, size));

  cc_rtp_ext_iter it;
  if (cc_rtp_ext_iter_init(&p, &it) == CC_RTP_OK) {
    cc_rtp_ext_element e;
    size_t guard = 0;
    cc_rtp_status r;
    while ((r = cc_rtp_ext_iter_next(&it, &e)) == CC_RTP_OK) {
      check(inside(e.data, e.len, p.ext_data, p.ext_len));
      check(e.id != 0);
      check(++guard <= p.ext_len);
    }
    check(r == CC_RTP_END || r == CC_RTP_ERR_BAD_EXTENSION);
    check(cc_rtp_ext_iter_next(&it, &e) == CC_RTP_END);  // stays finished
  }

  // Rebuild from the view; identical except the padding bytes before the count.
  cc_rtp_header h{};
  h.marker = p.marker;
  h.payload_type = p.payload_type;
  h.sequence = p.sequence;
  h.timestamp = p.timestamp;
  h.ssrc = p.ssrc;
  h.csrc_count = p.csrc_count;
  for (size_t i = 0; i < p.csrc_count; ++i) h.csrc[i] = cc_rtp_packet_csrc(&p, i);
  h.extension = p.extension;
  h.ext_profile = p.ext_profile;
  h.ext_data = p.ext_data;
  h.ext_len = p.ext_len;
  h.padding_len = p.padding_len;
  std::vector<uint8_t> out(size);
  size_t n = 0;
  check(cc_rtp_build(&h, p.payload, p.payload_len, out.data(), out.size(), &n) == CC_RTP_OK);
  check(n == size);
  check(std::memcmp(out.data(), data, size - p.padding_len) == 0);
  if (p.padding_len != 0) check(out[size - 1] == data[size - 1]);
  return 0;
}
