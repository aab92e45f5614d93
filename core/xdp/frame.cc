#include "xdp/frame.h"

#include <cstring>

namespace clutchcall::xdp {
namespace {

constexpr std::uint16_t kEthIpv4 = 0x0800;
constexpr std::uint16_t kEthIpv6 = 0x86dd;
constexpr std::uint16_t kEth8021q = 0x8100;
constexpr std::uint16_t kEth8021ad = 0x88a8;
constexpr std::uint8_t kProtoUdp = 17;

std::uint16_t rd16(const std::uint8_t *p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
void wr16(std::uint8_t *p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

// Adds big-endian 16-bit words to a 64-bit accumulator (folded at the end).
std::uint64_t sum_words(const std::uint8_t *p, std::size_t len, std::uint64_t acc) noexcept {
  std::size_t i = 0;
  for (; i + 1 < len; i += 2) acc += rd16(p + i);
  if (i < len) acc += static_cast<std::uint64_t>(p[i]) << 8;
  return acc;
}
std::uint16_t fold(std::uint64_t acc) noexcept {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<std::uint16_t>(acc);
}

bool is_ipv6_extension(std::uint8_t nh) noexcept {
  switch (nh) {
    case 0: case 43: case 44: case 50: case 51: case 60: case 135: case 139: case 140:
      return true;
    default:
      return false;
  }
}

void set_v4(netio::Endpoint *e, const std::uint8_t *a4, std::uint16_t port) noexcept {
  std::memset(e->addr, 0, 10);
  e->addr[10] = 0xff;
  e->addr[11] = 0xff;
  std::memcpy(e->addr + 12, a4, 4);
  e->port = port;
  e->v4 = true;
}
void set_v6(netio::Endpoint *e, const std::uint8_t *a16, std::uint16_t port) noexcept {
  std::memcpy(e->addr, a16, 16);
  e->port = port;
  e->v4 = false;
}

}  // namespace

const char *to_string(ParseError e) noexcept {
  switch (e) {
    case ParseError::ok: return "ok";
    case ParseError::truncated_ethernet: return "truncated_ethernet";
    case ParseError::truncated_vlan: return "truncated_vlan";
    case ParseError::unsupported_ethertype: return "unsupported_ethertype";
    case ParseError::truncated_ipv4: return "truncated_ipv4";
    case ParseError::bad_ipv4_version: return "bad_ipv4_version";
    case ParseError::bad_ipv4_ihl: return "bad_ipv4_ihl";
    case ParseError::bad_ipv4_checksum: return "bad_ipv4_checksum";
    case ParseError::ipv4_fragment: return "ipv4_fragment";
    case ParseError::truncated_ipv6: return "truncated_ipv6";
    case ParseError::bad_ipv6_version: return "bad_ipv6_version";
    case ParseError::ipv6_extension_header: return "ipv6_extension_header";
    case ParseError::not_udp: return "not_udp";
    case ParseError::truncated_udp: return "truncated_udp";
    case ParseError::bad_udp_length: return "bad_udp_length";
  }
  return "unknown";
}

const char *to_string(BuildError e) noexcept {
  switch (e) {
    case BuildError::ok: return "ok";
    case BuildError::buffer_too_small: return "buffer_too_small";
    case BuildError::family_mismatch: return "family_mismatch";
    case BuildError::payload_too_large: return "payload_too_large";
    case BuildError::invalid_argument: return "invalid_argument";
    case BuildError::bad_vlan_tpid: return "bad_vlan_tpid";
  }
  return "unknown";
}

std::uint16_t ipv4_header_checksum(const std::uint8_t *hdr, std::size_t len) noexcept {
  return static_cast<std::uint16_t>(~fold(sum_words(hdr, len, 0)));
}

std::uint16_t udp_checksum(const netio::Endpoint &src, const netio::Endpoint &dst,
                           const std::uint8_t *udp, std::size_t udp_len) noexcept {
  std::uint64_t acc = 0;
  if (src.v4) {
    acc = sum_words(src.addr + 12, 4, acc);
    acc = sum_words(dst.addr + 12, 4, acc);
    acc += kProtoUdp;
    acc += udp_len;
  } else {
    acc = sum_words(src.addr, 16, acc);
    acc = sum_words(dst.addr, 16, acc);
    acc += static_cast<std::uint64_t>(udp_len);  // 32-bit upper-layer length, folds the same
    acc += kProtoUdp;
  }
  // Header without its checksum field (bytes 6..7), then the payload.
  acc = sum_words(udp, 6, acc);
  if (udp_len > 8) acc = sum_words(udp + 8, udp_len - 8, acc);
  const std::uint16_t c = static_cast<std::uint16_t>(~fold(acc));
  return c == 0 ? 0xffff : c;
}

ParseError parse_frame(const std::uint8_t *frame, std::size_t len, ParsedFrame *out,
                       bool verify_ipv4_checksum) noexcept {
  if (frame == nullptr || len < 14) return ParseError::truncated_ethernet;
  std::memcpy(out->dst_mac, frame, 6);
  std::memcpy(out->src_mac, frame + 6, 6);
  std::uint16_t type = rd16(frame + 12);
  std::size_t off = 14;
  out->has_vlan = false;
  out->vlan_tpid = 0;
  out->vlan_tci = 0;
  if (type == kEth8021q || type == kEth8021ad) {
    if (len < off + 4) return ParseError::truncated_vlan;
    out->has_vlan = true;
    out->vlan_tpid = type;
    out->vlan_tci = rd16(frame + off);
    type = rd16(frame + off + 2);
    off += 4;
  }

  const std::uint8_t *udp = nullptr;
  std::size_t ip_payload = 0;  // bytes the IP header says follow it
  if (type == kEthIpv4) {
    if (len - off < 20) return ParseError::truncated_ipv4;
    const std::uint8_t *ip = frame + off;
    if ((ip[0] >> 4) != 4) return ParseError::bad_ipv4_version;
    const std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
    if (ihl < 20) return ParseError::bad_ipv4_ihl;
    const std::size_t total = rd16(ip + 2);
    if (len - off < ihl) return ParseError::truncated_ipv4;
    if (total < ihl) return ParseError::bad_ipv4_ihl;
    if (len - off < total) return ParseError::truncated_ipv4;
    if (verify_ipv4_checksum && fold(sum_words(ip, ihl, 0)) != 0xffff)
      return ParseError::bad_ipv4_checksum;
    if ((rd16(ip + 6) & 0x3fff) != 0) return ParseError::ipv4_fragment;
    if (ip[9] != kProtoUdp) return ParseError::not_udp;
    set_v4(&out->src, ip + 12, 0);
    set_v4(&out->dst, ip + 16, 0);
    udp = ip + ihl;
    ip_payload = total - ihl;
  } else if (type == kEthIpv6) {
    if (len - off < 40) return ParseError::truncated_ipv6;
    const std::uint8_t *ip = frame + off;
    if ((ip[0] >> 4) != 6) return ParseError::bad_ipv6_version;
    ip_payload = rd16(ip + 4);
    if (len - off - 40 < ip_payload) return ParseError::truncated_ipv6;
    if (ip[6] != kProtoUdp)
      return is_ipv6_extension(ip[6]) ? ParseError::ipv6_extension_header : ParseError::not_udp;
    set_v6(&out->src, ip + 8, 0);
    set_v6(&out->dst, ip + 24, 0);
    udp = ip + 40;
  } else {
    return ParseError::unsupported_ethertype;
  }

  if (ip_payload < 8) return ParseError::truncated_udp;
  const std::size_t ulen = rd16(udp + 4);
  if (ulen < 8 || ulen > ip_payload) return ParseError::bad_udp_length;
  out->src.port = rd16(udp);
  out->dst.port = rd16(udp + 2);
  out->payload = udp + 8;
  out->payload_len = static_cast<std::uint32_t>(ulen - 8);
  return ParseError::ok;
}

std::size_t build_frame(const FrameSpec &spec, std::uint8_t *buf, std::size_t cap,
                        BuildError *err) noexcept {
  BuildError dummy;
  BuildError &e = err ? *err : dummy;
  if (buf == nullptr || (spec.payload == nullptr && spec.payload_len > 0)) {
    e = BuildError::invalid_argument;
    return 0;
  }
  if (spec.has_vlan && spec.vlan_tpid != kEth8021q && spec.vlan_tpid != kEth8021ad) {
    e = BuildError::bad_vlan_tpid;
    return 0;
  }
  if (spec.src.v4 != spec.dst.v4) {
    e = BuildError::family_mismatch;
    return 0;
  }
  const bool v4 = spec.src.v4;
  const std::size_t ip_hdr = v4 ? 20 : 40;
  const std::size_t udp_len = 8u + static_cast<std::size_t>(spec.payload_len);
  if (udp_len > 0xffff || (v4 && udp_len + ip_hdr > 0xffff)) {
    e = BuildError::payload_too_large;
    return 0;
  }
  const std::size_t l2 = spec.has_vlan ? 18 : 14;
  const std::size_t total = l2 + ip_hdr + udp_len;
  if (cap < total) {
    e = BuildError::buffer_too_small;
    return 0;
  }

  std::uint8_t *p = buf;
  std::memcpy(p, spec.dst_mac, 6);
  std::memcpy(p + 6, spec.src_mac, 6);
  if (spec.has_vlan) {
    wr16(p + 12, spec.vlan_tpid);
    wr16(p + 14, spec.vlan_tci);
  }
  wr16(p + l2 - 2, v4 ? kEthIpv4 : kEthIpv6);
  std::uint8_t *ip = p + l2;
  std::uint8_t *udp = ip + ip_hdr;
  if (v4) {
    ip[0] = 0x45;
    ip[1] = spec.dscp_ecn;
    wr16(ip + 2, static_cast<std::uint16_t>(ip_hdr + udp_len));
    wr16(ip + 4, spec.ipv4_id);
    wr16(ip + 6, 0x4000);  // DF
    ip[8] = spec.ttl;
    ip[9] = kProtoUdp;
    wr16(ip + 10, 0);
    std::memcpy(ip + 12, spec.src.addr + 12, 4);
    std::memcpy(ip + 16, spec.dst.addr + 12, 4);
    wr16(ip + 10, ipv4_header_checksum(ip, 20));
  } else {
    ip[0] = static_cast<std::uint8_t>(0x60 | (spec.dscp_ecn >> 4));
    ip[1] = static_cast<std::uint8_t>((spec.dscp_ecn & 0x0f) << 4);
    ip[2] = 0;
    ip[3] = 0;
    wr16(ip + 4, static_cast<std::uint16_t>(udp_len));
    ip[6] = kProtoUdp;
    ip[7] = spec.ttl;
    std::memcpy(ip + 8, spec.src.addr, 16);
    std::memcpy(ip + 24, spec.dst.addr, 16);
  }
  wr16(udp, spec.src.port);
  wr16(udp + 2, spec.dst.port);
  wr16(udp + 4, static_cast<std::uint16_t>(udp_len));
  wr16(udp + 6, 0);
  if (spec.payload_len > 0) std::memcpy(udp + 8, spec.payload, spec.payload_len);
  wr16(udp + 6, udp_checksum(spec.src, spec.dst, udp, udp_len));
  e = BuildError::ok;
  return total;
}

}  // namespace clutchcall::xdp
