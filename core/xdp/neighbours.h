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
 *   - VLAN: learn() also records the 802.1Q/802.1ad tag (TPID + TCI) the remote's frame came
 *     with (tpid 0: untagged); lookup() and resolve() hand it back with the MAC, so replies carry
 *     the tag of the peer's traffic. Dumped entries are untagged (the dump covers this interface
 *     only; peers behind a VLAN sub-interface of the host are not in it). A later untagged frame
 *     from the same address clears the tag.
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

struct VlanTag {
  std::uint16_t tpid = 0;  // 0: untagged; else 0x8100 (802.1Q) or 0x88a8 (802.1ad)
  std::uint16_t tci = 0;   // PCP, DEI, VID as received
  bool tagged() const noexcept { return tpid != 0; }
  bool operator==(const VlanTag &o) const noexcept { return tpid == o.tpid && tci == o.tci; }
};

class Neighbours {
 public:
  explicit Neighbours(int ifindex, std::size_t max_entries = 4096,
                      std::chrono::milliseconds min_refresh_interval = std::chrono::seconds(1));

  /* Dumps the kernel's routes (routes.h) and neighbour table for the interface (in the calling
   * thread's network namespace). Returns "" on success, else why it failed. */
  std::string refresh();

  /* `vlan` (optional) gets the entry's tag (untagged for dumped entries). */
  bool lookup(const std::uint8_t addr16[16], Mac *mac, VlanTag *vlan = nullptr) const noexcept;
  /* lookup(); on a miss, refresh() if the last one is older than min_refresh_interval, then
   * look up again. */
  bool lookup_or_refresh(const std::uint8_t addr16[16], Mac *mac);
  bool learn(const std::uint8_t addr16[16], const std::uint8_t mac[6], const VlanTag &vlan = {});
  /* The MAC (and, if `vlan`, the tag) to put on a frame for dst (learned, else route next hop
   * -> table); on a miss, refresh() if the last one is older than min_refresh_interval, then
   * try again. */
  bool resolve(const std::uint8_t dst[16], Mac *mac, VlanTag *vlan = nullptr);

  Routes &routes() noexcept { return routes_; }

  std::size_t size() const noexcept { return table_.size(); }
  std::uint64_t refreshes() const noexcept { return refreshes_; }

 private:
  struct Entry {
    Mac mac;
    bool learned;
    VlanTag vlan;  // learned entries only; dumped ones are untagged
  };
  int ifindex_;
  std::size_t max_entries_;
  std::chrono::milliseconds min_refresh_interval_;
  std::chrono::steady_clock::time_point last_refresh_{};
  bool refreshed_once_ = false;
  std::uint64_t refreshes_ = 0;
  std::unordered_map<Addr16, Entry, Addr16Hash> table_;
  Routes routes_;

  bool resolve_now(const std::uint8_t dst[16], Mac *mac, VlanTag *vlan);
  std::string refresh_neighbours();
};

}  // namespace clutchcall::xdp

#endif  // CLUTCHCALL_CORE_XDP_NEIGHBOURS_H
