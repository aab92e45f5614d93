// libFuzzer: arbitrary bytes as an Ethernet frame. The parse must stay inside the input, and a
// successful parse must rebuild (same MACs, endpoints, payload, VLAN) into a frame that parses
// back to the same thing with valid checksums.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "xdp/frame.h"

using namespace clutchcall::xdp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  // Copy to an exact-size heap buffer so ASan catches any read past the end.
  std::vector<std::uint8_t> in(data, data + size);
  ParsedFrame p;
  const ParseError e = parse_frame(in.data(), in.size(), &p, (size & 1) != 0);
  if (to_string(e) == nullptr) std::abort();
  if (e != ParseError::ok) return 0;
  if (p.payload < in.data() || p.payload + p.payload_len > in.data() + in.size()) std::abort();

  FrameSpec s;
  std::memcpy(s.src_mac, p.src_mac, 6);
  std::memcpy(s.dst_mac, p.dst_mac, 6);
  s.src = p.src;
  s.dst = p.dst;
  s.payload = p.payload;
  s.payload_len = p.payload_len;
  s.has_vlan = p.has_vlan;
  s.vlan_tpid = p.vlan_tpid;
  s.vlan_tci = p.vlan_tci;
  std::vector<std::uint8_t> out(frame_overhead(p.src.v4, p.has_vlan) + p.payload_len);
  BuildError be = BuildError::invalid_argument;
  const std::size_t n = build_frame(s, out.data(), out.size(), &be);
  if (be != BuildError::ok || n != out.size()) std::abort();
  ParsedFrame q;
  if (parse_frame(out.data(), n, &q, true) != ParseError::ok) std::abort();
  if (!(q.src == p.src) || !(q.dst == p.dst) || q.payload_len != p.payload_len ||
      q.has_vlan != p.has_vlan || q.vlan_tpid != p.vlan_tpid || q.vlan_tci != p.vlan_tci ||
      std::memcmp(q.src_mac, p.src_mac, 6) != 0 || std::memcmp(q.dst_mac, p.dst_mac, 6) != 0 ||
      (p.payload_len && std::memcmp(q.payload, p.payload, p.payload_len) != 0))
    std::abort();
  return 0;
}
