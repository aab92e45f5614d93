// libFuzzer target: the generated datagram stream parser ("moqt_d14.datagram") must return a value or a decode
// error for any input and any chunking, never crash, over-read or hang. The first byte picks the
// chunk size (0: the whole input at once).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "clutchcall/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const clutchcall::StreamOps* ops = clutchcall::find_wire_stream("moqt_d14.datagram");
  if (ops == nullptr) std::abort();
  if (size == 0) return 0;
  const std::size_t chunk = data[0] % 17;
  clutchcall::Bytes in(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  auto r = ops->parse(in, chunk);
  if (r.ok() && !r->is_array()) std::abort();
  return 0;
}
