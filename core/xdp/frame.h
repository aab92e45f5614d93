/* Ethernet + IPv4/IPv6 + UDP frames: bounds-checked parse and build, for the AF_XDP path.
 *
 * Invariants:
 *   - parse_frame() reads only bytes [0, len) of the frame and never writes outside *out. On
 *     success the payload view lies inside the frame. On failure it returns a named reason and
 *     *out is unspecified.
 *   - Accepted: Ethernet II, at most one 802.1Q / 802.1ad tag, IPv4 (any IHL >= 5, not a
 *     fragment) or IPv6 (fixed header, next header UDP; extension headers are refused), UDP with
 *     8 <= UDP length <= IP payload length <= bytes present. Bytes after the IP datagram
 *     (Ethernet padding) are ignored. The IPv4 header checksum is checked only on request; the
 *     UDP checksum is never checked (veth and offloading NICs hand over partial checksums).
 *   - IPv4 endpoints are IPv4-mapped IPv6 (::ffff:a.b.c.d) with v4 = true, as in netio.
 *   - VLAN: a tagged frame reports has_vlan, its TPID (0x8100 802.1Q or 0x88a8 802.1ad) and the
 *     whole TCI (PCP, DEI, VID); untagged frames report has_vlan = false, tpid = tci = 0.
 *     build_frame() with has_vlan writes the tag (TPID 0x8100 or 0x88a8, else bad_vlan_tpid)
 *     between the MACs and the EtherType; the IP and UDP checksums do not cover it.
 *   - build_frame() writes nothing on error and returns 0; on success it returns the frame
 *     length and the frame carries a valid IPv4 header checksum (IPv4) and a valid UDP checksum
 *     (both families; a computed 0 is sent as 0xffff, RFC 768 / RFC 8200 8.1).
 */
#ifndef CLUTCHCALL_CORE_XDP_FRAME_H
#define CLUTCHCALL_CORE_XDP_FRAME_H

#include <cstddef>
#include <cstdint>

#include "netio/packet_io.h"

namespace clutchcall::xdp {

enum class ParseError : std::uint8_t {
  ok = 0,
  truncated_ethernet,   // fewer than 14 bytes
  truncated_vlan,       // VLAN tag cut short
  unsupported_ethertype,  // not IPv4/IPv6 (also a second VLAN tag)
  truncated_ipv4,       // fewer bytes than the IPv4 header / IHL / total length say
  bad_ipv4_version,
  bad_ipv4_ihl,         // IHL < 5 or total length < IHL
  bad_ipv4_checksum,    // only with verify_ipv4_checksum
  ipv4_fragment,        // MF set or non-zero fragment offset
  truncated_ipv6,       // fewer bytes than 40 + payload length
  bad_ipv6_version,
  ipv6_extension_header,  // next header is not UDP but an extension header
  not_udp,              // another transport protocol
  truncated_udp,        // fewer than 8 bytes of UDP header in the IP payload
  bad_udp_length,       // UDP length < 8 or larger than the IP payload
};
const char *to_string(ParseError e) noexcept;

struct ParsedFrame {
  std::uint8_t dst_mac[6] = {};
  std::uint8_t src_mac[6] = {};
  bool has_vlan = false;
  std::uint16_t vlan_tpid = 0;  // 0x8100 or 0x88a8 when has_vlan, else 0
  std::uint16_t vlan_tci = 0;   // PCP(3) DEI(1) VID(12) when has_vlan, else 0
  netio::Endpoint src;   // sender's address and UDP source port
  netio::Endpoint dst;   // destination address and UDP port
  const std::uint8_t *payload = nullptr;  // UDP payload, inside the frame
  std::uint32_t payload_len = 0;
};

ParseError parse_frame(const std::uint8_t *frame, std::size_t len, ParsedFrame *out,
                       bool verify_ipv4_checksum = false) noexcept;

enum class BuildError : std::uint8_t {
  ok = 0,
  buffer_too_small,
  family_mismatch,     // src and dst are not the same address family
  payload_too_large,   // UDP length would not fit in 16 bits (or IPv4 total length)
  invalid_argument,    // null payload with len > 0, null buffer
  bad_vlan_tpid,       // has_vlan with a TPID other than 0x8100 / 0x88a8
};
const char *to_string(BuildError e) noexcept;

struct FrameSpec {
  std::uint8_t src_mac[6] = {};
  std::uint8_t dst_mac[6] = {};
  netio::Endpoint src;
  netio::Endpoint dst;
  const std::uint8_t *payload = nullptr;
  std::uint32_t payload_len = 0;
  std::uint8_t ttl = 64;          // IPv4 TTL / IPv6 hop limit
  std::uint8_t dscp_ecn = 0xb8;   // IPv4 TOS / IPv6 traffic class (EF, RFC 3246: voice)
  std::uint16_t ipv4_id = 0;      // IPv4 identification (DF is set)
  bool has_vlan = false;
  std::uint16_t vlan_tpid = 0x8100;  // 0x8100 (802.1Q) or 0x88a8 (802.1ad) when has_vlan
  std::uint16_t vlan_tci = 0;        // the tag's TCI when has_vlan
};

/* Header bytes before the UDP payload (Ethernet [+ VLAN] + IP + UDP). */
constexpr std::size_t frame_overhead(bool v4, bool vlan = false) noexcept {
  return 14u + (vlan ? 4u : 0u) + (v4 ? 20u : 40u) + 8u;
}

/* Returns the frame length written to buf (cap bytes), or 0 and *err (if non-null). */
std::size_t build_frame(const FrameSpec &spec, std::uint8_t *buf, std::size_t cap,
                        BuildError *err = nullptr) noexcept;

/* RFC 1071 one's-complement sum helpers (exposed for the tests). */
std::uint16_t ipv4_header_checksum(const std::uint8_t *hdr, std::size_t len) noexcept;
/* UDP checksum over the pseudo-header, the UDP header (checksum field taken as zero) and the
 * payload. `udp` points at the UDP header; `udp_len` covers header + payload. Returns the value
 * to put in the field (0 mapped to 0xffff). */
std::uint16_t udp_checksum(const netio::Endpoint &src, const netio::Endpoint &dst,
                           const std::uint8_t *udp, std::size_t udp_len) noexcept;

}  // namespace clutchcall::xdp

#endif  // CLUTCHCALL_CORE_XDP_FRAME_H
