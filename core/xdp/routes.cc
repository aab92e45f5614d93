#include "xdp/routes.h"

#include "xdp/netlink_dump.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace clutchcall::xdp {
namespace {

// An address attribute of `family` as a 16-byte key; false if it has the wrong size.
bool to_key(int family, const std::uint8_t *data, std::size_t len, Addr16 *out) {
  *out = Addr16{};
  if (family == AF_INET && len == 4) {
    (*out)[10] = 0xff;
    (*out)[11] = 0xff;
    std::memcpy(out->data() + 12, data, 4);
    return true;
  }
  if (family == AF_INET6 && len == 16) {
    std::memcpy(out->data(), data, 16);
    return true;
  }
  return false;
}

// RTA_GATEWAY (same family as the route) or RTA_VIA (struct rtvia: family + address).
bool gateway_attr(int route_family, std::uint16_t type, const std::uint8_t *data,
                  std::size_t len, Addr16 *out) {
  if (type == RTA_GATEWAY) return to_key(route_family, data, len, out);
  if (type == RTA_VIA && len >= sizeof(__kernel_sa_family_t)) {
    __kernel_sa_family_t fam;
    std::memcpy(&fam, data, sizeof(fam));
    return to_key(fam, data + sizeof(fam), len - sizeof(fam), out);
  }
  return false;
}

bool prefix_matches(const Addr16 &a, const Addr16 &prefix, unsigned len) {
  const unsigned bytes = len / 8, bits = len % 8;
  if (std::memcmp(a.data(), prefix.data(), bytes) != 0) return false;
  if (bits == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xffu << (8 - bits));
  return (a[bytes] & mask) == (prefix[bytes] & mask);
}

void mask_to(Addr16 *a, unsigned len) {
  for (unsigned i = 0; i < 16; ++i) {
    if (len >= 8 * (i + 1)) continue;
    const unsigned keep = len > 8 * i ? len - 8 * i : 0;
    (*a)[i] = static_cast<std::uint8_t>((*a)[i] & (0xffu << (8 - keep)));
  }
}

}  // namespace

std::size_t Addr16Hash::operator()(const Addr16 &a) const noexcept {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (std::uint8_t b : a) h = (h ^ b) * 1099511628211ull;
  return static_cast<std::size_t>(h);
}

Routes::Routes(int ifindex, std::size_t max_cache) : ifindex_(ifindex), max_cache_(max_cache) {}

void Routes::set_routes(std::vector<Route> routes) {
  for (Route &r : routes) mask_to(&r.prefix, r.prefix_len);
  std::stable_sort(routes.begin(), routes.end(), [](const Route &a, const Route &b) {
    if (a.prefix_len != b.prefix_len) return a.prefix_len > b.prefix_len;
    return a.metric < b.metric;
  });
  routes_ = std::move(routes);
  cache_.clear();
}

std::string Routes::refresh() {
  ++refreshes_;
  rtmsg req{};
  req.rtm_family = AF_UNSPEC;  // every family; non-IP ones are skipped below
  std::vector<Route> fresh;
  const std::string err = netlink::dump(
      RTM_GETROUTE, &req, sizeof(req), "RTM_GETROUTE",
      [&](std::uint16_t type, const std::uint8_t *p, std::size_t len) {
        if (type != RTM_NEWROUTE || len < sizeof(rtmsg)) return;
        rtmsg rt;
        std::memcpy(&rt, p, sizeof(rt));
        const int family = rt.rtm_family;
        const unsigned max_len = family == AF_INET ? 32u : 128u;
        std::uint32_t table = rt.rtm_table;
        Route r;
        bool have_dst = false, ok = (family == AF_INET || family == AF_INET6) &&
                                    rt.rtm_type == RTN_UNICAST && rt.rtm_dst_len <= max_len;
        const std::size_t body = netlink::align4(sizeof(rtmsg));
        if (ok && body <= len) {
          netlink::for_each_attr(p + body, len - body,
                                 [&](std::uint16_t t, const std::uint8_t *d, std::size_t n) {
            if (t == RTA_TABLE && n == 4) {
              std::memcpy(&table, d, 4);
            } else if (t == RTA_DST) {
              have_dst = to_key(family, d, n, &r.prefix);
              ok = ok && have_dst;
            } else if (t == RTA_OIF && n == 4) {
              std::memcpy(&r.oif, d, 4);
            } else if (t == RTA_PRIORITY && n == 4) {
              std::memcpy(&r.metric, d, 4);
            } else if (t == RTA_GATEWAY || t == RTA_VIA) {
              r.has_gateway = gateway_attr(family, t, d, n, &r.gateway);
            } else if (t == RTA_MULTIPATH && r.oif == 0) {
              multipath_next_hop(family, d, n, &r);
            }
          });
        }
        if (ok && table == RT_TABLE_MAIN) {
          if (!have_dst) to_key(family, Addr16{}.data(), family == AF_INET ? 4 : 16, &r.prefix);
          r.prefix_len = static_cast<std::uint8_t>(rt.rtm_dst_len + (family == AF_INET ? 96u : 0u));
          fresh.push_back(r);
        }
      });
  if (!err.empty()) return err;
  set_routes(std::move(fresh));
  return {};
}

// RTA_MULTIPATH: rtnexthop entries, each followed by its own attributes. Takes the first
// nexthop out of our interface (else the first one).
void Routes::multipath_next_hop(int family, const std::uint8_t *d, std::size_t len, Route *r) const {
  std::size_t m = 0;
  while (m + sizeof(rtnexthop) <= len) {
    rtnexthop nhop;
    std::memcpy(&nhop, d + m, sizeof(nhop));
    if (nhop.rtnh_len < sizeof(rtnexthop) || m + nhop.rtnh_len > len) break;
    if (r->oif == 0 || (r->oif != ifindex_ && nhop.rtnh_ifindex == ifindex_)) {
      r->oif = nhop.rtnh_ifindex;
      r->has_gateway = false;
      const std::size_t na = netlink::align4(sizeof(rtnexthop));
      if (na <= nhop.rtnh_len) {
        netlink::for_each_attr(d + m + na, nhop.rtnh_len - na,
                               [&](std::uint16_t t, const std::uint8_t *x, std::size_t l) {
                                 if (gateway_attr(family, t, x, l, &r->gateway)) r->has_gateway = true;
                               });
      }
    }
    m += netlink::align4(nhop.rtnh_len);
  }
}

Routes::NextHop Routes::match(const Addr16 &dst) const noexcept {
  NextHop h;
  if (dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80) {  // fe80::/10: on our link by definition
    h.kind = Kind::via_this;
    h.addr = dst;
    return h;
  }
  for (const Route &r : routes_) {
    if (!prefix_matches(dst, r.prefix, r.prefix_len)) continue;
    if (r.oif != ifindex_) {
      h.kind = Kind::other_interface;
      return h;
    }
    h.kind = Kind::via_this;
    h.addr = r.has_gateway ? r.gateway : dst;
    return h;
  }
  return h;
}

Routes::NextHop Routes::next_hop(const std::uint8_t dst[16]) {
  Addr16 key;
  std::memcpy(key.data(), dst, 16);
  if (const auto it = cache_.find(key); it != cache_.end()) return it->second;
  const NextHop h = match(key);
  if (cache_.size() >= max_cache_) cache_.clear();
  cache_.emplace(key, h);
  return h;
}

}  // namespace clutchcall::xdp
