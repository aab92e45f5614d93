// Channel construction, attach/detach and the cold paths of Producer/Consumer. See ring.h.
#include "ring/ring.h"

#include <limits>
#include <stdexcept>
#include <string>

namespace clutchcall::ring {
namespace {

constexpr std::uint64_t kMaxDepth = std::uint64_t{1} << 24;
constexpr std::uint32_t kMaxMtu = 65535;  // sz is 16 bits in the mcache line
constexpr std::uint32_t kMaxConsumers = 256;
constexpr std::uint64_t kMaxDcacheBytes = std::uint64_t{1} << 30;

template <class T>
detail::AlignedArray<T> make_array(std::size_t n) {
  T* p = static_cast<T*>(::operator new[](n * sizeof(T), std::align_val_t{detail::kAlign}));
  for (std::size_t i = 0; i < n; ++i) new (p + i) T();
  return detail::AlignedArray<T>(p);
}

}  // namespace

std::unique_ptr<Channel> Channel::create(const ChannelConfig& cfg) {
  if (cfg.depth < 2 || cfg.depth > kMaxDepth || (cfg.depth & (cfg.depth - 1)) != 0) {
    throw std::invalid_argument("ring::ChannelConfig: depth must be a power of two in [2, 2^24], got " +
                                std::to_string(cfg.depth));
  }
  if (cfg.mtu < 1 || cfg.mtu > kMaxMtu) {
    throw std::invalid_argument("ring::ChannelConfig: mtu must be in [1, 65535] bytes, got " +
                                std::to_string(cfg.mtu));
  }
  if (cfg.consumers < 1 || cfg.consumers > kMaxConsumers) {
    throw std::invalid_argument("ring::ChannelConfig: consumers must be in [1, 256], got " +
                                std::to_string(cfg.consumers));
  }
  const std::uint64_t m = (cfg.mtu + detail::kChunk - 1) / detail::kChunk;
  const std::uint64_t bytes = (cfg.depth + 2) * m * detail::kChunk;
  if (bytes > kMaxDcacheBytes) {
    throw std::invalid_argument("ring::ChannelConfig: depth " + std::to_string(cfg.depth) + " x mtu " +
                                std::to_string(cfg.mtu) + " needs a " + std::to_string(bytes) +
                                "-byte dcache (limit 1 GiB): lower depth or mtu");
  }
  return std::unique_ptr<Channel>(new Channel(cfg));
}

Channel::Channel(const ChannelConfig& cfg) : cfg_(cfg) {
  mask_ = cfg.depth - 1;
  mtu_chunks_ = static_cast<std::uint32_t>((cfg.mtu + detail::kChunk - 1) / detail::kChunk);
  const std::uint64_t total_chunks = (cfg.depth + 2) * mtu_chunks_;  // T, see ring.h
  wmark_ = static_cast<std::uint32_t>(total_chunks - mtu_chunks_);
  // Publish progress often enough that the producer rarely runs dry, rarely enough that the
  // fseq line does not bounce between cores on every frag.
  fseq_batch_ = static_cast<std::uint32_t>(std::clamp<std::uint64_t>(cfg.depth / 8, 1, 64));
  data_words_ = static_cast<std::size_t>(total_chunks * (detail::kChunk / 8));

  lines_ = make_array<detail::Line>(static_cast<std::size_t>(cfg.depth));
  // Every line starts "behind" every seq >= 0 (signed difference -1 - seq < 0), so consumers wait
  // cleanly for frag 0 instead of seeing an overrun.
  for (std::size_t i = 0; i < cfg.depth; ++i) {
    lines_[i].seq.store(std::numeric_limits<std::uint64_t>::max(), std::memory_order_relaxed);
    lines_[i].sig.store(0, std::memory_order_relaxed);
    lines_[i].meta.store(0, std::memory_order_relaxed);
    lines_[i].ts.store(0, std::memory_order_relaxed);
  }
  data_ = make_array<detail::Word>(data_words_);
  for (std::size_t i = 0; i < data_words_; ++i) data_[i].store(0, std::memory_order_relaxed);
  fseq_ = make_array<detail::Padded>(cfg.consumers);
  for (std::size_t i = 0; i < cfg.consumers; ++i) fseq_[i].v.store(0, std::memory_order_relaxed);
  pubseq_.v.store(0, std::memory_order_relaxed);
  consumer_attached_ = std::make_unique<std::atomic<bool>[]>(cfg.consumers);
  for (std::size_t i = 0; i < cfg.consumers; ++i) consumer_attached_[i].store(false);
}

Channel::~Channel() = default;

Producer::Producer(Channel& ch)
    : ch_(ch),
      lines_(ch.lines_.get()),
      data_(ch.data_.get()),
      pubseq_(&ch.pubseq_.v),
      mask_(ch.mask_),
      mtu_(ch.cfg_.mtu),
      wmark_(ch.wmark_),
      fc_(ch.cfg_.flow_control) {
  if (ch.producer_attached_.exchange(true, std::memory_order_acq_rel)) {
    throw std::logic_error("ring::Producer: the channel already has a producer (single producer only)");
  }
  // A re-attached producer carries on after the last published frag and dcache position (handed
  // over through the attach flag's release/acquire), so the dcache invariant still holds.
  seq_ = ch.pubseq_.v.load(std::memory_order_acquire);
  chunk_ = ch.producer_chunk_;
  limit_ = seq_;  // forces a refresh on the first flow-controlled publish
}

Producer::~Producer() {
  ch_.producer_chunk_ = chunk_;
  ch_.producer_attached_.store(false, std::memory_order_release);
}

bool Producer::refresh_credits() noexcept {
  std::uint64_t min = seq_;
  for (std::uint32_t i = 0; i < ch_.cfg_.consumers; ++i) {
    // acquire: pairs with the consumer's release store, so its reads of every frag below this
    // fseq happen-before our overwrites of those lines and chunks.
    const std::uint64_t f = ch_.fseq_[i].v.load(std::memory_order_acquire);
    if (static_cast<std::int64_t>(f - min) < 0) min = f;
  }
  limit_ = min + mask_ + 1;
  return static_cast<std::int64_t>(seq_ - limit_) < 0;
}

Consumer::Consumer(Channel& ch, std::uint32_t index)
    : ch_(ch),
      index_(index),
      lines_(ch.lines_.get()),
      data_(ch.data_.get()),
      fseq_(nullptr),
      pubseq_(&ch.pubseq_.v),
      mask_(ch.mask_),
      mtu_(ch.cfg_.mtu),
      wmark_(ch.wmark_),
      batch_(ch.fseq_batch_) {
  if (index >= ch.cfg_.consumers) {
    throw std::out_of_range("ring::Consumer: index " + std::to_string(index) + " out of range (channel has " +
                            std::to_string(ch.cfg_.consumers) + " consumers)");
  }
  if (ch.consumer_attached_[index].exchange(true, std::memory_order_acq_rel)) {
    throw std::logic_error("ring::Consumer: consumer index " + std::to_string(index) + " is already attached");
  }
  fseq_ = &ch.fseq_[index].v;
  next_ = fseq_->load(std::memory_order_acquire);
  start_ = next_;
  published_fseq_ = next_;
}

Consumer::~Consumer() {
  publish_fseq();
  ch_.consumer_attached_[index_].store(false, std::memory_order_release);
}

Poll Consumer::overrun(std::uint64_t s, std::uint64_t found) noexcept {
  // Resync to the newest published frag, pubseq - 1 (newest media wins), which is usually still
  // intact, so the next poll delivers it at once even when the producer runs on the same core
  // and this consumer only gets scheduled in between its bursts. pubseq is only a hint and may
  // lag `found`; never go backwards: at least s + 1 (s itself is gone).
  (void)found;
  std::uint64_t target = s + 1;
  const std::uint64_t newest = pubseq_->load(std::memory_order_relaxed) - 1;
  if (static_cast<std::int64_t>(newest - target) > 0) target = newest;
  detail::bump(overruns_);
  detail::bump(lost_, target - s);
  next_ = target;
  publish_fseq();
  return Poll::kOverrun;
}

}  // namespace clutchcall::ring
