// clutchcall_core.resample: one Resampler per stream over core/resample (speexdsp).
#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "bindings.h"
#include "buffers.h"
#include "resample/resampler.h"

namespace clutchcall::py {
namespace {

using clutchcall::resample::Resampler;

[[noreturn]] void fail(cc_resampler_status s) {
  throw pyb::value_error(std::string("resample: ") + cc_resampler_status_name(s));
}

uint32_t rate_arg(pyb::handle v, const char *name) {
  const auto rate = int_as<uint32_t>(v, name, 8000, 48000);
  if (!cc_resampler_rate_supported(rate)) {
    throw pyb::value_error(std::string(name) + ": " + std::to_string(rate) +
                           " Hz is not one of 8000, 12000, 16000, 24000, 48000");
  }
  return rate;
}

// Safe to share between threads: every call holds the object's lock (GIL released first).
class PyResampler {
 public:
  PyResampler(pyb::handle in_rate, pyb::handle out_rate, pyb::handle channels, pyb::handle quality)
      : impl_(make(rate_arg(in_rate, "in_rate"), rate_arg(out_rate, "out_rate"),
                   int_as<uint32_t>(channels, "channels", 1, 2),
                   int_as<int>(quality, "quality", 0, CC_RESAMPLER_QUALITY_MAX))) {}

  pyb::bytes process(pyb::handle pcm) {
    PcmIn in = pcm_in(pcm, "pcm");
    const size_t ch = fixed().channels();
    if (in.samples % ch != 0) {
      throw pyb::value_error("pcm: " + std::to_string(in.samples) + " samples is not a whole number of " +
                             std::to_string(ch) + "-channel frames");
    }
    const size_t frames = in.samples / ch;
    if (frames > CC_RESAMPLER_MAX_INPUT) fail(CC_RESAMPLER_ERR_INPUT_TOO_LARGE);
    return run([&](Resampler &r, int16_t *out, size_t cap, size_t *got) {
      std::vector<int16_t> scratch;
      const int16_t *src = aligned_pcm(in.view.data(), in.samples, scratch);
      return frames == 0 ? CC_RESAMPLER_OK : r.process(src, frames, out, cap, got);
    }, fixed().max_output(frames));
  }

  pyb::bytes flush() {
    return run([](Resampler &r, int16_t *out, size_t cap, size_t *got) { return r.flush(out, cap, got); },
               fixed().max_output(fixed().input_latency()));
  }

  void reset() {
    without_gil(impl_, [](Resampler &r) { r.reset(); });
  }
  // Rates, channels and latencies are fixed at creation.
  const Resampler &fixed() const { return impl_.fixed(); }

 private:
  static std::unique_ptr<Resampler> make(uint32_t in_rate, uint32_t out_rate, uint32_t channels, int quality) {
    cc_resampler_status s = CC_RESAMPLER_OK;
    auto r = Resampler::create(in_rate, out_rate, channels, quality, &s);
    if (!r) fail(s);
    return r;
  }

  // Runs `call(resampler, out, cap_frames, &frames)` without the GIL, under the lock, into a
  // scratch buffer; returns the output as bytes.
  template <class F>
  pyb::bytes run(F &&call, size_t cap_frames) {
    const size_t ch = fixed().channels();
    std::vector<int16_t> out(cap_frames * ch);
    size_t got = 0;
    const cc_resampler_status s =
        without_gil(impl_, [&](Resampler &r) { return call(r, out.data(), cap_frames, &got); });
    if (s != CC_RESAMPLER_OK) fail(s);
    return pyb::bytes(reinterpret_cast<const char *>(out.data()), got * ch * 2);
  }

  Shared<Resampler> impl_;
};

}  // namespace

void register_resample(pyb::module_ &root) {
  pyb::module_ m = root.def_submodule("resample", "Stateful sample-rate conversion (speexdsp)");
  m.attr("QUALITY_VOIP") = static_cast<int>(CC_RESAMPLER_QUALITY_VOIP);
  m.attr("RATES") = pyb::make_tuple(8000, 12000, 16000, 24000, 48000);
  pyb::class_<PyResampler>(m, "Resampler",
                           "One stream's resampler: interleaved little-endian int16 PCM in and out. Safe to share between\n"
                           "threads (calls take the object's lock, without the GIL).\n"
                           "Frame-by-frame output equals whole-buffer output; flush() drains the tail.")
      .def(pyb::init<pyb::handle, pyb::handle, pyb::handle, pyb::handle>(), pyb::arg("in_rate"), pyb::arg("out_rate"),
           pyb::arg("channels") = 1, pyb::arg("quality") = static_cast<int>(CC_RESAMPLER_QUALITY_VOIP))
      .def("process", &PyResampler::process, pyb::arg("pcm"), "Resample PCM; returns the output PCM (bytes).")
      .def("flush", &PyResampler::flush, "Push the filter's latency of silence through; returns the tail.")
      .def("reset", &PyResampler::reset)
      .def_property_readonly("in_rate", [](const PyResampler &r) { return r.fixed().in_rate(); })
      .def_property_readonly("out_rate", [](const PyResampler &r) { return r.fixed().out_rate(); })
      .def_property_readonly("channels", [](const PyResampler &r) { return r.fixed().channels(); })
      .def_property_readonly("input_latency", [](const PyResampler &r) { return r.fixed().input_latency(); })
      .def_property_readonly("output_latency", [](const PyResampler &r) { return r.fixed().output_latency(); });
}

}  // namespace clutchcall::py
