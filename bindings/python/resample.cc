// clutchcall_core.resample: one Resampler per stream over core/resample (speexdsp).
#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <vector>

#include "bindings.h"
#include "buffers.h"
#include "resample/resampler.h"

namespace clutchcall::py {
namespace {

using clutchcall::resample::Resampler;

[[noreturn]] void fail(cc_resampler_status s) {
  throw pyb::value_error(std::string("resample: ") + cc_resampler_status_name(s));
}

class PyResampler {
 public:
  PyResampler(uint32_t in_rate, uint32_t out_rate, uint32_t channels, int quality) {
    cc_resampler_status s = CC_RESAMPLER_OK;
    impl_ = Resampler::create(in_rate, out_rate, channels, quality, &s);
    if (!impl_) fail(s);
  }

  pyb::bytes process(pyb::handle pcm) {
    PcmIn in = pcm_in(pcm, "pcm");
    const size_t ch = impl_->channels();
    if (in.samples % ch != 0) {
      throw pyb::value_error("pcm: " + std::to_string(in.samples) + " samples is not a whole number of " +
                             std::to_string(ch) + "-channel frames");
    }
    const size_t frames = in.samples / ch;
    if (frames > CC_RESAMPLER_MAX_INPUT) fail(CC_RESAMPLER_ERR_INPUT_TOO_LARGE);
    return run([&](int16_t *out, size_t cap, size_t *got) {
      std::vector<int16_t> scratch;
      const int16_t *src = aligned_pcm(in.view.data(), in.samples, scratch);
      return frames == 0 ? CC_RESAMPLER_OK : impl_->process(src, frames, out, cap, got);
    }, impl_->max_output(frames));
  }

  pyb::bytes flush() {
    return run([&](int16_t *out, size_t cap, size_t *got) { return impl_->flush(out, cap, got); },
               impl_->max_output(impl_->input_latency()));
  }

  void reset() { impl_->reset(); }
  const Resampler &impl() const { return *impl_; }

 private:
  // Runs `call(out, cap_frames, &frames)` without the GIL into a scratch buffer, returns bytes.
  template <class F>
  pyb::bytes run(F &&call, size_t cap_frames) {
    std::vector<int16_t> out(cap_frames * impl_->channels());
    size_t got = 0;
    cc_resampler_status s;
    {
      pyb::gil_scoped_release nogil;
      s = call(out.data(), cap_frames, &got);
    }
    if (s != CC_RESAMPLER_OK) fail(s);
    return pyb::bytes(reinterpret_cast<const char *>(out.data()), got * impl_->channels() * 2);
  }

  std::unique_ptr<Resampler> impl_;
};

}  // namespace

void register_resample(pyb::module_ &root) {
  pyb::module_ m = root.def_submodule("resample", "Stateful sample-rate conversion (speexdsp)");
  m.attr("QUALITY_VOIP") = static_cast<int>(CC_RESAMPLER_QUALITY_VOIP);
  m.attr("RATES") = pyb::make_tuple(8000, 12000, 16000, 24000, 48000);
  pyb::class_<PyResampler>(m, "Resampler",
                           "One stream's resampler: interleaved little-endian int16 PCM in and out.\n"
                           "Frame-by-frame output equals whole-buffer output; flush() drains the tail.")
      .def(pyb::init<uint32_t, uint32_t, uint32_t, int>(), pyb::arg("in_rate"), pyb::arg("out_rate"),
           pyb::arg("channels") = 1, pyb::arg("quality") = static_cast<int>(CC_RESAMPLER_QUALITY_VOIP))
      .def("process", &PyResampler::process, pyb::arg("pcm"), "Resample PCM; returns the output PCM (bytes).")
      .def("flush", &PyResampler::flush, "Push the filter's latency of silence through; returns the tail.")
      .def("reset", &PyResampler::reset)
      .def_property_readonly("in_rate", [](const PyResampler &r) { return r.impl().in_rate(); })
      .def_property_readonly("out_rate", [](const PyResampler &r) { return r.impl().out_rate(); })
      .def_property_readonly("channels", [](const PyResampler &r) { return r.impl().channels(); })
      .def_property_readonly("input_latency", [](const PyResampler &r) { return r.impl().input_latency(); })
      .def_property_readonly("output_latency", [](const PyResampler &r) { return r.impl().output_latency(); });
}

}  // namespace clutchcall::py
