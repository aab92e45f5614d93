/* Shared<T>: one stateful core object behind its own mutex, the threading contract of every
 * object the bindings hand out (Python classes, C ABI handles).
 *
 * The core's classes (resample::Resampler, opus::Encoder/Decoder, transcode::Transcoder,
 * jitter::JitterBuffer) are like the standard containers: any number of objects on any
 * threads, but one object used by one thread at a time; the relay keeps each call's objects on
 * its owning shard, so it needs no lock. Whoever lets several threads reach one object wraps it
 * here: every stateful call goes through with(), which holds the mutex for the call, so calls
 * from different threads run one after the other, each as if alone. An uncontended lock is two
 * atomic operations, nothing next to an Opus frame or a resampler call.
 *
 * Rules for callers:
 *   - Results that point into the object (a jitter buffer frame's payload, a transcoder's
 *     scratch output) must be copied inside the same with() call.
 *   - Python bindings release the GIL BEFORE calling with() and never take it inside: a thread
 *     holding this mutex never waits for the GIL, so the two locks cannot deadlock.
 *   - fixed() reads what never changes after creation (rates, channels, shapes) without the lock.
 *   - Destruction must not overlap any other call (the owner of the last reference destroys).
 */
#ifndef CLUTCHCALL_CORE_SHARED_SHARED_H
#define CLUTCHCALL_CORE_SHARED_SHARED_H

#include <memory>
#include <mutex>
#include <utility>

namespace clutchcall {

template <class T>
class Shared {
 public:
  explicit Shared(std::unique_ptr<T> object) noexcept : object_(std::move(object)) {}
  Shared(const Shared &) = delete;
  Shared &operator=(const Shared &) = delete;

  explicit operator bool() const noexcept { return object_ != nullptr; }

  template <class F>
  decltype(auto) with(F &&fn) {
    std::lock_guard<std::mutex> lock(mu_);
    return std::forward<F>(fn)(*object_);
  }
  template <class F>
  decltype(auto) with(F &&fn) const {
    std::lock_guard<std::mutex> lock(mu_);
    return std::forward<F>(fn)(static_cast<const T &>(*object_));
  }

  const T &fixed() const noexcept { return *object_; }

 private:
  mutable std::mutex mu_;
  std::unique_ptr<T> object_;
};

}  // namespace clutchcall

#endif  // CLUTCHCALL_CORE_SHARED_SHARED_H
