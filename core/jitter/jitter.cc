// Adaptive jitter buffer: see jitter.h for the outcomes and invariants.
#include "jitter/jitter.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>

namespace clutchcall::jitter {

namespace {
constexpr std::int64_t kNone = INT64_MIN;  // slot holds no sequence number
}  // namespace

JitterBuffer::JitterBuffer(const Config &config) : cfg_(config) {
  if (cc_jitter_config_check(&config) != CC_JITTER_INSERTED)
    throw std::invalid_argument("clutchcall::jitter: invalid config");
  mask_ = cfg_.capacity - 1u;
  frame_units_ = static_cast<std::uint32_t>(
      static_cast<std::uint64_t>(cfg_.clock_rate) * cfg_.frame_ms / 1000u);
  slots_ = std::make_unique<Slot[]>(cfg_.capacity);
  // Not zeroed: the pages of a large arena are only reserved until a payload is stored in them,
  // so capacity 32768 x max_payload 65535 (2 GiB) costs what the stream really holds.
  arena_ = std::make_unique_for_overwrite<std::uint8_t[]>(static_cast<std::size_t>(cfg_.capacity) * cfg_.max_payload);
  target_ = cfg_.initial_depth;
  // A transit change beyond reset_threshold frames is a timing discontinuity, not jitter.
  const std::uint64_t step = static_cast<std::uint64_t>(frame_units_) * cfg_.reset_threshold;
  max_transit_step_ = step > 0x7FFFFFFFu ? 0x7FFFFFFFu : static_cast<std::uint32_t>(step);
  for (std::uint32_t i = 0; i < cfg_.capacity; ++i) slots_[i] = Slot{kNone, 0, 0, SlotState::empty, 0};
  bin_counts_ = std::make_unique<std::uint32_t[]>(cfg_.max_depth + 1u);
}

void JitterBuffer::clear_delays() noexcept {
  transit_count_ = transit_next_ = 0;
  delay_count_ = delay_next_ = 0;
  std::fill_n(bin_counts_.get(), cfg_.max_depth + 1u, 0u);
}

void JitterBuffer::note_delay(std::uint32_t transit, bool continuous) noexcept {
  if (!continuous) clear_delays();  // new timing reference: older transits are not comparable
  recent_transit_[transit_next_] = transit;
  transit_next_ = (transit_next_ + 1) % kFloorWindow;
  if (transit_count_ < kFloorWindow) ++transit_count_;
  // Delay over the fastest recent packet; differences of transits mod 2^32 stay exact while
  // the window's spread is under 2^31 units (no discontinuity inside it).
  std::int64_t delay = 0;
  for (std::uint32_t i = 0; i < transit_count_; ++i)
    delay = std::max<std::int64_t>(delay, static_cast<std::int32_t>(transit - recent_transit_[i]));
  const std::int64_t frames = (delay + frame_units_ - 1) / frame_units_;
  const auto bin = static_cast<std::uint16_t>(std::min<std::int64_t>(frames, cfg_.max_depth));
  if (delay_count_ == kDelayWindow) {
    --bin_counts_[delay_bins_[delay_next_]];
  } else {
    ++delay_count_;
  }
  delay_bins_[delay_next_] = bin;
  ++bin_counts_[bin];
  delay_next_ = (delay_next_ + 1) % kDelayWindow;
}

void JitterBuffer::clear_stream() noexcept {
  st_.reset_dropped += st_.buffered;
  st_.buffered = 0;
  for (std::uint32_t i = 0; i < cfg_.capacity; ++i) slots_[i] = Slot{kNone, 0, 0, SlotState::empty, 0};
  mode_ = Mode::idle;
  pending_grow_ = 0;
  window_ticks_ = 0;
  window_min_depth_ = INT64_MAX;
  window_max_depth_ = 0;
  estimator_.rebase();  // new timing reference; the measured network jitter is kept
  clear_delays();
}

void JitterBuffer::start_stream(const Packet &p) noexcept {
  ssrc_ = p.ssrc;
  // Offset so that late packets from just before the start keep non-negative numbers.
  next_ext_ = max_ext_ = 0x10000 + static_cast<std::int64_t>(p.sequence);
  mode_ = Mode::buffering;
  played_since_start_ = false;
  track_timing(p);
  store(max_ext_, p);
}

void JitterBuffer::store(std::int64_t ext, const Packet &p) noexcept {
  Slot &s = slot(ext);
  s = Slot{ext, p.timestamp, static_cast<std::uint32_t>(p.payload_len), SlotState::filled, p.marker};
  if (p.payload_len != 0) std::memcpy(data(ext), p.payload, p.payload_len);
  ++st_.buffered;
  if (ext > max_ext_) max_ext_ = ext;
}

void JitterBuffer::track_timing(const Packet &p) noexcept {
  const std::uint32_t arrival = arrival_units(p.arrival_us);
  // false for the first packet after a rebase and for a timestamp jump: both restart the window.
  const bool continuous = estimator_.update_bounded(arrival, p.timestamp, max_transit_step_);
  note_delay(arrival - p.timestamp, continuous);
}

std::uint32_t JitterBuffer::arrival_units(std::int64_t arrival_us) const noexcept {
  // Split to avoid overflow for any int64 input; only the value mod 2^32 matters (A.8).
  const std::int64_t secs = arrival_us / 1000000;
  const std::int64_t rem = arrival_us % 1000000;
  const std::uint64_t whole = static_cast<std::uint64_t>(secs) * cfg_.clock_rate;
  const std::int64_t frac = rem * static_cast<std::int64_t>(cfg_.clock_rate) / 1000000;
  return static_cast<std::uint32_t>(whole + static_cast<std::uint64_t>(frac));
}

Status JitterBuffer::insert(const Packet &p) noexcept {
  if (p.payload == nullptr && p.payload_len != 0) return CC_JITTER_ERR_INVALID_ARGUMENT;
  if (p.payload_len > cfg_.max_payload) {
    ++st_.rejected;
    return CC_JITTER_ERR_TOO_LARGE;
  }
  ++st_.received;
  if (mode_ == Mode::idle) {
    start_stream(p);
    return CC_JITTER_INSERTED;
  }
  const std::int64_t ext = rtp::seq_extend(max_ext_, p.sequence);
  const std::int64_t thr = cfg_.reset_threshold;
  const bool jump = p.ssrc != ssrc_ || ext - max_ext_ > thr || ext < next_ext_ - thr ||
                    ext - next_ext_ >= static_cast<std::int64_t>(cfg_.capacity);
  if (jump) {
    ++st_.resets;
    clear_stream();
    start_stream(p);
    return CC_JITTER_INSERTED_AFTER_RESET;
  }

  Slot &s = slot(ext);
  if (s.ext == ext && s.state != SlotState::skipped) {  // held, played, dropped or late already
    ++st_.duplicates;
    return CC_JITTER_DUPLICATE;
  }
  track_timing(p);
  if (ext < next_ext_) {
    // Reordered start: nothing played yet, so move the playout point back to it.
    if (!played_since_start_ && max_ext_ - ext < static_cast<std::int64_t>(cfg_.capacity)) {
      next_ext_ = ext;
      store(ext, p);
      return CC_JITTER_INSERTED;
    }
    ++st_.late_losses;
    if (s.ext == ext) s.state = SlotState::late;  // a second copy is then a duplicate
    return CC_JITTER_LATE;
  }
  store(ext, p);
  return CC_JITTER_INSERTED;
}

void JitterBuffer::adapt_target() noexcept {
  // Smallest bin covering ceil(q x window) of the window's packets, those not seen yet (a new
  // stream, after a rebase) counted as delay 0: one late packet among the first few is not a
  // quantile's worth of evidence.
  const std::uint64_t rank = (std::uint64_t{kDelayWindow} * cfg_.target_quantile_permille + 999u) / 1000u;
  std::uint64_t covered = kDelayWindow - delay_count_;
  std::uint32_t bin = 0;
  while (bin < cfg_.max_depth && (covered += bin_counts_[bin]) < rank) ++bin;
  const std::uint32_t need = std::clamp(1u + bin, cfg_.min_depth, cfg_.max_depth);
  if (need > target_) {
    if (mode_ == Mode::playing) pending_grow_ += need - target_;
    target_ = need;
    down_hold_ = 0;
  } else if (need < target_) {
    if (++down_hold_ >= cfg_.decrease_hold_ticks) {
      --target_;
      down_hold_ = 0;
    }
  } else {
    down_hold_ = 0;
  }
}

Frame JitterBuffer::tick() noexcept {
  Frame out{};
  out.kind = CC_JITTER_WAIT;
  ++st_.ticks;
  if (mode_ == Mode::idle) {
    st_.depth = 0;
    return out;
  }
  adapt_target();
  std::int64_t depth = max_ext_ - next_ext_ + 1;
  st_.depth = static_cast<std::uint32_t>(depth);
  if (mode_ == Mode::buffering) {
    if (depth < static_cast<std::int64_t>(target_)) return out;
    mode_ = Mode::playing;
    pending_grow_ = 0;
    window_ticks_ = 0;
    window_min_depth_ = INT64_MAX;
    window_max_depth_ = 0;
  }
  if (depth == 0) {  // playing and nothing left: rebuffer to the target
    ++st_.underruns;
    mode_ = Mode::buffering;
    return out;
  }
  if (pending_grow_ != 0) {
    --pending_grow_;
    if (depth < static_cast<std::int64_t>(target_)) {
      ++st_.stretches;
      return out;
    }
  }
  if (depth < window_min_depth_) window_min_depth_ = depth;
  if (depth > window_max_depth_) window_max_depth_ = depth;
  if (++window_ticks_ >= cfg_.shrink_window_ticks) {
    // Never at the target in a whole window: playout started (or fell) closer to the newest packet
    // than the target wants, and nothing else would move it back: stretch one tick.
    if (window_max_depth_ < static_cast<std::int64_t>(target_) && pending_grow_ == 0) pending_grow_ = 1;
    if (window_min_depth_ > static_cast<std::int64_t>(target_) && depth > 1) {
      Slot &d = slot(next_ext_);  // drop one frame to bring the delay down
      if (d.ext == next_ext_ && d.state == SlotState::filled) {
        d.state = SlotState::discarded;
        --st_.buffered;
        ++st_.discarded;
      } else {
        d = Slot{next_ext_, 0, 0, SlotState::skipped, 0};
      }
      ++next_ext_;
      --depth;
    }
    window_ticks_ = 0;
    window_min_depth_ = INT64_MAX;
    window_max_depth_ = 0;
  }

  Slot &s = slot(next_ext_);
  out.ext_seq = next_ext_;
  out.sequence = static_cast<std::uint16_t>(static_cast<std::uint64_t>(next_ext_) & 0xFFFFu);
  if (s.ext == next_ext_ && s.state == SlotState::filled) {
    out.kind = CC_JITTER_FRAME;
    out.timestamp = s.timestamp;
    out.marker = s.marker;
    out.payload = data(next_ext_);
    out.payload_len = s.len;
    s.state = SlotState::released;
    --st_.buffered;
    ++st_.released;
  } else {
    out.kind = CC_JITTER_LOSS;
    s = Slot{next_ext_, 0, 0, SlotState::skipped, 0};
    ++st_.losses;
  }
  ++next_ext_;
  played_since_start_ = true;
  return out;
}

void JitterBuffer::reset() noexcept {
  if (mode_ != Mode::idle) ++st_.resets;
  clear_stream();
}

Stats JitterBuffer::stats() const noexcept {
  Stats s = st_;
  s.target_depth = target_;
  s.delay_ms = s.depth * cfg_.frame_ms;
  s.jitter = estimator_.value();
  s.jitter_us = static_cast<std::uint32_t>(static_cast<std::uint64_t>(estimator_.value()) * 1000000u /
                                           cfg_.clock_rate);
  return s;
}

}  // namespace clutchcall::jitter

struct cc_jitter {
  explicit cc_jitter(const cc_jitter_config &c) : jb(c) {}
  clutchcall::jitter::JitterBuffer jb;
};

extern "C" {

const char *cc_jitter_status_name(cc_jitter_status status) {
  switch (status) {
    case CC_JITTER_INSERTED: return "inserted";
    case CC_JITTER_INSERTED_AFTER_RESET: return "inserted_after_reset";
    case CC_JITTER_DUPLICATE: return "duplicate";
    case CC_JITTER_LATE: return "late";
    case CC_JITTER_ERR_TOO_LARGE: return "too_large";
    case CC_JITTER_ERR_INVALID_ARGUMENT: return "invalid_argument";
    case CC_JITTER_ERR_BAD_CONFIG: return "bad_config";
    case CC_JITTER_ERR_NO_MEMORY: return "no_memory";
  }
  return "unknown";
}

void cc_jitter_config_default(cc_jitter_config *c) {
  if (c == nullptr) return;
  *c = cc_jitter_config{128, 1500, 8000, 20, 2, 6, 3, 100, 50, 50, 990};
}

cc_jitter_status cc_jitter_config_check(const cc_jitter_config *c) {
  if (c == nullptr) return CC_JITTER_ERR_BAD_CONFIG;
  const bool pow2 = c->capacity != 0 && (c->capacity & (c->capacity - 1)) == 0;
  const bool ok = pow2 && c->capacity >= 16 && c->capacity <= 32768 && c->max_payload >= 1 &&
                  c->max_payload <= 65535 && c->clock_rate >= 1 && c->clock_rate <= 384000 &&
                  c->frame_ms >= 1 && c->frame_ms <= 1000 &&
                  static_cast<std::uint64_t>(c->clock_rate) * c->frame_ms >= 1000 &&
                  c->min_depth >= 1 && c->min_depth <= c->initial_depth &&
                  c->initial_depth <= c->max_depth && c->max_depth < c->capacity &&
                  c->reset_threshold >= 1 && c->decrease_hold_ticks >= 1 &&
                  c->shrink_window_ticks >= 1 && c->target_quantile_permille >= 500 &&
                  c->target_quantile_permille <= 999;
  return ok ? CC_JITTER_INSERTED : CC_JITTER_ERR_BAD_CONFIG;
}

cc_jitter_status cc_jitter_create(const cc_jitter_config *config, cc_jitter **out) {
  if (out == nullptr) return CC_JITTER_ERR_INVALID_ARGUMENT;
  *out = nullptr;
  cc_jitter_config c;
  if (config == nullptr) {
    cc_jitter_config_default(&c);
  } else {
    c = *config;
  }
  if (cc_jitter_config_check(&c) != CC_JITTER_INSERTED) return CC_JITTER_ERR_BAD_CONFIG;
  try {
    *out = new cc_jitter(c);
  } catch (const std::bad_alloc &) {
    return CC_JITTER_ERR_NO_MEMORY;
  }
  return CC_JITTER_INSERTED;
}

void cc_jitter_destroy(cc_jitter *jb) { delete jb; }

cc_jitter_status cc_jitter_insert(cc_jitter *jb, const cc_jitter_packet *packet) {
  if (jb == nullptr || packet == nullptr) return CC_JITTER_ERR_INVALID_ARGUMENT;
  return jb->jb.insert(*packet);
}

void cc_jitter_tick(cc_jitter *jb, cc_jitter_frame *out) {
  if (jb == nullptr || out == nullptr) return;
  *out = jb->jb.tick();
}

void cc_jitter_reset(cc_jitter *jb) {
  if (jb != nullptr) jb->jb.reset();
}

void cc_jitter_get_stats(const cc_jitter *jb, cc_jitter_stats *out) {
  if (jb == nullptr || out == nullptr) return;
  *out = jb->jb.stats();
}

}  // extern "C"
