// clutchcall_core.jitter: the adaptive jitter buffer over core/jitter.
#include <pybind11/pybind11.h>

#include <climits>
#include <cstdint>
#include <memory>
#include <string>

#include "args.h"
#include "bindings.h"
#include "buffers.h"
#include "jitter/jitter.h"
#include "rtp/rtp.h"

namespace clutchcall::py {
namespace {

struct Frame {
  std::string kind;  // "frame", "loss" or "wait"
  int sequence = 0;
  int64_t ext_seq = 0;
  uint32_t timestamp = 0;
  bool marker = false;
  pyb::object payload = pyb::none();
};

// Safe to share between threads: every call holds the object's lock. The calls are short (no
// decoding), so the GIL is kept: releasing it would cost more than the call.
class PyJitterBuffer {
 public:
  explicit PyJitterBuffer(const pyb::kwargs &kw) : impl_(make(kw)) {}

  std::string insert(pyb::handle sequence, pyb::handle timestamp, pyb::handle ssrc, pyb::handle payload,
                     pyb::handle arrival_us, pyb::handle marker) {
    const auto seq = int_as<uint16_t>(sequence, "sequence", 0, 0xFFFF);
    const auto ts = int_as<uint32_t>(timestamp, "timestamp", 0, 0xFFFFFFFFll);
    const auto src = int_as<uint32_t>(ssrc, "ssrc", 0, 0xFFFFFFFFll);
    const auto arrival = int_arg(arrival_us, "arrival_us", INT64_MIN, INT64_MAX);
    const bool m = opt_bool_arg(marker, "marker").value_or(false);
    BytesIn in = bytes_in(payload, "payload");
    static const uint8_t kEmpty[1] = {0};
    const auto *data = in.size ? static_cast<const uint8_t *>(in.view.data()) : kEmpty;
    const cc_jitter_packet p{seq, ts, src, m ? uint8_t{1} : uint8_t{0}, data, in.size, arrival};
    return outcome(impl_.with([&](jitter::JitterBuffer &jb) { return jb.insert(p); }));
  }

  std::string insert_rtp(pyb::handle packet, pyb::handle arrival_us) {
    const auto arrival = int_arg(arrival_us, "arrival_us", INT64_MIN, INT64_MAX);
    BytesIn in = bytes_in(packet, "packet");
    cc_rtp_packet p{};
    const cc_rtp_status s = cc_rtp_parse(static_cast<const uint8_t *>(in.view.data()), in.size, &p);
    if (s != CC_RTP_OK) throw pyb::value_error(std::string("rtp: ") + cc_rtp_status_name(s));
    const cc_jitter_packet jp{p.sequence, p.timestamp, p.ssrc, p.marker, p.payload, p.payload_len, arrival};
    return outcome(impl_.with([&](jitter::JitterBuffer &jb) { return jb.insert(jp); }));
  }

  Frame tick() {
    // The payload points into the buffer: copied (into the bytes object) under the same lock.
    return impl_.with([](jitter::JitterBuffer &jb) {
      const cc_jitter_frame f = jb.tick();
      Frame out;
      out.kind = f.kind == CC_JITTER_FRAME ? "frame" : f.kind == CC_JITTER_LOSS ? "loss" : "wait";
      if (f.kind != CC_JITTER_WAIT) {
        out.sequence = f.sequence;
        out.ext_seq = f.ext_seq;
      }
      if (f.kind == CC_JITTER_FRAME) {
        out.timestamp = f.timestamp;
        out.marker = f.marker != 0;
        out.payload = pyb::bytes(reinterpret_cast<const char *>(f.payload), f.payload_len);
      }
      return out;
    });
  }

  void reset() {
    impl_.with([](jitter::JitterBuffer &jb) { jb.reset(); });
  }

  pyb::dict stats() const {
    const cc_jitter_stats s = impl_.with([](const jitter::JitterBuffer &jb) { return jb.stats(); });
    pyb::dict d;
    d["received"] = s.received;
    d["released"] = s.released;
    d["losses"] = s.losses;
    d["late_losses"] = s.late_losses;
    d["duplicates"] = s.duplicates;
    d["resets"] = s.resets;
    d["reset_dropped"] = s.reset_dropped;
    d["discarded"] = s.discarded;
    d["rejected"] = s.rejected;
    d["underruns"] = s.underruns;
    d["stretches"] = s.stretches;
    d["ticks"] = s.ticks;
    d["buffered"] = s.buffered;
    d["target_depth"] = s.target_depth;
    d["depth"] = s.depth;
    d["delay_ms"] = s.delay_ms;
    d["jitter"] = s.jitter;
    d["jitter_us"] = s.jitter_us;
    return d;
  }

 private:
  static std::unique_ptr<jitter::JitterBuffer> make(const pyb::kwargs &kw) {
    cc_jitter_config c;
    cc_jitter_config_default(&c);
    struct Setting {
      const char *name;
      uint32_t cc_jitter_config::*field;
      std::int64_t lo, hi;
    };
    static const Setting kSettings[] = {
        {"capacity", &cc_jitter_config::capacity, 16, 32768},
        {"max_payload", &cc_jitter_config::max_payload, 1, 65535},
        {"clock_rate", &cc_jitter_config::clock_rate, 1, 384000},
        {"frame_ms", &cc_jitter_config::frame_ms, 1, 1000},
        {"min_depth", &cc_jitter_config::min_depth, 1, 32767},
        {"max_depth", &cc_jitter_config::max_depth, 1, 32767},
        {"initial_depth", &cc_jitter_config::initial_depth, 1, 32767},
        {"reset_threshold", &cc_jitter_config::reset_threshold, 1, 0xFFFFFFFFll},
        {"decrease_hold_ticks", &cc_jitter_config::decrease_hold_ticks, 1, 0xFFFFFFFFll},
        {"shrink_window_ticks", &cc_jitter_config::shrink_window_ticks, 1, 0xFFFFFFFFll},
        {"target_quantile_permille", &cc_jitter_config::target_quantile_permille, 500, 999},
    };
    for (auto item : kw) {
      const std::string key = pyb::str(item.first);
      const Setting *s = nullptr;
      for (const Setting &k : kSettings) {
        if (key == k.name) s = &k;
      }
      if (s == nullptr) throw pyb::type_error("JitterBuffer: unknown setting '" + key + "'");
      c.*(s->field) = int_as<uint32_t>(item.second, key, s->lo, s->hi);
    }
    if ((c.capacity & (c.capacity - 1)) != 0) {
      throw pyb::value_error("capacity: " + std::to_string(c.capacity) + " is not a power of two in 16..32768");
    }
    if (cc_jitter_config_check(&c) != CC_JITTER_INSERTED) {
      throw pyb::value_error("JitterBuffer: settings disagree: need min_depth (" + std::to_string(c.min_depth) +
                             ") <= initial_depth (" + std::to_string(c.initial_depth) + ") <= max_depth (" +
                             std::to_string(c.max_depth) + ") < capacity (" + std::to_string(c.capacity) +
                             ") and clock_rate x frame_ms >= 1000 (one timestamp unit per frame at least)");
    }
    return std::make_unique<jitter::JitterBuffer>(c);
  }
  static std::string outcome(cc_jitter_status s) {
    if (s < 0) throw pyb::value_error(std::string("jitter: ") + cc_jitter_status_name(s));
    return cc_jitter_status_name(s);
  }
  mutable Shared<jitter::JitterBuffer> impl_;
};

}  // namespace

void register_jitter(pyb::module_ &root) {
  pyb::module_ m = root.def_submodule("jitter", "Adaptive RTP jitter buffer (one per stream)");
  pyb::class_<Frame>(m, "Frame", "One tick's outcome: kind 'frame' (payload), 'loss' (run PLC) or 'wait'.")
      .def_readonly("kind", &Frame::kind)
      .def_readonly("sequence", &Frame::sequence)
      .def_readonly("ext_seq", &Frame::ext_seq)
      .def_readonly("timestamp", &Frame::timestamp)
      .def_readonly("marker", &Frame::marker)
      .def_readonly("payload", &Frame::payload);
  pyb::class_<PyJitterBuffer>(m, "JitterBuffer",
                              "insert() on each arrival, tick() once per frame period. Settings (keywords): "
                              "capacity, max_payload, clock_rate, frame_ms, min_depth, max_depth, initial_depth, "
                              "reset_threshold, decrease_hold_ticks, shrink_window_ticks, target_quantile_permille. Safe to share between threads. Memory: "
                              "capacity x max_payload bytes reserved, resident only as payloads are stored.")
      .def(pyb::init<const pyb::kwargs &>())
      .def("insert", &PyJitterBuffer::insert, pyb::arg("sequence"), pyb::arg("timestamp"), pyb::arg("ssrc"),
           pyb::arg("payload"), pyb::arg("arrival_us"), pyb::arg("marker") = false,
           "Insert one packet; returns 'inserted', 'inserted_after_reset', 'duplicate' or 'late'.")
      .def("insert_rtp", &PyJitterBuffer::insert_rtp, pyb::arg("packet"), pyb::arg("arrival_us"),
           "Parse an RTP packet and insert its payload (outcome as insert()).")
      .def("tick", &PyJitterBuffer::tick, "One playout tick.")
      .def("reset", &PyJitterBuffer::reset)
      .def("stats", &PyJitterBuffer::stats, "Counters, target depth, delay and jitter.");
}

}  // namespace clutchcall::py
