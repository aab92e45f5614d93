// Test-only helpers shared by the resample, opus and transcode tests: tone generation and
// measurement of frequency (zero crossings with linear interpolation) and level (RMS).
// Level convention: dBov with 0 dBov = a full-scale sine (peak 32768), i.e.
// dBov = 20 log10(rms * sqrt(2) / 32768).
#ifndef CLUTCHCALL_CORE_RESAMPLE_SIGNAL_TEST_UTIL_H
#define CLUTCHCALL_CORE_RESAMPLE_SIGNAL_TEST_UTIL_H

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace clutchcall::testutil {

inline constexpr double kPi = 3.14159265358979323846;

// Interleaved tone, the same on every channel unless a second channel's frequency (hz_ch2 > 0)
// or level (dbov_ch2) is given.
inline std::vector<int16_t> tone(double hz, double dbov, uint32_t rate, size_t frames,
                                 uint32_t channels = 1, double hz_ch2 = 0.0,
                                 std::optional<double> dbov_ch2 = std::nullopt) {
  std::vector<int16_t> v(frames * channels);
  for (size_t i = 0; i < frames; ++i) {
    for (uint32_t c = 0; c < channels; ++c) {
      const double f = (c == 1 && hz_ch2 > 0.0) ? hz_ch2 : hz;
      const double db = (c == 1 && dbov_ch2) ? *dbov_ch2 : dbov;
      const double amp = 32768.0 * std::pow(10.0, db / 20.0);
      const double x = amp * std::sin(2.0 * kPi * f * static_cast<double>(i) / rate);
      v[i * channels + c] = static_cast<int16_t>(std::lround(x));
    }
  }
  return v;
}

// One channel of an interleaved buffer, frames [begin, end).
inline std::vector<double> channel(const std::vector<int16_t> &v, uint32_t channels, uint32_t c,
                                   size_t begin = 0, size_t end = SIZE_MAX) {
  const size_t frames = v.size() / channels;
  if (end > frames) end = frames;
  std::vector<double> out;
  for (size_t i = begin; i < end; ++i) out.push_back(v[i * channels + c]);
  return out;
}

// Frequency from rising zero crossings (linear interpolation between samples).
inline double measure_hz(const std::vector<double> &x, uint32_t rate) {
  double first = -1.0, last = -1.0;
  size_t n = 0;
  for (size_t i = 1; i < x.size(); ++i) {
    if (x[i - 1] < 0.0 && x[i] >= 0.0) {
      const double t = static_cast<double>(i - 1) + (-x[i - 1]) / (x[i] - x[i - 1]);
      if (first < 0.0) first = t;
      last = t;
      ++n;
    }
  }
  if (n < 2) return 0.0;
  return static_cast<double>(n - 1) * rate / (last - first);
}

inline double rms(const std::vector<double> &x) {
  if (x.empty()) return 0.0;
  double s = 0.0;
  for (double v : x) s += v * v;
  return std::sqrt(s / static_cast<double>(x.size()));
}

inline double dbov(const std::vector<double> &x) {
  const double r = rms(x);
  return r <= 0.0 ? -200.0 : 20.0 * std::log10(r * std::sqrt(2.0) / 32768.0);
}

// Power of one frequency relative to the total power, via the Goertzel recurrence
// (1.0: a pure tone at hz; used to check that the right channel carries the right tone).
inline double tone_fraction(const std::vector<double> &x, double hz, uint32_t rate) {
  const double w = 2.0 * kPi * hz / rate, c = 2.0 * std::cos(w);
  double s1 = 0.0, s2 = 0.0;
  for (double v : x) {
    const double s0 = v + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double p = s1 * s1 + s2 * s2 - c * s1 * s2;
  double total = 0.0;
  for (double v : x) total += v * v;
  const double n = static_cast<double>(x.size());
  return total <= 0.0 ? 0.0 : (2.0 * p / n) / total;
}

}  // namespace clutchcall::testutil

#endif  // CLUTCHCALL_CORE_RESAMPLE_SIGNAL_TEST_UTIL_H
