// clutchcall_core.opus: per-session Opus Encoder/Decoder over core/opus (libopus).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "bindings.h"
#include "buffers.h"
#include "opus/opus_codec.h"

namespace clutchcall::py {
namespace {

[[noreturn]] void fail(cc_opus_status s) {
  throw pyb::value_error(std::string("opus: ") + cc_opus_status_name(s));
}

uint32_t opus_rate_arg(pyb::handle v, const char *name) {
  const auto rate = int_as<uint32_t>(v, name, 8000, 48000);
  if (!cc_opus_rate_supported(rate)) {
    throw pyb::value_error(std::string(name) + ": " + std::to_string(rate) +
                           " Hz is not one of 8000, 12000, 16000, 24000, 48000");
  }
  return rate;
}

}  // namespace

cc_opus_encoder_settings opus_settings_from(pyb::handle bitrate, pyb::handle complexity, pyb::handle fec,
                                            pyb::handle loss, pyb::handle dtx) {
  cc_opus_encoder_settings s = cc_opus_encoder_settings_default();
  if (auto b = opt_int_arg(bitrate, "bitrate", CC_OPUS_BITRATE_AUTO, 510000)) {
    if (*b != CC_OPUS_BITRATE_AUTO && *b != CC_OPUS_BITRATE_MAX && (*b < 6000 || *b > 510000)) {
      throw pyb::value_error("bitrate: " + std::to_string(*b) +
                             " is not 6000..510000 bit/s, BITRATE_AUTO (-1000) or BITRATE_MAX (-1)");
    }
    s.bitrate = static_cast<int32_t>(*b);
  }
  if (auto c = opt_int_arg(complexity, "complexity", 0, 10)) s.complexity = static_cast<int32_t>(*c);
  if (auto f = opt_bool_arg(fec, "fec")) s.fec = *f ? 1 : 0;
  if (auto l = opt_int_arg(loss, "packet_loss_pct", 0, 100)) s.packet_loss_pct = static_cast<int32_t>(*l);
  if (auto d = opt_bool_arg(dtx, "dtx")) s.dtx = *d ? 1 : 0;
  return s;
}

namespace {

// Safe to share between threads: every call holds the object's lock (GIL released first).
class PyEncoder {
 public:
  PyEncoder(pyb::handle rate, pyb::handle channels, pyb::handle frame_ms, const cc_opus_encoder_settings &s)
      : impl_(make(opus_rate_arg(rate, "rate"), int_as<uint32_t>(channels, "channels", 1, 2),
                   frame_ms_arg(frame_ms), s)) {}
  pyb::bytes encode(pyb::handle pcm) {
    PcmIn in = pcm_in(pcm, "pcm");
    const size_t want = fixed().frame_frames() * fixed().channels();
    if (in.samples != want) {
      throw pyb::value_error("pcm: " + std::to_string(in.samples) + " samples; one frame is " + std::to_string(want));
    }
    std::vector<int16_t> scratch;
    uint8_t packet[CC_OPUS_MAX_PACKET];
    size_t len = 0;
    const cc_opus_status s = without_gil(impl_, [&](opus::Encoder &e) {
      return e.encode(aligned_pcm(in.view.data(), in.samples, scratch), e.frame_frames(), packet, sizeof packet,
                      &len);
    });
    if (s != CC_OPUS_OK) fail(s);
    return pyb::bytes(reinterpret_cast<const char *>(packet), len);
  }
  void reset() {
    const cc_opus_status s = without_gil(impl_, [](opus::Encoder &e) { return e.reset(); });
    if (s != CC_OPUS_OK) fail(s);
  }
  size_t lookahead() {
    return without_gil(impl_, [](const opus::Encoder &e) { return e.lookahead(); });
  }
  const opus::Encoder &fixed() const { return impl_.fixed(); }  // rate, channels, frame size

 private:
  static uint32_t frame_ms_arg(pyb::handle v) {
    const auto ms = int_as<uint32_t>(v, "frame_ms", 10, 60);
    if (ms != 10 && ms != 20 && ms != 40 && ms != 60) {
      throw pyb::value_error("frame_ms: " + std::to_string(ms) + " is not one of 10, 20, 40, 60");
    }
    return ms;
  }
  static std::unique_ptr<opus::Encoder> make(uint32_t rate, uint32_t channels, uint32_t frame_ms,
                                             const cc_opus_encoder_settings &s) {
    cc_opus_status st = CC_OPUS_OK;
    auto e = opus::Encoder::create(rate, channels, frame_ms, s, &st);
    if (!e) fail(st);
    return e;
  }
  Shared<opus::Encoder> impl_;
};

// Safe to share between threads, as PyEncoder.
class PyDecoder {
 public:
  PyDecoder(pyb::handle rate, pyb::handle channels)
      : impl_(make(opus_rate_arg(rate, "rate"), int_as<uint32_t>(channels, "channels", 1, 2))) {}
  pyb::bytes decode(pyb::handle packet) {
    BytesIn in = bytes_in(packet, "packet");
    return run([&](opus::Decoder &d, int16_t *pcm, size_t cap, size_t *got) {
      return d.decode(static_cast<const uint8_t *>(in.view.data()), in.size, pcm, cap, got);
    });
  }
  pyb::bytes decode_lost(pyb::handle frames) {
    const auto n = int_as<size_t>(frames, "frames", 0, CC_OPUS_MAX_FRAME_FRAMES);
    return run([&](opus::Decoder &d, int16_t *pcm, size_t cap, size_t *got) { return d.decode_lost(n, pcm, cap, got); });
  }
  void reset() {
    const cc_opus_status s = without_gil(impl_, [](opus::Decoder &d) { return d.reset(); });
    if (s != CC_OPUS_OK) fail(s);
  }
  const opus::Decoder &fixed() const { return impl_.fixed(); }  // rate, channels

 private:
  static std::unique_ptr<opus::Decoder> make(uint32_t rate, uint32_t channels) {
    cc_opus_status st = CC_OPUS_OK;
    auto d = opus::Decoder::create(rate, channels, &st);
    if (!d) fail(st);
    return d;
  }
  template <class F>
  pyb::bytes run(F &&call) {
    std::vector<int16_t> pcm(CC_OPUS_MAX_FRAME_FRAMES * fixed().channels());
    size_t got = 0;
    const cc_opus_status s =
        without_gil(impl_, [&](opus::Decoder &d) { return call(d, pcm.data(), CC_OPUS_MAX_FRAME_FRAMES, &got); });
    if (s != CC_OPUS_OK) fail(s);
    return pyb::bytes(reinterpret_cast<const char *>(pcm.data()), got * fixed().channels() * 2);
  }
  Shared<opus::Decoder> impl_;
};

}  // namespace

void register_opus(pyb::module_ &root) {
  pyb::module_ m = root.def_submodule("opus", "Opus encode/decode (libopus), per-session state");
  m.attr("MAX_PACKET") = static_cast<int>(CC_OPUS_MAX_PACKET);
  m.attr("BITRATE_AUTO") = static_cast<int>(CC_OPUS_BITRATE_AUTO);
  m.attr("BITRATE_MAX") = static_cast<int>(CC_OPUS_BITRATE_MAX);
  pyb::class_<PyEncoder>(m, "Encoder",
                         "Opus encoder (application VOIP); one fixed frame duration. Safe to share between threads.")
      .def(pyb::init([](pyb::handle rate, pyb::handle channels, pyb::handle frame_ms, pyb::handle bitrate,
                        pyb::handle complexity, pyb::handle fec, pyb::handle loss, pyb::handle dtx) {
             return std::make_unique<PyEncoder>(rate, channels, frame_ms,
                                                opus_settings_from(bitrate, complexity, fec, loss, dtx));
           }),
           pyb::arg("rate"), pyb::arg("channels") = 1, pyb::arg("frame_ms") = 20, pyb::kw_only(),
           pyb::arg("bitrate") = pyb::none(), pyb::arg("complexity") = pyb::none(), pyb::arg("fec") = pyb::none(),
           pyb::arg("packet_loss_pct") = pyb::none(), pyb::arg("dtx") = pyb::none())
      .def("encode", &PyEncoder::encode, pyb::arg("pcm"), "Encode exactly one frame of PCM; returns one packet.")
      .def("reset", &PyEncoder::reset)
      .def_property_readonly("frame_frames", [](const PyEncoder &e) { return e.fixed().frame_frames(); })
      .def_property_readonly("rate", [](const PyEncoder &e) { return e.fixed().rate(); })
      .def_property_readonly("channels", [](const PyEncoder &e) { return e.fixed().channels(); })
      .def_property_readonly("lookahead", &PyEncoder::lookahead);
  pyb::class_<PyDecoder>(m, "Decoder", "Opus decoder; any valid packet (2.5..120 ms). Safe to share between threads.")
      .def(pyb::init<pyb::handle, pyb::handle>(), pyb::arg("rate"), pyb::arg("channels") = 1)
      .def("decode", &PyDecoder::decode, pyb::arg("packet"), "Decode one packet; returns PCM bytes.")
      .def("decode_lost", &PyDecoder::decode_lost, pyb::arg("frames"),
           "Conceal `frames` lost frames (multiple of 2.5 ms); returns PCM bytes.")
      .def("reset", &PyDecoder::reset)
      .def_property_readonly("rate", [](const PyDecoder &d) { return d.fixed().rate(); })
      .def_property_readonly("channels", [](const PyDecoder &d) { return d.fixed().channels(); });
  m.def("packet_frames", [](pyb::handle packet, pyb::handle rate_arg) {
        const uint32_t rate = opus_rate_arg(rate_arg, "rate");
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
