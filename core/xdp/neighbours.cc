#include "xdp/neighbours.h"

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace clutchcall::xdp {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool usable_state(std::uint16_t state) {
  return (state & (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_STALE | NUD_DELAY |
                   NUD_PROBE)) != 0;
}

// Netlink attribute walking with explicit bounds (the NLMSG_/RTA_ macros cast old-style).
struct Attr {
  std::uint16_t type;
  const std::uint8_t *data;
  std::size_t len;
};
constexpr std::size_t align4(std::size_t n) { return (n + 3u) & ~std::size_t{3}; }

}  // namespace

std::size_t Neighbours::Hash::operator()(const Addr16 &a) const noexcept {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (std::uint8_t b : a) h = (h ^ b) * 1099511628211ull;
  return static_cast<std::size_t>(h);
}

Neighbours::Neighbours(int ifindex, std::size_t max_entries,
                       std::chrono::milliseconds min_refresh_interval)
    : ifindex_(ifindex), max_entries_(max_entries), min_refresh_interval_(min_refresh_interval) {}

std::string Neighbours::refresh() {
  last_refresh_ = std::chrono::steady_clock::now();
  refreshed_once_ = true;
  ++refreshes_;
  Fd s;
  s.fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s.fd < 0) return std::string("netlink socket: ") + std::strerror(errno);

  struct {
    nlmsghdr nh;
    ndmsg nd;
  } req{};
  req.nh.nlmsg_len = sizeof(req);
  req.nh.nlmsg_type = RTM_GETNEIGH;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nh.nlmsg_seq = 1;
  req.nd.ndm_family = AF_UNSPEC;
  req.nd.ndm_ifindex = ifindex_;
  if (::send(s.fd, &req, sizeof(req), 0) < 0)
    return std::string("netlink send: ") + std::strerror(errno);

  std::unordered_map<Addr16, Entry, Hash> fresh;
  for (const auto &kv : table_)
    if (kv.second.learned) fresh.emplace(kv.first, kv.second);

  std::vector<std::uint8_t> buf(32768);
  for (;;) {
    const ssize_t n = ::recv(s.fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::string("netlink recv: ") + std::strerror(errno);
    }
    std::size_t off = 0;
    const std::size_t total = static_cast<std::size_t>(n);
    while (off + sizeof(nlmsghdr) <= total) {
      nlmsghdr nh;
      std::memcpy(&nh, buf.data() + off, sizeof(nh));
      if (nh.nlmsg_len < sizeof(nlmsghdr) || off + nh.nlmsg_len > total) break;
      if (nh.nlmsg_type == NLMSG_DONE) {
        for (const auto &kv : table_)  // keep what was learned meanwhile
          if (kv.second.learned) fresh[kv.first] = kv.second;
        table_.swap(fresh);
        return {};
      }
      if (nh.nlmsg_type == NLMSG_ERROR) {
        nlmsgerr e{};
        if (nh.nlmsg_len >= sizeof(nlmsghdr) + sizeof(e))
          std::memcpy(&e, buf.data() + off + sizeof(nlmsghdr), sizeof(e));
        return std::string("netlink RTM_GETNEIGH: ") + std::strerror(-e.error);
      }
      if (nh.nlmsg_type == RTM_NEWNEIGH && nh.nlmsg_len >= sizeof(nlmsghdr) + sizeof(ndmsg)) {
        ndmsg nd;
        std::memcpy(&nd, buf.data() + off + sizeof(nlmsghdr), sizeof(nd));
        const std::uint8_t *dst = nullptr;
        std::size_t dst_len = 0;
        const std::uint8_t *ll = nullptr;
        std::size_t ll_len = 0;
        std::size_t a = off + sizeof(nlmsghdr) + align4(sizeof(ndmsg));
        const std::size_t end = off + nh.nlmsg_len;
        while (a + sizeof(rtattr) <= end) {
          rtattr ra;
          std::memcpy(&ra, buf.data() + a, sizeof(ra));
          if (ra.rta_len < sizeof(rtattr) || a + ra.rta_len > end) break;
          const Attr at{ra.rta_type, buf.data() + a + sizeof(rtattr), ra.rta_len - sizeof(rtattr)};
          if (at.type == NDA_DST) {
            dst = at.data;
            dst_len = at.len;
          } else if (at.type == NDA_LLADDR) {
            ll = at.data;
            ll_len = at.len;
          }
          a += align4(ra.rta_len);
        }
        if (nd.ndm_ifindex == ifindex_ && usable_state(nd.ndm_state) && dst && ll &&
            ll_len == 6 && fresh.size() < max_entries_) {
          Addr16 key{};
          if (nd.ndm_family == AF_INET && dst_len == 4) {
            key[10] = 0xff;
            key[11] = 0xff;
            std::memcpy(key.data() + 12, dst, 4);
          } else if (nd.ndm_family == AF_INET6 && dst_len == 16) {
            std::memcpy(key.data(), dst, 16);
          } else {
            dst = nullptr;
          }
          if (dst) {
            Entry e{};
            std::memcpy(e.mac.data(), ll, 6);
            e.learned = false;
            fresh.emplace(key, e);  // a learned entry (already there) wins
          }
        }
      }
      off += align4(nh.nlmsg_len);
    }
  }
}

bool Neighbours::lookup(const std::uint8_t addr16[16], Mac *mac) const noexcept {
  Addr16 key;
  std::memcpy(key.data(), addr16, 16);
  const auto it = table_.find(key);
  if (it == table_.end()) return false;
  *mac = it->second.mac;
  return true;
}

bool Neighbours::lookup_or_refresh(const std::uint8_t addr16[16], Mac *mac) {
  if (lookup(addr16, mac)) return true;
  const auto now = std::chrono::steady_clock::now();
  if (refreshed_once_ && now - last_refresh_ < min_refresh_interval_) return false;
  if (!refresh().empty()) return false;
  return lookup(addr16, mac);
}

bool Neighbours::learn(const std::uint8_t addr16[16], const std::uint8_t mac[6]) {
  Addr16 key;
  std::memcpy(key.data(), addr16, 16);
  auto it = table_.find(key);
  if (it != table_.end()) {
    if (std::memcmp(it->second.mac.data(), mac, 6) != 0 || !it->second.learned) {
      std::memcpy(it->second.mac.data(), mac, 6);
      it->second.learned = true;
    }
    return true;
  }
  if (table_.size() >= max_entries_) return false;
  Entry e{};
  std::memcpy(e.mac.data(), mac, 6);
  e.learned = true;
  table_.emplace(key, e);
  return true;
}

}  // namespace clutchcall::xdp
