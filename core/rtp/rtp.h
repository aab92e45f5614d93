/* RTP (RFC 3550 §5.1) header parse and build, RFC 8285 header-extension elements, and the
 * sequence-number / timestamp arithmetic of RFC 3550 Appendix A.1 and A.8.
 *
 * Plain C-compatible API (cc_rtp_*, usable unchanged from the C ABI) plus a thin C++ layer in
 * namespace clutchcall::rtp at the bottom.
 *
 * Invariants:
 *   - Parsing never copies and never allocates: every pointer in a cc_rtp_packet points into the
 *     caller's input, so the input must outlive the view. On error the view is left zeroed.
 *   - A packet parses only if every byte it announces is present: 12 fixed bytes, 4 per CSRC,
 *     the 4-byte extension header plus 4 bytes per extension word, and, with the P bit, a
 *     padding count N (the last byte) with 1 <= N <= bytes after the header. payload_len is
 *     what remains (it may be 0). Multi-byte fields are big-endian on the wire and host-order in
 *     the view; CSRCs stay on the wire (read them with cc_rtp_packet_csrc).
 *   - Parse checks the version (must be 2) but does not judge the payload type: RTCP
 *     demultiplexing (RFC 5761) is the caller's business.
 *   - Build writes into the caller's buffer only after checking that the whole packet fits; on
 *     any error nothing is written and *written is 0.
 *   - Statuses: CC_RTP_OK (0), CC_RTP_END (1, "no more extension elements"), errors < 0, each
 *     naming its reason (cc_rtp_status_name).
 */
#ifndef CLUTCHCALL_CORE_RTP_RTP_H
#define CLUTCHCALL_CORE_RTP_RTP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define CC_RTP_CAST(T, x) static_cast<T>(x) /* the inline helpers below compile as C and C++ */
extern "C" {
#else
#define CC_RTP_CAST(T, x) ((T)(x))
#endif

typedef enum cc_rtp_status {
  CC_RTP_OK = 0,
  CC_RTP_END = 1,                          /* extension iterator: no more elements */
  CC_RTP_ERR_TRUNCATED = -1,               /* shorter than the 12-byte fixed header */
  CC_RTP_ERR_BAD_VERSION = -2,             /* V != 2 */
  CC_RTP_ERR_TRUNCATED_CSRC = -3,          /* CC announces more CSRCs than there are bytes */
  CC_RTP_ERR_TRUNCATED_EXTENSION = -4,     /* X set but the extension runs past the end */
  CC_RTP_ERR_BAD_PADDING = -5,             /* P set with count 0 or more than the room left */
  CC_RTP_ERR_BAD_EXTENSION = -6,           /* an RFC 8285 element runs past the extension */
  CC_RTP_ERR_UNKNOWN_EXTENSION_PROFILE = -7, /* elements asked of a non-RFC 8285 extension */
  CC_RTP_ERR_BUFFER_TOO_SMALL = -8,        /* build: the packet does not fit the buffer */
  CC_RTP_ERR_INVALID_ARGUMENT = -9         /* null pointer, PT > 127, CC > 15, bad ext length */
} cc_rtp_status;

/* "ok", "end", "truncated", "bad_version", "truncated_csrc", "truncated_extension",
 * "bad_padding", "bad_extension", "unknown_extension_profile", "buffer_too_small",
 * "invalid_argument"; "unknown" for anything else. */
const char *cc_rtp_status_name(cc_rtp_status status);

#define CC_RTP_FIXED_HEADER_LEN 12u
#define CC_RTP_MAX_CSRC 15u
#define CC_RTP_EXT_ONE_BYTE_PROFILE 0xBEDEu     /* RFC 8285 §4.2 */
#define CC_RTP_EXT_TWO_BYTE_PROFILE_MASK 0xFFF0u /* RFC 8285 §4.3: 0x100 + 4 app bits */
#define CC_RTP_EXT_TWO_BYTE_PROFILE 0x1000u

/* A parsed packet: a view over the input. */
typedef struct cc_rtp_packet {
  uint8_t version;      /* always 2 after a successful parse */
  uint8_t padding;      /* P bit */
  uint8_t extension;    /* X bit */
  uint8_t csrc_count;   /* CC, 0..15 */
  uint8_t marker;       /* M bit */
  uint8_t payload_type; /* 0..127 */
  uint16_t sequence;
  uint32_t timestamp;
  uint32_t ssrc;
  const uint8_t *csrc;      /* csrc_count big-endian 32-bit words (NULL if none) */
  uint16_t ext_profile;     /* "defined by profile" field; 0 without X */
  const uint8_t *ext_data;  /* extension body (NULL without X) */
  size_t ext_len;           /* bytes, a multiple of 4 */
  const uint8_t *payload;   /* payload (points at the end of the header if empty) */
  size_t payload_len;
  uint8_t padding_len;      /* trailing bytes incl. the count byte; 0 without P */
  size_t header_len;        /* 12 + 4*CC (+ 4 + ext_len) */
} cc_rtp_packet;

/* Parse `len` bytes at `data` into `*out`. */
cc_rtp_status cc_rtp_parse(const uint8_t *data, size_t len, cc_rtp_packet *out);
/* CSRC number i (0 <= i < csrc_count) in host order; 0 if i is out of range. */
uint32_t cc_rtp_packet_csrc(const cc_rtp_packet *packet, size_t i);

/* What to build. Version is always 2. */
typedef struct cc_rtp_header {
  uint8_t marker;         /* 0 or 1 */
  uint8_t payload_type;   /* 0..127 */
  uint16_t sequence;
  uint32_t timestamp;
  uint32_t ssrc;
  uint8_t csrc_count;     /* 0..15 */
  uint32_t csrc[CC_RTP_MAX_CSRC];
  uint8_t extension;      /* 1: write the extension below (even if ext_len is 0) */
  uint16_t ext_profile;
  const uint8_t *ext_data; /* ext_len bytes, copied verbatim */
  size_t ext_len;          /* multiple of 4, at most 4*65535 */
  uint8_t padding_len;     /* 0: no padding; else P=1 and this many bytes (last = count) */
} cc_rtp_header;

/* Size of the packet cc_rtp_build would write (0 if the header is invalid). */
size_t cc_rtp_packet_size(const cc_rtp_header *header, size_t payload_len);
/* Write header + payload + padding into out[0..cap). *written gets the length (0 on error). */
cc_rtp_status cc_rtp_build(const cc_rtp_header *header, const uint8_t *payload,
                           size_t payload_len, uint8_t *out, size_t cap, size_t *written);

/* RFC 8285 header-extension elements of a parsed packet (one-byte 0xBEDE or two-byte 0x100X).
 * Padding bytes (0x00) are skipped; in the one-byte form ID 15 ends processing (§4.2) and a
 * zero ID with a non-zero length is rejected as bad_extension. */
typedef struct cc_rtp_ext_iter {
  const uint8_t *pos;
  const uint8_t *end;
  uint8_t two_byte;
  uint8_t done;
} cc_rtp_ext_iter;

typedef struct cc_rtp_ext_element {
  uint8_t id;          /* 1..14 (one-byte) or 1..255 (two-byte) */
  const uint8_t *data; /* into the packet */
  size_t len;          /* 1..16 (one-byte) or 0..255 (two-byte) */
} cc_rtp_ext_element;

/* A packet without extension iterates as empty. Non-RFC 8285 profile:
 * CC_RTP_ERR_UNKNOWN_EXTENSION_PROFILE. */
cc_rtp_status cc_rtp_ext_iter_init(const cc_rtp_packet *packet, cc_rtp_ext_iter *iter);
/* CC_RTP_OK with *element filled, CC_RTP_END when finished, CC_RTP_ERR_BAD_EXTENSION if an
 * element overruns the extension (the iterator then stays finished). */
cc_rtp_status cc_rtp_ext_iter_next(cc_rtp_ext_iter *iter, cc_rtp_ext_element *element);

/* ---- sequence numbers and timestamps (wrap-around arithmetic) ---- */

/* a - b as the shortest signed distance modulo 2^16 (2^32): positive if a is newer. The
 * exactly-opposite point (32768 / 2^31 apart) counts as newer. */
static inline int32_t cc_rtp_seq_diff(uint16_t a, uint16_t b) {
  const uint16_t d = CC_RTP_CAST(uint16_t, a - b);
  return d < 0x8000u ? CC_RTP_CAST(int32_t, d) : CC_RTP_CAST(int32_t, d) - 0x10000;
}
static inline int64_t cc_rtp_ts_diff(uint32_t a, uint32_t b) {
  const uint32_t d = a - b;
  return d < 0x80000000u ? CC_RTP_CAST(int64_t, d) : CC_RTP_CAST(int64_t, d) - 0x100000000LL;
}
/* 1 if a is newer than b. */
static inline int cc_rtp_seq_newer(uint16_t a, uint16_t b) { return cc_rtp_seq_diff(a, b) > 0; }

/* Extended sequence number of `seq` relative to a reference extended number: the value
 * congruent to seq mod 2^16 nearest to `ref` (A.1's cycle counting, usable for late packets). */
static inline int64_t cc_rtp_seq_extend(int64_t ref, uint16_t seq) {
  return ref + cc_rtp_seq_diff(seq, CC_RTP_CAST(uint16_t, CC_RTP_CAST(uint64_t, ref) & 0xFFFFu));
}

/* RFC 3550 Appendix A.1 source state: per-SSRC sequence validation with probation
 * (MIN_SEQUENTIAL = 2), MAX_DROPOUT = 3000, MAX_MISORDER = 100, and cycle counting. */
typedef struct cc_rtp_seq_state {
  uint16_t max_seq;
  uint32_t cycles;   /* count of wraps, shifted left 16 (as in A.1) */
  uint32_t base_seq;
  uint32_t bad_seq;  /* 0x10001 + anything: "no candidate" */
  uint32_t probation;
  uint32_t received;
  uint32_t expected_prior;
  uint32_t received_prior;
} cc_rtp_seq_state;

/* Start a source on its first packet (in probation until MIN_SEQUENTIAL in-order packets). */
void cc_rtp_seq_init(cc_rtp_seq_state *s, uint16_t seq);
/* Account one packet; 1 if it is valid (counts), 0 if it was discarded (probation, or a jump
 * waiting for confirmation; a confirmed jump re-initialises the state). */
int cc_rtp_seq_update(cc_rtp_seq_state *s, uint16_t seq);
/* Highest extended sequence number received: cycles + max_seq. */
static inline uint32_t cc_rtp_seq_extended_max(const cc_rtp_seq_state *s) {
  return s->cycles + s->max_seq;
}
/* Packets expected (extended max - base + 1) and lost (expected - received, may be < 0). */
uint32_t cc_rtp_seq_expected(const cc_rtp_seq_state *s);
int64_t cc_rtp_seq_lost(const cc_rtp_seq_state *s);

/* RFC 3550 Appendix A.8 interarrival jitter, in timestamp units. Arrival times are given in
 * the same clock as the RTP timestamp (the caller converts wall time to it). State holds the
 * jitter scaled by 16, exactly as the A.8 integer form. */
typedef struct cc_rtp_jitter_estimator {
  uint32_t last_transit;
  uint32_t jitter_q4; /* jitter * 16 */
  uint8_t has_last;
} cc_rtp_jitter_estimator;

void cc_rtp_jitter_init(cc_rtp_jitter_estimator *j);
/* Forget the previous transit (new timing reference, e.g. a stream reset) but keep the jitter. */
void cc_rtp_jitter_rebase(cc_rtp_jitter_estimator *j);
/* Feed one packet: arrival in timestamp units (mod 2^32) and its RTP timestamp. */
void cc_rtp_jitter_update(cc_rtp_jitter_estimator *j, uint32_t arrival, uint32_t rtp_timestamp);
/* As update, but a transit change |D| above max_d is taken as a timing discontinuity (sender
 * clock restart, timestamp jump) rather than jitter: the estimator rebases on this packet and
 * the estimate is unchanged. Returns 1 if the estimate was updated, 0 otherwise. */
int cc_rtp_jitter_update_bounded(cc_rtp_jitter_estimator *j, uint32_t arrival,
                                 uint32_t rtp_timestamp, uint32_t max_d);
/* Current estimate (the value RTCP reports carry): jitter_q4 >> 4. */
static inline uint32_t cc_rtp_jitter_value(const cc_rtp_jitter_estimator *j) {
  return j->jitter_q4 >> 4;
}

#ifdef __cplusplus
} /* extern "C" */

#include <cstddef>
#include <cstdint>
#include <span>

namespace clutchcall::rtp {

enum class Status : int {
  ok = CC_RTP_OK,
  end = CC_RTP_END,
  truncated = CC_RTP_ERR_TRUNCATED,
  bad_version = CC_RTP_ERR_BAD_VERSION,
  truncated_csrc = CC_RTP_ERR_TRUNCATED_CSRC,
  truncated_extension = CC_RTP_ERR_TRUNCATED_EXTENSION,
  bad_padding = CC_RTP_ERR_BAD_PADDING,
  bad_extension = CC_RTP_ERR_BAD_EXTENSION,
  unknown_extension_profile = CC_RTP_ERR_UNKNOWN_EXTENSION_PROFILE,
  buffer_too_small = CC_RTP_ERR_BUFFER_TOO_SMALL,
  invalid_argument = CC_RTP_ERR_INVALID_ARGUMENT,
};

inline const char *to_string(Status s) noexcept {
  return cc_rtp_status_name(static_cast<cc_rtp_status>(s));
}

using Header = cc_rtp_header;
using ExtensionElement = cc_rtp_ext_element;

/* RFC 8285 elements as a range: `for (auto e : packet.extension_elements())`. Iteration stops
 * at the first malformed element; status() then says why (ok/end when all was well). */
class ExtensionElements {
 public:
  class iterator {
   public:
    using value_type = ExtensionElement;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(ExtensionElements *owner) : owner_(owner) { advance(); }
    const ExtensionElement &operator*() const { return element_; }
    const ExtensionElement *operator->() const { return &element_; }
    iterator &operator++() {
      advance();
      return *this;
    }
    void operator++(int) { advance(); }
    bool operator==(const iterator &o) const { return owner_ == o.owner_; }

   private:
    void advance() {
      const cc_rtp_status s = cc_rtp_ext_iter_next(&owner_->iter_, &element_);
      if (s != CC_RTP_OK) {
        owner_->status_ = static_cast<Status>(s);
        owner_ = nullptr;
      }
    }
    ExtensionElements *owner_ = nullptr;
    ExtensionElement element_{};
  };

  explicit ExtensionElements(const cc_rtp_packet &p) noexcept
      : status_(static_cast<Status>(cc_rtp_ext_iter_init(&p, &iter_))) {}
  iterator begin() { return status_ == Status::ok ? iterator(this) : iterator(); }
  iterator end() { return iterator(); }
  Status status() const noexcept { return status_; }

 private:
  cc_rtp_ext_iter iter_{};
  Status status_;
};

/* Zero-copy view of one packet (spans point into the parsed bytes). */
class PacketView {
 public:
  Status parse(std::span<const std::uint8_t> bytes) noexcept {
    return static_cast<Status>(cc_rtp_parse(bytes.data(), bytes.size(), &p_));
  }
  bool marker() const noexcept { return p_.marker != 0; }
  bool has_padding() const noexcept { return p_.padding != 0; }
  bool has_extension() const noexcept { return p_.extension != 0; }
  std::uint8_t payload_type() const noexcept { return p_.payload_type; }
  std::uint16_t sequence() const noexcept { return p_.sequence; }
  std::uint32_t timestamp() const noexcept { return p_.timestamp; }
  std::uint32_t ssrc() const noexcept { return p_.ssrc; }
  std::size_t csrc_count() const noexcept { return p_.csrc_count; }
  std::uint32_t csrc(std::size_t i) const noexcept { return cc_rtp_packet_csrc(&p_, i); }
  std::uint16_t extension_profile() const noexcept { return p_.ext_profile; }
  std::span<const std::uint8_t> extension() const noexcept { return {p_.ext_data, p_.ext_len}; }
  std::span<const std::uint8_t> payload() const noexcept { return {p_.payload, p_.payload_len}; }
  std::size_t padding_len() const noexcept { return p_.padding_len; }
  std::size_t header_len() const noexcept { return p_.header_len; }
  ExtensionElements extension_elements() const noexcept { return ExtensionElements(p_); }
  const cc_rtp_packet &raw() const noexcept { return p_; }

 private:
  cc_rtp_packet p_{};
};

inline std::size_t packet_size(const Header &h, std::size_t payload_len) noexcept {
  return cc_rtp_packet_size(&h, payload_len);
}
/* Build into `out`; `written` gets the packet length (0 on error). */
inline Status build(const Header &h, std::span<const std::uint8_t> payload,
                    std::span<std::uint8_t> out, std::size_t &written) noexcept {
  return static_cast<Status>(
      cc_rtp_build(&h, payload.data(), payload.size(), out.data(), out.size(), &written));
}

inline std::int32_t seq_diff(std::uint16_t a, std::uint16_t b) noexcept {
  return cc_rtp_seq_diff(a, b);
}
inline std::int64_t ts_diff(std::uint32_t a, std::uint32_t b) noexcept {
  return cc_rtp_ts_diff(a, b);
}
inline std::int64_t seq_extend(std::int64_t ref, std::uint16_t seq) noexcept {
  return cc_rtp_seq_extend(ref, seq);
}

/* A.1 per-source sequence state. */
class SequenceTracker {
 public:
  explicit SequenceTracker(std::uint16_t first_seq) noexcept { cc_rtp_seq_init(&s_, first_seq); }
  bool update(std::uint16_t seq) noexcept { return cc_rtp_seq_update(&s_, seq) != 0; }
  std::uint32_t extended_max() const noexcept { return cc_rtp_seq_extended_max(&s_); }
  std::uint32_t expected() const noexcept { return cc_rtp_seq_expected(&s_); }
  std::int64_t lost() const noexcept { return cc_rtp_seq_lost(&s_); }
  std::uint32_t received() const noexcept { return s_.received; }

 private:
  cc_rtp_seq_state s_{};
};

/* A.8 interarrival jitter estimator. */
class JitterEstimator {
 public:
  JitterEstimator() noexcept { cc_rtp_jitter_init(&j_); }
  void update(std::uint32_t arrival, std::uint32_t rtp_timestamp) noexcept {
    cc_rtp_jitter_update(&j_, arrival, rtp_timestamp);
  }
  bool update_bounded(std::uint32_t arrival, std::uint32_t rtp_timestamp,
                      std::uint32_t max_d) noexcept {
    return cc_rtp_jitter_update_bounded(&j_, arrival, rtp_timestamp, max_d) != 0;
  }
  void rebase() noexcept { cc_rtp_jitter_rebase(&j_); }
  std::uint32_t value() const noexcept { return cc_rtp_jitter_value(&j_); }
  std::uint32_t value_q4() const noexcept { return j_.jitter_q4; }

 private:
  cc_rtp_jitter_estimator j_{};
};

}  // namespace clutchcall::rtp
#endif

#endif /* CLUTCHCALL_CORE_RTP_RTP_H */
