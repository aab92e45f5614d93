// clutchcall_core.jitter: the adaptive jitter buffer over core/jitter.
#include <pybind11/pybind11.h>

#include <string>

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

class PyJitterBuffer {
 public:
  explicit PyJitterBuffer(const pyb::kwargs &kw) {
    cc_jitter_config c;
    cc_jitter_config_default(&c);
    for (auto item : kw) {
      const std::string key = pyb::str(item.first);
      const auto v = item.second.cast<uint32_t>();
      if (key == "capacity") c.capacity = v;
      else if (key == "max_payload") c.max_payload = v;
      else if (key == "clock_rate") c.clock_rate = v;
      else if (key == "frame_ms") c.frame_ms = v;
      else if (key == "min_depth") c.min_depth = v;
      else if (key == "max_depth") c.max_depth = v;
      else if (key == "initial_depth") c.initial_depth = v;
      else if (key == "reset_threshold") c.reset_threshold = v;
      else if (key == "decrease_hold_ticks") c.decrease_hold_ticks = v;
      else if (key == "shrink_window_ticks") c.shrink_window_ticks = v;
      else throw pyb::type_error("JitterBuffer: unknown setting '" + key + "'");
    }
    const cc_jitter_status s = cc_jitter_create(&c, &jb_);
    if (s != CC_JITTER_INSERTED || jb_ == nullptr) {
      throw pyb::value_error(std::string("jitter: ") + cc_jitter_status_name(s));
    }
  }
  ~PyJitterBuffer() { cc_jitter_destroy(jb_); }
  PyJitterBuffer(const PyJitterBuffer &) = delete;
  PyJitterBuffer &operator=(const PyJitterBuffer &) = delete;

  std::string insert(int sequence, uint32_t timestamp, uint32_t ssrc, pyb::handle payload, int64_t arrival_us,
                     bool marker) {
    if (sequence < 0 || sequence > 0xFFFF) throw pyb::value_error("jitter: sequence must be 0..65535");
    BytesIn in = bytes_in(payload, "payload");
    static const uint8_t kEmpty[1] = {0};
    const auto *data = in.size ? static_cast<const uint8_t *>(in.view.data()) : kEmpty;
    const cc_jitter_packet p{static_cast<uint16_t>(sequence), timestamp, ssrc, marker ? uint8_t{1} : uint8_t{0},
                             data, in.size, arrival_us};
    return outcome(cc_jitter_insert(jb_, &p));
  }

  std::string insert_rtp(pyb::handle packet, int64_t arrival_us) {
    BytesIn in = bytes_in(packet, "packet");
    cc_rtp_packet p{};
    const cc_rtp_status s = cc_rtp_parse(static_cast<const uint8_t *>(in.view.data()), in.size, &p);
    if (s != CC_RTP_OK) throw pyb::value_error(std::string("rtp: ") + cc_rtp_status_name(s));
    const cc_jitter_packet jp{p.sequence, p.timestamp, p.ssrc, p.marker, p.payload, p.payload_len, arrival_us};
    return outcome(cc_jitter_insert(jb_, &jp));
  }

  Frame tick() {
    cc_jitter_frame f{};
    cc_jitter_tick(jb_, &f);
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
  }

  void reset() { cc_jitter_reset(jb_); }

  pyb::dict stats() const {
    cc_jitter_stats s;
    cc_jitter_get_stats(jb_, &s);
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
  static std::string outcome(cc_jitter_status s) {
    if (s < 0) throw pyb::value_error(std::string("jitter: ") + cc_jitter_status_name(s));
    return cc_jitter_status_name(s);
  }
  cc_jitter *jb_ = nullptr;
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
                              "reset_threshold, decrease_hold_ticks, shrink_window_ticks.")
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
