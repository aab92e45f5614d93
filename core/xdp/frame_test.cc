#include "xdp/frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

using clutchcall::netio::Endpoint;
using namespace clutchcall::xdp;

// Independent RFC 1071 reference: 32-bit accumulator, explicit end-around carry.
std::uint16_t ref_sum(const std::vector<std::uint8_t> &bytes) {
  std::uint32_t s = 0;
  for (std::size_t i = 0; i < bytes.size(); i += 2) {
    std::uint32_t w = static_cast<std::uint32_t>(bytes[i]) << 8;
    if (i + 1 < bytes.size()) w |= bytes[i + 1];
    s += w;
    if (s > 0xffff) s = (s & 0xffff) + 1;
  }
  return static_cast<std::uint16_t>(s);
}

Endpoint v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint16_t port) {
  Endpoint e;
  e.addr[10] = 0xff;
  e.addr[11] = 0xff;
  e.addr[12] = a;
  e.addr[13] = b;
  e.addr[14] = c;
  e.addr[15] = d;
  e.port = port;
  e.v4 = true;
  return e;
}

Endpoint v6_fd00(std::uint8_t last, std::uint16_t port) {
  Endpoint e;
  e.addr[0] = 0xfd;
  e.addr[15] = last;
  e.port = port;
  e.v4 = false;
  return e;
}

const std::uint8_t kSrcMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const std::uint8_t kDstMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const std::uint8_t kRtp[12] = {0x80, 0x00, 0x12, 0x34, 0x00, 0x00, 0x00, 0xa0,
                               0xde, 0xad, 0xbe, 0xef};

FrameSpec spec_v4() {
  FrameSpec s;
  std::memcpy(s.src_mac, kSrcMac, 6);
  std::memcpy(s.dst_mac, kDstMac, 6);
  s.src = v4(10, 0, 0, 1, 5004);
  s.dst = v4(10, 0, 0, 2, 10000);
  s.payload = kRtp;
  s.payload_len = sizeof(kRtp);
  s.ipv4_id = 0x1234;
  return s;
}

std::vector<std::uint8_t> build(const FrameSpec &s) {
  std::vector<std::uint8_t> f(2048);
  BuildError e = BuildError::invalid_argument;
  const std::size_t n = build_frame(s, f.data(), f.size(), &e);
  EXPECT_EQ(e, BuildError::ok);
  f.resize(n);
  return f;
}

TEST(Checksum, KnownIpv4HeaderVector) {
  // The worked example often used for RFC 1071: 192.168.0.1 -> 192.168.0.199, UDP, TTL 64.
  const std::uint8_t hdr[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(ipv4_header_checksum(hdr, sizeof(hdr)), 0xb861);
  std::vector<std::uint8_t> v(hdr, hdr + 20);
  EXPECT_EQ(static_cast<std::uint16_t>(~ref_sum(v)), 0xb861);
}

TEST(Frame, BuildIpv4ExactBytes) {
  const auto f = build(spec_v4());
  ASSERT_EQ(f.size(), 14u + 20u + 8u + 12u);
  std::vector<std::uint8_t> want = {
      0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
      // IPv4: v4 IHL 5, TOS EF, total 40, id 0x1234, DF, TTL 64, UDP, csum (below), addrs
      0x45, 0xb8, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 10, 0, 0, 1, 10,
      0, 0, 2,
      // UDP 5004 -> 10000, length 20, csum (below)
      0x13, 0x8c, 0x27, 0x10, 0x00, 0x14, 0x00, 0x00};
  want.insert(want.end(), kRtp, kRtp + 12);
  // IPv4 header checksum from the reference.
  std::vector<std::uint8_t> ip(want.begin() + 14, want.begin() + 34);
  const std::uint16_t ipc = static_cast<std::uint16_t>(~ref_sum(ip));
  want[24] = static_cast<std::uint8_t>(ipc >> 8);
  want[25] = static_cast<std::uint8_t>(ipc);
  // UDP checksum: pseudo-header (src, dst, 0, 17, udp length) + UDP header + payload.
  std::vector<std::uint8_t> ps = {10, 0, 0, 1, 10, 0, 0, 2, 0, 17, 0x00, 0x14};
  ps.insert(ps.end(), want.begin() + 34, want.end());
  const std::uint16_t uc = static_cast<std::uint16_t>(~ref_sum(ps));
  want[40] = static_cast<std::uint8_t>(uc >> 8);
  want[41] = static_cast<std::uint8_t>(uc);
  EXPECT_EQ(f, want);
  EXPECT_EQ(ipc, 0x13d7);  // computed once outside the project (python); pins the reference
  EXPECT_NE(uc, 0);

  ParsedFrame p;
  ASSERT_EQ(parse_frame(f.data(), f.size(), &p, true), ParseError::ok);
  EXPECT_EQ(p.src, spec_v4().src);
  EXPECT_EQ(p.dst, spec_v4().dst);
  EXPECT_EQ(std::memcmp(p.src_mac, kSrcMac, 6), 0);
  EXPECT_EQ(std::memcmp(p.dst_mac, kDstMac, 6), 0);
  EXPECT_FALSE(p.has_vlan);
  ASSERT_EQ(p.payload_len, 12u);
  EXPECT_EQ(p.payload, f.data() + 42);
  EXPECT_EQ(std::memcmp(p.payload, kRtp, 12), 0);
}

TEST(Frame, BuildIpv6ChecksumAndParse) {
  FrameSpec s = spec_v4();
  s.src = v6_fd00(1, 40000);
  s.dst = v6_fd00(2, 10002);
  const auto f = build(s);
  ASSERT_EQ(f.size(), 14u + 40u + 8u + 12u);
  EXPECT_EQ(f[12], 0x86);
  EXPECT_EQ(f[13], 0xdd);
  EXPECT_EQ(f[14], 0x6b);  // version 6, traffic class 0xb8
  EXPECT_EQ(f[15], 0x80);
  EXPECT_EQ(f[18], 0x00);  // payload length 20
  EXPECT_EQ(f[19], 0x14);
  EXPECT_EQ(f[20], 17);
  EXPECT_EQ(f[21], 64);
  // Verify with the reference: pseudo-header + UDP datagram (checksum included) sums to ~0.
  std::vector<std::uint8_t> ps(s.src.addr, s.src.addr + 16);
  ps.insert(ps.end(), s.dst.addr, s.dst.addr + 16);
  const std::vector<std::uint8_t> tail = {0, 0, 0, 20, 0, 0, 0, 17};
  ps.insert(ps.end(), tail.begin(), tail.end());
  ps.insert(ps.end(), f.begin() + 54, f.end());
  EXPECT_EQ(ref_sum(ps), 0xffff);
  EXPECT_FALSE(f[60] == 0 && f[61] == 0);  // mandatory in IPv6

  ParsedFrame p;
  ASSERT_EQ(parse_frame(f.data(), f.size(), &p), ParseError::ok);
  EXPECT_EQ(p.src, s.src);
  EXPECT_EQ(p.dst, s.dst);
  EXPECT_FALSE(p.src.v4);
  ASSERT_EQ(p.payload_len, 12u);
  EXPECT_EQ(std::memcmp(p.payload, kRtp, 12), 0);
}

TEST(Frame, Ipv4UdpChecksumVerifiesWithReference) {
  const auto f = build(spec_v4());
  std::vector<std::uint8_t> ps = {10, 0, 0, 1, 10, 0, 0, 2, 0, 17, 0, 20};
  ps.insert(ps.end(), f.begin() + 34, f.end());
  EXPECT_EQ(ref_sum(ps), 0xffff);
}

TEST(Frame, ZeroUdpChecksumIsSentAsFfff) {
  // Choose a 2-byte payload equal to the checksum of the same datagram with a zero payload:
  // the one's-complement sum becomes 0xffff and its complement 0, which must go out as 0xffff.
  FrameSpec s = spec_v4();
  std::uint8_t pl[2] = {0, 0};
  s.payload = pl;
  s.payload_len = 2;
  auto f = build(s);
  pl[0] = f[40];
  pl[1] = f[41];
  f = build(s);
  EXPECT_EQ(f[40], 0xff);
  EXPECT_EQ(f[41], 0xff);
}

TEST(Frame, VlanRoundTrip) {
  FrameSpec s = spec_v4();
  s.has_vlan = true;
  s.vlan_tci = 0x2064;
  const auto f = build(s);
  ASSERT_EQ(f.size(), 18u + 20u + 8u + 12u);
  EXPECT_EQ(f[12], 0x81);
  EXPECT_EQ(f[13], 0x00);
  EXPECT_EQ(f[14], 0x20);
  EXPECT_EQ(f[15], 0x64);
  EXPECT_EQ(f[16], 0x08);
  EXPECT_EQ(f[17], 0x00);
  ParsedFrame p;
  ASSERT_EQ(parse_frame(f.data(), f.size(), &p, true), ParseError::ok);
  EXPECT_TRUE(p.has_vlan);
  EXPECT_EQ(p.vlan_tci, 0x2064);
  EXPECT_EQ(p.dst.port, 10000);
  // 802.1ad outer tag is accepted too.
  auto g = f;
  g[12] = 0x88;
  g[13] = 0xa8;
  ASSERT_EQ(parse_frame(g.data(), g.size(), &p), ParseError::ok);
  // A second tag is not.
  auto h = f;
  h[16] = 0x81;
  h[17] = 0x00;
  EXPECT_EQ(parse_frame(h.data(), h.size(), &p), ParseError::unsupported_ethertype);
}

// A tagged frame is the untagged one with TPID + TCI inserted after the MACs: same IP and UDP
// bytes, so the same checksums (the tag is L2). The untagged bytes are pinned above (IPv4 exact,
// IPv6 against the reference sum).
TEST(Frame, TaggedFramesExactBytesAndParseBack) {
  for (bool is_v4 : {true, false}) {
    for (std::uint16_t tpid : {std::uint16_t{0x8100}, std::uint16_t{0x88a8}}) {
      SCOPED_TRACE(std::string(is_v4 ? "IPv4" : "IPv6") + " TPID " + std::to_string(tpid));
      FrameSpec s = spec_v4();
      if (!is_v4) {
        s.src = v6_fd00(1, 40000);
        s.dst = v6_fd00(2, 10002);
      }
      const auto plain = build(s);
      s.has_vlan = true;
      s.vlan_tpid = tpid;
      s.vlan_tci = 0xa064;  // PCP 5, DEI 0, VID 100
      const auto f = build(s);
      std::vector<std::uint8_t> want(plain.begin(), plain.begin() + 12);
      want.push_back(static_cast<std::uint8_t>(tpid >> 8));
      want.push_back(static_cast<std::uint8_t>(tpid));
      want.push_back(0xa0);
      want.push_back(0x64);
      want.insert(want.end(), plain.begin() + 12, plain.end());
      ASSERT_EQ(f.size(), frame_overhead(is_v4, true) + 12u);
      EXPECT_EQ(f, want);
      EXPECT_EQ(f[16], is_v4 ? 0x08 : 0x86);
      EXPECT_EQ(f[17], is_v4 ? 0x00 : 0xdd);

      ParsedFrame p;
      ASSERT_EQ(parse_frame(f.data(), f.size(), &p, true), ParseError::ok);
      EXPECT_TRUE(p.has_vlan);
      EXPECT_EQ(p.vlan_tpid, tpid);
      EXPECT_EQ(p.vlan_tci, 0xa064);
      EXPECT_EQ(p.src, s.src);
      EXPECT_EQ(p.dst, s.dst);
      EXPECT_EQ(std::memcmp(p.src_mac, kSrcMac, 6), 0);
      EXPECT_EQ(std::memcmp(p.dst_mac, kDstMac, 6), 0);
      ASSERT_EQ(p.payload_len, 12u);
      EXPECT_EQ(p.payload, f.data() + frame_overhead(is_v4, true));
      EXPECT_EQ(std::memcmp(p.payload, kRtp, 12), 0);

      // Every cut inside the tag is truncated_vlan; after it, the IP header is short.
      for (std::size_t n = 0; n < f.size(); ++n) {
        const ParseError e = parse_frame(f.data(), n, &p);
        const ParseError want_e = n < 14   ? ParseError::truncated_ethernet
                                  : n < 18 ? ParseError::truncated_vlan
                                  : is_v4  ? ParseError::truncated_ipv4
                                           : ParseError::truncated_ipv6;
        EXPECT_EQ(e, want_e) << "length " << n << ": " << to_string(e);
      }
    }
  }
  ParsedFrame p;
  const auto plain = build(spec_v4());
  ASSERT_EQ(parse_frame(plain.data(), plain.size(), &p), ParseError::ok);
  EXPECT_FALSE(p.has_vlan);
  EXPECT_EQ(p.vlan_tpid, 0);
  EXPECT_EQ(p.vlan_tci, 0);
}

TEST(Frame, BadVlanTpidIsRefusedAndWritesNothing) {
  FrameSpec s = spec_v4();
  s.has_vlan = true;
  s.vlan_tpid = 0x9100;
  std::vector<std::uint8_t> buf(256, 0x5a);
  BuildError e = BuildError::ok;
  EXPECT_EQ(build_frame(s, buf.data(), buf.size(), &e), 0u);
  EXPECT_EQ(e, BuildError::bad_vlan_tpid);
  EXPECT_STREQ(to_string(e), "bad_vlan_tpid");
  EXPECT_EQ(buf, std::vector<std::uint8_t>(256, 0x5a));
  // The TPID is ignored without has_vlan.
  s.has_vlan = false;
  EXPECT_EQ(build_frame(s, buf.data(), buf.size(), &e), frame_overhead(true) + 12u);
  EXPECT_EQ(e, BuildError::ok);
}

TEST(Frame, EveryTruncationIsNamed) {
  const auto f4 = build(spec_v4());
  for (std::size_t n = 0; n < f4.size(); ++n) {
    ParsedFrame p;
    const ParseError e = parse_frame(f4.data(), n, &p);
    const ParseError want = n < 14 ? ParseError::truncated_ethernet : ParseError::truncated_ipv4;
    EXPECT_EQ(e, want) << "length " << n << ": " << to_string(e);
  }
  FrameSpec s = spec_v4();
  s.src = v6_fd00(1, 1);
  s.dst = v6_fd00(2, 2);
  s.has_vlan = true;
  const auto f6 = build(s);
  for (std::size_t n = 0; n < f6.size(); ++n) {
    ParsedFrame p;
    const ParseError e = parse_frame(f6.data(), n, &p);
    const ParseError want = n < 14   ? ParseError::truncated_ethernet
                            : n < 18 ? ParseError::truncated_vlan
                                     : ParseError::truncated_ipv6;
    EXPECT_EQ(e, want) << "length " << n << ": " << to_string(e);
  }
  ParsedFrame p;
  EXPECT_EQ(parse_frame(nullptr, 0, &p), ParseError::truncated_ethernet);
}

TEST(Frame, PaddingIsIgnored) {
  auto f = build(spec_v4());
  f.resize(100, 0xaa);  // trailing Ethernet padding / FCS garbage
  ParsedFrame p;
  ASSERT_EQ(parse_frame(f.data(), f.size(), &p), ParseError::ok);
  EXPECT_EQ(p.payload_len, 12u);
}

TEST(Frame, NamedErrors) {
  const auto good = build(spec_v4());
  ParsedFrame p;
  auto f = good;
  f[14] = 0x55;  // version 5
  EXPECT_EQ(parse_frame(f.data(), f.size(), &p), ParseError::bad_ipv4_version);
  f = good;
  f[14] = 0x44;  // IHL 4
  EXPECT_EQ(parse_frame(f.data(), f.size(), &p), ParseError::bad_ipv4_ihl);
  f = good;
  f[16] = 0;
  f[17] = 19;  // total length < IHL
  EXPECT_EQ(parse_frame(f.data(), f.size(), &p), ParseError::bad_ipv4_ihl);
  f = good;
  f[20] = 0x20;  // MF
  EXPECT_EQ(parse_frame(f.data(), f.size(), &p), ParseError::ipv4_fragment);
  f = good;
  f[20] = 0x40;
  f[21] = 0x01;  // DF + offset 8
  EXPECT_EQ(parse_frame(f.data(), f.size(), &p), ParseError::ipv4_fragment);
  f = good;
  f[23] = 6;  // TCP
  EXPECT_EQ(parse_frame(f.data(), f.size(), &p), ParseError::not_udp);
  EXPECT_EQ(parse_frame(f.data(), f.size(), &p, true), ParseError::bad_ipv4_checksum);
  f = good;
  f[38] = 0;
  f[39] = 7;  // UDP length < 8
  EXPECT_EQ(parse_frame(f.data(), f.size(), &p), ParseError::bad_udp_length);
  f = good;
  f[39] = 21;  // UDP length > IP payload
  EXPECT_EQ(parse_frame(f.data(), f.size(), &p), ParseError::bad_udp_length);
  f = good;
  f[12] = 0x08;
  f[13] = 0x06;  // ARP
  EXPECT_EQ(parse_frame(f.data(), f.size(), &p), ParseError::unsupported_ethertype);
  f = good;
  f[16] = 0;
  f[17] = 27;  // IP total length leaves 7 bytes: no room for a UDP header
  f[24] = f[25] = 0;
  const std::uint16_t c = ipv4_header_checksum(f.data() + 14, 20);
  f[24] = static_cast<std::uint8_t>(c >> 8);
  f[25] = static_cast<std::uint8_t>(c);
  EXPECT_EQ(parse_frame(f.data(), f.size(), &p, true), ParseError::truncated_udp);
  // UDP length shorter than the IP payload is fine (the payload follows the UDP length).
  f = good;
  f[39] = 18;
  ASSERT_EQ(parse_frame(f.data(), f.size(), &p), ParseError::ok);
  EXPECT_EQ(p.payload_len, 10u);

  FrameSpec s = spec_v4();
  s.src = v6_fd00(1, 1);
  s.dst = v6_fd00(2, 2);
  const auto g6 = build(s);
  auto g = g6;
  g[14] = 0x4b;
  EXPECT_EQ(parse_frame(g.data(), g.size(), &p), ParseError::bad_ipv6_version);
  g = g6;
  g[20] = 0;  // hop-by-hop options
  EXPECT_EQ(parse_frame(g.data(), g.size(), &p), ParseError::ipv6_extension_header);
  g[20] = 44;  // fragment header
  EXPECT_EQ(parse_frame(g.data(), g.size(), &p), ParseError::ipv6_extension_header);
  g[20] = 58;  // ICMPv6
  EXPECT_EQ(parse_frame(g.data(), g.size(), &p), ParseError::not_udp);
}

TEST(Frame, Ipv4OptionsParse) {
  // IHL 6: 4 bytes of options (NOPs + EOL) between the header and UDP.
  const auto good = build(spec_v4());
  std::vector<std::uint8_t> f(good.begin(), good.begin() + 34);
  f.insert(f.end(), {0x01, 0x01, 0x01, 0x00});
  f.insert(f.end(), good.begin() + 34, good.end());
  f[14] = 0x46;
  f[17] = 44;
  f[24] = f[25] = 0;
  const std::uint16_t c = ipv4_header_checksum(f.data() + 14, 24);
  f[24] = static_cast<std::uint8_t>(c >> 8);
  f[25] = static_cast<std::uint8_t>(c);
  ParsedFrame p;
  ASSERT_EQ(parse_frame(f.data(), f.size(), &p, true), ParseError::ok);
  EXPECT_EQ(p.dst.port, 10000);
  EXPECT_EQ(p.payload, f.data() + 46);
  EXPECT_EQ(p.payload_len, 12u);
}

TEST(Frame, BuildErrorsWriteNothing) {
  FrameSpec s = spec_v4();
  std::vector<std::uint8_t> buf(54, 0x5a);
  BuildError e = BuildError::ok;
  EXPECT_EQ(build_frame(s, buf.data(), 53, &e), 0u);
  EXPECT_EQ(e, BuildError::buffer_too_small);
  for (std::uint8_t b : buf) ASSERT_EQ(b, 0x5a);
  EXPECT_EQ(build_frame(s, buf.data(), 54, &e), 54u);
  EXPECT_EQ(e, BuildError::ok);

  s.dst = v6_fd00(2, 2);
  EXPECT_EQ(build_frame(s, buf.data(), buf.size(), &e), 0u);
  EXPECT_EQ(e, BuildError::family_mismatch);

  s = spec_v4();
  s.payload_len = 65535 - 8 - 20 + 1;
  std::vector<std::uint8_t> big(70000);
  s.payload = big.data();
  EXPECT_EQ(build_frame(s, big.data(), big.size(), &e), 0u);
  EXPECT_EQ(e, BuildError::payload_too_large);

  s = spec_v4();
  s.payload = nullptr;
  EXPECT_EQ(build_frame(s, buf.data(), buf.size(), &e), 0u);
  EXPECT_EQ(e, BuildError::invalid_argument);
  EXPECT_STREQ(to_string(BuildError::family_mismatch), "family_mismatch");
  EXPECT_STREQ(to_string(ParseError::ipv4_fragment), "ipv4_fragment");
}

}  // namespace
