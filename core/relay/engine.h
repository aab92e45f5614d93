/* The RTP relay engine: shards (one thread per core, pinned), each with its own packet I/O
 * backend (AF_XDP, io_uring or recvmmsg: netio/packet_io.h), each owning a set of calls.
 *
 * Steering. A call belongs to one shard, chosen at add_call (the least loaded). How its packets
 * reach that shard depends on the backend:
 *   - AF_XDP: an XSK only receives from the RX queue it is bound to, and the NIC (RSS) or veth
 *     picks the queue by flow hash, which the engine does not control. Every queue gets an XSK
 *     (RTP on a queue without one would go to the kernel and be lost): shard i binds queues
 *     i, i + shards, ... (xdp/xsk_group.h when it owns more than one; never more shards than
 *     queues); a packet that lands on a shard that does not own its call is handed to the owner in
 *     software, over a per-pair SPSC ring (ring/). NIC flow rules (ethtool -N) can steer a
 *     call's ports to its owner's queue and make the hand-off rare, but are not required, and
 *     veth has none, so hand-off is the mechanism that makes it correct everywhere.
 *   - sockets: the owner shard binds the leg's port (SO_REUSEPORT), so the kernel delivers to
 *     the owner directly and no hand-off happens.
 * The port table (local port -> call slot and leg) is read lock-free by every shard; calls are
 * added and removed by the control thread, which hands the work to the owner shard's thread and
 * waits for it (the hot path never takes a lock).
 *
 * Backend choice: `automatic` tries AF_XDP on `ifname`, then io_uring, then recvmmsg, and
 * fallback_reason() says plainly why each skipped one was refused.
 *
 * Hand-off rings run without flow control: a lagging owner is overrun (newest media wins); the
 * overrun is detected from the sequence numbers and counted per shard (ring_overruns,
 * ring_lost) and shows per call as handoff_out - handoff_in. Memory: one ring per ordered pair
 * of shards, each sized so that a shard's inbound rings together hold handoff_depth frags, so
 * the total is linear in shards (see EngineConfig::handoff_depth).
 *
 * Threads: every public member may be called from any thread, concurrently (the control calls
 * serialize on one mutex and hand the work to the owner shard; stop() may race with them and
 * with itself: the shards are joined once, later control calls answer "engine stopped" or find
 * no call). Only destruction must not overlap another call.
 */
#ifndef CLUTCHCALL_CORE_RELAY_ENGINE_H
#define CLUTCHCALL_CORE_RELAY_ENGINE_H

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "netio/packet_io.h"
#include "relay/call.h"

namespace clutchcall::relay {

enum class Backend { automatic, af_xdp, io_uring, recvmmsg, custom };
const char *to_string(Backend b) noexcept;
/* "auto", "af_xdp", "io_uring", "recvmmsg"; false for anything else. */
bool parse_backend(const std::string &s, Backend *out) noexcept;

struct EngineConfig {
  std::string ifname;                 // AF_XDP: the interface to attach to
  std::uint16_t port_lo = 16384;      // RTP port range (AF_XDP classifier; add_call checks it)
  std::uint16_t port_hi = 32767;
  std::uint32_t shards = 0;           // 0: one per CPU in `cpus` (AF_XDP: at most the RX queues)
  Backend backend = Backend::automatic;
  bool busy_poll = false;             // spin instead of waiting in the backend when idle
  bool pin = true;                    // pin shard i to cpus[i % cpus.size()]
  /* The CPUs to pin the shards to, in shard order. Empty: the CPUs of the calling process's
   * affinity mask (sched_getaffinity), in increasing order. Each must be in that mask and
   * listed once; a non-empty list needs pin = true. start() refuses anything else, by name. */
  std::vector<int> cpus;
  /* AF_XDP, per RX queue: UMEM frames for RX (= fill and RX ring size) and TX (= TX and
   * completion ring size), powers of two in 64..262144; 0: XskConfig's defaults (8192 RX +
   * 4096 TX x 2 KiB = 24 MiB per queue). The RX pool is what absorbs a shard that is not
   * running; when it runs out the kernel drops (ShardStats::kernel_*). */
  std::uint32_t xsk_rx_frames = 0;
  std::uint32_t xsk_tx_frames = 0;
  /* 1..2^24. Costs nothing up front: call slots come in chunks of 1024 (~256 KiB each) as calls
   * are added, and each shard's table grows with the highest slot it has used. */
  std::uint32_t max_calls = 16384;
  /* Hand-off frags in flight toward ONE shard from all the others together: a power of two in
   * [16, 262144]. Each of the n - 1 rings into a shard gets handoff_depth / 2^ceil(log2(n - 1))
   * frags of 2 KiB, which must be at least 16 (so n shards need handoff_depth >= 16 x that
   * power of two); the rings of all shards take about n x handoff_depth x 2 KiB, linear in
   * shards (4096: 8 MiB per shard, 256 MiB at 32 shards; one shard has none). start() refuses,
   * naming handoff_depth and the memory needed, a value outside the range, too small for the
   * shard count, or needing more than the machine's RAM. */
  std::uint32_t handoff_depth = 4096;
  int idle_wait_us = 200;             // longest wait in the backend when idle (bounds hand-off delay)
  /* Backend::custom (tests): makes each shard's PacketIo. */
  std::function<std::unique_ptr<netio::PacketIo>(std::uint32_t shard, std::string *why)> io_factory;
};

struct CallStats {
  std::uint64_t id = 0;
  std::uint32_t shard = 0;
  bool transcoding = false;
  LegStats legs[2]{};
};

struct ShardStats {
  std::uint32_t shard = 0;
  int cpu = -1;                       // pinned CPU, -1 if not pinned
  std::uint32_t calls = 0;
  std::uint64_t rx_packets = 0, rx_bytes = 0;  // from the backend (own queue / sockets)
  std::uint64_t tx_packets = 0, tx_bytes = 0, tx_dropped = 0;
  std::uint64_t unknown_port = 0;     // no call on that port: dropped
  std::uint64_t handoff_out = 0, handoff_in = 0;
  std::uint64_t handoff_refused = 0;  // too large for a ring frag
  std::uint64_t ring_overruns = 0, ring_lost = 0;
  std::uint64_t loops = 0, idle_waits = 0;
  netio::IoStats io{};                // AF_XDP: io.rx_dropped includes the kernel's drops below
  /* AF_XDP only (0 otherwise), the XSK's XDP_STATISTICS: dropped for want of a fill-ring frame
   * (copy mode), for want of RX-ring space, and times the kernel found the fill ring empty. */
  std::uint64_t kernel_rx_dropped = 0, kernel_rx_ring_full = 0, kernel_fill_ring_empty = 0;
};

class Engine {
 public:
  /* Null and *why set if no backend could start. */
  static std::unique_ptr<Engine> start(const EngineConfig &config, std::string *why);
  ~Engine();  // stops
  Engine(const Engine &) = delete;
  Engine &operator=(const Engine &) = delete;

  void stop() noexcept;
  Backend backend() const noexcept;
  const char *backend_name() const noexcept;
  const std::string &fallback_reason() const noexcept;  // empty when the requested one ran
  std::string xdp_mode() const;                         // "native"/"generic" and bind mode, or ""
  std::uint32_t shard_count() const noexcept;

  /* Empty on success, else why (duplicate id or port, port outside the range, no free slot,
   * bad shapes, the backend could not open the port). */
  std::string add_call(const CallConfig &config);
  /* false if no such call; *final (may be null) gets the counters at removal. */
  bool remove_call(std::uint64_t id, CallStats *final);
  bool call_stats(std::uint64_t id, CallStats *out) const;
  std::vector<std::uint64_t> call_ids() const;
  std::vector<ShardStats> shard_stats() const;

  struct Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace clutchcall::relay

#endif  // CLUTCHCALL_CORE_RELAY_ENGINE_H
