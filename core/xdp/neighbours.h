/* Next-hop MAC resolution for AF_XDP transmit (the kernel's neighbour table is bypassed, so we
 * keep our own small copy).
 *
 * Invariants:
 *   - resolve(dst): a learned entry for dst wins (the MAC the remote's packets came from);
 *     otherwise the next hop comes from Routes (routes.h: the gateway for an off-link dst, dst
 *     itself on-link or when no route matches) and is looked up in the table. A route out of
 *     another interface is a miss (the caller hands such packets to the kernel).
 *   - Entries come from two sources: refresh() (a netlink RTM_GETNEIGH dump of the interface,
 *     IPv4 and IPv6; only usable states: PERMANENT, NOARP, REACHABLE, STALE, DELAY, PROBE, with a
 *     6-byte link-layer address) and learn() (the source MAC of a received frame: symmetric RTP
 *     latching). learn() overrides a dumped entry; a later refresh() keeps learned entries.
 *   - lookup() never blocks and never sends anything (no ARP / ND): a miss is reported to the
 *     caller (XskIo sends it through the kernel's slow path, bounded, or drops and counts it). A
 *     miss may trigger a refresh (routes and neighbours), but at most once per
 *     `min_refresh_interval` (resolve, lookup_or_refresh).
 *   - Keys are 16-byte addresses, IPv4 as IPv4-mapped IPv6 (netio::Endpoint::addr).
 *   - The table is bounded (`max_entries`); when full, learn() replaces nothing and returns
 *     false.
 * Not thread-safe: one instance per shard, like netio::PacketIo.
 */
#ifndef CLUTCHCALL_CORE_XDP_NEIGHBOURS_H
#define CLUTCHCALL_CORE_XDP_NEIGHBOURS_H

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "xdp/routes.h"

namespace clutchcall::xdp {

using Mac = std::array<std::uint8_t, 6>;

class Neighbours {
 public:
  explicit Neighbours(int ifindex, std::size_t max_entries = 4096,
                      std::chrono::milliseconds min_refresh_interval = std::chrono::seconds(1));

  /* Dumps the kernel's routes (routes.h) and neighbour table for the interface (in the calling
   * thread's network namespace). Returns "" on success, else why it failed. */
  std::string refresh();

  bool lookup(const std::uint8_t addr16[16], Mac *mac) const noexcept;
  /* lookup(); on a miss, refresh() if the last one is older than min_refresh_interval, then
   * look up again. */
  bool lookup_or_refresh(const std::uint8_t addr16[16], Mac *mac);
  bool learn(const std::uint8_t addr16[16], const std::uint8_t mac[6]);
  /* The MAC to put on a frame for dst (learned, else route next hop -> table); on a miss,
   * refresh() if the last one is older than min_refresh_interval, then try again. */
  bool resolve(const std::uint8_t dst[16], Mac *mac);

  Routes &routes() noexcept { return routes_; }

  std::size_t size() const noexcept { return table_.size(); }
  std::uint64_t refreshes() const noexcept { return refreshes_; }

 private:
  struct Entry {
    Mac mac;
    bool learned;
  };
  int ifindex_;
  std::size_t max_entries_;
  std::chrono::milliseconds min_refresh_interval_;
  std::chrono::steady_clock::time_point last_refresh_{};
  bool refreshed_once_ = false;
  std::uint64_t refreshes_ = 0;
  std::unordered_map<Addr16, Entry, Addr16Hash> table_;
  Routes routes_;

  bool resolve_now(const std::uint8_t dst[16], Mac *mac);
  std::string refresh_neighbours();
};

}  // namespace clutchcall::xdp

#endif  // CLUTCHCALL_CORE_XDP_NEIGHBOURS_H
