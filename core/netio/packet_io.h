/* The one interface between the packet I/O backends and the RTP relay above them.
 *
 * Three backends implement it, one instance per shard (one shard per core):
 *   - xdp/     AF_XDP: an XSK bound to RX queue `shard`, fed by the eBPF classifier;
 *   - netio/   UdpMmsgIo: UDP sockets with SO_REUSEPORT, recvmmsg/sendmmsg;
 *   - netio/   UdpUringIo: the same sockets through io_uring multishot recvmsg with a provided
 *              buffer ring.
 * The relay (relay/) only ever sees this interface, so the code above does not change when the
 * engine falls back from AF_XDP to a socket backend.
 *
 * Threading: an instance belongs to its shard's thread. open_port()/close_port() and the
 * burst calls are made from that thread only; nothing here locks.
 *
 * Buffers: rx_burst() lends the backend's buffers (UMEM frames, recvmmsg slots, provided-ring
 * buffers). RxPacket::data stays valid until rx_release() is called for it, which must happen
 * before the next rx_burst(); the relay copies anything it keeps (jitter buffer, hand-off ring).
 * tx_burst() copies the payload out before it returns, so the caller's buffer is free at once.
 */
#ifndef CLUTCHCALL_CORE_NETIO_PACKET_IO_H
#define CLUTCHCALL_CORE_NETIO_PACKET_IO_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace clutchcall::netio {

/* An IPv4 or IPv6 UDP endpoint. IPv4 addresses are held as IPv4-mapped IPv6
 * (::ffff:a.b.c.d) so that one 16-byte compare covers both families. Port in host order. */
struct Endpoint {
  std::uint8_t addr[16] = {};
  std::uint16_t port = 0;
  bool v4 = true;

  bool operator==(const Endpoint &) const = default;
};

/* Builds an Endpoint from text ("10.0.0.1", "fd00::1"); false if the text is not an address. */
bool parse_endpoint(const std::string &ip, std::uint16_t port, Endpoint *out);
std::string to_string(const Endpoint &e);  // "10.0.0.1:4000", "[fd00::1]:4000"

struct RxPacket {
  const std::uint8_t *data = nullptr;  // UDP payload (the RTP packet)
  std::uint32_t len = 0;
  Endpoint remote;                     // source of the datagram
  Endpoint local;                      // destination: our address and port
  std::uint8_t remote_mac[6] = {};     // AF_XDP only (zero otherwise): source MAC, for latching
  std::uint32_t queue = 0;             // RX queue (AF_XDP) or receiving socket's shard
  std::uint64_t handle = 0;            // backend's buffer id, for rx_release()
};

struct TxPacket {
  const std::uint8_t *data = nullptr;  // UDP payload
  std::uint32_t len = 0;
  Endpoint local;                      // source address and port (one of ours)
  Endpoint remote;                     // destination
};

struct IoStats {
  std::uint64_t rx_packets = 0;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t rx_dropped = 0;  // seen but not delivered (bad frame, no buffer, truncated)
  std::uint64_t tx_dropped = 0;  // tx_burst() could not queue it (ring full, no route/MAC)
  std::uint64_t wakeups = 0;     // syscalls made to kick RX fill or TX (need-wakeup, sendmmsg)
};

class PacketIo {
 public:
  virtual ~PacketIo() = default;
  PacketIo() = default;
  PacketIo(const PacketIo &) = delete;
  PacketIo &operator=(const PacketIo &) = delete;

  /* "af_xdp", "recvmmsg", "io_uring". */
  virtual const char *name() const noexcept = 0;

  /* Start / stop receiving on a local UDP port (a call leg). Socket backends bind a socket
   * (SO_REUSEPORT, one per shard); AF_XDP has the classifier's port range and only records it.
   * Returns an empty string on success, else why it failed. */
  virtual std::string open_port(const Endpoint &local) = 0;
  virtual void close_port(const Endpoint &local) = 0;

  /* Up to `max` received packets, without blocking. */
  virtual std::size_t rx_burst(RxPacket *out, std::size_t max) noexcept = 0;
  /* Hands the buffers of the packets from the last rx_burst() back to the backend. */
  virtual void rx_release(const RxPacket *pkts, std::size_t n) noexcept = 0;

  /* Queues up to `n` packets; returns how many were queued (the rest count as tx_dropped).
   * flush() makes sure queued packets leave (sendmmsg / io_uring submit / XSK TX wakeup). */
  virtual std::size_t tx_burst(const TxPacket *pkts, std::size_t n) noexcept = 0;
  virtual void flush() noexcept = 0;

  /* Blocks until a packet may be ready or timeout_ms passes (poll / io_uring wait). Busy-poll
   * shards never call it. */
  virtual void wait(int timeout_ms) noexcept = 0;

  virtual IoStats stats() const noexcept = 0;
};

}  // namespace clutchcall::netio

#endif  // CLUTCHCALL_CORE_NETIO_PACKET_IO_H
