/* Next-hop resolution from the kernel's main routing table, for AF_XDP transmit (frames are
 * built by us, so an off-link destination needs the gateway's MAC, not its own).
 *
 * Invariants:
 *   - refresh() is one netlink RTM_GETROUTE dump (IPv4 and IPv6, in the calling thread's network
 *     namespace) of the main table (RT_TABLE_MAIN), unicast routes only (RTN_UNICAST). Policy
 *     routing (ip rule), other tables and routes that name only a nexthop object (RTA_NH_ID, no
 *     inline nexthop) are not consulted. A failed refresh keeps the previous table.
 *   - next_hop(dst) is a longest prefix match over the routes of EVERY interface (lowest metric
 *     among equal prefixes), so a more specific route out of another interface is not shadowed:
 *       via_this:        the route leaves through our interface; `addr` is its gateway
 *                        (RTA_GATEWAY, or RTA_VIA for IPv4 over an IPv6 gateway), or dst itself
 *                        when the route has none (on-link);
 *       other_interface: the kernel would send it out of another interface;
 *       none:            no route matches.
 *     A multipath route gives its first nexthop out of our interface (other_interface if none).
 *     IPv6 link-local destinations (fe80::/10) are on-link on our interface.
 *   - Addresses are 16 bytes, IPv4 as IPv4-mapped IPv6 (netio::Endpoint::addr); an IPv4 route
 *     a.b.c.d/n is held as ::ffff:a.b.c.d/(96+n), so the families never match each other.
 *   - Results are cached per destination (at most `max_cache`, then the cache starts over;
 *     cleared by refresh()), so the per-packet cost is one hash lookup.
 * Not thread-safe: one instance per shard, like netio::PacketIo.
 */
#ifndef CLUTCHCALL_CORE_XDP_ROUTES_H
#define CLUTCHCALL_CORE_XDP_ROUTES_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace clutchcall::xdp {

using Addr16 = std::array<std::uint8_t, 16>;

struct Addr16Hash {
  std::size_t operator()(const Addr16 &a) const noexcept;
};

class Routes {
 public:
  enum class Kind : std::uint8_t { via_this, other_interface, none };
  struct NextHop {
    Kind kind = Kind::none;
    Addr16 addr{};  // meaningful for via_this
  };
  struct Route {
    Addr16 prefix{};           // masked to `prefix_len`
    std::uint8_t prefix_len = 0;  // 0..128 (IPv4: 96 + n)
    std::uint32_t metric = 0;
    int oif = 0;               // 0: no nexthop out of any interface we could tell
    bool has_gateway = false;
    Addr16 gateway{};
  };

  explicit Routes(int ifindex, std::size_t max_cache = 4096);

  /* Returns "" on success, else why the dump failed (the previous table is kept). */
  std::string refresh();
  NextHop next_hop(const std::uint8_t dst[16]);

  /* Replaces the table (tests; refresh() does the same with what the kernel dumped). */
  void set_routes(std::vector<Route> routes);
  std::size_t size() const noexcept { return routes_.size(); }
  std::uint64_t refreshes() const noexcept { return refreshes_; }

 private:
  NextHop match(const Addr16 &dst) const noexcept;
  void multipath_next_hop(int family, const std::uint8_t *attr, std::size_t len, Route *r) const;

  int ifindex_;
  std::size_t max_cache_;
  std::uint64_t refreshes_ = 0;
  std::vector<Route> routes_;  // longest prefix first, then lowest metric
  std::unordered_map<Addr16, NextHop, Addr16Hash> cache_;
};

}  // namespace clutchcall::xdp

#endif  // CLUTCHCALL_CORE_XDP_ROUTES_H
