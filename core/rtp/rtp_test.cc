// RTP: golden bytes assembled by hand from the RFC 3550 §5.1 layout, every flag combination
// through an independent bit-level assembler, each malformed case with its reason, a seeded
// round-trip property test, RFC 8285 element iteration, and the A.1 / A.8 helpers.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "rtp/rtp.h"

namespace {

using clutchcall::rtp::PacketView;
using clutchcall::rtp::Status;
using Bytes = std::vector<std::uint8_t>;

Status parse(const Bytes &b, PacketView &v) { return v.parse(b); }

// ---- golden packets, byte by byte ----

TEST(RtpGolden, MinimalHeader) {
  const Bytes wire = {0x80, 0x00, 0x00, 0x01,  // V=2 P=0 X=0 CC=0 | M=0 PT=0 | seq 1
                      0x00, 0x00, 0x00, 0x02,  // timestamp 2
                      0x00, 0x00, 0x00, 0x03,  // ssrc 3
                      'a',  'b'};
  PacketView v;
  ASSERT_EQ(parse(wire, v), Status::ok);
  EXPECT_EQ(v.sequence(), 1);
  EXPECT_EQ(v.timestamp(), 2u);
  EXPECT_EQ(v.ssrc(), 3u);
  EXPECT_FALSE(v.marker());
  EXPECT_EQ(v.payload_type(), 0);
  EXPECT_EQ(v.header_len(), 12u);
  ASSERT_EQ(v.payload().size(), 2u);
  EXPECT_EQ(v.payload().data(), wire.data() + 12);  // a view, not a copy
  EXPECT_EQ(v.payload()[1], 'b');

  cc_rtp_header h{};
  h.sequence = 1;
  h.timestamp = 2;
  h.ssrc = 3;
  std::array<std::uint8_t, 14> out{};
  std::size_t n = 0;
  const std::uint8_t pl[] = {'a', 'b'};
  ASSERT_EQ(clutchcall::rtp::build(h, pl, out, n), Status::ok);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)), wire);
}

TEST(RtpGolden, AllFlags) {
  const Bytes wire = {
      0xB2, 0xE0, 0xAB, 0xCD,  // V=2 P=1 X=1 CC=2 | M=1 PT=96 | seq 0xABCD
      0x01, 0x02, 0x03, 0x04,  // timestamp
      0xDE, 0xAD, 0xBE, 0xEF,  // ssrc
      0x11, 0x11, 0x11, 0x11,  // csrc 0
      0x22, 0x22, 0x22, 0x22,  // csrc 1
      0xBE, 0xDE, 0x00, 0x01,  // extension: one-byte profile, 1 word
      0x10, 0xAA, 0x00, 0x00,  //   id 1, 1 byte (0xAA), two padding bytes
      0x01, 0x02, 0x03,        // payload
      0x00, 0x00, 0x03,        // 3 padding bytes, count last
  };
  PacketView v;
  ASSERT_EQ(parse(wire, v), Status::ok);
  EXPECT_TRUE(v.has_padding());
  EXPECT_TRUE(v.has_extension());
  EXPECT_TRUE(v.marker());
  EXPECT_EQ(v.payload_type(), 96);
  EXPECT_EQ(v.sequence(), 0xABCD);
  EXPECT_EQ(v.timestamp(), 0x01020304u);
  EXPECT_EQ(v.ssrc(), 0xDEADBEEFu);
  ASSERT_EQ(v.csrc_count(), 2u);
  EXPECT_EQ(v.csrc(0), 0x11111111u);
  EXPECT_EQ(v.csrc(1), 0x22222222u);
  EXPECT_EQ(v.csrc(2), 0u);
  EXPECT_EQ(v.extension_profile(), 0xBEDE);
  EXPECT_EQ(v.extension().size(), 4u);
  EXPECT_EQ(v.header_len(), 28u);
  EXPECT_EQ(v.padding_len(), 3u);
  EXPECT_EQ(Bytes(v.payload().begin(), v.payload().end()), (Bytes{1, 2, 3}));
  int count = 0;
  auto elements = v.extension_elements();
  for (const auto &e : elements) {
    EXPECT_EQ(e.id, 1);
    ASSERT_EQ(e.len, 1u);
    EXPECT_EQ(e.data[0], 0xAA);
    ++count;
  }
  EXPECT_EQ(count, 1);
  EXPECT_EQ(elements.status(), Status::end);

  cc_rtp_header h{};
  h.marker = 1;
  h.payload_type = 96;
  h.sequence = 0xABCD;
  h.timestamp = 0x01020304;
  h.ssrc = 0xDEADBEEF;
  h.csrc_count = 2;
  h.csrc[0] = 0x11111111;
  h.csrc[1] = 0x22222222;
  h.extension = 1;
  h.ext_profile = 0xBEDE;
  const std::uint8_t ext[] = {0x10, 0xAA, 0x00, 0x00};
  h.ext_data = ext;
  h.ext_len = 4;
  h.padding_len = 3;
  const std::uint8_t pl[] = {1, 2, 3};
  EXPECT_EQ(clutchcall::rtp::packet_size(h, 3), wire.size());
  Bytes out(wire.size());
  std::size_t n = 0;
  ASSERT_EQ(clutchcall::rtp::build(h, pl, out, n), Status::ok);
  EXPECT_EQ(n, wire.size());
  EXPECT_EQ(out, wire);
}

// Independent assembler: writes the RFC 3550 §5.1 fields MSB first with a bit writer.
struct BitWriter {
  Bytes out;
  int bits = 0;
  void put(std::uint64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      if (bits % 8 == 0) out.push_back(0);
      if ((v >> i) & 1u) out.back() = static_cast<std::uint8_t>(out.back() | (0x80u >> (bits % 8)));
      ++bits;
    }
  }
};

TEST(RtpGolden, EveryFlagCombination) {
  const std::uint8_t ext_body[8] = {0x22, 1, 2, 3, 0x40, 9, 0, 0};
  const std::uint8_t payload[5] = {5, 4, 3, 2, 1};
  for (int p = 0; p < 2; ++p)
    for (int x = 0; x < 2; ++x)
      for (int cc : {0, 1, 15})
        for (int m = 0; m < 2; ++m) {
          SCOPED_TRACE(testing::Message() << "P=" << p << " X=" << x << " CC=" << cc << " M=" << m);
          BitWriter w;
          w.put(2, 2);
          w.put(static_cast<std::uint64_t>(p), 1);
          w.put(static_cast<std::uint64_t>(x), 1);
          w.put(static_cast<std::uint64_t>(cc), 4);
          w.put(static_cast<std::uint64_t>(m), 1);
          w.put(111, 7);
          w.put(65535, 16);
          w.put(0xFFFFFFFEu, 32);
          w.put(0x01234567u, 32);
          for (int i = 0; i < cc; ++i) w.put(0xC0000000u + static_cast<std::uint32_t>(i), 32);
          if (x) {
            w.put(0xBEDE, 16);
            w.put(2, 16);
            for (std::uint8_t b : ext_body) w.put(b, 8);
          }
          for (std::uint8_t b : payload) w.put(b, 8);
          if (p) {
            for (int i = 0; i < 6; ++i) w.put(0, 8);
            w.put(7, 8);
          }
          const Bytes &wire = w.out;

          cc_rtp_header h{};
          h.marker = static_cast<std::uint8_t>(m);
          h.payload_type = 111;
          h.sequence = 65535;
          h.timestamp = 0xFFFFFFFEu;
          h.ssrc = 0x01234567u;
          h.csrc_count = static_cast<std::uint8_t>(cc);
          for (int i = 0; i < cc; ++i) h.csrc[i] = 0xC0000000u + static_cast<std::uint32_t>(i);
          h.extension = static_cast<std::uint8_t>(x);
          h.ext_profile = 0xBEDE;
          h.ext_data = ext_body;
          h.ext_len = x ? 8 : 0;
          h.padding_len = p ? 7 : 0;
          Bytes out(wire.size());
          std::size_t n = 0;
          ASSERT_EQ(clutchcall::rtp::build(h, payload, out, n), Status::ok);
          EXPECT_EQ(out, wire);

          PacketView v;
          ASSERT_EQ(parse(wire, v), Status::ok);
          EXPECT_EQ(v.has_padding(), p == 1);
          EXPECT_EQ(v.has_extension(), x == 1);
          EXPECT_EQ(v.csrc_count(), static_cast<std::size_t>(cc));
          EXPECT_EQ(v.marker(), m == 1);
          EXPECT_EQ(v.payload_type(), 111);
          EXPECT_EQ(v.sequence(), 65535);
          EXPECT_EQ(v.timestamp(), 0xFFFFFFFEu);
          EXPECT_EQ(v.ssrc(), 0x01234567u);
          for (int i = 0; i < cc; ++i)
            EXPECT_EQ(v.csrc(static_cast<std::size_t>(i)), 0xC0000000u + static_cast<std::uint32_t>(i));
          EXPECT_EQ(Bytes(v.payload().begin(), v.payload().end()), Bytes(payload, payload + 5));
          EXPECT_EQ(v.padding_len(), p ? 7u : 0u);
          if (x) {
            std::vector<std::pair<int, Bytes>> got;
            auto els = v.extension_elements();
            for (const auto &e : els) got.emplace_back(e.id, Bytes(e.data, e.data + e.len));
            EXPECT_EQ(els.status(), Status::end);
            ASSERT_EQ(got.size(), 2u);
            EXPECT_EQ(got[0], (std::pair<int, Bytes>{2, {1, 2, 3}}));
            EXPECT_EQ(got[1], (std::pair<int, Bytes>{4, {9}}));
          }
        }
}

// ---- malformed input: each rejected with its reason ----

TEST(RtpMalformed, EachReason) {
  struct Case {
    const char *name;
    Bytes wire;
    Status want;
  };
  const Bytes base = {0x80, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3};
  std::vector<Case> cases = {
      {"empty", {}, Status::truncated},
      {"11 bytes", Bytes(base.begin(), base.end() - 1), Status::truncated},
      {"version 0", {0x00, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}, Status::bad_version},
      {"version 1", {0x40, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}, Status::bad_version},
      {"version 3", {0xC0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}, Status::bad_version},
      {"CC=1, no csrc", {0x81, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}, Status::truncated_csrc},
      {"CC=2, one csrc", {0x82, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4}, Status::truncated_csrc},
      {"X, no ext header", {0x90, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xBE, 0xDE, 0},
       Status::truncated_extension},
      {"X, ext body short", {0x90, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xBE, 0xDE, 0, 2, 1, 2, 3, 4},
       Status::truncated_extension},
      {"P, count 0", {0xA0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 9, 0}, Status::bad_padding},
      {"P, count > payload room", {0xA0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 9, 3}, Status::bad_padding},
      {"P, header only (count is header byte)", {0xA0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3},
       Status::bad_padding},
      {"P+X, count eats ext", {0xB0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xBE, 0xDE, 0, 0, 5},
       Status::bad_padding},
  };
  for (const Case &c : cases) {
    PacketView v;
    EXPECT_EQ(parse(c.wire, v), c.want) << c.name << ": got " << clutchcall::rtp::to_string(parse(c.wire, v));
    EXPECT_EQ(v.payload().size(), 0u) << c.name;  // the view is cleared on error
  }
  // Boundary cases that ARE valid: padding equal to the whole payload room, empty payload.
  PacketView v;
  ASSERT_EQ(parse({0xA0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 3}, v), Status::ok);
  EXPECT_EQ(v.payload().size(), 0u);
  ASSERT_EQ(parse({0x90, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0x12, 0x34, 0, 0}, v), Status::ok);
  EXPECT_EQ(v.extension().size(), 0u);
  EXPECT_EQ(v.payload().size(), 0u);
  EXPECT_STREQ(clutchcall::rtp::to_string(Status::bad_padding), "bad_padding");
  EXPECT_EQ(cc_rtp_parse(nullptr, 0, nullptr), CC_RTP_ERR_INVALID_ARGUMENT);
}

TEST(RtpBuild, RejectsBadHeadersAndSmallBuffers) {
  cc_rtp_header h{};
  h.payload_type = 0;
  const std::uint8_t pl[160] = {};
  std::vector<std::uint8_t> out(172, 0xEE);
  std::size_t n = 99;
  // One byte short: nothing written.
  EXPECT_EQ(cc_rtp_build(&h, pl, 160, out.data(), 171, &n), CC_RTP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 0u);
  for (std::uint8_t b : out) ASSERT_EQ(b, 0xEE);
  EXPECT_EQ(cc_rtp_build(&h, pl, 160, out.data(), 172, &n), CC_RTP_OK);
  EXPECT_EQ(n, 172u);

  cc_rtp_header bad = h;
  bad.payload_type = 128;
  EXPECT_EQ(cc_rtp_build(&bad, pl, 1, out.data(), out.size(), &n), CC_RTP_ERR_INVALID_ARGUMENT);
  bad = h;
  bad.csrc_count = 16;
  EXPECT_EQ(cc_rtp_build(&bad, pl, 1, out.data(), out.size(), &n), CC_RTP_ERR_INVALID_ARGUMENT);
  bad = h;
  bad.extension = 1;
  bad.ext_len = 3;
  bad.ext_data = pl;
  EXPECT_EQ(cc_rtp_build(&bad, pl, 1, out.data(), out.size(), &n), CC_RTP_ERR_INVALID_ARGUMENT);
  bad.ext_len = 4 * 65536;
  EXPECT_EQ(cc_rtp_build(&bad, pl, 1, out.data(), out.size(), &n), CC_RTP_ERR_INVALID_ARGUMENT);
  bad = h;
  bad.marker = 2;
  EXPECT_EQ(cc_rtp_build(&bad, pl, 1, out.data(), out.size(), &n), CC_RTP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(cc_rtp_build(&h, nullptr, 1, out.data(), out.size(), &n), CC_RTP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(cc_rtp_packet_size(&bad, 1), 0u);
}

// ---- property: random headers round-trip through build and parse ----

TEST(RtpProperty, RandomRoundTrip) {
  std::mt19937 rng(20240611);
  auto u = [&](std::uint32_t hi) { return std::uniform_int_distribution<std::uint32_t>(0, hi)(rng); };
  for (int iter = 0; iter < 20000; ++iter) {
    cc_rtp_header h{};
    h.marker = static_cast<std::uint8_t>(u(1));
    h.payload_type = static_cast<std::uint8_t>(u(127));
    h.sequence = static_cast<std::uint16_t>(u(0xFFFF));
    h.timestamp = u(0xFFFFFFFFu);
    h.ssrc = u(0xFFFFFFFFu);
    h.csrc_count = static_cast<std::uint8_t>(u(15));
    for (auto &c : h.csrc) c = u(0xFFFFFFFFu);
    h.extension = static_cast<std::uint8_t>(u(1));
    h.ext_profile = static_cast<std::uint16_t>(u(0xFFFF));
    Bytes ext(4 * u(8));
    for (auto &b : ext) b = static_cast<std::uint8_t>(u(255));
    h.ext_data = ext.data();
    h.ext_len = h.extension ? ext.size() : 0;
    h.padding_len = u(3) == 0 ? static_cast<std::uint8_t>(1 + u(254)) : 0;
    Bytes payload(u(300));
    for (auto &b : payload) b = static_cast<std::uint8_t>(u(255));

    Bytes wire(clutchcall::rtp::packet_size(h, payload.size()));
    ASSERT_GT(wire.size(), 0u);
    std::size_t n = 0;
    ASSERT_EQ(clutchcall::rtp::build(h, payload, wire, n), Status::ok);
    ASSERT_EQ(n, wire.size());
    PacketView v;
    ASSERT_EQ(v.parse(wire), Status::ok) << iter;
    ASSERT_EQ(v.marker(), h.marker == 1);
    ASSERT_EQ(v.payload_type(), h.payload_type);
    ASSERT_EQ(v.sequence(), h.sequence);
    ASSERT_EQ(v.timestamp(), h.timestamp);
    ASSERT_EQ(v.ssrc(), h.ssrc);
    ASSERT_EQ(v.csrc_count(), h.csrc_count);
    for (std::size_t i = 0; i < h.csrc_count; ++i) ASSERT_EQ(v.csrc(i), h.csrc[i]);
    ASSERT_EQ(v.has_extension(), h.extension == 1);
    if (h.extension) {
      ASSERT_EQ(v.extension_profile(), h.ext_profile);
      ASSERT_EQ(Bytes(v.extension().begin(), v.extension().end()), ext);
    }
    ASSERT_EQ(v.padding_len(), h.padding_len);
    ASSERT_EQ(Bytes(v.payload().begin(), v.payload().end()), payload);
    // Every strict prefix of a packet without padding is rejected (never over-read).
    if (h.padding_len == 0 && iter % 50 == 0) {
      for (std::size_t cut = 0; cut < v.header_len(); ++cut) {
        PacketView w;
        ASSERT_NE(w.parse(std::span<const std::uint8_t>(wire.data(), cut)), Status::ok) << cut;
      }
    }
  }
}

// ---- RFC 8285 extension elements ----

std::vector<std::pair<int, Bytes>> elements_of(std::uint16_t profile, const Bytes &body,
                                               Status *status) {
  cc_rtp_header h{};
  h.extension = 1;
  h.ext_profile = profile;
  h.ext_data = body.data();
  h.ext_len = body.size();
  Bytes wire(clutchcall::rtp::packet_size(h, 0));
  std::size_t n = 0;
  EXPECT_EQ(clutchcall::rtp::build(h, {}, wire, n), Status::ok);
  PacketView v;
  EXPECT_EQ(v.parse(wire), Status::ok);
  std::vector<std::pair<int, Bytes>> got;
  auto els = v.extension_elements();
  for (const auto &e : els) got.emplace_back(e.id, Bytes(e.data, e.data + e.len));
  *status = els.status();
  return got;
}

TEST(RtpExtension, OneByteForm) {
  Status s{};
  // id 1 len 1, padding, id 14 len 16 (full), id 2 len 2, then padding to a word.
  Bytes body = {0x10, 0xA1, 0x00, 0xEF};
  for (int i = 0; i < 16; ++i) body.push_back(static_cast<std::uint8_t>(i));
  body.insert(body.end(), {0x21, 0xB1, 0xB2, 0x00});
  ASSERT_EQ(body.size() % 4, 0u);
  auto got = elements_of(0xBEDE, body, &s);
  EXPECT_EQ(s, Status::end);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], (std::pair<int, Bytes>{1, {0xA1}}));
  EXPECT_EQ(got[1].first, 14);
  EXPECT_EQ(got[1].second.size(), 16u);
  EXPECT_EQ(got[2], (std::pair<int, Bytes>{2, {0xB1, 0xB2}}));

  // ID 15 stops processing: the element after it is not reported.
  got = elements_of(0xBEDE, {0x10, 0x55, 0xF3, 0x20, 0x66, 0, 0, 0}, &s);
  EXPECT_EQ(s, Status::end);
  ASSERT_EQ(got.size(), 1u);
  // Overrun: id 3 claims 4 bytes, only 3 left.
  got = elements_of(0xBEDE, {0x33, 1, 2, 3}, &s);
  EXPECT_EQ(s, Status::bad_extension);
  EXPECT_TRUE(got.empty());
  // Zero ID with a non-zero length.
  got = elements_of(0xBEDE, {0x10, 0x01, 0x05, 0x00}, &s);
  EXPECT_EQ(s, Status::bad_extension);
  EXPECT_EQ(got.size(), 1u);
  // All padding, and empty.
  got = elements_of(0xBEDE, {0, 0, 0, 0}, &s);
  EXPECT_EQ(s, Status::end);
  EXPECT_TRUE(got.empty());
  got = elements_of(0xBEDE, {}, &s);
  EXPECT_EQ(s, Status::end);
  EXPECT_TRUE(got.empty());
}

TEST(RtpExtension, TwoByteForm) {
  Status s{};
  // id 200 len 0, padding, id 7 len 3, padding x2 (app bits 0x5 in the profile).
  auto got = elements_of(0x1005, {200, 0, 0, 7, 3, 9, 8, 7}, &s);
  EXPECT_EQ(s, Status::end);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (std::pair<int, Bytes>{200, {}}));
  EXPECT_EQ(got[1], (std::pair<int, Bytes>{7, {9, 8, 7}}));
  got = elements_of(0x1000, {0, 0, 0, 9}, &s);  // id 9 without a length byte
  EXPECT_EQ(s, Status::bad_extension);
  got = elements_of(0x1000, {5, 4, 1, 2}, &s);  // len 4, 2 bytes left
  EXPECT_EQ(s, Status::bad_extension);
}

TEST(RtpExtension, OtherProfilesAndNoExtension) {
  Status s{};
  auto got = elements_of(0x1234, {1, 2, 3, 4}, &s);
  EXPECT_EQ(s, Status::unknown_extension_profile);
  EXPECT_TRUE(got.empty());
  got = elements_of(0x1010, {1, 2, 3, 4}, &s);  // 0x101x is not 0x100x
  EXPECT_EQ(s, Status::unknown_extension_profile);
  PacketView v;
  const Bytes plain = {0x80, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3};
  ASSERT_EQ(v.parse(plain), Status::ok);
  auto els = v.extension_elements();
  EXPECT_EQ(els.begin(), els.end());
}

// ---- sequence / timestamp arithmetic ----

TEST(RtpSequence, DiffAndExtendWrap) {
  EXPECT_EQ(clutchcall::rtp::seq_diff(0, 65535), 1);
  EXPECT_EQ(clutchcall::rtp::seq_diff(65535, 0), -1);
  EXPECT_EQ(clutchcall::rtp::seq_diff(100, 90), 10);
  EXPECT_EQ(clutchcall::rtp::seq_diff(32768, 0), -32768);
  EXPECT_EQ(clutchcall::rtp::seq_diff(0, 32768), -32768);
  EXPECT_EQ(clutchcall::rtp::seq_diff(32767, 0), 32767);
  EXPECT_TRUE(cc_rtp_seq_newer(2, 65530));
  EXPECT_EQ(clutchcall::rtp::ts_diff(5, 0xFFFFFFFBu), 10);
  EXPECT_EQ(clutchcall::rtp::ts_diff(0xFFFFFFFBu, 5), -10);
  EXPECT_EQ(clutchcall::rtp::seq_extend(65535, 0), 65536);
  EXPECT_EQ(clutchcall::rtp::seq_extend(65536, 65535), 65535);
  EXPECT_EQ(clutchcall::rtp::seq_extend(3 * 65536 + 10, 65530), 3 * 65536 - 6);
  EXPECT_EQ(clutchcall::rtp::seq_extend(5, 65534), -2);
  // Walking forward through several wraps keeps the extended number exact.
  std::int64_t ext = 60000;
  for (std::int64_t want = 60000; want < 60000 + 4 * 65536; want += 7) {
    ext = clutchcall::rtp::seq_extend(ext, static_cast<std::uint16_t>(want & 0xFFFF));
    ASSERT_EQ(ext, want);
  }
}

TEST(RtpSequence, A1TrackerCountsCyclesAndConfirmsJumps) {
  clutchcall::rtp::SequenceTracker t(65534);
  EXPECT_FALSE(t.update(65534));  // probation: first packet
  EXPECT_TRUE(t.update(65535));   // second in order: valid, counting restarts here
  EXPECT_TRUE(t.update(0));       // wrap
  EXPECT_TRUE(t.update(1));
  EXPECT_EQ(t.extended_max(), 65536u + 1u);
  EXPECT_EQ(t.expected(), 3u);
  EXPECT_EQ(t.lost(), 0);
  EXPECT_TRUE(t.update(4));  // 2, 3 lost
  EXPECT_EQ(t.lost(), 2);
  EXPECT_TRUE(t.update(2));  // late, still counted
  EXPECT_EQ(t.lost(), 1);
  // A jump of 10000 is held until confirmed by its successor, then restarts the counts.
  EXPECT_FALSE(t.update(10004));
  EXPECT_EQ(t.extended_max(), 65536u + 4u);
  EXPECT_TRUE(t.update(10005));
  EXPECT_EQ(t.extended_max(), 10005u);
  EXPECT_EQ(t.received(), 1u);
}

TEST(RtpJitter, A8EstimatorKnownValues) {
  clutchcall::rtp::JitterEstimator j;
  // Constant transit: jitter stays 0.
  for (std::uint32_t i = 0; i < 100; ++i) j.update(1000 + 160 * i, 160 * i);
  EXPECT_EQ(j.value(), 0u);
  // One deviation of 160: J = 160/16 = 10 (q4: 160).
  clutchcall::rtp::JitterEstimator k;
  k.update(0, 0);
  k.update(320, 160);  // D = 160
  EXPECT_EQ(k.value_q4(), 160u);
  EXPECT_EQ(k.value(), 10u);
  k.update(480, 320);  // D = 160 - 160 = ... transit 160 both times -> D=0: J -= (J+8)>>4 = 10
  EXPECT_EQ(k.value_q4(), 150u);
  // Alternating +-80 around a fixed transit converges to ~160 (D = 160 each step).
  clutchcall::rtp::JitterEstimator a;
  for (std::uint32_t i = 0; i < 2000; ++i) a.update(160 * i + ((i % 2) ? 80u : 0u) + 5000u, 160 * i);
  EXPECT_NEAR(static_cast<double>(a.value()), 80.0, 1.0);
  // Timestamps and arrivals wrap at 2^32 without a spike.
  clutchcall::rtp::JitterEstimator w;
  for (std::uint32_t i = 0; i < 100; ++i) w.update(0xFFFFFF00u + 160 * i + 7, 0xFFFFFFF0u + 160 * i);
  EXPECT_EQ(w.value(), 0u);
  // Bounded update: a 10 s timestamp jump is a discontinuity, not jitter.
  clutchcall::rtp::JitterEstimator b;
  EXPECT_TRUE(b.update_bounded(0, 0, 8000));
  EXPECT_TRUE(b.update_bounded(320, 160, 8000));  // D = 160
  EXPECT_EQ(b.value_q4(), 160u);
  EXPECT_FALSE(b.update_bounded(480, 160 + 80000, 8000));
  EXPECT_EQ(b.value_q4(), 160u);
  EXPECT_TRUE(b.update_bounded(640, 320 + 80000, 8000));  // same transit as the jump: D = 0
  EXPECT_EQ(b.value_q4(), 150u);
}

}  // namespace
