// Buffer-protocol helpers (see buffers.h).
#include "buffers.h"

#include <cstring>
#include <utility>

namespace clutchcall::py {

View::View(View &&o) noexcept : view_(o.view_), held_(o.held_) { o.held_ = false; }

View &View::operator=(View &&o) noexcept {
  if (this != &o) {
    if (held_) PyBuffer_Release(&view_);
    view_ = o.view_;
    held_ = std::exchange(o.held_, false);
  }
  return *this;
}

View::~View() {
  if (held_) PyBuffer_Release(&view_);
}

View View::acquire(pyb::handle obj, bool writable, const char *what) {
  if (!PyObject_CheckBuffer(obj.ptr())) {
    throw pyb::type_error(std::string(what) + ": expected a bytes-like object (buffer protocol), got " +
                          std::string(pyb::str(pyb::type::of(obj).attr("__name__"))));
  }
  View v;
  const int flags = PyBUF_STRIDES | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
  if (PyObject_GetBuffer(obj.ptr(), &v.view_, flags) != 0) {
    PyErr_Clear();
    if (writable) throw pyb::type_error(std::string(what) + ": expected a writable buffer (e.g. bytearray)");
    throw pyb::type_error(std::string(what) + ": could not get a buffer from the object");
  }
  v.held_ = true;
  if (!PyBuffer_IsContiguous(&v.view_, 'C')) {
    throw pyb::value_error(std::string(what) + ": buffer must be C-contiguous");
  }
  return v;
}

View View::of_bytes(pyb::handle obj) noexcept {
  View v;
  v.view_.buf = PyBytes_AS_STRING(obj.ptr());
  v.view_.len = PyBytes_GET_SIZE(obj.ptr());
  v.view_.itemsize = 1;
  v.view_.readonly = 1;
  return v;
}

namespace {
// int16 in native (= little-endian on every supported target) order.
bool is_int16_format(const char *f) {
  return std::strcmp(f, "h") == 0 || std::strcmp(f, "<h") == 0 || std::strcmp(f, "=h") == 0 ||
         std::strcmp(f, "@h") == 0;
}
bool is_byte_format(const char *f) {
  return std::strcmp(f, "B") == 0 || std::strcmp(f, "b") == 0 || std::strcmp(f, "c") == 0 ||
         std::strcmp(f, "<B") == 0 || std::strcmp(f, "=B") == 0 || std::strcmp(f, "@B") == 0;
}
}  // namespace

PcmIn pcm_in(pyb::handle obj, const char *what) {
  const bool exact_bytes = PyBytes_CheckExact(obj.ptr());
  PcmIn in{exact_bytes ? View::of_bytes(obj) : View::acquire(obj, false, what), 0};
  const char *f = in.view.format();
  if (in.view.itemsize() == 2) {
    if (!is_int16_format(f)) {
      throw pyb::value_error(std::string(what) + ": PCM must be little-endian int16; got item format '" + f +
                             "'");
    }
  } else if (in.view.itemsize() != 1 || !is_byte_format(f)) {
    throw pyb::value_error(std::string(what) + ": PCM must be little-endian int16 samples or raw bytes; got item " +
                           "format '" + f + "' of size " + std::to_string(in.view.itemsize()));
  }
  if (in.view.bytes() % 2 != 0) {
    throw pyb::value_error(std::string(what) + ": odd byte length " + std::to_string(in.view.bytes()) +
                           "; PCM is little-endian int16, 2 bytes per sample");
  }
  in.samples = in.view.bytes() / 2;
  return in;
}

BytesIn bytes_in(pyb::handle obj, const char *what) {
  if (PyBytes_CheckExact(obj.ptr())) return BytesIn{View::of_bytes(obj), static_cast<size_t>(PyBytes_GET_SIZE(obj.ptr()))};
  BytesIn in{View::acquire(obj, false, what), 0};
  if (in.view.itemsize() != 1 || !is_byte_format(in.view.format())) {
    throw pyb::value_error(std::string(what) + ": expected bytes (item size 1); got item format '" +
                           in.view.format() + "' of size " + std::to_string(in.view.itemsize()));
  }
  in.size = in.view.bytes();
  return in;
}

View out_buffer(pyb::handle obj, size_t need_bytes, const char *what) {
  View v = View::acquire(obj, true, what);
  if (v.bytes() < need_bytes) {
    throw pyb::value_error(std::string(what) + ": buffer of " + std::to_string(v.bytes()) +
                           " bytes is too small; " + std::to_string(need_bytes) + " bytes needed");
  }
  return v;
}

const int16_t *aligned_pcm(const void *p, size_t samples, std::vector<int16_t> &scratch) {
  if (is_aligned<int16_t>(p)) return static_cast<const int16_t *>(p);
  scratch.resize(samples);
  std::memcpy(scratch.data(), p, samples * sizeof(int16_t));
  return scratch.data();
}

pyb::bytes new_bytes(size_t n, char **storage) {
  PyObject *b = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(n));
  if (b == nullptr) throw pyb::error_already_set();
  *storage = PyBytes_AS_STRING(b);
  return pyb::reinterpret_steal<pyb::bytes>(b);
}

}  // namespace clutchcall::py
