// The C++ conformance testee (tests/conformance/PROTOCOL.md): length-prefixed frames on stdin,
// one response frame per request on stdout, using only the generated SDK's by-name registries.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "clutchcall/json.h"
#include "clutchcall/registry.h"
#include "clutchcall/runtime.h"

namespace {

using clutchcall::ByteVec;
using clutchcall::Bytes;

enum Status : std::uint8_t { kOk = 0, kDecodeError = 1, kUnsupported = 2, kFailure = 3 };

struct Reply {
  std::uint8_t status;
  std::string body;
};

Reply ok(Bytes b) { return {kOk, std::string(clutchcall::as_chars(b))}; }
Reply ok(std::string s) { return {kOk, std::move(s)}; }
Reply err(const clutchcall::Error& e) {
  // Every package error carries a reason; encode refusals carry invalid_value.
  return {kDecodeError, std::string(clutchcall::reason_name(e.reason))};
}
Reply unsupported(std::string what) { return {kUnsupported, "unsupported: " + what}; }

template <class T>
Reply bytes_reply(const clutchcall::Result<T>& r) {
  if (!r) return err(r.error());
  return ok(Bytes(*r));
}

// "moqt_d14.SubgroupObject?has_extensions=true" -> name and arg values by name.
std::string split_args(std::string_view type, std::vector<std::pair<std::string, bool>>& args) {
  const auto q = type.find('?');
  if (q == std::string_view::npos) return std::string(type);
  std::string_view rest = type.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos) args.emplace_back(std::string(pair.substr(0, eq)), pair.substr(eq + 1) == "true");
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return std::string(type.substr(0, q));
}

Reply handle(std::uint8_t op, std::string_view type, Bytes payload) {
  switch (op) {
    case 1:
    case 2:
    case 3: {
      const auto* m = clutchcall::find_message(type);
      if (m == nullptr) return unsupported(std::string(type));
      if (op == 1) return bytes_reply(m->roundtrip(payload));
      if (op == 2) {
        auto r = m->to_json(payload);
        if (!r) return err(r.error());
        return ok(*r);
      }
      return bytes_reply(m->from_json(clutchcall::as_chars(payload)));
    }
    case 4:
    case 5:
    case 6: {
      std::vector<std::pair<std::string, bool>> named;
      std::string name = split_args(type, named);
      const auto* s = clutchcall::find_wire_struct(name);
      if (s == nullptr) return unsupported(name);
      std::vector<bool> args;
      for (auto a : s->arg_names) {
        bool v = false;
        for (const auto& [k, b] : named) {
          if (k == a) v = b;
        }
        args.push_back(v);
      }
      if (op == 4) return bytes_reply(s->roundtrip(payload, args));
      if (op == 5) {
        auto r = s->to_json(payload, args);
        if (!r) return err(r.error());
        return ok(r->dump());
      }
      auto j = clutchcall::parse_json(clutchcall::as_chars(payload));
      if (!j) return err(j.error());
      return bytes_reply(s->from_json(*j, args));
    }
    case 7: {
      const auto* st = clutchcall::find_wire_stream(type);
      if (st == nullptr) return unsupported(std::string(type));
      if (payload.size() < 4) return {kFailure, "stream_parse needs a 4-byte chunk size"};
      std::size_t chunk = 0;
      for (std::size_t i = 0; i < 4; ++i) chunk |= static_cast<std::size_t>(payload[i]) << (8 * i);
      auto r = st->parse(payload.subspan(4), chunk);
      if (!r) return err(r.error());
      return ok(r->dump());
    }
    case 8: {
      if (type != "quic") return unsupported(std::string(type));
      auto r = clutchcall::quic::decode_varint(payload);
      if (!r) return err(r.error());
      if (r->second != payload.size()) return {kDecodeError, "trailing_bytes"};
      return ok(std::to_string(r->first));
    }
    case 9: {
      if (type != "quic") return unsupported(std::string(type));
      auto n = clutchcall::Json::number_text(std::string(clutchcall::as_chars(payload))).as_u64();
      if (!n) return {kDecodeError, "invalid_value"};
      return bytes_reply(clutchcall::quic::encode_varint(*n));
    }
    default:
      return unsupported("op " + std::to_string(op));
  }
}

bool read_exact(std::vector<std::byte>& buf, std::size_t n) {
  buf.resize(n);
  return n == 0 || std::fread(buf.data(), 1, n, stdin) == n;
}

}  // namespace

int main() {
  std::vector<std::byte> head;
  std::vector<std::byte> frame;
  while (read_exact(head, 4)) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < 4; ++i) n |= static_cast<std::size_t>(head[i]) << (8 * i);
    if (!read_exact(frame, n)) return 1;
    Reply reply{kFailure, "short request"};
    if (n >= 3) {
      const auto op = static_cast<std::uint8_t>(frame[0]);
      const std::size_t tl = static_cast<std::size_t>(frame[1]) | (static_cast<std::size_t>(frame[2]) << 8);
      if (3 + tl <= n) {
        std::string_view type(reinterpret_cast<const char*>(frame.data() + 3), tl);
        reply = handle(op, type, Bytes(frame).subspan(3 + tl));
      }
    }
    const std::size_t len = reply.body.size() + 1;
    unsigned char lenb[4] = {static_cast<unsigned char>(len & 0xFFu), static_cast<unsigned char>((len >> 8) & 0xFFu),
                             static_cast<unsigned char>((len >> 16) & 0xFFu),
                             static_cast<unsigned char>((len >> 24) & 0xFFu)};
    std::fwrite(lenb, 1, 4, stdout);
    std::fwrite(&reply.status, 1, 1, stdout);
    std::fwrite(reply.body.data(), 1, reply.body.size(), stdout);
    std::fflush(stdout);
  }
  return 0;
}
