/* XskIo: netio::PacketIo over one AF_XDP socket (XSK) bound to (ifname, queue_id).
 *
 * Invariants:
 *   - One UMEM per XSK: `rx_frames` + `tx_frames` frames of `frame_size` bytes. The first
 *     `rx_frames` are the RX pool (all of it starts in the fill ring; a frame is either in the
 *     fill ring, in the kernel, in the RX ring, or lent to the caller between rx_burst() and
 *     rx_release(), which puts it straight back in the fill ring). The rest is the TX pool: a
 *     free list, refilled from the completion ring on every tx_burst()/flush(). Ring sizes equal
 *     the pool sizes, so a fill reserve for a frame we own and a TX reserve for a free frame
 *     never fail, and every RX frame we do not hold is in the fill ring (as full as it can be).
 *     The relay copies what it keeps (hand-offs, jitter buffer), so no frame is held past
 *     rx_release().
 *   - Sizing: the RX pool is what absorbs a receiver that is not running (preempted, busy): at
 *     1 Mpps, 8192 frames last ~8 ms before the kernel finds the fill ring empty and drops
 *     (counted in XDP_STATISTICS: kernel_rx_dropped / kernel_rx_fill_ring_empty, and folded
 *     into IoStats::rx_dropped). Defaults 8192 RX + 4096 TX x 2 KiB = 24 MiB per queue.
 *   - create() retries a bind that fails with EBUSY (the kernel frees a closed XSK on the same
 *     queue asynchronously, so restarting at once can find the queue still taken) with a short
 *     backoff for up to `busy_retry_ms`; other errors are not retried.
 *   - The socket is created with XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD (our classifier is loaded
 *     by XdpProgram) and registered in its XSKMAP for queue_id; the destructor unregisters it
 *     before closing. The XdpProgram must outlive the XskIo.
 *   - Bind: XDP_USE_NEED_WAKEUP, zero-copy tried first, copy mode otherwise (bind_mode()).
 *     Syscalls happen only when the kernel asks (need-wakeup) and are counted in `wakeups`.
 *   - rx_burst(): frames that are not valid Ethernet/IP/UDP (frame.h) are dropped, counted in
 *     rx_dropped and their buffers go straight back to the fill ring. RxPacket::data points into
 *     the UMEM, RxPacket::handle is the UMEM address; valid until rx_release().
 *   - tx_burst(): src MAC = the interface's MAC, dst MAC from Neighbours::resolve (learned from
 *     RX source MACs, else the route's next hop -- the gateway for an off-link peer -- in the
 *     dumped neighbour table). The frame carries the VLAN tag (TPID + TCI) that the remote's
 *     last received frame came with (learned in rx_burst with the MAC; none if it came
 *     untagged, was never seen, or learn_neighbours is off), so replies on a trunk interface
 *     reach a peer on a VLAN. The slow path sends no tag (the kernel tags by the route's
 *     interface). No free TX frame drops the packet (tx_dropped), never blocks.
 *     Frames leave on flush() (or the next tx_burst in zero-copy mode).
 *   - Slow path: a packet whose next-hop MAC is unknown (or whose route leaves by another
 *     interface) is handed, as the IP+UDP packet frame.h builds, to a raw socket
 *     (IPPROTO_RAW, header included; one per family, made by create() in the XSK's network
 *     namespace). The kernel routes it, resolves the neighbour (ARP / ND) and sends it, so the
 *     next refresh finds the MAC. It is a syscall per packet, so at most `slow_path_per_sec` per
 *     one-second window per XSK; beyond that, or without the raw sockets (no CAP_NET_RAW: create()
 *     still succeeds, slow_path_error() says why), the packet is dropped and counted. These
 *     packets leave through the kernel's TX path, which XDP (an RX hook) never sees, and the
 *     raw sockets drop anything they would receive (a "return 0" socket filter). A slow-path
 *     packet leaves at once, so it may overtake XSK frames of the same burst (sent at flush()).
 * Threading: like every PacketIo, one owner thread; stats() may be read from any thread.
 */
#ifndef CLUTCHCALL_CORE_XDP_XSK_IO_H
#define CLUTCHCALL_CORE_XDP_XSK_IO_H

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "netio/packet_io.h"
#include "xdp/neighbours.h"
#include "xdp/xdp_program.h"

struct xsk_umem;
struct xsk_socket;
struct xsk_ring_prod;
struct xsk_ring_cons;
struct xdp_statistics;

namespace clutchcall::xdp {

struct XskConfig {
  std::string ifname;
  std::uint32_t queue_id = 0;
  std::uint32_t rx_frames = 8192;  // power of two, 64..262144: RX pool, fill and RX ring size
  std::uint32_t tx_frames = 4096;  // power of two, 64..262144: TX pool, TX and completion ring
  std::uint32_t frame_size = 2048;   // 2048 or 4096
  enum class Bind { automatic, copy, zerocopy } bind = Bind::automatic;
  bool learn_neighbours = true;      // learn(remote ip, remote mac) from received frames
  int busy_retry_ms = 1000;          // bind EBUSY: retry with backoff for this long (0: never)
  std::uint32_t slow_path_per_sec = 1000;  // next-hop misses sent via the kernel (0: drop them)
  int neighbour_refresh_ms = 1000;   // min interval of route + neighbour dumps on misses
};

struct XskStats {
  netio::IoStats io;
  std::uint64_t rx_invalid = 0;          // not a valid UDP frame (part of io.rx_dropped)
  std::uint64_t tx_no_neighbour = 0;     // unknown next-hop MAC and no slow path, or the kernel
                                         // refused the slow-path send (part of io.tx_dropped)
  std::uint64_t tx_slow_path = 0;        // unknown next hop, sent via the kernel (in io.tx_packets)
  std::uint64_t tx_slow_path_dropped = 0;  // unknown next hop, over the slow-path budget
                                           // (part of io.tx_dropped)
  std::uint64_t tx_no_frame = 0;         // TX pool empty (part of io.tx_dropped)
  std::uint64_t tx_bad_packet = 0;       // frame.h refused it (part of io.tx_dropped)
  // From getsockopt(XDP_STATISTICS): what the kernel dropped before our ring. rx_dropped (in
  // copy mode: no fill-ring frame) and rx_ring_full are also counted in io.rx_dropped;
  // rx_fill_ring_empty counts the times the kernel found the fill ring empty.
  std::uint64_t kernel_rx_dropped = 0;
  std::uint64_t kernel_rx_invalid_descs = 0;
  std::uint64_t kernel_tx_invalid_descs = 0;
  std::uint64_t kernel_rx_ring_full = 0;
  std::uint64_t kernel_rx_fill_ring_empty = 0;
  std::uint64_t kernel_tx_ring_empty = 0;
};

class XskIo final : public netio::PacketIo {
 public:
  enum class BindMode { copy, zerocopy };

  static std::unique_ptr<XskIo> create(const XskConfig &cfg, XdpProgram &prog, std::string *why);
  ~XskIo() override;

  const char *name() const noexcept override { return "af_xdp"; }
  std::string open_port(const netio::Endpoint &local) override;
  void close_port(const netio::Endpoint &local) override;
  std::size_t rx_burst(netio::RxPacket *out, std::size_t max) noexcept override;
  void rx_release(const netio::RxPacket *pkts, std::size_t n) noexcept override;
  std::size_t tx_burst(const netio::TxPacket *pkts, std::size_t n) noexcept override;
  void flush() noexcept override;
  void wait(int timeout_ms) noexcept override;
  netio::IoStats stats() const noexcept override;

  XskStats xsk_stats() const noexcept;
  BindMode bind_mode() const noexcept { return bind_mode_; }
  static const char *bind_mode_name(BindMode m) noexcept {
    return m == BindMode::zerocopy ? "zero-copy" : "copy";
  }
  std::uint32_t queue_id() const noexcept { return cfg_.queue_id; }
  /* Binds retried because the queue was still busy (EBUSY) when this XSK was created. */
  std::uint32_t bind_retries() const noexcept { return bind_retries_; }
  int fd() const noexcept;
  int ifindex() const noexcept { return ifindex_; }
  const Mac &mac() const noexcept { return mac_; }
  Neighbours &neighbours() noexcept { return neigh_; }
  /* "" when both raw sockets of the slow path exist, else why not (misses are then dropped). */
  const std::string &slow_path_error() const noexcept { return slow_path_error_; }
  /* Unregisters from / registers again in the XSKMAP (the queue falls back to the kernel). */
  std::string detach_from_map();
  std::string attach_to_map();
  bool port_open(std::uint16_t port) const { return ports_.count(port) != 0; }

 private:
  struct Rings;
  XskIo(const XskConfig &cfg, XdpProgram &prog, int ifindex);
  std::string setup(std::string *bind_note);
  void teardown() noexcept;
  void reap_completions() noexcept;
  void fill_addrs(const std::uint64_t *addrs, std::size_t n) noexcept;
  void kick_fill_if_needed() noexcept;
  bool kernel_stats(::xdp_statistics *out) const noexcept;
  netio::IoStats own_stats() const noexcept;  // without the kernel's counters
  void open_slow_path();
  bool send_slow(const netio::TxPacket &p) noexcept;  // counts what it does

  // Single writer (the owner thread), readers anywhere: relaxed load + store, no RMW needed.
  struct Counter {
    std::atomic<std::uint64_t> v{0};
    void add(std::uint64_t d) noexcept {
      v.store(v.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
  };

  XskConfig cfg_;
  XdpProgram &prog_;
  int ifindex_;
  Mac mac_{};
  Neighbours neigh_;
  std::set<std::uint16_t> ports_;

  void *umem_area_ = nullptr;
  std::size_t umem_bytes_ = 0;
  ::xsk_umem *umem_ = nullptr;
  ::xsk_socket *xsk_ = nullptr;
  std::unique_ptr<Rings> rings_;
  BindMode bind_mode_ = BindMode::copy;
  bool registered_ = false;
  std::uint32_t rx_frames_ = 0;  // RX pool size (also the fill and RX ring sizes)
  std::uint32_t tx_frames_ = 0;  // TX pool size (also the TX and completion ring sizes)
  std::vector<std::uint64_t> tx_free_;
  std::uint32_t tx_outstanding_ = 0;  // submitted, not completed yet
  std::uint32_t bind_retries_ = 0;
  int raw4_ = -1, raw6_ = -1;  // slow path (-1: unavailable)
  std::string slow_path_error_;
  std::vector<std::uint8_t> slow_buf_;
  std::chrono::steady_clock::time_point slow_window_start_{};
  std::uint32_t slow_window_count_ = 0;

  Counter rx_packets_, rx_bytes_, tx_packets_, tx_bytes_, rx_dropped_, tx_dropped_, wakeups_;
  Counter rx_invalid_, tx_no_neighbour_, tx_no_frame_, tx_bad_packet_, tx_slow_path_,
      tx_slow_path_dropped_;
};

}  // namespace clutchcall::xdp

#endif  // CLUTCHCALL_CORE_XDP_XSK_IO_H
