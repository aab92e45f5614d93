#include "netio/udp_uring_io.h"

#include <liburing.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <vector>

#include "netio/socket_util.h"

namespace clutchcall::netio {

namespace {

using detail::kPktinfoSpace;

// user_data: kind (2 bits) | slot generation (30 bits) | slot index (32 bits). The generation
// makes a stale CQE recognisable even if a slot were ever recycled too early.
enum Kind : std::uint64_t { kProbe = 0, kRecv = 1, kSend = 2, kCancel = 3 };
constexpr std::uint32_t kGenMask = 0x3fffffffu;

constexpr std::uint64_t make_ud(Kind kind, std::uint32_t gen, std::uint32_t slot) {
  return (static_cast<std::uint64_t>(kind) << 62) |
         (static_cast<std::uint64_t>(gen & kGenMask) << 32) | slot;
}
constexpr Kind ud_kind(std::uint64_t ud) { return static_cast<Kind>(ud >> 62); }
constexpr std::uint32_t ud_gen(std::uint64_t ud) {
  return static_cast<std::uint32_t>(ud >> 32) & kGenMask;
}
constexpr std::uint32_t ud_slot(std::uint64_t ud) { return static_cast<std::uint32_t>(ud); }

// Reserved areas of each provided buffer. The name area is rounded up to 8 so that the cmsg
// area after it is aligned for cmsghdr.
constexpr std::uint32_t kNameLen = 32;
constexpr std::uint32_t kCtrlLen = static_cast<std::uint32_t>(kPktinfoSpace);
static_assert(sizeof(io_uring_recvmsg_out) + kNameLen + kCtrlLen == UdpUringIo::kRxHeadroom);
static_assert(kNameLen >= sizeof(sockaddr_in6));

// Room in the CQ beyond one CQE per buffer and per TX slot: the final CQEs of multishots that
// end together when the ring runs dry (one per armed socket) and cancels. Beyond it the kernel
// queues CQEs on its overflow list; only if that allocation fails is a CQE lost (counted).
constexpr std::uint32_t kCqSpare = 4096;

std::size_t page_round(std::size_t n) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

class UringIo final : public UdpUringIo {
 public:
  explicit UringIo(const UringConfig &cfg) : cfg_(cfg) {
    sock_opt_.rcvbuf = cfg.rcvbuf;
    sock_opt_.sndbuf = cfg.sndbuf;
    rx_msg_.msg_namelen = kNameLen;
    rx_msg_.msg_controllen = kCtrlLen;
  }
  ~UringIo() override;

  std::string init();

  std::string open_port(const Endpoint &local) override;
  void close_port(const Endpoint &local) override;
  std::size_t rx_burst(RxPacket *out, std::size_t max) noexcept override;
  void rx_release(const RxPacket *pkts, std::size_t n) noexcept override;
  std::size_t tx_burst(const TxPacket *pkts, std::size_t n) noexcept override;
  void flush() noexcept override;
  void wait(int timeout_ms) noexcept override;
  IoStats stats() const noexcept override { return stats_; }
  std::uint64_t nobuf_events() const noexcept override { return nobuf_; }
  std::uint64_t cq_overflows() const noexcept override { return cq_lost_; }

 private:
  enum class PortState : std::uint8_t { kFree, kOpen, kClosing };
  struct Port {
    int fd = -1;
    Endpoint local;
    bool wildcard = false;
    PortState state = PortState::kFree;
    bool armed = false;     // a multishot recvmsg is in flight (its final CQE not yet reaped)
    bool want_arm = false;  // on rearm_
    bool want_cancel = false;  // on uncancelled_
    std::uint32_t gen = 0;
  };
  struct alignas(cmsghdr) Control {
    unsigned char bytes[kPktinfoSpace];
  };
  struct TxSlot {
    msghdr hdr;
    iovec iov;
    sockaddr_storage name;
    Control ctrl;
    std::uint32_t len;
  };
  enum BufState : std::uint8_t { kInRing, kPending, kLent };

  std::string probe_multishot();
  io_uring_sqe *get_sqe() noexcept;
  void submit() noexcept;
  void service() noexcept;
  void arm_waiting() noexcept;
  bool arm(std::uint32_t slot) noexcept;
  void queue_cancel(std::uint32_t slot) noexcept;
  void finish_close(std::uint32_t slot) noexcept;
  void reap() noexcept;
  void handle(const io_uring_cqe *c) noexcept;
  void handle_recv(const io_uring_cqe *c) noexcept;
  bool parse(std::uint32_t bid, int res, const Port &port, RxPacket *p) noexcept;
  void buf_add(std::uint32_t bid, int offset) noexcept;
  void recycle(std::uint32_t bid) noexcept;
  void purge_pending(std::uint32_t slot) noexcept;
  bool idle() const noexcept {
    return armed_count_ == 0 && tx_inflight_ == 0 && cancels_inflight_ == 0;
  }

  UringConfig cfg_;
  detail::SocketOptions sock_opt_;
  io_uring ring_{};
  bool ring_ok_ = false;
  io_uring_buf_ring *br_ = nullptr;
  std::size_t br_bytes_ = 0;
  bool br_registered_ = false;
  std::uint8_t *bufs_ = nullptr;
  std::size_t bufs_bytes_ = 0;
  int mask_ = 0;
  std::uint32_t ring_free_ = 0;  // buffers on the ring as far as reaped CQEs tell
  std::vector<std::uint8_t> buf_state_;
  msghdr rx_msg_{};  // multishot template: only the reserved name/control sizes matter

  std::vector<Port> ports_;
  std::vector<std::uint32_t> free_ports_;
  detail::PortTable table_;
  std::deque<std::uint32_t> rearm_;  // FIFO: every waiting socket gets its turn
  std::vector<std::uint32_t> uncancelled_;

  std::vector<RxPacket> pending_;  // reaped, not yet handed out; each holds a distinct buffer
  std::vector<std::uint32_t> pend_slot_;  // port slot of each pending_ entry
  std::size_t pend_head_ = 0;
  std::size_t pend_count_ = 0;

  std::vector<TxSlot> tx_;
  std::vector<std::uint8_t> tx_data_;
  std::vector<std::uint32_t> tx_free_;

  std::uint32_t tx_inflight_ = 0;
  std::uint32_t cancels_inflight_ = 0;
  std::uint32_t armed_count_ = 0;
  std::vector<io_uring_cqe *> cqes_ = std::vector<io_uring_cqe *>(64);
  int probe_recv_res_ = 1;  // 1: no CQE yet
  bool probe_cancel_done_ = false;
  bool shutting_down_ = false;
  IoStats stats_;
  std::uint64_t nobuf_ = 0;
  std::uint64_t cq_lost_ = 0;   // completions the kernel dropped (cq.koverflow)
  unsigned koverflow_seen_ = 0;
};

std::string UringIo::init() {
  const UringConfig &c = cfg_;
  if (c.buffers == 0 || c.buffers > 32768 || (c.buffers & (c.buffers - 1)) != 0) {
    return "buffers must be a power of two in 1..32768, got " + std::to_string(c.buffers);
  }
  if (c.buffer_size <= kRxHeadroom || c.buffer_size > 65536) {
    return "buffer_size must be in " + std::to_string(kRxHeadroom + 1) + "..65536, got " +
           std::to_string(c.buffer_size);
  }
  if (c.sq_entries == 0 || c.sq_entries > 4096) {
    return "sq_entries must be in 1..4096, got " + std::to_string(c.sq_entries);
  }
  if (c.tx_slots == 0 || c.tx_slots > 65536 || c.tx_slot_size == 0 || c.tx_slot_size > 65536) {
    return "tx_slots and tx_slot_size must be in 1..65536";
  }

  // Deferred task work (COOP_TASKRUN) avoids interrupting a busy shard; TASKRUN_FLAG lets the
  // CQE peek notice pending work and enter the kernel to run it. Both need 5.19: retry without.
  io_uring_params p{};
  p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  p.cq_entries = std::min(65536u, std::max(2 * c.sq_entries, c.buffers + c.tx_slots + kCqSpare));
  int r = io_uring_queue_init_params(c.sq_entries, &ring_, &p);
  if (r == -EINVAL) {
    const unsigned cq = p.cq_entries;
    p = io_uring_params{};
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = cq;
    r = io_uring_queue_init_params(c.sq_entries, &ring_, &p);
  }
  if (r == -ENOSYS) return "the kernel has no io_uring (io_uring_setup: ENOSYS)";
  if (r == -EPERM) {
    return "io_uring is disabled here (io_uring_setup: EPERM; kernel.io_uring_disabled or a "
           "seccomp policy)";
  }
  if (r < 0) return std::string("io_uring_queue_init: ") + std::strerror(-r);
  ring_ok_ = true;

  br_bytes_ = page_round(std::size_t{c.buffers} * sizeof(io_uring_buf));
  void *m = mmap(nullptr, br_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    br_bytes_ = 0;
    return std::string("mmap (buffer ring): ") + std::strerror(errno);
  }
  br_ = static_cast<io_uring_buf_ring *>(m);
  bufs_bytes_ = page_round(std::size_t{c.buffers} * c.buffer_size);
  m = mmap(nullptr, bufs_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    bufs_bytes_ = 0;
    return std::string("mmap (buffers): ") + std::strerror(errno);
  }
  bufs_ = static_cast<std::uint8_t *>(m);

  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(br_);
  reg.ring_entries = c.buffers;
  reg.bgid = c.buffer_group;
  r = io_uring_register_buf_ring(&ring_, &reg, 0);
  if (r == -EINVAL) {
    return "the kernel has no provided-buffer rings (IORING_REGISTER_PBUF_RING: EINVAL, needs "
           "Linux 5.19)";
  }
  if (r < 0) return std::string("io_uring_register_buf_ring: ") + std::strerror(-r);
  br_registered_ = true;
  io_uring_buf_ring_init(br_);
  mask_ = io_uring_buf_ring_mask(c.buffers);
  buf_state_.assign(c.buffers, kInRing);
  for (std::uint32_t bid = 0; bid < c.buffers; ++bid) buf_add(bid, static_cast<int>(bid));
  io_uring_buf_ring_advance(br_, static_cast<int>(c.buffers));
  ring_free_ = c.buffers;

  pending_.resize(c.buffers);
  pend_slot_.resize(c.buffers);
  tx_.resize(c.tx_slots);
  tx_data_.resize(std::size_t{c.tx_slots} * c.tx_slot_size);
  tx_free_.reserve(c.tx_slots);
  for (std::uint32_t s = c.tx_slots; s-- > 0;) tx_free_.push_back(s);

  return probe_multishot();
}

// Multishot recvmsg (6.0) is not in the opcode probe: arm one on an unbound socket and cancel
// it. Supported: the recv ends -ECANCELED; unsupported: it fails at once with -EINVAL.
std::string UringIo::probe_multishot() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket (probe): ") + std::strerror(errno);
  io_uring_sqe *sqe = io_uring_get_sqe(&ring_);
  io_uring_prep_recvmsg_multishot(sqe, fd, &rx_msg_, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = cfg_.buffer_group;
  io_uring_sqe_set_data64(sqe, make_ud(kProbe, 0, 1));
  sqe = io_uring_get_sqe(&ring_);
  io_uring_prep_cancel64(sqe, make_ud(kProbe, 0, 1), 0);
  io_uring_sqe_set_data64(sqe, make_ud(kProbe, 0, 2));
  int r = io_uring_submit(&ring_);
  std::string why;
  if (r < 0) why = std::string("io_uring_submit (probe): ") + std::strerror(-r);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (why.empty() && (probe_recv_res_ == 1 || !probe_cancel_done_)) {
    if (std::chrono::steady_clock::now() > deadline) {
      why = "io_uring: multishot recvmsg probe got no completion within 2 s";
      break;
    }
    io_uring_cqe *cqe = nullptr;
    __kernel_timespec ts{0, 100'000'000};
    if (io_uring_wait_cqe_timeout(&ring_, &cqe, &ts) == 0) reap();
  }
  close(fd);
  if (!why.empty()) return why;
  if (probe_recv_res_ == -EINVAL) {
    return "the kernel has no multishot recvmsg (IORING_RECV_MULTISHOT: EINVAL, needs Linux 6.0)";
  }
  if (probe_recv_res_ != -ECANCELED) {
    return std::string("io_uring: multishot recvmsg probe failed: ") +
           std::strerror(probe_recv_res_ < 0 ? -probe_recv_res_ : EIO);
  }
  return {};
}

UringIo::~UringIo() {
  shutting_down_ = true;
  bool quiet = true;
  if (ring_ok_) {
    for (std::uint32_t s = 0; s < ports_.size(); ++s) {
      if (ports_[s].state == PortState::kOpen) {
        if (ports_[s].armed) {
          ports_[s].state = PortState::kClosing;
          queue_cancel(s);
        } else {
          finish_close(s);
        }
      }
    }
    submit();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!idle() && std::chrono::steady_clock::now() < deadline) {
      service();  // queues cancels the SQ had no room for; arms nothing while shutting down
      io_uring_cqe *cqe = nullptr;
      __kernel_timespec ts{0, 20'000'000};
      io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
      reap();
    }
    quiet = idle();
  }
  for (Port &p : ports_) {
    if (p.fd >= 0) close(p.fd);
  }
  if (br_registered_) io_uring_unregister_buf_ring(&ring_, cfg_.buffer_group);
  if (ring_ok_) io_uring_queue_exit(&ring_);
  // If the kernel never confirmed the end of every request, leak the buffers rather than risk
  // a late write into unmapped (or reused) memory.
  if (quiet) {
    if (bufs_ != nullptr) munmap(bufs_, bufs_bytes_);
    if (br_ != nullptr) munmap(br_, br_bytes_);
  }
}

void UringIo::buf_add(std::uint32_t bid, int offset) noexcept {
  io_uring_buf_ring_add(br_, bufs_ + std::size_t{bid} * cfg_.buffer_size, cfg_.buffer_size,
                        static_cast<unsigned short>(bid), mask_, offset);
}

void UringIo::recycle(std::uint32_t bid) noexcept {
  buf_add(bid, 0);
  io_uring_buf_ring_advance(br_, 1);
  buf_state_[bid] = kInRing;
  ++ring_free_;
}

// Packets of a port being closed that were reaped but not handed out are not delivered.
void UringIo::purge_pending(std::uint32_t slot) noexcept {
  const std::size_t cap = pending_.size();
  std::size_t kept = 0;
  for (std::size_t i = 0; i < pend_count_; ++i) {
    const std::size_t from = (pend_head_ + i) % cap;
    if (pend_slot_[from] == slot) {
      recycle(static_cast<std::uint32_t>(pending_[from].handle));
      ++stats_.rx_dropped;
      continue;
    }
    const std::size_t to = (pend_head_ + kept) % cap;
    pending_[to] = pending_[from];
    pend_slot_[to] = pend_slot_[from];
    ++kept;
  }
  pend_count_ = kept;
}

io_uring_sqe *UringIo::get_sqe() noexcept {
  io_uring_sqe *sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    submit();
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

void UringIo::submit() noexcept {
  if (io_uring_sq_ready(&ring_) == 0) return;
  ++stats_.wakeups;
  io_uring_submit(&ring_);  // on failure (-EBUSY, -EAGAIN) the SQEs stay queued for next time
}

bool UringIo::arm(std::uint32_t slot) noexcept {
  Port &p = ports_[slot];
  io_uring_sqe *sqe = get_sqe();
  if (sqe == nullptr) return false;
  io_uring_prep_recvmsg_multishot(sqe, p.fd, &rx_msg_, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = cfg_.buffer_group;
  io_uring_sqe_set_data64(sqe, make_ud(kRecv, p.gen, slot));
  p.armed = true;
  ++armed_count_;
  return true;
}

// Preps SQEs for sockets whose multishot ended, oldest first, at most one per two free buffers.
// Arming more sockets than there are buffers only bounces -ENOBUFS back (one SQE and one CQE
// each, every burst); with a backlog on 1000+ sockets that churn starved the shard and, since
// the re-arm order was the same every time, the same tail of sockets never got a buffer and
// their datagrams sat in the socket queues until the call was over. FIFO + the budget make
// every socket's wait bounded by (sockets ahead of it) / (buffers released per burst).
void UringIo::arm_waiting() noexcept {
  if (shutting_down_ || rearm_.empty()) return;
  // Wait for a batch of buffers (or enough for every waiting socket) so that a socket is not
  // re-armed for each single buffer given back while the ring is nearly dry.
  const std::size_t batch = std::min<std::size_t>(std::max(cfg_.buffers / 4, 1u), rearm_.size());
  if (ring_free_ < batch) return;
  // A socket waiting here ended on ENOBUFS, so it has at least one datagram queued and usually
  // more: budgeting two buffers per socket bounces fewer arms than one each.
  std::uint32_t budget = std::max(ring_free_ / 2, 1u);
  while (!rearm_.empty() && budget > 0) {
    const std::uint32_t slot = rearm_.front();
    Port &p = ports_[slot];
    if (p.state != PortState::kOpen || p.armed) {
      p.want_arm = false;
      rearm_.pop_front();
      continue;
    }
    if (!arm(slot)) return;  // SQ full even after a submit: it stays first in line
    p.want_arm = false;
    rearm_.pop_front();
    --budget;
  }
}

void UringIo::service() noexcept {
  if (!uncancelled_.empty()) {
    const std::vector<std::uint32_t> todo(uncancelled_);  // rare: SQ was full at close_port
    uncancelled_.clear();
    for (std::uint32_t s : todo) {
      ports_[s].want_cancel = false;
      queue_cancel(s);
    }
  }
  arm_waiting();
  submit();
}

void UringIo::queue_cancel(std::uint32_t slot) noexcept {
  Port &p = ports_[slot];
  io_uring_sqe *sqe = get_sqe();
  if (sqe == nullptr) {
    if (!p.want_cancel) {
      p.want_cancel = true;
      uncancelled_.push_back(slot);
    }
    return;
  }
  io_uring_prep_cancel64(sqe, make_ud(kRecv, p.gen, slot), 0);
  io_uring_sqe_set_data64(sqe, make_ud(kCancel, p.gen, slot));
  ++cancels_inflight_;
}

void UringIo::finish_close(std::uint32_t slot) noexcept {
  Port &p = ports_[slot];
  if (p.fd >= 0) close(p.fd);
  const std::uint32_t next_gen = (p.gen + 1) & kGenMask;
  p = Port{};
  p.gen = next_gen;
  free_ports_.push_back(slot);
}

std::string UringIo::open_port(const Endpoint &local) {
  std::string err;
  const int fd = detail::open_leg_socket(table_, local, sock_opt_, &err);
  if (fd < 0) return err;
  const std::uint32_t slot = detail::take_port_slot(free_ports_, ports_);
  Port &p = ports_[slot];
  p.fd = fd;
  p.local = local;
  p.wildcard = detail::is_wildcard(local);
  p.state = PortState::kOpen;
  table_.insert(local, slot);
  if (!arm(slot)) {
    p.want_arm = true;
    rearm_.push_back(slot);
  }
  submit();  // datagrams that arrive before this are queued in the socket, not lost
  return {};
}

void UringIo::close_port(const Endpoint &local) {
  std::uint32_t slot;
  if (!table_.find(local, &slot)) return;
  table_.erase(local);
  Port &p = ports_[slot];
  purge_pending(slot);
  if (p.want_arm) {
    rearm_.erase(std::remove(rearm_.begin(), rearm_.end(), slot), rearm_.end());
    p.want_arm = false;
  }
  if (!p.armed) {  // its multishot already ended and was reaped: nothing can refer to it
    finish_close(slot);
    return;
  }
  // The socket stays open until the multishot's final CQE: the fd number cannot be reused
  // under a request that still points at it.
  p.state = PortState::kClosing;
  queue_cancel(slot);
  submit();
}

void UringIo::reap() noexcept {
  // A lost completion may have been a datagram (its buffer is gone with it) or a multishot's
  // end (that socket would wait for a re-arm that never comes): never silent.
  const unsigned kof = IO_URING_READ_ONCE(*ring_.cq.koverflow);
  if (kof != koverflow_seen_) {
    const unsigned lost = kof - koverflow_seen_;
    koverflow_seen_ = kof;
    cq_lost_ += lost;
    stats_.rx_dropped += lost;
  }
  for (;;) {
    const unsigned n =
        io_uring_peek_batch_cqe(&ring_, cqes_.data(), static_cast<unsigned>(cqes_.size()));
    if (n == 0) return;
    for (unsigned i = 0; i < n; ++i) handle(cqes_[i]);
    io_uring_cq_advance(&ring_, n);
  }
}

void UringIo::handle(const io_uring_cqe *c) noexcept {
  const std::uint64_t ud = c->user_data;
  switch (ud_kind(ud)) {
    case kRecv:
      handle_recv(c);
      return;
    case kSend: {
      const std::uint32_t s = ud_slot(ud);
      if (c->res >= 0) {
        ++stats_.tx_packets;
        stats_.tx_bytes += tx_[s].len;
      } else {
        ++stats_.tx_dropped;
      }
      tx_free_.push_back(s);
      --tx_inflight_;
      return;
    }
    case kCancel:
      --cancels_inflight_;  // -ENOENT when the multishot had already ended: fine
      return;
    case kProbe:
      if (ud_slot(ud) == 1) {
        if ((c->flags & IORING_CQE_F_BUFFER) != 0) {
          --ring_free_;
          recycle(c->flags >> IORING_CQE_BUFFER_SHIFT);
        }
        if ((c->flags & IORING_CQE_F_MORE) == 0) probe_recv_res_ = c->res;
      } else {
        probe_cancel_done_ = true;
      }
      return;
  }
}

bool UringIo::parse(std::uint32_t bid, int res, const Port &port, RxPacket *p) noexcept {
  void *buf = bufs_ + std::size_t{bid} * cfg_.buffer_size;
  io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf, res, &rx_msg_);
  if (o == nullptr || (o->flags & MSG_TRUNC) != 0) return false;
  if (!detail::from_sockaddr(io_uring_recvmsg_name(o), std::min(o->namelen, kNameLen),
                             &p->remote)) {
    return false;
  }
  p->local = port.local;  // the address is overwritten from pktinfo
  if (o->controllen <= kCtrlLen) {
    for (cmsghdr *cm = io_uring_recvmsg_cmsg_firsthdr(o, &rx_msg_); cm != nullptr;
         cm = io_uring_recvmsg_cmsg_nexthdr(o, &rx_msg_, cm)) {
      if (cm->cmsg_len > o->controllen) break;
      if (detail::local_from_pktinfo(cm, &p->local)) break;
    }
  }
  p->data = static_cast<const std::uint8_t *>(io_uring_recvmsg_payload(o, &rx_msg_));
  p->len = io_uring_recvmsg_payload_length(o, res, &rx_msg_);
  std::memset(p->remote_mac, 0, sizeof p->remote_mac);
  p->queue = cfg_.shard;
  p->handle = bid;
  return true;
}

void UringIo::handle_recv(const io_uring_cqe *c) noexcept {
  const std::uint32_t slot = ud_slot(c->user_data);
  Port *port = nullptr;
  if (slot < ports_.size() && ports_[slot].gen == ud_gen(c->user_data) &&
      ports_[slot].state != PortState::kFree) {
    port = &ports_[slot];
  }
  if ((c->flags & IORING_CQE_F_BUFFER) != 0) {
    const std::uint32_t bid = c->flags >> IORING_CQE_BUFFER_SHIFT;
    --ring_free_;
    bool delivered = false;
    if (c->res >= 0 && bid < cfg_.buffers) {
      if (port != nullptr && port->state == PortState::kOpen && !shutting_down_) {
        const std::size_t at = (pend_head_ + pend_count_) % pending_.size();
        if (parse(bid, c->res, *port, &pending_[at])) {
          pend_slot_[at] = slot;
          buf_state_[bid] = kPending;
          ++pend_count_;
          delivered = true;
        }
      }
      if (!delivered) ++stats_.rx_dropped;  // truncated, unparsable, or port closing
    }
    if (!delivered && bid < cfg_.buffers) recycle(bid);
  }
  if ((c->flags & IORING_CQE_F_MORE) != 0 || port == nullptr) return;
  // The multishot ended.
  port->armed = false;
  --armed_count_;
  if (port->state == PortState::kClosing) {
    finish_close(slot);
    return;
  }
  if (c->res == -ENOBUFS) ++nobuf_;
  if (!shutting_down_ && !port->want_arm) {
    port->want_arm = true;
    rearm_.push_back(slot);
  }
}

std::size_t UringIo::rx_burst(RxPacket *out, std::size_t max) noexcept {
  service();
  reap();
  if (!rearm_.empty()) service();
  const std::size_t n = std::min(max, pend_count_);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = pending_[pend_head_];
    pend_head_ = (pend_head_ + 1) % pending_.size();
    buf_state_[out[i].handle] = kLent;
    ++stats_.rx_packets;
    stats_.rx_bytes += out[i].len;
  }
  pend_count_ -= n;
  return n;
}

void UringIo::rx_release(const RxPacket *pkts, std::size_t n) noexcept {
  int added = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t bid = pkts[i].handle;
    if (bid >= cfg_.buffers || buf_state_[bid] != kLent) continue;  // not ours to return
    buf_state_[bid] = kInRing;
    buf_add(static_cast<std::uint32_t>(bid), added++);
  }
  if (added == 0) return;
  io_uring_buf_ring_advance(br_, added);
  ring_free_ += static_cast<std::uint32_t>(added);
  arm_waiting();  // submitted by the next rx_burst / flush / wait
}

std::size_t UringIo::tx_burst(const TxPacket *pkts, std::size_t n) noexcept {
  std::size_t queued = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const TxPacket &t = pkts[i];
    std::uint32_t slot;
    if (t.local.v4 != t.remote.v4 || t.len > cfg_.tx_slot_size ||
        !table_.find_for_tx(t.local, &slot) || ports_[slot].state != PortState::kOpen) {
      ++stats_.tx_dropped;
      continue;
    }
    if (tx_free_.empty()) {  // reclaim slots whose sends completed
      submit();
      reap();
      if (tx_free_.empty()) {
        ++stats_.tx_dropped;
        continue;
      }
    }
    io_uring_sqe *sqe = get_sqe();
    if (sqe == nullptr) {
      ++stats_.tx_dropped;
      continue;
    }
    const std::uint32_t s = tx_free_.back();
    tx_free_.pop_back();
    TxSlot &ts = tx_[s];
    std::uint8_t *data = tx_data_.data() + std::size_t{s} * cfg_.tx_slot_size;
    if (t.len != 0) std::memcpy(data, t.data, t.len);
    ts.len = t.len;
    ts.iov.iov_base = data;
    ts.iov.iov_len = t.len;
    ts.hdr = msghdr{};
    ts.hdr.msg_name = &ts.name;
    ts.hdr.msg_namelen = detail::to_sockaddr(t.remote, &ts.name);
    ts.hdr.msg_iov = &ts.iov;
    ts.hdr.msg_iovlen = 1;
    if (ports_[slot].wildcard && !detail::is_wildcard(t.local)) {
      ts.hdr.msg_control = ts.ctrl.bytes;
      ts.hdr.msg_controllen = detail::build_src_pktinfo(t.local, ts.ctrl.bytes);
    }
    io_uring_prep_sendmsg(sqe, ports_[slot].fd, &ts.hdr, 0);
    io_uring_sqe_set_data64(sqe, make_ud(kSend, 0, s));
    ++tx_inflight_;
    ++queued;
  }
  return queued;
}

void UringIo::flush() noexcept {
  service();
  reap();
}

void UringIo::wait(int timeout_ms) noexcept {
  if (pend_count_ > 0) return;
  service();
  if (io_uring_cq_ready(&ring_) > 0 || timeout_ms == 0) return;
  io_uring_cqe *cqe = nullptr;
  if (timeout_ms < 0) {
    io_uring_wait_cqe(&ring_, &cqe);
    return;
  }
  __kernel_timespec ts{};
  ts.tv_sec = timeout_ms / 1000;
  ts.tv_nsec = static_cast<long long>(timeout_ms % 1000) * 1'000'000;
  io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
}

}  // namespace

std::unique_ptr<UdpUringIo> UdpUringIo::create(const UringConfig &cfg, std::string *why) {
  std::string ignored;
  if (why == nullptr) why = &ignored;
  auto io = std::make_unique<UringIo>(cfg);
  std::string err = io->init();
  if (!err.empty()) {
    *why = "io_uring: " + err;
    return nullptr;
  }
  return io;
}

}  // namespace clutchcall::netio
