#include "relay/call_state.h"

#include <algorithm>

#include "rtp/rtp.h"

namespace clutchcall::relay {

struct CallState::Direction {
  int in_leg = 0;
  std::unique_ptr<jitter::JitterBuffer> jb;
  std::unique_ptr<transcode::Transcoder> tc;
  std::vector<std::uint8_t> out;
  std::vector<std::uint32_t> lens;
  std::int64_t frame_us = 20000;
  std::int64_t next_tick = kNever;  // kNever until the first packet
  std::uint32_t ssrc = 0;
  std::uint16_t seq = 0;
  std::uint32_t ts = 0;
  std::uint32_t ts_per_out_frame = 160;
  std::uint32_t ts_per_in_frame = 160;
  std::uint8_t payload_type = 0;
  bool marker = true;  // next packet starts a talkspurt
};

CallState::~CallState() = default;

namespace {
// SplitMix64: distinct, well-mixed SSRCs / initial sequence numbers per call without a global RNG.
std::uint64_t mix(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
}  // namespace

std::unique_ptr<CallState> CallState::create(const CallConfig &config, LegCounters *counters,
                                             std::uint32_t ssrc_seed, std::string *why) {
  if (std::string err = validate(config); !err.empty()) {
    if (why) *why = err;
    return nullptr;
  }
  std::unique_ptr<CallState> c(new CallState());
  c->cfg_ = config;
  c->counters_ = counters;
  for (int i = 0; i < 2; ++i) {
    c->cfg_.legs[i].shape = cc_audio_shape_normalize(config.legs[i].shape);
    c->remote_[i] = config.legs[i].remote;
    c->latched_[i] = config.legs[i].remote.port != 0;
  }
  c->transcoding_ = !legs_match(c->cfg_.legs[0].shape, c->cfg_.legs[1].shape);
  if (!c->transcoding_) return c;

  std::size_t max_rtp = 0;
  for (int i = 0; i < 2; ++i) {
    const cc_audio_shape &in = c->cfg_.legs[i].shape;
    const cc_audio_shape &out = c->cfg_.legs[1 - i].shape;
    auto d = std::make_unique<Direction>();
    d->in_leg = i;
    cc_jitter_config jc = config.jitter;
    jc.clock_rate = rtp_clock_rate(in);
    jc.frame_ms = in.frame_ms;
    if (cc_jitter_config_check(&jc) != CC_JITTER_INSERTED) {
      if (why) *why = "jitter buffer config rejected";
      return nullptr;
    }
    d->jb = std::make_unique<jitter::JitterBuffer>(jc);
    const cc_opus_encoder_settings opus = cc_opus_encoder_settings_default();
    cc_transcode_status st = CC_TRANSCODE_OK;
    d->tc = transcode::Transcoder::create(in, out, opus, &st);
    if (!d->tc) {
      if (why) *why = std::string("transcoder: ") + cc_transcode_status_name(st);
      return nullptr;
    }
    d->out.resize(d->tc->max_output_bytes());
    d->lens.resize(d->tc->max_output_frames());
    d->frame_us = static_cast<std::int64_t>(in.frame_ms) * 1000;
    d->ts_per_out_frame = rtp_clock_rate(out) / 1000 * out.frame_ms;
    d->ts_per_in_frame = rtp_clock_rate(out) / 1000 * in.frame_ms;
    d->payload_type = c->cfg_.legs[1 - i].payload_type;
    const std::uint64_t r = mix(config.id * 2 + static_cast<std::uint64_t>(i) + ssrc_seed);
    d->ssrc = static_cast<std::uint32_t>(r);
    d->seq = static_cast<std::uint16_t>(r >> 32);
    d->ts = static_cast<std::uint32_t>(r >> 40);
    max_rtp = std::max(max_rtp, d->out.size());
    c->dir_[i] = std::move(d);
  }
  c->rtp_buf_.resize(max_rtp + 12);
  return c;
}

void CallState::on_packet(int leg, const netio::RxPacket &pkt, std::int64_t now_us,
                          Sender &out) noexcept {
  LegCounters &lc = counters_[leg];
  if (!latched_[leg]) {  // symmetric RTP: the first source is the peer from now on
    remote_[leg] = pkt.remote;
    latched_[leg] = true;
  } else if (!(pkt.remote == remote_[leg])) {
    bump(lc.foreign_source);
    return;
  }
  rtp::PacketView view;
  if (view.parse({pkt.data, pkt.len}) != rtp::Status::ok) {
    bump(lc.malformed);
    return;
  }
  bump(lc.rx_packets);
  bump(lc.rx_bytes, pkt.len);
  if (have_ssrc_[leg] && last_ssrc_[leg] != view.ssrc()) bump(lc.ssrc_changes);
  have_ssrc_[leg] = true;
  last_ssrc_[leg] = view.ssrc();

  const int other = 1 - leg;
  if (!transcoding_) {
    if (!latched_[other]) {  // nowhere to send yet: the peer has not spoken
      bump(counters_[other].tx_dropped);
      return;
    }
    out.send(counters_[other], cfg_.legs[other].local, remote_[other], {pkt.data, pkt.len});
    return;
  }
  Direction &d = *dir_[leg];
  const cc_jitter_status st = d.jb->insert(view, now_us);
  if (st == CC_JITTER_LATE) bump(lc.late_losses);
  if (st == CC_JITTER_INSERTED_AFTER_RESET) {
    d.tc->reset();
    d.marker = true;
  }
  if (d.next_tick == kNever) d.next_tick = now_us + d.frame_us;
}

std::int64_t CallState::next_tick_us() const noexcept {
  if (!transcoding_) return kNever;
  return std::min(dir_[0]->next_tick, dir_[1]->next_tick);
}

std::int64_t CallState::on_timer(std::int64_t now_us, Sender &out) noexcept {
  if (!transcoding_) return kNever;
  for (auto &dp : dir_) {
    Direction &d = *dp;
    if (d.next_tick == kNever) continue;
    if (now_us - d.next_tick > kMaxTickLag * d.frame_us) d.next_tick = now_us;  // stalled: skip
    while (d.next_tick <= now_us) {
      tick(d, out);
      d.next_tick += d.frame_us;
    }
  }
  return next_tick_us();
}

void CallState::tick(Direction &d, Sender &out) noexcept {
  const cc_jitter_frame f = d.jb->tick();
  cc_transcode_output o{d.out.data(), d.out.size(), d.lens.data(), d.lens.size(), 0, 0};
  cc_transcode_status st = CC_TRANSCODE_OK;
  const int out_leg = 1 - d.in_leg;
  switch (f.kind) {
    case CC_JITTER_FRAME:
      st = d.tc->process(f.payload, f.payload_len, &o);
      break;
    case CC_JITTER_LOSS:
      bump(counters_[out_leg].concealed);
      st = d.tc->process_lost(nullptr, 0, &o);
      break;
    case CC_JITTER_WAIT:
      d.ts += d.ts_per_in_frame;  // keep real time across the gap
      d.marker = true;
      return;
  }
  if (st != CC_TRANSCODE_OK) {
    bump(counters_[d.in_leg].transcode_errors);
    return;
  }
  send_frames(d, o, out);
}

void CallState::send_frames(Direction &d, const cc_transcode_output &o, Sender &out) noexcept {
  const int out_leg = 1 - d.in_leg;
  LegCounters &lc = counters_[out_leg];
  std::size_t off = 0;
  for (std::size_t i = 0; i < o.n_frames; ++i) {
    const std::span<const std::uint8_t> payload(d.out.data() + off, d.lens[i]);
    off += d.lens[i];
    rtp::Header h{};
    h.marker = d.marker ? 1 : 0;
    h.payload_type = d.payload_type;
    h.sequence = d.seq++;
    h.timestamp = d.ts;
    h.ssrc = d.ssrc;
    d.ts += d.ts_per_out_frame;
    d.marker = false;
    std::size_t n = 0;
    if (rtp::build(h, payload, rtp_buf_, n) != rtp::Status::ok) {
      bump(lc.transcode_errors);
      continue;
    }
    if (!latched_[out_leg]) {
      bump(lc.tx_dropped);
      continue;
    }
    out.send(lc, cfg_.legs[out_leg].local, remote_[out_leg], {rtp_buf_.data(), n});
  }
}

}  // namespace clutchcall::relay
