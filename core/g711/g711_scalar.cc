// Scalar path: decoders and conversions by 256-entry tables built at compile time from the
// closed forms in g711_scalar.h; encoders by the closed forms (a 64 Ki table would not stay in
// L1 next to the caller's data).
#include "g711/g711_impl.h"
#include "g711/g711_scalar.h"

namespace clutchcall::g711 {
namespace {

constexpr auto kUlawDecode = scalar::make_table<int16_t, scalar::ulaw_decode>();
constexpr auto kAlawDecode = scalar::make_table<int16_t, scalar::alaw_decode>();
constexpr auto kUlawToAlaw = scalar::make_table<uint8_t, scalar::ulaw_to_alaw>();
constexpr auto kAlawToUlaw = scalar::make_table<uint8_t, scalar::alaw_to_ulaw>();

void ulaw_encode(const int16_t *in, size_t n, uint8_t *out) {
  for (size_t i = 0; i < n; ++i) out[i] = scalar::ulaw_encode(in[i]);
}
void alaw_encode(const int16_t *in, size_t n, uint8_t *out) {
  for (size_t i = 0; i < n; ++i) out[i] = scalar::alaw_encode(in[i]);
}
void ulaw_decode(const uint8_t *in, size_t n, int16_t *out) {
  for (size_t i = 0; i < n; ++i) out[i] = kUlawDecode[in[i]];
}
void alaw_decode(const uint8_t *in, size_t n, int16_t *out) {
  for (size_t i = 0; i < n; ++i) out[i] = kAlawDecode[in[i]];
}
void ulaw_to_alaw(const uint8_t *in, size_t n, uint8_t *out) {
  for (size_t i = 0; i < n; ++i) out[i] = kUlawToAlaw[in[i]];
}
void alaw_to_ulaw(const uint8_t *in, size_t n, uint8_t *out) {
  for (size_t i = 0; i < n; ++i) out[i] = kAlawToUlaw[in[i]];
}

}  // namespace

const Kernels kScalarKernels = {CC_G711_SCALAR, "scalar",    ulaw_encode,  ulaw_decode,  alaw_encode,
                                alaw_decode, ulaw_to_alaw, alaw_to_ulaw};

}  // namespace clutchcall::g711
