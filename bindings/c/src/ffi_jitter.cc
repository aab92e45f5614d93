// Jitter buffer entry points of the C ABI over core/jitter (payloads copied out on tick).
#include <cstring>
#include <memory>
#include <new>

#include "ffi_common.h"
#include "ffi_rtp.h"
#include "jitter/jitter.h"
#include "shared/shared.h"

using clutchcall::ffi::guarded;
using clutchcall::ffi::present;

using clutchcall::jitter::JitterBuffer;

struct cc_jbuf {
  clutchcall::Shared<JitterBuffer> impl;  // every call below holds its lock
};

namespace {

cc_status insert_packet(cc_jbuf *jb, const cc_jitter_packet &p, int32_t *outcome) {
  const cc_jitter_status s = jb->impl.with([&](JitterBuffer &b) { return b.insert(p); });
  switch (s) {
    case CC_JITTER_INSERTED:
    case CC_JITTER_INSERTED_AFTER_RESET:
    case CC_JITTER_DUPLICATE:
    case CC_JITTER_LATE: *outcome = static_cast<int32_t>(s); return CC_OK;
    case CC_JITTER_ERR_TOO_LARGE: return CC_ERR_INPUT_TOO_LARGE;
    case CC_JITTER_ERR_INVALID_ARGUMENT:
    case CC_JITTER_ERR_BAD_CONFIG: return CC_ERR_INVALID_ARG;
    case CC_JITTER_ERR_NO_MEMORY: return CC_ERR_ALLOC;
  }
  return CC_ERR_INTERNAL;
}

}  // namespace

extern "C" {

void cc_jbuf_config_default(cc_jbuf_config *out) {
  if (out == nullptr) return;
  cc_jitter_config c;
  cc_jitter_config_default(&c);
  *out = cc_jbuf_config{c.capacity,      c.max_payload,     c.clock_rate,          c.frame_ms,
                        c.min_depth,     c.max_depth,       c.initial_depth,       c.reset_threshold,
                        c.decrease_hold_ticks, c.shrink_window_ticks};
}

cc_status cc_jbuf_create(const cc_jbuf_config *config, cc_jbuf **out) {
  cc_jitter_config defaults;
  cc_jitter_config_default(&defaults);
  return cc_jbuf_create_quantile(config, defaults.target_quantile_permille, out);
}

cc_status cc_jbuf_create_quantile(const cc_jbuf_config *config, uint32_t target_quantile_permille,
                                  cc_jbuf **out) {
  return guarded([&] {
    if (out == nullptr) return CC_ERR_NULL_ARG;
    *out = nullptr;
    cc_jbuf_config c;
    if (config != nullptr) {
      c = *config;
    } else {
      cc_jbuf_config_default(&c);
    }
    cc_jitter_config jc;
    cc_jitter_config_default(&jc);
    jc.target_quantile_permille = target_quantile_permille;
    jc.capacity = c.capacity;
    jc.max_payload = c.max_payload;
    jc.clock_rate = c.clock_rate;
    jc.frame_ms = c.frame_ms;
    jc.min_depth = c.min_depth;
    jc.max_depth = c.max_depth;
    jc.initial_depth = c.initial_depth;
    jc.reset_threshold = c.reset_threshold;
    jc.decrease_hold_ticks = c.decrease_hold_ticks;
    jc.shrink_window_ticks = c.shrink_window_ticks;
    if (cc_jitter_config_check(&jc) != CC_JITTER_INSERTED) return CC_ERR_INVALID_ARG;
    try {
      *out = new cc_jbuf{clutchcall::Shared<JitterBuffer>(std::make_unique<JitterBuffer>(jc))};
    } catch (const std::bad_alloc &) {
      return CC_ERR_ALLOC;
    }
    return CC_OK;
  });
}

void cc_jbuf_destroy(cc_jbuf *jb) { delete jb; }

cc_status cc_jbuf_insert(cc_jbuf *jb, uint16_t sequence, uint32_t timestamp, uint32_t ssrc,
                         uint8_t marker, const uint8_t *payload, size_t len, int64_t arrival_us,
                         int32_t *outcome) {
  return guarded([&] {
    if (jb == nullptr || outcome == nullptr || !present(payload, len)) return CC_ERR_NULL_ARG;
    static const uint8_t kEmpty[1] = {0};
    const cc_jitter_packet p{sequence, timestamp, ssrc, marker, payload ? payload : kEmpty, len, arrival_us};
    return insert_packet(jb, p, outcome);
  });
}

cc_status cc_jbuf_insert_rtp(cc_jbuf *jb, const uint8_t *packet, size_t len, int64_t arrival_us,
                             int32_t *outcome) {
  return guarded([&] {
    if (jb == nullptr || outcome == nullptr) return CC_ERR_NULL_ARG;
    cc_rtp_packet p{};
    const cc_status s = clutchcall::ffi::parse_rtp(packet, len, &p);
    if (s != CC_OK) return s;
    const cc_jitter_packet jp{p.sequence, p.timestamp, p.ssrc, p.marker, p.payload, p.payload_len, arrival_us};
    return insert_packet(jb, jp, outcome);
  });
}

cc_status cc_jbuf_tick(cc_jbuf *jb, uint8_t *payload, size_t payload_cap, cc_jbuf_frame *out) {
  return guarded([&] {
    if (jb == nullptr || out == nullptr || payload == nullptr) return CC_ERR_NULL_ARG;
    std::memset(out, 0, sizeof *out);
    if (payload_cap < jb->impl.fixed().config().max_payload) return CC_ERR_BUFFER_TOO_SMALL;
    // The payload points into the buffer: copied out under the same lock.
    jb->impl.with([&](JitterBuffer &b) {
      const cc_jitter_frame f = b.tick();
      out->kind = static_cast<int32_t>(f.kind);
      out->ext_seq = f.ext_seq;
      out->sequence = f.sequence;
      if (f.kind == CC_JITTER_FRAME) {
        out->marker = f.marker;
        out->timestamp = f.timestamp;
        out->payload_len = static_cast<uint32_t>(f.payload_len);
        if (f.payload_len != 0) std::memcpy(payload, f.payload, f.payload_len);
      }
    });
    return CC_OK;
  });
}

cc_status cc_jbuf_reset(cc_jbuf *jb) {
  return guarded([&] {
    if (jb == nullptr) return CC_ERR_NULL_ARG;
    jb->impl.with([](JitterBuffer &b) { b.reset(); });
    return CC_OK;
  });
}

cc_status cc_jbuf_get_stats(const cc_jbuf *jb, cc_jbuf_stats *out) {
  return guarded([&] {
    if (jb == nullptr || out == nullptr) return CC_ERR_NULL_ARG;
    const cc_jitter_stats s = jb->impl.with([](const JitterBuffer &b) { return b.stats(); });
    *out = cc_jbuf_stats{s.received,     s.released,   s.losses,    s.late_losses, s.duplicates,
                         s.resets,       s.reset_dropped, s.discarded, s.rejected, s.underruns,
                         s.stretches,    s.ticks,      s.buffered,  s.target_depth, s.depth,
                         s.delay_ms,     s.jitter,     s.jitter_us};
    return CC_OK;
  });
}

}  // extern "C"
