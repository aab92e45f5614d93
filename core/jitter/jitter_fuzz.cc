// libFuzzer target: arbitrary insert / tick / reset sequences driven by the input bytes, on a
// small buffer (16 slots, tiny thresholds) so that wrap, jumps, resets and overflow are reached
// quickly. Asserts the jitter.h invariants after every operation: conservation, target within
// bounds, released numbers strictly increasing within a stream, no frame released twice, each
// released payload is the one inserted for that number in the current stream, and the C++
// and C APIs agree.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>

#include "jitter/jitter.h"

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cc_jitter_config cfg;
  cc_jitter_config_default(&cfg);
  cfg.capacity = 16;
  cfg.max_payload = 8;
  cfg.reset_threshold = 12;
  cfg.decrease_hold_ticks = 5;
  cfg.shrink_window_ticks = 7;
  cc_jitter *jb = nullptr;
  check(cc_jitter_create(&cfg, &jb) == CC_JITTER_INSERTED);

  std::uint16_t seq = 0;
  std::uint32_t ssrc = 1;
  std::int64_t now = 0;
  std::uint64_t epoch = 0;
  std::int64_t last_ext = INT64_MIN;
  std::set<std::int64_t> released;
  size_t i = 0;
  while (i + 1 < size) {
    const uint8_t op = data[i];
    const uint8_t arg = data[i + 1];
    i += 2;
    now += (op & 0x0F) * 1000;  // arrival/tick spacing 0..15 ms
    switch (op >> 6) {
      case 0:
      case 1: {  // insert at seq + small signed delta, or a big jump with arg's top bits
        std::int32_t delta = static_cast<std::int8_t>(arg);
        if ((op & 0x30) == 0x30) delta *= 300;
        const std::uint32_t pkt_ssrc = ((op & 0x30) == 0x20 && (arg & 1)) ? ssrc + 1 : ssrc;
        const std::uint16_t s = static_cast<std::uint16_t>(seq + delta);
        if (delta > 0) seq = s;
        uint8_t payload[10];
        payload[0] = static_cast<uint8_t>(s >> 8);
        payload[1] = static_cast<uint8_t>(s);
        payload[2] = static_cast<uint8_t>(pkt_ssrc);
        const size_t len = 3 + (arg % 8);  // 3..10: 9 and 10 exceed max_payload
        for (size_t k = 3; k < len; ++k) payload[k] = static_cast<uint8_t>(s * 7 + k);
        const cc_jitter_packet p{s, 160u * s, pkt_ssrc, static_cast<uint8_t>(arg >> 7), payload, len, now};
        const cc_jitter_status st = cc_jitter_insert(jb, &p);
        check(len > cfg.max_payload ? st == CC_JITTER_ERR_TOO_LARGE : st >= 0);
        if (st >= 0) ssrc = pkt_ssrc;  // the buffer now follows this source
        break;
      }
      case 2: {
        cc_jitter_frame f;
        cc_jitter_tick(jb, &f);
        cc_jitter_stats st;
        cc_jitter_get_stats(jb, &st);
        if (st.resets != epoch) {
          epoch = st.resets;
          last_ext = INT64_MIN;
          released.clear();
        }
        if (f.kind != CC_JITTER_WAIT) {
          check(f.ext_seq > last_ext);
          last_ext = f.ext_seq;
          check(f.sequence == static_cast<std::uint16_t>(f.ext_seq & 0xFFFF));
        }
        if (f.kind == CC_JITTER_FRAME) {
          check(released.insert(f.ext_seq).second);
          check(f.payload_len >= 3 && f.payload_len <= cfg.max_payload);
          check(((f.payload[0] << 8) | f.payload[1]) == f.sequence);
          check(f.payload[2] == static_cast<uint8_t>(ssrc));
          for (size_t k = 3; k < f.payload_len; ++k)
            check(f.payload[k] == static_cast<uint8_t>(f.sequence * 7 + k));
        }
        break;
      }
      default:
        if (arg == 0xFF) {
          cc_jitter_reset(jb);
        } else {
          ++seq;  // a packet lost on the way: only the sender's counter moves
        }
        break;
    }
    cc_jitter_stats st;
    cc_jitter_get_stats(jb, &st);
    check(st.received == st.released + st.late_losses + st.duplicates + st.reset_dropped +
                             st.discarded + st.buffered);
    check(st.buffered <= cfg.capacity);
    check(st.target_depth >= cfg.min_depth && st.target_depth <= cfg.max_depth);
    check(st.delay_ms == st.depth * cfg.frame_ms);
  }
  cc_jitter_destroy(jb);
  return 0;
}
