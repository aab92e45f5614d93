// libFuzzer target: the generated protobuf decoder of every DTO. The first byte picks the
// message type; a successful decode must re-encode, and re-decoding the re-encoding must give
// the same bytes again (canonical form is a fixed point).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "clutchcall/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::string_view> names = clutchcall::message_names();
  if (size == 0 || names.empty()) return 0;
  const auto* ops = clutchcall::find_message(names[data[0] % names.size()]);
  if (ops == nullptr) std::abort();
  clutchcall::Bytes in(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  auto once = ops->roundtrip(in);
  if (!once.ok()) return 0;
  auto twice = ops->roundtrip(*once);
  if (!twice.ok() || *twice != *once) std::abort();
  auto json = ops->to_json(in);
  if (!json.ok()) std::abort();
  auto back = ops->from_json(*json);
  (void)back;
  return 0;
}
