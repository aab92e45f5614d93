/* One NETLINK_ROUTE dump (RTM_GETROUTE, RTM_GETNEIGH, ...) and bounded attribute walking, shared
 * by routes.h and neighbours.h.
 *
 * Invariants:
 *   - Every length read from the kernel is checked against the bytes received before it is used
 *     (the RTA_/NLMSG_ macros cast old-style and trust the lengths); a malformed message ends
 *     that datagram's walk, never reads past it.
 *   - dump() calls on_message(type, payload, len) for each message (payload: the bytes after its
 *     nlmsghdr) in order, and returns "" once NLMSG_DONE arrives; an NLMSG_ERROR or a socket
 *     error returns "netlink <what>: <strerror>" and the caller keeps its previous state.
 */
#ifndef CLUTCHCALL_CORE_XDP_NETLINK_DUMP_H
#define CLUTCHCALL_CORE_XDP_NETLINK_DUMP_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

namespace clutchcall::xdp::netlink {

constexpr std::size_t align4(std::size_t n) { return (n + 3u) & ~std::size_t{3}; }

/* Walks the rtattrs in [p, p + len): f(type, data, data_len) for each well-formed one. */
template <typename F>
void for_each_attr(const std::uint8_t *p, std::size_t len, F &&f) {
  struct Hdr {  // struct rtattr / nlattr
    std::uint16_t len, type;
  };
  std::size_t a = 0;
  while (a + sizeof(Hdr) <= len) {
    Hdr h;
    std::memcpy(&h, p + a, sizeof(h));
    if (h.len < sizeof(Hdr) || a + h.len > len) break;
    f(h.type, p + a + sizeof(Hdr), std::size_t{h.len} - sizeof(Hdr));
    a += align4(h.len);
  }
}

using MessageFn = std::function<void(std::uint16_t type, const std::uint8_t *payload, std::size_t len)>;

/* Sends a dump request of `type` whose family header (rtmsg, ndmsg, ...) is `hdr`/`hdr_len`,
 * in the calling thread's network namespace. `what` names it in errors ("RTM_GETROUTE"). */
std::string dump(std::uint16_t type, const void *hdr, std::size_t hdr_len, const char *what,
                 const MessageFn &on_message);

}  // namespace clutchcall::xdp::netlink

#endif  // CLUTCHCALL_CORE_XDP_NETLINK_DUMP_H
