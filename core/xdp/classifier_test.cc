// The embedded RTP classifier under BPF_PROG_TEST_RUN: crafted frames in, the XDP action and
// the exact per-CPU counters out. No interface needed (root or CAP_BPF is).
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "xdp/frame.h"
#include "xdp/xdp_program.h"

namespace {

using clutchcall::netio::Endpoint;
using namespace clutchcall::xdp;

constexpr std::uint16_t kLo = 10000;
constexpr std::uint16_t kHi = 10999;

Endpoint ep4(std::uint8_t last, std::uint16_t port) {
  Endpoint e;
  e.addr[10] = e.addr[11] = 0xff;
  e.addr[12] = 10;
  e.addr[15] = last;
  e.port = port;
  return e;
}
Endpoint ep6(std::uint8_t last, std::uint16_t port) {
  Endpoint e;
  e.addr[0] = 0xfd;
  e.addr[15] = last;
  e.port = port;
  e.v4 = false;
  return e;
}

std::vector<std::uint8_t> rtp_payload(std::size_t len = 172, std::uint8_t b0 = 0x80,
                                      std::uint8_t b1 = 0x00) {
  std::vector<std::uint8_t> p(len, 0xd5);
  if (len > 0) p[0] = b0;
  if (len > 1) p[1] = b1;
  return p;
}

std::vector<std::uint8_t> frame(bool v4, std::uint16_t dport, const std::vector<std::uint8_t> &pl,
                                bool vlan = false) {
  FrameSpec s;
  s.src_mac[5] = 1;
  s.dst_mac[5] = 2;
  s.src = v4 ? ep4(1, 40000) : ep6(1, 40000);
  s.dst = v4 ? ep4(2, dport) : ep6(2, dport);
  s.payload = pl.data();
  s.payload_len = static_cast<std::uint32_t>(pl.size());
  s.has_vlan = vlan;
  s.vlan_tci = 100;
  std::vector<std::uint8_t> f(2048);
  const std::size_t n = build_frame(s, f.data(), f.size());
  EXPECT_GT(n, 0u);
  f.resize(n);
  return f;
}

class Classifier : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    prog_ = XdpProgram::load_unattached({kLo, kHi, true}, &why);
    if (!prog_) {
      if (why.find("EPERM") != std::string::npos || why.find("ENOSYS") != std::string::npos ||
          why.find("EOPNOTSUPP") != std::string::npos)
        GTEST_SKIP() << "kernel refused BPF: " << why;
      FAIL() << why;
    }
  }

  // Runs one frame; returns the XDP action, or -errno when the kernel refuses the run.
  int run(const std::vector<std::uint8_t> &f, std::size_t len = SIZE_MAX) {
    if (len == SIZE_MAX) len = f.size();
    // Exact-size copy: the test run copies data_size_in bytes from here.
    std::vector<std::uint8_t> in(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(len));
    bpf_test_run_opts opts{};
    opts.sz = sizeof(opts);
    opts.data_in = in.data();
    opts.data_size_in = static_cast<__u32>(in.size());
    opts.repeat = 1;
    if (bpf_prog_test_run_opts(prog_->prog_fd(), &opts) != 0) return -errno;
    return static_cast<int>(opts.retval);
  }

  // Runs one frame from zeroed counters and returns the counters.
  ClassifierStats one(const std::vector<std::uint8_t> &f, int want_action = XDP_PASS) {
    EXPECT_EQ(prog_->reset_stats(), "");
    EXPECT_EQ(run(f), want_action);
    const ClassifierStats s = prog_->stats();
    EXPECT_EQ(s.total, 1u);
    EXPECT_EQ(s.rtp_redirected + s.rtp_no_socket_passed + s.not_rtp_passed + s.malformed_passed +
                  s.rtcp_passed + s.fragment_passed + s.ipv6_ext_passed + s.disabled_passed,
              1u);
    EXPECT_EQ(s.rtp_redirected, 0u);  // no XSK can be bound here
    return s;
  }

  std::unique_ptr<XdpProgram> prog_;
};

TEST_F(Classifier, EmbeddedObjectIsBpfElf) {
  const auto obj = classifier_object();
  ASSERT_GT(obj.size(), 64u);
  EXPECT_EQ(obj[0], 0x7f);
  EXPECT_EQ(obj[1], 'E');
  EXPECT_EQ(obj[18], 247);  // e_machine EM_BPF (little-endian low byte)
}

TEST_F(Classifier, RtpInRangeWithoutSocketPasses) {
  EXPECT_EQ(one(frame(true, kLo, rtp_payload())).rtp_no_socket_passed, 1u);
  EXPECT_EQ(one(frame(true, kHi, rtp_payload())).rtp_no_socket_passed, 1u);
  EXPECT_EQ(one(frame(false, 10500, rtp_payload())).rtp_no_socket_passed, 1u);
  EXPECT_EQ(one(frame(true, 10500, rtp_payload(), true)).rtp_no_socket_passed, 1u);
  EXPECT_EQ(one(frame(false, 10500, rtp_payload(), true)).rtp_no_socket_passed, 1u);
  // Minimum RTP: a bare 12-byte header; marker bit + PT 0 (second byte 0x80) is still RTP.
  EXPECT_EQ(one(frame(true, 10500, rtp_payload(12, 0x80, 0x80))).rtp_no_socket_passed, 1u);
  // 802.1ad outer tag.
  auto f = frame(true, 10500, rtp_payload(), true);
  f[12] = 0x88;
  f[13] = 0xa8;
  EXPECT_EQ(one(f).rtp_no_socket_passed, 1u);
}

TEST_F(Classifier, OutOfRangePasses) {
  EXPECT_EQ(one(frame(true, kLo - 1, rtp_payload())).not_rtp_passed, 1u);
  EXPECT_EQ(one(frame(true, kHi + 1, rtp_payload())).not_rtp_passed, 1u);
  EXPECT_EQ(one(frame(false, 5060, rtp_payload())).not_rtp_passed, 1u);
}

TEST_F(Classifier, PortRangeChangesAtRuntime) {
  const auto f = frame(true, 20000, rtp_payload());
  EXPECT_EQ(one(f).not_rtp_passed, 1u);
  ASSERT_EQ(prog_->set_port_range(20000, 20000), "");
  EXPECT_EQ(one(f).rtp_no_socket_passed, 1u);
  EXPECT_EQ(one(frame(true, kLo, rtp_payload())).not_rtp_passed, 1u);
  EXPECT_NE(prog_->set_port_range(2, 1), "");
  EXPECT_EQ(prog_->config().port_lo, 20000);
  ASSERT_EQ(prog_->set_enabled(false), "");
  EXPECT_EQ(one(f).disabled_passed, 1u);
}

TEST_F(Classifier, RtcpPasses) {
  for (int pt = 192; pt <= 223; ++pt)
    EXPECT_EQ(one(frame(true, 10500, rtp_payload(40, 0x81, static_cast<std::uint8_t>(pt))))
                  .rtcp_passed,
              1u)
        << pt;
  EXPECT_EQ(one(frame(false, 10500, rtp_payload(40, 0x80, 200))).rtcp_passed, 1u);
  EXPECT_EQ(one(frame(true, 10500, rtp_payload(40, 0x80, 191))).rtp_no_socket_passed, 1u);
  EXPECT_EQ(one(frame(true, 10500, rtp_payload(40, 0x80, 224))).rtp_no_socket_passed, 1u);
}

TEST_F(Classifier, VersionAndLengthChecks) {
  for (int b0i : {0x00, 0x40, 0xc0, 0x3f, 0x7f, 0xff})
    EXPECT_EQ(one(frame(true, 10500, rtp_payload(172, static_cast<std::uint8_t>(b0i))))
                  .not_rtp_passed,
              1u)
        << b0i;
  for (int b0i : {0x80, 0x90, 0xa0, 0xbf})
    EXPECT_EQ(one(frame(true, 10500, rtp_payload(172, static_cast<std::uint8_t>(b0i))))
                  .rtp_no_socket_passed,
              1u)
        << b0i;
  for (std::size_t n = 0; n < 12; ++n)
    EXPECT_EQ(one(frame(true, 10500, rtp_payload(n))).not_rtp_passed, 1u) << n;
}

TEST_F(Classifier, EveryTruncationPassesAsMalformed) {
  for (bool v4 : {true, false}) {
    for (bool vlan : {false, true}) {
      const auto f = frame(v4, 10500, rtp_payload(), vlan);
      for (std::size_t n = 0; n < f.size(); ++n) {
        ASSERT_EQ(prog_->reset_stats(), "");
        const int rc = run(f, n);
        const ClassifierStats s = prog_->stats();
        if (rc == -EINVAL && n < 14) {
          // The kernel refuses test runs shorter than an Ethernet header (no driver delivers
          // them either); nothing ran.
          EXPECT_EQ(s.total, 0u);
          continue;
        }
        ASSERT_EQ(rc, XDP_PASS) << "v4=" << v4 << " vlan=" << vlan << " len=" << n;
        EXPECT_EQ(s.total, 1u);
        EXPECT_EQ(s.malformed_passed, 1u) << "v4=" << v4 << " vlan=" << vlan << " len=" << n;
        EXPECT_EQ(s.rtp_no_socket_passed + s.rtp_redirected, 0u);
      }
      EXPECT_EQ(one(f).rtp_no_socket_passed, 1u);
      // Ethernet padding after the datagram is fine.
      auto padded = f;
      padded.resize(f.size() + 30, 0);
      EXPECT_EQ(one(padded).rtp_no_socket_passed, 1u);
    }
  }
}

TEST_F(Classifier, BadHeadersPassAsMalformed) {
  const auto good = frame(true, 10500, rtp_payload());
  auto f = good;
  f[14] = 0x44;  // IHL 4
  EXPECT_EQ(one(f).malformed_passed, 1u);
  f = good;
  f[14] = 0x65;  // version 6 in an IPv4 ethertype
  EXPECT_EQ(one(f).malformed_passed, 1u);
  f = good;
  f[38] = 0;
  f[39] = 7;  // UDP length < 8
  EXPECT_EQ(one(f).malformed_passed, 1u);
  f = good;
  f[38] = 0x01;  // UDP length beyond the IP payload
  EXPECT_EQ(one(f).malformed_passed, 1u);
  f = good;
  f[16] = 0x01;  // IP total length beyond the frame
  EXPECT_EQ(one(f).malformed_passed, 1u);
  f = good;
  f[4 + 14] = 0;  // (identification: irrelevant) still RTP
  EXPECT_EQ(one(f).rtp_no_socket_passed, 1u);
}

TEST_F(Classifier, Ipv4OptionsAreParsed) {
  const auto good = frame(true, 10500, rtp_payload());
  std::vector<std::uint8_t> f(good.begin(), good.begin() + 34);
  f.insert(f.end(), {1, 1, 1, 1, 1, 1, 1, 0});  // 8 bytes of options: IHL 7
  f.insert(f.end(), good.begin() + 34, good.end());
  f[14] = 0x47;
  const std::size_t tot = (static_cast<std::size_t>(good[16]) << 8 | good[17]) + 8;
  f[16] = static_cast<std::uint8_t>(tot >> 8);
  f[17] = static_cast<std::uint8_t>(tot);
  EXPECT_EQ(one(f).rtp_no_socket_passed, 1u);
}

TEST_F(Classifier, FragmentsPass) {
  auto f = frame(true, 10500, rtp_payload());
  f[20] = 0x20;  // MF, offset 0: first fragment
  EXPECT_EQ(one(f).fragment_passed, 1u);
  f[20] = 0x00;
  f[21] = 0x10;  // offset 128, last fragment
  EXPECT_EQ(one(f).fragment_passed, 1u);
  f[20] = 0x40;  // DF only, offset 0: not a fragment
  f[21] = 0x00;
  EXPECT_EQ(one(f).rtp_no_socket_passed, 1u);
}

TEST_F(Classifier, Ipv6ExtensionHeadersAndOtherProtocolsPass) {
  auto f = frame(false, 10500, rtp_payload());
  for (int nhi : {0, 43, 44, 60, 51, 50}) {
    f[20] = static_cast<std::uint8_t>(nhi);
    EXPECT_EQ(one(f).ipv6_ext_passed, 1u) << nhi;
  }
  f[20] = 58;  // ICMPv6
  EXPECT_EQ(one(f).not_rtp_passed, 1u);
  f[20] = 6;  // TCP
  EXPECT_EQ(one(f).not_rtp_passed, 1u);
  auto g = frame(true, 10500, rtp_payload());
  g[23] = 6;  // TCP over IPv4
  EXPECT_EQ(one(g).not_rtp_passed, 1u);
  g = frame(true, 10500, rtp_payload());
  g[12] = 0x08;
  g[13] = 0x06;  // ARP
  EXPECT_EQ(one(g).not_rtp_passed, 1u);
  // Double VLAN tag (QinQ): only one tag is parsed.
  g = frame(true, 10500, rtp_payload(), true);
  g[16] = 0x81;
  g[17] = 0x00;
  EXPECT_EQ(one(g).not_rtp_passed, 1u);
}

TEST_F(Classifier, CountersAccumulate) {
  ASSERT_EQ(prog_->reset_stats(), "");
  const auto rtp = frame(true, 10500, rtp_payload());
  const auto rtcp = frame(true, 10500, rtp_payload(40, 0x80, 201));
  const auto other = frame(true, 53, rtp_payload());
  for (int i = 0; i < 7; ++i) ASSERT_EQ(run(rtp), XDP_PASS);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(run(rtcp), XDP_PASS);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(run(other), XDP_PASS);
  const ClassifierStats s = prog_->stats();
  EXPECT_EQ(s.total, 15u);
  EXPECT_EQ(s.rtp_no_socket_passed, 7u);
  EXPECT_EQ(s.rtcp_passed, 3u);
  EXPECT_EQ(s.not_rtp_passed, 5u);
  EXPECT_EQ(s.malformed_passed, 0u);
}

}  // namespace
