// parse_endpoint / to_string: text <-> Endpoint, IPv4 held as IPv4-mapped IPv6.
#include <arpa/inet.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "netio/packet_io.h"

namespace clutchcall::netio {

namespace {

bool is_v4_mapped(const std::uint8_t a[16]) {
  static constexpr std::uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a, kPrefix, sizeof kPrefix) == 0;
}

}  // namespace

bool parse_endpoint(const std::string &ip, std::uint16_t port, Endpoint *out) {
  if (out == nullptr || ip.empty() || ip.size() >= INET6_ADDRSTRLEN ||
      ip.find('\0') != std::string::npos) {
    return false;
  }
  Endpoint e;
  e.port = port;
  in_addr a4{};
  in6_addr a6{};
  if (inet_pton(AF_INET, ip.c_str(), &a4) == 1) {
    e.addr[10] = 0xff;
    e.addr[11] = 0xff;
    std::memcpy(e.addr + 12, &a4, 4);
    e.v4 = true;
  } else if (inet_pton(AF_INET6, ip.c_str(), &a6) == 1) {
    std::memcpy(e.addr, &a6, 16);
    // "::ffff:10.0.0.1" names an IPv4 host: hold it exactly as "10.0.0.1" so that both
    // spellings compare equal and get an AF_INET socket.
    e.v4 = is_v4_mapped(e.addr);
  } else {
    return false;
  }
  *out = e;
  return true;
}

std::string to_string(const Endpoint &e) {
  // snprintf rather than string concatenation: g++ 12 at -O3 reports a false -Wrestrict in
  // operator+ on short strings.
  char ip[INET6_ADDRSTRLEN] = {};
  char out[INET6_ADDRSTRLEN + 8] = {};
  if (e.v4) {
    inet_ntop(AF_INET, e.addr + 12, ip, sizeof ip);
    std::snprintf(out, sizeof out, "%s:%u", ip, static_cast<unsigned>(e.port));
  } else {
    inet_ntop(AF_INET6, e.addr, ip, sizeof ip);
    std::snprintf(out, sizeof out, "[%s]:%u", ip, static_cast<unsigned>(e.port));
  }
  return out;
}

}  // namespace clutchcall::netio
