"""Audio shapes and their capability tags: defaults from the generated IDL, round trips, refusals by name."""

from __future__ import annotations

import pytest
from clutchcall.bridges import VOICE_BRIDGE, capability
from clutchcall.enums import Codec
from clutchcall.messages import AudioShape
from clutchcall_runtime.bridge import CODECS, AudioFormat, FrameError, UnsupportedShape, parse_tag
from hypothesis import given
from hypothesis import strategies as st

RATES = (8000, 16000, 24000, 48000)


def test_defaults_are_the_idls() -> None:
    idl = AudioShape()
    fmt = AudioFormat.of()
    assert (fmt.sample_rate, fmt.channels, fmt.frame_ms) == (
        idl.sample_rate_or_default(),
        idl.channels_or_default(),
        idl.frame_ms_or_default(),
    )
    assert CODECS[fmt.codec] == idl.codec_or_default()
    assert fmt.tag == capability(idl.codec_or_default())  # the IDL's template, no parameters
    assert AudioFormat.of("g711_alaw").sample_rate == 8000  # G.711's only rate
    assert AudioFormat.from_shape(AudioShape(codec=Codec.PCM16, sample_rate=16000)) == AudioFormat.of("pcm16", 16000)
    assert AudioFormat.of(Codec.G711_ULAW) == AudioFormat.of("g711_ulaw") == AudioFormat.of(3)


def test_tags_use_the_idl_template() -> None:
    assert VOICE_BRIDGE.capability.replace("{codec}", "pcm16") + ";rate=16000" == AudioFormat.of("pcm16", 16000).tag
    assert AudioFormat.of("opus", 48000, frame_ms=60).tag == "voice/opus;frame_ms=60"
    assert AudioFormat.of("g711_ulaw").tag == "voice/g711_ulaw"


valid_shapes = st.one_of(
    st.builds(
        AudioFormat.of,
        st.sampled_from(["g711_ulaw", "g711_alaw"]),
        st.just(8000),
        st.just(1),
        st.sampled_from([10, 20, 40, 60]),
    ),
    st.builds(
        AudioFormat.of,
        st.sampled_from(["pcm16", "opus"]),
        st.sampled_from(RATES),
        st.just(1),
        st.sampled_from([10, 20, 40, 60]),
    ),
)


@given(valid_shapes)
def test_tag_round_trips(fmt: AudioFormat) -> None:
    assert parse_tag(fmt.tag) == fmt


@given(valid_shapes, st.permutations(["rate", "channels", "frame_ms"]))
def test_explicit_parameters_in_any_order_mean_the_same(fmt: AudioFormat, order: list[str]) -> None:
    values = {"rate": fmt.sample_rate, "channels": fmt.channels, "frame_ms": fmt.frame_ms}
    tag = ";".join([capability(CODECS[fmt.codec]), *(f"{k}={values[k]}" for k in order)])
    assert parse_tag(tag) == fmt


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"codec": "mp3"}, "codec"),
        ({"codec": 99}, "codec"),
        ({"codec": "pcm16", "sample_rate": 44100}, "sample_rate"),
        ({"codec": "g711_ulaw", "sample_rate": 16000}, "sample_rate"),
        ({"codec": "opus", "channels": 2}, "channels"),
        ({"codec": "opus", "channels": 0}, "channels"),
        ({"codec": "pcm16", "frame_ms": 30}, "frame_ms"),
        ({"codec": "pcm16", "frame_ms": True}, "frame_ms"),
    ],
)
def test_unsupported_shapes_are_named(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(UnsupportedShape) as err:
        AudioFormat.of(**kwargs)  # type: ignore[arg-type]
    assert err.value.field == field and field in str(err.value)


@pytest.mark.parametrize(
    ("tag", "field"),
    [
        ("voice/pcm16;rate=44100", "sample_rate"),
        ("voice/pcm16;rate=16000;rate=8000", "rate"),
        ("voice/pcm16;rate=", "rate"),
        ("voice/pcm16;rate=-8000", "rate"),
        ("voice/pcm16;rate=1e4", "rate"),
        ("voice/pcm16;rate=99999999999999999999", "rate"),
        ("voice/pcm16;bitrate=32000", "parameter"),
        ("voice/pcm16;rate", "parameter"),
        ("voice/mp3;rate=8000", "codec"),
        ("voice/g711_alaw;rate=48000", "sample_rate"),
    ],
)
def test_bad_tags_are_named(tag: str, field: str) -> None:
    with pytest.raises(UnsupportedShape) as err:
        parse_tag(tag)
    assert err.value.field == field


@pytest.mark.parametrize("tag", [None, "video/h264", "voice/pcmu", "voice"])
def test_tags_that_state_no_shape(tag: str | None) -> None:
    assert parse_tag(tag) is None


@given(st.text(max_size=40))
def test_any_tag_parses_or_is_refused_by_name(tag: str) -> None:
    try:
        parse_tag("voice/" + tag)
    except UnsupportedShape as exc:
        assert exc.field


def test_frame_sizes() -> None:
    assert AudioFormat.of("pcm16", 16000).frame_bytes == 640
    assert AudioFormat.of("g711_ulaw", frame_ms=10).frame_bytes == 80
    assert AudioFormat.of("opus").frame_bytes is None
    fmt = AudioFormat.of("pcm16", 8000)
    assert fmt.check_frame(bytearray(320)) == bytes(320)
    for bad in (b"\x00" * 319, b"", "text", None):
        with pytest.raises(FrameError):
            fmt.check_frame(bad)
    with pytest.raises(FrameError):
        AudioFormat.of("opus").check_frame(b"")
