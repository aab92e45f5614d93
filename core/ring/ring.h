/* Lock-free single-producer rings for the media fast path, after the model of Firedancer's
 * tango (mcache + dcache + fseq/fctl), written from scratch for this project.
 *
 * A Channel is one producer and `consumers` consumers (1 = SPSC, more = SPMC broadcast: every
 * consumer sees every frag, independently, with its own counters). It owns:
 *   mcache  `depth` (a power of two) 32-byte metadata lines, two per cache line, line
 *           (seq mod depth) holds frag seq: {seq, sig, chunk|sz|ctl, tsorig|tspub}, each an
 *           atomic 64-bit word;
 *   dcache  the payload region the lines point at, in 64-byte chunks, allocated compactly
 *           round-robin by the producer (a frag of sz bytes takes ceil(sz/64) chunks);
 *   pubseq  the producer's next sequence number (a hint for overrun recovery), own cache line;
 *   fseq    per consumer: its next expected sequence number, published every few frags, own
 *           cache line (false sharing between consumers would cost more than the rest).
 *
 * Sequence numbers are 64-bit and start at 0; they never wrap in practice (2^64 frags), but every
 * comparison is written as a signed difference anyway.
 *
 * Producer, for frag s (Producer::publish):
 *   1. line(s).seq = s-1 (relaxed)       "in progress": a consumer waiting for s sees a seq
 *                                        behind s (not yet); one still waiting for s-depth (the
 *                                        frag this line held) sees one ahead (overrun).
 *   2. release fence                     orders the mark before every store below: a consumer
 *                                        that reads ANY of the stores below (data or fields of
 *                                        s) and then executes an acquire fence is guaranteed to
 *                                        see the mark (or later) when it re-reads the line seq.
 *   3. data words (relaxed stores)       the payload of s, at its chunk;
 *   4. sig, chunk|sz|ctl, ts (relaxed);
 *   5. line(s).seq = s (release)         publishes 3 and 4: a consumer whose acquire load reads
 *                                        s sees them (or later values, which step 2 makes
 *                                        detectable);
 *   6. pubseq = s+1 (relaxed)            only a hint for recovery; nothing is read through it.
 *
 * Consumer expecting s (Consumer::poll), the seqlock read (Boehm, "Can seqlocks get along with
 * programming language memory models?", MSPC 2012):
 *   a. f = line(s).seq (acquire)         pairs with 5: if f == s the fields and data of s are
 *                                        visible (we read them or something newer);
 *      f behind s -> kEmpty;  f ahead of s -> the producer lapped us: kOverrun;
 *   b. fields, then payload words (relaxed loads), bounds clamped so a torn chunk/sz can never
 *      index outside the dcache;
 *   c. acquire fence                     pairs with 2 (fence-fence synchronization through
 *                                        whichever relaxed store b happened to read);
 *   d. line(s).seq again (relaxed): still s -> nothing b read was newer than frag s (a newer
 *      value would have made the mark of step 1 happen-before this load, so it would not read s):
 *      the frag is intact, deliver it. Changed -> it was overwritten while we copied: kOverrun.
 *   Every shared word is a std::atomic accessed with an explicit order, so the speculative copy
 *   is data-race-free in C++ terms (ThreadSanitizer-clean) and portable (no x86 TSO assumption).
 *   Under ThreadSanitizer, which does not model stand-alone fences (g++ 12 rejects them with
 *   -Wtsan), the fences are replaced by release stores / acquire loads on every word: the same
 *   guarantees (a load that reads a release store synchronizes with it directly), fully modelled
 *   by TSan; slower on weakly ordered CPUs, so not the production path.
 *
 * Why the dcache can hold the data "long enough": the payload of frag s may only be overwritten
 * by a frag s' >= s + depth, whose publish marks line(s) (steps 1-2) before writing its data
 * (step 3), so the re-check in d catches every overwrite. With M = ceil(mtu/64) chunks per frag
 * at most, the allocator places a frag at the next chunk and wraps to 0 when fewer than M chunks
 * remain; for s' to overlap s, the frags s..s'-1 must cover more than T - 2M chunks (the tail
 * from s to the wrap point plus the head up to s'), i.e. s' - s > T/M - 2. T = (depth + 2) * M
 * gives s' - s >= depth + 1 (T = (depth + 1) * M would already give the needed s' - s >= depth;
 * one frag spare).
 *
 * Overrun recovery (no flow control): the consumer counts one overrun, resyncs to
 * max(pubseq - 1, s + 1), the newest published frag (for telephony the newest media wins; it is
 * usually still intact, so even a consumer that shares a core with the producer gets frags), and
 * counts every sequence number it skipped as lost. Invariant (tested): at every point,
 * stats.frags + stats.lost == next_seq() - start_seq() (start_seq() is 0 on a fresh channel),
 * so once the producer stops and the consumer drains to kEmpty (pubseq is then exact, so a
 * resync lands on the last frag, which is then delivered), frags + lost == frags published since
 * the consumer started.
 *
 * Flow control (ChannelConfig::flow_control): consumer i stores its next expected seq into
 * fseq[i] (release) every `fseq_batch` frags, on every kEmpty poll and on overrun; the producer
 * keeps a cached limit = min_i fseq[i] + depth and publishes only while seq < limit, refreshing
 * the limit (acquire loads of every fseq) only when it runs out. Frag s overwrites line(s-depth)
 * and data of frags <= s-depth, all < min fseq: already consumed. The release/acquire pair makes
 * the consumer's reads of those frags happen-before the producer's overwrites, so a flow-
 * controlled consumer never overruns. Every consumer index counts, attached or not: a consumer
 * that never polls stops the producer after `depth` frags. Without flow control the producer
 * never reads an fseq and never blocks; slow consumers are overrun.
 *
 * Threads: one Producer per Channel, at most one Consumer per index (both checked when
 * attaching, std::logic_error), each used from one thread at a time. stats() may be read from
 * any thread (relaxed counters with a single writer). The Channel must outlive them.
 */
#ifndef CLUTCHCALL_CORE_RING_RING_H
#define CLUTCHCALL_CORE_RING_RING_H

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>

namespace clutchcall::ring {

struct ChannelConfig {
  std::uint64_t depth = 1024;  // mcache lines, a power of two in [2, 2^24]
  std::uint32_t mtu = 2048;    // max bytes per frag, [1, 65535]
  std::uint32_t consumers = 1;  // [1, 256]
  bool flow_control = false;
};

struct Frag {
  std::uint64_t seq;
  std::uint64_t sig;
  std::uint16_t ctl;
  std::uint32_t sz;
  std::uint32_t tsorig;  // as given to publish (e.g. compressed timestamps); 0 by default
  std::uint32_t tspub;
};

enum class Poll { kEmpty, kFrag, kOverrun };

// Spin-wait hint for poll loops: call it after kEmpty (or a refused publish) before polling again.
// A consumer that re-reads the line the producer is writing, back to back, steals that cache
// line between each of the producer's stores; one pause lets the producer finish the line and
// get ahead, so the consumer then reads whole completed lines. No-op where there is no hint.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

namespace detail {

#if defined(__SANITIZE_THREAD__)
#define CLUTCHCALL_RING_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CLUTCHCALL_RING_TSAN 1
#endif
#endif

#ifdef CLUTCHCALL_RING_TSAN
inline constexpr std::memory_order kWordStore = std::memory_order_release;
inline constexpr std::memory_order kWordLoad = std::memory_order_acquire;
inline void fence_release() noexcept {}
inline void fence_acquire() noexcept {}
#else
inline constexpr std::memory_order kWordStore = std::memory_order_relaxed;
inline constexpr std::memory_order kWordLoad = std::memory_order_relaxed;
inline void fence_release() noexcept { std::atomic_thread_fence(std::memory_order_release); }
inline void fence_acquire() noexcept { std::atomic_thread_fence(std::memory_order_acquire); }
#endif

inline constexpr std::size_t kChunk = 64;  // dcache allocation unit (bytes)
inline constexpr std::size_t kAlign = 128;  // adjacent-line prefetch pairs: keep hot words apart

using Word = std::atomic<std::uint64_t>;
static_assert(Word::is_always_lock_free, "the ring needs lock-free 64-bit atomics");

struct alignas(32) Line {
  Word seq;
  Word sig;
  Word meta;  // chunk (bits 0..31) | sz (32..47) | ctl (48..63)
  Word ts;    // tsorig (0..31) | tspub (32..63)
};
static_assert(sizeof(Line) == 32);

struct alignas(kAlign) Padded {
  Word v;
};

// Over-aligned array of trivially destructible atomics, zero/UINT64_MAX-initialized by Channel.
template <class T>
struct AlignedDelete {
  void operator()(T* p) const noexcept { ::operator delete[](p, std::align_val_t{kAlign}); }
};
template <class T>
using AlignedArray = std::unique_ptr<T[], AlignedDelete<T>>;

// Copies with 8-byte atomic words. Whole words go through memcpy (native byte order on both
// sides), the tail through matching shifts: no endianness assumption either way.
inline void store_bytes(Word* dst, const std::uint8_t* src, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, src + i, 8);
    dst[i / 8].store(w, kWordStore);
  }
  if (i < n) {  // tail: shifts, not a variable-size memcpy call; load_bytes undoes the same shifts
    std::uint64_t w = 0;
    for (std::size_t k = 0; i + k < n; ++k) w |= std::uint64_t{src[i + k]} << (8 * k);
    dst[i / 8].store(w, kWordStore);
  }
}

inline void load_bytes(std::uint8_t* dst, const Word* src, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t w = src[i / 8].load(kWordLoad);
    std::memcpy(dst + i, &w, 8);
  }
  if (i < n) {
    const std::uint64_t w = src[i / 8].load(kWordLoad);
    for (std::size_t k = 0; i + k < n; ++k) dst[i + k] = static_cast<std::uint8_t>(w >> (8 * k));
  }
}

// Single-writer counter readable from other threads.
inline void bump(Word& c, std::uint64_t by = 1) noexcept {
  c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

}  // namespace detail

class Channel {
 public:
  // Throws std::invalid_argument naming the bad field and value.
  static std::unique_ptr<Channel> create(const ChannelConfig& cfg);

  const ChannelConfig& config() const noexcept { return cfg_; }
  // Lower bound of the producer's next sequence number (every seq below it is published).
  std::uint64_t published() const noexcept { return pubseq_.v.load(std::memory_order_acquire); }
  // Consumer i's last published progress (its next expected seq as of its last fseq update).
  std::uint64_t fseq(std::uint32_t i) const noexcept {
    return fseq_[i].v.load(std::memory_order_acquire);
  }
  std::uint32_t fseq_batch() const noexcept { return fseq_batch_; }
  std::size_t dcache_bytes() const noexcept { return data_words_ * 8; }

  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel();

 private:
  friend class Producer;
  friend class Consumer;
  explicit Channel(const ChannelConfig& cfg);

  ChannelConfig cfg_;
  std::uint64_t mask_ = 0;
  std::uint32_t mtu_chunks_ = 0;  // M
  std::uint32_t wmark_ = 0;       // last chunk index a frag may start at (T - M)
  std::uint32_t fseq_batch_ = 1;
  std::size_t data_words_ = 0;
  detail::AlignedArray<detail::Line> lines_;
  detail::AlignedArray<detail::Word> data_;
  detail::AlignedArray<detail::Padded> fseq_;
  detail::Padded pubseq_;
  std::atomic<bool> producer_attached_{false};
  std::uint32_t producer_chunk_ = 0;  // dcache position handed from a detached producer to the next
  std::unique_ptr<std::atomic<bool>[]> consumer_attached_;
};

// alignas: the producer's per-publish stores (seq, dcache position, counters) must not share a
// cache line with anything a consumer reads.
class alignas(detail::kAlign) Producer {
 public:
  // Throws std::logic_error if the channel already has a producer.
  explicit Producer(Channel& ch);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Copies `data` (<= mtu bytes) into the dcache and publishes one frag. Returns false (and
  // publishes nothing) only when flow control is on and there are no credits, or
  // data.size() > mtu.
  bool publish(std::span<const std::uint8_t> data, std::uint64_t sig = 0, std::uint16_t ctl = 0,
               std::uint32_t tsorig = 0, std::uint32_t tspub = 0) noexcept {
    const std::size_t sz = data.size();
    if (sz > mtu_) {
      detail::bump(too_big_);
      return false;
    }
    const std::uint64_t s = seq_;
    if (fc_ && static_cast<std::int64_t>(s - limit_) >= 0 && !refresh_credits()) {
      detail::bump(refused_);
      return false;
    }
    detail::Line& l = lines_[s & mask_];
    l.seq.store(s - 1, std::memory_order_relaxed);  // step 1: in progress
    detail::fence_release();                        // step 2
    const std::uint32_t c = chunk_;
    if (sz != 0) detail::store_bytes(data_ + std::size_t{c} * (detail::kChunk / 8), data.data(), sz);
    l.sig.store(sig, detail::kWordStore);
    l.meta.store(std::uint64_t{c} | (std::uint64_t{sz} << 32) | (std::uint64_t{ctl} << 48),
                 detail::kWordStore);
    l.ts.store(std::uint64_t{tsorig} | (std::uint64_t{tspub} << 32), detail::kWordStore);
    l.seq.store(s, std::memory_order_release);  // step 5: publish
    const std::uint32_t next = c + static_cast<std::uint32_t>((sz + detail::kChunk - 1) / detail::kChunk);
    chunk_ = next > wmark_ ? 0 : next;
    seq_ = s + 1;
    pubseq_->store(s + 1, std::memory_order_relaxed);  // step 6: hint only
    detail::bump(published_);
    return true;
  }

  std::uint64_t seq() const noexcept { return seq_;  }  // next sequence number to publish

  // Flow-controlled mode: frags that may be published right now without refreshing (a lower
  // bound; refreshed lazily when it reaches 0). Without flow control: depth.
  std::uint64_t credits() const noexcept {
    if (!fc_) return mask_ + 1;
    const auto d = static_cast<std::int64_t>(limit_ - seq_);
    return d > 0 ? static_cast<std::uint64_t>(d) : 0;
  }

  struct Stats {
    std::uint64_t published, refused, too_big;  // refused: out of credits
  };
  Stats stats() const noexcept {
    return {published_.load(std::memory_order_relaxed), refused_.load(std::memory_order_relaxed),
            too_big_.load(std::memory_order_relaxed)};
  }

 private:
  bool refresh_credits() noexcept;

  Channel& ch_;
  detail::Line* lines_;
  detail::Word* data_;
  detail::Word* pubseq_;
  std::uint64_t mask_;
  std::uint32_t mtu_;
  std::uint32_t wmark_;
  bool fc_;
  std::uint64_t seq_ = 0;
  std::uint64_t limit_ = 0;  // cached min fseq + depth
  std::uint32_t chunk_ = 0;
  detail::Word published_{0}, refused_{0}, too_big_{0};
};

class alignas(detail::kAlign) Consumer {
 public:
  // index < cfg.consumers (std::out_of_range otherwise); std::logic_error if that index already
  // has a consumer. Starts at the index's fseq (0 on a fresh channel, or where a previous
  // consumer of this index left off).
  Consumer(Channel& ch, std::uint32_t index);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // kFrag: `dst` holds the frag's bytes (dst.size() >= mtu; a shorter dst gets the first
  // dst.size() bytes, meta->sz still says the frag's size), *meta filled.
  // kEmpty: nothing new. kOverrun: the producer lapped this consumer; it has already resynced;
  // stats updated; call poll() again.
  Poll poll(std::span<std::uint8_t> dst, Frag* meta) noexcept {
    const std::uint64_t s = next_;
    detail::Line& l = lines_[s & mask_];
    const std::uint64_t f = l.seq.load(std::memory_order_acquire);  // step a
    const auto d = static_cast<std::int64_t>(f - s);
    if (d < 0) {
      if (published_fseq_ != s) publish_fseq();
      return Poll::kEmpty;
    }
    if (d > 0) return overrun(s, f);
    const std::uint64_t sig = l.sig.load(detail::kWordLoad);  // step b
    const std::uint64_t m = l.meta.load(detail::kWordLoad);
    const std::uint64_t ts = l.ts.load(detail::kWordLoad);
    // A torn read can yield any chunk/sz: clamp so the copy stays inside the dcache; the
    // re-check below rejects the frag anyway.
    const std::uint32_t chunk = std::min(static_cast<std::uint32_t>(m), wmark_);
    const std::uint32_t sz = std::min(static_cast<std::uint32_t>((m >> 32) & 0xffffu), mtu_);
    const std::size_t n = std::min<std::size_t>(sz, dst.size());
    if (n != 0) detail::load_bytes(dst.data(), data_ + std::size_t{chunk} * (detail::kChunk / 8), n);
    detail::fence_acquire();                                       // step c
    const std::uint64_t f2 = l.seq.load(std::memory_order_relaxed);  // step d
    if (f2 != s) return overrun(s, f2);
    next_ = s + 1;
    detail::bump(frags_);
    detail::bump(bytes_, sz);
    if (meta != nullptr) {
      *meta = Frag{s, sig, static_cast<std::uint16_t>(m >> 48), sz, static_cast<std::uint32_t>(ts),
                   static_cast<std::uint32_t>(ts >> 32)};
    }
    if (++since_fseq_ >= batch_) publish_fseq();
    return Poll::kFrag;
  }

  std::uint64_t next_seq() const noexcept { return next_; }  // the seq poll() waits for
  // The seq this consumer started at (its index's fseq when attached; 0 on a fresh channel).
  // Invariant: stats().frags + stats().lost == next_seq() - start_seq().
  std::uint64_t start_seq() const noexcept { return start_; }

  struct Stats {
    std::uint64_t frags, bytes, overruns, lost;
  };
  Stats stats() const noexcept {
    return {frags_.load(std::memory_order_relaxed), bytes_.load(std::memory_order_relaxed),
            overruns_.load(std::memory_order_relaxed), lost_.load(std::memory_order_relaxed)};
  }

 private:
  Poll overrun(std::uint64_t s, std::uint64_t found) noexcept;
  void publish_fseq() noexcept {
    fseq_->store(next_, std::memory_order_release);  // our reads of frags < next_ happen-before
    published_fseq_ = next_;                          // the producer's overwrites of them
    since_fseq_ = 0;
  }

  Channel& ch_;
  std::uint32_t index_;
  detail::Line* lines_;
  const detail::Word* data_;
  detail::Word* fseq_;
  const detail::Word* pubseq_;
  std::uint64_t mask_;
  std::uint32_t mtu_;
  std::uint32_t wmark_;
  std::uint32_t batch_;
  std::uint32_t since_fseq_ = 0;
  std::uint64_t next_ = 0;
  std::uint64_t start_ = 0;
  std::uint64_t published_fseq_ = 0;
  detail::Word frags_{0}, bytes_{0}, overruns_{0}, lost_{0};
};

}  // namespace clutchcall::ring

#endif  // CLUTCHCALL_CORE_RING_RING_H
