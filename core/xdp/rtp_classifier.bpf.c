/* XDP classifier for the AF_XDP RTP fast path.
 *
 * Steers RTP to the AF_XDP socket (XSK) of the RX queue the packet arrived on; everything else
 * goes to the kernel stack with XDP_PASS. Decision, in order:
 *   - config.enabled == 0                         -> PASS (disabled_passed); the map starts
 *                                                    zeroed, so nothing is steered until
 *                                                    userspace writes the config
 *   - Ethernet, at most one 802.1Q / 802.1ad tag, then IPv4 or IPv6, else PASS (not_rtp)
 *   - IPv4: IHL >= 5 and total length within the frame, else PASS (malformed); any fragment
 *     (MF set or offset != 0) -> PASS (fragment_passed): the kernel reassembles
 *   - IPv6: next header must be UDP; an extension header -> PASS (ipv6_ext_passed)
 *   - UDP: header and the UDP length within the frame and the IP payload, else PASS (malformed)
 *   - destination port outside [port_lo, port_hi] -> PASS (not_rtp)
 *   - payload shorter than 12 bytes or RTP version != 2 -> PASS (not_rtp)
 *   - second byte 192..223 (RTCP packet types when muxed on the RTP port, RFC 5761 section 4;
 *     covers SR/RR/SDES/BYE/APP 200..204 and RTPFB/PSFB/XR) -> PASS (rtcp_passed)
 *   - no XSK in the XSKMAP for ctx->rx_queue_index -> PASS (rtp_no_socket_passed): the socket
 *     fallback keeps working while no socket is bound
 *   - otherwise bpf_redirect_map(&xsks, queue, XDP_PASS) (rtp_redirected)
 * Every packet counts in `total` and in exactly one of the other counters, so
 * total == sum of the others (the tests check it).
 *
 * Every packet read is bounds-checked against data_end before the access (the verifier
 * insists). Compiled with `clang -target bpf` by the CMake build and embedded into the library.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "classifier_abi.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct cc_xdp_config);
} cc_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, CC_XDP_MAX_QUEUES);
  __type(key, __u32);
  __type(value, __u32);
} cc_xsks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, CC_XDP_COUNTER_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} cc_counters SEC(".maps");

struct vlan_hdr_s {
  __be16 tci;
  __be16 encap_proto;
};

static __always_inline int count(__u32 idx, int action) {
  __u64 *v = bpf_map_lookup_elem(&cc_counters, &idx);
  if (v) *v += 1; /* per-CPU slot: no other writer */
  return action;
}

static __always_inline int ipv6_is_extension(__u8 nh) {
  switch (nh) {
    case 0:   /* hop-by-hop */
    case 43:  /* routing */
    case 44:  /* fragment */
    case 50:  /* ESP */
    case 51:  /* AH */
    case 60:  /* destination options */
    case 135: /* mobility */
    case 139: /* HIP */
    case 140: /* shim6 */
      return 1;
    default:
      return 0;
  }
}

SEC("xdp")
int cc_rtp_classifier(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  __u32 zero = 0;

  count(CC_XDP_TOTAL, XDP_PASS);

  struct cc_xdp_config *cfg = bpf_map_lookup_elem(&cc_config, &zero);
  if (!cfg || !cfg->enabled) return count(CC_XDP_DISABLED_PASSED, XDP_PASS);

  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return count(CC_XDP_MALFORMED_PASSED, XDP_PASS);
  void *l3 = eth + 1;
  __u16 proto = eth->h_proto;
  if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
    struct vlan_hdr_s *vh = l3;
    if ((void *)(vh + 1) > data_end) return count(CC_XDP_MALFORMED_PASSED, XDP_PASS);
    proto = vh->encap_proto;
    l3 = vh + 1;
  }

  struct udphdr *udp;
  __u32 ip_payload_len; /* bytes the IP header says follow it */
  if (proto == bpf_htons(ETH_P_IP)) {
    struct iphdr *ip = l3;
    if ((void *)(ip + 1) > data_end) return count(CC_XDP_MALFORMED_PASSED, XDP_PASS);
    if (ip->version != 4) return count(CC_XDP_MALFORMED_PASSED, XDP_PASS);
    __u32 ihl = ip->ihl * 4u;
    if (ihl < sizeof(*ip)) return count(CC_XDP_MALFORMED_PASSED, XDP_PASS);
    __u32 tot = bpf_ntohs(ip->tot_len);
    if (tot < ihl || (void *)((__u8 *)ip + tot) > data_end)
      return count(CC_XDP_MALFORMED_PASSED, XDP_PASS);
    if (ip->frag_off & bpf_htons(0x3fff)) /* MF or a fragment offset */
      return count(CC_XDP_FRAGMENT_PASSED, XDP_PASS);
    if (ip->protocol != IPPROTO_UDP) return count(CC_XDP_NOT_RTP_PASSED, XDP_PASS);
    udp = (void *)((__u8 *)ip + ihl);
    ip_payload_len = tot - ihl;
  } else if (proto == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr *ip6 = l3;
    if ((void *)(ip6 + 1) > data_end) return count(CC_XDP_MALFORMED_PASSED, XDP_PASS);
    if (ip6->version != 6) return count(CC_XDP_MALFORMED_PASSED, XDP_PASS);
    if (ip6->nexthdr != IPPROTO_UDP) {
      if (ipv6_is_extension(ip6->nexthdr)) return count(CC_XDP_IPV6_EXT_PASSED, XDP_PASS);
      return count(CC_XDP_NOT_RTP_PASSED, XDP_PASS);
    }
    ip_payload_len = bpf_ntohs(ip6->payload_len);
    udp = (void *)(ip6 + 1);
    if ((void *)((__u8 *)udp + ip_payload_len) > data_end)
      return count(CC_XDP_MALFORMED_PASSED, XDP_PASS);
  } else {
    return count(CC_XDP_NOT_RTP_PASSED, XDP_PASS);
  }

  if ((void *)(udp + 1) > data_end) return count(CC_XDP_MALFORMED_PASSED, XDP_PASS);
  __u32 ulen = bpf_ntohs(udp->len);
  if (ulen < sizeof(*udp) || ulen > ip_payload_len || (void *)((__u8 *)udp + ulen) > data_end)
    return count(CC_XDP_MALFORMED_PASSED, XDP_PASS);

  __u16 dport = bpf_ntohs(udp->dest);
  if (dport < cfg->port_lo || dport > cfg->port_hi)
    return count(CC_XDP_NOT_RTP_PASSED, XDP_PASS);

  __u8 *rtp = (__u8 *)(udp + 1);
  if (ulen < sizeof(*udp) + 12 || (void *)(rtp + 12) > data_end)
    return count(CC_XDP_NOT_RTP_PASSED, XDP_PASS);
  if ((rtp[0] >> 6) != 2) return count(CC_XDP_NOT_RTP_PASSED, XDP_PASS);
  if (rtp[1] >= 192 && rtp[1] <= 223) return count(CC_XDP_RTCP_PASSED, XDP_PASS);

  __u32 qid = ctx->rx_queue_index;
  if (!bpf_map_lookup_elem(&cc_xsks, &qid)) return count(CC_XDP_RTP_NO_SOCKET_PASSED, XDP_PASS);
  count(CC_XDP_RTP_REDIRECTED, XDP_PASS);
  return bpf_redirect_map(&cc_xsks, qid, XDP_PASS);
}

char _license[] SEC("license") = "Dual BSD/GPL";
