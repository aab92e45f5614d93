/* One single-queue veth pair: the engine end `host_if` in the root namespace (the engine reads
 * the RX queue count from /sys/class/net, which only shows the namespace /sys was mounted in),
 * the peer end `peer_if` in namespace B made here, where the generator and sink live. A /30 of
 * 100.64.0.0/10 picked by pid; static (permanent) neighbours both ways, so no ARP in a run.
 *
 * Teardown: once configured, B is opened (fd kept) and its name deleted at once, so the kernel
 * frees B, and with it the veth pair (both ends), when the process exits for any reason,
 * SIGKILL and crashes included. The destructor also deletes the root end. Names carry the pid.
 */
#ifndef CLUTCHCALL_BENCH_FASTPATH_NETNS_TOPOLOGY_H
#define CLUTCHCALL_BENCH_FASTPATH_NETNS_TOPOLOGY_H

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace clutchcall::bench {

class NetnsTopology {
 public:
  NetnsTopology() {
    const auto pid = static_cast<unsigned>(::getpid());
    ns_b_ = "ccfpb" + std::to_string(pid);
    host_if_ = "cfpa" + std::to_string(pid);
    peer_if_ = "cfpb" + std::to_string(pid);
    const unsigned base = (pid % 1048576u) * 4u;  // 22 bits: a /30 inside 100.64.0.0/10
    const std::string net = "100." + std::to_string(64 + base / 65536) + "." +
                            std::to_string(base / 256 % 256) + ".";
    host_ip_ = net + std::to_string(base % 256 + 1);
    peer_ip_ = net + std::to_string(base % 256 + 2);
  }
  ~NetnsTopology() {
    if (fd_b_ >= 0) ::close(fd_b_);
    if (!names_deleted_) delete_names();
    sh("ip link del " + host_if_);  // gone already if B is gone; harmless then
  }
  NetnsTopology(const NetnsTopology &) = delete;
  NetnsTopology &operator=(const NetnsTopology &) = delete;

  static constexpr const char *kHostMac = "02:cc:fa:00:00:01";
  static constexpr const char *kPeerMac = "02:cc:fa:00:00:02";

  /* Returns "" or the failing command. */
  std::string create() {
    const std::string B = "ip -n " + ns_b_ + " ";
    const std::vector<std::string> cmds = {
        "ip netns add " + ns_b_,
        "ip link add " + host_if_ + " numtxqueues 1 numrxqueues 1 type veth peer name " +
            peer_if_ + " numtxqueues 1 numrxqueues 1 netns " + ns_b_,
        "ip link set " + host_if_ + " address " + kHostMac,
        B + "link set " + peer_if_ + " address " + kPeerMac,
        "ip addr add " + host_ip_ + "/30 dev " + host_if_,
        B + "addr add " + peer_ip_ + "/30 dev " + peer_if_,
        B + "link set lo up",
        "ip link set " + host_if_ + " up",
        B + "link set " + peer_if_ + " up",
        "ip neigh replace " + peer_ip_ + " lladdr " + kPeerMac + " dev " + host_if_ +
            " nud permanent",
        B + "neigh replace " + host_ip_ + " lladdr " + kHostMac + " dev " + peer_if_ +
            " nud permanent",
    };
    for (const auto &c : cmds)
      if (sh(c) != 0) return c;
    fd_b_ = ::open(("/run/netns/" + ns_b_).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_b_ < 0) return "open /run/netns/" + ns_b_;
    delete_names();
    return {};
  }

  /* Moves the calling thread into B (threads it creates afterwards inherit it). */
  bool enter_b() const { return ::setns(fd_b_, CLONE_NEWNET) == 0; }
  const char *host_ip() const { return host_ip_.c_str(); }
  const char *peer_ip() const { return peer_ip_.c_str(); }

  const std::string &host_if() const { return host_if_; }
  const std::string &peer_if() const { return peer_if_; }

 private:
  static int sh(const std::string &cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }
  void delete_names() {
    sh("ip netns del " + ns_b_);
    names_deleted_ = true;
  }

  std::string ns_b_, host_if_, peer_if_, host_ip_, peer_ip_;
  int fd_b_ = -1;
  bool names_deleted_ = false;
};

}  // namespace clutchcall::bench

#endif  // CLUTCHCALL_BENCH_FASTPATH_NETNS_TOPOLOGY_H
