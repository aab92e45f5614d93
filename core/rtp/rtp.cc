// RTP header parse/build, RFC 8285 element iteration, A.1 sequence state, A.8 jitter.
#include "rtp/rtp.h"

#include <cstring>

namespace {

inline std::uint16_t load16(const std::uint8_t *p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load32(const std::uint8_t *p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
inline void store16(std::uint8_t *p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void store32(std::uint8_t *p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

constexpr std::size_t kMaxExtLen = 4u * 0xFFFFu;
constexpr std::uint32_t kSeqMod = 1u << 16;
constexpr std::uint32_t kMaxDropout = 3000;
constexpr std::uint32_t kMaxMisorder = 100;
constexpr std::uint32_t kMinSequential = 2;

// Validated header size, or 0 if the header cannot be built.
std::size_t header_size(const cc_rtp_header *h) {
  if (h->payload_type > 127 || h->marker > 1 || h->csrc_count > CC_RTP_MAX_CSRC) return 0;
  std::size_t n = CC_RTP_FIXED_HEADER_LEN + 4u * h->csrc_count;
  if (h->extension != 0) {
    if (h->ext_len % 4 != 0 || h->ext_len > kMaxExtLen) return 0;
    if (h->ext_len != 0 && h->ext_data == nullptr) return 0;
    n += 4 + h->ext_len;
  }
  return n;
}

}  // namespace

extern "C" {

const char *cc_rtp_status_name(cc_rtp_status status) {
  switch (status) {
    case CC_RTP_OK: return "ok";
    case CC_RTP_END: return "end";
    case CC_RTP_ERR_TRUNCATED: return "truncated";
    case CC_RTP_ERR_BAD_VERSION: return "bad_version";
    case CC_RTP_ERR_TRUNCATED_CSRC: return "truncated_csrc";
    case CC_RTP_ERR_TRUNCATED_EXTENSION: return "truncated_extension";
    case CC_RTP_ERR_BAD_PADDING: return "bad_padding";
    case CC_RTP_ERR_BAD_EXTENSION: return "bad_extension";
    case CC_RTP_ERR_UNKNOWN_EXTENSION_PROFILE: return "unknown_extension_profile";
    case CC_RTP_ERR_BUFFER_TOO_SMALL: return "buffer_too_small";
    case CC_RTP_ERR_INVALID_ARGUMENT: return "invalid_argument";
  }
  return "unknown";
}

cc_rtp_status cc_rtp_parse(const std::uint8_t *data, std::size_t len, cc_rtp_packet *out) {
  if (out == nullptr) return CC_RTP_ERR_INVALID_ARGUMENT;
  *out = cc_rtp_packet{};
  if (data == nullptr && len != 0) return CC_RTP_ERR_INVALID_ARGUMENT;
  if (len < CC_RTP_FIXED_HEADER_LEN) return CC_RTP_ERR_TRUNCATED;
  const std::uint8_t b0 = data[0];
  if ((b0 >> 6) != 2) return CC_RTP_ERR_BAD_VERSION;
  const std::uint8_t cc = b0 & 0x0F;
  std::size_t pos = CC_RTP_FIXED_HEADER_LEN + 4u * cc;
  if (len < pos) return CC_RTP_ERR_TRUNCATED_CSRC;

  cc_rtp_packet p{};
  p.version = 2;
  p.padding = (b0 >> 5) & 1;
  p.extension = (b0 >> 4) & 1;
  p.csrc_count = cc;
  p.marker = data[1] >> 7;
  p.payload_type = data[1] & 0x7F;
  p.sequence = load16(data + 2);
  p.timestamp = load32(data + 4);
  p.ssrc = load32(data + 8);
  p.csrc = cc != 0 ? data + CC_RTP_FIXED_HEADER_LEN : nullptr;
  if (p.extension != 0) {
    if (len - pos < 4) return CC_RTP_ERR_TRUNCATED_EXTENSION;
    p.ext_profile = load16(data + pos);
    p.ext_len = 4u * load16(data + pos + 2);
    pos += 4;
    if (len - pos < p.ext_len) return CC_RTP_ERR_TRUNCATED_EXTENSION;
    p.ext_data = data + pos;
    pos += p.ext_len;
  }
  std::size_t end = len;
  if (p.padding != 0) {
    const std::uint8_t count = data[len - 1];
    // The count includes itself, so 0 is impossible; it may not eat into the header.
    if (count == 0 || count > len - pos) return CC_RTP_ERR_BAD_PADDING;
    p.padding_len = count;
    end -= count;
  }
  p.header_len = pos;
  p.payload = data + pos;
  p.payload_len = end - pos;
  *out = p;
  return CC_RTP_OK;
}

std::uint32_t cc_rtp_packet_csrc(const cc_rtp_packet *packet, std::size_t i) {
  if (packet == nullptr || i >= packet->csrc_count || packet->csrc == nullptr) return 0;
  return load32(packet->csrc + 4 * i);
}

std::size_t cc_rtp_packet_size(const cc_rtp_header *header, std::size_t payload_len) {
  if (header == nullptr) return 0;
  const std::size_t h = header_size(header);
  if (h == 0 || payload_len > SIZE_MAX - h - 255) return 0;
  return h + payload_len + header->padding_len;
}

cc_rtp_status cc_rtp_build(const cc_rtp_header *header, const std::uint8_t *payload,
                           std::size_t payload_len, std::uint8_t *out, std::size_t cap,
                           std::size_t *written) {
  if (written != nullptr) *written = 0;
  if (header == nullptr || written == nullptr || (payload == nullptr && payload_len != 0))
    return CC_RTP_ERR_INVALID_ARGUMENT;
  const std::size_t hlen = header_size(header);
  const std::size_t total = cc_rtp_packet_size(header, payload_len);
  if (hlen == 0 || total == 0) return CC_RTP_ERR_INVALID_ARGUMENT;
  if (out == nullptr || cap < total) return CC_RTP_ERR_BUFFER_TOO_SMALL;

  const bool pad = header->padding_len != 0;
  out[0] = static_cast<std::uint8_t>(0x80 | (pad ? 0x20 : 0) | (header->extension ? 0x10 : 0) |
                                     header->csrc_count);
  out[1] = static_cast<std::uint8_t>((header->marker << 7) | header->payload_type);
  store16(out + 2, header->sequence);
  store32(out + 4, header->timestamp);
  store32(out + 8, header->ssrc);
  std::size_t pos = CC_RTP_FIXED_HEADER_LEN;
  for (std::size_t i = 0; i < header->csrc_count; ++i, pos += 4) store32(out + pos, header->csrc[i]);
  if (header->extension != 0) {
    store16(out + pos, header->ext_profile);
    store16(out + pos + 2, static_cast<std::uint16_t>(header->ext_len / 4));
    pos += 4;
    if (header->ext_len != 0) std::memcpy(out + pos, header->ext_data, header->ext_len);
    pos += header->ext_len;
  }
  if (payload_len != 0) std::memcpy(out + pos, payload, payload_len);
  pos += payload_len;
  if (pad) {
    std::memset(out + pos, 0, header->padding_len - 1u);
    pos += header->padding_len;
    out[pos - 1] = header->padding_len;
  }
  *written = pos;
  return CC_RTP_OK;
}

cc_rtp_status cc_rtp_ext_iter_init(const cc_rtp_packet *packet, cc_rtp_ext_iter *iter) {
  if (packet == nullptr || iter == nullptr) return CC_RTP_ERR_INVALID_ARGUMENT;
  *iter = cc_rtp_ext_iter{};
  iter->done = 1;
  if (packet->extension == 0) return CC_RTP_OK;  // nothing to iterate
  if (packet->ext_profile == CC_RTP_EXT_ONE_BYTE_PROFILE) {
    iter->two_byte = 0;
  } else if ((packet->ext_profile & CC_RTP_EXT_TWO_BYTE_PROFILE_MASK) ==
             CC_RTP_EXT_TWO_BYTE_PROFILE) {
    iter->two_byte = 1;
  } else {
    return CC_RTP_ERR_UNKNOWN_EXTENSION_PROFILE;
  }
  iter->pos = packet->ext_data;
  iter->end = packet->ext_data + packet->ext_len;
  iter->done = 0;
  return CC_RTP_OK;
}

cc_rtp_status cc_rtp_ext_iter_next(cc_rtp_ext_iter *iter, cc_rtp_ext_element *element) {
  if (iter == nullptr || element == nullptr) return CC_RTP_ERR_INVALID_ARGUMENT;
  while (iter->done == 0 && iter->pos < iter->end) {
    const std::uint8_t b = *iter->pos;
    if (b == 0) {  // padding byte, in both forms
      ++iter->pos;
      continue;
    }
    const std::size_t room = static_cast<std::size_t>(iter->end - iter->pos);
    std::uint8_t id = 0;
    std::size_t len = 0, hdr = 0;
    if (iter->two_byte == 0) {
      id = b >> 4;
      if (id == 15) break;  // reserved: stop processing here (RFC 8285 §4.2)
      if (id == 0) {        // zero ID with a length: not padding, not an element
        iter->done = 1;
        return CC_RTP_ERR_BAD_EXTENSION;
      }
      len = (b & 0x0Fu) + 1u;
      hdr = 1;
    } else {
      if (room < 2) {
        iter->done = 1;
        return CC_RTP_ERR_BAD_EXTENSION;
      }
      id = b;
      len = iter->pos[1];
      hdr = 2;
    }
    if (room - hdr < len) {
      iter->done = 1;
      return CC_RTP_ERR_BAD_EXTENSION;
    }
    element->id = id;
    element->data = iter->pos + hdr;
    element->len = len;
    iter->pos += hdr + len;
    return CC_RTP_OK;
  }
  iter->done = 1;
  return CC_RTP_END;
}

void cc_rtp_seq_init(cc_rtp_seq_state *s, std::uint16_t seq) {
  *s = cc_rtp_seq_state{};
  s->base_seq = seq;
  s->max_seq = static_cast<std::uint16_t>(seq - 1);  // so that `seq` itself is "in order"
  s->bad_seq = kSeqMod + 1;
  s->probation = kMinSequential;
}

namespace {
// A.1 init_seq: restart counting at `seq` (after probation or a confirmed jump).
void restart(cc_rtp_seq_state *s, std::uint16_t seq) {
  s->base_seq = seq;
  s->max_seq = seq;
  s->bad_seq = kSeqMod + 1;
  s->cycles = 0;
  s->received = 0;
  s->received_prior = 0;
  s->expected_prior = 0;
}
}  // namespace

int cc_rtp_seq_update(cc_rtp_seq_state *s, std::uint16_t seq) {
  const std::uint16_t udelta = static_cast<std::uint16_t>(seq - s->max_seq);
  if (s->probation != 0) {
    // Wrap-safe "seq == max_seq + 1" (A.1's C compares an int and misses 65535 -> 0).
    if (udelta == 1) {
      --s->probation;
      s->max_seq = seq;
      if (s->probation == 0) {
        restart(s, seq);
        ++s->received;
        return 1;
      }
    } else {
      s->probation = kMinSequential - 1;
      s->max_seq = seq;
    }
    return 0;
  }
  if (udelta < kMaxDropout) {
    if (seq < s->max_seq) s->cycles += kSeqMod;  // wrapped
    s->max_seq = seq;
  } else if (udelta <= kSeqMod - kMaxMisorder) {
    if (seq == s->bad_seq) {
      restart(s, seq);  // two sequential packets after a jump: the sender restarted
    } else {
      s->bad_seq = (seq + 1u) & (kSeqMod - 1);
      return 0;
    }
  }  // else: duplicate or reordered within MAX_MISORDER, counted
  ++s->received;
  return 1;
}

std::uint32_t cc_rtp_seq_expected(const cc_rtp_seq_state *s) {
  return cc_rtp_seq_extended_max(s) - s->base_seq + 1;
}

std::int64_t cc_rtp_seq_lost(const cc_rtp_seq_state *s) {
  return static_cast<std::int64_t>(cc_rtp_seq_expected(s)) - s->received;
}

void cc_rtp_jitter_init(cc_rtp_jitter_estimator *j) { *j = cc_rtp_jitter_estimator{}; }

void cc_rtp_jitter_rebase(cc_rtp_jitter_estimator *j) { j->has_last = 0; }

void cc_rtp_jitter_update(cc_rtp_jitter_estimator *j, std::uint32_t arrival,
                          std::uint32_t rtp_timestamp) {
  const std::uint32_t transit = arrival - rtp_timestamp;
  if (j->has_last != 0) {
    std::int64_t d = cc_rtp_ts_diff(transit, j->last_transit);
    if (d < 0) d = -d;
    // J += (|D| - J) / 16, in the A.8 integer form with J scaled by 16; saturates.
    std::int64_t next = static_cast<std::int64_t>(j->jitter_q4) + d -
                        ((static_cast<std::int64_t>(j->jitter_q4) + 8) >> 4);
    if (next > static_cast<std::int64_t>(UINT32_MAX)) next = UINT32_MAX;
    j->jitter_q4 = static_cast<std::uint32_t>(next);
  }
  j->last_transit = transit;
  j->has_last = 1;
}

int cc_rtp_jitter_update_bounded(cc_rtp_jitter_estimator *j, std::uint32_t arrival,
                                 std::uint32_t rtp_timestamp, std::uint32_t max_d) {
  const std::uint32_t transit = arrival - rtp_timestamp;
  if (j->has_last != 0) {
    std::int64_t d = cc_rtp_ts_diff(transit, j->last_transit);
    if (d < 0) d = -d;
    if (d > static_cast<std::int64_t>(max_d)) {
      j->last_transit = transit;
      return 0;
    }
  }
  cc_rtp_jitter_update(j, arrival, rtp_timestamp);
  return 1;
}

}  // extern "C"
