#include "relay/engine.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "relay/backends.h"
#include "relay/call_state.h"
#include "ring/ring.h"

namespace clutchcall::relay {

const char *to_string(Backend b) noexcept {
  switch (b) {
    case Backend::automatic: return "auto";
    case Backend::af_xdp: return "af_xdp";
    case Backend::io_uring: return "io_uring";
    case Backend::recvmmsg: return "recvmmsg";
    case Backend::custom: return "custom";
  }
  return "unknown";
}

bool parse_backend(const std::string &s, Backend *out) noexcept {
  for (Backend b : {Backend::automatic, Backend::af_xdp, Backend::io_uring, Backend::recvmmsg}) {
    if (s == to_string(b)) {
      *out = b;
      return true;
    }
  }
  return false;
}

namespace {

constexpr std::uint32_t kNoShard = 0xFFFFFFFFu;
constexpr std::size_t kBurst = 64;
constexpr std::uint32_t kFragMtu = 2048;

std::int64_t now_us() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// What travels over a hand-off ring in front of the payload (one frag per packet).
struct HandoffHeader {
  netio::Endpoint remote;
  netio::Endpoint local;
  std::uint64_t call_id;
  std::int64_t arrival_us;
  std::uint32_t slot;
  std::uint32_t len;
  std::uint32_t queue;
  std::uint8_t leg;
  std::uint8_t mac[6];
};
constexpr std::size_t kMaxHandoffPayload = kFragMtu - sizeof(HandoffHeader);
constexpr std::uint32_t kMinRingDepth = 16;
constexpr std::uint32_t kMaxHandoffDepth = 1u << 18;  // one ring's dcache stays under ring's 1 GiB
// Bytes of one hand-off ring of `depth` frags: mcache lines + dcache (ring.h: (depth + 2) frags).
constexpr std::uint64_t ring_bytes(std::uint64_t depth) { return depth * 32 + (depth + 2) * kFragMtu; }

std::string mib(std::uint64_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

// Frags per sender ring (see EngineConfig::handoff_depth), or why the setting is refused.
std::string handoff_ring_depth(std::uint32_t handoff_depth, std::uint32_t shards, std::uint64_t *out) {
  const bool pow2 = handoff_depth != 0 && (handoff_depth & (handoff_depth - 1)) == 0;
  if (!pow2 || handoff_depth < kMinRingDepth || handoff_depth > kMaxHandoffDepth) {
    return "handoff_depth must be a power of two in [" + std::to_string(kMinRingDepth) + ", " +
           std::to_string(kMaxHandoffDepth) + "], got " + std::to_string(handoff_depth);
  }
  *out = 0;
  if (shards < 2) return {};
  std::uint32_t split = 1;  // senders rounded up to a power of two
  while (split < shards - 1) split *= 2;
  *out = handoff_depth / split;
  if (*out < kMinRingDepth) {
    return "handoff_depth " + std::to_string(handoff_depth) + " is too small for " + std::to_string(shards) +
           " shards: each of the " + std::to_string(shards - 1) + " rings into a shard would get " +
           std::to_string(*out) + " frags, fewer than " + std::to_string(kMinRingDepth) + "; use at least " +
           std::to_string(std::uint64_t{kMinRingDepth} * split);
  }
  return {};
}

// The calling thread's CPU affinity mask, in increasing order.
std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> out;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return out;
  for (std::size_t c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) out.push_back(static_cast<int>(c));
  return out;
}

// "0-3,6" for error messages.
std::string cpu_list(const std::vector<int> &cpus) {
  std::string out;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

// The CPUs the shards are pinned to (EngineConfig::cpus resolved), or why the list is refused.
std::string resolve_cpus(const EngineConfig &cfg, std::vector<int> *out) {
  const std::vector<int> allowed = allowed_cpus();
  if (!cfg.pin) {
    if (!cfg.cpus.empty()) return "cpus given but pin is off";
    *out = allowed;
    return {};
  }
  if (cfg.cpus.empty()) {
    if (allowed.empty()) return "cannot read this process's CPU affinity mask";
    *out = allowed;
    return {};
  }
  for (std::size_t i = 0; i < cfg.cpus.size(); ++i) {
    const int c = cfg.cpus[i];
    if (!std::binary_search(allowed.begin(), allowed.end(), c)) {
      return "cpu " + std::to_string(c) + " is not in this process's CPU affinity mask (" +
             cpu_list(allowed) + ")";
    }
    if (std::find(cfg.cpus.begin(), cfg.cpus.begin() + static_cast<std::ptrdiff_t>(i), c) !=
        cfg.cpus.begin() + static_cast<std::ptrdiff_t>(i)) {
      return "cpu " + std::to_string(c) + " is listed twice in cpus";
    }
  }
  *out = cfg.cpus;
  return {};
}

// Port table value: 0 = free, else slot * 2 + leg + 1.
constexpr std::uint32_t port_entry(std::uint32_t slot, int leg) noexcept {
  return slot * 2 + static_cast<std::uint32_t>(leg) + 1;
}

}  // namespace

struct Slot {
  std::atomic<std::uint32_t> owner{kNoShard};
  std::atomic<std::uint64_t> id{0};
  std::atomic<bool> transcoding{false};
  std::uint16_t port[2] = {0, 0};  // control plane only (under Impl::control)
  LegCounters counters[2];

  void reset_counters() noexcept {
    for (LegCounters &c : counters) {
      for (std::atomic<std::uint64_t> *a :
           {&c.rx_packets, &c.rx_bytes, &c.tx_packets, &c.tx_bytes, &c.malformed,
            &c.foreign_source, &c.tx_dropped, &c.ssrc_changes, &c.late_losses, &c.concealed,
            &c.transcode_errors, &c.handoff_out, &c.handoff_in}) {
        a->store(0, std::memory_order_relaxed);
      }
    }
  }
};

/* Call slots, allocated lazily in chunks so that max_calls costs nothing until calls exist:
 * a chunk pointer per kSlotChunk slots (max_calls 2^24: 128 KiB of pointers), each chunk made by
 * the control thread under Impl::control before any port that leads to it is published, and
 * read lock-free by the shards (acquire). Chunks live until the engine is destroyed. */
class SlotTable {
 public:
  static constexpr std::uint32_t kChunk = 1024;

  explicit SlotTable(std::uint32_t max_slots)
      : chunks_(std::make_unique<std::atomic<Slot *>[]>((max_slots + kChunk - 1) / kChunk)),
        max_(max_slots) {}
  ~SlotTable() {
    for (std::uint32_t c = 0; c < (max_ + kChunk - 1) / kChunk; ++c) delete[] chunks_[c].load();
  }
  SlotTable(const SlotTable &) = delete;
  SlotTable &operator=(const SlotTable &) = delete;

  // Only for slots handed out by take() (their chunk exists).
  Slot &operator[](std::uint32_t slot) noexcept {
    return chunks_[slot / kChunk].load(std::memory_order_acquire)[slot % kChunk];
  }
  // Control thread (under Impl::control): a free slot, or false when all max_calls are in use.
  bool take(std::uint32_t *slot) {
    if (!free_.empty()) {
      *slot = free_.back();
      free_.pop_back();
      return true;
    }
    if (next_ == max_) return false;
    std::atomic<Slot *> &chunk = chunks_[next_ / kChunk];
    if (chunk.load(std::memory_order_relaxed) == nullptr) chunk.store(new Slot[kChunk], std::memory_order_release);
    *slot = next_++;
    return true;
  }
  // Control thread: a slot take() gave out may go back (a refused add, or a removed call).
  void give_back(std::uint32_t slot) { free_.push_back(slot); }

 private:
  std::unique_ptr<std::atomic<Slot *>[]> chunks_;
  const std::uint32_t max_;
  std::uint32_t next_ = 0;           // slots below it have been handed out at least once
  std::vector<std::uint32_t> free_;  // given back, reused first
};

class Shard;

struct Engine::Impl {
  // Declaration order is destruction order reversed: the shards (their threads, rings' ends and
  // call states) go first, then what they point into (channels, slots), then the backends'
  // keep-alive (the XDP program detaches after every XSK is gone).
  EngineConfig cfg;
  BackendSet backends;
  std::vector<std::unique_ptr<ring::Channel>> channels;  // [from * n + to], none for from == to
  std::unique_ptr<SlotTable> slots;
  std::array<std::atomic<std::uint32_t>, 65536> ports{};
  std::atomic<bool> running{true};
  std::vector<std::unique_ptr<Shard>> shards;

  // Control plane (add/remove/lookup), never touched by the shards' hot path.
  mutable std::mutex control;
  std::unordered_map<std::uint64_t, std::uint32_t> by_id;  // call id -> slot
  std::vector<std::uint32_t> calls_per_shard;
  std::mutex stop_mu;  // stop() from several threads joins each shard once
  bool stopped = false;  // guarded by stop_mu

  ring::Channel &channel(std::uint32_t from, std::uint32_t to) {
    return *channels[from * shards.size() + to];
  }
  std::uint32_t n() const noexcept { return static_cast<std::uint32_t>(shards.size()); }
  void stop() noexcept;
};

class Shard final : public Sender {
 public:
  Shard(Engine::Impl &eng, std::uint32_t index, std::unique_ptr<netio::PacketIo> io)
      : eng_(eng), index_(index), io_(std::move(io)) {
    rx_.resize(kBurst);
    tx_.resize(kBurst);
    tx_counters_.resize(kBurst);
    tx_arena_.resize(kBurst * kFragMtu);
    frag_.resize(kFragMtu);
  }

  // Rings exist once every shard does.
  void connect() {
    for (std::uint32_t j = 0; j < eng_.n(); ++j) {
      producers_.push_back(j == index_ ? nullptr
                                       : std::make_unique<ring::Producer>(eng_.channel(index_, j)));
      consumers_.push_back(j == index_ ? nullptr
                                       : std::make_unique<ring::Consumer>(eng_.channel(j, index_), 0));
    }
  }

  void start() { thread_ = std::thread([this] { run(); }); }
  // From the control thread, right after start(), so shard_stats() shows it from the outset.
  std::string pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<std::size_t>(cpu), &set);
    const int rc = pthread_setaffinity_np(thread_.native_handle(), sizeof(set), &set);
    if (rc != 0) {
      return "cannot pin shard " + std::to_string(index_) + " to cpu " + std::to_string(cpu) +
             ": " + std::strerror(rc);
    }
    cpu_.store(cpu, std::memory_order_relaxed);
    return {};
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

  /* Runs fn on this shard's thread and waits for it. */
  template <typename F>
  auto call(F fn) -> decltype(fn()) {
    using R = decltype(fn());
    std::packaged_task<R()> task(std::move(fn));
    std::future<R> result = task.get_future();
    {
      std::unique_lock<std::mutex> lock(cmd_mu_);
      if (stopped_) {  // the thread has exited: nothing else touches the shard now
        lock.unlock();
        task();
        return result.get();
      }
      cmds_.emplace_back([&task] { task(); });
      has_cmd_.store(true, std::memory_order_release);
    }
    return result.get();
  }

  // Commands (run on the shard thread).
  std::string add(std::uint32_t slot, const CallConfig &cfg) {
    std::string why;
    auto st = CallState::create(cfg, (*eng_.slots)[slot].counters, index_ * 0x9E3779B9u, &why);
    if (!st) return why;
    for (int leg = 0; leg < 2; ++leg) {
      if (std::string err = io_->open_port(cfg.legs[leg].local); !err.empty()) {
        if (leg == 1) io_->close_port(cfg.legs[0].local);
        return err;
      }
    }
    if (st->transcoding()) timed_.push_back(slot);
    // Grows with the highest slot in use (slots are handed out lowest first), not max_calls.
    if (slot >= states_.size()) states_.resize(std::size_t{slot} + 1);
    states_[slot] = std::move(st);
    next_timer_ = 0;
    return {};
  }
  void remove(std::uint32_t slot) {
    if (!state(slot)) return;
    for (int leg = 0; leg < 2; ++leg) io_->close_port(states_[slot]->config().legs[leg].local);
    states_[slot].reset();
    timed_.erase(std::remove(timed_.begin(), timed_.end(), slot), timed_.end());
  }

  ShardStats stats() const {
    auto r = [](const std::atomic<std::uint64_t> &a) { return a.load(std::memory_order_relaxed); };
    ShardStats s;
    s.shard = index_;
    s.cpu = cpu_.load(std::memory_order_relaxed);
    s.rx_packets = r(rx_packets_);
    s.rx_bytes = r(rx_bytes_);
    s.tx_packets = r(tx_packets_);
    s.tx_bytes = r(tx_bytes_);
    s.tx_dropped = r(tx_dropped_);
    s.unknown_port = r(unknown_port_);
    s.handoff_out = r(handoff_out_);
    s.handoff_in = r(handoff_in_);
    s.handoff_refused = r(handoff_refused_);
    s.ring_overruns = r(ring_overruns_);
    s.ring_lost = r(ring_lost_);
    s.loops = r(loops_);
    s.idle_waits = r(idle_waits_);
    std::lock_guard<std::mutex> lock(io_stats_mu_);
    s.io = io_stats_.io;
    s.kernel_rx_dropped = io_stats_.kernel_rx_dropped;
    s.kernel_rx_ring_full = io_stats_.kernel_rx_ring_full;
    s.kernel_fill_ring_empty = io_stats_.kernel_fill_ring_empty;
    return s;
  }

  // Sender: batch, counted at burst time.
  void send(LegCounters &leg, const netio::Endpoint &local, const netio::Endpoint &remote,
            std::span<const std::uint8_t> rtp) noexcept override {
    if (rtp.size() > kFragMtu) {
      bump(leg.tx_dropped);
      return;
    }
    if (tx_n_ == kBurst) flush_tx();
    std::uint8_t *buf = tx_arena_.data() + tx_n_ * kFragMtu;
    std::memcpy(buf, rtp.data(), rtp.size());
    tx_[tx_n_] = netio::TxPacket{buf, static_cast<std::uint32_t>(rtp.size()), local, remote};
    tx_counters_[tx_n_] = &leg;
    ++tx_n_;
  }

 private:
  void run() {
    const bool busy = eng_.cfg.busy_poll;
    std::uint64_t loops = 0;
    while (eng_.running.load(std::memory_order_acquire)) {
      if (has_cmd_.load(std::memory_order_acquire)) run_commands();
      std::size_t work = poll_backend();
      work += poll_rings();
      const std::int64_t now = now_us();
      if (now >= next_timer_) run_timers(now);
      flush_tx();
      io_->flush();
      if ((++loops & 0xFF) == 0) publish_io_stats(loops);
      if (work == 0 && !busy) {
        bump(idle_waits_);
        const std::int64_t until_timer = next_timer_ - now_us();
        const int wait = static_cast<int>(
            std::clamp<std::int64_t>(until_timer / 1000, 0, std::max(eng_.cfg.idle_wait_us / 1000, 1)));
        io_->wait(until_timer < 1000 ? 0 : wait);
        if (until_timer > 0 && until_timer < 1000) std::this_thread::yield();
      }
    }
    publish_io_stats(loops);
    std::vector<std::function<void()>> last;
    {
      std::lock_guard<std::mutex> lock(cmd_mu_);
      stopped_ = true;  // from now on call() runs commands inline
      last.swap(cmds_);
    }
    for (auto &c : last) c();  // nobody waits forever on a stopped shard
  }

  void publish_io_stats(std::uint64_t loops) {
    loops_.store(loops, std::memory_order_relaxed);
    ShardStats s;
    read_backend_stats(*io_, &s);
    std::lock_guard<std::mutex> lock(io_stats_mu_);
    io_stats_ = s;
  }

  void run_commands() {
    std::vector<std::function<void()>> cmds;
    {
      std::lock_guard<std::mutex> lock(cmd_mu_);
      cmds.swap(cmds_);
      has_cmd_.store(false, std::memory_order_relaxed);
    }
    for (auto &c : cmds) c();
  }

  std::size_t poll_backend() {
    const std::size_t n = io_->rx_burst(rx_.data(), kBurst);
    if (n == 0) return 0;
    const std::int64_t now = now_us();
    for (std::size_t i = 0; i < n; ++i) {
      const netio::RxPacket &p = rx_[i];
      bump(rx_packets_);
      bump(rx_bytes_, p.len);
      const std::uint32_t e = eng_.ports[p.local.port].load(std::memory_order_acquire);
      if (e == 0) {
        bump(unknown_port_);
        continue;
      }
      const std::uint32_t slot = (e - 1) / 2;
      const int leg = static_cast<int>((e - 1) % 2);
      const std::uint32_t owner = (*eng_.slots)[slot].owner.load(std::memory_order_acquire);
      if (owner == index_) {
        deliver(slot, leg, p, now);
      } else if (owner < eng_.n()) {
        hand_off(owner, slot, leg, p, now);
      } else {
        bump(unknown_port_);
      }
    }
    io_->rx_release(rx_.data(), n);
    return n;
  }

  void deliver(std::uint32_t slot, int leg, const netio::RxPacket &p, std::int64_t now) {
    CallState *st = state(slot);
    if (!st || st->config().legs[leg].local.port != p.local.port) {
      bump(unknown_port_);  // removed (or the slot was reused) while the packet was in flight
      return;
    }
    st->on_packet(leg, p, now, *this);
    if (st->transcoding()) next_timer_ = std::min(next_timer_, st->next_tick_us());
  }

  void hand_off(std::uint32_t owner, std::uint32_t slot, int leg, const netio::RxPacket &p,
                std::int64_t now) {
    if (p.len > kMaxHandoffPayload) {
      bump(handoff_refused_);
      return;
    }
    HandoffHeader h{};
    h.remote = p.remote;
    h.local = p.local;
    h.call_id = (*eng_.slots)[slot].id.load(std::memory_order_relaxed);
    h.arrival_us = now;
    h.slot = slot;
    h.len = p.len;
    h.queue = p.queue;
    h.leg = static_cast<std::uint8_t>(leg);
    std::memcpy(h.mac, p.remote_mac, sizeof h.mac);
    std::memcpy(frag_.data(), &h, sizeof h);
    std::memcpy(frag_.data() + sizeof h, p.data, p.len);
    // Several shards may hand off packets of one call: a read-modify-write, not bump().
    (*eng_.slots)[slot].counters[leg].handoff_out.fetch_add(1, std::memory_order_relaxed);
    producers_[owner]->publish({frag_.data(), sizeof h + p.len});
    bump(handoff_out_);
  }

  std::size_t poll_rings() {
    std::size_t work = 0;
    for (std::uint32_t j = 0; j < consumers_.size(); ++j) {
      ring::Consumer *c = consumers_[j].get();
      if (!c) continue;
      for (std::size_t k = 0; k < kBurst; ++k) {
        ring::Frag meta{};
        const ring::Poll r = c->poll(frag_, &meta);
        if (r == ring::Poll::kEmpty) break;
        if (r == ring::Poll::kOverrun) continue;  // counted by the consumer; resynced
        ++work;
        if (meta.sz < sizeof(HandoffHeader)) continue;
        HandoffHeader h;
        std::memcpy(&h, frag_.data(), sizeof h);
        if (h.len != meta.sz - sizeof h || h.slot >= eng_.cfg.max_calls || h.leg > 1) continue;
        bump(handoff_in_);
        CallState *st = state(h.slot);
        if (!st || st->config().id != h.call_id) {
          bump(unknown_port_);
          continue;
        }
        netio::RxPacket p;
        p.data = frag_.data() + sizeof h;
        p.len = h.len;
        p.remote = h.remote;
        p.local = h.local;
        p.queue = h.queue;
        std::memcpy(p.remote_mac, h.mac, sizeof h.mac);
        bump((*eng_.slots)[h.slot].counters[h.leg].handoff_in);
        deliver(h.slot, h.leg, p, h.arrival_us);
      }
      const ring::Consumer::Stats cs = c->stats();
      ring_overruns_sum_[j] = cs.overruns;
      ring_lost_sum_[j] = cs.lost;
    }
    std::uint64_t o = 0, l = 0;
    for (std::uint32_t j = 0; j < consumers_.size(); ++j) {
      o += ring_overruns_sum_[j];
      l += ring_lost_sum_[j];
    }
    ring_overruns_.store(o, std::memory_order_relaxed);
    ring_lost_.store(l, std::memory_order_relaxed);
    return work;
  }

  void run_timers(std::int64_t now) {
    std::int64_t next = CallState::kNever;
    for (std::uint32_t slot : timed_) {
      next = std::min(next, states_[slot]->on_timer(now, *this));
    }
    next_timer_ = next;
  }

  void flush_tx() noexcept {
    if (tx_n_ == 0) return;
    const std::size_t sent = io_->tx_burst(tx_.data(), tx_n_);
    for (std::size_t i = 0; i < tx_n_; ++i) {
      LegCounters &c = *tx_counters_[i];
      if (i < sent) {
        bump(c.tx_packets);
        bump(c.tx_bytes, tx_[i].len);
        bump(tx_packets_);
        bump(tx_bytes_, tx_[i].len);
      } else {
        bump(c.tx_dropped);
        bump(tx_dropped_);
      }
    }
    tx_n_ = 0;
  }

  CallState *state(std::uint32_t slot) const noexcept {
    return slot < states_.size() ? states_[slot].get() : nullptr;
  }

  Engine::Impl &eng_;
  const std::uint32_t index_;
  std::unique_ptr<netio::PacketIo> io_;
  std::thread thread_;
  std::vector<std::unique_ptr<CallState>> states_;  // by slot, grown on add; only this thread
  std::vector<std::uint32_t> timed_;                // slots of TRANSCODE calls
  std::int64_t next_timer_ = CallState::kNever;
  std::vector<std::unique_ptr<ring::Producer>> producers_;  // [to]
  std::vector<std::unique_ptr<ring::Consumer>> consumers_;  // [from]
  std::vector<std::uint64_t> ring_overruns_sum_ = std::vector<std::uint64_t>(64), ring_lost_sum_ =
                                                                              std::vector<std::uint64_t>(64);
  std::vector<netio::RxPacket> rx_;
  std::vector<netio::TxPacket> tx_;
  std::vector<LegCounters *> tx_counters_;
  std::vector<std::uint8_t> tx_arena_;
  std::size_t tx_n_ = 0;
  std::vector<std::uint8_t> frag_;

  std::mutex cmd_mu_;
  std::vector<std::function<void()>> cmds_;
  std::atomic<bool> has_cmd_{false};
  bool stopped_ = false;  // guarded by cmd_mu_

  std::atomic<int> cpu_{-1};
  std::atomic<std::uint64_t> rx_packets_{0}, rx_bytes_{0}, tx_packets_{0}, tx_bytes_{0},
      tx_dropped_{0}, unknown_port_{0}, handoff_out_{0}, handoff_in_{0}, handoff_refused_{0},
      ring_overruns_{0}, ring_lost_{0}, loops_{0}, idle_waits_{0};
  mutable std::mutex io_stats_mu_;  // the backend's stats are copied out every 256 loops
  ShardStats io_stats_{};  // only io and kernel_* are used
};

void Engine::Impl::stop() noexcept {
  std::lock_guard<std::mutex> lock(stop_mu);
  if (stopped) return;
  running.store(false, std::memory_order_release);
  for (auto &s : shards) s->join();
  stopped = true;
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() { stop(); }
void Engine::stop() noexcept {
  if (impl_) impl_->stop();
}

std::unique_ptr<Engine> Engine::start(const EngineConfig &config, std::string *why) {
  auto fail = [why](std::string m) -> std::unique_ptr<Engine> {
    if (why) *why = std::move(m);
    return nullptr;
  };
  if (config.port_lo == 0 || config.port_lo > config.port_hi) {
    return fail("bad port range " + std::to_string(config.port_lo) + ".." +
                std::to_string(config.port_hi));
  }
  if (config.max_calls == 0 || config.max_calls > (1u << 24)) return fail("max_calls must be 1..16777216");
  std::vector<int> cpus;
  if (std::string err = resolve_cpus(config, &cpus); !err.empty()) return fail(err);
  std::uint32_t shards = config.shards;
  if (shards == 0) shards = cpus.empty() ? 1 : static_cast<std::uint32_t>(std::min<std::size_t>(cpus.size(), 64));
  if (shards > 64) return fail("at most 64 shards");

  // Checked for the shards asked for (before any backend exists: refused at once); AF_XDP may
  // run fewer, which needs less.
  std::uint64_t ring_depth = 0;
  if (std::string err = handoff_ring_depth(config.handoff_depth, shards, &ring_depth); !err.empty()) return fail(err);
  const std::uint64_t rings = std::uint64_t{shards} * (shards - 1);
  const std::uint64_t need = rings * ring_bytes(ring_depth);
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0 && need > static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page)) {
    return fail("handoff_depth " + std::to_string(config.handoff_depth) + " with " + std::to_string(shards) +
                " shards needs " + mib(need) + " of hand-off rings, more than this machine's " +
                mib(static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page)) + " of RAM");
  }

  auto impl = std::make_unique<Impl>();
  impl->cfg = config;
  std::string err;
  if (!make_backends(config, shards, &impl->backends, &err)) return fail(err);
  const auto n = static_cast<std::uint32_t>(impl->backends.per_shard.size());

  ring::ChannelConfig rc;
  rc.mtu = kFragMtu;
  rc.consumers = 1;
  rc.flow_control = false;
  if (std::string derr = handoff_ring_depth(config.handoff_depth, n, &rc.depth); !derr.empty()) return fail(derr);
  try {
    for (std::uint32_t i = 0; i < n * n; ++i) {
      impl->channels.push_back(i / n == i % n ? nullptr : ring::Channel::create(rc));
    }
  } catch (const std::exception &e) {
    return fail(std::string("hand-off ring: ") + e.what());
  }
  impl->slots = std::make_unique<SlotTable>(config.max_calls);
  impl->calls_per_shard.assign(n, 0);
  for (std::uint32_t i = 0; i < n; ++i) {
    impl->shards.push_back(std::make_unique<Shard>(*impl, i, std::move(impl->backends.per_shard[i])));
  }
  for (auto &s : impl->shards) s->connect();
  for (auto &s : impl->shards) s->start();
  if (config.pin) {
    for (std::uint32_t i = 0; i < n; ++i) {
      if (std::string perr = impl->shards[i]->pin(cpus[i % cpus.size()]); !perr.empty()) {
        impl->stop();
        return fail(perr);
      }
    }
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Backend Engine::backend() const noexcept { return impl_->backends.kind; }
const char *Engine::backend_name() const noexcept { return to_string(impl_->backends.kind); }
const std::string &Engine::fallback_reason() const noexcept {
  return impl_->backends.fallback_reason;
}
std::string Engine::xdp_mode() const { return impl_->backends.xdp_mode; }
std::uint32_t Engine::shard_count() const noexcept { return impl_->n(); }

std::string Engine::add_call(const CallConfig &config) {
  Impl &e = *impl_;
  if (!e.running.load(std::memory_order_acquire)) return "engine stopped";
  if (std::string err = validate(config); !err.empty()) return err;
  for (const LegConfig &leg : config.legs) {
    if (leg.local.port < e.cfg.port_lo || leg.local.port > e.cfg.port_hi) {
      return "local port " + std::to_string(leg.local.port) + " is outside the RTP range " +
             std::to_string(e.cfg.port_lo) + ".." + std::to_string(e.cfg.port_hi);
    }
  }
  std::lock_guard<std::mutex> lock(e.control);
  if (e.by_id.count(config.id)) return "call " + std::to_string(config.id) + " already exists";
  for (const LegConfig &leg : config.legs) {
    if (e.ports[leg.local.port].load(std::memory_order_relaxed) != 0) {
      return "local port " + std::to_string(leg.local.port) + " is in use by another call";
    }
  }
  std::uint32_t slot = 0;
  if (!e.slots->take(&slot)) return "no free call slot (max_calls " + std::to_string(e.cfg.max_calls) + ")";
  const auto owner = static_cast<std::uint32_t>(
      std::min_element(e.calls_per_shard.begin(), e.calls_per_shard.end()) - e.calls_per_shard.begin());
  Slot &s = (*e.slots)[slot];
  s.reset_counters();
  s.id.store(config.id, std::memory_order_relaxed);
  s.transcoding.store(!legs_match(cc_audio_shape_normalize(config.legs[0].shape),
                                  cc_audio_shape_normalize(config.legs[1].shape)),
                      std::memory_order_relaxed);
  Shard &shard = *e.shards[owner];
  std::string err = shard.call([&shard, slot, &config] { return shard.add(slot, config); });
  if (!err.empty()) {
    e.slots->give_back(slot);
    return err;
  }
  ++e.calls_per_shard[owner];
  e.by_id[config.id] = slot;
  // Publish: owner first, then the ports (a shard that sees the port also sees the owner).
  s.owner.store(owner, std::memory_order_release);
  for (int leg = 0; leg < 2; ++leg) {
    s.port[leg] = config.legs[leg].local.port;
    e.ports[s.port[leg]].store(port_entry(slot, leg), std::memory_order_release);
  }
  return {};
}

namespace {
CallStats stats_of(const Slot &s, std::uint32_t shard) {
  CallStats c;
  c.id = s.id.load(std::memory_order_relaxed);
  c.shard = shard;
  c.transcoding = s.transcoding.load(std::memory_order_relaxed);
  for (int leg = 0; leg < 2; ++leg) c.legs[leg] = snapshot(s.counters[leg]);
  return c;
}
}  // namespace

bool Engine::remove_call(std::uint64_t id, CallStats *final) {
  Impl &e = *impl_;
  std::lock_guard<std::mutex> lock(e.control);
  auto it = e.by_id.find(id);
  if (it == e.by_id.end()) return false;
  const std::uint32_t slot = it->second;
  Slot &s = (*e.slots)[slot];
  const std::uint32_t owner = s.owner.load(std::memory_order_relaxed);
  // Unpublish the ports first so no shard hands off new packets, then drop the state on the
  // owner (a hand-off already in a ring finds no state, or another call id, and is dropped).
  for (std::uint16_t p : s.port) e.ports[p].store(0, std::memory_order_release);
  Shard &shard = *e.shards[owner];
  shard.call([&shard, slot] { shard.remove(slot); });
  if (final) *final = stats_of(s, owner);
  s.owner.store(kNoShard, std::memory_order_release);
  e.by_id.erase(it);
  e.slots->give_back(slot);
  --e.calls_per_shard[owner];
  return true;
}

bool Engine::call_stats(std::uint64_t id, CallStats *out) const {
  const Impl &e = *impl_;
  std::lock_guard<std::mutex> lock(e.control);
  auto it = e.by_id.find(id);
  if (it == e.by_id.end()) return false;
  const Slot &s = (*e.slots)[it->second];
  *out = stats_of(s, s.owner.load(std::memory_order_relaxed));
  return true;
}

std::vector<std::uint64_t> Engine::call_ids() const {
  std::lock_guard<std::mutex> lock(impl_->control);
  std::vector<std::uint64_t> ids;
  for (const auto &kv : impl_->by_id) ids.push_back(kv.first);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<ShardStats> Engine::shard_stats() const {
  std::vector<ShardStats> out;
  std::lock_guard<std::mutex> lock(impl_->control);
  for (std::uint32_t i = 0; i < impl_->n(); ++i) {
    ShardStats s = impl_->shards[i]->stats();
    s.calls = impl_->calls_per_shard[i];
    out.push_back(s);
  }
  return out;
}

}  // namespace clutchcall::relay
