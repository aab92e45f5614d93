#include "xdp/xdp_program.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <xdp/libxdp.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <vector>

#include "xdp/classifier_abi.h"

namespace clutchcall::xdp {
namespace detail {
extern const unsigned char rtp_classifier_object[];
extern const std::size_t rtp_classifier_object_size;
}  // namespace detail

namespace {

constexpr long kBpfFsMagic = 0xcafe4a11;
constexpr const char *kBpfFsPath = "/sys/fs/bpf";

std::string errname(int err) {
  if (err < 0) err = -err;
  const char *n = strerrorname_np(err);
  return n ? std::string(n) : "errno " + std::to_string(err);
}

// libbpf/libxdp log lines produced while we call them, so a failure can say what the loader
// or the verifier reported instead of printing to stderr.
thread_local std::string *g_log = nullptr;

int log_fn(const char *fmt, va_list ap) {
  char line[1024];
  const int n = std::vsnprintf(line, sizeof(line), fmt, ap);
  if (n <= 0) return 0;
  if (g_log) {
    if (g_log->size() < 16384) g_log->append(line);
  }
  return n;
}
int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap) {
  if (level == LIBBPF_DEBUG) return 0;
  return log_fn(fmt, ap);
}
int libxdp_log(enum libxdp_print_level level, const char *fmt, va_list ap) {
  if (level == LIBXDP_DEBUG) return 0;
  return log_fn(fmt, ap);
}

struct LogScope {
  std::string text;
  libbpf_print_fn_t old_bpf;
  libxdp_print_fn_t old_xdp;
  LogScope() {
    g_log = &text;
    old_bpf = libbpf_set_print(libbpf_log);
    old_xdp = libxdp_set_print(libxdp_log);
  }
  ~LogScope() {
    libbpf_set_print(old_bpf);
    libxdp_set_print(old_xdp);
    g_log = nullptr;
  }
  // Last non-empty line, for a one-line reason.
  std::string last_line() const {
    std::size_t end = text.find_last_not_of("\n ");
    if (end == std::string::npos) return {};
    std::size_t begin = text.rfind('\n', end);
    begin = begin == std::string::npos ? 0 : begin + 1;
    return text.substr(begin, end - begin + 1);
  }
};

// libxdp's dispatcher pins its state in bpffs. Returns "" when bpffs is there (mounting it if
// we may), else why not; attach() still tries (libxdp can fall back to a legacy attach).
std::string ensure_bpffs() {
  struct statfs st {};
  if (::statfs(kBpfFsPath, &st) == 0 && static_cast<long>(st.f_type) == kBpfFsMagic) return {};
  if (::geteuid() != 0) return "bpffs not mounted at /sys/fs/bpf (and not root to mount it)";
  ::mkdir(kBpfFsPath, 0700);
  if (::mount("bpf", kBpfFsPath, "bpf", 0, "mode=0700") != 0)
    return std::string("bpffs not mounted at /sys/fs/bpf and mount failed: ") + errname(errno);
  return {};
}

}  // namespace

std::span<const std::uint8_t> classifier_object() noexcept {
  return {detail::rtp_classifier_object, detail::rtp_classifier_object_size};
}

const char *XdpProgram::mode_name(Mode m) noexcept {
  switch (m) {
    case Mode::none: return "none";
    case Mode::native: return "native";
    case Mode::generic: return "generic";
  }
  return "unknown";
}

std::string XdpProgram::open_object() {
  // Not LIBBPF_OPTS: it is a GNU statement expression, which -Wpedantic C++ refuses.
  bpf_object_open_opts opts{};
  opts.sz = sizeof(opts);
  opts.object_name = "cc_rtp_classifier";
  const auto bytes = classifier_object();
  obj_ = bpf_object__open_mem(bytes.data(), bytes.size(), &opts);
  const long err = libbpf_get_error(obj_);
  if (err) {
    obj_ = nullptr;
    return "cannot open the embedded BPF object: " + errname(static_cast<int>(err));
  }
  return {};
}

std::string XdpProgram::find_maps() {
  config_fd_ = bpf_object__find_map_fd_by_name(obj_, "cc_config");
  xsks_fd_ = bpf_object__find_map_fd_by_name(obj_, "cc_xsks");
  counters_fd_ = bpf_object__find_map_fd_by_name(obj_, "cc_counters");
  if (config_fd_ < 0 || xsks_fd_ < 0 || counters_fd_ < 0)
    return "the loaded classifier has no cc_config/cc_xsks/cc_counters map";
  return {};
}

std::string XdpProgram::write_config() {
  cc_xdp_config v{};
  v.port_lo = cfg_.port_lo;
  v.port_hi = cfg_.port_hi;
  v.enabled = cfg_.enabled ? 1u : 0u;
  const std::uint32_t key = 0;
  if (bpf_map_update_elem(config_fd_, &key, &v, BPF_ANY) != 0)
    return "cannot write the classifier config: " + errname(errno);
  return {};
}

std::unique_ptr<XdpProgram> XdpProgram::load_unattached(Config cfg, std::string *why) {
  std::unique_ptr<XdpProgram> p(new XdpProgram());
  p->cfg_ = cfg;
  LogScope log;
  std::string err = p->open_object();
  if (err.empty()) {
    const int rc = bpf_object__load(p->obj_);
    if (rc != 0) err = "kernel refused the classifier: " + errname(rc) + " " + log.last_line();
  }
  if (err.empty()) err = p->find_maps();
  if (err.empty()) {
    bpf_program *bp = bpf_object__next_program(p->obj_, nullptr);
    p->prog_fd_ = bp ? bpf_program__fd(bp) : -1;
    if (p->prog_fd_ < 0) err = "the classifier has no program";
  }
  if (err.empty()) err = p->write_config();
  if (!err.empty()) {
    if (why) *why = err;
    return nullptr;
  }
  return p;
}

std::unique_ptr<XdpProgram> XdpProgram::attach(const std::string &ifname, Config cfg,
                                               std::string *why) {
  auto fail = [&](std::string r) -> std::unique_ptr<XdpProgram> {
    if (why) *why = std::move(r);
    return nullptr;
  };
  if (cfg.port_lo > cfg.port_hi) return fail("port range is empty (port_lo > port_hi)");
  const unsigned idx = ::if_nametoindex(ifname.c_str());
  if (idx == 0) return fail("no interface " + ifname + ": " + errname(errno));
  const std::string bpffs = ensure_bpffs();

  std::unique_ptr<XdpProgram> p(new XdpProgram());
  p->cfg_ = cfg;
  p->ifname_ = ifname;
  p->ifindex_ = static_cast<int>(idx);

  std::string reasons;
  const struct {
    xdp_attach_mode mode;
    Mode ours;
    const char *label;
  } tries[] = {{XDP_MODE_NATIVE, Mode::native, "native"}, {XDP_MODE_SKB, Mode::generic, "generic"}};
  for (const auto &t : tries) {
    LogScope log;
    std::string err = p->open_object();
    if (!err.empty()) return fail(err);
    // A fresh object per try: a failed attach can leave the object half-loaded.
    p->prog_ = xdp_program__from_bpf_obj(p->obj_, nullptr);
    long perr = libxdp_get_error(p->prog_);
    if (perr) {
      p->prog_ = nullptr;
      bpf_object__close(p->obj_);
      p->obj_ = nullptr;
      return fail("libxdp cannot use the classifier object: " + errname(static_cast<int>(perr)));
    }
    const int rc = xdp_program__attach(p->prog_, p->ifindex_, t.mode, 0);
    if (rc == 0) {
      p->mode_ = t.ours;
      break;
    }
    if (!reasons.empty()) reasons += "; ";
    reasons += std::string("libxdp ") + t.label + " XDP attach on " + ifname + " failed: " +
               errname(rc);
    const std::string detail = log.last_line();
    if (!detail.empty()) reasons += " (" + detail + ")";
    xdp_program__close(p->prog_);
    p->prog_ = nullptr;
    bpf_object__close(p->obj_);
    p->obj_ = nullptr;
  }
  if (p->mode_ == Mode::none) {
    // libxdp 1.3 needs its dispatcher object (xdp-dispatcher.o from the libxdp1 package) on
    // disk. Without it (or if the dispatcher cannot load), attach our program directly through
    // libbpf: one program on the interface, no multiprog.
    for (const auto &t : tries) {
      LogScope log;
      std::string err = p->open_object();
      if (!err.empty()) return fail(err);
      const int lrc = bpf_object__load(p->obj_);
      bpf_program *bp = lrc == 0 ? bpf_object__next_program(p->obj_, nullptr) : nullptr;
      const int fd = bp ? bpf_program__fd(bp) : -1;
      if (fd < 0) {
        reasons += "; kernel refused the classifier: " + errname(lrc) + " " + log.last_line();
        bpf_object__close(p->obj_);
        p->obj_ = nullptr;
        break;
      }
      const __u32 flags = XDP_FLAGS_UPDATE_IF_NOEXIST |
                          (t.mode == XDP_MODE_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
      const int rc = bpf_xdp_attach(p->ifindex_, fd, flags, nullptr);
      if (rc == 0) {
        p->mode_ = t.ours;
        p->direct_ = true;
        p->prog_fd_ = fd;
        break;
      }
      reasons += std::string("; direct ") + t.label + " XDP attach on " + ifname + " refused: " +
                 errname(rc);
      bpf_object__close(p->obj_);
      p->obj_ = nullptr;
    }
  }
  if (p->mode_ == Mode::none) {
    if (!bpffs.empty()) reasons += "; " + bpffs;
    return fail(reasons);
  }
  if (!p->direct_) p->prog_fd_ = xdp_program__fd(p->prog_);
  std::string err = p->find_maps();
  if (err.empty()) err = p->write_config();
  if (!err.empty()) return fail(err);  // the destructor detaches
  return p;
}

XdpProgram::~XdpProgram() {
  if (prog_) {
    LogScope quiet;
    xdp_program__detach(prog_, ifindex_,
                        mode_ == Mode::native ? XDP_MODE_NATIVE : XDP_MODE_SKB, 0);
    xdp_program__close(prog_);
  }
  if (direct_ && prog_fd_ >= 0) {
    bpf_xdp_attach_opts opts{};
    opts.sz = sizeof(opts);
    opts.old_prog_fd = prog_fd_;  // only remove it if it is still ours
    const __u32 flags = mode_ == Mode::native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
    (void)bpf_xdp_detach(ifindex_, flags | XDP_FLAGS_REPLACE, &opts);
  }
  if (obj_) bpf_object__close(obj_);
}

int XdpProgram::prog_fd() const noexcept { return prog_fd_; }

std::string XdpProgram::set_port_range(std::uint16_t lo, std::uint16_t hi) {
  if (lo > hi) return "port range is empty (lo > hi)";
  const Config old = cfg_;
  cfg_.port_lo = lo;
  cfg_.port_hi = hi;
  std::string err = write_config();
  if (!err.empty()) cfg_ = old;
  return err;
}

std::string XdpProgram::set_enabled(bool enabled) {
  const Config old = cfg_;
  cfg_.enabled = enabled;
  std::string err = write_config();
  if (!err.empty()) cfg_ = old;
  return err;
}

std::string XdpProgram::register_xsk(std::uint32_t queue, int xsk_fd) {
  if (queue >= CC_XDP_MAX_QUEUES) return "queue " + std::to_string(queue) + " beyond the XSKMAP";
  const std::uint32_t v = static_cast<std::uint32_t>(xsk_fd);
  if (bpf_map_update_elem(xsks_fd_, &queue, &v, BPF_ANY) != 0)
    return "cannot register the XSK for queue " + std::to_string(queue) + ": " + errname(errno);
  return {};
}

std::string XdpProgram::unregister_xsk(std::uint32_t queue) {
  if (queue >= CC_XDP_MAX_QUEUES) return "queue " + std::to_string(queue) + " beyond the XSKMAP";
  if (bpf_map_delete_elem(xsks_fd_, &queue) != 0 && errno != ENOENT)
    return "cannot unregister the XSK for queue " + std::to_string(queue) + ": " + errname(errno);
  return {};
}

ClassifierStats XdpProgram::stats() const {
  ClassifierStats s;
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0 || counters_fd_ < 0) return s;
  std::vector<std::uint64_t> per(static_cast<std::size_t>(ncpu));
  std::uint64_t sum[CC_XDP_COUNTER_COUNT] = {};
  for (std::uint32_t k = 0; k < CC_XDP_COUNTER_COUNT; ++k) {
    if (bpf_map_lookup_elem(counters_fd_, &k, per.data()) != 0) continue;
    for (std::uint64_t v : per) sum[k] += v;
  }
  s.total = sum[CC_XDP_TOTAL];
  s.rtp_redirected = sum[CC_XDP_RTP_REDIRECTED];
  s.rtp_no_socket_passed = sum[CC_XDP_RTP_NO_SOCKET_PASSED];
  s.not_rtp_passed = sum[CC_XDP_NOT_RTP_PASSED];
  s.malformed_passed = sum[CC_XDP_MALFORMED_PASSED];
  s.rtcp_passed = sum[CC_XDP_RTCP_PASSED];
  s.fragment_passed = sum[CC_XDP_FRAGMENT_PASSED];
  s.ipv6_ext_passed = sum[CC_XDP_IPV6_EXT_PASSED];
  s.disabled_passed = sum[CC_XDP_DISABLED_PASSED];
  return s;
}

std::string XdpProgram::reset_stats() {
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return "cannot count CPUs: " + errname(ncpu);
  std::vector<std::uint64_t> zero(static_cast<std::size_t>(ncpu), 0);
  for (std::uint32_t k = 0; k < CC_XDP_COUNTER_COUNT; ++k)
    if (bpf_map_update_elem(counters_fd_, &k, zero.data(), BPF_ANY) != 0)
      return "cannot reset counters: " + errname(errno);
  return {};
}

}  // namespace clutchcall::xdp
