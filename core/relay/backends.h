/* Makes the shards' packet I/O for an EngineConfig: the one place that knows the concrete
 * backends (xdp/, netio/), so the engine itself only sees netio::PacketIo. */
#ifndef CLUTCHCALL_CORE_RELAY_BACKENDS_H
#define CLUTCHCALL_CORE_RELAY_BACKENDS_H

#include <memory>
#include <string>
#include <vector>

#include "netio/packet_io.h"
#include "relay/engine.h"

namespace clutchcall::relay {

struct BackendSet {
  Backend kind = Backend::recvmmsg;
  std::vector<std::unique_ptr<netio::PacketIo>> per_shard;
  std::shared_ptr<void> keepalive;  // e.g. the attached XDP program (detached when released)
  std::string fallback_reason;      // why a preferred backend was skipped
  std::string xdp_mode;             // AF_XDP: "native, copy" etc.
};

/* `shards` is the number wanted (AF_XDP may make fewer: one per RX queue). Returns false and
 * sets *why when nothing could be made (every candidate's reason, joined). */
bool make_backends(const EngineConfig &cfg, std::uint32_t shards, BackendSet *out,
                   std::string *why);

/* The backend's counters into out->io, and for AF_XDP the kernel's (out->kernel_*), from one
 * XDP_STATISTICS read. */
void read_backend_stats(const netio::PacketIo &io, ShardStats *out) noexcept;

}  // namespace clutchcall::relay

#endif  // CLUTCHCALL_CORE_RELAY_BACKENDS_H
