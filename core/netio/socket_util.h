/* Helpers shared by the socket backends (UdpMmsgIo, UdpUringIo); internal to netio/.
 *
 *   - Endpoint <-> sockaddr: an Endpoint with v4 set becomes a sockaddr_in (its address is the
 *     low 4 bytes of the IPv4-mapped form), otherwise a sockaddr_in6.
 *   - open_udp_socket(): the one way both backends make a socket, so that they behave the same:
 *     non-blocking, SO_REUSEADDR + SO_REUSEPORT (other shards or a second engine process may
 *     hold the same port; the kernel spreads datagrams over the group by 4-tuple hash),
 *     IPV6_V6ONLY on v6 sockets (a v4 endpoint always has its own AF_INET socket), and
 *     IP_PKTINFO / IPV6_RECVPKTINFO so that a socket bound to the wildcard address still learns
 *     each datagram's destination address. Errors name the call, the endpoint and errno text.
 *   - PortTable: local endpoint -> port slot. A TX lookup that finds no exact entry falls back
 *     to the wildcard socket of the same family and port (the relay sends from the address an
 *     RX packet arrived on, which for a wildcard socket came from pktinfo).
 */
#ifndef CLUTCHCALL_CORE_NETIO_SOCKET_UTIL_H
#define CLUTCHCALL_CORE_NETIO_SOCKET_UTIL_H

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "netio/packet_io.h"

namespace clutchcall::netio::detail {

struct SocketOptions {
  int rcvbuf = 4 << 20;  // bytes; tried with SO_RCVBUFFORCE first (root), then SO_RCVBUF
  int sndbuf = 1 << 20;
};

/* Room for the one pktinfo cmsg either family carries (in6_pktinfo is the larger). */
/* CMSG_ALIGN / CMSG_SPACE without the C casts of the libc macros. */
constexpr std::size_t cmsg_align(std::size_t n) {
  return (n + sizeof(std::size_t) - 1) & ~(sizeof(std::size_t) - 1);
}
constexpr std::size_t kCmsgHdrLen = cmsg_align(sizeof(cmsghdr));
constexpr std::size_t kPktinfoSpace = kCmsgHdrLen + cmsg_align(sizeof(in6_pktinfo));

bool is_wildcard(const Endpoint &e) noexcept;
Endpoint wildcard_of(const Endpoint &e) noexcept;  // same family and port, any address

/* Writes the sockaddr for `e` into `ss`; returns its length. */
socklen_t to_sockaddr(const Endpoint &e, sockaddr_storage *ss) noexcept;
/* False if the family is neither AF_INET nor AF_INET6 or the length is short. */
bool from_sockaddr(const void *sa, socklen_t len, Endpoint *out) noexcept;

/* If `c` is an IP_PKTINFO / IPV6_PKTINFO cmsg, stores its destination address in `local`
 * (address and family only, the port is left alone) and returns true. `c` is trusted to have
 * cmsg_len bytes. */
bool local_from_pktinfo(const cmsghdr *c, Endpoint *local) noexcept;

/* Fills `buf` (kPktinfoSpace bytes, aligned for cmsghdr) with a pktinfo cmsg asking the kernel
 * to send from `local`'s address; returns the control length to put in msg_controllen. */
std::size_t build_src_pktinfo(const Endpoint &local, void *buf) noexcept;

/* A bound UDP socket as described above, or -1 with `err` set
 * ("bind 10.0.0.1:4000: Address already in use"). */
int open_udp_socket(const Endpoint &local, const SocketOptions &opt, std::string *err);

struct EndpointHash {
  std::size_t operator()(const Endpoint &e) const noexcept;
};

class PortTable {
 public:
  void insert(const Endpoint &e, std::uint32_t slot) { map_[e] = slot; }
  void erase(const Endpoint &e) { map_.erase(e); }
  bool contains(const Endpoint &e) const { return map_.count(e) != 0; }
  /* Exact match. */
  bool find(const Endpoint &e, std::uint32_t *slot) const noexcept;
  /* Exact match, else the wildcard socket of the same family and port (for TX). */
  bool find_for_tx(const Endpoint &e, std::uint32_t *slot) const noexcept;
  std::size_t size() const noexcept { return map_.size(); }

 private:
  std::unordered_map<Endpoint, std::uint32_t, EndpointHash> map_;
};

/* How every socket backend's open_port() starts: refuses a leg that is already open or has
 * port 0, then opens its socket. The socket, or -1 with `err` set ("open_port ...: why"). */
int open_leg_socket(const PortTable &table, const Endpoint &local, const SocketOptions &opt,
                    std::string *err);

/* A free slot in a backend's port array: a recycled one, else a new default-constructed one. */
template <class Port>
std::uint32_t take_port_slot(std::vector<std::uint32_t> &free_slots, std::vector<Port> &ports) {
  if (!free_slots.empty()) {
    const std::uint32_t slot = free_slots.back();
    free_slots.pop_back();
    return slot;
  }
  ports.emplace_back();
  return static_cast<std::uint32_t>(ports.size() - 1);
}

}  // namespace clutchcall::netio::detail

#endif  // CLUTCHCALL_CORE_NETIO_SOCKET_UTIL_H
