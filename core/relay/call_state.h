/* The media state of one call, owned by one shard and touched only by its thread: the latched
 * remotes, and when the legs' codecs differ, one jitter buffer + transcoder + outgoing RTP
 * stream per direction (see call.h for what FORWARD and TRANSCODE mean).
 *
 * Timing of a TRANSCODE direction: the first packet starts a playout clock that ticks every
 * in-leg frame_ms. Each tick takes exactly one outcome from the jitter buffer: a frame (decoded,
 * transcoded, sent), a loss (concealed by the transcoder, sent, counted), or a wait (nothing
 * sent; the outgoing timestamp still advances so that it keeps real time, and the next packet
 * carries the marker bit as the start of a talkspurt). A shard that falls more than
 * kMaxTickLag ticks behind (a stalled thread) skips ahead instead of bursting.
 */
#ifndef CLUTCHCALL_CORE_RELAY_CALL_STATE_H
#define CLUTCHCALL_CORE_RELAY_CALL_STATE_H

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "jitter/jitter.h"
#include "relay/call.h"
#include "transcode/transcoder.h"

namespace clutchcall::relay {

/* Where a CallState sends: queue `rtp` from `local` to `remote`. The sender counts the packet
 * into `leg`'s tx_packets/tx_bytes once the backend accepted it, or into tx_dropped. */
class Sender {
 public:
  virtual ~Sender() = default;
  virtual void send(LegCounters &leg, const netio::Endpoint &local, const netio::Endpoint &remote,
                    std::span<const std::uint8_t> rtp) noexcept = 0;
};

class CallState {
 public:
  static constexpr int kMaxTickLag = 5;
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

  /* `counters` points at two LegCounters (legs 0 and 1) that outlive this object. Null and
   * *why set if the config cannot be relayed (validate(), or the transcoder refuses it). */
  static std::unique_ptr<CallState> create(const CallConfig &config, LegCounters *counters,
                                           std::uint32_t ssrc_seed, std::string *why);
  ~CallState();

  /* One RTP packet received on `leg` (0 or 1). */
  void on_packet(int leg, const netio::RxPacket &pkt, std::int64_t now_us, Sender &out) noexcept;
  /* Runs every tick that is due; returns when the next one is due (kNever when forwarding). */
  std::int64_t on_timer(std::int64_t now_us, Sender &out) noexcept;
  std::int64_t next_tick_us() const noexcept;

  bool transcoding() const noexcept { return transcoding_; }
  const CallConfig &config() const noexcept { return cfg_; }
  const netio::Endpoint &remote(int leg) const noexcept { return remote_[leg]; }

 private:
  struct Direction;  // in-leg -> out-leg pipeline (TRANSCODE only)
  CallState() = default;
  void tick(Direction &d, Sender &out) noexcept;
  void send_frames(Direction &d, const cc_transcode_output &o, Sender &out) noexcept;

  CallConfig cfg_{};
  LegCounters *counters_ = nullptr;
  bool transcoding_ = false;
  netio::Endpoint remote_[2];
  bool latched_[2] = {false, false};
  bool have_ssrc_[2] = {false, false};
  std::uint32_t last_ssrc_[2] = {0, 0};
  std::unique_ptr<Direction> dir_[2];  // dir_[i]: packets received on leg i, sent on leg 1-i
  std::vector<std::uint8_t> rtp_buf_;
};

}  // namespace clutchcall::relay

#endif  // CLUTCHCALL_CORE_RELAY_CALL_STATE_H
