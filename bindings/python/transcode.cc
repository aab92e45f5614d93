// clutchcall_core.transcode: frame-by-frame Transcoder between two IDL audio shapes.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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
// missing keys take the IDL defaults.
cc_audio_shape shape_from(const pyb::dict &d, const char *what) {
  cc_audio_shape s{0, 0, 0, 0};
  for (auto item : d) {
    const std::string key = pyb::str(item.first);
    if (key == "codec") {
      if (pyb::isinstance<pyb::str>(item.second)) {
        const std::string name = pyb::str(item.second);
        auto it = codec_names().find(name);
        if (it == codec_names().end()) {
          throw pyb::value_error(std::string(what) + ": unknown codec '" + name +
                                 "' (opus, pcm16, g711_ulaw, g711_alaw)");
        }
        s.codec = it->second;
      } else {
        s.codec = item.second.cast<uint32_t>();
      }
    } else if (key == "sample_rate") {
      s.sample_rate = item.second.cast<uint32_t>();
    } else if (key == "channels") {
      s.channels = item.second.cast<uint32_t>();
    } else if (key == "frame_ms") {
      s.frame_ms = item.second.cast<uint32_t>();
    } else {
      throw pyb::value_error(std::string(what) + ": unknown key '" + key + "'");
    }
  }
  return cc_audio_shape_normalize(s);
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

class PyTranscoder {
 public:
  PyTranscoder(const pyb::dict &in, const pyb::dict &out, const cc_opus_encoder_settings &settings) {
    cc_transcode_status s = CC_TRANSCODE_OK;
    impl_ = transcode::Transcoder::create(shape_from(in, "input"), shape_from(out, "output"), settings, &s);
    if (!impl_) fail(s);
    data_.resize(impl_->max_output_bytes());
    lens_.resize(impl_->max_output_frames());
  }

  pyb::list process(pyb::handle data) {
    BytesIn in = bytes_in(data, "data");
    return run([&](cc_transcode_output *o) {
      return impl_->process(static_cast<const uint8_t *>(in.view.data()), in.size, o);
    });
  }
  pyb::list process_lost(pyb::handle next_packet) {
    if (next_packet.is_none()) return run([&](cc_transcode_output *o) { return impl_->process_lost(nullptr, 0, o); });
    BytesIn in = bytes_in(next_packet, "next_packet");
    return run([&](cc_transcode_output *o) {
      return impl_->process_lost(static_cast<const uint8_t *>(in.view.data()), in.size, o);
    });
  }
  pyb::list flush() {
    return run([&](cc_transcode_output *o) { return impl_->flush(o); });
  }
  const transcode::Transcoder &impl() const { return *impl_; }

 private:
  template <class F>
  pyb::list run(F &&call) {
    cc_transcode_output o{data_.data(), data_.size(), lens_.data(), lens_.size(), 0, 0};
    cc_transcode_status s;
    {
      pyb::gil_scoped_release nogil;
      s = call(&o);
    }
    if (s != CC_TRANSCODE_OK) fail(s);
    pyb::list frames;
    size_t at = 0;
    for (size_t i = 0; i < o.n_frames; ++i) {
      frames.append(pyb::bytes(reinterpret_cast<const char *>(data_.data() + at), lens_[i]));
      at += lens_[i];
    }
    return frames;
  }

  std::unique_ptr<transcode::Transcoder> impl_;
  std::vector<uint8_t> data_;
  std::vector<uint32_t> lens_;
};

}  // namespace

void register_transcode(pyb::module_ &root) {
  pyb::module_ m = root.def_submodule("transcode", "Frame-by-frame transcoding between IDL audio shapes");
  pyb::class_<PyTranscoder>(m, "Transcoder",
                            "Converts a stream of frames from one AudioShape to another (one per call direction).\n"
                            "Shapes are dicts: codec ('opus', 'pcm16', 'g711_ulaw', 'g711_alaw'), sample_rate,\n"
                            "channels, frame_ms; missing keys take the IDL defaults (opus, 48000, 1, 20).")
      .def(pyb::init([](const pyb::dict &in, const pyb::dict &out, std::optional<int> bitrate,
                        std::optional<int> complexity, std::optional<bool> fec, std::optional<int> loss,
                        std::optional<bool> dtx) {
             cc_opus_encoder_settings s = cc_opus_encoder_settings_default();
             if (bitrate) s.bitrate = *bitrate;
             if (complexity) s.complexity = *complexity;
             if (fec) s.fec = *fec ? 1 : 0;
             if (loss) s.packet_loss_pct = *loss;
             if (dtx) s.dtx = *dtx ? 1 : 0;
             return std::make_unique<PyTranscoder>(in, out, s);
           }),
           pyb::arg("input"), pyb::arg("output"), pyb::kw_only(), pyb::arg("bitrate") = pyb::none(),
           pyb::arg("complexity") = pyb::none(), pyb::arg("fec") = pyb::none(),
           pyb::arg("packet_loss_pct") = pyb::none(), pyb::arg("dtx") = pyb::none())
      .def("process", &PyTranscoder::process, pyb::arg("data"),
           "Feed one input frame (Opus: one packet); returns the completed output frames (list of bytes).")
      .def("process_lost", &PyTranscoder::process_lost, pyb::arg("next_packet") = pyb::none(),
           "One lost input frame: PLC, or FEC from next_packet (Opus input).")
      .def("flush", &PyTranscoder::flush, "End of stream: drain and pad the last frame.")
      .def_property_readonly("passthrough", [](const PyTranscoder &t) { return t.impl().passthrough(); })
      .def_property_readonly("input", [](const PyTranscoder &t) { return shape_dict(t.impl().in_shape()); })
      .def_property_readonly("output", [](const PyTranscoder &t) { return shape_dict(t.impl().out_shape()); });
}

}  // namespace clutchcall::py
