// clutchcall_core.relay: Python control of the RTP fast path (core/relay): start and stop the
// engine, add and remove calls, read the per-call and per-shard counters. The packets never
// touch Python: the shards run in their own threads, and every call here releases the GIL.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <sched.h>

#include <climits>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "args.h"
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

// (ip, port) with the port in [min_port, 65535], named in errors.
std::pair<std::string, std::uint16_t> endpoint_arg(pyb::handle v, const char *name, std::int64_t min_port) {
  if (!pyb::isinstance<pyb::tuple>(v) || pyb::len(v) != 2 || !pyb::isinstance<pyb::str>(v[pyb::int_(0)])) {
    throw pyb::type_error(std::string(name) + ": expected (ip, port), got " + std::string(pyb::repr(v)));
  }
  return {v[pyb::int_(0)].cast<std::string>(),
          int_as<std::uint16_t>(v[pyb::int_(1)], std::string(name) + " port", min_port, 65535)};
}

// Safe to share between threads: the core engine's control calls may run concurrently; each
// Python call holds its own reference to the engine (taken with the GIL), so stop() from another
// thread never frees an engine that a call is still using: the last reference does.
class PyEngine {
 public:
  PyEngine(const std::string &backend, const std::string &ifname, pyb::handle port_lo, pyb::handle port_hi,
           pyb::handle shards, bool busy_poll, bool pin, pyb::handle max_calls, pyb::handle handoff_depth,
           pyb::handle cpus, pyb::handle xsk_rx_frames, pyb::handle xsk_tx_frames) {
    relay::EngineConfig cfg;
    if (!relay::parse_backend(backend, &cfg.backend)) {
      throw pyb::value_error("unknown backend '" + backend + "' (auto, af_xdp, io_uring, recvmmsg)");
    }
    cfg.ifname = ifname;
    cfg.port_lo = int_as<std::uint16_t>(port_lo, "port_lo", 1, 65535);
    cfg.port_hi = int_as<std::uint16_t>(port_hi, "port_hi", 1, 65535);
    cfg.shards = int_as<std::uint32_t>(shards, "shards", 0, 64);
    cfg.busy_poll = busy_poll;
    cfg.pin = pin;
    cfg.max_calls = int_as<std::uint32_t>(max_calls, "max_calls", 1, 1 << 24);
    cfg.handoff_depth = int_as<std::uint32_t>(handoff_depth, "handoff_depth", 16, 1 << 18);
    if (!pyb::isinstance<pyb::sequence>(cpus) || pyb::isinstance<pyb::str>(cpus)) {
      throw pyb::type_error("cpus: expected a list of CPU numbers, got " + std::string(pyb::repr(cpus)));
    }
    const pyb::sequence list = pyb::reinterpret_borrow<pyb::sequence>(cpus);
    for (size_t i = 0; i < list.size(); ++i) {
      cfg.cpus.push_back(int_as<int>(list[i], "cpus[" + std::to_string(i) + "]", 0, CPU_SETSIZE - 1));
    }
    cfg.xsk_rx_frames = int_as<std::uint32_t>(xsk_rx_frames, "xsk_rx_frames", 0, 262144);
    cfg.xsk_tx_frames = int_as<std::uint32_t>(xsk_tx_frames, "xsk_tx_frames", 0, 262144);
    std::string why;
    std::unique_ptr<relay::Engine> engine;
    {
      pyb::gil_scoped_release nogil;
      engine = relay::Engine::start(cfg, &why);
    }
    if (!engine) throw std::runtime_error("the fast path did not start: " + why);
    engine_ = std::move(engine);
  }

  // A reference for one call (taken with the GIL held).
  std::shared_ptr<relay::Engine> get() const {
    if (!engine_) throw std::runtime_error("the engine is stopped");
    return engine_;
  }

  void stop() {
    std::shared_ptr<relay::Engine> e = std::move(engine_);
    engine_.reset();
    pyb::gil_scoped_release nogil;
    if (e) e->stop();  // joins the shards; the memory goes with the last reference
    e.reset();
  }

  void add_call(pyb::handle id_arg, const Leg &a, const Leg &b) {
    relay::CallConfig c;
    c.id = id_of(id_arg);
    c.legs[0] = to_config(a, "a");
    c.legs[1] = to_config(b, "b");
    std::shared_ptr<relay::Engine> e = get();
    std::string err;
    {
      pyb::gil_scoped_release nogil;
      err = e->add_call(c);
    }
    if (!err.empty()) throw pyb::value_error("add_call(" + std::to_string(c.id) + "): " + err);
  }

  pyb::dict remove_call(pyb::handle id_arg) {
    const std::uint64_t id = id_of(id_arg);
    std::shared_ptr<relay::Engine> e = get();
    relay::CallStats s;
    bool ok = false;
    {
      pyb::gil_scoped_release nogil;
      ok = e->remove_call(id, &s);
    }
    if (!ok) throw pyb::key_error("no call " + std::to_string(id));
    return call_dict(s);
  }

  pyb::dict call_stats(pyb::handle id_arg) {
    const std::uint64_t id = id_of(id_arg);
    std::shared_ptr<relay::Engine> e = get();
    relay::CallStats s;
    bool ok = false;
    {
      pyb::gil_scoped_release nogil;
      ok = e->call_stats(id, &s);
    }
    if (!ok) throw pyb::key_error("no call " + std::to_string(id));
    return call_dict(s);
  }

  std::vector<std::uint64_t> call_ids() {
    std::shared_ptr<relay::Engine> e = get();
    pyb::gil_scoped_release nogil;
    return e->call_ids();
  }

  pyb::list shard_stats() {
    std::shared_ptr<relay::Engine> e = get();
    std::vector<relay::ShardStats> all;
    {
      pyb::gil_scoped_release nogil;
      all = e->shard_stats();
    }
    pyb::list out;
    for (const auto &s : all) out.append(shard_dict(s));
    return out;
  }

 private:
  static std::uint64_t id_of(pyb::handle v) {
    return static_cast<std::uint64_t>(int_arg(v, "id", 0, INT64_MAX));
  }
  std::shared_ptr<relay::Engine> engine_;
};

}  // namespace

void register_relay(pyb::module_ &root) {
  pyb::module_ m = root.def_submodule(
      "relay", "The RTP fast path: AF_XDP (or io_uring / recvmmsg) shards relaying calls.");

  pyb::class_<Leg>(m, "Leg", "One leg of a call: our local endpoint, the peer, and its audio.")
      .def(pyb::init([](pyb::handle local, pyb::handle remote, const std::string &codec, pyb::handle sample_rate,
                        pyb::handle channels, pyb::handle frame_ms, pyb::handle payload_type) {
             Leg l;
             std::tie(l.local_ip, l.local_port) = endpoint_arg(local, "local", 1);
             if (!remote.is_none()) std::tie(l.remote_ip, l.remote_port) = endpoint_arg(remote, "remote", 0);
             l.codec = codec;
             l.sample_rate = int_as<std::uint32_t>(sample_rate, "sample_rate", 0, 48000);
             l.channels = int_as<std::uint32_t>(channels, "channels", 1, 2);
             l.frame_ms = int_as<std::uint32_t>(frame_ms, "frame_ms", 10, 60);
             l.payload_type = int_as<std::uint8_t>(payload_type, "payload_type", 0, 127);
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
                        "recvmmsg; see fallback_reason), 'af_xdp', 'io_uring' or 'recvmmsg'. Safe to share between "
                        "threads; stop() from any thread.")
      .def(pyb::init<const std::string &, const std::string &, pyb::handle, pyb::handle, pyb::handle, bool, bool,
                     pyb::handle, pyb::handle, pyb::handle, pyb::handle, pyb::handle>(),
           pyb::arg("backend") = "auto", pyb::arg("ifname") = "", pyb::arg("port_lo") = 16384,
           pyb::arg("port_hi") = 32767, pyb::arg("shards") = 0, pyb::arg("busy_poll") = false,
           pyb::arg("pin") = true, pyb::arg("max_calls") = 16384, pyb::arg("handoff_depth") = 4096,
           pyb::arg("cpus") = pyb::list(), pyb::arg("xsk_rx_frames") = 0,
           pyb::arg("xsk_tx_frames") = 0)
      .def_property_readonly("backend", [](PyEngine &e) { return std::string(e.get()->backend_name()); })
      .def_property_readonly("fallback_reason", [](PyEngine &e) { return e.get()->fallback_reason(); })
      .def_property_readonly("xdp_mode", [](PyEngine &e) { return e.get()->xdp_mode(); })
      .def_property_readonly("shard_count", [](PyEngine &e) { return e.get()->shard_count(); })
      .def("add_call", &PyEngine::add_call, pyb::arg("id"), pyb::arg("a"), pyb::arg("b"),
           "Starts relaying a call; ValueError says why it was refused.")
      .def("remove_call", &PyEngine::remove_call, pyb::arg("id"),
           "Stops relaying; returns the call's final counters. KeyError if unknown.")
      .def("call_stats", &PyEngine::call_stats, pyb::arg("id"))
      .def("call_ids", &PyEngine::call_ids)
      .def("shard_stats", &PyEngine::shard_stats)
      .def("stop", &PyEngine::stop, "Stops the shards and detaches from the interface.")
      .def("__enter__", [](PyEngine &e) -> PyEngine & { return e; })
      .def("__exit__", [](PyEngine &e, pyb::args) { e.stop(); });
}

}  // namespace clutchcall::py
