// MoQT subgroup object parsing and Call encode/decode with the generated C++ codecs, side by
// side with the official protobuf C++ runtime for the Call. Run through run.sh.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <time.h>

#include "clutchcall.pb.h"
#include "clutchcall/messages.h"
#include "clutchcall/wire/moqt_d14.h"

namespace {

using clutchcall::ByteVec;
using clutchcall::Bytes;
namespace moqt = clutchcall::wire::moqt_d14;

// CPU time of this thread: unlike wall time it does not count time the thread spent waiting
// for a core, so figures are comparable on a loaded machine.
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

int g_repeats = 7;  // BENCH_REPEATS; 1 under callgrind

template <class F>
double best_ns_per_op(F&& f, std::size_t ops_per_call) {
  double best = 1e300;
  for (int i = 0; i < g_repeats; ++i) {
    const double t0 = thread_cpu_ns();
    f();
    const double ns = (thread_cpu_ns() - t0) / static_cast<double>(ops_per_call);
    if (ns < best) best = ns;
  }
  return best;
}

volatile std::uint64_t g_sink = 0;

}  // namespace

int main(int argc, char** argv) {
  if (const char* r = std::getenv("BENCH_REPEATS")) g_repeats = std::max(1, std::atoi(r));
  // ---- MoQT: streams of SubgroupHeader + objects with 160-byte payloads ----
  constexpr std::size_t kStreams = 64;
  constexpr std::size_t kObjects = 4096;
  ByteVec wire;
  std::vector<std::size_t> starts;
  std::vector<std::byte> payload(160, std::byte{0x5a});
  for (std::size_t s = 0; s < kStreams; ++s) {
    starts.push_back(wire.size());
    moqt::SubgroupHeader h;
    h.type = 0x14;
    h.track_alias = 7;
    h.group_id = 1000 + s;
    h.subgroup_id = 0;
    h.publisher_priority = 128;
    if (!h.encode_to(wire)) return 1;
    for (std::size_t o = 0; o < kObjects; ++o) {
      moqt::SubgroupObject obj;
      obj.object_id_delta = 0;
      obj.payload_length = payload.size();
      obj.payload = Bytes(payload);
      if (!obj.encode_to(wire, {})) return 1;
    }
  }
  starts.push_back(wire.size());
  const std::size_t total = kStreams * kObjects;

  // Whole-buffer parse through the incremental stream parser (one feed per stream).
  std::vector<moqt::DataParser::Item> items;
  items.reserve(kObjects + 1);
  double parser_ns = best_ns_per_op(
      [&] {
        for (std::size_t s = 0; s < kStreams; ++s) {
          moqt::DataParser p;
          items.clear();
          Bytes stream = Bytes(wire).subspan(starts[s], starts[s + 1] - starts[s]);
          if (!p.feed(stream, items) || !p.close()) std::abort();
          g_sink = g_sink + items.size();
        }
      },
      total);
  if (std::getenv("BENCH_WHOLE_ONLY") != nullptr) {  // for callgrind: this path alone
    std::printf("whole-stream parse: %.1f ns/object\n", parser_ns);
    return 0;
  }
  // The same stream fed in 1200-byte chunks (a QUIC packet's worth).
  double chunked_ns = best_ns_per_op(
      [&] {
        for (std::size_t s = 0; s < kStreams; ++s) {
          moqt::DataParser p;
          Bytes stream = Bytes(wire).subspan(starts[s], starts[s + 1] - starts[s]);
          for (std::size_t i = 0; i < stream.size(); i += 1200) {
            items.clear();
            if (!p.feed(stream.subspan(i, std::min<std::size_t>(1200, stream.size() - i)), items)) std::abort();
            g_sink = g_sink + items.size();
          }
          if (!p.close()) std::abort();
        }
      },
      total);
  // Header + object decode, one struct at a time (SubgroupHeader::decode / SubgroupObject::decode).
  moqt::SubgroupHeader one_h;
  one_h.type = 0x14;
  one_h.track_alias = 7;
  one_h.group_id = 1000;  // as stream 0, so the object offset below matches
  one_h.subgroup_id = 0;
  one_h.publisher_priority = 128;
  ByteVec hdr = one_h.encode().value();
  Bytes first_obj = Bytes(wire).subspan(starts[0] + hdr.size(), 0);
  {
    moqt::SubgroupObject obj;
    obj.payload_length = 160;
    obj.payload = Bytes(payload);
    ByteVec ob = obj.encode({}).value();
    first_obj = Bytes(wire).subspan(starts[0] + hdr.size(), ob.size());
  }
  constexpr std::size_t kOne = 1000000;
  double hdr_obj_ns = best_ns_per_op(
      [&] {
        for (std::size_t i = 0; i < kOne; ++i) {
          auto h = moqt::SubgroupHeader::decode(hdr);
          auto o = moqt::SubgroupObject::decode(first_obj, {});
          if (!h || !o) std::abort();
          g_sink = g_sink + h->group_id + o->payload.size();
        }
      },
      kOne);

  std::printf("MoQT draft-14 subgroup objects (160-byte payloads, %zu streams x %zu objects, %zu bytes)\n", kStreams,
              kObjects, wire.size());
  std::printf("  %-44s %8.1f ns/object  %7.2f M objects/s\n", "DataParser, whole stream per feed", parser_ns,
              1e3 / parser_ns);
  std::printf("  %-44s %8.1f ns/object  %7.2f M objects/s\n", "DataParser, 1200-byte chunks", chunked_ns,
              1e3 / chunked_ns);
  std::printf("  %-44s %8.1f ns/op\n", "SubgroupHeader::decode + SubgroupObject::decode", hdr_obj_ns);

  // ---- Call encode/decode vs the official protobuf runtime ----
  if (argc < 2) return 0;
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string call_bytes = ss.str();
  Bytes cb(reinterpret_cast<const std::byte*>(call_bytes.data()), call_bytes.size());
  auto ours = clutchcall::Call::decode(cb).value();
  if (ours.encode() != ByteVec(cb.begin(), cb.end())) {
    std::fprintf(stderr, "our Call does not re-encode to the same bytes\n");
    return 1;
  }
  clutchcall::v1::Call official;
  if (!official.ParseFromString(call_bytes)) return 1;
  constexpr std::size_t kN = 200000;
  double our_dec = best_ns_per_op(
      [&] {
        for (std::size_t i = 0; i < kN; ++i) g_sink = g_sink + clutchcall::Call::decode(cb)->sid.size();
      },
      kN);
  double pb_dec = best_ns_per_op(
      [&] {
        for (std::size_t i = 0; i < kN; ++i) {
          clutchcall::v1::Call c;
          c.ParseFromString(call_bytes);
          g_sink = g_sink + c.sid().size();
        }
      },
      kN);
  ByteVec out;
  double our_enc = best_ns_per_op(
      [&] {
        for (std::size_t i = 0; i < kN; ++i) {
          out.clear();
          ours.encode_to(out);
          g_sink = g_sink + out.size();
        }
      },
      kN);
  std::string pout;
  double pb_enc = best_ns_per_op(
      [&] {
        for (std::size_t i = 0; i < kN; ++i) {
          pout.clear();
          official.SerializeToString(&pout);
          g_sink = g_sink + pout.size();
        }
      },
      kN);
  std::printf("Call (%zu bytes)          generated    protobuf   ours/official\n", call_bytes.size());
  std::printf("  decode              %9.1f ns %9.1f ns   %6.2f\n", our_dec, pb_dec, our_dec / pb_dec);
  std::printf("  encode              %9.1f ns %9.1f ns   %6.2f\n", our_enc, pb_enc, our_enc / pb_enc);
  return 0;
}
