"""Keeping the agent from interrupting itself.

The agent's downlink audio can come back on the uplink (a handset's or carrier's echo, a
speakerphone). Without care the turn detector hears it as the caller speaking and barges in on the
agent's own voice. `EchoGuard` keeps what was played during the last `max_delay_ms` and compares
the newest `window_ms` of uplink with every delayed stretch of it (normalized cross-correlation).

An echo path has one delay, so the guard learns it: a lag found with a correlation of at least
`lock_correlation` is a vote, and once `LOCK_VOTES` of the last `VOTE_MEMORY` votes agree (within
1 ms) the delay is locked. Then a frame is echo when the correlation near that delay reaches
`correlation`; before the lock only a near-perfect match anywhere (`lock_correlation`) counts.
Restricting the test to one delay matters: voiced speech is periodic, so the caller's vowels match
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
VOTE_MEMORY: Final = 10


class EchoGuard:
    def __init__(
        self,
        sample_rate: int,
        frame_ms: int,
        *,
        max_delay_ms: int = 400,
        hold_ms: int = 600,
        window_ms: int = 40,
        correlation: float = 0.6,
        lock_correlation: float = 0.9,
        floor_dbfs: float = -50.0,
    ) -> None:
        self._frame = sample_rate * frame_ms // 1000
        self._window = max(self._frame, sample_rate * window_ms // 1000)
        self._history = np.zeros(sample_rate * max_delay_ms // 1000 + self._window, dtype=np.float64)
        self._uplink = np.zeros(self._window, dtype=np.float64)
        self._tolerance = max(1, sample_rate // 1000)  # 1 ms of lag
        self._hold_frames = max(1, hold_ms // frame_ms)
        self._since_played = self._hold_frames  # frames since the last audible downlink frame
        self._floor_energy = (32768 * 10 ** (floor_dbfs / 20)) ** 2
        self._votes: deque[int] = deque(maxlen=VOTE_MEMORY)
        self.correlation = correlation
        self.lock_correlation = lock_correlation
        self.locked_lag: int | None = None  # index into the correlation of the echo's delay, once learnt
        self.echo_frames = 0  # uplink frames classified as echo

    def played(self, frame: bytes | None) -> None:
        """One frame period of downlink: the frame sent (pcm16) or None when nothing was played."""
        if frame is None or not frame:
            samples = np.zeros(self._frame)
        else:
            samples = np.resize(np.frombuffer(frame, dtype="<i2").astype(np.float64), self._frame)
        self._history = np.concatenate((self._history[self._frame :], samples))
        audible = float(np.dot(samples, samples)) >= self._floor_energy * self._frame
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
        return (len(self._history) - self._window - self.locked_lag) * 1000 / (self._frame * 50)

    def _correlations(self) -> np.ndarray:
        """|normalized cross-correlation| of the uplink window with the history, one value per lag."""
        x, ref = self._uplink, self._history
        n = len(x)
        energy_x = float(np.dot(x, x))
        if energy_x < self._floor_energy * n:
            return np.zeros(len(ref) - n + 1)
        size = 1 << int(len(ref) + n - 1).bit_length()
        corr = np.fft.irfft(np.fft.rfft(ref, size) * np.conj(np.fft.rfft(x, size)), size)[: len(ref) - n + 1]
        cumulative = np.concatenate(([0.0], np.cumsum(ref * ref)))
        energy_ref = cumulative[n:] - cumulative[:-n]
        valid = energy_ref > self._floor_energy * n
        return np.where(valid, np.abs(corr) / np.sqrt(np.maximum(energy_ref, 1.0) * energy_x), 0.0)

    def _vote(self, lag: int) -> None:
        self._votes.append(lag // self._tolerance)
        bin_, count = Counter(self._votes).most_common(1)[0]
        if count >= LOCK_VOTES:
            near = [v for v in self._votes if abs(v - bin_) <= 1]
            self.locked_lag = round(sum(near) / len(near) * self._tolerance)

    def _push(self, frame: bytes) -> np.ndarray:
        samples = np.resize(np.frombuffer(frame, dtype="<i2").astype(np.float64), self._frame)
        self._uplink = np.concatenate((self._uplink[self._frame :], samples))
        return samples

    def _score(self) -> float:
        ncc = self._correlations()
        best = int(np.argmax(ncc))
        if ncc[best] >= self.lock_correlation:
            self._vote(best)
        if self.locked_lag is None:
            return float(ncc[best]) if ncc[best] >= self.lock_correlation else 0.0
        lo, hi = max(0, self.locked_lag - self._tolerance), self.locked_lag + self._tolerance + 1
        return float(np.max(ncc[lo:hi]))

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
        quiet = float(np.dot(samples, samples)) < self._floor_energy * self._frame
        echo = quiet or self._score() >= self.correlation
        self.echo_frames += echo
        return echo
