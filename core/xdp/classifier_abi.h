/* Shared between the eBPF classifier (rtp_classifier.bpf.c, built with clang -target bpf) and
 * userspace (xdp_program.cc): the config map value and the counter indexes. Plain C, fixed
 * layout; change both sides together (the object is embedded, so they cannot drift apart in one
 * build). */
#ifndef CLUTCHCALL_CORE_XDP_CLASSIFIER_ABI_H
#define CLUTCHCALL_CORE_XDP_CLASSIFIER_ABI_H

#include <linux/types.h>

/* XSKMAP size: the highest RX queue index that can be steered, plus one. */
#define CC_XDP_MAX_QUEUES 256

/* Value of the one-entry ARRAY map `cc_config`. Ports in host order, inclusive. */
struct cc_xdp_config {
  __u16 port_lo;
  __u16 port_hi;
  __u32 enabled; /* 0: pass everything (the map's initial state) */
};

/* Indexes into the PERCPU_ARRAY map `cc_counters`. Every packet counts in CC_XDP_TOTAL and in
 * exactly one other counter. */
enum cc_xdp_counter {
  CC_XDP_TOTAL = 0,
  CC_XDP_RTP_REDIRECTED = 1,        /* an XSK was bound for the queue: bpf_redirect_map */
  CC_XDP_RTP_NO_SOCKET_PASSED = 2,  /* RTP, but no XSK for the queue: to the kernel */
  CC_XDP_NOT_RTP_PASSED = 3,        /* not IP/UDP, port out of range, short or not version 2 */
  CC_XDP_MALFORMED_PASSED = 4,      /* truncated or inconsistent headers */
  CC_XDP_RTCP_PASSED = 5,           /* RTCP on an RTP port (second byte 192..223) */
  CC_XDP_FRAGMENT_PASSED = 6,       /* IPv4 fragment */
  CC_XDP_IPV6_EXT_PASSED = 7,       /* IPv6 with an extension header */
  CC_XDP_DISABLED_PASSED = 8,       /* config.enabled == 0 */
  CC_XDP_COUNTER_COUNT = 9
};

#endif /* CLUTCHCALL_CORE_XDP_CLASSIFIER_ABI_H */
