// RTP parse + jitter buffer throughput on one core: 172-byte packets (12-byte header, 160-byte
// G.711 payload, 20 ms), packets per second for
//   parse          cc_rtp_parse alone;
//   parse+jitter   parse, jitter-buffer insert (payload copied into its slot), one tick
//                  (release of the oldest frame, read back by the caller);
//   reordered      the same with every third pair of packets swapped and 1% dropped, so the
//                  buffer slots packets out of order and reports losses.
// Figures are the best of R runs of thread CPU time (a busy shared machine does not skew them).
//
//   bench_rtp [--packets N] [--min-time SECONDS] [--repeats R] [--csv]
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "jitter/jitter.h"
#include "rtp/rtp.h"

namespace {

struct Options {
  std::size_t packets = 4096;  // distinct packets cycled through (sequence numbers keep going)
  double min_time = 0.2;
  int repeats = 5;
  bool csv = false;
};

[[noreturn]] void usage(const char *msg) {
  std::fprintf(stderr, "bench_rtp: %s\nusage: bench_rtp [--packets N] [--min-time S] [--repeats R] [--csv]\n", msg);
  std::exit(2);
}

Options parse_args(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char * {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "--packets") {
      const long v = std::strtol(value(), nullptr, 10);
      if (v < 16) usage("--packets must be at least 16");
      o.packets = static_cast<std::size_t>(v);
    } else if (a == "--min-time") {
      o.min_time = std::strtod(value(), nullptr);
      if (!(o.min_time > 0)) usage("--min-time must be positive");
    } else if (a == "--repeats") {
      o.repeats = static_cast<int>(std::strtol(value(), nullptr, 10));
      if (o.repeats <= 0) usage("--repeats must be a positive integer");
    } else if (a == "--csv") {
      o.csv = true;
    } else {
      usage(("unknown argument " + a).c_str());
    }
  }
  return o;
}

double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Best packets/s over `repeats` runs; `batch` processes `n` packets and returns a checksum.
template <typename F>
double measure(const Options &o, std::size_t n, F batch, std::uint64_t &sink) {
  sink += batch();  // warm-up
  double best = 0;
  for (int r = 0; r < o.repeats; ++r) {
    std::size_t done = 0;
    const double t0 = thread_seconds();
    double elapsed = 0;
    do {
      sink += batch();
      done += n;
      elapsed = thread_seconds() - t0;
    } while (elapsed < o.min_time);
    const double rate = static_cast<double>(done) / elapsed;
    if (rate > best) best = rate;
  }
  return best;
}

}  // namespace

int main(int argc, char **argv) {
  const Options o = parse_args(argc, argv);
  const std::size_t n = o.packets;
  constexpr std::size_t kLen = 172;

  // Wire packets; the sequence number is rewritten per batch so the stream never repeats.
  std::vector<std::uint8_t> wire(n * kLen);
  for (std::size_t i = 0; i < n; ++i) {
    cc_rtp_header h{};
    h.sequence = static_cast<std::uint16_t>(i);
    h.timestamp = static_cast<std::uint32_t>(160 * i);
    h.ssrc = 0x1234ABCD;
    std::uint8_t payload[160];
    for (std::size_t k = 0; k < 160; ++k) payload[k] = static_cast<std::uint8_t>(i + k);
    std::size_t written = 0;
    if (cc_rtp_build(&h, payload, 160, wire.data() + i * kLen, kLen, &written) != CC_RTP_OK ||
        written != kLen)
      usage("internal: packet build failed");
  }
  std::vector<std::size_t> order(n), reordered(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = reordered[i] = i;
  for (std::size_t i = 0; i + 1 < n; i += 6) std::swap(reordered[i], reordered[i + 1]);

  clutchcall::jitter::Config cfg = clutchcall::jitter::default_config();
  cfg.max_payload = 160;
  clutchcall::jitter::JitterBuffer jb(cfg);
  std::uint16_t seq_base = 0;
  std::int64_t now_us = 0;
  std::uint64_t sink = 0;

  auto parse_only = [&]() -> std::uint64_t {
    std::uint64_t acc = 0;
    for (std::size_t i = 0; i < n; ++i) {
      cc_rtp_packet p;
      if (cc_rtp_parse(wire.data() + i * kLen, kLen, &p) == CC_RTP_OK) acc += p.sequence + p.payload[7];
    }
    return acc;
  };
  auto pipeline = [&](const std::vector<std::size_t> &ord, bool drop) {
    return [&, drop]() -> std::uint64_t {
      std::uint64_t acc = 0;
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t i = ord[k];
        std::uint8_t *pkt = wire.data() + i * kLen;
        const std::uint16_t seq = static_cast<std::uint16_t>(seq_base + i);
        pkt[2] = static_cast<std::uint8_t>(seq >> 8);  // continue the stream across batches
        pkt[3] = static_cast<std::uint8_t>(seq);
        now_us += 20000;
        clutchcall::rtp::PacketView v;
        if (v.parse({pkt, kLen}) != clutchcall::rtp::Status::ok) continue;
        if (!(drop && k % 100 == 57)) jb.insert(v, now_us);
        const cc_jitter_frame f = jb.tick();
        if (f.kind == CC_JITTER_FRAME) acc += f.payload[f.payload_len - 1];
      }
      seq_base = static_cast<std::uint16_t>(seq_base + n);
      return acc;
    };
  };

  const double r_parse = measure(o, n, parse_only, sink);
  const double r_pipe = measure(o, n, pipeline(order, false), sink);
  const cc_jitter_stats s1 = jb.stats();
  const double r_reord = measure(o, n, pipeline(reordered, true), sink);
  const cc_jitter_stats s2 = jb.stats();
  if (s1.resets != 0 || s1.losses != 0 || s1.late_losses != 0) usage("internal: in-order run lost frames");

  if (o.csv) {
    std::printf("parse,%.0f\nparse+jitter,%.0f\nreordered,%.0f\n", r_parse, r_pipe, r_reord);
  } else {
    std::printf("RTP + jitter buffer, 172-byte packets (160-byte G.711 payload), one core,\n"
                "Mpackets/s of thread CPU time, best of %d x %.2f s (goal: parse+jitter >= 5)\n",
                o.repeats, o.min_time);
    std::printf("  %-14s %8.1f\n", "parse", r_parse / 1e6);
    std::printf("  %-14s %8.1f\n", "parse+jitter", r_pipe / 1e6);
    std::printf("  %-14s %8.1f   (pairs swapped, 1%% dropped: %llu losses, %llu resets)\n", "reordered",
                r_reord / 1e6, static_cast<unsigned long long>(s2.losses - s1.losses),
                static_cast<unsigned long long>(s2.resets));
  }
  return sink == 42 ? 1 : 0;  // keep the work observable
}
