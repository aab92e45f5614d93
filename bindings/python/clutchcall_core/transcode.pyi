"""Frame-by-frame transcoding between two IDL AudioShapes (one Transcoder per call direction).

A shape is a dict: codec ('opus', 'pcm16', 'g711_ulaw', 'g711_alaw' or the IDL number),
sample_rate, channels, frame_ms; missing keys take the IDL defaults (opus, 48000, 1, 20).
Each call returns the output frames it completed (possibly none). A bad shape value is named by
its key ("input['sample_rate']: expected an integer in 0..48000, got -1"); encoder settings as in
opus. Failures of a call: ValueError naming the reason ("transcode: input_size", ...).

Threads: a Transcoder is safe to share. Each call takes the object's own lock with the GIL
released and copies its output out under it; concurrent calls run one after another, each as if
alone, in the order they took the lock.
"""

from typing import TypedDict

from clutchcall_core._buffer import ReadableBuffer

class Shape(TypedDict, total=False):
    codec: str | int
    sample_rate: int
    channels: int
    frame_ms: int

class NormalizedShape(TypedDict):
    codec: str
    sample_rate: int
    channels: int
    frame_ms: int

class Transcoder:
    def __init__(
        self,
        input: Shape,
        output: Shape,
        *,
        bitrate: int | None = None,
        complexity: int | None = None,
        fec: bool | None = None,
        packet_loss_pct: int | None = None,
        dtx: bool | None = None,
    ) -> None: ...
    def process(self, data: ReadableBuffer) -> list[bytes]: ...
    def process_lost(self, next_packet: ReadableBuffer | None = None) -> list[bytes]: ...
    def flush(self) -> list[bytes]: ...
    @property
    def passthrough(self) -> bool: ...
    @property
    def input(self) -> NormalizedShape: ...
    @property
    def output(self) -> NormalizedShape: ...
