// SSE4.1 / AVX2 kernels, written once over a vector-ops traits type `T` (16-bit lanes).
// Included INSIDE an anonymous namespace by g711_sse41.cc and g711_avx2.cc, each compiled with
// its own -m flags, so every instantiation has internal linkage and cannot be merged across
// paths by the linker. No #includes here for that reason.
//
// The arithmetic mirrors the closed forms in g711_scalar.h. pshufb does the small per-lane table
// look-ups; an index word with 0x80 in its high byte yields a zero-extended byte, which is why
// several indices are OR-ed with 0x8000. Variable shifts (absent for 16-bit lanes before
// AVX-512BW) become multiplications by a looked-up power of two.

template <class T>
struct Generic {
  using V = typename T::V;
  static constexpr size_t kLanes = T::kLanes;

  static V c16(int v) { return T::set1(static_cast<int16_t>(v)); }

  // codes (0..255 per 16-bit lane) -> PCM
  static V ulaw_decode(V c) {
    const V t = T::xor_(c, c16(0xFF));  // ~code in the low byte
    const V idx = T::or_(T::template srli<4>(t), c16(0x8000));
    const V pow = T::shuffle(T::table(x86::kUlawDecPow), idx);                  // 1 << e
    const V base = T::add(T::and_(T::template slli<3>(t), c16(0x78)), c16(132));  // 8m + 132
    const V mag = T::sub(T::mullo(base, pow), c16(132));
    return T::sign(mag, T::or_(T::template slli<8>(t), c16(1)));  // negate iff t & 0x80
  }

  static V alaw_decode(V c) {
    const V t = T::xor_(c, c16(0xD5));  // bits 0..6 = code ^ 0x55; bit 7 set iff negative
    const V idx = T::or_(T::template srli<4>(t), c16(0x8000));
    const V base = T::add(T::and_(T::template slli<1>(t), c16(0x1E)),
                          T::shuffle(T::table(x86::kAlawDecBase), idx));  // 2m + (e ? 33 : 1)
    const V mag = T::mullo(T::template slli<3>(base), T::shuffle(T::table(x86::kAlawDecPow), idx));
    return T::sign(mag, T::or_(T::template slli<8>(t), c16(1)));
  }

  // PCM -> codes (0..255 per 16-bit lane)
  static V ulaw_encode(V x) {
    const V s = T::template srai<15>(x);
    const V a = T::min_u16(T::add(T::template srli<2>(T::xor_(x, s)), c16(33)), c16(0x1FFF));
    const V lo = T::and_(T::template srli<6>(a), c16(15));
    const V hi = T::template srli<10>(a);
    const V g = T::max_u16(T::shuffle(T::table(x86::kBitWidthLo), lo),
                           T::shuffle(T::table(x86::kBitWidthHi), hi));  // bit_width(a >> 6)
    const V idx = T::or_(g, c16(0x8000));
    const V mant = T::template srli<8>(T::mullo(a, T::shuffle(T::table(x86::kUlawEncPow), idx)));
    const V code = T::sub(T::shuffle(T::table(x86::kUlawEncBase), idx), mant);
    return T::or_(code, T::andnot(s, c16(0x80)));
  }

  static V alaw_encode(V x) {
    const V s = T::template srai<15>(x);
    const V ix = T::template srli<4>(T::xor_(x, s));
    const V lo = T::and_(T::template srli<5>(ix), c16(15));
    const V hi = T::template srli<9>(ix);
    const V g = T::max_u16(T::shuffle(T::table(x86::kBitWidthLo), lo),
                           T::shuffle(T::table(x86::kBitWidthHi), hi));  // bit_width(ix >> 5)
    const V idx = T::or_(g, c16(0x8000));
    const V mant = T::template srli<6>(T::mullo(ix, T::shuffle(T::table(x86::kAlawEncPow), idx)));
    const V code = T::add(T::shuffle(T::table(x86::kAlawEncSeg), idx), mant);
    return T::xor_(code, T::xor_(T::and_(s, c16(0x80)), c16(0xD5)));
  }

  // Buffer loops. Tails go through a zero-padded stack block and the same vector code.
  template <V (*Decode)(V)>
  static void decode_buf(const uint8_t *in, size_t n, int16_t *out) {
    size_t i = 0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
      const V a = Decode(T::load_u8(in + i));
      const V b = Decode(T::load_u8(in + i + kLanes));
      T::store_s16(out + i, a);
      T::store_s16(out + i + kLanes, b);
    }
    for (; i < n; i += kLanes) {
      const size_t r = n - i < kLanes ? n - i : kLanes;
      uint8_t tin[kLanes] = {};
      int16_t tout[kLanes];
      __builtin_memcpy(tin, in + i, r);
      T::store_s16(tout, Decode(T::load_u8(tin)));
      __builtin_memcpy(out + i, tout, r * sizeof(int16_t));
    }
  }

  template <V (*Encode)(V)>
  static void encode_buf(const int16_t *in, size_t n, uint8_t *out) {
    size_t i = 0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
      T::store_u8x2(out + i, Encode(T::load_s16(in + i)), Encode(T::load_s16(in + i + kLanes)));
    }
    if (i < n) {
      const size_t r = n - i;
      int16_t tin[2 * kLanes] = {};
      uint8_t tout[2 * kLanes];
      __builtin_memcpy(tin, in + i, r * sizeof(int16_t));
      T::store_u8x2(tout, Encode(T::load_s16(tin)), Encode(T::load_s16(tin + kLanes)));
      __builtin_memcpy(out + i, tout, r);
    }
  }

  // Code-to-code: decode then encode in registers (the definition of the direct conversion).
  template <V (*Decode)(V), V (*Encode)(V)>
  static void convert_buf(const uint8_t *in, size_t n, uint8_t *out) {
    size_t i = 0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
      const V a = Encode(Decode(T::load_u8(in + i)));
      const V b = Encode(Decode(T::load_u8(in + i + kLanes)));
      T::store_u8x2(out + i, a, b);
    }
    if (i < n) {
      const size_t r = n - i;
      uint8_t tin[2 * kLanes] = {};
      uint8_t tout[2 * kLanes];
      __builtin_memcpy(tin, in + i, r);
      T::store_u8x2(tout, Encode(Decode(T::load_u8(tin))), Encode(Decode(T::load_u8(tin + kLanes))));
      __builtin_memcpy(out + i, tout, r);
    }
  }

  static void ulaw_encode_buf(const int16_t *in, size_t n, uint8_t *out) {
    encode_buf<ulaw_encode>(in, n, out);
  }
  static void alaw_encode_buf(const int16_t *in, size_t n, uint8_t *out) {
    encode_buf<alaw_encode>(in, n, out);
  }
  static void ulaw_decode_buf(const uint8_t *in, size_t n, int16_t *out) {
    decode_buf<ulaw_decode>(in, n, out);
  }
  static void alaw_decode_buf(const uint8_t *in, size_t n, int16_t *out) {
    decode_buf<alaw_decode>(in, n, out);
  }
  static void ulaw_to_alaw_buf(const uint8_t *in, size_t n, uint8_t *out) {
    convert_buf<ulaw_decode, alaw_encode>(in, n, out);
  }
  static void alaw_to_ulaw_buf(const uint8_t *in, size_t n, uint8_t *out) {
    convert_buf<alaw_decode, ulaw_encode>(in, n, out);
  }
};
