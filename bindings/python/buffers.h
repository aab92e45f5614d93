// Buffer-protocol helpers shared by every binding file: validated, contiguous views of PCM
// (little-endian int16) and byte buffers, writable `out=` targets, and result allocation.
//
// Accepted inputs: anything exporting a C-contiguous buffer (bytes, bytearray, memoryview,
// array.array, NumPy arrays of any dimension). PCM may be given as int16 items (format 'h',
// '<h', '=h') or as raw bytes (item size 1, even length). Codes/packets are item size 1.
// Errors are ValueError/TypeError with the argument's name and the reason.
#ifndef CLUTCHCALL_BINDINGS_PYTHON_BUFFERS_H
#define CLUTCHCALL_BINDINGS_PYTHON_BUFFERS_H

#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace clutchcall::py {

namespace pyb = pybind11;

// A held Py_buffer (released on destruction); movable, not copyable.
class View {
 public:
  View() = default;
  View(const View &) = delete;
  View &operator=(const View &) = delete;
  View(View &&o) noexcept;
  View &operator=(View &&o) noexcept;
  ~View();

  // Acquire `obj`'s buffer; TypeError if it has none (or is read-only when `writable`),
  // ValueError if it is not C-contiguous.
  static View acquire(pyb::handle obj, bool writable, const char *what);
  // Fast path for an exact `bytes` object (immutable, kept alive by the caller for the call):
  // a view of its storage without the buffer protocol.
  static View of_bytes(pyb::handle obj) noexcept;

  void *data() const noexcept { return view_.buf; }
  size_t bytes() const noexcept { return static_cast<size_t>(view_.len); }
  size_t itemsize() const noexcept { return static_cast<size_t>(view_.itemsize); }
  const char *format() const noexcept { return view_.format != nullptr ? view_.format : "B"; }

 private:
  Py_buffer view_{};
  bool held_ = false;
};

// PCM input: the view and its sample count. The pointer may be 1-byte aligned (bytes slices);
// `aligned_pcm` copies when needed.
struct PcmIn {
  View view;
  size_t samples = 0;
};
PcmIn pcm_in(pyb::handle obj, const char *what);

// Code/packet input (item size 1).
struct BytesIn {
  View view;
  size_t size = 0;
};
BytesIn bytes_in(pyb::handle obj, const char *what);

// Writable output of at least `need_bytes` bytes (ValueError naming both sizes otherwise).
View out_buffer(pyb::handle obj, size_t need_bytes, const char *what);

// Run `kernel(pcm, n)` on int16 data that is suitably aligned (copying into `scratch` if the
// caller's buffer is not 2-byte aligned). Called without the GIL.
const int16_t *aligned_pcm(const void *p, size_t samples, std::vector<int16_t> &scratch);

// A new bytes object of `n` bytes and its writable storage (fill before anyone else sees it).
pyb::bytes new_bytes(size_t n, char **storage);

// True if p is aligned for T.
template <class T>
bool is_aligned(const void *p) {
  return reinterpret_cast<std::uintptr_t>(p) % alignof(T) == 0;
}

}  // namespace clutchcall::py

#endif  // CLUTCHCALL_BINDINGS_PYTHON_BUFFERS_H
