"""RTP (RFC 3550) header parse and build. Errors: ValueError naming the reason ("rtp: truncated",
"rtp: bad_version", "rtp: truncated_csrc", "rtp: truncated_extension", "rtp: bad_padding", ...).

Threads: stateless (every call works on its arguments only): safe from any number of threads."""

from collections.abc import Sequence

from clutchcall_core._buffer import ReadableBuffer

class Packet:
    """A parsed packet (values and bytes copies)."""

    @property
    def marker(self) -> bool: ...
    @property
    def payload_type(self) -> int: ...
    @property
    def sequence(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def ssrc(self) -> int: ...
    @property
    def csrc(self) -> list[int]: ...
    @property
    def extension_profile(self) -> int | None: ...
    @property
    def extension(self) -> bytes: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def padding_len(self) -> int: ...
    @property
    def header_len(self) -> int: ...

def parse(data: ReadableBuffer) -> Packet: ...
def build(
    payload: ReadableBuffer,
    *,
    payload_type: int,
    sequence: int,
    timestamp: int,
    ssrc: int,
    marker: bool = False,
    csrc: Sequence[int] = ...,
    extension_profile: int | None = None,
    extension: ReadableBuffer = ...,
    padding_len: int = 0,
) -> bytes: ...
