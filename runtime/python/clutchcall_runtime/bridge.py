"""The AudioBridge's client side: attach to a call's sid and exchange audio frames in the shape you ask for.

    bridge = await attach(client, "CA12", codec="pcm16", sample_rate=16000)   # or client.bridge.attach(...)
    async for frame in bridge: ...            # the peer's audio, one frame per item, in your shape
    await bridge.send(frame)                  # your audio, one frame in your shape
    await bridge.release()                    # tears down both tracks

The shape travels as the track's capability tag (the IDL's `voice/{codec}`) with the AudioShape
fields the tag does not say appended as parameters, e.g. ``voice/pcm16;rate=16000;frame_ms=20``:

    tag     = capability(codec) *( ";" key "=" decimal )      key: rate | channels | frame_ms

A parameter left out takes the IDL's AudioShape default (read from the generated code), except
that G.711 is defined at 8000 Hz only, so a bare ``voice/g711_ulaw`` means 8000 Hz. The relay
transcodes between the shape a track is published in and the shape a subscriber asks for; no
media code runs in this process. Roles and track names come from the IDL's voice.bridge.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from clutchcall.bridges import VOICE_BRIDGE, capability
from clutchcall.enums import Codec
from clutchcall.messages import AudioShape

if TYPE_CHECKING:
    from .moqt.client import Client, Subscription, TrackWriter

_IDL_DEFAULT: Final = AudioShape()
_TAG_PREFIX: Final = VOICE_BRIDGE.capability.split("{codec}", 1)[0]  # "voice/"
CODECS: Final[dict[str, Codec]] = {capability(c).removeprefix(_TAG_PREFIX): c for c in Codec if c != Codec.UNSPECIFIED}
"""Codec name as it appears in capability tags -> the IDL's Codec."""
SAMPLE_RATES: Final = (8000, 16000, 24000, 48000)  # what the AudioShape doc allows; also Opus's and the resampler's
FRAME_MS: Final = (10, 20, 40, 60)
CHANNELS: Final = (1,)  # the bridge carries mono; the IDL's 2 is refused by name until a stereo leg exists
G711_RATE: Final = 8000
G711: Final = frozenset({"g711_ulaw", "g711_alaw"})
_PARAM_KEYS: Final = ("rate", "channels", "frame_ms")


class UnsupportedShape(ValueError):
    """An audio shape the bridge cannot carry; `field` names the offending part, `value` its value."""

    def __init__(self, field: str, value: object, accepted: str) -> None:
        super().__init__(f"unsupported audio shape: {field}={value!r} ({accepted})")
        self.field = field
        self.value = value


class FrameError(ValueError):
    """A frame that does not fit the bridge's shape (wrong size for the codec, or not bytes)."""


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """A validated AudioShape: codec name, sample rate, channels and frame duration."""

    codec: str
    sample_rate: int
    channels: int
    frame_ms: int

    @classmethod
    def of(
        cls,
        codec: str | Codec | int | None = None,
        sample_rate: int | None = None,
        channels: int | None = None,
        frame_ms: int | None = None,
    ) -> AudioFormat:
        """Fill what is None from the IDL defaults (G.711: 8000 Hz) and check the result; UnsupportedShape if not."""
        chosen: str | int = _IDL_DEFAULT.codec_or_default() if codec is None or codec == Codec.UNSPECIFIED else codec
        name = str(chosen)
        if isinstance(chosen, int):  # a Codec or its number
            if not Codec.is_known(int(chosen)):
                raise UnsupportedShape("codec", codec, f"one of {', '.join(CODECS)}")
            name = capability(Codec(int(chosen))).removeprefix(_TAG_PREFIX)
        if name not in CODECS:
            raise UnsupportedShape("codec", codec, f"one of {', '.join(CODECS)}")
        if sample_rate is None:
            sample_rate = G711_RATE if name in G711 else _IDL_DEFAULT.sample_rate_or_default()
        fmt = cls(
            name,
            sample_rate,
            _IDL_DEFAULT.channels_or_default() if channels is None else channels,
            _IDL_DEFAULT.frame_ms_or_default() if frame_ms is None else frame_ms,
        )
        fmt._check()
        return fmt

    @classmethod
    def from_shape(cls, shape: AudioShape) -> AudioFormat:
        return cls.of(shape.codec, shape.sample_rate, shape.channels, shape.frame_ms)

    def _check(self) -> None:
        for name, value, accepted in (
            ("sample_rate", self.sample_rate, SAMPLE_RATES),
            ("channels", self.channels, CHANNELS),
            ("frame_ms", self.frame_ms, FRAME_MS),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value not in accepted:
                raise UnsupportedShape(name, value, f"one of {', '.join(map(str, accepted))}")
        if self.codec in G711 and self.sample_rate != G711_RATE:
            raise UnsupportedShape("sample_rate", self.sample_rate, f"{self.codec} is {G711_RATE} Hz only")

    @property
    def samples_per_frame(self) -> int:
        return self.sample_rate * self.frame_ms // 1000 * self.channels

    @property
    def frame_bytes(self) -> int | None:
        """The exact size of one frame, or None for Opus (variable)."""
        if self.codec == "opus":
            return None
        return self.samples_per_frame * (2 if self.codec == "pcm16" else 1)

    @property
    def tag(self) -> str:
        """The capability tag: `voice/<codec>` plus every field that differs from its default."""
        base = AudioFormat.of(self.codec)
        params = [
            f"{key}={mine}"
            for key, mine, default in zip(
                _PARAM_KEYS,
                (self.sample_rate, self.channels, self.frame_ms),
                (base.sample_rate, base.channels, base.frame_ms),
                strict=True,
            )
            if mine != default
        ]
        return ";".join([capability(CODECS[self.codec]), *params])

    def as_core_shape(self) -> dict[str, str | int]:
        """The dict clutchcall_core.transcode takes."""
        return {
            "codec": self.codec,
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "frame_ms": self.frame_ms,
        }

    def check_frame(self, frame: object) -> bytes:
        """The frame as bytes if it fits this shape; FrameError naming the size otherwise (Opus: non-empty)."""
        if not isinstance(frame, bytes | bytearray | memoryview):
            raise FrameError(f"a frame must be bytes, got {type(frame).__name__}")
        data = bytes(frame)
        expected = self.frame_bytes
        if expected is not None and len(data) != expected:
            raise FrameError(f"{self.tag}: a frame is {expected} bytes, got {len(data)}")
        if expected is None and not data:
            raise FrameError(f"{self.tag}: an empty Opus frame")
        return data


def parse_tag(tag: str | None) -> AudioFormat | None:
    """The shape a capability tag states; UnsupportedShape if it is a bad one.

    None for a tag that states no shape: not under `voice/`, or an unknown codec name with no
    parameters (such tags keep the relay's exact-match routing and are never transcoded).
    """
    if tag is None or not tag.startswith(_TAG_PREFIX):
        return None
    codec, *params = tag.removeprefix(_TAG_PREFIX).split(";")
    if codec not in CODECS and not params:
        return None  # an opaque tag (e.g. "voice/pcmu"): routed by exact match, never transcoded
    values: dict[str, int] = {}
    for param in params:
        key, sep, text = param.partition("=")
        if not sep or key not in _PARAM_KEYS:
            raise UnsupportedShape("parameter", param, f"key=value with key one of {', '.join(_PARAM_KEYS)}")
        if key in values:
            raise UnsupportedShape(key, text, "given once")
        if not text.isascii() or not text.isdigit() or len(text) > 6:
            raise UnsupportedShape(key, text, "a decimal integer")
        values[key] = int(text)
    return AudioFormat.of(codec, values.get("rate"), values.get("channels"), values.get("frame_ms"))


def _namespace(sid: str) -> list[str]:
    return VOICE_BRIDGE.namespace_for(sid).split("/")


class Bridge:
    """One attached bridge: the subscription (peer's audio) and the publication (yours), in one shape."""

    def __init__(self, fmt: AudioFormat, role: str, incoming: Subscription, outgoing: TrackWriter) -> None:
        self.format = fmt
        self.role = role
        self._incoming = incoming
        self._outgoing = outgoing
        self.rejected = 0  # frames refused by send() (wrong size or type)
        self._released = False

    @property
    def dropped(self) -> int:
        """Frames dropped because this side read too slowly (the receive queue is bounded)."""
        return self._incoming.overflow

    def __aiter__(self) -> Bridge:
        return self

    async def __anext__(self) -> bytes:
        return (await self._incoming.__anext__()).payload

    async def send(self, frame: bytes | bytearray | memoryview) -> None:
        """Send one frame in this bridge's shape; FrameError (counted in `rejected`) if it does not fit."""
        if self._released:
            raise RuntimeError("the bridge is released")
        try:
            data = self.format.check_frame(frame)
        except FrameError:
            self.rejected += 1
            raise
        self._outgoing.write(data)

    async def release(self) -> None:
        """Tear down both tracks: UNSUBSCRIBE the peer's, PUBLISH_DONE ours. Idempotent."""
        if self._released:
            return
        self._released = True
        self._incoming.unsubscribe()
        self._outgoing.close()
        await asyncio.sleep(0)

    async def __aenter__(self) -> Bridge:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()


async def attach(
    client: Client,
    sid: str,
    *,
    role: str = "attach",
    codec: str | Codec | int | None = None,
    sample_rate: int | None = None,
    channels: int | None = None,
    frame_ms: int | None = None,
    max_buffered_frames: int = 50,
) -> Bridge:
    """Attach to call `sid` in `role` (the IDL's voice.bridge roles: "attach" or "attach_caller").

    The shape is checked here first (UnsupportedShape); the relay checks it again and transcodes.
    At most `max_buffered_frames` received frames wait for you (50 = 1 s of 20 ms frames); older
    ones are dropped and counted in `bridge.dropped`.
    """
    fmt = AudioFormat.of(codec, sample_rate, channels, frame_ms)
    try:
        bridge_role = VOICE_BRIDGE.role(role)
    except KeyError:
        raise ValueError(f"role {role!r} is not one of {', '.join(r.name for r in VOICE_BRIDGE.roles)}") from None
    if not sid or "/" in sid:
        raise ValueError(f"sid {sid!r} must be a non-empty call id without '/'")
    if max_buffered_frames < 1:
        raise ValueError(f"max_buffered_frames must be at least 1, got {max_buffered_frames}")
    sub_track, pub_track = _only(bridge_role.subscribe, "subscribe"), _only(bridge_role.publish, "publish")
    ns = _namespace(sid)
    outgoing = await client.publish(ns, pub_track, capability=fmt.tag)
    try:
        incoming = await client.subscribe(ns, sub_track, capability=fmt.tag, depth=max_buffered_frames)
    except BaseException:
        outgoing.close()
        raise
    return Bridge(fmt, role, incoming, outgoing)


def _only(tracks: Sequence[str], what: str) -> str:
    if len(tracks) != 1:
        raise ValueError(f"a bridge role must {what} exactly one track, the IDL's has {len(tracks)}")
    return tracks[0]


class BridgeApi:
    """`client.bridge`: the AudioBridge on a connected MoQT client."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def attach(
        self,
        sid: str,
        *,
        role: str = "attach",
        codec: str | Codec | None = None,
        sample_rate: int | None = None,
        channels: int | None = None,
        frame_ms: int | None = None,
        max_buffered_frames: int = 50,
    ) -> Bridge:
        return await attach(
            self._client,
            sid,
            role=role,
            codec=codec,
            sample_rate=sample_rate,
            channels=channels,
            frame_ms=frame_ms,
            max_buffered_frames=max_buffered_frames,
        )


__all__ = [
    "CODECS",
    "AudioFormat",
    "Bridge",
    "BridgeApi",
    "FrameError",
    "UnsupportedShape",
    "attach",
    "parse_tag",
]
