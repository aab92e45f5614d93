#include "relay/call.h"

namespace clutchcall::relay {

std::uint32_t rtp_clock_rate(const cc_audio_shape &s) noexcept {
  switch (s.codec) {
    case CC_CODEC_OPUS: return 48000;
    case CC_CODEC_G711_ULAW:
    case CC_CODEC_G711_ALAW: return 8000;
    default: return s.sample_rate;
  }
}

bool legs_match(const cc_audio_shape &a, const cc_audio_shape &b) noexcept {
  return a.codec == b.codec && a.sample_rate == b.sample_rate && a.channels == b.channels;
}

std::string validate(const CallConfig &c) {
  for (int i = 0; i < 2; ++i) {
    const LegConfig &leg = c.legs[i];
    const std::string name = i == 0 ? "leg a" : "leg b";
    if (leg.local.port == 0) return name + ": local port is 0";
    if (leg.payload_type > 127) return name + ": payload type > 127";
    const cc_audio_shape s = cc_audio_shape_normalize(leg.shape);
    if (const cc_transcode_status st = cc_audio_shape_validate(&s); st != CC_TRANSCODE_OK) {
      return name + ": bad audio shape (" + cc_transcode_status_name(st) + ")";
    }
  }
  if (c.legs[0].local.port == c.legs[1].local.port) return "both legs use local port " +
                                                           std::to_string(c.legs[0].local.port);
  if (c.legs[0].local.v4 != c.legs[0].remote.v4 || c.legs[1].local.v4 != c.legs[1].remote.v4) {
    return "a leg mixes IPv4 and IPv6 (local and remote must be the same family)";
  }
  return {};
}

LegStats snapshot(const LegCounters &c) noexcept {
  auto r = [](const std::atomic<std::uint64_t> &a) { return a.load(std::memory_order_relaxed); };
  return LegStats{r(c.rx_packets),     r(c.rx_bytes),       r(c.tx_packets),  r(c.tx_bytes),
                  r(c.malformed),      r(c.foreign_source), r(c.tx_dropped),  r(c.ssrc_changes),
                  r(c.late_losses),    r(c.concealed),      r(c.transcode_errors),
                  r(c.handoff_out),    r(c.handoff_in)};
}

}  // namespace clutchcall::relay
