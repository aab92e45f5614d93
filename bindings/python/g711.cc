// clutchcall_core.g711: the exact G.711 surface over core/g711, plus out=, batch calls
// and SIMD path control. Kernels run with the GIL released.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <string>
#include <vector>

#include "bindings.h"
#include "buffers.h"
#include "g711/g711.h"

namespace clutchcall::py {
namespace {

// Releasing and re-taking the GIL costs more than converting a 20 ms frame (~50 ns vs ~20 ns), so
// the GIL is released only for inputs of at least this many samples (batch calls: in total).
constexpr size_t kReleaseGilSamples = 4096;

// gil_scoped_release that is a no-op below the threshold.
class MaybeNoGil {
 public:
  explicit MaybeNoGil(size_t samples) : save_(samples >= kReleaseGilSamples ? PyEval_SaveThread() : nullptr) {}
  ~MaybeNoGil() {
    if (save_ != nullptr) PyEval_RestoreThread(save_);
  }
  MaybeNoGil(const MaybeNoGil &) = delete;
  MaybeNoGil &operator=(const MaybeNoGil &) = delete;

 private:
  PyThreadState *save_;
};

using EncodeFn = void (*)(const int16_t *, size_t, uint8_t *);
using DecodeFn = void (*)(const uint8_t *, size_t, int16_t *);
using ConvertFn = void (*)(const uint8_t *, size_t, uint8_t *);

// PCM (int16) -> codes (1 byte per sample).
pyb::object encode(EncodeFn kernel, pyb::handle pcm, pyb::handle out) {
  PcmIn in = pcm_in(pcm, "pcm");
  const size_t n = in.samples;
  std::vector<int16_t> scratch;
  if (out.is_none()) {
    char *dst = nullptr;
    pyb::bytes result = new_bytes(n, &dst);
    {
      MaybeNoGil nogil(n);
      kernel(aligned_pcm(in.view.data(), n, scratch), n, reinterpret_cast<uint8_t *>(dst));
    }
    return result;
  }
  View o = out_buffer(out, n, "out");
  {
    MaybeNoGil nogil(n);
    kernel(aligned_pcm(in.view.data(), n, scratch), n, static_cast<uint8_t *>(o.data()));
  }
  return pyb::reinterpret_borrow<pyb::object>(out);
}

// codes -> PCM (2 bytes per sample, little-endian int16).
pyb::object decode(DecodeFn kernel, pyb::handle codes, pyb::handle out) {
  BytesIn in = bytes_in(codes, "codes");
  const size_t n = in.size;
  const auto *src = static_cast<const uint8_t *>(in.view.data());
  if (out.is_none()) {
    char *dst = nullptr;
    pyb::bytes result = new_bytes(2 * n, &dst);  // bytes storage is 8-byte aligned
    {
      MaybeNoGil nogil(n);
      kernel(src, n, reinterpret_cast<int16_t *>(dst));
    }
    return result;
  }
  View o = out_buffer(out, 2 * n, "out");
  {
    MaybeNoGil nogil(n);
    if (is_aligned<int16_t>(o.data())) {
      kernel(src, n, static_cast<int16_t *>(o.data()));
    } else {
      std::vector<int16_t> tmp(n);
      kernel(src, n, tmp.data());
      std::memcpy(o.data(), tmp.data(), 2 * n);
    }
  }
  return pyb::reinterpret_borrow<pyb::object>(out);
}

// codes -> codes (may run in place: out may be the input buffer).
pyb::object convert(ConvertFn kernel, pyb::handle codes, pyb::handle out) {
  if (!out.is_none()) {
    // Acquire the output first: if it is the input object, the writable request must succeed.
    View o = View::acquire(out, true, "out");
    BytesIn in = bytes_in(codes, "codes");
    if (o.bytes() < in.size) {
      throw pyb::value_error("out: buffer of " + std::to_string(o.bytes()) + " bytes is too small; " +
                             std::to_string(in.size) + " bytes needed");
    }
    const auto *src = static_cast<const uint8_t *>(in.view.data());
    auto *dst = static_cast<uint8_t *>(o.data());
    const bool partial_overlap = src != dst && src < dst + in.size && dst < src + in.size;
    MaybeNoGil nogil(in.size);
    if (partial_overlap) {
      std::vector<uint8_t> tmp(src, src + in.size);
      kernel(tmp.data(), in.size, dst);
    } else {
      kernel(src, in.size, dst);
    }
    return pyb::reinterpret_borrow<pyb::object>(out);
  }
  BytesIn in = bytes_in(codes, "codes");
  char *dst = nullptr;
  pyb::bytes result = new_bytes(in.size, &dst);
  {
    MaybeNoGil nogil(in.size);
    kernel(static_cast<const uint8_t *>(in.view.data()), in.size, reinterpret_cast<uint8_t *>(dst));
  }
  return result;
}

// Batch forms: every input is validated and every result allocated first, then ONE GIL release
// runs all the kernels.
struct Job {
  const void *src;
  size_t n;
  char *dst;
};

pyb::list encode_batch(EncodeFn kernel, const pyb::sequence &frames) {
  std::vector<PcmIn> ins;
  std::vector<Job> jobs;
  pyb::list results;
  ins.reserve(frames.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    const std::string what = "frames[" + std::to_string(i) + "]";
    ins.push_back(pcm_in(frames[i], what.c_str()));
    char *dst = nullptr;
    results.append(new_bytes(ins.back().samples, &dst));
    jobs.push_back({ins.back().view.data(), ins.back().samples, dst});
  }
  size_t total = 0;
  for (const Job &j : jobs) total += j.n;
  MaybeNoGil nogil(total);
  std::vector<int16_t> scratch;
  for (const Job &j : jobs) kernel(aligned_pcm(j.src, j.n, scratch), j.n, reinterpret_cast<uint8_t *>(j.dst));
  return results;
}

template <class Kernel, size_t OutBytes>
pyb::list bytes_batch(Kernel kernel, const pyb::sequence &frames) {
  std::vector<BytesIn> ins;
  std::vector<Job> jobs;
  pyb::list results;
  ins.reserve(frames.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    const std::string what = "frames[" + std::to_string(i) + "]";
    ins.push_back(bytes_in(frames[i], what.c_str()));
    char *dst = nullptr;
    results.append(new_bytes(OutBytes * ins.back().size, &dst));
    jobs.push_back({ins.back().view.data(), ins.back().size, dst});
  }
  size_t total = 0;
  for (const Job &j : jobs) total += j.n;
  MaybeNoGil nogil(total);
  using Out = std::conditional_t<OutBytes == 2, int16_t, uint8_t>;
  for (const Job &j : jobs) kernel(static_cast<const uint8_t *>(j.src), j.n, reinterpret_cast<Out *>(j.dst));
  return results;
}

cc_g711_level level_named(const std::string &name) {
  for (int i = CC_G711_SCALAR; i <= CC_G711_AVX512BW; ++i) {
    const auto l = static_cast<cc_g711_level>(i);
    if (name == cc_g711_level_name(l)) return l;
  }
  throw pyb::value_error("unknown SIMD level '" + name + "'; expected one of 'scalar', 'sse4.1', 'avx2', 'avx512bw'");
}

enum class Op { ulaw_encode, alaw_encode, ulaw_decode, alaw_decode, ulaw_to_alaw, alaw_to_ulaw };

// f(x, /, *, out=None) as a METH_FASTCALL|METH_KEYWORDS function; C++ errors become Python ones.
template <Op op>
PyObject *fast(PyObject *, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
  try {
    const Py_ssize_t nkw = kwnames != nullptr ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs != 1) throw pyb::type_error("expected exactly one positional argument (the buffer)");
    pyb::handle out = pyb::none();
    if (nkw == 1 && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "out") == 0) {
      out = args[1];
    } else if (nkw != 0) {
      throw pyb::type_error("the only keyword argument is out=");
    }
    pyb::object r;
    switch (op) {
      case Op::ulaw_encode: r = encode(cc_g711_ulaw_encode, args[0], out); break;
      case Op::alaw_encode: r = encode(cc_g711_alaw_encode, args[0], out); break;
      case Op::ulaw_decode: r = decode(cc_g711_ulaw_decode, args[0], out); break;
      case Op::alaw_decode: r = decode(cc_g711_alaw_decode, args[0], out); break;
      case Op::ulaw_to_alaw: r = convert(cc_g711_ulaw_to_alaw, args[0], out); break;
      case Op::alaw_to_ulaw: r = convert(cc_g711_alaw_to_ulaw, args[0], out); break;
    }
    return r.release().ptr();
  } catch (pyb::error_already_set &e) {
    e.restore();
  } catch (pyb::builtin_exception &e) {
    e.set_error();
  } catch (const std::bad_alloc &) {
    PyErr_NoMemory();
  } catch (const std::exception &e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

constexpr const char *kOutDoc =
    "\n\nout: optional writable buffer (bytearray, memoryview, NumPy array...) of at least the "
    "result's size; the result is written to its start and `out` itself is returned (no "
    "allocation). Without out, a new bytes object is returned.";

}  // namespace

void register_g711(pyb::module_ &root) {
  pyb::module_ m = root.def_submodule("g711", "G.711 mu-law / A-law, bit-exact to ITU-T G.191");
  const std::string enc_doc = std::string("Encode little-endian int16 PCM to one code byte per sample.") + kOutDoc;
  const std::string dec_doc = std::string("Decode code bytes to little-endian int16 PCM (2 bytes per code).") + kOutDoc;
  const std::string conv_doc = std::string("Convert code bytes (decode then encode through G.191); may run in place (out=codes).") + kOutDoc;

  // The six single-buffer calls are plain METH_FASTCALL functions rather than pybind11 dispatch:
  // per-call overhead is what a 20 ms frame costs (see benchmarks/g711/bench_g711.py).
  static const std::string docs[] = {
      "ulaw_encode($module, pcm, /, *, out=None)\n--\n\n" + enc_doc,
      "alaw_encode($module, pcm, /, *, out=None)\n--\n\n" + enc_doc,
      "ulaw_decode($module, codes, /, *, out=None)\n--\n\n" + dec_doc,
      "alaw_decode($module, codes, /, *, out=None)\n--\n\n" + dec_doc,
      "ulaw_to_alaw($module, codes, /, *, out=None)\n--\n\n" + conv_doc,
      "alaw_to_ulaw($module, codes, /, *, out=None)\n--\n\n" + conv_doc,
  };
  static PyMethodDef methods[] = {
      {"ulaw_encode", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&fast<Op::ulaw_encode>)),
       METH_FASTCALL | METH_KEYWORDS, docs[0].c_str()},
      {"alaw_encode", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&fast<Op::alaw_encode>)),
       METH_FASTCALL | METH_KEYWORDS, docs[1].c_str()},
      {"ulaw_decode", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&fast<Op::ulaw_decode>)),
       METH_FASTCALL | METH_KEYWORDS, docs[2].c_str()},
      {"alaw_decode", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&fast<Op::alaw_decode>)),
       METH_FASTCALL | METH_KEYWORDS, docs[3].c_str()},
      {"ulaw_to_alaw", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&fast<Op::ulaw_to_alaw>)),
       METH_FASTCALL | METH_KEYWORDS, docs[4].c_str()},
      {"alaw_to_ulaw", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&fast<Op::alaw_to_ulaw>)),
       METH_FASTCALL | METH_KEYWORDS, docs[5].c_str()},
      {nullptr, nullptr, 0, nullptr}};
  if (PyModule_AddFunctions(m.ptr(), methods) != 0) throw pyb::error_already_set();

  const char *batch_doc = "Batch form: one call (one GIL release) for a sequence of frames; returns a list of bytes.";
  m.def("ulaw_encode_batch", [](const pyb::sequence &f) { return encode_batch(cc_g711_ulaw_encode, f); },
        pyb::arg("frames"), batch_doc);
  m.def("alaw_encode_batch", [](const pyb::sequence &f) { return encode_batch(cc_g711_alaw_encode, f); },
        pyb::arg("frames"), batch_doc);
  m.def("ulaw_decode_batch", [](const pyb::sequence &f) { return bytes_batch<DecodeFn, 2>(cc_g711_ulaw_decode, f); },
        pyb::arg("frames"), batch_doc);
  m.def("alaw_decode_batch", [](const pyb::sequence &f) { return bytes_batch<DecodeFn, 2>(cc_g711_alaw_decode, f); },
        pyb::arg("frames"), batch_doc);
  m.def("ulaw_to_alaw_batch", [](const pyb::sequence &f) { return bytes_batch<ConvertFn, 1>(cc_g711_ulaw_to_alaw, f); },
        pyb::arg("frames"), batch_doc);
  m.def("alaw_to_ulaw_batch", [](const pyb::sequence &f) { return bytes_batch<ConvertFn, 1>(cc_g711_alaw_to_ulaw, f); },
        pyb::arg("frames"), batch_doc);

  m.def("simd_level", [] { return std::string(cc_g711_simd_level()); },
        "Name of the SIMD path in use: 'avx512bw', 'avx2', 'sse4.1' or 'scalar'.");
  m.def("supported_simd_levels", [] {
        std::vector<std::string> names;
        for (int i = CC_G711_SCALAR; i <= CC_G711_AVX512BW; ++i) {
          const auto l = static_cast<cc_g711_level>(i);
          if (cc_g711_level_supported(l)) names.emplace_back(cc_g711_level_name(l));
        }
        return names;
      },
      "Paths this CPU and build can run, slowest first.");
  m.def("force_simd_level", [](const std::string &name) {
        const cc_g711_level l = level_named(name);
        if (cc_g711_force_level(l) != 0) {
          throw pyb::value_error("SIMD level '" + name + "' is not supported on this CPU/build");
        }
      },
      pyb::arg("name"), "Force a path (tests, benchmarks); process-wide. ValueError if unknown or unsupported.");
  m.def("reset_simd_level", [] { cc_g711_reset_level(); }, "Return to the best path the CPU supports.");
}

}  // namespace clutchcall::py
