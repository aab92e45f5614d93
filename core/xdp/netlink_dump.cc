#include "xdp/netlink_dump.h"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace clutchcall::xdp::netlink {

std::string dump(std::uint16_t type, const void *hdr, std::size_t hdr_len, const char *what,
                 const MessageFn &on_message) {
  const std::string where = std::string("netlink ") + what + ": ";
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return where + "socket: " + std::strerror(errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  std::vector<std::uint8_t> req(NLMSG_HDRLEN + align4(hdr_len), 0);
  nlmsghdr nh{};
  nh.nlmsg_len = static_cast<std::uint32_t>(req.size());
  nh.nlmsg_type = type;
  nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nh.nlmsg_seq = 1;
  std::memcpy(req.data(), &nh, sizeof(nh));
  std::memcpy(req.data() + NLMSG_HDRLEN, hdr, hdr_len);
  if (::send(fd, req.data(), req.size(), 0) < 0) return where + "send: " + std::strerror(errno);

  std::vector<std::uint8_t> buf(32768);
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return where + "recv: " + std::strerror(errno);
    }
    if (n == 0) return where + "the dump ended without NLMSG_DONE";
    const auto total = static_cast<std::size_t>(n);
    std::size_t off = 0;
    while (off + sizeof(nlmsghdr) <= total) {
      nlmsghdr m;
      std::memcpy(&m, buf.data() + off, sizeof(m));
      if (m.nlmsg_len < sizeof(nlmsghdr) || off + m.nlmsg_len > total) break;
      if (m.nlmsg_type == NLMSG_DONE) return {};
      const std::uint8_t *payload = buf.data() + off + NLMSG_HDRLEN;
      const std::size_t len = m.nlmsg_len - std::min<std::size_t>(m.nlmsg_len, NLMSG_HDRLEN);
      if (m.nlmsg_type == NLMSG_ERROR) {
        nlmsgerr e{};
        if (len >= sizeof(e)) std::memcpy(&e, payload, sizeof(e));
        return where + std::strerror(-e.error);
      }
      on_message(m.nlmsg_type, payload, len);
      off += align4(m.nlmsg_len);
    }
  }
}

}  // namespace clutchcall::xdp::netlink
