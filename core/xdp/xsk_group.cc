#include "xdp/xsk_group.h"

#include <algorithm>
#include <stdexcept>

namespace clutchcall::xdp {

XskGroup::XskGroup(std::vector<std::unique_ptr<XskIo>> members) : members_(std::move(members)) {
  if (members_.empty()) throw std::invalid_argument("XskGroup needs at least one XSK");
  lent_.reserve(members_.size());
  for (const auto &m : members_) fds_.push_back(pollfd{m->fd(), POLLIN, 0});
}

std::string XskGroup::open_port(const netio::Endpoint &local) {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (std::string err = members_[i]->open_port(local); !err.empty()) {
      for (std::size_t j = 0; j < i; ++j) members_[j]->close_port(local);
      return err;
    }
  }
  return {};
}

void XskGroup::close_port(const netio::Endpoint &local) {
  for (auto &m : members_) m->close_port(local);
}

std::size_t XskGroup::rx_burst(netio::RxPacket *out, std::size_t max) noexcept {
  lent_.clear();
  std::size_t got = 0;
  const std::size_t n = members_.size();
  for (std::size_t k = 0; k < n && got < max; ++k) {
    const std::size_t i = (next_ + k) % n;
    const std::size_t c = members_[i]->rx_burst(out + got, max - got);
    if (c != 0) lent_.push_back({i, got, c});
    got += c;
  }
  next_ = (next_ + 1) % n;
  return got;
}

void XskGroup::rx_release(const netio::RxPacket *pkts, std::size_t n) noexcept {
  for (const Slice &s : lent_) {
    if (s.offset >= n) break;
    members_[s.member]->rx_release(pkts + s.offset, std::min(s.count, n - s.offset));
  }
  lent_.clear();
}

std::size_t XskGroup::tx_burst(const netio::TxPacket *pkts, std::size_t n) noexcept {
  return members_.front()->tx_burst(pkts, n);
}

void XskGroup::flush() noexcept {
  for (auto &m : members_) m->flush();
}

void XskGroup::wait(int timeout_ms) noexcept {
  for (pollfd &p : fds_) p.revents = 0;
  (void)::poll(fds_.data(), static_cast<nfds_t>(fds_.size()), timeout_ms);
}

namespace {

using netio::IoStats;
constexpr std::uint64_t IoStats::*kIoFields[] = {
    &IoStats::rx_packets, &IoStats::rx_bytes,   &IoStats::tx_packets, &IoStats::tx_bytes,
    &IoStats::rx_dropped, &IoStats::tx_dropped, &IoStats::wakeups};
constexpr std::uint64_t XskStats::*kXskFields[] = {
    &XskStats::rx_invalid,           &XskStats::tx_no_neighbour,         &XskStats::tx_no_frame,
    &XskStats::tx_bad_packet,        &XskStats::kernel_rx_dropped,       &XskStats::kernel_rx_invalid_descs,
    &XskStats::kernel_tx_invalid_descs, &XskStats::kernel_rx_ring_full, &XskStats::kernel_rx_fill_ring_empty,
    &XskStats::kernel_tx_ring_empty, &XskStats::tx_slow_path, &XskStats::tx_slow_path_dropped};

void add(IoStats &a, const IoStats &b) {
  for (auto f : kIoFields) a.*f += b.*f;
}

}  // namespace

netio::IoStats XskGroup::stats() const noexcept {
  netio::IoStats s;
  for (const auto &m : members_) add(s, m->stats());
  return s;
}

XskStats XskGroup::xsk_stats() const noexcept {
  XskStats s;
  for (const auto &m : members_) {
    const XskStats x = m->xsk_stats();
    add(s.io, x.io);
    for (auto f : kXskFields) s.*f += x.*f;
  }
  return s;
}

}  // namespace clutchcall::xdp
