/* UdpUringIo: the io_uring fallback backend ("io_uring"), liburing 2.3 (Debian liburing-dev).
 *
 * The same sockets as UdpMmsgIo (socket_util.h), read through io_uring:
 *   - RX: one multishot recvmsg per socket (IOSQE_BUFFER_SELECT) drawing from one provided-buffer
 *     ring of `buffers` x `buffer_size` bytes (mmap'd, registered with
 *     io_uring_register_buf_ring). Each buffer holds io_uring_recvmsg_out, the source address,
 *     the pktinfo cmsg (the local address, also for wildcard sockets) and the payload, so the
 *     largest payload is buffer_size - kRxHeadroom; longer datagrams arrive truncated and are
 *     dropped and counted in rx_dropped. rx_burst() reaps CQEs without a syscall (unless the
 *     kernel has deferred task work) and lends the buffers: RxPacket::handle is the buffer id,
 *     and rx_release() puts it back on the ring. A multishot that ends (no IORING_CQE_F_MORE) is
 *     re-armed; one that ended because the ring was empty (-ENOBUFS) waits in a FIFO and is
 *     re-armed once a batch of buffers (a quarter of the ring) is back, at most one socket per
 *     two free buffers, oldest first: with 1000+ sockets, re-arming every waiting socket on every
 *     release bounced most of them straight back with -ENOBUFS, the churn kept the shard from
 *     catching up, and the same tail of sockets never got a buffer. A re-arm that finds the SQ
 *     full stays first in line (never lost). The CQ has room for every buffer, TX slot and
 *     4096 multishot ends; a completion the kernel still drops is counted (cq_overflows(),
 *     rx_dropped). The kernel does not consume a datagram it has no buffer for: it waits in the
 *     socket's queue and arrives after re-arming (so ENOBUFS is counted in nobuf_events(), not
 *     rx_dropped; only the socket buffer overflowing loses packets, in the kernel's counters).
 *   - TX: tx_burst() copies each payload into a preallocated TX slot and queues a sendmsg SQE
 *     (IP_PKTINFO / IPV6_PKTINFO cmsg when the socket is a wildcard one); flush() submits them
 *     all with one io_uring_enter, whatever number of sockets they use. A slot is freed when
 *     its CQE is reaped (rx_burst, flush, or tx_burst when it runs out of slots). tx_packets /
 *     tx_bytes count completed sends, tx_dropped those that could not be queued or failed.
 *     wakeups counts io_uring_submit calls that had SQEs to submit.
 *   - close_port() cancels the socket's multishot (async cancel by user_data) and closes the
 *     socket only after the multishot's final CQE is reaped; the port slot is recycled only then
 *     and every user_data carries the slot's generation, so no CQE ever refers to a freed or
 *     reused slot. Datagrams the kernel hands over after close_port(), and those reaped but not
 *     yet handed out, are dropped (rx_dropped). Until that final CQE the socket is still in its
 *     SO_REUSEPORT group, so another shard sharing the port may lose the datagrams hashed to it
 *     in that short window (one rx_burst).
 *   - The destructor cancels everything and waits (bounded) for the final CQEs before it
 *     unmaps the buffers.
 * create() returns null with a plain reason when the kernel refuses: no io_uring (ENOSYS),
 * io_uring disabled (EPERM), no provided-buffer rings (before 5.19), no multishot recvmsg
 * (before 6.0).
 */
#ifndef CLUTCHCALL_CORE_NETIO_UDP_URING_IO_H
#define CLUTCHCALL_CORE_NETIO_UDP_URING_IO_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "netio/packet_io.h"

namespace clutchcall::netio {

struct UringConfig {
  std::uint32_t shard = 0;            // reported as RxPacket::queue
  std::uint32_t sq_entries = 256;     // SQ size (the CQ is sized for buffers + TX slots)
  std::uint32_t buffers = 4096;       // provided-buffer ring entries, a power of two <= 32768
                                      // (8 MiB: ~2 per socket at 2000 call legs a shard)
  std::uint32_t buffer_size = 2048;   // bytes per RX buffer, headroom included
  std::uint16_t buffer_group = 0;     // buffer group id (one ring per instance)
  std::uint32_t tx_slots = 256;       // TX packets in flight
  std::uint32_t tx_slot_size = 2048;  // largest TX payload
  int rcvbuf = 4 << 20;               // per socket, bytes
  int sndbuf = 1 << 20;
};

class UdpUringIo : public PacketIo {
 public:
  /* io_uring_recvmsg_out + the reserved name and control areas at the start of each buffer. */
  static constexpr std::uint32_t kRxHeadroom = 16 + 32 + 40;

  /* Null with `why` set when the config is unusable or the kernel refuses a feature. */
  static std::unique_ptr<UdpUringIo> create(const UringConfig &cfg, std::string *why);

  const char *name() const noexcept override { return "io_uring"; }

  /* Times a multishot recvmsg stopped because the buffer ring was empty (-ENOBUFS). */
  virtual std::uint64_t nobuf_events() const noexcept = 0;
  /* Completions the kernel dropped because the CQ and its overflow list were full; each is
   * also counted in rx_dropped. Zero unless the kernel could not allocate. */
  virtual std::uint64_t cq_overflows() const noexcept = 0;

 protected:
  UdpUringIo() = default;
};

}  // namespace clutchcall::netio

#endif  // CLUTCHCALL_CORE_NETIO_UDP_URING_IO_H
