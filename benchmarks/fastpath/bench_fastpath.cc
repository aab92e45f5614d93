// The RTP fast path on one veth pair (netns_topology.h), 172-byte RTP packets (12 + 160 G.711):
//   1. packets per second per core through each backend (AF_XDP, recvmmsg, io_uring), modes
//      `rx` (receive + release) and `relay` (receive, send each packet back out);
//   2. calls per core the relay Engine sustains without loss (FORWARD, G.711 u-law, 20 ms
//      packets: each leg receives 50 packets/s, so a call is 100 packets/s in and 100 out), per
//      backend.
// Generator (and sink) in namespace B pinned to CPU 0; the receiver / the engine's one shard
// pinned to CPU 1. Run as root. See benchmarks/README.md ("fastpath") for what each figure means.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "netio/packet_io.h"
#include "netio/udp_mmsg_io.h"
#include "netio/udp_uring_io.h"
#include "netns_topology.h"
#include "relay/engine.h"
#include "xdp/xdp_program.h"
#include "xdp/xsk_io.h"

namespace {

using namespace clutchcall;
using bench::NetnsTopology;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};
bool g_busy_poll = false;  // part 2: the engine's busy_poll (--busy-poll)
extern "C" void on_signal(int) { g_stop.store(true, std::memory_order_release); }
bool stopping() { return g_stop.load(std::memory_order_acquire); }

constexpr std::size_t kPkt = 172;
constexpr std::uint16_t kRxPortBase = 20000;  // part 1: 64 destination ports
constexpr std::uint16_t kGenPortBase = 40000; // part 1: 64 source ports
constexpr int kFlows = 64;
constexpr unsigned kBatch = 64;

double now_s() {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}
double thread_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
bool pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<unsigned>(cpu), &set);
  return ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set) == 0;
}
// Machine-wide softirq (and hardirq) CPU seconds so far, from the aggregate line of /proc/stat.
void irq_seconds(double *softirq, double *hardirq) {
  std::ifstream f("/proc/stat");
  std::string cpu;
  unsigned long long user = 0, nice = 0, sys = 0, idle = 0, iow = 0, irq = 0, sirq = 0;
  f >> cpu >> user >> nice >> sys >> idle >> iow >> irq >> sirq;
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  *softirq = static_cast<double>(sirq) / hz;
  *hardirq = static_cast<double>(irq) / hz;
}
// On-CPU seconds of one thread of this process (schedstat: nanoseconds).
double task_cpu_s(long tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/schedstat");
  unsigned long long ns = 0;
  f >> ns;
  return static_cast<double>(ns) * 1e-9;
}
std::set<long> task_ids() {
  std::set<long> out;
  const std::string cmd = "ls /proc/" + std::to_string(::getpid()) + "/task";
  FILE *p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[64];
  while (std::fgets(buf, sizeof buf, p)) out.insert(std::strtol(buf, nullptr, 10));
  ::pclose(p);
  return out;
}
// UDP InErrors (socket buffer full etc.) of the calling thread's namespace, or of the process's
// (the main thread's: the root namespace) with thread=false.
std::uint64_t udp_rcvbuf_errors(bool thread = true) {
  std::ifstream f(thread ? "/proc/thread-self/net/snmp" : "/proc/self/net/snmp");
  std::string line, hdr;
  while (std::getline(f, line)) {
    if (line.rfind("Udp:", 0) != 0) continue;
    if (hdr.empty()) {
      hdr = line;
      continue;
    }
    std::istringstream h(hdr), v(line);
    std::string name, val;
    while (h >> name && v >> val)
      if (name == "InErrors") return std::strtoull(val.c_str(), nullptr, 10);
  }
  return 0;
}

// Packets the kernel dropped on the way in: per-CPU backlog overflows (softnet_stat, column 2,
// all CPUs) and the veth's own rx_dropped (ring full, XDP drops), read in the root namespace.
std::uint64_t softnet_drops() {
  std::ifstream f("/proc/self/net/softnet_stat");
  std::string line;
  std::uint64_t sum = 0;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string processed, dropped;
    if (in >> processed >> dropped) sum += std::strtoull(dropped.c_str(), nullptr, 16);
  }
  return sum;
}
std::uint64_t link_rx_dropped(const std::string &ifname) {
  std::ifstream f("/sys/class/net/" + ifname + "/statistics/rx_dropped");
  std::uint64_t v = 0;
  f >> v;
  return v;
}

netio::Endpoint ep(const char *ip, std::uint16_t port) {
  netio::Endpoint e;
  netio::parse_endpoint(ip, port, &e);
  return e;
}
sockaddr_in sa(const char *ip, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}
int udp_socket(const char *ip, std::uint16_t port, int rcvbuf, int sndbuf) {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  ::setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  ::setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
  const sockaddr_in a = sa(ip, port);
  if (::bind(s, reinterpret_cast<const sockaddr *>(&a), sizeof a) != 0) {
    ::close(s);
    return -1;
  }
  return s;
}
void fill_rtp(std::uint8_t *p, std::uint32_t ssrc, std::uint16_t seq) {
  std::memset(p, 0xff, kPkt);  // u-law silence
  p[0] = 0x80;
  p[1] = 0;  // PCMU
  p[2] = static_cast<std::uint8_t>(seq >> 8);
  p[3] = static_cast<std::uint8_t>(seq);
  const std::uint32_t ts = static_cast<std::uint32_t>(seq) * 160u;
  for (int i = 0; i < 4; ++i) {
    p[4 + i] = static_cast<std::uint8_t>(ts >> (24 - 8 * i));
    p[8 + i] = static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
  }
}
std::uint32_t ssrc_of(const std::uint8_t *p) {
  return static_cast<std::uint32_t>(p[8]) << 24 | static_cast<std::uint32_t>(p[9]) << 16 |
         static_cast<std::uint32_t>(p[10]) << 8 | p[11];
}

// ---------------------------------------------------------------- part 1: packets per second

// Blasts 172-byte RTP from 64 sockets in B (ports 40000..40063) to 64 ports of A with sendmmsg
// batches of 64, until told to stop. The echoes of `relay` mode land in these sockets' small
// receive buffers and are dropped there.
struct Blaster {
  const NetnsTopology &net;
  std::atomic<bool> run{true};
  std::atomic<std::uint64_t> sent{0};
  std::string error;
  std::thread t;

  explicit Blaster(const NetnsTopology &n) : net(n) {
    t = std::thread([this] { body(); });
  }
  ~Blaster() {
    run.store(false, std::memory_order_release);
    t.join();
  }
  void body() {
    if (!net.enter_b()) {
      error = "setns B failed";
      return;
    }
    pin(0);
    std::vector<int> socks;
    for (int i = 0; i < kFlows; ++i) {
      const int s = udp_socket(net.peer_ip(), static_cast<std::uint16_t>(kGenPortBase + i),
                               64 << 10, 4 << 20);
      if (s < 0) {
        error = std::string("generator socket: ") + std::strerror(errno);
        for (int x : socks) ::close(x);
        return;
      }
      socks.push_back(s);
    }
    std::vector<std::uint8_t> data(kBatch * kPkt);
    std::vector<sockaddr_in> dst(kBatch);
    std::vector<iovec> iov(kBatch);
    std::vector<mmsghdr> msgs(kBatch);
    std::uint16_t seq = 0;
    std::uint64_t total = 0;
    while (run.load(std::memory_order_acquire) && !stopping()) {
      for (std::size_t i = 0; i < socks.size(); ++i) {
        for (unsigned k = 0; k < kBatch; ++k) {
          const auto port = static_cast<std::uint16_t>(kRxPortBase + (i + k) % kFlows);
          dst[k] = sa(net.host_ip(), port);
          fill_rtp(&data[k * kPkt], static_cast<std::uint32_t>(i), seq);
          iov[k] = {&data[k * kPkt], kPkt};
          msgs[k] = {};
          msgs[k].msg_hdr.msg_name = &dst[k];
          msgs[k].msg_hdr.msg_namelen = sizeof(sockaddr_in);
          msgs[k].msg_hdr.msg_iov = &iov[k];
          msgs[k].msg_hdr.msg_iovlen = 1;
        }
        const int r = ::sendmmsg(socks[i], msgs.data(), kBatch, MSG_DONTWAIT);
        if (r > 0) total += static_cast<std::uint64_t>(r);
        sent.store(total, std::memory_order_relaxed);
      }
      ++seq;
    }
    for (int x : socks) ::close(x);
  }
};

struct Sample {
  double pps = 0, thread_cpu = 0, softirq = 0, hardirq = 0, wall = 0;
  std::uint64_t rx = 0, tx = 0, gen = 0, polls = 0, empty = 0;
  double busy = 0;  // thread CPU time of the polls that returned packets (and their TX), s
  double per_busy() const { return busy > 0 ? static_cast<double>(rx) / busy : 0; }
  double per_busy_incl_softirq() const {
    return busy + softirq > 0 ? static_cast<double>(rx) / (busy + softirq) : 0;
  }
  double per_thread_cpu() const { return thread_cpu > 0 ? static_cast<double>(rx) / thread_cpu : 0; }
  double per_cpu_incl_softirq() const {
    const double c = thread_cpu + softirq;
    return c > 0 ? static_cast<double>(rx) / c : 0;
  }
};

struct PpsResult {
  std::string backend, mode, note, error;
  Sample median;
  std::vector<Sample> runs;
};

using IoMaker = std::function<std::unique_ptr<netio::PacketIo>(std::string *why)>;

// Receiver thread (in A, pinned to CPU 1): makes the backend, opens the 64 ports, then for each
// of `reps` windows of `secs` busy-polls rx_burst/rx_release (and tx_burst+flush in relay mode).
PpsResult measure_pps(const NetnsTopology &net, const std::string &backend, bool relay,
                      const IoMaker &make, double secs, int reps) {
  PpsResult res;
  res.backend = backend;
  res.mode = relay ? "relay" : "rx";
  std::thread rx([&] {
    pin(1);
    std::string why;
    auto io = make(&why);
    if (!io) {
      res.error = why;
      return;
    }
    for (int i = 0; i < kFlows; ++i) {
      const std::string e = io->open_port(ep(net.host_ip(), static_cast<std::uint16_t>(kRxPortBase + i)));
      if (!e.empty()) {
        res.error = "open_port: " + e;
        return;
      }
    }
    Blaster gen(net);
    netio::RxPacket pk[kBatch];
    netio::TxPacket tx[kBatch];
    std::uint64_t rx_n = 0, tx_n = 0, polls = 0, empty = 0;
    std::int64_t busy_ns = 0;
    // Thread CPU time, not wall time: a poll preempted half-way must not count the preemption.
    auto mono_ns = [] {
      timespec ts{};
      ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    };
    auto spin_for = [&](double s) {
      const double end = now_s() + s;
      std::uint32_t loops = 0;
      while (!stopping()) {
        const std::int64_t t_poll = mono_ns();
        const std::size_t n = io->rx_burst(pk, kBatch);
        if (relay && n > 0) {
          for (std::size_t i = 0; i < n; ++i)
            tx[i] = netio::TxPacket{pk[i].data, pk[i].len, pk[i].local, pk[i].remote};
          tx_n += io->tx_burst(tx, n);
        }
        if (relay) io->flush();
        io->rx_release(pk, n);
        rx_n += n;
        ++polls;
        if (n == 0)
          ++empty;
        else
          busy_ns += mono_ns() - t_poll;
        if ((++loops & 63) == 0 && now_s() >= end) break;
      }
    };
    spin_for(0.5);  // warm-up: rings, caches, socket buffers in steady state
    for (int r = 0; r < reps && !stopping(); ++r) {
      Sample s;
      double si0, hi0, si1, hi1;
      irq_seconds(&si0, &hi0);
      const std::uint64_t p0 = polls, e0 = empty;
      const std::int64_t b0 = busy_ns;
      const std::uint64_t rx0 = rx_n, tx0 = tx_n, g0 = gen.sent.load(std::memory_order_relaxed);
      const double c0 = thread_cpu_s(), w0 = now_s();
      spin_for(secs);
      s.wall = now_s() - w0;
      s.thread_cpu = thread_cpu_s() - c0;
      irq_seconds(&si1, &hi1);
      s.softirq = si1 - si0;
      s.hardirq = hi1 - hi0;
      s.rx = rx_n - rx0;
      s.polls = polls - p0;
      s.empty = empty - e0;
      s.busy = static_cast<double>(busy_ns - b0) * 1e-9;
      s.tx = tx_n - tx0;
      s.gen = gen.sent.load(std::memory_order_relaxed) - g0;
      s.pps = static_cast<double>(s.rx) / s.wall;
      res.runs.push_back(s);
    }
    if (!gen.error.empty()) res.error = gen.error;
    const netio::IoStats st = io->stats();
    res.note = "backend rx_dropped " + std::to_string(st.rx_dropped);
    if (auto *x = dynamic_cast<xdp::XskIo *>(io.get())) {
      const xdp::XskStats xs = x->xsk_stats();
      res.note += ", XSK kernel: rx_dropped " + std::to_string(xs.kernel_rx_dropped) +
                  " rx_ring_full " + std::to_string(xs.kernel_rx_ring_full) +
                  " fill_ring_empty " + std::to_string(xs.kernel_rx_fill_ring_empty);
    }
  });
  rx.join();
  if (!res.runs.empty()) {
    std::vector<Sample> v = res.runs;
    std::sort(v.begin(), v.end(), [](const Sample &a, const Sample &b) { return a.pps < b.pps; });
    res.median = v[v.size() / 2];
  }
  return res;
}

// ---------------------------------------------------------------- part 2: calls per core

struct CallsResult {
  std::uint32_t calls = 0;
  std::uint64_t sent = 0, target = 0, engine_rx = 0, engine_tx = 0, sink = 0;
  std::uint64_t lost = 0, calls_with_loss = 0, sink_rcvbuf_drops = 0, host_udp_drops = 0,
                softnet = 0, veth_rx_dropped = 0;
  double gen_rate = 0, target_rate = 0, max_lag_ms = 0, shard_util = -1;
  bool gen_kept_up = true;
  std::string error;
};

// Generator + sink in B for N calls: one socket (port 50000) sends to both legs of every call
// (the legs latch it as their peer, symmetric RTP) and receives what the relay forwards.
// SSRC = 2*call + leg, so the sink can count per call and direction.
CallsResult run_calls(const NetnsTopology &net, relay::Backend backend, std::uint32_t n_calls,
                      double secs, std::string *xdp_mode) {
  CallsResult res;
  res.calls = n_calls;
  relay::EngineConfig cfg;
  cfg.ifname = net.host_if();
  cfg.port_lo = 10000;
  cfg.port_hi = 60000;
  cfg.shards = 1;
  cfg.backend = backend;
  cfg.busy_poll = g_busy_poll;
  cfg.pin = false;  // the engine would pin shard 0 to CPU 0; we move it to CPU 1 below
  cfg.max_calls = std::max<std::uint32_t>(16384, n_calls + 1);
  const std::set<long> before = task_ids();
  std::string why;
  // The previous step's XSK may still hold the queue: Engine::start waits out that EBUSY.
  auto engine = relay::Engine::start(cfg, &why);
  if (!engine) {
    res.error = "engine: " + why;
    return res;
  }
  *xdp_mode = engine->xdp_mode();
  long shard_tid = -1;
  for (long t : task_ids())
    if (!before.count(t)) shard_tid = t;  // one shard: the engine's only new thread
  if (shard_tid > 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(1, &set);
    ::sched_setaffinity(static_cast<pid_t>(shard_tid), sizeof set, &set);
  }
  for (std::uint32_t c = 0; c < n_calls; ++c) {
    relay::CallConfig cc;
    cc.id = c + 1;
    for (int l = 0; l < 2; ++l) {
      cc.legs[l].local = ep(net.host_ip(), static_cast<std::uint16_t>(10000 + 2 * c + static_cast<std::uint32_t>(l)));
      cc.legs[l].remote = ep(net.peer_ip(), 0);  // latch
    }
    const std::string e = engine->add_call(cc);
    if (!e.empty()) {
      res.error = "add_call " + std::to_string(c) + ": " + e;
      return res;
    }
  }

  const std::size_t legs = 2u * n_calls;
  std::vector<std::uint64_t> sink_count(legs, 0), sent_count(legs, 0);
  std::atomic<bool> sink_run{true};
  std::atomic<int> ready{0};
  int sock = -1;
  std::string gen_err;
  std::uint64_t rcvbuf0 = 0, rcvbuf1 = 0, host0 = 0, host1 = 0, sn0 = 0, sn1 = 0, vd0 = 0, vd1 = 0;
  // Engine counters over the measured window.
  auto engine_totals = [&](std::uint64_t *rx, std::uint64_t *tx) {
    *rx = *tx = 0;
    for (std::uint32_t c = 0; c < n_calls; ++c) {
      relay::CallStats st;
      if (!engine->call_stats(c + 1, &st)) continue;
      for (const auto &l : st.legs) {
        *rx += l.rx_packets;
        *tx += l.tx_packets;
      }
    }
  };

  std::thread sink([&] {
    if (!net.enter_b()) return;
    pin(0);
    while (ready.load(std::memory_order_acquire) == 0) std::this_thread::yield();
    if (sock < 0) return;
    std::vector<std::uint8_t> buf(kBatch * 256);
    std::vector<iovec> iov(kBatch);
    std::vector<mmsghdr> msgs(kBatch);
    for (unsigned k = 0; k < kBatch; ++k) {
      iov[k] = {&buf[k * 256], 256};
      msgs[k] = {};
      msgs[k].msg_hdr.msg_iov = &iov[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
    }
    while (sink_run.load(std::memory_order_acquire)) {
      // recvmmsg's own timeout is only checked after a datagram arrives: poll bounds the wait.
      pollfd pf{sock, POLLIN, 0};
      if (::poll(&pf, 1, 2) <= 0) continue;
      const int r = ::recvmmsg(sock, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
      for (int k = 0; k < r; ++k) {
        const std::uint32_t s = ssrc_of(&buf[static_cast<std::size_t>(k) * 256]);
        if (s < legs) ++sink_count[s];
      }
    }
  });

  std::vector<std::uint64_t> sink_base;
  std::uint64_t erx0 = 0, etx0 = 0, erx1 = 0, etx1 = 0;
  double cpu0 = 0, cpu1 = 0, cw0 = 0, cw1 = 0;
  std::thread gen([&] {
    if (!net.enter_b()) {
      gen_err = "setns B";
      ready.store(1, std::memory_order_release);
      return;
    }
    pin(0);
    sock = udp_socket(net.peer_ip(), 50000, 64 << 20, 8 << 20);
    ready.store(1, std::memory_order_release);
    if (sock < 0) {
      gen_err = std::string("socket: ") + std::strerror(errno);
      return;
    }
    std::vector<std::uint8_t> data(kBatch * kPkt);
    std::vector<sockaddr_in> dst(kBatch);
    std::vector<iovec> iov(kBatch);
    std::vector<mmsghdr> msgs(kBatch);
    // Sends packets [from, to) of the global schedule: packet j is leg j % legs, seq j / legs.
    auto send_range = [&](std::uint64_t from, std::uint64_t to, bool count) {
      while (from < to) {
        const unsigned b = static_cast<unsigned>(std::min<std::uint64_t>(kBatch, to - from));
        for (unsigned k = 0; k < b; ++k) {
          const std::uint64_t j = from + k;
          const std::uint32_t leg = static_cast<std::uint32_t>(j % legs);
          dst[k] = sa(net.host_ip(), static_cast<std::uint16_t>(10000 + leg));
          fill_rtp(&data[k * kPkt], leg, static_cast<std::uint16_t>(j / legs));
          iov[k] = {&data[k * kPkt], kPkt};
          msgs[k] = {};
          msgs[k].msg_hdr.msg_name = &dst[k];
          msgs[k].msg_hdr.msg_namelen = sizeof(sockaddr_in);
          msgs[k].msg_hdr.msg_iov = &iov[k];
          msgs[k].msg_hdr.msg_iovlen = 1;
        }
        int r = ::sendmmsg(sock, msgs.data(), b, 0);
        if (r <= 0) {
          if (stopping()) return from;
          std::this_thread::yield();
          continue;
        }
        if (count)
          for (int k = 0; k < r; ++k) ++sent_count[(from + static_cast<std::uint64_t>(k)) % legs];
        from += static_cast<std::uint64_t>(r);
      }
      return from;
    };
    // Warm-up: one packet per leg latches every peer; the first packet of a call may find the
    // other leg not latched yet and is dropped by design, so nothing before the window counts.
    for (std::uint64_t j = 0; j < legs && !stopping(); j += 512) {
      send_range(j, std::min<std::uint64_t>(legs, j + 512), false);
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sink_base = sink_count;  // the sink is idle by now (racy only if the relay were still busy)
    rcvbuf0 = udp_rcvbuf_errors();
    host0 = udp_rcvbuf_errors(false);
    sn0 = softnet_drops();
    vd0 = link_rx_dropped(net.host_if());
    engine_totals(&erx0, &etx0);
    if (shard_tid > 0) cpu0 = task_cpu_s(shard_tid);
    cw0 = now_s();
    // The window: every leg one packet per 20 ms, spread evenly.
    const double interval = 0.020 / static_cast<double>(legs);
    const std::uint64_t total = static_cast<std::uint64_t>(secs / 0.020) * legs;
    res.target = total;
    const double t0 = now_s() + 0.001;
    std::uint64_t next = legs;  // seq 1 onwards (seq 0 was the warm-up)
    std::uint64_t done = 0;
    double max_lag = 0, last_send = t0;
    while (done < total && !stopping()) {
      const double t = now_s();
      if (t < t0) continue;
      const std::uint64_t due = std::min<std::uint64_t>(total, static_cast<std::uint64_t>((t - t0) / interval) + 1);
      if (due <= done) {
        const double wait = t0 + static_cast<double>(done) * interval - t;
        if (wait > 200e-6) std::this_thread::sleep_for(std::chrono::duration<double>(wait - 100e-6));
        continue;
      }
      max_lag = std::max(max_lag, t - (t0 + static_cast<double>(done) * interval));
      const std::uint64_t upto = std::min(due, done + kBatch);
      send_range(next + done, next + upto, true);
      done = upto;
      last_send = now_s();
    }
    res.sent = done;
    res.max_lag_ms = max_lag * 1e3;
    res.target_rate = static_cast<double>(total) / secs;
    res.gen_rate = static_cast<double>(done) / std::max(1e-9, last_send - t0);
    // Kept up: never more than one 20 ms period behind schedule, and all of it sent.
    res.gen_kept_up = done == total && max_lag < 0.020;
    if (shard_tid > 0) cpu1 = task_cpu_s(shard_tid);
    cw1 = now_s();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // drain
    rcvbuf1 = udp_rcvbuf_errors();
    host1 = udp_rcvbuf_errors(false);
    sn1 = softnet_drops();
    vd1 = link_rx_dropped(net.host_if());
  });
  gen.join();
  sink_run.store(false, std::memory_order_release);
  sink.join();
  if (sock >= 0) ::close(sock);
  if (!gen_err.empty()) {
    res.error = gen_err;
    return res;
  }
  engine_totals(&erx1, &etx1);
  res.engine_rx = erx1 - erx0;
  res.engine_tx = etx1 - etx0;
  res.sink_rcvbuf_drops = rcvbuf1 - rcvbuf0;
  res.host_udp_drops = host1 - host0;
  res.softnet = sn1 - sn0;
  res.veth_rx_dropped = vd1 - vd0;
  if (shard_tid > 0 && cw1 > cw0) res.shard_util = (cpu1 - cpu0) / (cw1 - cw0);
  // A packet sent on leg l of call c comes back on the other leg with the same SSRC.
  for (std::uint32_t c = 0; c < n_calls; ++c) {
    bool loss = false;
    for (std::uint32_t l = 0; l < 2; ++l) {
      const std::size_t s = 2u * c + l;
      const std::uint64_t got = sink_count[s] - (sink_base.empty() ? 0 : sink_base[s]);
      res.sink += got;
      if (got < sent_count[s]) {
        res.lost += sent_count[s] - got;
        loss = true;
      }
    }
    if (loss) ++res.calls_with_loss;
  }
  engine.reset();
  return res;
}

void print_pps(const std::vector<PpsResult> &all) {
  std::vector<std::string> notes;
  std::printf("\n%-9s %-6s %10s %10s %8s %8s %8s %12s %14s %12s %14s %7s\n", "backend", "mode",
              "rx pkt/s", "gen pkt/s", "thr CPU", "busy s", "sirq s", "pkt/thr-CPU",
              "pkt/(thr+sirq)", "pkt/busy-s", "pkt/(busy+sirq)", "empty%");
  for (const auto &r : all) {
    if (!r.error.empty()) {
      std::printf("%-9s %-6s  unavailable: %s\n", r.backend.c_str(), r.mode.c_str(), r.error.c_str());
      continue;
    }
    const Sample &s = r.median;
    notes.push_back(r.backend + " " + r.mode + ": " + r.note + " (whole run incl. warm-up)");
    std::printf("%-9s %-6s %10.0f %10.0f %8.2f %8.2f %8.2f %12.0f %14.0f %12.0f %14.0f %6.1f%%\n",
                r.backend.c_str(), r.mode.c_str(), s.pps, static_cast<double>(s.gen) / s.wall,
                s.thread_cpu, s.busy, s.softirq, s.per_thread_cpu(), s.per_cpu_incl_softirq(),
                s.per_busy(), s.per_busy_incl_softirq(),
                s.polls ? 100.0 * static_cast<double>(s.empty) / static_cast<double>(s.polls) : 0.0);
    if (r.mode == "relay")
      notes.push_back(r.backend + " relay: tx " + std::to_string(static_cast<long long>(static_cast<double>(s.tx) / s.wall)) + " pkt/s");
  }
  std::printf("(median of the runs by rx pkt/s; CPU figures are for one %.0f s window)\n",
              all.empty() || all[0].runs.empty() ? 0.0 : all[0].median.wall);
  for (const auto &n : notes) std::printf("  %s\n", n.c_str());
  for (const char *mode : {"rx", "relay"}) {
    const PpsResult *x = nullptr, *m = nullptr, *u = nullptr;
    for (const auto &r : all) {
      if (r.mode != mode || !r.error.empty()) continue;
      if (r.backend == "af_xdp") x = &r;
      if (r.backend == "recvmmsg") m = &r;
      if (r.backend == "io_uring") u = &r;
    }
    if (!x) continue;
    auto ratio = [](const PpsResult *a, const PpsResult *b, double (*f)(const Sample &)) {
      return b && f(b->median) > 0 ? f(a->median) / f(b->median) : 0.0;
    };
    double (*f_pps)(const Sample &) = [](const Sample &s) { return s.pps; };
    double (*f_thr)(const Sample &) = [](const Sample &s) { return s.per_thread_cpu(); };
    double (*f_all)(const Sample &) = [](const Sample &s) { return s.per_cpu_incl_softirq(); };
    double (*f_busy)(const Sample &) = [](const Sample &s) { return s.per_busy(); };
    double (*f_busy_all)(const Sample &) = [](const Sample &s) { return s.per_busy_incl_softirq(); };
    for (const auto &[label, other] : {std::pair{"recvmmsg", m}, std::pair{"io_uring", u}})
      std::printf("%-5s AF_XDP/%s: pkt/s %.2fx | pkt/thr-CPU %.2fx | pkt/(thr+sirq) %.2fx | "
                  "pkt/busy-s %.2fx | pkt/(busy+sirq) %.2fx\n",
                  mode, label, ratio(x, other, f_pps), ratio(x, other, f_thr),
                  ratio(x, other, f_all), ratio(x, other, f_busy), ratio(x, other, f_busy_all));
  }
}

void usage() {
  std::fprintf(stderr,
               "usage: bench_fastpath [--secs S] [--reps R] [--call-secs S] [--max-calls N]\n"
               "                      [--skip-pps] [--skip-calls] [--busy-poll] [--backends af_xdp,io_uring,recvmmsg]\n");
}

}  // namespace

int main(int argc, char **argv) {
  double secs = 3, call_secs = 5;
  int reps = 3;
  std::uint32_t max_calls = 16000;
  bool do_pps = true, do_calls = true;
  std::string backends = "af_xdp,io_uring,recvmmsg";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char * { return i + 1 < argc ? argv[++i] : "0"; };
    if (a == "--secs") secs = std::atof(next());
    else if (a == "--reps") reps = std::atoi(next());
    else if (a == "--call-secs") call_secs = std::atof(next());
    else if (a == "--max-calls") max_calls = static_cast<std::uint32_t>(std::atol(next()));
    else if (a == "--skip-pps") do_pps = false;
    else if (a == "--busy-poll") g_busy_poll = true;
    else if (a == "--skip-calls") do_calls = false;
    else if (a == "--backends") backends = next();
    else {
      usage();
      return 2;
    }
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "bench_fastpath: needs root (veth, network namespaces, XDP)\n");
    return 2;
  }
  struct sigaction sa_int {};
  sa_int.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa_int, nullptr);
  ::sigaction(SIGTERM, &sa_int, nullptr);
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &nofile);

  NetnsTopology net;
  const std::string bad = net.create();
  if (!bad.empty()) {
    std::fprintf(stderr, "bench_fastpath: topology setup failed: %s\n", bad.c_str());
    return 1;
  }
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  double l1 = 0, l5 = 0, l15 = 0;
  {
    std::ifstream la("/proc/loadavg");
    la >> l1 >> l5 >> l15;
  }
  std::printf("bench_fastpath: veth %s <-> %s (1 RX queue), %zu-byte RTP, %ld CPUs, "
              "loadavg before: %.2f %.2f %.2f\n",
              net.host_if().c_str(), net.peer_if().c_str(), kPkt, cpus, l1, l5, l15);
  std::printf("generator (and sink) pinned to CPU 0 in netns B; receiver / shard pinned to CPU 1 in the root netns\n");
  auto want = [&](const char *b) { return backends.find(b) != std::string::npos; };

  if (do_pps) {
    std::printf("\n== 1. packets per second per core: %d flows, sendmmsg x%u, %d x %.1f s per "
                "figure (median), receiver busy-polls ==\n",
                kFlows, kBatch, reps, secs);
    std::vector<PpsResult> all;
    for (bool relay_mode : {false, true}) {
      if (want("af_xdp")) {
        std::string why;
        auto prog = xdp::XdpProgram::attach(net.host_if(), {kRxPortBase, static_cast<std::uint16_t>(kRxPortBase + kFlows - 1), true}, &why);
        if (!prog) {
          PpsResult r;
          r.backend = "af_xdp";
          r.mode = relay_mode ? "relay" : "rx";
          r.error = "XDP attach: " + why;
          all.push_back(r);
        } else {
          std::string bind = "?";
          auto r = measure_pps(net, "af_xdp", relay_mode,
                               [&](std::string *w) -> std::unique_ptr<netio::PacketIo> {
                                 xdp::XskConfig c;
                                 c.ifname = net.host_if();
                                 c.queue_id = 0;
                                 auto io = xdp::XskIo::create(c, *prog, w);
                                 if (io) bind = xdp::XskIo::bind_mode_name(io->bind_mode());
                                 return io;
                               },
                               secs, reps);
          if (!relay_mode)
            std::printf("AF_XDP: XDP mode %s (%s), XSK bind mode %s\n",
                        xdp::XdpProgram::mode_name(prog->mode()),
                        prog->multiprog() ? "libxdp dispatcher" : "direct attach", bind.c_str());
          const auto cs = prog->stats();
          std::printf("  af_xdp %-5s classifier: redirected %llu, passed (no XSK) %llu\n",
                      relay_mode ? "relay" : "rx",
                      static_cast<unsigned long long>(cs.rtp_redirected),
                      static_cast<unsigned long long>(cs.rtp_no_socket_passed));
          all.push_back(r);
        }
      }
      const std::pair<const char *, IoMaker> socket_backends[] = {
          {"recvmmsg", [](std::string *w) -> std::unique_ptr<netio::PacketIo> {
             return netio::UdpMmsgIo::create(netio::MmsgConfig{}, w);
           }},
          {"io_uring", [](std::string *w) -> std::unique_ptr<netio::PacketIo> {
             return netio::UdpUringIo::create(netio::UringConfig{}, w);
           }}};
      for (const auto &[name, make] : socket_backends) {
        if (stopping()) break;
        if (want(name)) all.push_back(measure_pps(net, name, relay_mode, make, secs, reps));
      }
      if (stopping()) break;
    }
    print_pps(all);
    std::fflush(stdout);
  }

  if (do_calls && !stopping()) {
    std::printf("\n== 2. calls per core: relay Engine, 1 shard on CPU 1, busy_poll %s, FORWARD "
                "G.711 u-law, 50 pkt/s per leg each way (100 pkt/s per call in), %.1f s per step ==\n",
                g_busy_poll ? "ON" : "OFF", call_secs);
    std::printf("%-9s %6s %10s %10s %10s %10s %10s %8s %7s %9s %9s %8s %s\n", "backend", "calls",
                "target/s", "gen/s", "sent", "engine rx", "engine tx", "returned", "lost",
                "lossy", "lag ms", "shard%", "verdict");
    struct Best {
      std::string backend, mode, stop;
      std::uint32_t calls = 0;
      double util = -1;
    };
    std::vector<Best> best;
    for (const auto &[name, kind] : {std::pair{"af_xdp", relay::Backend::af_xdp},
                                     std::pair{"io_uring", relay::Backend::io_uring},
                                     std::pair{"recvmmsg", relay::Backend::recvmmsg}}) {
      if (!want(name)) continue;
      Best b;
      b.backend = name;
      b.stop = "reached --max-calls";
      // A step with loss is run once more (printed too): on a shared machine one preemption of
      // the shard can overflow a queue; a step counts as sustained only if a run was clean.
      bool retried = false;
      const std::uint32_t steps[] = {250u, 500u, 1000u, 2000u, 4000u, 8000u, 12000u, 16000u};
      for (std::size_t si = 0; si < std::size(steps); ++si) {
        const std::uint32_t n = steps[si];
        if (n > max_calls || stopping()) break;
        std::string mode;
        const CallsResult r = run_calls(net, kind, n, call_secs, &mode);
        if (stopping()) break;  // an interrupted step says nothing
        if (!mode.empty()) b.mode = mode;
        if (!r.error.empty()) {
          std::printf("%-9s %6u  error: %s\n", name, n, r.error.c_str());
          b.stop = "error at " + std::to_string(n) + ": " + r.error;
          break;
        }
        const bool ok = r.lost == 0 && r.sent == r.target;
        const char *verdict = !r.gen_kept_up ? "GENERATOR BEHIND" : ok ? "no loss" : "LOSS";
        std::printf("%-9s %6u %10.0f %10.0f %10llu %10llu %10llu %8llu %7llu %9llu %9.2f %7.1f%% %s",
                    name, n, r.target_rate, r.gen_rate, static_cast<unsigned long long>(r.sent),
                    static_cast<unsigned long long>(r.engine_rx),
                    static_cast<unsigned long long>(r.engine_tx),
                    static_cast<unsigned long long>(r.sink), static_cast<unsigned long long>(r.lost),
                    static_cast<unsigned long long>(r.calls_with_loss), r.max_lag_ms,
                    r.shard_util * 100, verdict);
        if (r.softnet) std::printf(" (softnet backlog drops %llu)", static_cast<unsigned long long>(r.softnet));
        if (r.veth_rx_dropped) std::printf(" (veth rx_dropped %llu)", static_cast<unsigned long long>(r.veth_rx_dropped));
        if (r.host_udp_drops) std::printf(" (engine-side UDP InErrors %llu)", static_cast<unsigned long long>(r.host_udp_drops));
        if (r.sink_rcvbuf_drops) std::printf(" (sink-side UDP InErrors %llu)", static_cast<unsigned long long>(r.sink_rcvbuf_drops));
        std::printf("\n");
        std::fflush(stdout);
        if (ok && r.gen_kept_up) {
          b.calls = n;
          b.util = r.shard_util;
          retried = false;
          continue;
        }
        if (!ok && r.gen_kept_up && !retried) {
          retried = true;
          --si;  // same N again
          continue;
        }
        if (ok && !r.gen_kept_up) {
          b.stop = "generator could not keep up at " + std::to_string(n) + " calls (no loss seen)";
          break;
        }
        b.stop = !r.gen_kept_up ? "loss at " + std::to_string(n) + " calls, generator also behind"
                                : "loss at " + std::to_string(n) + " calls, twice";
        break;
      }
      best.push_back(b);
    }
    std::printf("\nlargest N with zero loss (1 shard, busy_poll %s):\n", g_busy_poll ? "on" : "off");
    for (const auto &b : best) {
      char util[32] = "-";
      if (b.util >= 0) std::snprintf(util, sizeof util, "%.0f%%", b.util * 100);
      std::printf("  %-9s %6u calls (shard CPU %s at that N)  [%s]%s%s\n", b.backend.c_str(),
                  b.calls, util, b.stop.c_str(), b.mode.empty() ? "" : "  XDP: ", b.mode.c_str());
    }
  }
  double e1 = 0, e5 = 0, e15 = 0;
  {
    std::ifstream la("/proc/loadavg");
    la >> e1 >> e5 >> e15;
  }
  std::printf("\nloadavg after: %.2f %.2f %.2f%s\n", e1, e5, e15,
              stopping() ? "  (interrupted)" : "");
  return stopping() ? 130 : 0;
}
