// Ring throughput between two cores: one producer thread and one consumer thread (SPSC), each
// pinned to its own core (pthread_setaffinity_np: the first two CPUs this process may use),
// N frags of a fixed size (16, 64 and 172 bytes: RTP header + 160-byte G.711 20 ms payload),
// channel depth 1024, mtu 2048, with and without flow control; and SPMC (2 consumers) when the
// machine has a third core for it.
//
// Per run: wall time from the start gate until the last consumer has seen the last frag (or, with
// no flow control, drained), messages/s = frags delivered to consumer 0 / wall (without flow
// control an overrun consumer skips frags: those are not counted), and each thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID; on a shared machine the threads may be descheduled, so the CPU
// figures say how much work a message costs when the wall figure is noisy). The best of
// `--repeats` runs (highest msgs/s) is reported; every run is printed.
//
//   bench_ring [--frags N] [--repeats R] [--depth D] [--mtu M] [--size 16|64|172]
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "ring/ring.h"

namespace {

using clutchcall::ring::Channel;
using clutchcall::ring::ChannelConfig;
using clutchcall::ring::Consumer;
using clutchcall::ring::Frag;
using clutchcall::ring::Poll;
using clutchcall::ring::Producer;

struct Options {
  std::uint64_t frags = 10'000'000;
  int repeats = 5;
  std::uint64_t depth = 1024;
  std::uint32_t mtu = 2048;
  std::uint32_t size = 0;  // 0: 16, 64 and 172
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr, "bench_ring: %s\nusage: bench_ring [--frags N] [--repeats R] [--depth D] [--mtu M] [--size 16|64|172]\n", msg);
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + a).c_str());
    const unsigned long long v = std::strtoull(argv[++i], nullptr, 10);
    if (a == "--frags") {
      o.frags = v;
    } else if (a == "--repeats") {
      o.repeats = static_cast<int>(v);
    } else if (a == "--depth") {
      o.depth = v;
    } else if (a == "--size") {
      o.size = static_cast<std::uint32_t>(v);
    } else if (a == "--mtu") {
      o.mtu = static_cast<std::uint32_t>(v);
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  if (o.frags == 0 || o.repeats <= 0) usage("frags and repeats must be > 0");
  return o;
}

double now_s(clockid_t clk) {
  timespec ts{};
  clock_gettime(clk, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (std::size_t c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(static_cast<int>(c));
  }
  return cpus;
}

bool pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

struct Run {
  double wall = 0, prod_cpu = 0, cons_cpu = 0;  // seconds (cons_cpu: the busiest consumer)
  std::uint64_t delivered = 0, overruns = 0, lost = 0, refused = 0;  // consumer 0; producer refusals
};

Run run_once(const Options& o, std::uint32_t sz, bool fc, std::uint32_t consumers, const std::vector<int>& cpus) {
  ChannelConfig cfg;
  cfg.depth = o.depth;
  cfg.mtu = o.mtu;
  cfg.consumers = consumers;
  cfg.flow_control = fc;
  auto ch = Channel::create(cfg);
  const std::uint64_t n = o.frags;
  // Each flag on its own cache lines: the consumers read `done` on every empty poll, and it must
  // not share a line with anything the producer writes per frag.
  struct alignas(128) Flag {
    std::atomic<bool> v{false};
  };
  std::atomic<std::uint32_t> ready{0};
  Flag go, done;
  Run run;
  std::vector<double> cons_cpu(consumers, 0.0);
  std::vector<Consumer::Stats> cons_stats(consumers);
  double t_end_cons = 0;
  std::atomic<std::uint32_t> finished{0};

  std::vector<std::thread> threads;
  for (std::uint32_t i = 0; i < consumers; ++i) {
    threads.emplace_back([&, i] {
      pin(cpus[1 + i]);
      Consumer c(*ch, i);
      std::vector<std::uint8_t> dst(o.mtu);
      Frag meta{};
      std::uint64_t sum = 0;
      ready.fetch_add(1);
      while (!go.v.load(std::memory_order_acquire)) {
      }
      const double c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
      for (;;) {
        const Poll r = c.poll(dst, &meta);
        if (r == Poll::kFrag) {
          sum += dst[0];  // touch the payload
          if (meta.seq == n - 1) break;
        } else if (r == Poll::kEmpty) {
          // Drained once `done` (released after the last publish) is seen and a poll after it
          // is still empty.
          if (done.v.load(std::memory_order_acquire) && c.poll(dst, &meta) == Poll::kEmpty) break;
          clutchcall::ring::cpu_relax();
        }
      }
      cons_cpu[i] = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
      cons_stats[i] = c.stats();
      if (finished.fetch_add(1) + 1 == consumers) t_end_cons = now_s(CLOCK_MONOTONIC);
      if (sum == 0xFFFFFFFFFFFFull) std::puts("");  // keep `sum` alive
    });
  }
  pin(cpus[0]);
  Producer p(*ch);
  std::vector<std::uint8_t> payload(sz, 0x5A);
  const std::span<const std::uint8_t> data(payload);
  while (ready.load() < consumers) {
  }
  const double t0 = now_s(CLOCK_MONOTONIC);
  const double p0 = now_s(CLOCK_THREAD_CPUTIME_ID);
  go.v.store(true, std::memory_order_release);
  for (std::uint64_t s = 0; s < n;) {
    if (p.publish(data, s)) {
      ++s;
    } else {
      clutchcall::ring::cpu_relax();  // out of credits: let the consumer's fseq line be
    }
  }
  run.prod_cpu = now_s(CLOCK_THREAD_CPUTIME_ID) - p0;
  done.v.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  run.wall = t_end_cons - t0;
  for (std::uint32_t i = 0; i < consumers; ++i) run.cons_cpu = std::max(run.cons_cpu, cons_cpu[i]);
  run.delivered = cons_stats[0].frags;
  run.overruns = cons_stats[0].overruns;
  run.lost = cons_stats[0].lost;
  run.refused = p.stats().refused;
  // Unpin the main thread again for the next run's bookkeeping.
  cpu_set_t all;
  CPU_ZERO(&all);
  for (int c : cpus) CPU_SET(static_cast<std::size_t>(c), &all);
  pthread_setaffinity_np(pthread_self(), sizeof(all), &all);
  return run;
}

void bench(const Options& o, const char* name, std::uint32_t sz, bool fc, std::uint32_t consumers,
           const std::vector<int>& cpus) {
  std::vector<Run> runs;
  std::size_t best = 0;
  const auto rate = [](const Run& r) { return static_cast<double>(r.delivered) / r.wall; };
  for (int r = 0; r < o.repeats; ++r) {
    runs.push_back(run_once(o, sz, fc, consumers, cpus));
    if (rate(runs.back()) > rate(runs[best])) best = runs.size() - 1;
  }
  const double n = static_cast<double>(o.frags);
  const Run& b = runs[best];
  const double d = static_cast<double>(b.delivered);
  std::printf("%-22s %4u B  best %7.2f M msg/s  %6.2f ns/msg  | cpu/msg prod %5.2f ns cons %5.2f ns"
              " | delivered %.1f%% overruns %llu\n",
              name, sz, rate(b) * 1e-6, b.wall / d * 1e9, b.prod_cpu / n * 1e9, b.cons_cpu / d * 1e9,
              100.0 * d / n, static_cast<unsigned long long>(b.overruns));
  std::printf("%-22s %6s  runs (M msg/s delivered):", "", "");
  for (const Run& r : runs) std::printf(" %.2f", rate(r) * 1e-6);
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_args(argc, argv);
  const std::vector<int> cpus = allowed_cpus();
  std::printf("bench_ring: %llu frags per run, best of %d, depth %llu, mtu %u, CPUs allowed: %zu\n",
              static_cast<unsigned long long>(o.frags), o.repeats, static_cast<unsigned long long>(o.depth), o.mtu,
              cpus.size());
  if (cpus.size() < 2) {
    std::printf("skipped: needs two CPUs for the producer and the consumer\n");
    return 0;
  }
  std::printf("producer on CPU %d, consumer on CPU %d\n", cpus[0], cpus[1]);
  for (const std::uint32_t sz : {16u, 64u, 172u}) {
    if (o.size != 0 && sz != o.size) continue;
    bench(o, "spsc no-flow-control", sz, false, 1, cpus);
    bench(o, "spsc flow-control", sz, true, 1, cpus);
  }
  if (cpus.size() >= 3) {
    bench(o, "spmc(2) flow-control", 172, true, 2, cpus);
    bench(o, "spmc(2) no-flow-control", 172, false, 2, cpus);
  } else {
    std::printf("spmc(2): skipped, needs 3 CPUs (producer + 2 consumers, each spinning on its own core); "
                "this machine allows %zu\n",
                cpus.size());
  }
  return 0;
}
