// AF_XDP end to end on a 2-queue veth pair between two network namespaces made by the test:
//   ns A (the "engine" side): veth va, classifier attached, one XskIo per queue (0 and 1);
//   ns B (the "network"):     veth vb, UDP sockets that send RTP and receive what XskIo sends.
// The test's main thread setns()es into A for the whole test (sockets remember the namespace
// they were made in, so B's sockets are made by switching to B for the socket() call only).
// Both namespaces (and so the veth pair) are deleted in the fixture's teardown, also on failure.
// Needs root; skips only where the kernel refuses XDP/AF_XDP.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "xdp/frame.h"
#include "xdp/xdp_program.h"
#include "xdp/xsk_io.h"

namespace {

using clutchcall::netio::Endpoint;
using clutchcall::netio::RxPacket;
using clutchcall::netio::TxPacket;
using namespace clutchcall::xdp;

constexpr std::uint16_t kLo = 10000;
constexpr std::uint16_t kHi = 10099;
const char *kMacA = "02:cc:00:00:0a:01";
const char *kMacB = "02:cc:00:00:0b:01";

int sh(const std::string &cmd) {
  const int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  return rc;
}

bool kernel_refused(const std::string &why) {
  for (const char *s : {"EOPNOTSUPP", "EPERM", "ENOSYS", "EAFNOSUPPORT", "EPROTONOSUPPORT"})
    if (why.find(s) != std::string::npos) return true;
  return false;
}

Endpoint ep(const char *ip, std::uint16_t port) {
  Endpoint e;
  in6_addr a6{};
  in_addr a4{};
  if (::inet_pton(AF_INET, ip, &a4) == 1) {
    e.addr[10] = e.addr[11] = 0xff;
    std::memcpy(e.addr + 12, &a4, 4);
    e.v4 = true;
  } else if (::inet_pton(AF_INET6, ip, &a6) == 1) {
    std::memcpy(e.addr, &a6, 16);
    e.v4 = false;
  } else {
    ADD_FAILURE() << "bad address " << ip;
  }
  e.port = port;
  return e;
}

// sockaddr for an Endpoint.
socklen_t to_sockaddr(const Endpoint &e, sockaddr_storage *ss) {
  std::memset(ss, 0, sizeof(*ss));
  if (e.v4) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(e.port);
    std::memcpy(&sa.sin_addr, e.addr + 12, 4);
    std::memcpy(ss, &sa, sizeof(sa));
    return sizeof(sa);
  }
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(e.port);
  std::memcpy(&sa.sin6_addr, e.addr, 16);
  std::memcpy(ss, &sa, sizeof(sa));
  return sizeof(sa);
}

Endpoint from_sockaddr(const sockaddr_storage &ss) {
  Endpoint e;
  if (ss.ss_family == AF_INET) {
    sockaddr_in sa;
    std::memcpy(&sa, &ss, sizeof(sa));
    e.addr[10] = e.addr[11] = 0xff;
    std::memcpy(e.addr + 12, &sa.sin_addr, 4);
    e.port = ntohs(sa.sin_port);
  } else {
    sockaddr_in6 sa;
    std::memcpy(&sa, &ss, sizeof(sa));
    std::memcpy(e.addr, &sa.sin6_addr, 16);
    e.port = ntohs(sa.sin6_port);
    e.v4 = false;
  }
  return e;
}

std::vector<std::uint8_t> rtp(std::uint32_t ssrc, std::uint16_t seq, std::uint8_t pt = 0,
                              std::size_t len = 172) {
  std::vector<std::uint8_t> p(len, 0xd5);
  p[0] = 0x80;
  p[1] = pt;
  p[2] = static_cast<std::uint8_t>(seq >> 8);
  p[3] = static_cast<std::uint8_t>(seq);
  p[8] = static_cast<std::uint8_t>(ssrc >> 24);
  p[9] = static_cast<std::uint8_t>(ssrc >> 16);
  p[10] = static_cast<std::uint8_t>(ssrc >> 8);
  p[11] = static_cast<std::uint8_t>(ssrc);
  return p;
}
std::uint32_t ssrc_of(const std::uint8_t *p) {
  return static_cast<std::uint32_t>(p[8]) << 24 | static_cast<std::uint32_t>(p[9]) << 16 |
         static_cast<std::uint32_t>(p[10]) << 8 | p[11];
}
std::uint16_t seq_of(const std::uint8_t *p) {
  return static_cast<std::uint16_t>(p[2] << 8 | p[3]);
}

// Two namespaces and the veth pair between them; the destructor removes everything.
class Netns {
 public:
  explicit Netns(int n) {
    const std::string id = std::to_string(::getpid()) + "_" + std::to_string(n);
    ns_a_ = "ccxa" + id;
    ns_b_ = "ccxb" + id;
    va_ = "cxa" + std::to_string(::getpid() % 1000000) + "_" + std::to_string(n);
    vb_ = "cxb" + std::to_string(::getpid() % 1000000) + "_" + std::to_string(n);
    orig_ = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  }
  ~Netns() {
    if (fd_a_ >= 0) ::close(fd_a_);
    if (fd_b_ >= 0) ::close(fd_b_);
    if (orig_ >= 0) {
      (void)::setns(orig_, CLONE_NEWNET);
      ::close(orig_);
    }
    // Deleting the namespaces deletes the veth pair with them.
    sh("ip netns del " + ns_a_);
    sh("ip netns del " + ns_b_);
  }

  // Returns "" or the failing command.
  std::string create() {
    const std::string A = "ip -n " + ns_a_ + " ", B = "ip -n " + ns_b_ + " ";
    const std::vector<std::string> cmds = {
        "ip netns add " + ns_a_,
        "ip netns add " + ns_b_,
        A + "link add " + va_ + " numtxqueues 2 numrxqueues 2 type veth peer name " + vb_ +
            " numtxqueues 2 numrxqueues 2 netns " + ns_b_,
        A + "link set " + va_ + " address " + kMacA,
        B + "link set " + vb_ + " address " + kMacB,
        A + "addr add 10.77.0.1/24 dev " + va_,
        B + "addr add 10.77.0.2/24 dev " + vb_,
        A + "addr add fd00:77::1/64 dev " + va_ + " nodad",
        B + "addr add fd00:77::2/64 dev " + vb_ + " nodad",
        A + "link set lo up",
        B + "link set lo up",
        A + "link set " + va_ + " up",
        B + "link set " + vb_ + " up",
        A + "neigh replace 10.77.0.2 lladdr " + kMacB + " dev " + va_ + " nud permanent",
        A + "neigh replace fd00:77::2 lladdr " + kMacB + " dev " + va_ + " nud permanent",
        B + "neigh replace 10.77.0.1 lladdr " + kMacA + " dev " + vb_ + " nud permanent",
        B + "neigh replace fd00:77::1 lladdr " + kMacA + " dev " + vb_ + " nud permanent",
    };
    for (const auto &c : cmds)
      if (sh(c) != 0) return c;
    fd_a_ = ::open(("/run/netns/" + ns_a_).c_str(), O_RDONLY | O_CLOEXEC);
    fd_b_ = ::open(("/run/netns/" + ns_b_).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_a_ < 0 || fd_b_ < 0) return "open /run/netns";
    if (::setns(fd_a_, CLONE_NEWNET) != 0) return "setns A";
    return {};
  }

  // A UDP socket made in namespace `b` (true) or A, bound to `local`.
  int udp_socket(bool in_b, const Endpoint &local) {
    if (in_b && ::setns(fd_b_, CLONE_NEWNET) != 0) return -1;
    const int s = ::socket(local.v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (in_b) (void)::setns(fd_a_, CLONE_NEWNET);
    if (s < 0) return -1;
    sockaddr_storage ss;
    const socklen_t sl = to_sockaddr(local, &ss);
    if (::bind(s, reinterpret_cast<sockaddr *>(&ss), sl) != 0) {
      ::close(s);
      return -1;
    }
    const int big = 4 << 20;
    ::setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    return s;
  }

  const std::string &va() const { return va_; }
  const std::string &vb() const { return vb_; }

  // An AF_PACKET socket on B's veth (all protocols, PACKET_AUXDATA on), or -1.
  int packet_socket_in_b() {
    if (::setns(fd_b_, CLONE_NEWNET) != 0) return -1;
    const int s = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    const unsigned idx = ::if_nametoindex(vb_.c_str());
    (void)::setns(fd_a_, CLONE_NEWNET);
    if (s < 0) return -1;
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(idx);
    const int one = 1;
    if (idx == 0 || ::bind(s, reinterpret_cast<sockaddr *>(&sll), sizeof(sll)) != 0 ||
        ::setsockopt(s, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) != 0) {
      ::close(s);
      return -1;
    }
    return s;
  }
  // "ip -n <ns> " prefixes for commands in A / B.
  std::string ip_a() const { return "ip -n " + ns_a_ + " "; }
  std::string ip_b() const { return "ip -n " + ns_b_ + " "; }

 private:
  std::string ns_a_, ns_b_, va_, vb_;
  int orig_ = -1, fd_a_ = -1, fd_b_ = -1;
};

struct Sock {
  int fd = -1;
  explicit Sock(int f) : fd(f) {}
  ~Sock() {
    if (fd >= 0) ::close(fd);
  }
  Sock(const Sock &) = delete;
  Sock &operator=(const Sock &) = delete;
};

void send_to(int s, const Endpoint &dst, const std::vector<std::uint8_t> &p) {
  sockaddr_storage ss;
  const socklen_t sl = to_sockaddr(dst, &ss);
  ASSERT_EQ(::sendto(s, p.data(), p.size(), 0, reinterpret_cast<sockaddr *>(&ss), sl),
            static_cast<ssize_t>(p.size()))
      << std::strerror(errno);
}

// Datagrams read from a kernel socket within the deadline (stops early at `want`).
std::vector<std::pair<Endpoint, std::vector<std::uint8_t>>> drain(int s, std::size_t want,
                                                                  int timeout_ms = 1000) {
  std::vector<std::pair<Endpoint, std::vector<std::uint8_t>>> got;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (got.size() < want && std::chrono::steady_clock::now() < end) {
    pollfd p{s, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    std::uint8_t buf[2048];
    sockaddr_storage ss{};
    socklen_t sl = sizeof(ss);
    const ssize_t n =
        ::recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT, reinterpret_cast<sockaddr *>(&ss), &sl);
    if (n < 0) continue;
    got.emplace_back(from_sockaddr(ss), std::vector<std::uint8_t>(buf, buf + n));
  }
  return got;
}

struct Received {
  Endpoint remote, local;
  std::uint32_t queue;
  std::uint32_t ssrc;
  std::uint16_t seq;
  std::uint32_t len;
  bool payload_ok;
  std::uint8_t mac[6];
};

class XskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    net_ = std::make_unique<Netns>(++counter);
    const std::string bad = net_->create();
    ASSERT_EQ(bad, "") << "setup command failed: " << bad;
    std::string why;
    prog_ = XdpProgram::attach(net_->va(), {kLo, kHi, true}, &why);
    if (!prog_) {
      if (kernel_refused(why)) GTEST_SKIP() << "kernel refused XDP: " << why;
      FAIL() << why;
    }
    for (std::uint32_t q = 0; q < 2; ++q) {
      XskConfig c;
      c.ifname = net_->va();
      c.queue_id = q;
      auto io = XskIo::create(c, *prog_, &why);
      if (!io) {
        if (kernel_refused(why)) GTEST_SKIP() << "kernel refused AF_XDP: " << why;
        FAIL() << why;
      }
      xsk_.push_back(std::move(io));
    }
    std::printf("[ info ] XDP mode: %s (%s); XSK bind mode: %s (queue 0), %s (queue 1)\n",
                XdpProgram::mode_name(prog_->mode()),
                prog_->multiprog() ? "libxdp dispatcher" : "direct attach",
                XskIo::bind_mode_name(xsk_[0]->bind_mode()),
                XskIo::bind_mode_name(xsk_[1]->bind_mode()));
  }
  void TearDown() override {
    xsk_.clear();
    prog_.reset();
    net_.reset();
  }

  // Polls both XSKs until `want` packets or the deadline; copies out and releases each burst.
  std::vector<Received> receive(std::size_t want, int timeout_ms = 2000) {
    std::vector<Received> got;
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    RxPacket pkts[64];
    for (;;) {
      bool any = false;
      for (auto &io : xsk_) {
        const std::size_t n = io->rx_burst(pkts, 64);
        for (std::size_t i = 0; i < n; ++i) {
          Received r{};
          r.remote = pkts[i].remote;
          r.local = pkts[i].local;
          r.queue = pkts[i].queue;
          r.len = pkts[i].len;
          std::memcpy(r.mac, pkts[i].remote_mac, 6);
          if (pkts[i].len >= 12) {
            r.ssrc = ssrc_of(pkts[i].data);
            r.seq = seq_of(pkts[i].data);
            const auto want_p = rtp(r.ssrc, r.seq);
            r.payload_ok = pkts[i].len == want_p.size() &&
                           std::memcmp(pkts[i].data, want_p.data(), want_p.size()) == 0;
          }
          got.push_back(r);
        }
        io->rx_release(pkts, n);
        any = any || n > 0;
      }
      if (got.size() >= want) {
        // Linger briefly to catch duplicates.
        if (std::chrono::steady_clock::now() + std::chrono::milliseconds(100) > end) break;
        if (!any) {
          for (auto &io : xsk_) io->wait(50);
          bool more = false;
          for (auto &io : xsk_) {
            const std::size_t n = io->rx_burst(pkts, 64);
            io->rx_release(pkts, n);
            if (n) {
              more = true;
              for (std::size_t i = 0; i < n; ++i) {
                Received r{};
                r.queue = pkts[i].queue;
                got.push_back(r);
              }
            }
          }
          if (!more) break;
        }
      }
      if (std::chrono::steady_clock::now() > end) break;
      if (!any) xsk_[0]->wait(5);
    }
    return got;
  }

  std::unique_ptr<Netns> net_;
  std::unique_ptr<XdpProgram> prog_;
  std::vector<std::unique_ptr<XskIo>> xsk_;
};

// Sends `per` RTP packets from each of `nsock` sockets in B; returns the sockets.
std::vector<std::unique_ptr<Sock>> blast(Netns &net, bool v4, int nsock, int per,
                                         std::uint32_t ssrc_base) {
  std::vector<std::unique_ptr<Sock>> socks;
  for (int i = 0; i < nsock; ++i) {
    socks.push_back(std::make_unique<Sock>(net.udp_socket(true, ep(v4 ? "10.77.0.2" : "fd00:77::2", 0))));
    EXPECT_GE(socks.back()->fd, 0);
  }
  for (int k = 0; k < per; ++k)
    for (int i = 0; i < nsock; ++i)
      send_to(socks[static_cast<std::size_t>(i)]->fd,
              ep(v4 ? "10.77.0.1" : "fd00:77::1", static_cast<std::uint16_t>(kLo + i % 8)),
              rtp(ssrc_base + static_cast<std::uint32_t>(i), static_cast<std::uint16_t>(k)));
  return socks;
}

std::uint16_t local_port(int s) {
  sockaddr_storage ss{};
  socklen_t sl = sizeof(ss);
  ::getsockname(s, reinterpret_cast<sockaddr *>(&ss), &sl);
  return from_sockaddr(ss).port;
}

void check_exactly_once(const std::vector<Received> &got, bool v4, int nsock, int per,
                        std::uint32_t ssrc_base, const std::vector<std::unique_ptr<Sock>> &socks,
                        std::map<std::uint32_t, std::uint32_t> *queue_of_ssrc) {
  std::map<std::pair<std::uint32_t, std::uint16_t>, int> seen;
  for (const auto &r : got) {
    seen[{r.ssrc, r.seq}]++;
    ASSERT_TRUE(r.ssrc >= ssrc_base && r.ssrc < ssrc_base + static_cast<std::uint32_t>(nsock))
        << "unexpected ssrc " << r.ssrc;
    const int i = static_cast<int>(r.ssrc - ssrc_base);
    EXPECT_TRUE(r.payload_ok);
    EXPECT_EQ(r.remote, ep(v4 ? "10.77.0.2" : "fd00:77::2",
                           local_port(socks[static_cast<std::size_t>(i)]->fd)));
    EXPECT_EQ(r.local, ep(v4 ? "10.77.0.1" : "fd00:77::1", static_cast<std::uint16_t>(kLo + i % 8)));
    EXPECT_EQ(r.mac[0], 0x02);
    EXPECT_EQ(r.mac[5], 0x01);
    EXPECT_EQ(r.mac[4], 0x0b);
    if (queue_of_ssrc) {
      auto it = queue_of_ssrc->find(r.ssrc);
      if (it == queue_of_ssrc->end())
        (*queue_of_ssrc)[r.ssrc] = r.queue;
      else
        EXPECT_EQ(it->second, r.queue) << "a flow moved between queues";
    }
  }
  EXPECT_EQ(got.size(), static_cast<std::size_t>(nsock * per));
  for (int i = 0; i < nsock; ++i)
    for (int k = 0; k < per; ++k)
      EXPECT_EQ((seen[{ssrc_base + static_cast<std::uint32_t>(i), static_cast<std::uint16_t>(k)}]), 1)
          << "ssrc " << ssrc_base + static_cast<std::uint32_t>(i) << " seq " << k;
}

TEST_F(XskTest, RtpReachesBothQueuesExactlyOnce) {
  constexpr int kSock = 48, kPer = 5;
  for (bool v4 : {true, false}) {
    const std::uint32_t base = v4 ? 1000 : 2000;
    ASSERT_EQ(prog_->reset_stats(), "");
    auto socks = blast(*net_, v4, kSock, kPer, base);
    const auto got = receive(kSock * kPer);
    std::map<std::uint32_t, std::uint32_t> q;
    check_exactly_once(got, v4, kSock, kPer, base, socks, &q);
    std::size_t per_queue[2] = {0, 0};
    for (const auto &r : got) per_queue[r.queue & 1]++;
    std::printf("[ info ] %s: queue 0 got %zu, queue 1 got %zu\n", v4 ? "IPv4" : "IPv6",
                per_queue[0], per_queue[1]);
    EXPECT_GT(per_queue[0], 0u);
    EXPECT_GT(per_queue[1], 0u);
    const ClassifierStats s = prog_->stats();
    EXPECT_EQ(s.rtp_redirected, static_cast<std::uint64_t>(kSock * kPer));
    EXPECT_EQ(s.rtp_no_socket_passed, 0u);
  }
  const auto st = xsk_[0]->stats();
  const auto st1 = xsk_[1]->stats();
  EXPECT_EQ(st.rx_packets + st1.rx_packets, static_cast<std::uint64_t>(2 * kSock * kPer));
  EXPECT_EQ(st.rx_bytes + st1.rx_bytes, static_cast<std::uint64_t>(2 * kSock * kPer * 172));
  EXPECT_EQ(st.rx_dropped + st1.rx_dropped, 0u);
}

TEST_F(XskTest, NonRtpAndRtcpReachTheKernel) {
  for (bool v4 : {true, false}) {
    const char *a = v4 ? "10.77.0.1" : "fd00:77::1";
    const char *b = v4 ? "10.77.0.2" : "fd00:77::2";
    Sock plain(net_->udp_socket(false, ep(a, 5000)));
    Sock rtp_port(net_->udp_socket(false, ep(a, kLo + 50)));
    Sock src(net_->udp_socket(true, ep(b, 0)));
    ASSERT_GE(plain.fd, 0);
    ASSERT_GE(rtp_port.fd, 0);
    ASSERT_GE(src.fd, 0);
    ASSERT_EQ(prog_->reset_stats(), "");
    send_to(src.fd, ep(a, 5000), rtp(7, 1));               // RTP-looking, port out of range
    send_to(src.fd, ep(a, kLo + 50), rtp(7, 2, 200, 28));  // RTCP SR on an RTP port
    send_to(src.fd, ep(a, kLo + 50), rtp(7, 3, 201, 32));  // RTCP RR
    const auto g1 = drain(plain.fd, 1);
    ASSERT_EQ(g1.size(), 1u);
    EXPECT_EQ(g1[0].first, ep(b, local_port(src.fd)));
    EXPECT_EQ(g1[0].second, rtp(7, 1));
    const auto g2 = drain(rtp_port.fd, 2);
    ASSERT_EQ(g2.size(), 2u);
    EXPECT_EQ(g2[0].second, rtp(7, 2, 200, 28));
    EXPECT_EQ(g2[1].second, rtp(7, 3, 201, 32));
    EXPECT_EQ(receive(0, 200).size(), 0u);
    const ClassifierStats s = prog_->stats();
    EXPECT_EQ(s.rtcp_passed, 2u);
    EXPECT_GE(s.not_rtp_passed, 1u);
    EXPECT_EQ(s.rtp_redirected, 0u);
  }
}

TEST_F(XskTest, UnregisteredQueueFallsBackToTheKernel) {
  constexpr int kSock = 32;
  // Phase 1: find which flows land on which queue.
  auto socks = blast(*net_, true, kSock, 1, 5000);
  std::map<std::uint32_t, std::uint32_t> q;
  check_exactly_once(receive(kSock), true, kSock, 1, 5000, socks, &q);
  std::set<std::uint32_t> on_q1;
  for (const auto &kv : q)
    if (kv.second == 1) on_q1.insert(kv.first);
  ASSERT_FALSE(on_q1.empty()) << "no flow hashed to queue 1";
  ASSERT_LT(on_q1.size(), static_cast<std::size_t>(kSock)) << "no flow hashed to queue 0";

  // Phase 2: queue 1's XSK leaves the map; its flows must reach kernel sockets instead.
  ASSERT_EQ(xsk_[1]->detach_from_map(), "");
  std::vector<std::unique_ptr<Sock>> kernel;
  for (int p = 0; p < 8; ++p) {
    kernel.push_back(std::make_unique<Sock>(
        net_->udp_socket(false, ep("10.77.0.1", static_cast<std::uint16_t>(kLo + p)))));
    ASSERT_GE(kernel.back()->fd, 0);
  }
  ASSERT_EQ(prog_->reset_stats(), "");
  for (int i = 0; i < kSock; ++i)
    send_to(socks[static_cast<std::size_t>(i)]->fd,
            ep("10.77.0.1", static_cast<std::uint16_t>(kLo + i % 8)),
            rtp(5000 + static_cast<std::uint32_t>(i), 1));
  const auto xsk_got = receive(kSock - on_q1.size(), 1000);
  std::set<std::uint32_t> fast;
  for (const auto &r : xsk_got) {
    EXPECT_EQ(r.queue, 0u);
    EXPECT_TRUE(fast.insert(r.ssrc).second);
  }
  std::set<std::uint32_t> slow;
  for (auto &k : kernel)
    for (const auto &d : drain(k->fd, on_q1.size(), 150))
      EXPECT_TRUE(slow.insert(ssrc_of(d.second.data())).second);
  EXPECT_EQ(slow, on_q1);
  EXPECT_EQ(fast.size() + slow.size(), static_cast<std::size_t>(kSock));
  const ClassifierStats s = prog_->stats();
  EXPECT_EQ(s.rtp_no_socket_passed, on_q1.size());
  EXPECT_EQ(s.rtp_redirected, kSock - on_q1.size());
  std::printf("[ info ] fallback: %zu flows on queue 1 went to kernel sockets\n", on_q1.size());

  // And back: registered again, queue 1 is fast again.
  ASSERT_EQ(xsk_[1]->attach_to_map(), "");
  for (std::uint32_t ssrc : on_q1)
    send_to(socks[ssrc - 5000]->fd, ep("10.77.0.1", static_cast<std::uint16_t>(kLo + (ssrc - 5000) % 8)),
            rtp(ssrc, 2));
  const auto back = receive(on_q1.size(), 1000);
  EXPECT_EQ(back.size(), on_q1.size());
  for (const auto &r : back) EXPECT_EQ(r.queue, 1u);
}

TEST_F(XskTest, TransmitReachesTheNamespace) {
  for (bool v4 : {true, false}) {
    const char *a = v4 ? "10.77.0.1" : "fd00:77::1";
    const char *b = v4 ? "10.77.0.2" : "fd00:77::2";
    Sock sink(net_->udp_socket(true, ep(b, 6000)));
    ASSERT_GE(sink.fd, 0);
    constexpr int kN = 300;  // more than one copy-mode TX batch per flush
    std::vector<std::vector<std::uint8_t>> payloads;
    std::vector<TxPacket> tx;
    for (int i = 0; i < kN; ++i)
      payloads.push_back(rtp(0xabc, static_cast<std::uint16_t>(i), 8,
                             100 + static_cast<std::size_t>(i % 60)));
    for (int i = 0; i < kN; ++i) {
      TxPacket p;
      p.data = payloads[static_cast<std::size_t>(i)].data();
      p.len = static_cast<std::uint32_t>(payloads[static_cast<std::size_t>(i)].size());
      p.local = ep(a, static_cast<std::uint16_t>(kLo + 1 + (i & 1)));
      p.remote = ep(b, 6000);
      tx.push_back(p);
    }
    XskIo &io = *xsk_[v4 ? 0 : 1];
    const auto before = io.stats();
    ASSERT_EQ(io.tx_burst(tx.data(), tx.size()), tx.size());
    io.flush();
    const auto got = drain(sink.fd, kN, 2000);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(kN));
    std::set<std::uint16_t> seqs;
    for (const auto &[from, data] : got) {
      ASSERT_GE(data.size(), 12u);
      const std::uint16_t seq = seq_of(data.data());
      ASSERT_LT(seq, kN);
      EXPECT_EQ(data, payloads[seq]);
      EXPECT_EQ(from, ep(a, static_cast<std::uint16_t>(kLo + 1 + (seq & 1))));
      seqs.insert(seq);
    }
    EXPECT_EQ(seqs.size(), static_cast<std::size_t>(kN));
    io.flush();
    const auto after = io.stats();
    EXPECT_EQ(after.tx_packets - before.tx_packets, static_cast<std::uint64_t>(kN));
    EXPECT_EQ(after.tx_dropped, before.tx_dropped);
    EXPECT_GT(after.wakeups, before.wakeups);
  }
}

// Re-creates both queues' XSKs with `cfg` right after closing the old ones (which is when the
// kernel may still hold the queue: create() retries the EBUSY).
void recreate(XdpProgram &prog, const std::string &ifname, std::vector<std::unique_ptr<XskIo>> *xsk,
              XskConfig cfg, std::uint32_t *retries) {
  xsk->clear();
  for (std::uint32_t q = 0; q < 2; ++q) {
    cfg.ifname = ifname;
    cfg.queue_id = q;
    std::string why;
    auto io = XskIo::create(cfg, prog, &why);
    ASSERT_TRUE(io) << why;
    *retries += io->bind_retries();
    xsk->push_back(std::move(io));
  }
}

TEST_F(XskTest, BadRingSizesAreRefused) {
  std::string why;
  XskConfig c;
  c.ifname = net_->va();
  c.queue_id = 1;
  c.rx_frames = 1000;
  EXPECT_FALSE(XskIo::create(c, *prog_, &why));
  EXPECT_EQ(why, "rx_frames must be a power of two in 64..262144 (got 1000)");
  c.rx_frames = 64;
  c.tx_frames = 32;
  EXPECT_FALSE(XskIo::create(c, *prog_, &why));
  EXPECT_EQ(why, "tx_frames must be a power of two in 64..262144 (got 32)");
}

TEST_F(XskTest, FillRingStarvationIsCountedAndRecovers) {
  // 64 RX frames per queue and nobody receiving: one flow (one queue) of 200 packets fills the
  // RX ring with 64, then the kernel finds the fill ring empty for the other 136 and drops them.
  XskConfig small;
  small.rx_frames = 64;
  small.tx_frames = 64;
  std::uint32_t retries = 0;
  recreate(*prog_, net_->va(), &xsk_, small, &retries);
  if (HasFatalFailure()) return;
  Sock src(net_->udp_socket(true, ep("10.77.0.2", 0)));
  ASSERT_GE(src.fd, 0);
  constexpr int kSent = 200;
  for (int k = 0; k < kSent; ++k) send_to(src.fd, ep("10.77.0.1", kLo), rtp(77, static_cast<std::uint16_t>(k)));
  std::uint64_t dropped = 0, io_dropped = 0, fill_empty = 0, ring_full = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    dropped = io_dropped = fill_empty = ring_full = 0;
    for (auto &io : xsk_) {
      const XskStats s = io->xsk_stats();
      dropped += s.kernel_rx_dropped;
      ring_full += s.kernel_rx_ring_full;
      fill_empty += s.kernel_rx_fill_ring_empty;
      io_dropped += s.io.rx_dropped;
    }
  } while (dropped + ring_full < kSent - 64 && std::chrono::steady_clock::now() < end);
  std::printf("[ info ] 200 sent to 64 frames: kernel rx_dropped %llu, rx_ring_full %llu, "
              "fill_ring_empty %llu\n",
              static_cast<unsigned long long>(dropped), static_cast<unsigned long long>(ring_full),
              static_cast<unsigned long long>(fill_empty));
  EXPECT_EQ(dropped + ring_full, static_cast<std::uint64_t>(kSent - 64));
  EXPECT_EQ(io_dropped, dropped + ring_full) << "the kernel's drops show in IoStats::rx_dropped";
  EXPECT_GE(fill_empty, dropped);
  std::uint64_t io_sum = 0;
  for (auto &io : xsk_) io_sum += io->stats().rx_dropped;
  EXPECT_EQ(io_sum, io_dropped);
  // The first 64 are in the RX ring, in order; releasing them refills the fill ring, and the
  // next packets arrive again.
  auto got = receive(64);
  ASSERT_EQ(got.size(), 64u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].ssrc, 77u);
    EXPECT_EQ(got[i].seq, i);
  }
  for (int k = 0; k < 10; ++k) send_to(src.fd, ep("10.77.0.1", kLo), rtp(78, static_cast<std::uint16_t>(k)));
  got = receive(10);
  ASSERT_EQ(got.size(), 10u);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].ssrc, 78u);
}

TEST_F(XskTest, RebindingTheSameQueuesAtOnceWorks) {
  // Close both XSKs with traffic just received and bind the same queues again at once, five
  // times: create() waits out the kernel's deferred release (EBUSY) instead of failing.
  std::uint32_t retries = 0;
  for (int round = 0; round < 5; ++round) {
    auto socks = blast(*net_, true, 8, 4, 3000 + static_cast<std::uint32_t>(round) * 10);
    const auto got = receive(32);
    ASSERT_EQ(got.size(), 32u) << "round " << round;
    recreate(*prog_, net_->va(), &xsk_, XskConfig{}, &retries);
    if (HasFatalFailure()) return;
  }
  auto socks = blast(*net_, true, 8, 4, 4000);
  EXPECT_EQ(receive(32).size(), 32u);
  std::printf("[ info ] 5 immediate rebinds: %u EBUSY retries\n", retries);
}

TEST_F(XskTest, UnknownNeighbourIsDroppedAndCountedWithoutSlowPath) {
  XskConfig c;
  c.slow_path_per_sec = 0;  // no kernel slow path: a miss is a counted drop, as without CAP_NET_RAW
  std::uint32_t retries = 0;
  recreate(*prog_, net_->va(), &xsk_, c, &retries);
  if (HasFatalFailure()) return;
  EXPECT_EQ(xsk_[0]->slow_path_error(), "disabled (slow_path_per_sec = 0)");
  std::vector<std::uint8_t> p = rtp(1, 1);
  TxPacket t;
  t.data = p.data();
  t.len = static_cast<std::uint32_t>(p.size());
  t.local = ep("10.77.0.1", kLo);
  t.remote = ep("10.77.0.99", 6000);  // no neighbour entry
  EXPECT_EQ(xsk_[0]->tx_burst(&t, 1), 0u);
  const XskStats s = xsk_[0]->xsk_stats();
  EXPECT_EQ(s.io.tx_dropped, 1u);
  EXPECT_EQ(s.tx_no_neighbour, 1u);
  EXPECT_EQ(s.tx_slow_path, 0u);
  EXPECT_EQ(s.tx_slow_path_dropped, 0u);
  // Learned from a received frame: latching makes the same destination reachable.
  const std::uint8_t mac[6] = {0x02, 0xcc, 0, 0, 0x0b, 0x01};
  ASSERT_TRUE(xsk_[0]->neighbours().learn(t.remote.addr, mac));
  EXPECT_EQ(xsk_[0]->tx_burst(&t, 1), 1u);
  xsk_[0]->flush();
  EXPECT_EQ(xsk_[0]->open_port(ep("10.77.0.1", 5)).empty(), false);
  EXPECT_EQ(xsk_[0]->open_port(ep("10.77.0.1", kLo)), "");
  EXPECT_TRUE(xsk_[0]->port_open(kLo));
}

// Longest prefix match, metrics, other interfaces, IPv4/IPv6 separation: no kernel involved.
TEST(Routes, LongestPrefixMatchOverEveryInterface) {
  const int ours = 7, other = 8;
  auto a = [](const char *ip) { return ep(ip, 0); };
  auto key = [](const Endpoint &e) {
    Addr16 k;
    std::memcpy(k.data(), e.addr, 16);
    return k;
  };
  std::vector<Routes::Route> rs;
  auto add = [&](const char *prefix, unsigned len, int oif, const char *gw, std::uint32_t metric) {
    Routes::Route r;
    const Endpoint e = a(prefix);
    r.prefix = key(e);
    r.prefix_len = static_cast<std::uint8_t>(len + (e.v4 ? 96u : 0u));
    r.oif = oif;
    r.metric = metric;
    if (gw) {
      r.has_gateway = true;
      r.gateway = key(a(gw));
    }
    rs.push_back(r);
  };
  add("0.0.0.0", 0, ours, "10.0.0.254", 100);
  add("10.0.0.0", 24, ours, nullptr, 0);
  add("10.1.0.0", 16, other, nullptr, 0);
  add("10.1.2.0", 24, ours, "10.0.0.1", 10);
  add("10.1.2.0", 24, ours, "10.0.0.2", 5);  // lower metric wins
  add("10.2.3.77", 8, ours, "10.0.0.3", 0);   // host bits are masked off: 10.0.0.0/8
  add("fd00::", 64, ours, nullptr, 0);
  add("::", 0, ours, "fd00::1", 0);
  Routes r(ours);
  r.set_routes(rs);
  auto nh = [&](const char *ip) { return r.next_hop(a(ip).addr); };
  EXPECT_EQ(nh("192.0.2.1").kind, Routes::Kind::via_this);
  EXPECT_EQ(nh("192.0.2.1").addr, key(a("10.0.0.254")));
  EXPECT_EQ(nh("10.0.0.9").addr, key(a("10.0.0.9")));  // on-link: its own next hop
  EXPECT_EQ(nh("10.1.9.9").kind, Routes::Kind::other_interface);
  EXPECT_EQ(nh("10.1.2.3").addr, key(a("10.0.0.2")));
  EXPECT_EQ(nh("10.200.0.1").addr, key(a("10.0.0.3")));
  EXPECT_EQ(nh("fd00::42").addr, key(a("fd00::42")));
  EXPECT_EQ(nh("2001:db8::1").addr, key(a("fd00::1")));
  EXPECT_EQ(nh("fe80::1").addr, key(a("fe80::1")));  // link-local: on our link
  EXPECT_EQ(nh("fe80::1").kind, Routes::Kind::via_this);
  // Cached answers are dropped by a new table.
  r.set_routes({});
  EXPECT_EQ(nh("192.0.2.1").kind, Routes::Kind::none);
  EXPECT_EQ(nh("fd00::42").kind, Routes::Kind::none);
}

// Sends `n` RTP packets from `io` to `dst`; returns the payloads (seq = index + seq0).
std::vector<std::vector<std::uint8_t>> send_rtp(XskIo &io, const Endpoint &src, const Endpoint &dst,
                                                int n, std::uint16_t seq0, std::size_t *accepted) {
  std::vector<std::vector<std::uint8_t>> payloads;
  std::vector<TxPacket> tx;
  for (int i = 0; i < n; ++i)
    payloads.push_back(rtp(0x5150, static_cast<std::uint16_t>(seq0 + i), 8, 160));
  for (auto &pl : payloads) {
    TxPacket p;
    p.data = pl.data();
    p.len = static_cast<std::uint32_t>(pl.size());
    p.local = src;
    p.remote = dst;
    tx.push_back(p);
  }
  *accepted = io.tx_burst(tx.data(), tx.size());
  io.flush();
  return payloads;
}

// Every payload arrived exactly once, from `from`.
void expect_all_received(int sink, const std::vector<std::vector<std::uint8_t>> &payloads,
                         std::uint16_t seq0, const Endpoint &from, int timeout_ms = 2000) {
  const auto got = drain(sink, payloads.size(), timeout_ms);
  ASSERT_EQ(got.size(), payloads.size());
  std::set<std::uint16_t> seqs;
  for (const auto &[src, data] : got) {
    ASSERT_GE(data.size(), 12u);
    const std::uint16_t seq = static_cast<std::uint16_t>(seq_of(data.data()) - seq0);
    ASSERT_LT(seq, payloads.size());
    EXPECT_EQ(data, payloads[seq]);
    EXPECT_EQ(src, from);
    EXPECT_TRUE(seqs.insert(seq).second) << "duplicate seq " << seq;
  }
}

TEST_F(XskTest, OffLinkPeerGoesThroughTheGatewayOnTheXsk) {
  // B owns 10.99.0.5 / fd00:99::5 on lo; A reaches them via B's veth address, which has a static
  // neighbour entry in A; the off-link addresses themselves have none.
  for (const std::string &c :
       {net_->ip_b() + "addr add 10.99.0.5/32 dev lo",
        net_->ip_b() + "addr add fd00:99::5/128 dev lo nodad",
        net_->ip_a() + "route add 10.99.0.0/24 via 10.77.0.2 dev " + net_->va(),
        net_->ip_a() + "route add fd00:99::/64 via fd00:77::2 dev " + net_->va()})
    ASSERT_EQ(sh(c), 0) << c;
  std::uint32_t retries = 0;
  recreate(*prog_, net_->va(), &xsk_, XskConfig{}, &retries);  // create() dumps the new routes
  if (HasFatalFailure()) return;
  for (bool v4 : {true, false}) {
    const Endpoint dst = ep(v4 ? "10.99.0.5" : "fd00:99::5", 6100);
    const Endpoint src = ep(v4 ? "10.77.0.1" : "fd00:77::1", kLo + 3);
    Sock sink(net_->udp_socket(true, dst));
    ASSERT_GE(sink.fd, 0);
    XskIo &io = *xsk_[0];
    const XskStats before = io.xsk_stats();
    constexpr int kN = 100;
    std::size_t accepted = 0;
    const auto payloads = send_rtp(io, src, dst, kN, 0, &accepted);
    EXPECT_EQ(accepted, static_cast<std::size_t>(kN));
    expect_all_received(sink.fd, payloads, 0, src);
    const XskStats after = io.xsk_stats();
    EXPECT_EQ(after.io.tx_packets - before.io.tx_packets, static_cast<std::uint64_t>(kN));
    EXPECT_EQ(after.tx_slow_path, before.tx_slow_path) << "must go through the XSK";
    EXPECT_EQ(after.io.tx_dropped, before.io.tx_dropped);
    // The gateway's MAC (B's) was used; a learned MAC for the remote itself takes precedence.
    Mac m{};
    ASSERT_TRUE(io.neighbours().resolve(dst.addr, &m));
    EXPECT_EQ(m, (Mac{0x02, 0xcc, 0x00, 0x00, 0x0b, 0x01}));
    const std::uint8_t learned[6] = {0x02, 0xcc, 0, 0, 0x0b, 0x77};
    ASSERT_TRUE(io.neighbours().learn(dst.addr, learned));
    ASSERT_TRUE(io.neighbours().resolve(dst.addr, &m));
    EXPECT_EQ(m, (Mac{0x02, 0xcc, 0x00, 0x00, 0x0b, 0x77}));
  }
}

// A's veth is a trunk and B's peer sits on a VLAN. The kernel here may lack 802.1Q devices
// (CONFIG_VLAN_8021Q), so B's peer is an AF_PACKET socket on B's veth: it sends tagged RTP
// frames (frame.h) and reads what comes back with the tag B's kernel found on the wire
// (PACKET_AUXDATA). The XSK must learn MAC + tag and tag every reply the same way, for 802.1Q
// and 802.1ad, IPv4 and IPv6; untagged peers (the other tests) stay untagged.
TEST_F(XskTest, VlanPeerGetsTaggedReplies) {
  Sock raw(net_->packet_socket_in_b());
  ASSERT_GE(raw.fd, 0) << "AF_PACKET socket in B: " << std::strerror(errno);
  const std::uint8_t mac_a[6] = {0x02, 0xcc, 0x00, 0x00, 0x0a, 0x01};
  const std::uint8_t mac_b[6] = {0x02, 0xcc, 0x00, 0x00, 0x0b, 0x01};
  constexpr int kN = 40;
  int round = 0;
  for (bool v4 : {true, false}) {
    for (std::uint16_t tpid : {std::uint16_t{0x8100}, std::uint16_t{0x88a8}}) {
      SCOPED_TRACE(std::string(v4 ? "IPv4" : "IPv6") + " TPID " + std::to_string(tpid));
      ++round;
      const std::uint16_t tci = static_cast<std::uint16_t>(0xa000 | (100 + round));  // PCP 5
      const Endpoint local = ep(v4 ? "10.100.0.1" : "fd00:100::1", kLo + 5);
      const Endpoint remote =
          ep(v4 ? "10.100.0.2" : "fd00:100::2", static_cast<std::uint16_t>(7000 + round));
      for (int i = 0; i < kN; ++i) {
        const auto pl = rtp(0x7100, static_cast<std::uint16_t>(i));
        FrameSpec s;
        std::memcpy(s.src_mac, mac_b, 6);
        std::memcpy(s.dst_mac, mac_a, 6);
        s.src = remote;
        s.dst = local;
        s.payload = pl.data();
        s.payload_len = static_cast<std::uint32_t>(pl.size());
        s.has_vlan = true;
        s.vlan_tpid = tpid;
        s.vlan_tci = tci;
        std::uint8_t f[2048];
        const std::size_t n = build_frame(s, f, sizeof(f));
        ASSERT_GT(n, 0u);
        ASSERT_EQ(::send(raw.fd, f, n, 0), static_cast<ssize_t>(n)) << std::strerror(errno);
      }

      // Whichever queue the flow hashed to learned the peer; that XSK replies.
      std::size_t got[2] = {0, 0};
      std::size_t bad = 0;
      const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      RxPacket pkts[64];
      while (got[0] + got[1] < kN && std::chrono::steady_clock::now() < end) {
        for (std::size_t q = 0; q < 2; ++q) {
          const std::size_t n = xsk_[q]->rx_burst(pkts, 64);
          for (std::size_t i = 0; i < n; ++i) {
            if (pkts[i].remote == remote && pkts[i].local == local && pkts[i].len == 172 &&
                ssrc_of(pkts[i].data) == 0x7100)
              ++got[q];
            else
              ++bad;
          }
          xsk_[q]->rx_release(pkts, n);
        }
        xsk_[0]->wait(5);
      }
      ASSERT_EQ(got[0] + got[1], static_cast<std::size_t>(kN));
      EXPECT_EQ(bad, 0u);
      ASSERT_TRUE(got[0] == 0 || got[1] == 0) << "one flow, one queue";
      XskIo &io = *xsk_[got[0] ? 0 : 1];

      // The tag was seen and learned with the MAC.
      Mac m{};
      VlanTag tag;
      ASSERT_TRUE(io.neighbours().lookup(remote.addr, &m, &tag));
      EXPECT_EQ(m, (Mac{0x02, 0xcc, 0x00, 0x00, 0x0b, 0x01}));
      EXPECT_EQ(tag, (VlanTag{tpid, tci}));

      const XskStats before = io.xsk_stats();
      std::size_t accepted = 0;
      const auto payloads = send_rtp(io, local, remote, kN, 0, &accepted);
      EXPECT_EQ(accepted, static_cast<std::size_t>(kN));

      // Every reply reaches B's veth with the peer's tag (B's kernel moved it to auxdata).
      std::set<std::uint16_t> seqs;
      std::size_t untagged = 0, wrong_tag = 0;
      const auto rend = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (seqs.size() < kN && std::chrono::steady_clock::now() < rend) {
        pollfd pf{raw.fd, POLLIN, 0};
        if (::poll(&pf, 1, 20) <= 0) continue;
        std::uint8_t buf[2048];
        alignas(8) std::uint8_t ctl[CMSG_SPACE(sizeof(tpacket_auxdata))];
        sockaddr_ll from{};
        iovec iov{buf, sizeof(buf)};
        msghdr mh{};
        mh.msg_name = &from;
        mh.msg_namelen = sizeof(from);
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = ctl;
        mh.msg_controllen = sizeof(ctl);
        const ssize_t n = ::recvmsg(raw.fd, &mh, MSG_DONTWAIT);
        if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING) continue;
        ParsedFrame p;
        if (parse_frame(buf, static_cast<std::size_t>(n), &p, true) != ParseError::ok ||
            !(p.dst == remote))
          continue;
        ASSERT_EQ(p.src, local);
        ASSERT_EQ(p.payload_len, 160u);
        const std::uint16_t seq = seq_of(p.payload);
        ASSERT_LT(seq, kN);
        EXPECT_EQ(std::memcmp(p.payload, payloads[seq].data(), 160), 0);
        EXPECT_EQ(std::memcmp(p.dst_mac, mac_b, 6), 0);
        EXPECT_EQ(std::memcmp(p.src_mac, mac_a, 6), 0);
        bool tagged = p.has_vlan && p.vlan_tpid == tpid && p.vlan_tci == tci;  // left in data
        bool any_tag = p.has_vlan;
        for (cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
          if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
          tpacket_auxdata aux;
          std::memcpy(&aux, CMSG_DATA(c), sizeof(aux));
          if (aux.tp_status & TP_STATUS_VLAN_VALID) {
            any_tag = true;
            tagged = aux.tp_vlan_tci == tci &&
                     (!(aux.tp_status & TP_STATUS_VLAN_TPID_VALID) || aux.tp_vlan_tpid == tpid);
          }
        }
        if (!any_tag)
          ++untagged;
        else if (!tagged)
          ++wrong_tag;
        EXPECT_TRUE(seqs.insert(seq).second) << "duplicate seq " << seq;
      }
      EXPECT_EQ(seqs.size(), static_cast<std::size_t>(kN));
      EXPECT_EQ(untagged, 0u);
      EXPECT_EQ(wrong_tag, 0u);
      const XskStats after = io.xsk_stats();
      EXPECT_EQ(after.tx_slow_path, before.tx_slow_path) << "must go through the XSK";
      EXPECT_EQ(after.io.tx_dropped, before.io.tx_dropped);
      EXPECT_EQ(after.io.tx_packets - before.io.tx_packets, static_cast<std::uint64_t>(kN));
    }
  }

  // Untagged traffic from B's veth address learns no tag, so its replies stay untagged.
  auto socks = blast(*net_, true, 1, 3, 0x7200);
  const auto r = receive(3);
  ASSERT_EQ(r.size(), 3u);
  Mac m{};
  VlanTag tag{0x8100, 1};
  ASSERT_TRUE(xsk_[r[0].queue]->neighbours().lookup(r[0].remote.addr, &m, &tag));
  EXPECT_FALSE(tag.tagged());
  EXPECT_EQ(tag.tci, 0);
}

// The tag follows the remote's latest frame; dumped / never-seen addresses are untagged.
TEST(Neighbours, LearnedVlanFollowsTheLatestFrame) {
  Neighbours n(1, 2, std::chrono::hours(1));
  const std::uint8_t a[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 100, 0, 2};
  const std::uint8_t b[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 100, 0, 3};
  const std::uint8_t c[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 100, 0, 4};
  const std::uint8_t mac1[6] = {2, 0, 0, 0, 0, 1};
  const std::uint8_t mac2[6] = {2, 0, 0, 0, 0, 2};
  ASSERT_TRUE(n.learn(a, mac1, VlanTag{0x88a8, 0x2064}));
  ASSERT_TRUE(n.learn(b, mac2));
  Mac m{};
  VlanTag t;
  ASSERT_TRUE(n.resolve(a, &m, &t));
  EXPECT_EQ(m, (Mac{2, 0, 0, 0, 0, 1}));
  EXPECT_EQ(t, (VlanTag{0x88a8, 0x2064}));
  ASSERT_TRUE(n.resolve(b, &m, &t));
  EXPECT_EQ(m, (Mac{2, 0, 0, 0, 0, 2}));
  EXPECT_FALSE(t.tagged());
  // The same peer, now untagged: the tag goes; tagged again: it comes back.
  ASSERT_TRUE(n.learn(a, mac1));
  ASSERT_TRUE(n.lookup(a, &m, &t));
  EXPECT_EQ(t, VlanTag{});
  ASSERT_TRUE(n.learn(a, mac1, VlanTag{0x8100, 0x0065}));
  ASSERT_TRUE(n.lookup(a, &m, &t));
  EXPECT_EQ(t, (VlanTag{0x8100, 0x0065}));
  // Full table (2 entries): a third remote is not learned.
  EXPECT_FALSE(n.learn(c, mac2, VlanTag{0x8100, 7}));
  EXPECT_FALSE(n.lookup(c, &m, &t));
}

TEST_F(XskTest, NeighbourMissGoesThroughTheKernelThenTheXsk) {
  // A forgets B's MACs: the first packets go through the raw sockets (the kernel does ARP / ND),
  // and once a refresh has found the kernel's new entry, through the XSK.
  for (const std::string &c : {net_->ip_a() + "neigh del 10.77.0.2 dev " + net_->va(),
                               net_->ip_a() + "neigh del fd00:77::2 dev " + net_->va()})
    ASSERT_EQ(sh(c), 0) << c;
  XskConfig c;
  c.neighbour_refresh_ms = 100;
  std::uint32_t retries = 0;
  recreate(*prog_, net_->va(), &xsk_, c, &retries);
  if (HasFatalFailure()) return;
  if (!xsk_[0]->slow_path_error().empty() &&
      kernel_refused(xsk_[0]->slow_path_error()))
    GTEST_SKIP() << "kernel refused the raw sockets: " << xsk_[0]->slow_path_error();
  ASSERT_EQ(xsk_[0]->slow_path_error(), "");
  ASSERT_EQ(prog_->reset_stats(), "");
  for (bool v4 : {true, false}) {
    const Endpoint dst = ep(v4 ? "10.77.0.2" : "fd00:77::2", 6200);
    const Endpoint src = ep(v4 ? "10.77.0.1" : "fd00:77::1", kLo + 4);
    Sock sink(net_->udp_socket(true, dst));
    ASSERT_GE(sink.fd, 0);
    XskIo &io = *xsk_[0];
    constexpr int kN = 20;
    const XskStats s0 = io.xsk_stats();
    std::size_t accepted = 0;
    const auto t0 = std::chrono::steady_clock::now();
    auto payloads = send_rtp(io, src, dst, kN, 0, &accepted);
    EXPECT_EQ(accepted, static_cast<std::size_t>(kN));
    // The kernel queues them until ARP / ND answers. On a veth just brought up, B ignores the
    // first IPv6 neighbour solicitation (seen with tcpdump, also with plain UDP sockets), so
    // IPv6 takes one ND retransmit (1 s).
    expect_all_received(sink.fd, payloads, 0, src, 5000);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - t0).count();
    const XskStats s1 = io.xsk_stats();
    // The first one surely missed; later ones may already find the MAC (the kernel can resolve
    // it on veth before sendto returns, and a refresh may run in between).
    EXPECT_GE(s1.tx_slow_path - s0.tx_slow_path, 1u);
    EXPECT_EQ(s1.io.tx_packets - s0.io.tx_packets, static_cast<std::uint64_t>(kN));
    EXPECT_EQ(s1.io.tx_dropped, s0.io.tx_dropped);
    std::printf("[ info ] %s miss: %llu of %d via the kernel slow path, all received in %lld ms\n",
                v4 ? "IPv4" : "IPv6",
                static_cast<unsigned long long>(s1.tx_slow_path - s0.tx_slow_path), kN, static_cast<long long>(ms));
    std::this_thread::sleep_for(std::chrono::milliseconds(150));  // > neighbour_refresh_ms
    payloads = send_rtp(io, src, dst, kN, 100, &accepted);
    EXPECT_EQ(accepted, static_cast<std::size_t>(kN));
    expect_all_received(sink.fd, payloads, 100, src);
    const XskStats s2 = io.xsk_stats();
    EXPECT_EQ(s2.tx_slow_path, s1.tx_slow_path) << "the refresh should have found the MAC";
    EXPECT_EQ(s2.io.tx_packets - s1.io.tx_packets, static_cast<std::uint64_t>(kN));
    EXPECT_EQ(s2.io.tx_dropped, s0.io.tx_dropped);
  }
  // Nothing the kernel sent for us came back into the XSKs or confused the classifier.
  EXPECT_EQ(receive(0, 100).size(), 0u);
  EXPECT_EQ(prog_->stats().rtp_redirected, 0u);
}

TEST_F(XskTest, SlowPathBudgetDropsAndCountsTheExcess) {
  XskConfig c;
  c.slow_path_per_sec = 20;
  std::uint32_t retries = 0;
  recreate(*prog_, net_->va(), &xsk_, c, &retries);
  if (HasFatalFailure()) return;
  if (kernel_refused(xsk_[0]->slow_path_error()))
    GTEST_SKIP() << "kernel refused the raw sockets: " << xsk_[0]->slow_path_error();
  ASSERT_EQ(xsk_[0]->slow_path_error(), "");
  XskIo &io = *xsk_[0];
  // Nobody owns 10.77.0.99 / fd00:77::99: ARP / ND never resolves, so every packet misses.
  const Endpoint src4 = ep("10.77.0.1", kLo), dst4 = ep("10.77.0.99", 6300);
  const Endpoint src6 = ep("fd00:77::1", kLo), dst6 = ep("fd00:77::99", 6300);
  std::size_t accepted = 0;
  (void)send_rtp(io, src4, dst4, 30, 0, &accepted);
  EXPECT_EQ(accepted, 20u);
  (void)send_rtp(io, src6, dst6, 5, 0, &accepted);  // same window, same budget
  EXPECT_EQ(accepted, 0u);
  XskStats s = io.xsk_stats();
  EXPECT_EQ(s.tx_slow_path, 20u);
  EXPECT_EQ(s.tx_slow_path_dropped, 15u);
  EXPECT_EQ(s.tx_no_neighbour, 0u);
  EXPECT_EQ(s.io.tx_packets, 20u);
  EXPECT_EQ(s.io.tx_dropped, 15u);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a new window
  (void)send_rtp(io, src6, dst6, 25, 0, &accepted);
  EXPECT_EQ(accepted, 20u);
  s = io.xsk_stats();
  EXPECT_EQ(s.tx_slow_path, 40u);
  EXPECT_EQ(s.tx_slow_path_dropped, 20u);
  EXPECT_EQ(s.io.tx_packets, 40u);
  EXPECT_EQ(s.io.tx_dropped, 20u);
  EXPECT_EQ(s.io.tx_bytes, 40u * 160u);
}

}  // namespace

namespace {

std::string run_capture(const std::string &cmd) {
  std::string out;
  FILE *f = ::popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[512];
  while (std::fgets(buf, sizeof(buf), f)) out += buf;
  ::pclose(f);
  return out;
}

TEST_F(XskTest, DestructorDetachesTheProgram) {
  // The child inherits this thread's network namespace (A).
  const std::string cmd = "ip -d link show dev " + net_->va() + " 2>&1";
  EXPECT_NE(run_capture(cmd).find("prog/xdp"), std::string::npos) << run_capture(cmd);
  xsk_.clear();
  prog_.reset();
  const std::string after = run_capture(cmd);
  EXPECT_NE(after.find(net_->va()), std::string::npos) << after;
  EXPECT_EQ(after.find("prog/xdp"), std::string::npos) << after;
}

}  // namespace
