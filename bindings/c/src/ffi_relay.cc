// Relay engine entry points of the C ABI over core/relay: the control surface only (the shards
// run in their own threads; no packet crosses this boundary). Why a call failed is kept per
// thread for cc_relay_last_error(), since a cc_status alone cannot carry the engine's text.
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "ffi_common.h"
#include "netio/packet_io.h"
#include "relay/engine.h"

using clutchcall::ffi::present;
using clutchcall::ffi::zero;
namespace relay = clutchcall::relay;
namespace netio = clutchcall::netio;

struct cc_relay {
  /* Every call that uses the engine holds `mu` shared for its duration; cc_relay_stop holds it
   * exclusively while it destroys the engine, so a stop racing with other calls on other threads
   * waits for them, and they then answer CC_ERR_STOPPED. */
  mutable std::shared_mutex mu;
  std::unique_ptr<relay::Engine> engine;
  // Copied at start so that the getters answer (and stay valid) after stop.
  const char *backend = "";
  std::string fallback_reason;
  std::string xdp_mode;
  std::uint32_t shard_count = 0;
};

namespace {

thread_local std::string last_error;

// The relay's variant of ffi::guarded: clears the message on entry and leaves one on any error
// (the body's own, else the status name, or the exception's text for CC_ERR_INTERNAL).
template <class F>
cc_status relay_guarded(const char *fn, F &&body) noexcept {
  cc_status s = CC_ERR_INTERNAL;
  try {
    last_error.clear();
    s = body();
    if (s != CC_OK && last_error.empty()) last_error = std::string(fn) + ": " + cc_strerror(s);
  } catch (const std::exception &e) {
    try {
      last_error = std::string(fn) + ": internal error: " + e.what();
    } catch (...) {
    }
  } catch (...) {
    try {
      last_error = std::string(fn) + ": internal error";
    } catch (...) {
    }
  }
  return s;
}

cc_status fail(cc_status s, std::string message) {
  last_error = std::move(message);
  return s;
}

// Text of a fixed char field, refusing one without its NUL (a runtime that filled it wrong).
bool field_text(const char *field, size_t size, std::string *out) {
  const void *nul = std::memchr(field, '\0', size);
  if (nul == nullptr) return false;
  out->assign(field, static_cast<size_t>(static_cast<const char *>(nul) - field));
  return true;
}

// The variable-size string convention: copy if it fits, else BUFFER_TOO_SMALL and the size.
cc_status copy_out(const std::string &text, char *buf, size_t cap, size_t *len) {
  if (len == nullptr || !present(buf, cap)) return CC_ERR_NULL_ARG;
  *len = text.size();
  if (cap < text.size()) return CC_ERR_BUFFER_TOO_SMALL;
  if (!text.empty()) std::memcpy(buf, text.data(), text.size());
  return CC_OK;
}

cc_status to_leg(const cc_relay_leg &l, const char *which, relay::LegConfig *out) {
  const std::string w(which);
  std::string local_ip, remote_ip;
  if (!field_text(l.local_ip, sizeof l.local_ip, &local_ip)) {
    return fail(CC_ERR_INVALID_ARG, w + ".local_ip: not NUL-terminated");
  }
  if (!field_text(l.remote_ip, sizeof l.remote_ip, &remote_ip)) {
    return fail(CC_ERR_INVALID_ARG, w + ".remote_ip: not NUL-terminated");
  }
  if (!netio::parse_endpoint(local_ip, l.local_port, &out->local)) {
    return fail(CC_ERR_INVALID_ARG, w + ".local_ip: not an IP address: '" + local_ip + "'");
  }
  if (l.local_port == 0) return fail(CC_ERR_INVALID_ARG, w + ".local_port: 0");
  const std::string remote = remote_ip.empty() ? (out->local.v4 ? "0.0.0.0" : "::") : remote_ip;
  if (!netio::parse_endpoint(remote, l.remote_port, &out->remote)) {
    return fail(CC_ERR_INVALID_ARG, w + ".remote_ip: not an IP address: '" + remote_ip + "'");
  }
  if (l.codec > CC_CODEC_G711_ALAW) {
    return fail(CC_ERR_INVALID_ARG, w + ".codec: " + std::to_string(l.codec) +
                                        " is not 1 opus, 2 pcm16, 3 g711_ulaw or 4 g711_alaw");
  }
  if (l.payload_type > 127) {
    return fail(CC_ERR_INVALID_ARG, w + ".payload_type: " + std::to_string(l.payload_type) + " > 127");
  }
  const std::uint32_t codec = l.codec == CC_CODEC_UNSPECIFIED ? std::uint32_t{CC_CODEC_OPUS} : l.codec;
  std::uint32_t rate = l.sample_rate;
  if (rate == 0) rate = codec == CC_CODEC_OPUS ? 48000 : 8000;
  out->shape = {codec, rate, l.channels == 0 ? 1u : l.channels, l.frame_ms == 0 ? 20u : l.frame_ms};
  out->payload_type = l.payload_type;
  return CC_OK;
}

cc_relay_leg_stats leg_stats(const relay::LegStats &s) noexcept {
  return cc_relay_leg_stats{s.rx_packets,  s.rx_bytes,       s.tx_packets,   s.tx_bytes,
                            s.malformed,   s.foreign_source, s.tx_dropped,   s.ssrc_changes,
                            s.late_losses, s.concealed,      s.transcode_errors, s.handoff_out,
                            s.handoff_in,  s.ring_lost()};
}

cc_relay_call_stats call_stats(const relay::CallStats &s) noexcept {
  cc_relay_call_stats c{};
  c.id = s.id;
  c.shard = s.shard;
  c.transcoding = s.transcoding ? 1 : 0;
  c.a = leg_stats(s.legs[0]);
  c.b = leg_stats(s.legs[1]);
  return c;
}

// A handle that is present and running, else the status (and message) saying which. On
// success *lock holds the handle's lock shared, so the engine stays up until it is released.
cc_status running(const cc_relay *r, std::shared_lock<std::shared_mutex> *lock) {
  if (r == nullptr) return fail(CC_ERR_NULL_ARG, "engine: NULL");
  *lock = std::shared_lock<std::shared_mutex>(r->mu);
  if (!r->engine) return fail(CC_ERR_STOPPED, "the engine is stopped");
  return CC_OK;
}

}  // namespace

extern "C" {

void cc_relay_config_default(cc_relay_config *out) {
  if (out == nullptr) return;
  std::memset(out, 0, sizeof *out);
  const relay::EngineConfig d;
  out->backend = CC_RELAY_AUTO;
  out->port_lo = d.port_lo;
  out->port_hi = d.port_hi;
  out->shards = d.shards;
  out->busy_poll = d.busy_poll ? 1 : 0;
  out->pin = d.pin ? 1 : 0;
  out->max_calls = d.max_calls;
  out->handoff_depth = d.handoff_depth;
  out->xsk_rx_frames = d.xsk_rx_frames;
  out->xsk_tx_frames = d.xsk_tx_frames;
}

cc_status cc_relay_start(const cc_relay_config *config, cc_relay **out) {
  return relay_guarded("cc_relay_start", [&] {
    if (out == nullptr) return fail(CC_ERR_NULL_ARG, "out: NULL");
    *out = nullptr;
    if (config == nullptr) return fail(CC_ERR_NULL_ARG, "config: NULL");
    const cc_relay_config &c = *config;
    relay::EngineConfig cfg;
    switch (c.backend) {
      case CC_RELAY_AUTO: cfg.backend = relay::Backend::automatic; break;
      case CC_RELAY_AF_XDP: cfg.backend = relay::Backend::af_xdp; break;
      case CC_RELAY_IO_URING: cfg.backend = relay::Backend::io_uring; break;
      case CC_RELAY_RECVMMSG: cfg.backend = relay::Backend::recvmmsg; break;
      default:
        return fail(CC_ERR_INVALID_ARG, "backend: " + std::to_string(c.backend) +
                                            " is not 0 auto, 1 af_xdp, 2 io_uring or 3 recvmmsg");
    }
    if (!field_text(c.ifname, sizeof c.ifname, &cfg.ifname)) {
      return fail(CC_ERR_INVALID_ARG, "ifname: not NUL-terminated within " +
                                          std::to_string(sizeof c.ifname) + " bytes");
    }
    if (c.port_lo == 0 || c.port_lo > c.port_hi) {
      return fail(CC_ERR_INVALID_ARG, "port_lo/port_hi: bad port range " + std::to_string(c.port_lo) +
                                          ".." + std::to_string(c.port_hi));
    }
    if (c.busy_poll > 1) return fail(CC_ERR_INVALID_ARG, "busy_poll: not 0 or 1");
    if (c.pin > 1) return fail(CC_ERR_INVALID_ARG, "pin: not 0 or 1");
    if (c.cpu_count > CC_RELAY_MAX_CPUS) {
      return fail(CC_ERR_INVALID_ARG, "cpu_count: " + std::to_string(c.cpu_count) + " > " +
                                          std::to_string(CC_RELAY_MAX_CPUS));
    }
    cfg.port_lo = c.port_lo;
    cfg.port_hi = c.port_hi;
    cfg.shards = c.shards;
    cfg.busy_poll = c.busy_poll != 0;
    cfg.pin = c.pin != 0;
    cfg.cpus.assign(c.cpus, c.cpus + c.cpu_count);
    cfg.max_calls = c.max_calls;
    cfg.handoff_depth = c.handoff_depth;
    cfg.xsk_rx_frames = c.xsk_rx_frames;
    cfg.xsk_tx_frames = c.xsk_tx_frames;
    std::unique_ptr<cc_relay> h(new (std::nothrow) cc_relay());
    if (!h) return fail(CC_ERR_ALLOC, "out of memory");
    std::string why;
    h->engine = relay::Engine::start(cfg, &why);
    if (!h->engine) return fail(CC_ERR_START_FAILED, "the fast path did not start: " + why);
    h->backend = h->engine->backend_name();
    h->fallback_reason = h->engine->fallback_reason();
    h->xdp_mode = h->engine->xdp_mode();
    h->shard_count = h->engine->shard_count();
    *out = h.release();
    return CC_OK;
  });
}

cc_status cc_relay_stop(cc_relay *r) {
  return relay_guarded("cc_relay_stop", [&] {
    if (r == nullptr) return fail(CC_ERR_NULL_ARG, "engine: NULL");
    std::unique_lock<std::shared_mutex> lock(r->mu);
    r->engine.reset();
    return CC_OK;
  });
}

void cc_relay_destroy(cc_relay *r) {
  if (r == nullptr) return;
  try {
    r->engine.reset();
  } catch (...) {  // ~Engine stops the shards; nothing may escape the ABI
  }
  delete r;
}

cc_status cc_relay_last_error(char *buf, size_t cap, size_t *len) {
  // Not relay_guarded: reading the message must not change it.
  try {
    return copy_out(last_error, buf, cap, len);
  } catch (...) {
    return CC_ERR_INTERNAL;
  }
}

const char *cc_relay_backend(const cc_relay *r) { return r == nullptr ? "" : r->backend; }

cc_status cc_relay_fallback_reason(const cc_relay *r, char *buf, size_t cap, size_t *len) {
  return relay_guarded("cc_relay_fallback_reason", [&] {
    zero(len);
    if (r == nullptr) return fail(CC_ERR_NULL_ARG, "engine: NULL");
    return copy_out(r->fallback_reason, buf, cap, len);
  });
}

cc_status cc_relay_xdp_mode(const cc_relay *r, char *buf, size_t cap, size_t *len) {
  return relay_guarded("cc_relay_xdp_mode", [&] {
    zero(len);
    if (r == nullptr) return fail(CC_ERR_NULL_ARG, "engine: NULL");
    return copy_out(r->xdp_mode, buf, cap, len);
  });
}

cc_status cc_relay_shard_count(const cc_relay *r, uint32_t *count) {
  return relay_guarded("cc_relay_shard_count", [&] {
    if (r == nullptr || count == nullptr) return fail(CC_ERR_NULL_ARG, r ? "count: NULL" : "engine: NULL");
    *count = r->shard_count;
    return CC_OK;
  });
}

void cc_relay_leg_default(cc_relay_leg *out) {
  if (out == nullptr) return;
  std::memset(out, 0, sizeof *out);
  out->codec = CC_CODEC_G711_ULAW;
  out->sample_rate = 8000;
  out->channels = 1;
  out->frame_ms = 20;
}

cc_status cc_relay_add_call(cc_relay *r, uint64_t id, const cc_relay_leg *a, const cc_relay_leg *b) {
  return relay_guarded("cc_relay_add_call", [&] {
    if (a == nullptr || b == nullptr) return fail(CC_ERR_NULL_ARG, a ? "b: NULL" : "a: NULL");
    std::shared_lock<std::shared_mutex> lock;
    if (const cc_status s = running(r, &lock); s != CC_OK) return s;
    relay::CallConfig c;
    c.id = id;
    if (const cc_status s = to_leg(*a, "a", &c.legs[0]); s != CC_OK) return s;
    if (const cc_status s = to_leg(*b, "b", &c.legs[1]); s != CC_OK) return s;
    const std::string err = r->engine->add_call(c);
    if (!err.empty()) return fail(CC_ERR_CALL_REFUSED, "add_call(" + std::to_string(id) + "): " + err);
    return CC_OK;
  });
}

cc_status cc_relay_remove_call(cc_relay *r, uint64_t id, cc_relay_call_stats *out) {
  return relay_guarded("cc_relay_remove_call", [&] {
    std::shared_lock<std::shared_mutex> lock;
    if (const cc_status s = running(r, &lock); s != CC_OK) return s;
    relay::CallStats s;
    if (!r->engine->remove_call(id, &s)) return fail(CC_ERR_UNKNOWN_CALL, "no call " + std::to_string(id));
    if (out != nullptr) *out = call_stats(s);
    return CC_OK;
  });
}

cc_status cc_relay_get_call_stats(const cc_relay *r, uint64_t id, cc_relay_call_stats *out) {
  return relay_guarded("cc_relay_get_call_stats", [&] {
    if (out == nullptr) return fail(CC_ERR_NULL_ARG, "out: NULL");
    std::shared_lock<std::shared_mutex> lock;
    if (const cc_status s = running(r, &lock); s != CC_OK) return s;
    relay::CallStats s;
    if (!r->engine->call_stats(id, &s)) return fail(CC_ERR_UNKNOWN_CALL, "no call " + std::to_string(id));
    *out = call_stats(s);
    return CC_OK;
  });
}

cc_status cc_relay_call_ids(const cc_relay *r, uint64_t *ids, size_t cap, size_t *n) {
  return relay_guarded("cc_relay_call_ids", [&] {
    zero(n);
    if (n == nullptr || !present(ids, cap)) return fail(CC_ERR_NULL_ARG, n ? "ids: NULL" : "n: NULL");
    std::shared_lock<std::shared_mutex> lock;
    if (const cc_status s = running(r, &lock); s != CC_OK) return s;
    const std::vector<std::uint64_t> all = r->engine->call_ids();
    if (cap < all.size()) {
      *n = all.size();
      return fail(CC_ERR_BUFFER_TOO_SMALL, "ids: " + std::to_string(all.size()) + " calls, capacity " +
                                               std::to_string(cap));
    }
    if (!all.empty()) std::memcpy(ids, all.data(), all.size() * sizeof(std::uint64_t));
    *n = all.size();
    return CC_OK;
  });
}

cc_status cc_relay_get_shard_stats(const cc_relay *r, uint32_t index, cc_relay_shard_stats *out) {
  return relay_guarded("cc_relay_get_shard_stats", [&] {
    if (out == nullptr) return fail(CC_ERR_NULL_ARG, "out: NULL");
    std::shared_lock<std::shared_mutex> lock;
    if (const cc_status s = running(r, &lock); s != CC_OK) return s;
    const std::vector<relay::ShardStats> all = r->engine->shard_stats();
    if (index >= all.size()) {
      return fail(CC_ERR_INVALID_ARG, "index: " + std::to_string(index) + " >= shard count " +
                                          std::to_string(all.size()));
    }
    const relay::ShardStats &s = all[index];
    cc_relay_shard_stats o{};
    o.shard = s.shard;
    o.cpu = s.cpu;
    o.calls = s.calls;
    o.rx_packets = s.rx_packets;
    o.rx_bytes = s.rx_bytes;
    o.tx_packets = s.tx_packets;
    o.tx_bytes = s.tx_bytes;
    o.tx_dropped = s.tx_dropped;
    o.unknown_port = s.unknown_port;
    o.handoff_out = s.handoff_out;
    o.handoff_in = s.handoff_in;
    o.handoff_refused = s.handoff_refused;
    o.ring_overruns = s.ring_overruns;
    o.ring_lost = s.ring_lost;
    o.loops = s.loops;
    o.idle_waits = s.idle_waits;
    o.kernel_rx_dropped = s.kernel_rx_dropped;
    o.kernel_rx_ring_full = s.kernel_rx_ring_full;
    o.kernel_fill_ring_empty = s.kernel_fill_ring_empty;
    o.io = cc_relay_io_stats{s.io.rx_packets, s.io.rx_bytes,   s.io.tx_packets, s.io.tx_bytes,
                             s.io.rx_dropped, s.io.tx_dropped, s.io.wakeups};
    *out = o;
    return CC_OK;
  });
}

}  // extern "C"
