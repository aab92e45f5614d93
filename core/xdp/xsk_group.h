/* XskGroup: one netio::PacketIo over several XSKs, for a shard that owns more than one RX queue.
 *
 * An XSK receives only from the queue it is bound to, so when an interface has more RX queues
 * than the engine has shards, every queue still needs a socket (the classifier redirects RTP on
 * a queue with no XSK to the kernel, where nothing is listening for it). Shard i then owns
 * queues i, i + shards, i + 2*shards, ... and polls them all through this group.
 *
 * Invariants:
 *   - rx_burst() takes from the members round-robin, starting one further each call, so a
 *     busy queue cannot starve the others; it records which member lent which slice of `out`.
 *   - rx_release() must be given the array of the last rx_burst() (the PacketIo contract): each
 *     slice goes back to the member that lent it.
 *   - TX leaves through the first member (any XSK of the interface can send; the TX queue is
 *     not tied to the RX queue). flush() flushes every member, wait() polls every member's fd.
 *   - Ports are opened on every member (an XSK only records them).
 * Threading: like every PacketIo, one owner thread; stats() may be read from any thread.
 */
#ifndef CLUTCHCALL_CORE_XDP_XSK_GROUP_H
#define CLUTCHCALL_CORE_XDP_XSK_GROUP_H

#include <poll.h>

#include <memory>
#include <vector>

#include "xdp/xsk_io.h"

namespace clutchcall::xdp {

class XskGroup final : public netio::PacketIo {
 public:
  /* members: at least one XSK, all on the same interface. */
  explicit XskGroup(std::vector<std::unique_ptr<XskIo>> members);

  const char *name() const noexcept override { return "af_xdp"; }
  std::string open_port(const netio::Endpoint &local) override;
  void close_port(const netio::Endpoint &local) override;
  std::size_t rx_burst(netio::RxPacket *out, std::size_t max) noexcept override;
  void rx_release(const netio::RxPacket *pkts, std::size_t n) noexcept override;
  std::size_t tx_burst(const netio::TxPacket *pkts, std::size_t n) noexcept override;
  void flush() noexcept override;
  void wait(int timeout_ms) noexcept override;
  netio::IoStats stats() const noexcept override;

  XskStats xsk_stats() const noexcept;  // summed over the members
  const std::vector<std::unique_ptr<XskIo>> &members() const noexcept { return members_; }

 private:
  struct Slice {
    std::size_t member, offset, count;
  };
  std::vector<std::unique_ptr<XskIo>> members_;
  std::vector<Slice> lent_;  // from the last rx_burst()
  std::vector<pollfd> fds_;   // every member's socket, for wait()
  std::size_t next_ = 0;     // member rx_burst() starts with
};

}  // namespace clutchcall::xdp

#endif  // CLUTCHCALL_CORE_XDP_XSK_GROUP_H
