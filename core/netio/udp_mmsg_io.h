/* UdpMmsgIo: the plain-socket fallback backend ("recvmmsg").
 *
 * One UDP socket per opened local endpoint (socket_util.h: SO_REUSEPORT so that other shards or
 * a second engine process can hold the same port; the relay opens a call leg's port on the
 * shard that owns the call so the kernel delivers straight to the owner), all of them in one
 * level-triggered epoll set.
 *
 * RX: rx_burst() takes ready sockets from the last epoll_wait (calling epoll_wait(0) only when
 * that list is used up) and drains each with recvmmsg(MSG_DONTWAIT) into `batch` preallocated
 * slots; nothing is allocated per packet. A socket stays on the ready list while recvmmsg fills
 * everything it was offered. So one rx_burst() returns at most min(max, batch) packets, and the
 * slots are reused by the next rx_burst(): rx_release() has nothing to do.
 *   RxPacket::local = the datagram's destination address from pktinfo (so a socket bound to the
 *   wildcard address reports the address that was actually hit) and the socket's port;
 *   RxPacket::queue = config.shard. A datagram longer than slot_size (MSG_TRUNC) is dropped and
 *   counted in rx_dropped.
 * TX: tx_burst() groups packets by the socket of their local endpoint (an exact match, else the
 * wildcard socket of that port, which then gets an IP_PKTINFO / IPV6_PKTINFO cmsg naming the
 * source address) and sends each group with sendmmsg, so the payload is in the kernel before
 * tx_burst() returns and flush() has nothing left to do. Packets whose local endpoint is not
 * open, whose families differ, or that the kernel refuses (socket buffer full, too long) are
 * counted in tx_dropped. stats().wakeups counts sendmmsg calls.
 */
#ifndef CLUTCHCALL_CORE_NETIO_UDP_MMSG_IO_H
#define CLUTCHCALL_CORE_NETIO_UDP_MMSG_IO_H

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "netio/packet_io.h"
#include "netio/socket_util.h"

namespace clutchcall::netio {

struct MmsgConfig {
  std::uint32_t shard = 0;         // reported as RxPacket::queue
  std::uint32_t batch = 64;        // RX slots (max packets per rx_burst) and sendmmsg batch
  std::uint32_t slot_size = 2048;  // bytes per RX slot; longer datagrams are dropped
  int rcvbuf = 4 << 20;            // per socket, bytes
  int sndbuf = 1 << 20;
};

class UdpMmsgIo final : public PacketIo {
 public:
  /* Null with `why` set if the config is unusable or epoll cannot be had. */
  static std::unique_ptr<UdpMmsgIo> create(const MmsgConfig &cfg, std::string *why);
  ~UdpMmsgIo() override;

  const char *name() const noexcept override { return "recvmmsg"; }
  std::string open_port(const Endpoint &local) override;
  void close_port(const Endpoint &local) override;
  std::size_t rx_burst(RxPacket *out, std::size_t max) noexcept override;
  void rx_release(const RxPacket *pkts, std::size_t n) noexcept override;
  std::size_t tx_burst(const TxPacket *pkts, std::size_t n) noexcept override;
  void flush() noexcept override {}
  void wait(int timeout_ms) noexcept override;
  IoStats stats() const noexcept override { return stats_; }

 private:
  struct Port {
    int fd = -1;
    Endpoint local;
    bool wildcard = false;
  };
  struct alignas(cmsghdr) Control {
    unsigned char bytes[detail::kPktinfoSpace];
  };

  UdpMmsgIo(const MmsgConfig &cfg, int epfd);
  bool poll_ready(int timeout_ms) noexcept;
  void send_group(const Port &port, const TxPacket *pkts, std::size_t count) noexcept;

  MmsgConfig cfg_;
  detail::SocketOptions sock_opt_;
  int epfd_ = -1;
  std::vector<Port> ports_;
  std::vector<std::uint32_t> free_ports_;
  detail::PortTable table_;

  std::vector<epoll_event> events_;
  std::vector<std::uint32_t> ready_;  // port slots from the last epoll_wait
  std::size_t ready_pos_ = 0;

  std::vector<std::uint8_t> rx_data_;  // batch * slot_size
  std::vector<mmsghdr> rx_msgs_;
  std::vector<iovec> rx_iov_;
  std::vector<sockaddr_storage> rx_name_;
  std::vector<Control> rx_ctrl_;

  std::vector<mmsghdr> tx_msgs_;
  std::vector<iovec> tx_iov_;
  std::vector<sockaddr_storage> tx_name_;
  std::vector<Control> tx_ctrl_;
  std::vector<std::uint32_t> tx_port_;  // resolved port slot per packet of a chunk
  std::vector<std::uint32_t> tx_index_;

  IoStats stats_;
};

}  // namespace clutchcall::netio

#endif  // CLUTCHCALL_CORE_NETIO_UDP_MMSG_IO_H
