// The extension module clutchcall_core._core; the package clutchcall_core re-exports it.
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "g711/g711.h"

namespace pyb = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "ClutchCall C++ core: G.711 (SIMD), resampling, Opus, transcoding, RTP, jitter buffer";
  m.def("simd_level", [] { return std::string(cc_g711_simd_level()); },
        "Name of the SIMD path in use: 'avx512bw', 'avx2', 'sse4.1' or 'scalar'.");
  pyb::list components;
  clutchcall::py::register_g711(m);
  components.append("g711");
#ifdef CC_PY_HAVE_RESAMPLE
  clutchcall::py::register_resample(m);
  components.append("resample");
#endif
#ifdef CC_PY_HAVE_OPUS
  clutchcall::py::register_opus(m);
  components.append("opus");
#endif
#ifdef CC_PY_HAVE_TRANSCODE
  clutchcall::py::register_transcode(m);
  components.append("transcode");
#endif
#ifdef CC_PY_HAVE_RTP
  clutchcall::py::register_rtp(m);
  components.append("rtp");
#endif
#ifdef CC_PY_HAVE_JITTER
  clutchcall::py::register_jitter(m);
  components.append("jitter");
#endif
#ifdef CC_PY_HAVE_CODEC
  clutchcall::py::register_codec(m);
  components.append("codec");
#endif
#ifdef CC_PY_HAVE_RELAY
  clutchcall::py::register_relay(m);
  components.append("relay");
#endif
  m.attr("components") = pyb::tuple(components);
}
