// G.711 throughput per SIMD path: Msamples/s for µ-law/A-law encode and decode and the A<->µ
// conversions, on a buffer small enough to stay in L1/L2 (the codec is used per 20 ms frame, so
// in-cache speed is the relevant figure; --samples changes it).
//
//   bench_g711 [--samples N] [--min-time SECONDS] [--repeats R] [--csv]
//
// Each figure is the best of R runs, each run calling the codec on the same buffer until
// --min-time of this thread's CPU time has passed. CPU time, not wall time, so that a busy shared
// machine (time slices taken by other processes) does not masquerade as a slow codec. Output: a table, or CSV rows "op,path,msamples_per_s" with --csv.
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "g711/g711.h"

namespace {

struct Options {
  size_t samples = 4096;
  double min_time = 0.1;
  int repeats = 5;
  bool csv = false;
};

[[noreturn]] void usage(const char *msg) {
  std::fprintf(stderr, "bench_g711: %s\nusage: bench_g711 [--samples N] [--min-time S] "
                       "[--repeats R] [--csv]\n", msg);
  std::exit(2);
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char * {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "--samples") {
      const long v = std::strtol(value(), nullptr, 10);
      if (v <= 0) usage("--samples must be a positive integer");
      o.samples = static_cast<size_t>(v);
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

// Best Msamples/s over `repeats` runs of `call` (one call = n samples).
template <typename F>
double measure(const Options &o, size_t n, F call) {
  for (int w = 0; w < 100; ++w) call();  // warm caches, frequency, branch predictors
  double best = 0;
  for (int r = 0; r < o.repeats; ++r) {
    size_t calls = 0;
    const double t0 = thread_seconds();
    double elapsed = 0;
    do {
      for (int k = 0; k < 64; ++k) call();
      calls += 64;
      elapsed = thread_seconds() - t0;
    } while (elapsed < o.min_time);
    const double rate = static_cast<double>(calls) * static_cast<double>(n) / elapsed / 1e6;
    if (rate > best) best = rate;
  }
  return best;
}

}  // namespace

int main(int argc, char **argv) {
  const Options o = parse(argc, argv);
  const size_t n = o.samples;
  std::vector<int16_t> pcm(n), pcm_out(n);
  std::vector<uint8_t> ulaw(n), alaw(n), codes_out(n);
  uint32_t seed = 1;
  for (size_t i = 0; i < n; ++i) {  // full-range pseudo-random PCM: every segment is exercised
    seed = seed * 1664525u + 1013904223u;
    pcm[i] = static_cast<int16_t>(seed >> 16);
  }
  cc_g711_force_level(CC_G711_SCALAR);
  cc_g711_ulaw_encode(pcm.data(), n, ulaw.data());
  cc_g711_alaw_encode(pcm.data(), n, alaw.data());

  struct Op {
    const char *name;
    void (*run)(void *ctx);
  };
  struct Ctx {
    const int16_t *pcm;
    const uint8_t *ulaw, *alaw;
    int16_t *pcm_out;
    uint8_t *codes_out;
    size_t n;
  } ctx{pcm.data(), ulaw.data(), alaw.data(), pcm_out.data(), codes_out.data(), n};
  const Op ops[] = {
      {"ulaw_encode", [](void *c) { auto *x = static_cast<Ctx *>(c); cc_g711_ulaw_encode(x->pcm, x->n, x->codes_out); }},
      {"ulaw_decode", [](void *c) { auto *x = static_cast<Ctx *>(c); cc_g711_ulaw_decode(x->ulaw, x->n, x->pcm_out); }},
      {"alaw_encode", [](void *c) { auto *x = static_cast<Ctx *>(c); cc_g711_alaw_encode(x->pcm, x->n, x->codes_out); }},
      {"alaw_decode", [](void *c) { auto *x = static_cast<Ctx *>(c); cc_g711_alaw_decode(x->alaw, x->n, x->pcm_out); }},
      {"ulaw_to_alaw", [](void *c) { auto *x = static_cast<Ctx *>(c); cc_g711_ulaw_to_alaw(x->ulaw, x->n, x->codes_out); }},
      {"alaw_to_ulaw", [](void *c) { auto *x = static_cast<Ctx *>(c); cc_g711_alaw_to_ulaw(x->alaw, x->n, x->codes_out); }},
  };

  if (!o.csv) {
    std::printf("G.711 throughput, Msamples/s, %zu samples per call, best of %d x %.2f s CPU time\n", n,
                o.repeats, o.min_time);
    std::printf("%-14s", "op");
  }
  std::vector<cc_g711_level> levels;
  for (int l = CC_G711_SCALAR; l <= CC_G711_AVX512BW; ++l) {
    if (cc_g711_level_supported(static_cast<cc_g711_level>(l))) {
      levels.push_back(static_cast<cc_g711_level>(l));
      if (!o.csv) std::printf("%12s", cc_g711_level_name(static_cast<cc_g711_level>(l)));
    }
  }
  if (!o.csv) std::printf("\n");
  for (const Op &op : ops) {
    if (!o.csv) std::printf("%-14s", op.name);
    for (cc_g711_level l : levels) {
      cc_g711_force_level(l);
      const double rate = measure(o, n, [&] { op.run(&ctx); });
      if (o.csv) {
        std::printf("%s,%s,%.1f\n", op.name, cc_g711_level_name(l), rate);
      } else {
        std::printf("%12.1f", rate);
      }
      std::fflush(stdout);
    }
    if (!o.csv) std::printf("\n");
  }
  cc_g711_reset_level();
  return 0;
}
