// clutchcall_core.rtp: RTP (RFC 3550) header parse and build over core/rtp.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

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

pyb::bytes build(pyb::handle payload, int payload_type, int sequence, uint32_t timestamp, uint32_t ssrc,
                 bool marker, const std::vector<uint32_t> &csrc, std::optional<int> extension_profile,
                 pyb::handle extension, int padding_len) {
  BytesIn body = bytes_in(payload, "payload");
  BytesIn ext = bytes_in(extension, "extension");
  if (payload_type < 0 || payload_type > 127) throw pyb::value_error("rtp: payload_type must be 0..127");
  if (sequence < 0 || sequence > 0xFFFF) throw pyb::value_error("rtp: sequence must be 0..65535");
  if (csrc.size() > CC_RTP_MAX_CSRC) throw pyb::value_error("rtp: at most 15 CSRCs");
  if (padding_len < 0 || padding_len > 255) throw pyb::value_error("rtp: padding_len must be 0..255");
  if (extension_profile && (*extension_profile < 0 || *extension_profile > 0xFFFF))
    throw pyb::value_error("rtp: extension_profile must be 0..65535");
  if (!extension_profile && ext.size != 0) throw pyb::value_error("rtp: extension bytes need extension_profile");
  cc_rtp_header h{};
  h.marker = marker ? 1 : 0;
  h.payload_type = static_cast<uint8_t>(payload_type);
  h.sequence = static_cast<uint16_t>(sequence);
  h.timestamp = timestamp;
  h.ssrc = ssrc;
  h.csrc_count = static_cast<uint8_t>(csrc.size());
  for (size_t i = 0; i < csrc.size(); ++i) h.csrc[i] = csrc[i];
  h.extension = extension_profile ? 1 : 0;
  h.ext_profile = static_cast<uint16_t>(extension_profile.value_or(0));
  h.ext_data = static_cast<const uint8_t *>(ext.view.data());
  h.ext_len = ext.size;
  h.padding_len = static_cast<uint8_t>(padding_len);
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
        pyb::arg("csrc") = std::vector<uint32_t>{}, pyb::arg("extension_profile") = pyb::none(),
        pyb::arg("extension") = pyb::bytes(), pyb::arg("padding_len") = 0,
        "Build one RTP packet (header + payload + padding).");
}

}  // namespace clutchcall::py
