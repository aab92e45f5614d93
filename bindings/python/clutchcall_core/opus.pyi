"""Opus encode/decode (libopus) with per-session state. PCM is interleaved little-endian int16.
Bad arguments raise TypeError (None, not an integer) or ValueError (out of range, unsupported),
naming the argument and what it accepts: "in_rate: 44100 Hz is not one of 8000, ...",
"channels: expected an integer in 1..2, got 3". Failures of a call: ValueError naming the reason ("opus: invalid_packet", ...).

Threads: Encoder and Decoder are safe to share. Each call takes the object's own lock with the
GIL released (other Python threads run meanwhile); concurrent calls on one object run one after
another, each as if alone, in the order they took the lock.
"""

from typing import Final

from clutchcall_core._buffer import ReadableBuffer

MAX_PACKET: Final[int]
BITRATE_AUTO: Final[int]
BITRATE_MAX: Final[int]

class Encoder:
    def __init__(
        self,
        rate: int,
        channels: int = 1,
        frame_ms: int = 20,
        *,
        bitrate: int | None = None,
        complexity: int | None = None,
        fec: bool | None = None,
        packet_loss_pct: int | None = None,
        dtx: bool | None = None,
    ) -> None: ...
    def encode(self, pcm: ReadableBuffer) -> bytes:
        """Exactly one frame (frame_frames * channels samples) -> one packet."""

    def reset(self) -> None: ...
    @property
    def frame_frames(self) -> int: ...
    @property
    def rate(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def lookahead(self) -> int: ...

class Decoder:
    def __init__(self, rate: int, channels: int = 1) -> None: ...
    def decode(self, packet: ReadableBuffer) -> bytes: ...
    def decode_lost(self, frames: int) -> bytes:
        """Conceal `frames` lost frames (a multiple of 2.5 ms)."""

    def reset(self) -> None: ...
    @property
    def rate(self) -> int: ...
    @property
    def channels(self) -> int: ...

def packet_frames(packet: ReadableBuffer, rate: int) -> int:
    """Duration of a packet in frames at `rate`, without decoding."""
