// clutchcall_core.rtp: RTP (RFC 3550) header parse and build over core/rtp.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "bindings.h"
#include "buffers.h"
#include "rtp/rtp.h"

namespace clutchcall::py {
namespace {

[[noreturn]] void fail(cc_rtp_status s) {
  throw pyb::value_error(std::string("rtp: ") + cc_rtp_status_name(s));
}

// A parsed packet: plain values and bytes copies (the input buffer is not kept alive).
struct Packet {
  bool marker = false;
  int payload_type = 0;
  int sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  std::vector<uint32_t> csrc;
  std::optional<int> extension_profile;
  pyb::bytes extension;
  pyb::bytes payload;
  int padding_len = 0;
  size_t header_len = 0;
};

Packet parse(pyb::handle data) {
  BytesIn in = bytes_in(data, "data");
  cc_rtp_packet p{};
  const cc_rtp_status s = cc_rtp_parse(static_cast<const uint8_t *>(in.view.data()), in.size, &p);
  if (s != CC_RTP_OK) fail(s);
  Packet out;
  out.marker = p.marker != 0;
  out.payload_type = p.payload_type;
  out.sequence = p.sequence;
  out.timestamp = p.timestamp;
  out.ssrc = p.ssrc;
  for (size_t i = 0; i < p.csrc_count; ++i) out.csrc.push_back(cc_rtp_packet_csrc(&p, i));
  if (p.extension) out.extension_profile = p.ext_profile;
  out.extension = pyb::bytes(reinterpret_cast<const char *>(p.ext_data), p.ext_data ? p.ext_len : 0);
  out.payload = pyb::bytes(reinterpret_cast<const char *>(p.payload), p.payload_len);
  out.padding_len = p.padding_len;
  out.header_len = p.header_len;
  return out;
}

pyb::bytes build(pyb::handle payload, pyb::handle payload_type_arg, pyb::handle sequence_arg, pyb::handle timestamp_arg,
                 pyb::handle ssrc_arg, bool marker, pyb::handle csrc_arg, pyb::handle extension_profile_arg,
                 pyb::handle extension, pyb::handle padding_len_arg) {
  const auto payload_type = int_as<uint8_t>(payload_type_arg, "payload_type", 0, 127);
  const auto sequence = int_as<uint16_t>(sequence_arg, "sequence", 0, 0xFFFF);
  const auto timestamp = int_as<uint32_t>(timestamp_arg, "timestamp", 0, 0xFFFFFFFFll);
  const auto ssrc = int_as<uint32_t>(ssrc_arg, "ssrc", 0, 0xFFFFFFFFll);
  const auto padding_len = int_as<uint8_t>(padding_len_arg, "padding_len", 0, 255);
  const auto extension_profile = opt_int_arg(extension_profile_arg, "extension_profile", 0, 0xFFFF);
  if (!pyb::isinstance<pyb::sequence>(csrc_arg) || pyb::isinstance<pyb::str>(csrc_arg)) {
    throw pyb::type_error("csrc: expected a list of 32-bit SSRCs, got " + std::string(pyb::repr(csrc_arg)));
  }
  const auto csrc_list = pyb::reinterpret_borrow<pyb::sequence>(csrc_arg);
  if (csrc_list.size() > CC_RTP_MAX_CSRC) throw pyb::value_error("csrc: at most 15 CSRCs");
  std::vector<uint32_t> csrc;
  for (size_t i = 0; i < csrc_list.size(); ++i) {
    csrc.push_back(int_as<uint32_t>(csrc_list[i], "csrc[" + std::to_string(i) + "]", 0, 0xFFFFFFFFll));
  }
  BytesIn body = bytes_in(payload, "payload");
  BytesIn ext = bytes_in(extension, "extension");
  if (!extension_profile && ext.size != 0) throw pyb::value_error("rtp: extension bytes need extension_profile");
  cc_rtp_header h{};
  h.marker = marker ? 1 : 0;
  h.payload_type = payload_type;
  h.sequence = sequence;
  h.timestamp = timestamp;
  h.ssrc = ssrc;
  h.csrc_count = static_cast<uint8_t>(csrc.size());
  for (size_t i = 0; i < csrc.size(); ++i) h.csrc[i] = csrc[i];
  h.extension = extension_profile ? 1 : 0;
  h.ext_profile = static_cast<uint16_t>(extension_profile.value_or(0));
  h.ext_data = static_cast<const uint8_t *>(ext.view.data());
  h.ext_len = ext.size;
  h.padding_len = padding_len;
  const size_t size = cc_rtp_packet_size(&h, body.size);
  if (size == 0) fail(CC_RTP_ERR_INVALID_ARGUMENT);
  char *dst = nullptr;
  pyb::bytes out = new_bytes(size, &dst);
  size_t written = 0;
  const cc_rtp_status s = cc_rtp_build(&h, static_cast<const uint8_t *>(body.view.data()), body.size,
                                       reinterpret_cast<uint8_t *>(dst), size, &written);
  if (s != CC_RTP_OK) fail(s);
  return out;
}

}  // namespace

void register_rtp(pyb::module_ &root) {
  pyb::module_ m = root.def_submodule("rtp", "RTP (RFC 3550) header parse and build");
  pyb::class_<Packet>(m, "Packet", "A parsed RTP packet (values and bytes copies).")
      .def_readonly("marker", &Packet::marker)
      .def_readonly("payload_type", &Packet::payload_type)
      .def_readonly("sequence", &Packet::sequence)
      .def_readonly("timestamp", &Packet::timestamp)
      .def_readonly("ssrc", &Packet::ssrc)
      .def_readonly("csrc", &Packet::csrc)
      .def_readonly("extension_profile", &Packet::extension_profile)
      .def_readonly("extension", &Packet::extension)
      .def_readonly("payload", &Packet::payload)
      .def_readonly("padding_len", &Packet::padding_len)
      .def_readonly("header_len", &Packet::header_len);
  m.def("parse", &parse, pyb::arg("data"), "Parse one RTP packet; ValueError naming the reason if malformed.");
  m.def("build", &build, pyb::arg("payload"), pyb::kw_only(), pyb::arg("payload_type"), pyb::arg("sequence"),
        pyb::arg("timestamp"), pyb::arg("ssrc"), pyb::arg("marker") = false,
        pyb::arg("csrc") = pyb::list(), pyb::arg("extension_profile") = pyb::none(),
        pyb::arg("extension") = pyb::bytes(), pyb::arg("padding_len") = 0,
        "Build one RTP packet (header + payload + padding).");
}

}  // namespace clutchcall::py
