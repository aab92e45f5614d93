"""Keeping the agent from interrupting itself.

The agent's downlink audio can come back on the uplink (a handset's or carrier's echo, a
speakerphone). Without care the turn detector hears it as the caller speaking and barges in on the
agent's own voice. `EchoGuard` keeps what was played during the last `max_delay_ms` and compares
the newest `window_ms` of uplink with every delayed stretch of it (normalized cross-correlation).

An echo path has few delays, so the guard learns them: a lag found with a correlation of at least
`lock_correlation` is echo and a vote; a delay with two of the last `VOTE_MEMORY` votes (within
1 ms), give or take `FRAME_SLIPS` whole frames, is known (the delay steps by whole frames when a
jitter buffer drops or inserts one), and a frame is echo when the correlation near a known delay
reaches `correlation`; `locked_lag` is the delay with `LOCK_VOTES`. Restricting
the weaker test to known delays matters: voiced speech is periodic, so the caller's vowels match
some stretch of the agent's voice at some lag far too often (a third of the frames with a 20 ms
window and no lock), which would swallow a real barge-in. A caller talking over the agent (double
talk) adds a second voice and lowers the correlation at the echo's delay, so a barge-in still gets
through. Frames quieter than `floor_dbfs` while the agent's audio may still be arriving count as
echo too (the VAD's hangover after the echo ends would otherwise read the line's noise floor as a
turn). Figures: benchmarks/agents/.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Final

import numpy as np

LOCK_VOTES: Final = 3
VOTE_MEMORY: Final = 16
FRAME_SLIPS: Final = 4  # a known delay also stands for itself +- this many whole frames
FULL_SEARCH_EVERY: Final = 4  # echo found at a known delay: search every lag only on every 4th frame
ANALYSIS_RATE: Final = 8000  # the line is G.711 somewhere: nothing above 4 kHz comes back, so compare below it


class _Downsampler:
    """Low-pass (windowed sinc, 3.6 kHz) and keep every `factor`-th sample; state carried across frames."""

    def __init__(self, factor: int) -> None:
        self.factor = factor
        taps = np.arange(31) - 15
        cutoff = 3600 / (ANALYSIS_RATE * factor)
        self._h = 2 * cutoff * np.sinc(2 * cutoff * taps) * np.hamming(31)
        self._h /= self._h.sum()
        self._state = np.zeros(30)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.factor == 1:
            return x
        padded = np.concatenate((self._state, x))
        self._state = padded[-30:]
        return np.convolve(padded, self._h, "valid")[:: self.factor]


class EchoGuard:
    def __init__(
        self,
        sample_rate: int,
        frame_ms: int,
        *,
        max_delay_ms: int = 800,
        hold_ms: int = 600,
        window_ms: int = 40,
        correlation: float = 0.6,
        lock_correlation: float = 0.9,
        floor_dbfs: float = -50.0,
    ) -> None:
        factor = max(1, sample_rate // ANALYSIS_RATE)
        if sample_rate % ANALYSIS_RATE:
            raise ValueError(f"echo guard: sample_rate {sample_rate} is not a multiple of {ANALYSIS_RATE}")
        self._in_frame = sample_rate * frame_ms // 1000
        self._frame = ANALYSIS_RATE * frame_ms // 1000
        self._down_played, self._down_uplink = _Downsampler(factor), _Downsampler(factor)
        self._window = max(self._frame, ANALYSIS_RATE * window_ms // 1000)
        self._history = np.zeros(ANALYSIS_RATE * max_delay_ms // 1000 + self._window, dtype=np.float64)
        self._uplink = np.zeros(self._window, dtype=np.float64)
        self._tolerance = ANALYSIS_RATE // 1000  # 1 ms of lag
        self._hold_frames = max(1, hold_ms // frame_ms)
        self._since_played = self._hold_frames  # frames since the last audible downlink frame
        self._floor_energy = (32768 * 10 ** (floor_dbfs / 20)) ** 2
        self._votes: deque[int] = deque(maxlen=VOTE_MEMORY)
        self.correlation = correlation
        self.lock_correlation = lock_correlation
        self.locked_lag: int | None = None  # index into the correlation of the echo's delay, once learnt
        self.echo_frames = 0  # uplink frames classified as echo
        self._scored = 0

    def played(self, frame: bytes | None) -> None:
        """One frame period of downlink: the frame sent (pcm16) or None when nothing was played."""
        if frame is None or not frame:
            samples = np.zeros(self._in_frame)
        else:
            samples = np.resize(np.frombuffer(frame, dtype="<i2").astype(np.float64), self._in_frame)
        self._history = np.concatenate((self._history[self._frame :], self._down_played(samples)))
        audible = float(np.dot(samples, samples)) >= self._floor_energy * self._in_frame
        self._since_played = 0 if audible else self._since_played + 1

    @property
    def active(self) -> bool:
        """Whether the agent played audio recently enough for its echo to still be arriving."""
        return self._since_played < self._hold_frames

    @property
    def delay_ms(self) -> float | None:
        """The learnt echo delay (ms), once locked."""
        if self.locked_lag is None:
            return None
        return (len(self._history) - self._window - self.locked_lag) * 1000 / ANALYSIS_RATE

    def _correlations(self) -> np.ndarray:
        """|normalized cross-correlation| of the uplink window with the history, one value per lag (by FFT)."""
        x, ref = self._uplink, self._history
        n = len(x)
        energy_x = float(np.dot(x, x))
        if energy_x < self._floor_energy * n:
            return np.zeros(len(ref) - n + 1)
        size = 1 << int(len(ref) + n - 1).bit_length()
        corr = np.fft.irfft(np.fft.rfft(ref, size) * np.conj(np.fft.rfft(x, size)), size)[: len(ref) - n + 1]
        return self._normalized(corr, np.arange(len(ref) - n + 1), energy_x)

    def _correlations_at(self, lags: np.ndarray) -> np.ndarray:
        """The same values at a few lags only, by direct dot products (cheaper than the FFT for a few hundred)."""
        x = self._uplink
        energy_x = float(np.dot(x, x))
        if energy_x < self._floor_energy * len(x):
            return np.zeros(len(lags))
        windows = np.lib.stride_tricks.sliding_window_view(self._history, len(x))[lags]
        return self._normalized(windows @ x, lags, energy_x)

    def _normalized(self, corr: np.ndarray, lags: np.ndarray, energy_x: float) -> np.ndarray:
        n, ref = len(self._uplink), self._history
        cumulative = np.concatenate(([0.0], np.cumsum(ref * ref)))
        energy_ref = cumulative[lags + n] - cumulative[lags]
        valid = energy_ref > self._floor_energy * n
        return np.where(valid, np.abs(corr) / np.sqrt(np.maximum(energy_ref, 1.0) * energy_x), 0.0)

    def _vote(self, lag: int) -> None:
        self._votes.append(lag // self._tolerance)
        bin_, count = Counter(self._votes).most_common(1)[0]
        if count >= LOCK_VOTES:
            near = [v for v in self._votes if abs(v - bin_) <= 1]
            self.locked_lag = round(sum(near) / len(near) * self._tolerance)

    def _known_lags(self) -> np.ndarray:
        """The lags to test at the weaker `correlation`: within 1 ms of every delay voted for twice lately, each also
        shifted by up to FRAME_SLIPS whole frames (the path's delay steps by frames when a jitter buffer drops or
        inserts one, seen in make demo, and the echo arrives at the new delay before it has collected votes)."""
        known = [b * self._tolerance for b, count in Counter(self._votes).items() if count >= 2]
        centres = {lag + k * self._frame for lag in known for k in range(-FRAME_SLIPS, FRAME_SLIPS + 1)}
        limit = len(self._history) - self._window + 1
        lags = {lag for c in centres for lag in range(c - self._tolerance, c + 2 * self._tolerance) if 0 <= lag < limit}
        return np.array(sorted(lags), dtype=np.intp)

    def _push(self, frame: bytes) -> np.ndarray:
        samples = np.resize(np.frombuffer(frame, dtype="<i2").astype(np.float64), self._in_frame)
        band = self._down_uplink(samples)
        self._uplink = np.concatenate((self._uplink[self._frame :], band))
        return band

    def _score(self) -> float:
        known = self._known_lags()
        self._scored += 1
        if len(known):
            at_known = float(np.max(self._correlations_at(known)))
            # echo where it was before: skip the full search, but every FULL_SEARCH_EVERY frames keep voting
            if at_known >= self.correlation and self._scored % FULL_SEARCH_EVERY:
                return at_known
        ncc = self._correlations()
        best = int(np.argmax(ncc))
        score = 0.0
        if ncc[best] >= self.lock_correlation:  # a near-perfect match is echo wherever it is, and a vote
            self._vote(best)
            score = float(ncc[best])
        known = self._known_lags()
        return max(score, float(np.max(ncc[known], initial=0.0)))

    def max_correlation(self, frame: bytes) -> float:
        """Push one uplink frame; the correlation deciding whether it is echo (near the learnt delay once locked)."""
        self._push(frame)
        return self._score()

    def is_echo(self, frame: bytes, *, voiced: bool = True) -> bool:
        """Whether this uplink frame is (mostly) the agent's own audio coming back.

        Give it every uplink frame (the window spans frames); frames the VAD calls unvoiced are only
        remembered, not scored (and are never echo: there is nothing to suppress).
        """
        samples = self._push(frame)
        if not voiced or not self.active:
            return False
        # quiet below 3.6 kHz (silence, or a fricative alone) while the echo may be arriving: nothing to judge by
        quiet = float(np.dot(samples, samples)) < self._floor_energy * self._frame
        echo = quiet or self._score() >= self.correlation
        self.echo_frames += echo
        return echo
