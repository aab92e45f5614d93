"""Resampler, Opus and transcoder through the pybind11 module and through the C ABI (cffi): the
same inputs give the same bytes; errors name their reason; a 1 kHz tone survives the
mu-law 8 kHz -> Opus 48 kHz -> mu-law 8 kHz round trip with its frequency and level."""

from __future__ import annotations

import math
import struct
from types import ModuleType

import pytest


def tone(freq: float, rate: int, frames: int, amplitude: float = 8000.0, channels: int = 1) -> bytes:
    out = []
    for i in range(frames):
        v = round(amplitude * math.sin(2 * math.pi * freq * i / rate))
        out.extend([v] * channels)
    return struct.pack(f"<{len(out)}h", *out)


def samples(pcm: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(pcm) // 2}h", pcm))


def need(core: ModuleType, component: str) -> None:
    if component not in core.components:
        pytest.skip(f"component {component} not built")


@pytest.mark.parametrize(("in_rate", "out_rate", "channels"), [(8000, 48000, 1), (48000, 16000, 2), (16000, 24000, 1)])
def test_resampler_pybind11_equals_cffi(
    core: ModuleType, ffi: ModuleType, in_rate: int, out_rate: int, channels: int
) -> None:
    need(core, "resample")
    pcm = tone(440, in_rate, in_rate // 5, channels=channels)  # 200 ms
    frame = 2 * channels * in_rate // 50  # 20 ms
    a = core.resample.Resampler(in_rate, out_rate, channels)
    b = ffi.Resampler(in_rate, out_rate, channels)
    out_a = b"".join(a.process(pcm[i : i + frame]) for i in range(0, len(pcm), frame)) + a.flush()
    out_b = b"".join(b.process(pcm[i : i + frame]) for i in range(0, len(pcm), frame)) + b.flush()
    assert out_a == out_b
    whole = core.resample.Resampler(in_rate, out_rate, channels)
    assert whole.process(pcm) + whole.flush() == out_a  # frame-by-frame == whole buffer
    expected = len(pcm) // (2 * channels) * out_rate // in_rate
    assert abs(len(out_a) // (2 * channels) - expected) <= 2 + whole.output_latency


def test_resampler_errors(core: ModuleType, ffi: ModuleType) -> None:
    need(core, "resample")
    with pytest.raises(ValueError, match="in_rate: 44100 Hz is not one of 8000, 12000, 16000, 24000, 48000"):
        core.resample.Resampler(44100, 8000)
    with pytest.raises(ffi.FfiError, match="bad_rate"):
        ffi.Resampler(44100, 8000)
    with pytest.raises(ValueError, match=r"channels: expected an integer in 1\.\.2, got 3"):
        core.resample.Resampler(8000, 16000, 3)
    with pytest.raises(ffi.FfiError, match="bad_channels"):
        ffi.Resampler(8000, 16000, 3)
    r = core.resample.Resampler(8000, 16000, 2)
    with pytest.raises(ValueError, match="whole number of 2-channel frames"):
        r.process(b"\x00\x00")


def test_opus_pybind11_equals_cffi(core: ModuleType, ffi: ModuleType) -> None:
    need(core, "opus")
    enc_a, enc_b = core.opus.Encoder(48000, 1, 20), ffi.OpusEncoder(48000, 1, 20)
    dec_a, dec_b = core.opus.Decoder(48000, 1), ffi.OpusDecoder(48000, 1)
    assert enc_a.frame_frames == enc_b.frame_frames == 960
    pcm = tone(1000, 48000, 960 * 10)
    for i in range(10):
        frame = pcm[i * 1920 : (i + 1) * 1920]
        pa, pb = enc_a.encode(frame), enc_b.encode(frame)
        assert pa == pb and 0 < len(pa) <= core.opus.MAX_PACKET
        assert core.opus.packet_frames(pa, 48000) == ffi.opus_packet_frames(pb, 48000) == 960
        da, db = dec_a.decode(pa), dec_b.decode(pb)
        assert da == db and len(da) == 1920
    assert dec_a.decode_lost(480) == dec_b.decode_lost(480)


def test_opus_errors(core: ModuleType, ffi: ModuleType) -> None:
    need(core, "opus")
    with pytest.raises(ValueError, match="frame_ms: 25 is not one of 10, 20, 40, 60"):
        core.opus.Encoder(48000, 1, 25)
    with pytest.raises(ffi.FfiError, match="bad_frame"):
        ffi.OpusEncoder(48000, 1, 25)
    with pytest.raises(ValueError, match="one frame is 960"):
        core.opus.Encoder(48000).encode(b"\x00\x00" * 10)
    bad = bytes([0xFF, 0xFF, 0xFF])  # code-3 packet with an impossible frame count
    with pytest.raises(ValueError, match="opus: invalid_packet"):
        core.opus.Decoder(48000).decode(bad)
    with pytest.raises(ffi.FfiError, match="invalid_packet"):
        ffi.OpusDecoder(48000).decode(bad)
    with pytest.raises(ValueError, match="opus: empty_packet"):
        core.opus.Decoder(48000).decode(b"")
    with pytest.raises(ffi.FfiError, match="empty_packet"):
        ffi.OpusDecoder(48000).decode(b"")


ULAW = {"codec": "g711_ulaw", "sample_rate": 8000, "channels": 1, "frame_ms": 20}
OPUS48 = {"codec": "opus", "sample_rate": 48000, "channels": 1, "frame_ms": 20}


def dominant_frequency(x: list[int], rate: int) -> float:
    """Frequency from the count of rising zero crossings (a clean tone)."""
    crossings = [i for i in range(1, len(x)) if x[i - 1] < 0 <= x[i]]
    return (len(crossings) - 1) * rate / (crossings[-1] - crossings[0])


def rms(x: list[int]) -> float:
    return math.sqrt(sum(v * v for v in x) / len(x))


def test_transcoder_round_trip_tone_and_cffi_agreement(core: ModuleType, ffi: ModuleType) -> None:
    need(core, "transcode")
    g = core.g711
    pcm = tone(1000, 8000, 8000)  # 1 s at 8 kHz
    frames = [g.ulaw_encode(pcm[i : i + 320]) for i in range(0, len(pcm), 320)]
    to_opus_a, to_opus_b = core.transcode.Transcoder(ULAW, OPUS48), ffi.Transcoder(ULAW, OPUS48)
    back_a, back_b = core.transcode.Transcoder(OPUS48, ULAW), ffi.Transcoder(OPUS48, ULAW)
    assert not to_opus_a.passthrough and not to_opus_b.passthrough
    assert to_opus_a.output == OPUS48
    decoded = []
    for f in frames:
        pa, pb = to_opus_a.process(f), to_opus_b.process(f)
        assert pa == pb
        for packet in pa:
            ua, ub = back_a.process(packet), back_b.process(packet)
            assert ua == ub and all(len(u) == 160 for u in ua)
            decoded += ua
    assert len(decoded) >= 45
    out = samples(g.ulaw_decode(b"".join(decoded[10:])))  # skip the codec/filter start-up
    assert dominant_frequency(out, 8000) == pytest.approx(1000, rel=0.01)
    ref = samples(g.ulaw_decode(b"".join(frames)))
    level_db = 20 * math.log10(rms(out) / rms(ref))
    assert abs(level_db) < 1.5, f"level changed by {level_db:.2f} dB"


def test_transcoder_errors(core: ModuleType, ffi: ModuleType) -> None:
    need(core, "transcode")
    with pytest.raises(ValueError, match=r"input: G\.711 is 8000 Hz mono only"):
        core.transcode.Transcoder({**ULAW, "sample_rate": 16000}, OPUS48)
    with pytest.raises(ffi.FfiError, match="bad_shape"):
        ffi.Transcoder({**ULAW, "sample_rate": 16000}, OPUS48)
    with pytest.raises(ValueError, match="unknown codec 'mp3'"):
        core.transcode.Transcoder({"codec": "mp3"}, OPUS48)
    t = core.transcode.Transcoder(ULAW, OPUS48)
    with pytest.raises(ValueError, match="transcode: input_size"):
        t.process(b"\xff" * 100)
    with pytest.raises(ffi.FfiError, match="input_size"):
        ffi.Transcoder(ULAW, OPUS48).process(b"\xff" * 100)
    passthrough = core.transcode.Transcoder(ULAW, ULAW)
    assert passthrough.passthrough and passthrough.process(b"\x7f" * 160) == [b"\x7f" * 160]
