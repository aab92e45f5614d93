"""Keeping the agent from interrupting itself.

The agent's downlink audio can come back on the uplink (a handset's or carrier's echo, a
speakerphone). Without care the turn detector hears it as the caller speaking and barges in on the
agent's own voice. `EchoGuard` keeps what was played during the last `max_delay_ms` and marks an
uplink frame as echo when its normalized cross-correlation with some delayed stretch of that
reference reaches `correlation`, or when it is quieter than `floor_dbfs` while the agent's audio
may still be arriving (the VAD's own hangover after the echo ends would otherwise read the line's
noise floor as the start of a turn). A caller talking over the agent (double talk) mixes a second
voice in and drops the correlation, so a real barge-in still gets through; the figures are in
benchmarks/agents/.
"""

from __future__ import annotations

import numpy as np

# Frames quieter than this (RMS of int16 samples) are not worth correlating: the VAD ignores them anyway.
_MIN_RMS = 30.0


class EchoGuard:
    def __init__(
        self,
        sample_rate: int,
        frame_ms: int,
        *,
        max_delay_ms: int = 400,
        hold_ms: int = 600,
        correlation: float = 0.6,
        floor_dbfs: float = -50.0,
    ) -> None:
        self._frame = sample_rate * frame_ms // 1000
        self._history = np.zeros(sample_rate * max_delay_ms // 1000 + self._frame, dtype=np.float64)
        self._hold_frames = max(1, hold_ms // frame_ms)
        self._since_played = self._hold_frames  # frames since the last non-silent downlink frame
        self.correlation = correlation
        self._floor_energy = (32768 * 10 ** (floor_dbfs / 20)) ** 2
        self.echo_frames = 0  # uplink frames classified as echo

    def played(self, frame: bytes | None) -> None:
        """One frame period of downlink: the frame sent (pcm16) or None when nothing was played."""
        if frame is None or not frame:
            samples = np.zeros(self._frame)
        else:
            samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
            if len(samples) != self._frame:
                samples = np.resize(samples, self._frame)
        self._history = np.concatenate((self._history[self._frame :], samples))
        audible = float(np.sqrt(np.mean(samples * samples))) >= _MIN_RMS
        self._since_played = 0 if audible else self._since_played + 1

    @property
    def active(self) -> bool:
        """Whether the agent played audio recently enough for its echo to still be arriving."""
        return self._since_played < self._hold_frames

    def max_correlation(self, frame: bytes) -> float:
        x = np.frombuffer(frame, dtype="<i2").astype(np.float64)
        n = len(x)
        energy_x = float(np.dot(x, x))
        if n == 0 or energy_x < _MIN_RMS * _MIN_RMS * n:
            return 0.0
        ref = self._history
        size = 1 << int(len(ref) + n - 1).bit_length()
        corr = np.fft.irfft(np.fft.rfft(ref, size) * np.conj(np.fft.rfft(x, size)), size)[: len(ref) - n + 1]
        cumulative = np.concatenate(([0.0], np.cumsum(ref * ref)))
        energy_ref = cumulative[n:] - cumulative[:-n]
        valid = energy_ref > _MIN_RMS * _MIN_RMS * n
        if not np.any(valid):
            return 0.0
        ncc = np.where(valid, corr / np.sqrt(np.maximum(energy_ref, 1.0) * energy_x), 0.0)
        return float(np.max(np.abs(ncc)))  # an inverting echo path correlates negatively

    def is_echo(self, frame: bytes) -> bool:
        """Whether this uplink frame is (mostly) the agent's own audio coming back."""
        if not self.active:
            return False
        x = np.frombuffer(frame, dtype="<i2").astype(np.float64)
        quiet = float(np.dot(x, x)) < self._floor_energy * max(1, len(x))
        echo = quiet or self.max_correlation(frame) >= self.correlation
        self.echo_frames += echo
        return echo
