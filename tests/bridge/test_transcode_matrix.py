"""Every direction among opus, pcm16, g711_ulaw and g711_alaw at 8/16/24/48 kHz through one stage.

Sample-exact where the path is lossless (G.711 <-> pcm16 at 8 kHz, mu-law <-> A-law, PCM re-framing),
and by level and dominant frequency of a 1 kHz sine (numpy FFT) where it is not.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from bridge_support import SHAPES, Codecs, dominant_hz, driven_stage, rms_dbfs, shape_id, sine, unclocked_relay
from clutchcall_runtime.bridge import AudioFormat

PAIRS = [(a, b) for a, b in itertools.product(SHAPES, SHAPES) if a != b]


@pytest.mark.parametrize(("src", "dst"), PAIRS, ids=[f"{shape_id(a)}->{shape_id(b)}" for a, b in PAIRS])
def test_sine_keeps_level_and_frequency(core: ModuleType, tmp_path: Path, src: AudioFormat, dst: AudioFormat) -> None:
    codecs = Codecs(core)
    frames = codecs.encode(src, sine(src.sample_rate, 1.0))
    driven = driven_stage(unclocked_relay(core, tmp_path), src, dst)
    for i, frame in enumerate(frames):
        driven.feed(frame, i)
        driven.tick()
    out = driven.out
    # one frame out per frame in (same frame_ms); the jitter buffer's first tick only fills
    assert len(frames) - 2 <= len(out) <= len(frames)
    assert driven.counter("clutchcall_bridge_concealed_total", cause="loss") == 0
    pcm = codecs.decode(dst, out)
    assert len(pcm) == len(out) * dst.samples_per_frame
    steady = pcm[len(pcm) // 2 :]  # past codec and resampler start-up
    expected_level = rms_dbfs(sine(8000, 1.0))
    assert abs(rms_dbfs(steady) - expected_level) < 1.5, (rms_dbfs(steady), expected_level)
    bin_hz = dst.sample_rate / len(steady)
    assert abs(dominant_hz(steady, dst.sample_rate) - 1000.0) <= 2 * bin_hz


LOSSLESS = [
    ("g711_ulaw", "pcm16"),
    ("g711_alaw", "pcm16"),
    ("pcm16", "g711_ulaw"),
    ("pcm16", "g711_alaw"),
    ("g711_ulaw", "g711_alaw"),
    ("g711_alaw", "g711_ulaw"),
]


@pytest.mark.parametrize(("src_codec", "dst_codec"), LOSSLESS)
def test_g711_paths_at_8k_are_sample_exact(core: ModuleType, tmp_path: Path, src_codec: str, dst_codec: str) -> None:
    """What the stage emits equals the core's own G.711 conversion of the same input, frame by frame."""
    src, dst = AudioFormat.of(src_codec, 8000), AudioFormat.of(dst_codec, 8000)
    rng = np.random.default_rng(7)
    if src_codec == "pcm16":
        frames = [rng.integers(-32768, 32767, 160, dtype=np.int16).astype("<i2").tobytes() for _ in range(40)]
    else:
        frames = [rng.integers(0, 256, 160, dtype=np.uint8).tobytes() for _ in range(40)]
    g711 = core.g711
    convert = {
        ("g711_ulaw", "pcm16"): g711.ulaw_decode,
        ("g711_alaw", "pcm16"): g711.alaw_decode,
        ("pcm16", "g711_ulaw"): g711.ulaw_encode,
        ("pcm16", "g711_alaw"): g711.alaw_encode,
        ("g711_ulaw", "g711_alaw"): g711.ulaw_to_alaw,
        ("g711_alaw", "g711_ulaw"): g711.alaw_to_ulaw,
    }[(src_codec, dst_codec)]
    driven = driven_stage(unclocked_relay(core, tmp_path), src, dst)
    for i, frame in enumerate(frames):
        driven.feed(frame, i)
        driven.tick()
    driven.tick()  # the jitter buffer holds one frame: its playout slot
    assert driven.out == [convert(f) for f in frames]


def test_pcm_reframing_is_sample_exact(core: ModuleType, tmp_path: Path) -> None:
    """10 ms frames in, 20 ms frames out (and back): the same samples, regrouped."""
    pcm = sine(16000, 0.4)
    src, dst = AudioFormat.of("pcm16", 16000, frame_ms=10), AudioFormat.of("pcm16", 16000, frame_ms=20)
    frames = Codecs(core).encode(src, pcm)
    driven = driven_stage(unclocked_relay(core, tmp_path), src, dst)
    for i, frame in enumerate(frames):
        driven.feed(frame, i)
        driven.tick()
    driven.tick()
    assert all(len(f) == dst.frame_bytes for f in driven.out)
    assert b"".join(driven.out) == pcm.tobytes()


def test_stages_per_leg_share_no_state(core: ModuleType, tmp_path: Path) -> None:
    """Two calls with the same shapes get two stages; a loss on one conceals only there."""
    relay = unclocked_relay(core, tmp_path)
    src, dst = AudioFormat.of("g711_ulaw"), AudioFormat.of("pcm16", 16000)
    a, b = driven_stage(relay, src, dst, sid="CA1"), driven_stage(relay, src, dst, sid="CA2")
    assert a.stage is not b.stage and a.stage.transcoder is not b.stage.transcoder
    assert a.stage.jitter is not b.stage.jitter
    frames = Codecs(core).encode(src, sine(8000, 0.4))
    for i, frame in enumerate(frames):
        if i != 8:
            a.feed(frame, i)
        b.feed(frame, i)
        a.tick()
        b.tick()
    assert a.counter("clutchcall_bridge_concealed_total", cause="loss") == 1
    ref = driven_stage(unclocked_relay(core, tmp_path / "ref"), src, dst)
    for i, frame in enumerate(frames):
        ref.feed(frame, i)
        ref.tick()
    assert b.out == ref.out  # call B is exactly what it would be alone
