// clutchcall_core.transcode: frame-by-frame Transcoder between two IDL audio shapes.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "bindings.h"
#include "buffers.h"
#include "transcode/transcoder.h"

namespace clutchcall::py {
namespace {

[[noreturn]] void fail(cc_transcode_status s) {
  throw pyb::value_error(std::string("transcode: ") + cc_transcode_status_name(s));
}

const std::map<std::string, uint32_t> &codec_names() {
  static const std::map<std::string, uint32_t> names{
      {"opus", CC_CODEC_OPUS}, {"pcm16", CC_CODEC_PCM16}, {"g711_ulaw", CC_CODEC_G711_ULAW},
      {"g711_alaw", CC_CODEC_G711_ALAW}};
  return names;
}

// A shape from a mapping {"codec": "opus"|..., "sample_rate": ..., "channels": ..., "frame_ms": ...};
// missing keys (or 0) take the IDL defaults. Each bad value is reported by its key.
cc_audio_shape shape_from(const pyb::dict &d, const std::string &what) {
  cc_audio_shape s{0, 0, 0, 0};
  for (auto item : d) {
    const std::string key = pyb::str(item.first);
    const std::string name = what + "['" + key + "']";
    if (key == "codec") {
      if (pyb::isinstance<pyb::str>(item.second)) {
        const std::string codec = pyb::str(item.second);
        auto it = codec_names().find(codec);
        if (it == codec_names().end()) {
          throw pyb::value_error(name + ": unknown codec '" + codec + "' (opus, pcm16, g711_ulaw, g711_alaw)");
        }
        s.codec = it->second;
      } else {
        s.codec = int_as<uint32_t>(item.second, name, 0, CC_CODEC_G711_ALAW);
      }
    } else if (key == "sample_rate") {
      s.sample_rate = int_as<uint32_t>(item.second, name, 0, 48000);
    } else if (key == "channels") {
      s.channels = int_as<uint32_t>(item.second, name, 0, 2);
    } else if (key == "frame_ms") {
      s.frame_ms = int_as<uint32_t>(item.second, name, 0, 60);
    } else {
      throw pyb::value_error(what + ": unknown key '" + key + "' (codec, sample_rate, channels, frame_ms)");
    }
  }
  s = cc_audio_shape_normalize(s);
  const cc_transcode_status st = cc_audio_shape_validate(&s);
  if (st == CC_TRANSCODE_OK) return s;
  if (st == CC_TRANSCODE_ERR_BAD_RATE) {
    throw pyb::value_error(what + "['sample_rate']: " + std::to_string(s.sample_rate) +
                           " Hz is not allowed for this codec (8000, 16000, 24000, 48000; Opus also 12000)");
  }
  if (st == CC_TRANSCODE_ERR_BAD_FRAME_MS) {
    throw pyb::value_error(what + "['frame_ms']: " + std::to_string(s.frame_ms) + " is not one of 10, 20, 40, 60");
  }
  if (st == CC_TRANSCODE_ERR_G711_NOT_8K_MONO) throw pyb::value_error(what + ": G.711 is 8000 Hz mono only");
  fail(st);
}

pyb::dict shape_dict(const cc_audio_shape &s) {
  pyb::dict d;
  std::string codec = std::to_string(s.codec);
  for (const auto &[name, value] : codec_names()) {
    if (value == s.codec) codec = name;
  }
  d["codec"] = codec;
  d["sample_rate"] = s.sample_rate;
  d["channels"] = s.channels;
  d["frame_ms"] = s.frame_ms;
  return d;
}

// Safe to share between threads: every call holds the object's lock (GIL released first), and
// the output is copied out under it.
class PyTranscoder {
 public:
  PyTranscoder(const pyb::dict &in, const pyb::dict &out, const cc_opus_encoder_settings &settings)
      : impl_(make(shape_from(in, "input"), shape_from(out, "output"), settings)) {}

  pyb::list process(pyb::handle data) {
    BytesIn in = bytes_in(data, "data");
    return run([&](transcode::Transcoder &t, cc_transcode_output *o) {
      return t.process(static_cast<const uint8_t *>(in.view.data()), in.size, o);
    });
  }
  pyb::list process_lost(pyb::handle next_packet) {
    if (next_packet.is_none()) {
      return run([](transcode::Transcoder &t, cc_transcode_output *o) { return t.process_lost(nullptr, 0, o); });
    }
    BytesIn in = bytes_in(next_packet, "next_packet");
    return run([&](transcode::Transcoder &t, cc_transcode_output *o) {
      return t.process_lost(static_cast<const uint8_t *>(in.view.data()), in.size, o);
    });
  }
  pyb::list flush() {
    return run([](transcode::Transcoder &t, cc_transcode_output *o) { return t.flush(o); });
  }
  const transcode::Transcoder &fixed() const { return impl_.fixed(); }  // shapes and bounds

 private:
  static std::unique_ptr<transcode::Transcoder> make(const cc_audio_shape &in, const cc_audio_shape &out,
                                                     const cc_opus_encoder_settings &settings) {
    cc_transcode_status s = CC_TRANSCODE_OK;
    auto t = transcode::Transcoder::create(in, out, settings, &s);
    if (!t) fail(s);
    return t;
  }

  template <class F>
  pyb::list run(F &&call) {
    std::vector<uint8_t> data(fixed().max_output_bytes());
    std::vector<uint32_t> lens(fixed().max_output_frames());
    cc_transcode_output o{data.data(), data.size(), lens.data(), lens.size(), 0, 0};
    const cc_transcode_status s = without_gil(impl_, [&](transcode::Transcoder &t) { return call(t, &o); });
    if (s != CC_TRANSCODE_OK) fail(s);
    pyb::list frames;
    size_t at = 0;
    for (size_t i = 0; i < o.n_frames; ++i) {
      frames.append(pyb::bytes(reinterpret_cast<const char *>(data.data() + at), lens[i]));
      at += lens[i];
    }
    return frames;
  }

  Shared<transcode::Transcoder> impl_;
};

}  // namespace

void register_transcode(pyb::module_ &root) {
  pyb::module_ m = root.def_submodule("transcode", "Frame-by-frame transcoding between IDL audio shapes");
  pyb::class_<PyTranscoder>(m, "Transcoder",
                            "Converts a stream of frames from one AudioShape to another (one per call direction).\n"
                            "Shapes are dicts: codec ('opus', 'pcm16', 'g711_ulaw', 'g711_alaw'), sample_rate,\n"
                            "channels, frame_ms; missing keys take the IDL defaults (opus, 48000, 1, 20).\n"
                            "Safe to share between threads (calls take the object's lock, without the GIL).")
      .def(pyb::init([](pyb::handle in, pyb::handle out, pyb::handle bitrate, pyb::handle complexity,
                        pyb::handle fec, pyb::handle loss, pyb::handle dtx) {
             auto shape = [](pyb::handle h, const char *name) {
               if (!pyb::isinstance<pyb::dict>(h)) {
                 throw pyb::type_error(std::string(name) + ": expected a dict (codec, sample_rate, channels, "
                                       "frame_ms), got " + std::string(pyb::repr(h)));
               }
               return h.cast<pyb::dict>();
             };
             return std::make_unique<PyTranscoder>(shape(in, "input"), shape(out, "output"),
                                                   opus_settings_from(bitrate, complexity, fec, loss, dtx));
           }),
           pyb::arg("input"), pyb::arg("output"), pyb::kw_only(), pyb::arg("bitrate") = pyb::none(),
           pyb::arg("complexity") = pyb::none(), pyb::arg("fec") = pyb::none(),
           pyb::arg("packet_loss_pct") = pyb::none(), pyb::arg("dtx") = pyb::none())
      .def("process", &PyTranscoder::process, pyb::arg("data"),
           "Feed one input frame (Opus: one packet); returns the completed output frames (list of bytes).")
      .def("process_lost", &PyTranscoder::process_lost, pyb::arg("next_packet") = pyb::none(),
           "One lost input frame: PLC, or FEC from next_packet (Opus input).")
      .def("flush", &PyTranscoder::flush, "End of stream: drain and pad the last frame.")
      .def_property_readonly("passthrough", [](const PyTranscoder &t) { return t.fixed().passthrough(); })
      .def_property_readonly("input", [](const PyTranscoder &t) { return shape_dict(t.fixed().in_shape()); })
      .def_property_readonly("output", [](const PyTranscoder &t) { return shape_dict(t.fixed().out_shape()); });
}

}  // namespace clutchcall::py
