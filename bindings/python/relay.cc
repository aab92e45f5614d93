// clutchcall_core.relay: Python control of the RTP fast path (core/relay): start and stop the
// engine, add and remove calls, read the per-call and per-shard counters. The packets never
// touch Python: the shards run in their own threads, and every call here releases the GIL.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.h"
#include "relay/engine.h"

namespace clutchcall::py {
namespace {

namespace pyb = pybind11;
using relay::Backend;

struct Leg {
  std::string local_ip;
  std::uint16_t local_port = 0;
  std::string remote_ip;
  std::uint16_t remote_port = 0;  // 0: latch from the first packet
  std::string codec = "g711_ulaw";
  std::uint32_t sample_rate = 0;  // 0: the codec's default
  std::uint32_t channels = 1;
  std::uint32_t frame_ms = 20;
  std::uint8_t payload_type = 0;
};

std::uint32_t codec_number(const std::string &name) {
  if (name == "opus") return CC_CODEC_OPUS;
  if (name == "pcm16") return CC_CODEC_PCM16;
  if (name == "g711_ulaw") return CC_CODEC_G711_ULAW;
  if (name == "g711_alaw") return CC_CODEC_G711_ALAW;
  throw pyb::value_error("unknown codec '" + name + "' (opus, pcm16, g711_ulaw, g711_alaw)");
}

relay::LegConfig to_config(const Leg &l, const char *which) {
  relay::LegConfig c;
  if (!netio::parse_endpoint(l.local_ip, l.local_port, &c.local)) {
    throw pyb::value_error(std::string(which) + ".local: not an IP address: '" + l.local_ip + "'");
  }
  const std::string remote_ip = l.remote_ip.empty() ? (c.local.v4 ? "0.0.0.0" : "::") : l.remote_ip;
  if (!netio::parse_endpoint(remote_ip, l.remote_port, &c.remote)) {
    throw pyb::value_error(std::string(which) + ".remote: not an IP address: '" + l.remote_ip + "'");
  }
  const std::uint32_t codec = codec_number(l.codec);
  std::uint32_t rate = l.sample_rate;
  if (rate == 0) rate = codec == CC_CODEC_OPUS ? 48000 : 8000;
  c.shape = {codec, rate, l.channels, l.frame_ms};
  c.payload_type = l.payload_type;
  return c;
}

pyb::dict leg_dict(const relay::LegStats &s) {
  pyb::dict d;
  d["rx_packets"] = s.rx_packets;
  d["rx_bytes"] = s.rx_bytes;
  d["tx_packets"] = s.tx_packets;
  d["tx_bytes"] = s.tx_bytes;
  d["malformed"] = s.malformed;
  d["foreign_source"] = s.foreign_source;
  d["tx_dropped"] = s.tx_dropped;
  d["ssrc_changes"] = s.ssrc_changes;
  d["late_losses"] = s.late_losses;
  d["concealed"] = s.concealed;
  d["transcode_errors"] = s.transcode_errors;
  d["handoff_out"] = s.handoff_out;
  d["handoff_in"] = s.handoff_in;
  d["ring_lost"] = s.ring_lost();
  return d;
}

pyb::dict call_dict(const relay::CallStats &s) {
  pyb::dict d;
  d["id"] = s.id;
  d["shard"] = s.shard;
  d["transcoding"] = s.transcoding;
  d["a"] = leg_dict(s.legs[0]);
  d["b"] = leg_dict(s.legs[1]);
  return d;
}

pyb::dict shard_dict(const relay::ShardStats &s) {
  pyb::dict d;
  d["shard"] = s.shard;
  d["cpu"] = s.cpu;
  d["calls"] = s.calls;
  d["rx_packets"] = s.rx_packets;
  d["rx_bytes"] = s.rx_bytes;
  d["tx_packets"] = s.tx_packets;
  d["tx_bytes"] = s.tx_bytes;
  d["tx_dropped"] = s.tx_dropped;
  d["unknown_port"] = s.unknown_port;
  d["handoff_out"] = s.handoff_out;
  d["handoff_in"] = s.handoff_in;
  d["handoff_refused"] = s.handoff_refused;
  d["ring_overruns"] = s.ring_overruns;
  d["ring_lost"] = s.ring_lost;
  d["loops"] = s.loops;
  d["idle_waits"] = s.idle_waits;
  d["kernel_rx_dropped"] = s.kernel_rx_dropped;
  d["kernel_rx_ring_full"] = s.kernel_rx_ring_full;
  d["kernel_fill_ring_empty"] = s.kernel_fill_ring_empty;
  pyb::dict io;
  io["rx_packets"] = s.io.rx_packets;
  io["rx_bytes"] = s.io.rx_bytes;
  io["tx_packets"] = s.io.tx_packets;
  io["tx_bytes"] = s.io.tx_bytes;
  io["rx_dropped"] = s.io.rx_dropped;
  io["tx_dropped"] = s.io.tx_dropped;
  io["wakeups"] = s.io.wakeups;
  d["io"] = io;
  return d;
}

class PyEngine {
 public:
  PyEngine(const std::string &backend, const std::string &ifname, std::uint16_t port_lo,
           std::uint16_t port_hi, std::uint32_t shards, bool busy_poll, bool pin,
           std::uint32_t max_calls, std::uint32_t handoff_depth, std::vector<int> cpus,
           std::uint32_t xsk_rx_frames, std::uint32_t xsk_tx_frames) {
    relay::EngineConfig cfg;
    if (!relay::parse_backend(backend, &cfg.backend)) {
      throw pyb::value_error("unknown backend '" + backend + "' (auto, af_xdp, io_uring, recvmmsg)");
    }
    cfg.ifname = ifname;
    cfg.port_lo = port_lo;
    cfg.port_hi = port_hi;
    cfg.shards = shards;
    cfg.busy_poll = busy_poll;
    cfg.pin = pin;
    cfg.max_calls = max_calls;
    cfg.handoff_depth = handoff_depth;
    cfg.cpus = std::move(cpus);
    cfg.xsk_rx_frames = xsk_rx_frames;
    cfg.xsk_tx_frames = xsk_tx_frames;
    std::string why;
    {
      pyb::gil_scoped_release nogil;
      engine_ = relay::Engine::start(cfg, &why);
    }
    if (!engine_) throw std::runtime_error("the fast path did not start: " + why);
  }

  relay::Engine &get() {
    if (!engine_) throw std::runtime_error("the engine is stopped");
    return *engine_;
  }

  void stop() {
    pyb::gil_scoped_release nogil;
    engine_.reset();
  }

  void add_call(std::uint64_t id, const Leg &a, const Leg &b) {
    relay::CallConfig c;
    c.id = id;
    c.legs[0] = to_config(a, "a");
    c.legs[1] = to_config(b, "b");
    relay::Engine &e = get();
    std::string err;
    {
      pyb::gil_scoped_release nogil;
      err = e.add_call(c);
    }
    if (!err.empty()) throw pyb::value_error("add_call(" + std::to_string(id) + "): " + err);
  }

  pyb::dict remove_call(std::uint64_t id) {
    relay::Engine &e = get();
    relay::CallStats s;
    bool ok = false;
    {
      pyb::gil_scoped_release nogil;
      ok = e.remove_call(id, &s);
    }
    if (!ok) throw pyb::key_error("no call " + std::to_string(id));
    return call_dict(s);
  }

  pyb::dict call_stats(std::uint64_t id) {
    relay::CallStats s;
    if (!get().call_stats(id, &s)) throw pyb::key_error("no call " + std::to_string(id));
    return call_dict(s);
  }

  pyb::list shard_stats() {
    pyb::list out;
    for (const auto &s : get().shard_stats()) out.append(shard_dict(s));
    return out;
  }

 private:
  std::unique_ptr<relay::Engine> engine_;
};

}  // namespace

void register_relay(pyb::module_ &root) {
  pyb::module_ m = root.def_submodule(
      "relay", "The RTP fast path: AF_XDP (or io_uring / recvmmsg) shards relaying calls.");

  pyb::class_<Leg>(m, "Leg", "One leg of a call: our local endpoint, the peer, and its audio.")
      .def(pyb::init([](std::pair<std::string, std::uint16_t> local,
                        std::optional<std::pair<std::string, std::uint16_t>> remote,
                        const std::string &codec, std::uint32_t sample_rate, std::uint32_t channels,
                        std::uint32_t frame_ms, std::uint8_t payload_type) {
             Leg l;
             l.local_ip = local.first;
             l.local_port = local.second;
             if (remote) {
               l.remote_ip = remote->first;
               l.remote_port = remote->second;
             }
             l.codec = codec;
             l.sample_rate = sample_rate;
             l.channels = channels;
             l.frame_ms = frame_ms;
             l.payload_type = payload_type;
             return l;
           }),
           pyb::arg("local"), pyb::arg("remote") = pyb::none(), pyb::arg("codec") = "g711_ulaw",
           pyb::arg("sample_rate") = 0, pyb::arg("channels") = 1, pyb::arg("frame_ms") = 20,
           pyb::arg("payload_type") = 0,
           "local/remote are (ip, port); remote None or port 0: learned from the first packet.")
      .def_readonly("codec", &Leg::codec)
      .def_readonly("payload_type", &Leg::payload_type);

  pyb::class_<PyEngine>(m, "Engine",
                        "The relay engine. backend: 'auto' (AF_XDP on ifname, else io_uring, else "
                        "recvmmsg; see fallback_reason), 'af_xdp', 'io_uring' or 'recvmmsg'.")
      .def(pyb::init<const std::string &, const std::string &, std::uint16_t, std::uint16_t,
                     std::uint32_t, bool, bool, std::uint32_t, std::uint32_t, std::vector<int>,
                     std::uint32_t, std::uint32_t>(),
           pyb::arg("backend") = "auto", pyb::arg("ifname") = "", pyb::arg("port_lo") = 16384,
           pyb::arg("port_hi") = 32767, pyb::arg("shards") = 0, pyb::arg("busy_poll") = false,
           pyb::arg("pin") = true, pyb::arg("max_calls") = 16384, pyb::arg("handoff_depth") = 4096,
           pyb::arg("cpus") = std::vector<int>{}, pyb::arg("xsk_rx_frames") = 0,
           pyb::arg("xsk_tx_frames") = 0)
      .def_property_readonly("backend", [](PyEngine &e) { return std::string(e.get().backend_name()); })
      .def_property_readonly("fallback_reason", [](PyEngine &e) { return e.get().fallback_reason(); })
      .def_property_readonly("xdp_mode", [](PyEngine &e) { return e.get().xdp_mode(); })
      .def_property_readonly("shard_count", [](PyEngine &e) { return e.get().shard_count(); })
      .def("add_call", &PyEngine::add_call, pyb::arg("id"), pyb::arg("a"), pyb::arg("b"),
           "Starts relaying a call; ValueError says why it was refused.")
      .def("remove_call", &PyEngine::remove_call, pyb::arg("id"),
           "Stops relaying; returns the call's final counters. KeyError if unknown.")
      .def("call_stats", &PyEngine::call_stats, pyb::arg("id"))
      .def("call_ids", [](PyEngine &e) { return e.get().call_ids(); })
      .def("shard_stats", &PyEngine::shard_stats)
      .def("stop", &PyEngine::stop, "Stops the shards and detaches from the interface.")
      .def("__enter__", [](PyEngine &e) -> PyEngine & { return e; })
      .def("__exit__", [](PyEngine &e, pyb::args) { e.stop(); });
}

}  // namespace clutchcall::py
