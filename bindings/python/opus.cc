// clutchcall_core.opus: per-session Opus Encoder/Decoder over core/opus (libopus).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "buffers.h"
#include "opus/opus_codec.h"

namespace clutchcall::py {
namespace {

[[noreturn]] void fail(cc_opus_status s) {
  throw pyb::value_error(std::string("opus: ") + cc_opus_status_name(s));
}

cc_opus_encoder_settings settings_from(std::optional<int> bitrate, std::optional<int> complexity,
                                       std::optional<bool> fec, std::optional<int> loss,
                                       std::optional<bool> dtx) {
  cc_opus_encoder_settings s = cc_opus_encoder_settings_default();
  if (bitrate) s.bitrate = *bitrate;
  if (complexity) s.complexity = *complexity;
  if (fec) s.fec = *fec ? 1 : 0;
  if (loss) s.packet_loss_pct = *loss;
  if (dtx) s.dtx = *dtx ? 1 : 0;
  return s;
}

class PyEncoder {
 public:
  PyEncoder(uint32_t rate, uint32_t channels, uint32_t frame_ms, const cc_opus_encoder_settings &s) {
    cc_opus_status st = CC_OPUS_OK;
    impl_ = opus::Encoder::create(rate, channels, frame_ms, s, &st);
    if (!impl_) fail(st);
  }
  pyb::bytes encode(pyb::handle pcm) {
    PcmIn in = pcm_in(pcm, "pcm");
    const size_t want = impl_->frame_frames() * impl_->channels();
    if (in.samples != want) {
      throw pyb::value_error("pcm: " + std::to_string(in.samples) + " samples; one frame is " + std::to_string(want));
    }
    std::vector<int16_t> scratch;
    uint8_t packet[CC_OPUS_MAX_PACKET];
    size_t len = 0;
    cc_opus_status s;
    {
      pyb::gil_scoped_release nogil;
      s = impl_->encode(aligned_pcm(in.view.data(), in.samples, scratch), impl_->frame_frames(), packet,
                        sizeof packet, &len);
    }
    if (s != CC_OPUS_OK) fail(s);
    return pyb::bytes(reinterpret_cast<const char *>(packet), len);
  }
  void reset() {
    const cc_opus_status s = impl_->reset();
    if (s != CC_OPUS_OK) fail(s);
  }
  const opus::Encoder &impl() const { return *impl_; }

 private:
  std::unique_ptr<opus::Encoder> impl_;
};

class PyDecoder {
 public:
  PyDecoder(uint32_t rate, uint32_t channels) {
    cc_opus_status st = CC_OPUS_OK;
    impl_ = opus::Decoder::create(rate, channels, &st);
    if (!impl_) fail(st);
  }
  pyb::bytes decode(pyb::handle packet) {
    BytesIn in = bytes_in(packet, "packet");
    return run([&](int16_t *pcm, size_t cap, size_t *got) {
      return impl_->decode(static_cast<const uint8_t *>(in.view.data()), in.size, pcm, cap, got);
    });
  }
  pyb::bytes decode_lost(size_t frames) {
    return run([&](int16_t *pcm, size_t cap, size_t *got) { return impl_->decode_lost(frames, pcm, cap, got); });
  }
  void reset() {
    const cc_opus_status s = impl_->reset();
    if (s != CC_OPUS_OK) fail(s);
  }
  const opus::Decoder &impl() const { return *impl_; }

 private:
  template <class F>
  pyb::bytes run(F &&call) {
    std::vector<int16_t> pcm(CC_OPUS_MAX_FRAME_FRAMES * impl_->channels());
    size_t got = 0;
    cc_opus_status s;
    {
      pyb::gil_scoped_release nogil;
      s = call(pcm.data(), CC_OPUS_MAX_FRAME_FRAMES, &got);
    }
    if (s != CC_OPUS_OK) fail(s);
    return pyb::bytes(reinterpret_cast<const char *>(pcm.data()), got * impl_->channels() * 2);
  }
  std::unique_ptr<opus::Decoder> impl_;
};

}  // namespace

void register_opus(pyb::module_ &root) {
  pyb::module_ m = root.def_submodule("opus", "Opus encode/decode (libopus), per-session state");
  m.attr("MAX_PACKET") = static_cast<int>(CC_OPUS_MAX_PACKET);
  m.attr("BITRATE_AUTO") = static_cast<int>(CC_OPUS_BITRATE_AUTO);
  m.attr("BITRATE_MAX") = static_cast<int>(CC_OPUS_BITRATE_MAX);
  pyb::class_<PyEncoder>(m, "Encoder", "Opus encoder (application VOIP); one fixed frame duration.")
      .def(pyb::init([](uint32_t rate, uint32_t channels, uint32_t frame_ms, std::optional<int> bitrate,
                        std::optional<int> complexity, std::optional<bool> fec, std::optional<int> loss,
                        std::optional<bool> dtx) {
             return std::make_unique<PyEncoder>(rate, channels, frame_ms,
                                                settings_from(bitrate, complexity, fec, loss, dtx));
           }),
           pyb::arg("rate"), pyb::arg("channels") = 1, pyb::arg("frame_ms") = 20, pyb::kw_only(),
           pyb::arg("bitrate") = pyb::none(), pyb::arg("complexity") = pyb::none(), pyb::arg("fec") = pyb::none(),
           pyb::arg("packet_loss_pct") = pyb::none(), pyb::arg("dtx") = pyb::none())
      .def("encode", &PyEncoder::encode, pyb::arg("pcm"), "Encode exactly one frame of PCM; returns one packet.")
      .def("reset", &PyEncoder::reset)
      .def_property_readonly("frame_frames", [](const PyEncoder &e) { return e.impl().frame_frames(); })
      .def_property_readonly("rate", [](const PyEncoder &e) { return e.impl().rate(); })
      .def_property_readonly("channels", [](const PyEncoder &e) { return e.impl().channels(); })
      .def_property_readonly("lookahead", [](const PyEncoder &e) { return e.impl().lookahead(); });
  pyb::class_<PyDecoder>(m, "Decoder", "Opus decoder; any valid packet (2.5..120 ms).")
      .def(pyb::init<uint32_t, uint32_t>(), pyb::arg("rate"), pyb::arg("channels") = 1)
      .def("decode", &PyDecoder::decode, pyb::arg("packet"), "Decode one packet; returns PCM bytes.")
      .def("decode_lost", &PyDecoder::decode_lost, pyb::arg("frames"),
           "Conceal `frames` lost frames (multiple of 2.5 ms); returns PCM bytes.")
      .def("reset", &PyDecoder::reset)
      .def_property_readonly("rate", [](const PyDecoder &d) { return d.impl().rate(); })
      .def_property_readonly("channels", [](const PyDecoder &d) { return d.impl().channels(); });
  m.def("packet_frames", [](pyb::handle packet, uint32_t rate) {
        BytesIn in = bytes_in(packet, "packet");
        size_t frames = 0;
        const cc_opus_status s =
            cc_opus_packet_frames(static_cast<const uint8_t *>(in.view.data()), in.size, rate, &frames);
        if (s != CC_OPUS_OK) fail(s);
        return frames;
      },
      pyb::arg("packet"), pyb::arg("rate"), "Duration of a packet in frames at `rate`, without decoding.");
}

}  // namespace clutchcall::py
