#include "relay/backends.h"

#include <dirent.h>

#include <cstring>

#include "netio/udp_mmsg_io.h"
#include "netio/udp_uring_io.h"
#include "xdp/xdp_program.h"
#include "xdp/xsk_group.h"
#include "xdp/xsk_io.h"

namespace clutchcall::relay {
namespace {

// RX queues of an interface, from sysfs (queues/rx-N); 0 if it does not exist.
std::uint32_t rx_queues(const std::string &ifname) {
  const std::string dir = "/sys/class/net/" + ifname + "/queues";
  DIR *d = opendir(dir.c_str());
  if (!d) return 0;
  std::uint32_t n = 0;
  while (dirent *e = readdir(d)) {
    if (std::strncmp(e->d_name, "rx-", 3) == 0) ++n;
  }
  closedir(d);
  return n;
}

bool make_xdp(const EngineConfig &cfg, std::uint32_t shards, BackendSet *out, std::string *why) {
  if (cfg.ifname.empty()) {
    *why = "no interface configured (EngineConfig::ifname)";
    return false;
  }
  const std::uint32_t queues = rx_queues(cfg.ifname);
  if (queues == 0) {
    *why = "no such interface: " + cfg.ifname;
    return false;
  }
  xdp::XdpProgram::Config pc;
  pc.port_lo = cfg.port_lo;
  pc.port_hi = cfg.port_hi;
  std::shared_ptr<xdp::XdpProgram> prog = xdp::XdpProgram::attach(cfg.ifname, pc, why);
  if (!prog) return false;
  // An XSK receives only from its own queue, so every queue needs one (RTP on a queue without
  // an XSK goes to the kernel, where nothing listens for it): one shard per queue at most, and
  // with fewer shards than queues, shard i owns queues i, i + n, i + 2n, ... (an XskGroup).
  const std::uint32_t n = std::min(shards, queues);
  std::vector<std::vector<std::unique_ptr<xdp::XskIo>>> owned(n);
  std::string mode;
  for (std::uint32_t q = 0; q < queues; ++q) {
    xdp::XskConfig xc;
    xc.ifname = cfg.ifname;
    xc.queue_id = q;
    if (cfg.xsk_rx_frames != 0) xc.rx_frames = cfg.xsk_rx_frames;
    if (cfg.xsk_tx_frames != 0) xc.tx_frames = cfg.xsk_tx_frames;
    std::unique_ptr<xdp::XskIo> io = xdp::XskIo::create(xc, *prog, why);
    if (!io) {
      *why = "XSK on " + cfg.ifname + " queue " + std::to_string(q) + ": " + *why;
      return false;  // the ones made so far unregister themselves as `owned` goes away
    }
    if (q == 0) mode = std::string(xdp::XdpProgram::mode_name(prog->mode())) + " XDP, " + xdp::XskIo::bind_mode_name(io->bind_mode());
    owned[q % n].push_back(std::move(io));
  }
  std::vector<std::unique_ptr<netio::PacketIo>> ios;
  for (auto &socks : owned) {
    if (socks.size() == 1) {
      ios.push_back(std::move(socks.front()));
    } else {
      ios.push_back(std::make_unique<xdp::XskGroup>(std::move(socks)));
    }
  }
  out->kind = Backend::af_xdp;
  out->per_shard = std::move(ios);
  out->keepalive = prog;
  out->xdp_mode = mode;
  if (n < shards) {
    out->fallback_reason = std::to_string(shards) + " shards asked, " + cfg.ifname + " has " +
                           std::to_string(queues) + " RX queue(s): running " + std::to_string(n);
  }
  return true;
}

template <typename Io, typename Config>
bool make_sockets(Backend kind, std::uint32_t shards, BackendSet *out, std::string *why) {
  std::vector<std::unique_ptr<netio::PacketIo>> ios;
  for (std::uint32_t i = 0; i < shards; ++i) {
    Config c;
    c.shard = i;
    std::unique_ptr<Io> io = Io::create(c, why);
    if (!io) return false;
    ios.push_back(std::move(io));
  }
  out->kind = kind;
  out->per_shard = std::move(ios);
  return true;
}

bool make_one(Backend kind, const EngineConfig &cfg, std::uint32_t shards, BackendSet *out,
              std::string *why) {
  switch (kind) {
    case Backend::af_xdp: return make_xdp(cfg, shards, out, why);
    case Backend::io_uring:
      return make_sockets<netio::UdpUringIo, netio::UringConfig>(kind, shards, out, why);
    case Backend::recvmmsg:
      return make_sockets<netio::UdpMmsgIo, netio::MmsgConfig>(kind, shards, out, why);
    case Backend::custom: {
      if (!cfg.io_factory) {
        *why = "Backend::custom needs io_factory";
        return false;
      }
      for (std::uint32_t i = 0; i < shards; ++i) {
        auto io = cfg.io_factory(i, why);
        if (!io) return false;
        out->per_shard.push_back(std::move(io));
      }
      out->kind = Backend::custom;
      return true;
    }
    case Backend::automatic: break;
  }
  *why = "no backend";
  return false;
}

}  // namespace

void read_backend_stats(const netio::PacketIo &io, ShardStats *out) noexcept {
  const auto *x = dynamic_cast<const xdp::XskIo *>(&io);
  const auto *g = dynamic_cast<const xdp::XskGroup *>(&io);
  if (x != nullptr || g != nullptr) {
    const xdp::XskStats s = x != nullptr ? x->xsk_stats() : g->xsk_stats();
    out->io = s.io;
    out->kernel_rx_dropped = s.kernel_rx_dropped;
    out->kernel_rx_ring_full = s.kernel_rx_ring_full;
    out->kernel_fill_ring_empty = s.kernel_rx_fill_ring_empty;
    return;
  }
  out->io = io.stats();
}

bool make_backends(const EngineConfig &cfg, std::uint32_t shards, BackendSet *out,
                   std::string *why) {
  if (cfg.backend != Backend::automatic) {
    std::string err;
    if (make_one(cfg.backend, cfg, shards, out, &err)) return true;
    *why = std::string(to_string(cfg.backend)) + ": " + err;
    return false;
  }
  std::string reasons;
  for (Backend b : {Backend::af_xdp, Backend::io_uring, Backend::recvmmsg}) {
    std::string err;
    BackendSet set;
    if (make_one(b, cfg, shards, &set, &err)) {
      if (!reasons.empty()) {
        set.fallback_reason = reasons + "; using " + to_string(b) +
                              (set.fallback_reason.empty() ? "" : " (" + set.fallback_reason + ")");
      }
      *out = std::move(set);
      return true;
    }
    reasons += (reasons.empty() ? "" : "; ") + std::string(to_string(b)) + " refused: " + err;
  }
  *why = reasons;
  return false;
}

}  // namespace clutchcall::relay
