/* A relayed call: two legs, each a local UDP endpoint of ours and a remote peer, each with its
 * own audio shape. What the relay does with a packet depends only on the two shapes:
 *   - same codec, rate and channels: FORWARD. The RTP packet goes out on the other leg byte for
 *     byte, at once (no jitter buffer: the far end has its own, and re-timing would add delay).
 *   - different: TRANSCODE. Each direction has a jitter buffer (in-leg clock and frame size)
 *     and a transcoder; the shard ticks the buffer every in-leg frame, transcodes the frame (or
 *     conceals a loss) and sends fresh RTP (our SSRC, contiguous sequence numbers, timestamps in
 *     the out-leg clock) with the out-leg payload type.
 *
 * Remote endpoints with port 0 are learned from the first packet on the leg (symmetric RTP
 * latching, as SBCs do for peers behind NAT); afterwards a packet from any other source is
 * dropped and counted (`foreign_source`).
 *
 * Counters are written by the owning shard only and read by anyone (relaxed atomics, one
 * writer), except `handoff_out`, which any shard that received a packet for this call bumps.
 */
#ifndef CLUTCHCALL_CORE_RELAY_CALL_H
#define CLUTCHCALL_CORE_RELAY_CALL_H

#include <atomic>
#include <cstdint>
#include <string>

#include "jitter/jitter.h"
#include "netio/packet_io.h"
#include "transcode/transcoder.h"

namespace clutchcall::relay {

struct LegConfig {
  netio::Endpoint local;   // ours; the port must be unique within the engine
  netio::Endpoint remote;  // the peer; port 0: latch from the first packet
  cc_audio_shape shape{CC_CODEC_G711_ULAW, 8000, 1, 20};
  std::uint8_t payload_type = 0;  // the PT we send on this leg when transcoding
};

struct CallConfig {
  std::uint64_t id = 0;
  LegConfig legs[2];
  cc_jitter_config jitter = jitter::default_config();  // clock_rate/frame_ms set per direction
};

/* RTP clock rate of a shape (RFC 3551: G.711 8 kHz; RFC 7587: Opus always 48 kHz). */
std::uint32_t rtp_clock_rate(const cc_audio_shape &s) noexcept;
/* FORWARD when the legs carry the same codec, rate and channels. */
bool legs_match(const cc_audio_shape &a, const cc_audio_shape &b) noexcept;
/* Empty when the config is usable, else what is wrong with it. */
std::string validate(const CallConfig &c);

/* A counter with one writer: a plain load+store is enough (no read-modify-write). */
inline void bump(std::atomic<std::uint64_t> &c, std::uint64_t n = 1) noexcept {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

struct LegCounters {
  std::atomic<std::uint64_t> rx_packets{0}, rx_bytes{0};  // received on this leg
  std::atomic<std::uint64_t> tx_packets{0}, tx_bytes{0};  // sent on this leg
  std::atomic<std::uint64_t> malformed{0};                // not RTP
  std::atomic<std::uint64_t> foreign_source{0};           // from someone other than the peer
  std::atomic<std::uint64_t> tx_dropped{0};               // the backend refused to queue it
  std::atomic<std::uint64_t> ssrc_changes{0};
  std::atomic<std::uint64_t> late_losses{0};     // jitter buffer: arrived after its playout tick
  std::atomic<std::uint64_t> concealed{0};       // frames concealed (loss ticks) into this leg
  std::atomic<std::uint64_t> transcode_errors{0};
  std::atomic<std::uint64_t> handoff_out{0};     // received on a non-owner shard and handed off
  std::atomic<std::uint64_t> handoff_in{0};      // handed off and processed by the owner
};

/* A plain snapshot for readers. */
struct LegStats {
  std::uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, malformed, foreign_source, tx_dropped,
      ssrc_changes, late_losses, concealed, transcode_errors, handoff_out, handoff_in;
  /* Packets lost between shards: handed off but never processed (ring overrun). Exact once the
   * call is quiet; while packets are in flight it may count them. */
  std::uint64_t ring_lost() const noexcept {
    return handoff_out > handoff_in ? handoff_out - handoff_in : 0;
  }
};

LegStats snapshot(const LegCounters &c) noexcept;

}  // namespace clutchcall::relay

#endif  // CLUTCHCALL_CORE_RELAY_CALL_H
