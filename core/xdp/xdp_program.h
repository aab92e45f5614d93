/* The RTP classifier (rtp_classifier.bpf.c) as a loaded XDP program on one interface.
 *
 * Invariants:
 *   - The BPF object is embedded in the library (no file on disk) and opened with
 *     bpf_object__open_mem; libxdp attaches it (through its multiprog dispatcher when it can,
 *     which needs bpffs: mounted at /sys/fs/bpf when missing and we are allowed to). When the
 *     dispatcher cannot be had (libxdp 1.3 reads xdp-dispatcher.o from disk), the program is
 *     attached directly with libbpf's bpf_xdp_attach instead (`multiprog()` says which).
 *   - attach() tries native (driver) mode first, then generic (skb) mode; mode() says which.
 *     On failure it returns null and a plain reason naming what refused it.
 *   - Steering: an RTP packet (UDP dst port in [port_lo, port_hi], RTP v2, not RTCP) goes to the
 *     XSK registered for the RX queue it arrived on (XSKMAP indexed by rx_queue_index); with no
 *     XSK for that queue, or anything else, it passes to the kernel. So an XSK only ever sees
 *     its own queue's traffic; a packet for a call owned by another shard is handed off in
 *     software by the relay (see core/README.md).
 *   - The config map starts zeroed (disabled: everything passes); attach()/load_unattached()
 *     write `cfg` right after load, and set_port_range()/set_enabled() change it at runtime.
 *   - The destructor detaches the program from the interface.
 * Thread safety: the map updates are single syscalls (safe from any thread); create/destroy
 * from one thread.
 */
#ifndef CLUTCHCALL_CORE_XDP_XDP_PROGRAM_H
#define CLUTCHCALL_CORE_XDP_XDP_PROGRAM_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

struct bpf_object;
struct xdp_program;

namespace clutchcall::xdp {

struct ClassifierStats {
  std::uint64_t total = 0;
  std::uint64_t rtp_redirected = 0;        // an XSK was registered for the queue
  std::uint64_t rtp_no_socket_passed = 0;  // RTP, no XSK for the queue: to the kernel
  std::uint64_t not_rtp_passed = 0;
  std::uint64_t malformed_passed = 0;
  std::uint64_t rtcp_passed = 0;
  std::uint64_t fragment_passed = 0;
  std::uint64_t ipv6_ext_passed = 0;
  std::uint64_t disabled_passed = 0;
};

/* The embedded BPF object (ELF bytes). */
std::span<const std::uint8_t> classifier_object() noexcept;

class XdpProgram {
 public:
  struct Config {
    std::uint16_t port_lo = 10000;
    std::uint16_t port_hi = 20000;
    bool enabled = true;
  };
  enum class Mode { none, native, generic };

  static std::unique_ptr<XdpProgram> attach(const std::string &ifname, Config cfg,
                                            std::string *why);
  /* Loads the program and its maps without attaching (for BPF_PROG_TEST_RUN). */
  static std::unique_ptr<XdpProgram> load_unattached(Config cfg, std::string *why);

  ~XdpProgram();
  XdpProgram(const XdpProgram &) = delete;
  XdpProgram &operator=(const XdpProgram &) = delete;

  Mode mode() const noexcept { return mode_; }
  static const char *mode_name(Mode m) noexcept;
  const std::string &ifname() const noexcept { return ifname_; }
  int ifindex() const noexcept { return ifindex_; }
  bool multiprog() const noexcept { return prog_ != nullptr && !direct_; }
  Config config() const noexcept { return cfg_; }

  /* Returns "" or why the map update failed. lo <= hi required. */
  std::string set_port_range(std::uint16_t lo, std::uint16_t hi);
  std::string set_enabled(bool enabled);
  std::string register_xsk(std::uint32_t queue, int xsk_fd);
  std::string unregister_xsk(std::uint32_t queue);

  ClassifierStats stats() const;
  std::string reset_stats();

  /* For tests: the classifier's program fd (BPF_PROG_TEST_RUN). */
  int prog_fd() const noexcept;

 private:
  XdpProgram() = default;
  std::string open_object();
  std::string find_maps();
  std::string write_config();

  bpf_object *obj_ = nullptr;
  ::xdp_program *prog_ = nullptr;  // attached through libxdp (null for load_unattached)
  int ifindex_ = 0;
  std::string ifname_;
  Mode mode_ = Mode::none;
  bool direct_ = false;  // attached with libbpf's bpf_xdp_attach (no libxdp dispatcher)
  Config cfg_{};
  int config_fd_ = -1;
  int xsks_fd_ = -1;
  int counters_fd_ = -1;
  int prog_fd_ = -1;
};

}  // namespace clutchcall::xdp

#endif  // CLUTCHCALL_CORE_XDP_XDP_PROGRAM_H
