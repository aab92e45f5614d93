#include "xdp/neighbours.h"

#include "xdp/netlink_dump.h"

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace clutchcall::xdp {
namespace {

bool usable_state(std::uint16_t state) {
  return (state & (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_STALE | NUD_DELAY |
                   NUD_PROBE)) != 0;
}

}  // namespace

Neighbours::Neighbours(int ifindex, std::size_t max_entries,
                       std::chrono::milliseconds min_refresh_interval)
    : ifindex_(ifindex),
      max_entries_(max_entries),
      min_refresh_interval_(min_refresh_interval),
      routes_(ifindex) {}

std::string Neighbours::refresh() {
  last_refresh_ = std::chrono::steady_clock::now();
  refreshed_once_ = true;
  ++refreshes_;
  std::string route_err = routes_.refresh();
  std::string err = refresh_neighbours();
  if (!route_err.empty()) return err.empty() ? route_err : route_err + "; " + err;
  return err;
}

std::string Neighbours::refresh_neighbours() {
  ndmsg req{};
  req.ndm_family = AF_UNSPEC;
  req.ndm_ifindex = ifindex_;
  std::unordered_map<Addr16, Entry, Addr16Hash> fresh;
  for (const auto &kv : table_)
    if (kv.second.learned) fresh.emplace(kv.first, kv.second);
  const std::string err = netlink::dump(
      RTM_GETNEIGH, &req, sizeof(req), "RTM_GETNEIGH",
      [&](std::uint16_t type, const std::uint8_t *p, std::size_t len) {
        if (type != RTM_NEWNEIGH || len < sizeof(ndmsg)) return;
        ndmsg nd;
        std::memcpy(&nd, p, sizeof(nd));
        const std::uint8_t *dst = nullptr, *ll = nullptr;
        std::size_t dst_len = 0, ll_len = 0;
        const std::size_t body = netlink::align4(sizeof(ndmsg));
        if (body > len) return;
        netlink::for_each_attr(p + body, len - body,
                               [&](std::uint16_t t, const std::uint8_t *d, std::size_t n) {
                                 if (t == NDA_DST) {
                                   dst = d;
                                   dst_len = n;
                                 } else if (t == NDA_LLADDR) {
                                   ll = d;
                                   ll_len = n;
                                 }
                               });
        if (nd.ndm_ifindex != ifindex_ || !usable_state(nd.ndm_state) || !dst || !ll ||
            ll_len != 6 || fresh.size() >= max_entries_) {
          return;
        }
        Addr16 key{};
        if (nd.ndm_family == AF_INET && dst_len == 4) {
          key[10] = 0xff;
          key[11] = 0xff;
          std::memcpy(key.data() + 12, dst, 4);
        } else if (nd.ndm_family == AF_INET6 && dst_len == 16) {
          std::memcpy(key.data(), dst, 16);
        } else {
          return;
        }
        Entry e{};
        std::memcpy(e.mac.data(), ll, 6);
        e.learned = false;
        fresh.emplace(key, e);  // a learned entry (already there) wins
      });
  if (!err.empty()) return err;
  for (const auto &kv : table_)  // keep what was learned meanwhile
    if (kv.second.learned) fresh[kv.first] = kv.second;
  table_.swap(fresh);
  return {};
}

bool Neighbours::lookup(const std::uint8_t addr16[16], Mac *mac, VlanTag *vlan) const noexcept {
  Addr16 key;
  std::memcpy(key.data(), addr16, 16);
  const auto it = table_.find(key);
  if (it == table_.end()) return false;
  *mac = it->second.mac;
  if (vlan) *vlan = it->second.vlan;
  return true;
}

bool Neighbours::lookup_or_refresh(const std::uint8_t addr16[16], Mac *mac) {
  if (lookup(addr16, mac)) return true;
  const auto now = std::chrono::steady_clock::now();
  if (refreshed_once_ && now - last_refresh_ < min_refresh_interval_) return false;
  if (!refresh().empty()) return false;
  return lookup(addr16, mac);
}

bool Neighbours::resolve_now(const std::uint8_t dst[16], Mac *mac, VlanTag *vlan) {
  Addr16 key;
  std::memcpy(key.data(), dst, 16);
  if (const auto it = table_.find(key); it != table_.end() && it->second.learned) {
    *mac = it->second.mac;
    if (vlan) *vlan = it->second.vlan;
    return true;
  }
  const Routes::NextHop h = routes_.next_hop(dst);
  switch (h.kind) {
    case Routes::Kind::via_this:
      return lookup(h.addr.data(), mac, vlan);
    case Routes::Kind::none:  // no route dumped (yet): as before routes, dst as its own next hop
      return lookup(dst, mac, vlan);
    case Routes::Kind::other_interface:
      break;
  }
  return false;
}

bool Neighbours::resolve(const std::uint8_t dst[16], Mac *mac, VlanTag *vlan) {
  if (resolve_now(dst, mac, vlan)) return true;
  const auto now = std::chrono::steady_clock::now();
  if (refreshed_once_ && now - last_refresh_ < min_refresh_interval_) return false;
  (void)refresh();  // a failed dump keeps the previous tables
  return resolve_now(dst, mac, vlan);
}

bool Neighbours::learn(const std::uint8_t addr16[16], const std::uint8_t mac[6],
                       const VlanTag &vlan) {
  Addr16 key;
  std::memcpy(key.data(), addr16, 16);
  auto it = table_.find(key);
  if (it != table_.end()) {
    std::memcpy(it->second.mac.data(), mac, 6);
    it->second.learned = true;
    it->second.vlan = vlan;
    return true;
  }
  if (table_.size() >= max_entries_) return false;
  Entry e{};
  std::memcpy(e.mac.data(), mac, 6);
  e.learned = true;
  e.vlan = vlan;
  table_.emplace(key, e);
  return true;
}

}  // namespace clutchcall::xdp
