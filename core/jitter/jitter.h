/* Adaptive jitter buffer for one RTP stream, keyed by extended sequence number.
 *
 * The caller drives two events: insert() when a packet arrives (with its arrival time) and
 * tick() once per playout period (frame_ms, 20 ms by default). Each tick yields exactly one
 * outcome:
 *   FRAME  the next frame in sequence order (payload pointer into the buffer);
 *   LOSS   the next frame is missing while later ones are here: the caller runs PLC, the
 *          sequence number is consumed, and if that packet turns up later it is dropped and
 *          counted as a late loss;
 *   WAIT   nothing is consumed: no stream yet, (re)buffering to the target depth after the
 *          start, a reset or an underrun, or a deliberate one-tick stretch when the target grew.
 *          The caller plays PLC / comfort noise.
 *
 * Invariants (checked by the tests and the fuzzer):
 *   - Fixed storage: `capacity` slots (a power of two) of `max_payload` bytes, allocated once at
 *     creation. insert() copies the payload into the slot of its extended sequence number
 *     (ext mod capacity); nothing is allocated per packet. Cost: 24 bytes per slot at once, and
 *     capacity x max_payload bytes of payload arena reserved but not written (up to 2 GiB at
 *     32768 x 65535): pages become resident only as payloads are stored, so resident memory
 *     is bounded by the bytes of payload the stream has actually placed in distinct slots.
 *   - Threads: one object, one thread at a time (the relay keeps a call's buffer on its shard);
 *     to share one, wrap it in clutchcall::Shared (shared/shared.h), as the bindings do.
 *   - A FRAME's payload pointer stays valid until the next insert(), reset() or destroy; tick()
 *     never overwrites slot contents.
 *   - Released extended sequence numbers strictly increase between resets; no frame is released
 *     twice.
 *   - Conservation: received == released + late_losses + duplicates + reset_dropped + discarded
 *     + buffered, where received counts every packet insert() accepted (oversized payloads are
 *     rejected and counted apart).
 *   - Depth = frames from the next one to play to the newest received, inclusive (holes
 *     count), measured at each tick before release; delay_ms = depth * frame_ms.
 *   - The target depth stays in [min_depth, max_depth] (2..6 by default, starting at 3). It is
 *     sized from the distribution of the packets' relative delay, not from a mean: each packet
 *     accepted by insert() (late ones included, duplicates not) has a transit (arrival - RTP
 *     timestamp, in timestamp units) and a relative delay = its transit minus the smallest
 *     transit of the last kFloorWindow (4) such packets, itself included (so clock offset and
 *     skew drop out). The window is short on purpose: depth counts from the newest packet, which
 *     is the fastest of the last few, so a packet's wait is measured against those; a 2 s floor
 *     (NetEq's) added 1-2 frames at 10-20 ms of normal jitter in the seeded simulations with no
 *     fewer late frames. The relative delays of the last kDelayWindow (500) packets are kept in a
 *     fixed ring, counted in bins of whole frames (ceil(delay / frame), the last bin holding
 *     max_depth and more): a fixed window, no exponential forgetting, so a delay spike leaves the
 *     count 500 packets later. need = 1 + the q-quantile bin, q = target_quantile_permille /
 *     1000, clamped to [min_depth, max_depth]; until 500 packets have been seen the missing ones
 *     count as delay 0 (so a few late packets at a stream's start do not raise it: about (1 - q)
 *     x 500 of them are needed). The target rises as soon as need exceeds it (one stretch tick
 *     per frame of growth), and falls by one only after need <= target - 1 has held for
 *     `decrease_hold_ticks` ticks (hysteresis). When the smallest depth seen over
 *     `shrink_window_ticks` playing ticks exceeds the target, one frame is discarded to bring the
 *     delay down (counted); when the largest depth seen over such a window is below the target
 *     (playout began, or fell, closer to the newest packet than the target), one stretch tick
 *     is scheduled, so the depth reaches the target instead of staying below it. A transit change of more than reset_threshold frames between two
 *     packets (a timestamp jump) is a timing discontinuity: the RFC 3550 A.8 jitter J rebases
 *     instead of counting it as jitter, and the relative-delay window restarts from that packet.
 *     J is still estimated and reported in the stats; it no longer sizes the target.
 *   - Reset (all buffered frames dropped and counted, the relative-delay window emptied, the
 *     stream restarts from the packet that caused it): SSRC change, a jump of more than
 *     `reset_threshold` packets forward of the newest or behind the next to play, or a forward
 *     jump that does not fit the slots.
 *     Sequence wrap 65535 -> 0 is not a jump (numbers are extended, RFC 3550 A.1 style).
 */
#ifndef CLUTCHCALL_CORE_JITTER_JITTER_H
#define CLUTCHCALL_CORE_JITTER_JITTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cc_jitter_status {
  CC_JITTER_INSERTED = 0,             /* stored for playout */
  CC_JITTER_INSERTED_AFTER_RESET = 1, /* caused a reset, then stored as the new stream start */
  CC_JITTER_DUPLICATE = 2,            /* already held or already played: dropped */
  CC_JITTER_LATE = 3,                 /* its tick has passed: dropped, counted as late loss */
  CC_JITTER_ERR_TOO_LARGE = -1,       /* payload longer than max_payload: rejected */
  CC_JITTER_ERR_INVALID_ARGUMENT = -2,
  CC_JITTER_ERR_BAD_CONFIG = -3,
  CC_JITTER_ERR_NO_MEMORY = -4
} cc_jitter_status;

/* "inserted", "inserted_after_reset", "duplicate", "late", "too_large", "invalid_argument",
 * "bad_config", "no_memory"; "unknown" otherwise. */
const char *cc_jitter_status_name(cc_jitter_status status);

typedef struct cc_jitter_config {
  uint32_t capacity;            /* slots, power of two in [16, 32768]; default 128 */
  uint32_t max_payload;         /* bytes per slot, 1..65535; default 1500 */
  uint32_t clock_rate;          /* RTP clock in Hz, 1..384000; default 8000 */
  uint32_t frame_ms;            /* playout tick in ms, 1..1000; default 20 */
  uint32_t min_depth;           /* frames; default 2 */
  uint32_t max_depth;           /* frames, < capacity; default 6 */
  uint32_t initial_depth;       /* frames, in [min, max]; default 3 */
  uint32_t reset_threshold;     /* packets, >= 1; default 100 */
  uint32_t decrease_hold_ticks; /* default 50 (1 s) */
  uint32_t shrink_window_ticks; /* default 50 (1 s) */
  /* Quantile of the recent packets' relative delay the target covers, per mille, 500..999;
   * default 990 (about 1 % of packets may come too late for their tick): through the SIP leg,
   * 970 had 3x the late frames at 20 ms of jitter for no measurable latency gain
   * (benchmarks/README.md, bench_sip_latency --netem). */
  uint32_t target_quantile_permille;
} cc_jitter_config;

void cc_jitter_config_default(cc_jitter_config *config);
/* CC_JITTER_INSERTED (0) if valid, else CC_JITTER_ERR_BAD_CONFIG. */
cc_jitter_status cc_jitter_config_check(const cc_jitter_config *config);

typedef struct cc_jitter_packet {
  uint16_t sequence;
  uint32_t timestamp;   /* RTP timestamp (for the jitter estimate and handed back on release) */
  uint32_t ssrc;
  uint8_t marker;
  const uint8_t *payload;
  size_t payload_len;
  int64_t arrival_us;   /* arrival time on any monotonic microsecond clock */
} cc_jitter_packet;

typedef enum cc_jitter_kind { CC_JITTER_FRAME = 0, CC_JITTER_LOSS = 1, CC_JITTER_WAIT = 2 } cc_jitter_kind;

typedef struct cc_jitter_frame {
  cc_jitter_kind kind;
  int64_t ext_seq;        /* FRAME/LOSS: extended sequence number (per stream since reset) */
  uint16_t sequence;      /* FRAME/LOSS: its 16-bit RTP sequence number */
  uint32_t timestamp;     /* FRAME only */
  uint8_t marker;         /* FRAME only */
  const uint8_t *payload; /* FRAME only; valid until the next insert/reset/destroy */
  size_t payload_len;
} cc_jitter_frame;

typedef struct cc_jitter_stats {
  uint64_t received;      /* packets accepted by insert */
  uint64_t released;      /* FRAME ticks */
  uint64_t losses;        /* LOSS ticks */
  uint64_t late_losses;   /* packets dropped because their tick had passed */
  uint64_t duplicates;
  uint64_t resets;
  uint64_t reset_dropped; /* buffered packets thrown away by resets */
  uint64_t discarded;     /* frames dropped to shrink the delay */
  uint64_t rejected;      /* oversized payloads (not in `received`) */
  uint64_t underruns;     /* playing -> nothing buffered */
  uint64_t stretches;     /* WAIT ticks inserted to grow the depth */
  uint64_t ticks;
  uint32_t buffered;      /* packets held now */
  uint32_t target_depth;  /* frames */
  uint32_t depth;         /* frames pending at the last tick */
  uint32_t delay_ms;      /* depth * frame_ms */
  uint32_t jitter;        /* RFC 3550 A.8 estimate, timestamp units */
  uint32_t jitter_us;
} cc_jitter_stats;

typedef struct cc_jitter cc_jitter; /* opaque */

/* NULL config: defaults. *out is NULL on error. */
cc_jitter_status cc_jitter_create(const cc_jitter_config *config, cc_jitter **out);
void cc_jitter_destroy(cc_jitter *jb);
cc_jitter_status cc_jitter_insert(cc_jitter *jb, const cc_jitter_packet *packet);
void cc_jitter_tick(cc_jitter *jb, cc_jitter_frame *out);
/* Drop everything (counted as a reset) and wait for a new stream. */
void cc_jitter_reset(cc_jitter *jb);
void cc_jitter_get_stats(const cc_jitter *jb, cc_jitter_stats *out);

#ifdef __cplusplus
} /* extern "C" */

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "rtp/rtp.h"

namespace clutchcall::jitter {

using Config = cc_jitter_config;
using Packet = cc_jitter_packet;
using Frame = cc_jitter_frame;
using Stats = cc_jitter_stats;
using Status = cc_jitter_status;

inline Config default_config() noexcept {
  Config c;
  cc_jitter_config_default(&c);
  return c;
}

class JitterBuffer {
 public:
  /* Throws std::invalid_argument if cc_jitter_config_check rejects the config. */
  explicit JitterBuffer(const Config &config = default_config());

  Status insert(const Packet &packet) noexcept;
  /* Convenience: a parsed RTP packet and its arrival time. */
  Status insert(const rtp::PacketView &p, std::int64_t arrival_us) noexcept {
    return insert(Packet{p.sequence(), p.timestamp(), p.ssrc(), p.marker() ? std::uint8_t{1} : std::uint8_t{0},
                         p.payload().data(), p.payload().size(), arrival_us});
  }
  Frame tick() noexcept;
  void reset() noexcept;
  Stats stats() const noexcept;
  const Config &config() const noexcept { return cfg_; }

 private:
  enum class Mode : std::uint8_t { idle, buffering, playing };
  enum class SlotState : std::uint8_t { empty, filled, released, skipped, late, discarded };
  struct Slot {
    std::int64_t ext;
    std::uint32_t timestamp;
    std::uint32_t len;
    SlotState state;
    std::uint8_t marker;
  };

  Slot &slot(std::int64_t ext) noexcept { return slots_[static_cast<std::uint64_t>(ext) & mask_]; }
  std::uint8_t *data(std::int64_t ext) noexcept {
    return arena_.get() + (static_cast<std::uint64_t>(ext) & mask_) * cfg_.max_payload;
  }
  void clear_stream() noexcept;
  void start_stream(const Packet &p) noexcept;
  void store(std::int64_t ext, const Packet &p) noexcept;
  void adapt_target() noexcept;
  void clear_delays() noexcept;
  void track_timing(const Packet &p) noexcept;
  void note_delay(std::uint32_t transit, bool continuous) noexcept;

  static constexpr std::uint32_t kFloorWindow = 4;  // packets: the smallest transit among them is 0 delay
  static constexpr std::uint32_t kDelayWindow = 500;  // packets whose relative delays size the target
  std::uint32_t arrival_units(std::int64_t arrival_us) const noexcept;

  Config cfg_;
  std::uint64_t mask_;
  std::uint32_t frame_units_;  // timestamp units per frame
  std::uint32_t max_transit_step_;
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<std::uint8_t[]> arena_;

  Mode mode_ = Mode::idle;
  bool played_since_start_ = false;
  std::uint32_t ssrc_ = 0;
  std::int64_t next_ext_ = 0;  // next to play
  std::int64_t max_ext_ = -1;  // newest received; next_ext_ <= max_ext_ + 1
  rtp::JitterEstimator estimator_;
  std::uint32_t target_;
  std::uint32_t pending_grow_ = 0;
  std::uint32_t down_hold_ = 0;
  std::uint32_t window_ticks_ = 0;
  std::int64_t window_min_depth_ = INT64_MAX;
  std::int64_t window_max_depth_ = 0;
  std::array<std::uint32_t, kFloorWindow> recent_transit_{};  // ring, raw transits (mod 2^32)
  std::uint32_t transit_count_ = 0;
  std::uint32_t transit_next_ = 0;
  std::array<std::uint16_t, kDelayWindow> delay_bins_{};  // ring, frames (max_depth < 32768)
  std::uint32_t delay_count_ = 0;
  std::uint32_t delay_next_ = 0;
  std::unique_ptr<std::uint32_t[]> bin_counts_;  // max_depth + 1 bins over delay_bins_
  Stats st_{};
};

}  // namespace clutchcall::jitter
#endif

#endif /* CLUTCHCALL_CORE_JITTER_JITTER_H */
