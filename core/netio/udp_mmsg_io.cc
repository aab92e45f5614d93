#include "netio/udp_mmsg_io.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace clutchcall::netio {

namespace {
constexpr std::uint32_t kNoPort = 0xffffffffu;
}

std::unique_ptr<UdpMmsgIo> UdpMmsgIo::create(const MmsgConfig &cfg, std::string *why) {
  std::string ignored;
  if (why == nullptr) why = &ignored;
  if (cfg.batch == 0 || cfg.batch > 1024) {
    *why = "recvmmsg: batch must be 1..1024, got " + std::to_string(cfg.batch);
    return nullptr;
  }
  if (cfg.slot_size == 0 || cfg.slot_size > 65536) {
    *why = "recvmmsg: slot_size must be 1..65536, got " + std::to_string(cfg.slot_size);
    return nullptr;
  }
  const int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) {
    *why = std::string("recvmmsg: epoll_create1: ") + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<UdpMmsgIo>(new UdpMmsgIo(cfg, epfd));
}

UdpMmsgIo::UdpMmsgIo(const MmsgConfig &cfg, int epfd)
    : cfg_(cfg),
      epfd_(epfd),
      events_(cfg.batch),
      rx_data_(std::size_t{cfg.batch} * cfg.slot_size),
      rx_msgs_(cfg.batch),
      rx_iov_(cfg.batch),
      rx_name_(cfg.batch),
      rx_ctrl_(cfg.batch),
      tx_msgs_(cfg.batch),
      tx_iov_(cfg.batch),
      tx_name_(cfg.batch),
      tx_ctrl_(cfg.batch),
      tx_port_(cfg.batch),
      tx_index_(cfg.batch) {
  sock_opt_.rcvbuf = cfg.rcvbuf;
  sock_opt_.sndbuf = cfg.sndbuf;
  ready_.reserve(cfg.batch);
}

UdpMmsgIo::~UdpMmsgIo() {
  for (const Port &p : ports_) {
    if (p.fd >= 0) close(p.fd);
  }
  close(epfd_);
}

std::string UdpMmsgIo::open_port(const Endpoint &local) {
  std::string err;
  const int fd = detail::open_leg_socket(table_, local, sock_opt_, &err);
  if (fd < 0) return err;
  const std::uint32_t slot = detail::take_port_slot(free_ports_, ports_);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = slot;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    err = "epoll_ctl " + to_string(local) + ": " + std::strerror(errno);
    close(fd);
    free_ports_.push_back(slot);
    return err;
  }
  ports_[slot] = Port{fd, local, detail::is_wildcard(local)};
  table_.insert(local, slot);
  return {};
}

void UdpMmsgIo::close_port(const Endpoint &local) {
  std::uint32_t slot;
  if (!table_.find(local, &slot)) return;
  table_.erase(local);
  Port &p = ports_[slot];
  epoll_ctl(epfd_, EPOLL_CTL_DEL, p.fd, nullptr);
  close(p.fd);
  p = Port{};
  free_ports_.push_back(slot);
  // The slot may come back for another port before the ready list is used up.
  ready_.erase(std::remove(ready_.begin() + static_cast<std::ptrdiff_t>(ready_pos_), ready_.end(),
                           slot),
               ready_.end());
}

bool UdpMmsgIo::poll_ready(int timeout_ms) noexcept {
  ready_.clear();
  ready_pos_ = 0;
  int n;
  do {
    n = epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
  } while (n < 0 && errno == EINTR && timeout_ms == 0);
  for (int i = 0; i < n; ++i) ready_.push_back(events_[static_cast<std::size_t>(i)].data.u32);
  return !ready_.empty();
}

std::size_t UdpMmsgIo::rx_burst(RxPacket *out, std::size_t max) noexcept {
  const std::size_t limit = std::min<std::size_t>(max, cfg_.batch);
  std::size_t used = 0;  // slots filled by recvmmsg
  std::size_t delivered = 0;
  bool polled = false;
  while (used < limit) {
    if (ready_pos_ == ready_.size()) {
      if (polled || !poll_ready(0)) break;
      polled = true;
    }
    const std::uint32_t slot = ready_[ready_pos_];
    const Port &port = ports_[slot];
    const std::size_t want = limit - used;
    for (std::size_t i = used; i < used + want; ++i) {
      rx_iov_[i].iov_base = rx_data_.data() + i * cfg_.slot_size;
      rx_iov_[i].iov_len = cfg_.slot_size;
      msghdr &h = rx_msgs_[i].msg_hdr;
      h.msg_name = &rx_name_[i];
      h.msg_namelen = sizeof(sockaddr_storage);
      h.msg_iov = &rx_iov_[i];
      h.msg_iovlen = 1;
      h.msg_control = rx_ctrl_[i].bytes;
      h.msg_controllen = sizeof(Control);
      h.msg_flags = 0;
      rx_msgs_[i].msg_len = 0;
    }
    const int r = recvmmsg(port.fd, &rx_msgs_[used], static_cast<unsigned>(want), MSG_DONTWAIT,
                           nullptr);
    if (r <= 0) {  // drained (EAGAIN) or a socket error: next socket
      ++ready_pos_;
      continue;
    }
    const auto got = static_cast<std::size_t>(r);
    if (got < want) ++ready_pos_;  // drained; otherwise it may hold more for the next burst
    for (std::size_t i = used; i < used + got; ++i) {
      const msghdr &h = rx_msgs_[i].msg_hdr;
      if ((h.msg_flags & MSG_TRUNC) != 0) {
        ++stats_.rx_dropped;
        continue;
      }
      RxPacket &p = out[delivered];
      if (!detail::from_sockaddr(&rx_name_[i], h.msg_namelen, &p.remote)) {
        ++stats_.rx_dropped;
        continue;
      }
      p.data = rx_data_.data() + i * cfg_.slot_size;
      p.len = rx_msgs_[i].msg_len;
      p.local = port.local;  // address overwritten from pktinfo below
      for (cmsghdr *c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(const_cast<msghdr *>(&h), c)) {
        if (detail::local_from_pktinfo(c, &p.local)) break;
      }
      std::memset(p.remote_mac, 0, sizeof p.remote_mac);
      p.queue = cfg_.shard;
      p.handle = i;
      ++stats_.rx_packets;
      stats_.rx_bytes += p.len;
      ++delivered;
    }
    used += got;
  }
  return delivered;
}

void UdpMmsgIo::rx_release(const RxPacket *, std::size_t) noexcept {
  // Slots are reused by the next rx_burst(); the interface requires release before it.
}

void UdpMmsgIo::wait(int timeout_ms) noexcept {
  if (ready_pos_ < ready_.size()) return;
  poll_ready(timeout_ms);
}

std::size_t UdpMmsgIo::tx_burst(const TxPacket *pkts, std::size_t n) noexcept {
  const std::uint64_t sent_before = stats_.tx_packets;
  for (std::size_t base = 0; base < n; base += cfg_.batch) {
    const std::size_t m = std::min<std::size_t>(cfg_.batch, n - base);
    const TxPacket *chunk = pkts + base;
    for (std::size_t i = 0; i < m; ++i) {
      std::uint32_t slot = kNoPort;
      if (chunk[i].local.v4 != chunk[i].remote.v4 || !table_.find_for_tx(chunk[i].local, &slot)) {
        slot = kNoPort;
        ++stats_.tx_dropped;
      }
      tx_port_[i] = slot;
    }
    // Group by socket: one sendmmsg per socket per chunk, packet order kept within a socket.
    for (std::size_t i = 0; i < m; ++i) {
      const std::uint32_t slot = tx_port_[i];
      if (slot == kNoPort) continue;
      std::size_t k = 0;
      for (std::size_t j = i; j < m; ++j) {
        if (tx_port_[j] != slot) continue;
        tx_port_[j] = kNoPort;
        tx_index_[k++] = static_cast<std::uint32_t>(j);
      }
      send_group(ports_[slot], chunk, k);
    }
  }
  return static_cast<std::size_t>(stats_.tx_packets - sent_before);
}

void UdpMmsgIo::send_group(const Port &port, const TxPacket *pkts, std::size_t count) noexcept {
  for (std::size_t k = 0; k < count; ++k) {
    const TxPacket &p = pkts[tx_index_[k]];
    tx_iov_[k].iov_base = const_cast<std::uint8_t *>(p.data);
    tx_iov_[k].iov_len = p.len;
    msghdr &h = tx_msgs_[k].msg_hdr;
    h = msghdr{};
    h.msg_name = &tx_name_[k];
    h.msg_namelen = detail::to_sockaddr(p.remote, &tx_name_[k]);
    h.msg_iov = &tx_iov_[k];
    h.msg_iovlen = 1;
    if (port.wildcard && !detail::is_wildcard(p.local)) {
      h.msg_control = tx_ctrl_[k].bytes;
      h.msg_controllen = detail::build_src_pktinfo(p.local, tx_ctrl_[k].bytes);
    }
    tx_msgs_[k].msg_len = 0;
  }
  std::size_t off = 0;
  while (off < count) {
    const int r = sendmmsg(port.fd, &tx_msgs_[off], static_cast<unsigned>(count - off),
                           MSG_DONTWAIT);
    ++stats_.wakeups;
    if (r > 0) {
      for (std::size_t k = off; k < off + static_cast<std::size_t>(r); ++k) {
        ++stats_.tx_packets;
        stats_.tx_bytes += pkts[tx_index_[k]].len;
      }
      off += static_cast<std::size_t>(r);
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
      stats_.tx_dropped += count - off;  // socket buffer full: the rest would fail too
      return;
    } else {
      ++stats_.tx_dropped;  // this one is refused (too long, no route): skip it
      ++off;
    }
  }
}

}  // namespace clutchcall::netio
