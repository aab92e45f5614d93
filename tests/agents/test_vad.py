"""The VADs: shapes refused by name, and speech told from silence and noise on labelled fixtures."""

from __future__ import annotations

import numpy as np
import pytest
from clutchcall_engine.agents import GatedVad, SileroVad, VadError, WebRtcVad
from speech_fixtures import Fixture


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: WebRtcVad(11025, 20), "sample_rate 11025"),
        (lambda: WebRtcVad(16000, 25), "frame_ms 25"),
        (lambda: WebRtcVad(16000, 20, aggressiveness=4), "aggressiveness 4"),
        (lambda: SileroVad(48000, 20), "sample_rate 48000"),
        (lambda: SileroVad(16000, 20, threshold=1.5), "threshold 1.5"),
        (lambda: GatedVad(24000, 20), "sample_rate 24000"),
    ],
)
def test_unsupported_shapes_are_named(make: object, needle: str) -> None:
    with pytest.raises(VadError, match=needle):
        make()  # type: ignore[operator]


@pytest.mark.parametrize("vad", [WebRtcVad(16000, 20), SileroVad(16000, 20)])
def test_wrong_frame_size_is_an_error(vad: WebRtcVad | SileroVad) -> None:
    with pytest.raises(VadError, match="frame of 638 bytes, expected 640"):
        vad.is_speech(bytes(638))


def _voiced_fractions(fixture: Fixture, vad: GatedVad) -> tuple[float, float]:
    inside = outside = inside_voiced = outside_voiced = 0
    for k, frame in enumerate(fixture.frames(20)):
        t = k * 20 + 10
        voiced = vad.is_speech(frame)
        # frames within 100 ms of a boundary are ambiguous (onset, VAD hangover): not scored
        if any(s + 100 <= t <= e - 100 for s, e in fixture.speech_spans):
            inside += 1
            inside_voiced += voiced
        elif all(t < s - 100 or t > e + 300 for s, e in fixture.speech_spans):
            outside += 1
            outside_voiced += voiced
    return inside_voiced / max(inside, 1), outside_voiced / max(outside, 1)


@pytest.mark.parametrize("accurate", [True, False], ids=["silero", "webrtc"])
@pytest.mark.parametrize("name", ["single", "pauses", "second_voice"])
def test_speech_is_voiced_and_silence_is_not(scenarios: dict[str, Fixture], name: str, accurate: bool) -> None:
    inside, outside = _voiced_fractions(scenarios[name], GatedVad(16000, 20, accurate=accurate))
    assert inside >= 0.75, inside
    assert outside <= 0.05, outside


def test_silero_rejects_noise_the_gate_lets_through(scenarios: dict[str, Fixture]) -> None:
    frames = scenarios["noise_only"].frames(20)
    accurate = GatedVad(16000, 20, accurate=True)
    assert sum(accurate.is_speech(f) for f in frames) <= 2
    probabilities = [SileroVad(16000, 20).probability(f) for f in frames[:10]]
    assert all(0.0 <= p <= 1.0 for p in probabilities)


def test_eight_kilohertz_works() -> None:
    rate = 8000
    t = np.arange(rate) / rate
    tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
    vad = GatedVad(rate, 20)
    n = rate * 20 // 1000 * 2
    assert not any(vad.is_speech(bytes(n)) for _ in range(10))
    for i in range(0, len(tone) - n + 1, n):
        vad.is_speech(tone[i : i + n])  # a pure tone: any answer, but no error at 8 kHz
