#include "xdp/xsk_io.h"

#include <linux/filter.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "xdp/frame.h"

namespace clutchcall::xdp {
namespace {

std::string errname(int err) {
  if (err < 0) err = -err;
  const char *n = strerrorname_np(err);
  return n ? std::string(n) : "errno " + std::to_string(err);
}

bool power_of_two(std::uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

std::string interface_mac(const std::string &ifname, Mac *mac) {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return std::string("socket: ") + errname(errno);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  const int rc = ::ioctl(s, SIOCGIFHWADDR, &ifr);
  const int e = errno;
  ::close(s);
  if (rc != 0) return "cannot read the MAC of " + ifname + ": " + errname(e);
  std::memcpy(mac->data(), ifr.ifr_hwaddr.sa_data, 6);
  return {};
}

constexpr std::size_t kTxChunk = 64;
constexpr std::uint32_t kMinFrames = 64;
constexpr std::uint32_t kMaxFrames = 1u << 18;

}  // namespace

struct XskIo::Rings {
  xsk_ring_prod fill{};
  xsk_ring_cons comp{};
  xsk_ring_cons rx{};
  xsk_ring_prod tx{};
};

XskIo::XskIo(const XskConfig &cfg, XdpProgram &prog, int ifindex)
    : cfg_(cfg),
      prog_(prog),
      ifindex_(ifindex),
      neigh_(ifindex, 4096, std::chrono::milliseconds(cfg.neighbour_refresh_ms)),
      rings_(new Rings()) {}

std::unique_ptr<XskIo> XskIo::create(const XskConfig &cfg, XdpProgram &prog, std::string *why) {
  auto fail = [&](std::string r) -> std::unique_ptr<XskIo> {
    if (why) *why = std::move(r);
    return nullptr;
  };
  for (const auto &[name, v] : {std::pair<const char *, std::uint32_t>{"rx_frames", cfg.rx_frames},
                                {"tx_frames", cfg.tx_frames}}) {
    if (!power_of_two(v) || v < kMinFrames || v > kMaxFrames)
      return fail(std::string(name) + " must be a power of two in " + std::to_string(kMinFrames) +
                  ".." + std::to_string(kMaxFrames) + " (got " + std::to_string(v) + ")");
  }
  if (cfg.busy_retry_ms < 0 || cfg.busy_retry_ms > 60000)
    return fail("busy_retry_ms must be 0..60000");
  if (cfg.neighbour_refresh_ms < 0 || cfg.neighbour_refresh_ms > 3600000)
    return fail("neighbour_refresh_ms must be 0..3600000");
  if (cfg.slow_path_per_sec > 1000000) return fail("slow_path_per_sec must be 0..1000000");
  if (cfg.frame_size != 2048 && cfg.frame_size != 4096)
    return fail("frame_size must be 2048 or 4096");
  const unsigned idx = ::if_nametoindex(cfg.ifname.c_str());
  if (idx == 0) return fail("no interface " + cfg.ifname + ": " + errname(errno));
  if (prog.ifindex() != 0 && prog.ifindex() != static_cast<int>(idx))
    return fail("the XDP program is attached to " + prog.ifname() + ", not " + cfg.ifname);
  std::unique_ptr<XskIo> io(new XskIo(cfg, prog, static_cast<int>(idx)));
  std::string err = interface_mac(cfg.ifname, &io->mac_);
  if (err.empty()) err = io->setup(nullptr);
  if (!err.empty()) return fail(err);
  // Best effort: a failed dump leaves empty tables (misses take the slow path or are counted
  // drops), and the next miss retries.
  (void)io->neigh_.refresh();
  io->open_slow_path();
  return io;
}

void XskIo::open_slow_path() {
  slow_buf_.assign(cfg_.frame_size, 0);
  if (cfg_.slow_path_per_sec == 0) {
    slow_path_error_ = "disabled (slow_path_per_sec = 0)";
    return;
  }
  // Best effort: without CAP_NET_RAW (EPERM) there is no slow path, misses stay counted drops,
  // and the XSK itself works, so create() does not fail for it.
  auto open_raw = [&](int family, const char *label) -> int {
    const int fd = ::socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (fd < 0) {
      slow_path_error_ += std::string(slow_path_error_.empty() ? "" : "; ") + label +
                          " raw socket: " + errname(errno);
      return -1;
    }
    // IPPROTO_RAW implies the header is ours (IPv4: IP_HDRINCL, set again to be explicit; IPv6:
    // the kernel sets hdrincl for IPPROTO_RAW, man 7 raw). Send-only: drop anything delivered.
    const int one = 1;
    sock_filter drop_all{BPF_RET | BPF_K, 0, 0, 0};
    sock_fprog prog{1, &drop_all};
    const int sndbuf = 1 << 20;
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    if ((family == AF_INET && ::setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) != 0) ||
        ::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) != 0) {
      slow_path_error_ += std::string(slow_path_error_.empty() ? "" : "; ") + label +
                          " raw socket options: " + errname(errno);
      ::close(fd);
      return -1;
    }
    return fd;
  };
  raw4_ = open_raw(AF_INET, "IPv4");
  raw6_ = open_raw(AF_INET6, "IPv6");
}

std::string XskIo::setup(std::string *) {
  rx_frames_ = cfg_.rx_frames;
  tx_frames_ = cfg_.tx_frames;
  umem_bytes_ = (static_cast<std::size_t>(rx_frames_) + tx_frames_) * cfg_.frame_size;
  void *area = ::mmap(nullptr, umem_bytes_, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (area == MAP_FAILED) return "cannot map the UMEM: " + errname(errno);
  umem_area_ = area;

  struct Try {
    BindMode mode;
    std::uint16_t flag;
  };
  std::vector<Try> tries;
  if (cfg_.bind != XskConfig::Bind::copy) tries.push_back({BindMode::zerocopy, XDP_ZEROCOPY});
  if (cfg_.bind != XskConfig::Bind::zerocopy) tries.push_back({BindMode::copy, XDP_COPY});

  // EBUSY: the queue still has the UMEM of an XSK that was just closed (the kernel releases it
  // from a deferred work item). Transient, so retried with backoff until the deadline; any other
  // error is final for that bind mode.
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + std::chrono::milliseconds(cfg_.busy_retry_ms);
  auto backoff = std::chrono::milliseconds(2);
  std::string reasons;
  for (const Try &t : tries) {
    int rc = 0;
    for (;;) {
      xsk_umem_config ucfg{};
      ucfg.fill_size = rx_frames_;
      ucfg.comp_size = tx_frames_;
      ucfg.frame_size = cfg_.frame_size;
      ucfg.frame_headroom = 0;
      ucfg.flags = 0;
      *rings_ = Rings{};
      rc = xsk_umem__create(&umem_, umem_area_, umem_bytes_, &rings_->fill, &rings_->comp,
                            &ucfg);
      if (rc != 0) {
        umem_ = nullptr;
        return "cannot register the UMEM: " + errname(rc);
      }
      xsk_socket_config scfg{};
      scfg.rx_size = rx_frames_;
      scfg.tx_size = tx_frames_;
      scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
      scfg.xdp_flags = 0;
      scfg.bind_flags = static_cast<std::uint16_t>(XDP_USE_NEED_WAKEUP | t.flag);
      rc = xsk_socket__create(&xsk_, cfg_.ifname.c_str(), cfg_.queue_id, umem_, &rings_->rx,
                              &rings_->tx, &scfg);
      if (rc == 0) break;
      xsk_ = nullptr;
      // A failed bind leaves the UMEM's rings tied to its socket: start again from scratch.
      xsk_umem__delete(umem_);
      umem_ = nullptr;
      if (rc != -EBUSY || Clock::now() + backoff > deadline) break;
      std::this_thread::sleep_for(backoff);
      ++bind_retries_;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
    }
    if (rc == 0) {
      bind_mode_ = t.mode;
      break;
    }
    if (!reasons.empty()) reasons += "; ";
    reasons += std::string("kernel refused ") + bind_mode_name(t.mode) + " XSK bind on " +
               cfg_.ifname + " queue " + std::to_string(cfg_.queue_id) + ": " + errname(rc);
    if (rc == -EBUSY) {
      const auto waited =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
      reasons += " (still busy after " + std::to_string(bind_retries_) + " retries over " +
                 std::to_string(waited) +
                 " ms: another XSK holds the queue, or the kernel has not freed a closed one)";
    }
  }
  if (!xsk_) return reasons;

  // The whole RX pool goes into the fill ring.
  std::uint32_t idx = 0;
  if (xsk_ring_prod__reserve(&rings_->fill, rx_frames_, &idx) != rx_frames_)
    return "cannot fill the fill ring";
  for (std::uint32_t i = 0; i < rx_frames_; ++i)
    *xsk_ring_prod__fill_addr(&rings_->fill, idx + i) =
        static_cast<std::uint64_t>(i) * cfg_.frame_size;
  xsk_ring_prod__submit(&rings_->fill, rx_frames_);

  tx_free_.reserve(tx_frames_);
  for (std::uint32_t i = 0; i < tx_frames_; ++i)
    tx_free_.push_back(static_cast<std::uint64_t>(rx_frames_ + i) * cfg_.frame_size);

  return attach_to_map();
}

std::string XskIo::attach_to_map() {
  std::string err = prog_.register_xsk(cfg_.queue_id, xsk_socket__fd(xsk_));
  registered_ = err.empty();
  return err;
}

std::string XskIo::detach_from_map() {
  if (!registered_) return {};
  std::string err = prog_.unregister_xsk(cfg_.queue_id);
  if (err.empty()) registered_ = false;
  return err;
}

void XskIo::teardown() noexcept {
  if (registered_) (void)prog_.unregister_xsk(cfg_.queue_id);
  registered_ = false;
  if (xsk_) xsk_socket__delete(xsk_);
  xsk_ = nullptr;
  if (umem_) xsk_umem__delete(umem_);
  umem_ = nullptr;
  if (umem_area_) ::munmap(umem_area_, umem_bytes_);
  umem_area_ = nullptr;
  if (raw4_ >= 0) ::close(raw4_);
  if (raw6_ >= 0) ::close(raw6_);
  raw4_ = raw6_ = -1;
}

XskIo::~XskIo() { teardown(); }

int XskIo::fd() const noexcept { return xsk_ ? xsk_socket__fd(xsk_) : -1; }

std::string XskIo::open_port(const netio::Endpoint &local) {
  const auto c = prog_.config();
  if (local.port < c.port_lo || local.port > c.port_hi)
    return "port " + std::to_string(local.port) + " is outside the classifier's RTP range " +
           std::to_string(c.port_lo) + "-" + std::to_string(c.port_hi);
  ports_.insert(local.port);
  return {};
}

void XskIo::close_port(const netio::Endpoint &local) { ports_.erase(local.port); }

void XskIo::kick_fill_if_needed() noexcept {
  if (xsk_ring_prod__needs_wakeup(&rings_->fill)) {
    (void)::recvfrom(xsk_socket__fd(xsk_), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
    wakeups_.add(1);
  }
}

void XskIo::fill_addrs(const std::uint64_t *addrs, std::size_t n) noexcept {
  if (n == 0) return;
  std::uint32_t idx = 0;
  const auto count = static_cast<std::uint32_t>(n);
  // Cannot fail: the fill ring holds the whole RX pool and these frames are ours.
  if (xsk_ring_prod__reserve(&rings_->fill, count, &idx) != count) return;
  const std::uint64_t mask = ~static_cast<std::uint64_t>(cfg_.frame_size - 1);
  for (std::uint32_t i = 0; i < count; ++i)
    *xsk_ring_prod__fill_addr(&rings_->fill, idx + i) = addrs[i] & mask;
  xsk_ring_prod__submit(&rings_->fill, count);
}

std::size_t XskIo::rx_burst(netio::RxPacket *out, std::size_t max) noexcept {
  if (max > rx_frames_) max = rx_frames_;
  std::uint32_t idx = 0;
  const std::uint32_t n = xsk_ring_cons__peek(&rings_->rx, static_cast<std::uint32_t>(max), &idx);
  if (n == 0) {
    kick_fill_if_needed();
    return 0;
  }
  std::uint64_t recycle[256];
  std::size_t nrec = 0;
  std::size_t k = 0;
  std::uint64_t bytes = 0;
  auto *base = static_cast<std::uint8_t *>(umem_area_);
  for (std::uint32_t i = 0; i < n; ++i) {
    const xdp_desc *d = xsk_ring_cons__rx_desc(&rings_->rx, idx + i);
    const std::uint64_t addr = d->addr;
    ParsedFrame f;
    ParseError pe = ParseError::truncated_ethernet;
    if (addr < umem_bytes_ && d->len <= umem_bytes_ - addr)
      pe = parse_frame(base + addr, d->len, &f);
    if (pe != ParseError::ok) {
      rx_invalid_.add(1);
      rx_dropped_.add(1);
      recycle[nrec++] = addr;
      if (nrec == sizeof(recycle) / sizeof(recycle[0])) {
        fill_addrs(recycle, nrec);
        nrec = 0;
      }
      continue;
    }
    netio::RxPacket &p = out[k++];
    p.data = f.payload;
    p.len = f.payload_len;
    p.remote = f.src;
    p.local = f.dst;
    std::memcpy(p.remote_mac, f.src_mac, 6);
    p.queue = cfg_.queue_id;
    p.handle = addr;
    bytes += f.payload_len;
    if (cfg_.learn_neighbours) {
      Mac known;
      VlanTag known_vlan, vlan;
      if (f.has_vlan) vlan = VlanTag{f.vlan_tpid, f.vlan_tci};
      if (!neigh_.lookup(f.src.addr, &known, &known_vlan) ||
          std::memcmp(known.data(), f.src_mac, 6) != 0 || !(known_vlan == vlan))
        (void)neigh_.learn(f.src.addr, f.src_mac, vlan);
    }
  }
  // Descriptors are copied out; the frames stay ours until rx_release() / recycle.
  xsk_ring_cons__release(&rings_->rx, n);
  fill_addrs(recycle, nrec);
  if (nrec) kick_fill_if_needed();
  rx_packets_.add(k);
  rx_bytes_.add(bytes);
  return k;
}

void XskIo::rx_release(const netio::RxPacket *pkts, std::size_t n) noexcept {
  std::uint64_t addrs[256];
  std::size_t m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    addrs[m++] = pkts[i].handle;
    if (m == sizeof(addrs) / sizeof(addrs[0])) {
      fill_addrs(addrs, m);
      m = 0;
    }
  }
  fill_addrs(addrs, m);
  kick_fill_if_needed();
}

void XskIo::reap_completions() noexcept {
  std::uint32_t idx = 0;
  const std::uint32_t n = xsk_ring_cons__peek(&rings_->comp, tx_frames_, &idx);
  if (n == 0) return;
  const std::uint64_t mask = ~static_cast<std::uint64_t>(cfg_.frame_size - 1);
  for (std::uint32_t i = 0; i < n; ++i)
    tx_free_.push_back(*xsk_ring_cons__comp_addr(&rings_->comp, idx + i) & mask);
  xsk_ring_cons__release(&rings_->comp, n);
  tx_outstanding_ -= n;
}

std::size_t XskIo::tx_burst(const netio::TxPacket *pkts, std::size_t n) noexcept {
  reap_completions();
  auto *base = static_cast<std::uint8_t *>(umem_area_);
  xdp_desc descs[kTxChunk];
  std::size_t k = 0;
  std::size_t queued = 0;
  std::uint64_t bytes = 0;
  auto submit = [&]() {
    if (k == 0) return;
    std::uint32_t idx = 0;
    const auto count = static_cast<std::uint32_t>(k);
    // Cannot fail: every descriptor holds a frame from the TX pool, which is the ring's size.
    if (xsk_ring_prod__reserve(&rings_->tx, count, &idx) != count) {
      for (std::size_t i = 0; i < k; ++i) tx_free_.push_back(descs[i].addr);
      tx_no_frame_.add(k);
      tx_dropped_.add(k);
      queued -= k;
      k = 0;
      return;
    }
    for (std::uint32_t i = 0; i < count; ++i) *xsk_ring_prod__tx_desc(&rings_->tx, idx + i) = descs[i];
    xsk_ring_prod__submit(&rings_->tx, count);
    tx_outstanding_ += count;
    k = 0;
  };
  std::size_t slow = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const netio::TxPacket &p = pkts[i];
    Mac dst;
    VlanTag vlan;
    if (!neigh_.resolve(p.remote.addr, &dst, &vlan)) {
      if (send_slow(p)) {
        ++slow;
        bytes += p.len;
      }
      continue;
    }
    if (tx_free_.empty()) {
      tx_no_frame_.add(1);
      tx_dropped_.add(1);
      continue;
    }
    FrameSpec spec;
    std::memcpy(spec.src_mac, mac_.data(), 6);
    std::memcpy(spec.dst_mac, dst.data(), 6);
    spec.src = p.local;
    spec.dst = p.remote;
    spec.payload = p.data;
    spec.payload_len = p.len;
    spec.has_vlan = vlan.tagged();
    if (spec.has_vlan) {
      spec.vlan_tpid = vlan.tpid;
      spec.vlan_tci = vlan.tci;
    }
    const std::uint64_t addr = tx_free_.back();
    const std::size_t len = build_frame(spec, base + addr, cfg_.frame_size);
    if (len == 0) {
      tx_bad_packet_.add(1);
      tx_dropped_.add(1);
      continue;
    }
    tx_free_.pop_back();
    descs[k].addr = addr;
    descs[k].len = static_cast<std::uint32_t>(len);
    descs[k].options = 0;
    ++k;
    ++queued;
    bytes += p.len;
    if (k == kTxChunk) submit();
  }
  submit();
  tx_packets_.add(queued + slow);
  tx_bytes_.add(bytes);
  return queued + slow;
}

bool XskIo::send_slow(const netio::TxPacket &p) noexcept {
  const int fd = p.remote.v4 ? raw4_ : raw6_;
  if (fd < 0) {
    tx_no_neighbour_.add(1);
    tx_dropped_.add(1);
    return false;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - slow_window_start_ >= std::chrono::seconds(1)) {
    slow_window_start_ = now;
    slow_window_count_ = 0;
  }
  if (slow_window_count_ >= cfg_.slow_path_per_sec) {
    tx_slow_path_dropped_.add(1);
    tx_dropped_.add(1);
    return false;
  }
  // The same frame the XSK would send (MACs unused): the raw socket gets what follows Ethernet.
  FrameSpec spec;
  spec.src = p.local;
  spec.dst = p.remote;
  spec.payload = p.data;
  spec.payload_len = p.len;
  const std::size_t len = build_frame(spec, slow_buf_.data(), slow_buf_.size());
  if (len <= 14) {
    tx_bad_packet_.add(1);
    tx_dropped_.add(1);
    return false;
  }
  ++slow_window_count_;
  sockaddr_storage ss{};
  socklen_t sl = 0;
  if (p.remote.v4) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;  // port 0: IPPROTO_RAW takes the protocol from the header
    std::memcpy(&sa.sin_addr, p.remote.addr + 12, 4);
    std::memcpy(&ss, &sa, sizeof(sa));
    sl = sizeof(sa);
  } else {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    std::memcpy(&sa.sin6_addr, p.remote.addr, 16);
    if (p.remote.addr[0] == 0xfe && (p.remote.addr[1] & 0xc0) == 0x80)
      sa.sin6_scope_id = static_cast<std::uint32_t>(ifindex_);  // link-local: our link
    std::memcpy(&ss, &sa, sizeof(sa));
    sl = sizeof(sa);
  }
  const ssize_t rc = ::sendto(fd, slow_buf_.data() + 14, len - 14, MSG_DONTWAIT,
                              reinterpret_cast<const sockaddr *>(&ss), sl);
  if (rc != static_cast<ssize_t>(len - 14)) {  // unreachable, no buffer space, ...
    tx_no_neighbour_.add(1);
    tx_dropped_.add(1);
    return false;
  }
  tx_slow_path_.add(1);
  return true;
}

void XskIo::flush() noexcept {
  const int fd = xsk_socket__fd(xsk_);
  // Copy mode transmits a bounded batch per sendto() and says EAGAIN while more is queued.
  const std::uint32_t max_kicks = tx_frames_ / 16 + 4;
  for (std::uint32_t i = 0; i < max_kicks && tx_outstanding_ > 0; ++i) {
    const std::uint32_t consumer = __atomic_load_n(rings_->tx.consumer, __ATOMIC_ACQUIRE);
    if (consumer == rings_->tx.cached_prod) break;  // the kernel took every descriptor
    if (!xsk_ring_prod__needs_wakeup(&rings_->tx) && bind_mode_ == BindMode::zerocopy) break;
    const ssize_t rc = ::sendto(fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
    wakeups_.add(1);
    if (rc < 0 && errno != EAGAIN && errno != EBUSY && errno != ENOBUFS && errno != EINTR) break;
  }
  reap_completions();
}

void XskIo::wait(int timeout_ms) noexcept {
  pollfd p{};
  p.fd = xsk_socket__fd(xsk_);
  p.events = POLLIN;
  (void)::poll(&p, 1, timeout_ms);
}

bool XskIo::kernel_stats(::xdp_statistics *out) const noexcept {
  socklen_t len = sizeof(*out);
  return xsk_ && ::getsockopt(xsk_socket__fd(xsk_), SOL_XDP, XDP_STATISTICS, out, &len) == 0 &&
         len == sizeof(*out);
}

netio::IoStats XskIo::own_stats() const noexcept {
  netio::IoStats s;
  s.rx_packets = rx_packets_.get();
  s.rx_bytes = rx_bytes_.get();
  s.tx_packets = tx_packets_.get();
  s.tx_bytes = tx_bytes_.get();
  s.rx_dropped = rx_dropped_.get();
  s.tx_dropped = tx_dropped_.get();
  s.wakeups = wakeups_.get();
  // The kernel's drops for want of a fill-ring frame or RX-ring slot are ours too.
  return s;
}

netio::IoStats XskIo::stats() const noexcept {
  netio::IoStats s = own_stats();
  // The kernel's drops for want of a fill-ring frame or RX-ring slot are ours too.
  xdp_statistics ks{};
  if (kernel_stats(&ks)) s.rx_dropped += ks.rx_dropped + ks.rx_ring_full;
  return s;
}

XskStats XskIo::xsk_stats() const noexcept {
  XskStats s;
  s.io = own_stats();
  s.rx_invalid = rx_invalid_.get();
  s.tx_no_neighbour = tx_no_neighbour_.get();
  s.tx_no_frame = tx_no_frame_.get();
  s.tx_bad_packet = tx_bad_packet_.get();
  s.tx_slow_path = tx_slow_path_.get();
  s.tx_slow_path_dropped = tx_slow_path_dropped_.get();
  xdp_statistics ks{};
  if (kernel_stats(&ks)) {
    s.kernel_rx_dropped = ks.rx_dropped;
    s.kernel_rx_invalid_descs = ks.rx_invalid_descs;
    s.kernel_tx_invalid_descs = ks.tx_invalid_descs;
    s.kernel_rx_ring_full = ks.rx_ring_full;
    s.kernel_rx_fill_ring_empty = ks.rx_fill_ring_empty_descs;
    s.kernel_tx_ring_empty = ks.tx_ring_empty_descs;
    s.io.rx_dropped += ks.rx_dropped + ks.rx_ring_full;  // as in stats()
  }
  return s;
}

}  // namespace clutchcall::xdp
