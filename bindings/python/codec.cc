// clutchcall_core.codec: the generated C++ codecs (MoQT draft-14, RPC envelope, DTOs) through the
// package's by-name registry (generated/cpp, clutchcall/registry.h). Values cross as JSON.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <string>
#include <vector>

#include "bindings.h"
#include "buffers.h"
#include "clutchcall/registry.h"

namespace clutchcall::py {
namespace {

[[noreturn]] void fail(const Error &e) {
  std::string msg = "codec: " + std::string(reason_name(e.reason));
  if (!e.message.empty()) msg += ": " + e.message;
  if (e.offset != kNoOffset) msg += " (offset " + std::to_string(e.offset) + ")";
  throw pyb::value_error(msg);
}

Bytes bytes_of(const BytesIn &in) {
  return {static_cast<const std::byte *>(in.view.data()), in.size};
}

pyb::object from_json_text(const std::string &text) {
  return pyb::module_::import("json").attr("loads")(text);
}

Json to_json_value(pyb::handle value) {
  const std::string text = pyb::str(pyb::module_::import("json").attr("dumps")(value));
  auto parsed = parse_json(text);
  if (!parsed.ok()) fail(parsed.error());
  return std::move(*parsed);
}

pyb::bytes to_bytes(const ByteVec &v) {
  return pyb::bytes(reinterpret_cast<const char *>(v.data()), v.size());
}

const WireStructOps &wire_struct(const std::string &name) {
  const WireStructOps *ops = find_wire_struct(name);
  if (ops == nullptr) throw pyb::value_error("codec: unknown wire struct '" + name + "' (protocol.Struct)");
  return *ops;
}

const MessageOps &message(const std::string &name) {
  const MessageOps *ops = find_message(name);
  if (ops == nullptr) throw pyb::value_error("codec: unknown message '" + name + "'");
  return *ops;
}

}  // namespace

void register_codec(pyb::module_ &root) {
  pyb::module_ m = root.def_submodule("codec", "Generated MoQT draft-14 / envelope / DTO codecs (values as JSON)");
  m.def("parse_stream", [](const std::string &stream, pyb::handle data, size_t chunk) {
        const StreamOps *ops = find_wire_stream(stream);
        if (ops == nullptr) throw pyb::value_error("codec: unknown wire stream '" + stream + "' (protocol.stream)");
        BytesIn in = bytes_in(data, "data");
        auto r = ops->parse(bytes_of(in), chunk);
        if (!r.ok()) fail(r.error());
        return from_json_text(r->dump());
      },
      pyb::arg("stream"), pyb::arg("data"), pyb::arg("chunk") = 0,
      "Parse a whole wire stream ('moqt_d14.control', 'moqt_d14.data', 'moqt_d14.datagram', ...) fed "
      "in chunks of `chunk` bytes (0: at once); returns a list of {'struct', 'value'}.");
  m.def("decode_struct", [](const std::string &name, pyb::handle data, const std::vector<bool> &args) {
        BytesIn in = bytes_in(data, "data");
        auto r = wire_struct(name).to_json(bytes_of(in), args);
        if (!r.ok()) fail(r.error());
        return from_json_text(r->dump());
      },
      pyb::arg("name"), pyb::arg("data"), pyb::arg("args") = std::vector<bool>{},
      "Decode one wire struct ('moqt_d14.Subscribe', 'envelope.Envelope', ...) to its JSON value.");
  m.def("encode_struct", [](const std::string &name, pyb::handle value, const std::vector<bool> &args) {
        const WireStructOps &ops = wire_struct(name);
        auto r = ops.from_json(to_json_value(value), args);
        if (!r.ok()) fail(r.error());
        return to_bytes(*r);
      },
      pyb::arg("name"), pyb::arg("value"), pyb::arg("args") = std::vector<bool>{},
      "Encode one wire struct from its JSON value.");
  m.def("message_to_json", [](const std::string &name, pyb::handle data) {
        BytesIn in = bytes_in(data, "data");
        auto r = message(name).to_json(bytes_of(in));
        if (!r.ok()) fail(r.error());
        return *r;
      },
      pyb::arg("name"), pyb::arg("data"), "Decode a DTO (protobuf binary) to ProtoJSON text.");
  m.def("message_from_json", [](const std::string &name, const std::string &text) {
        auto r = message(name).from_json(text);
        if (!r.ok()) fail(r.error());
        return to_bytes(*r);
      },
      pyb::arg("name"), pyb::arg("text"), "Encode a DTO from ProtoJSON text (canonical binary).");
  m.def("message_names", [] {
        std::vector<std::string> names;
        for (auto n : clutchcall::message_names()) names.emplace_back(n);
        return names;
      },
      "Every DTO message name, in IDL order.");
}

}  // namespace clutchcall::py
