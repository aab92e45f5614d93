#include "netio/socket_util.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace clutchcall::netio::detail {

namespace {

std::string errno_text(const char *call, const Endpoint &e, int err) {
  return std::string(call) + " " + to_string(e) + ": " + std::strerror(err);
}

bool set_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value) == 0;
}

}  // namespace

bool is_wildcard(const Endpoint &e) noexcept {
  const std::size_t start = e.v4 ? 12 : 0;
  for (std::size_t i = start; i < 16; ++i) {
    if (e.addr[i] != 0) return false;
  }
  return true;
}

Endpoint wildcard_of(const Endpoint &e) noexcept {
  Endpoint w;
  w.v4 = e.v4;
  w.port = e.port;
  if (e.v4) {
    w.addr[10] = 0xff;
    w.addr[11] = 0xff;
  }
  return w;
}

socklen_t to_sockaddr(const Endpoint &e, sockaddr_storage *ss) noexcept {
  std::memset(ss, 0, sizeof *ss);
  if (e.v4) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(e.port);
    std::memcpy(&sin.sin_addr, e.addr + 12, 4);
    std::memcpy(ss, &sin, sizeof sin);
    return sizeof sin;
  }
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(e.port);
  std::memcpy(&sin6.sin6_addr, e.addr, 16);
  std::memcpy(ss, &sin6, sizeof sin6);
  return sizeof sin6;
}

bool from_sockaddr(const void *sa, socklen_t len, Endpoint *out) noexcept {
  sa_family_t family = AF_UNSPEC;
  if (len < sizeof(sa_family_t)) return false;
  std::memcpy(&family, sa, sizeof family);
  Endpoint e;
  if (family == AF_INET && len >= sizeof(sockaddr_in)) {
    sockaddr_in sin;
    std::memcpy(&sin, sa, sizeof sin);
    e.v4 = true;
    e.addr[10] = 0xff;
    e.addr[11] = 0xff;
    std::memcpy(e.addr + 12, &sin.sin_addr, 4);
    e.port = ntohs(sin.sin_port);
  } else if (family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, sa, sizeof sin6);
    e.v4 = false;
    std::memcpy(e.addr, &sin6.sin6_addr, 16);
    e.port = ntohs(sin6.sin6_port);
  } else {
    return false;
  }
  *out = e;
  return true;
}

bool local_from_pktinfo(const cmsghdr *c, Endpoint *local) noexcept {
  const auto *data = reinterpret_cast<const unsigned char *>(c) + kCmsgHdrLen;
  const std::size_t data_len = c->cmsg_len > kCmsgHdrLen ? c->cmsg_len - kCmsgHdrLen : 0;
  if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
      data_len >= sizeof(in_pktinfo)) {
    in_pktinfo pi;
    std::memcpy(&pi, data, sizeof pi);
    std::memset(local->addr, 0, 10);
    local->addr[10] = 0xff;
    local->addr[11] = 0xff;
    std::memcpy(local->addr + 12, &pi.ipi_addr, 4);  // the header's destination address
    local->v4 = true;
    return true;
  }
  if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
      data_len >= sizeof(in6_pktinfo)) {
    in6_pktinfo pi;
    std::memcpy(&pi, data, sizeof pi);
    std::memcpy(local->addr, &pi.ipi6_addr, 16);
    local->v4 = false;
    return true;
  }
  return false;
}

std::size_t build_src_pktinfo(const Endpoint &local, void *buf) noexcept {
  std::memset(buf, 0, kPktinfoSpace);
  auto *c = static_cast<cmsghdr *>(buf);
  unsigned char *data = static_cast<unsigned char *>(buf) + kCmsgHdrLen;
  constexpr std::size_t hdr = kCmsgHdrLen;
  if (local.v4) {
    in_pktinfo pi{};
    std::memcpy(&pi.ipi_spec_dst, local.addr + 12, 4);  // source address for the reply
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = hdr + sizeof pi;
    std::memcpy(data, &pi, sizeof pi);
    return hdr + cmsg_align(sizeof pi);
  }
  in6_pktinfo pi{};
  std::memcpy(&pi.ipi6_addr, local.addr, 16);
  c->cmsg_level = IPPROTO_IPV6;
  c->cmsg_type = IPV6_PKTINFO;
  c->cmsg_len = hdr + sizeof pi;
  std::memcpy(data, &pi, sizeof pi);
  return hdr + cmsg_align(sizeof pi);
}

int open_leg_socket(const PortTable &table, const Endpoint &local, const SocketOptions &opt,
                    std::string *err) {
  if (table.contains(local)) {
    *err = "open_port " + to_string(local) + ": already open";
    return -1;
  }
  if (local.port == 0) {
    *err = "open_port " + to_string(local) + ": port 0 is not a call leg";
    return -1;
  }
  return open_udp_socket(local, opt, err);
}

int open_udp_socket(const Endpoint &local, const SocketOptions &opt, std::string *err) {
  const int family = local.v4 ? AF_INET : AF_INET6;
  const int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = errno_text("socket", local, errno);
    return -1;
  }
  auto fail = [&](const char *call) {
    *err = errno_text(call, local, errno);
    close(fd);
    return -1;
  };
  if (!set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)) return fail("setsockopt(SO_REUSEADDR)");
  if (!set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1)) return fail("setsockopt(SO_REUSEPORT)");
  if (local.v4) {
    if (!set_int(fd, IPPROTO_IP, IP_PKTINFO, 1)) return fail("setsockopt(IP_PKTINFO)");
  } else {
    if (!set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1)) return fail("setsockopt(IPV6_V6ONLY)");
    if (!set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)) {
      return fail("setsockopt(IPV6_RECVPKTINFO)");
    }
  }
  // Bursts of RTP for many calls land on one socket between two polls; the FORCE variants
  // pass net.core.[rw]mem_max when we have CAP_NET_ADMIN, otherwise the capped size will do.
  if (opt.rcvbuf > 0 && !set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, opt.rcvbuf)) {
    set_int(fd, SOL_SOCKET, SO_RCVBUF, opt.rcvbuf);
  }
  if (opt.sndbuf > 0 && !set_int(fd, SOL_SOCKET, SO_SNDBUFFORCE, opt.sndbuf)) {
    set_int(fd, SOL_SOCKET, SO_SNDBUF, opt.sndbuf);
  }
  sockaddr_storage ss;
  const socklen_t len = to_sockaddr(local, &ss);
  if (bind(fd, reinterpret_cast<const sockaddr *>(&ss), len) != 0) return fail("bind");
  return fd;
}

std::size_t EndpointHash::operator()(const Endpoint &e) const noexcept {
  // FNV-1a over the address, port and family: cheap, and good enough for a per-shard table.
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::uint8_t b) {
    h ^= b;
    h *= 1099511628211ull;
  };
  for (std::uint8_t b : e.addr) mix(b);
  mix(static_cast<std::uint8_t>(e.port >> 8));
  mix(static_cast<std::uint8_t>(e.port & 0xff));
  mix(e.v4 ? 1 : 0);
  return static_cast<std::size_t>(h);
}

bool PortTable::find(const Endpoint &e, std::uint32_t *slot) const noexcept {
  const auto it = map_.find(e);
  if (it == map_.end()) return false;
  *slot = it->second;
  return true;
}

bool PortTable::find_for_tx(const Endpoint &e, std::uint32_t *slot) const noexcept {
  return find(e, slot) || find(wildcard_of(e), slot);
}

}  // namespace clutchcall::netio::detail
