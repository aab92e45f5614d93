"""Out-of-range integers, None and non-integers for every constructor argument and shape key of the
pybind11 module: each raises TypeError or ValueError naming the argument and what it accepts, never
pybind11's "Unable to cast Python instance ..." or "incompatible function arguments"."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

BAD = [None, -1, 2**32, 2**64, -(2**63) - 1, "7", 1.5]
NOT_INT = [None, "7", 1.5]  # for optional arguments None means "the default": not bad
PORT_LO, PORT_HI = 22000, 22999

PCM8K = {"codec": "pcm16", "sample_rate": 8000, "channels": 1, "frame_ms": 20}
OPUS48 = {"codec": "opus", "sample_rate": 48000, "channels": 1, "frame_ms": 20}


def expect_named(fn: Callable[..., Any], name: str, value: Any, *args: Any, **kwargs: Any) -> None:
    """fn(*args, **kwargs) must fail naming `name` (the argument given `value`)."""
    with pytest.raises((TypeError, ValueError)) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    assert name in msg, f"{name}={value!r}: {msg}"
    assert "Unable to cast" not in msg and "incompatible" not in msg, msg
    if value is None or not isinstance(value, int):
        assert "expected" in msg or value == "mp3", msg  # says what it accepts (or lists the codec names)


def cases(core: ModuleType) -> list[tuple[str, Callable[..., Any], dict[str, Any], list[str], list[str]]]:
    """(label, constructor, valid kwargs, required int args, optional int args)."""
    return [
        ("Resampler", core.resample.Resampler, {"in_rate": 8000, "out_rate": 16000, "channels": 1, "quality": 3},
         ["in_rate", "out_rate", "channels", "quality"], []),
        ("Encoder", core.opus.Encoder, {"rate": 48000, "channels": 1, "frame_ms": 20},
         ["rate", "channels", "frame_ms"], ["bitrate", "complexity", "packet_loss_pct"]),
        ("Decoder", core.opus.Decoder, {"rate": 48000, "channels": 1}, ["rate", "channels"], []),
        ("Transcoder", core.transcode.Transcoder, {"input": PCM8K, "output": OPUS48}, [],
         ["bitrate", "complexity", "packet_loss_pct"]),
        ("Leg", core.relay.Leg, {"local": ("127.0.0.1", 42000), "sample_rate": 8000, "channels": 1, "frame_ms": 20,
                                 "payload_type": 0},
         ["sample_rate", "channels", "frame_ms", "payload_type"], []),
        ("Engine", core.relay.Engine, {"backend": "recvmmsg", "port_lo": PORT_LO, "port_hi": PORT_HI, "shards": 1,
                                       "pin": False, "max_calls": 16, "handoff_depth": 64, "xsk_rx_frames": 0,
                                       "xsk_tx_frames": 0},
         ["port_lo", "port_hi", "shards", "max_calls", "handoff_depth", "xsk_rx_frames", "xsk_tx_frames"], []),
    ]  # fmt: skip


def test_every_constructor_argument(core: ModuleType) -> None:
    for label, ctor, valid, required, optional in cases(core):
        ctor(**valid)  # the baseline is accepted
        for arg in required:
            for value in BAD:
                expect_named(ctor, arg, value, **{**valid, arg: value})
        for arg in optional:
            for value in BAD:
                if value is None or (arg == "bitrate" and value == -1):  # None: default; -1: BITRATE_MAX
                    continue
                expect_named(ctor, arg, value, **{**valid, arg: value})
        assert required or optional, label


def test_opus_booleans(core: ModuleType) -> None:
    for ctor, valid in (
        (core.opus.Encoder, {"rate": 48000}),
        (core.transcode.Transcoder, {"input": PCM8K, "output": OPUS48}),
    ):
        for arg in ("fec", "dtx"):
            for value in (2, "yes", 1.0):
                expect_named(ctor, arg, value, **{**valid, arg: value})


def test_every_shape_key(core: ModuleType) -> None:
    for side in ("input", "output"):
        for key in ("codec", "sample_rate", "channels", "frame_ms"):
            for value in BAD:
                if value == "7" and key == "codec":
                    value = "mp3"  # a string codec is a name: unknown names are named too
                shapes = {"input": dict(PCM8K), "output": dict(OPUS48)}
                shapes[side][key] = value
                expect_named(core.transcode.Transcoder, f"{side}['{key}']", value, **shapes)
    for side in ("input", "output"):
        expect_named(core.transcode.Transcoder, side, None, **{"input": PCM8K, "output": OPUS48, side: None})
    # In range but not supported: still named.
    expect_named(core.transcode.Transcoder, "input['sample_rate']", 1, {**PCM8K, "sample_rate": 44100}, OPUS48)
    expect_named(core.transcode.Transcoder, "output['frame_ms']", 1, PCM8K, {**OPUS48, "frame_ms": 30})


JITTER_KEYS = [
    "capacity", "max_payload", "clock_rate", "frame_ms", "min_depth", "max_depth", "initial_depth",
    "reset_threshold", "decrease_hold_ticks", "shrink_window_ticks", "target_quantile_permille",
]  # fmt: skip


def test_every_jitter_setting(core: ModuleType) -> None:
    for key in JITTER_KEYS:
        for value in [*BAD, 0]:
            expect_named(core.jitter.JitterBuffer, key, value, **{key: value})


def test_method_integers(core: ModuleType) -> None:
    jb = core.jitter.JitterBuffer()
    good = {"sequence": 1, "timestamp": 160, "ssrc": 7, "payload": b"x", "arrival_us": 0}
    for arg in ("sequence", "timestamp", "ssrc", "arrival_us"):
        for value in BAD:
            if arg == "arrival_us" and value in (-1, 2**32):
                continue  # any int64 is an arrival time
            expect_named(jb.insert, arg, value, **{**good, arg: value})
    rtp = {"payload_type": 0, "sequence": 1, "timestamp": 160, "ssrc": 7, "padding_len": 0}
    for arg in rtp:
        for value in BAD:
            expect_named(core.rtp.build, arg, value, b"x", **{**rtp, arg: value})
    for value in [-1, 2**32, "7", None]:
        expect_named(core.rtp.build, "csrc[1]", value, b"x", **rtp, csrc=[1, value])
    for value in [-1, 2**16, "7"]:
        expect_named(core.rtp.build, "extension_profile", value, b"x", **rtp, extension_profile=value)
    dec = core.opus.Decoder(48000)
    for value in BAD:
        expect_named(dec.decode_lost, "frames", value, value)
        expect_named(core.opus.packet_frames, "rate", value, b"\x08", value)
    with core.relay.Engine(backend="recvmmsg", port_lo=PORT_LO, port_hi=PORT_HI, shards=1, pin=False) as engine:
        for value in [None, -1, 2**64, "7"]:
            expect_named(engine.call_stats, "id", value, value)
            expect_named(engine.remove_call, "id", value, value)
        for value in BAD:
            expect_named(core.relay.Leg, "local port", value, local=("127.0.0.1", value))
        expect_named(core.relay.Engine, "cpus[1]", None, backend="recvmmsg", cpus=[0, None], pin=True)
