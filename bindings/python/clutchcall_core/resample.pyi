"""Stateful sample-rate conversion (speexdsp): one Resampler per stream.

PCM is interleaved little-endian int16. Frame-by-frame output equals whole-buffer output; the
output lags by ``output_latency`` frames, which ``flush()`` drains (at most
ceil(input_latency * out_rate / in_rate) + 2 frames, for every rate pair and quality).
Bad arguments raise TypeError (None, not an integer) or ValueError (out of range, unsupported),
naming the argument and what it accepts: "in_rate: 44100 Hz is not one of 8000, ...",
"channels: expected an integer in 1..2, got 3". Failures of a call: ValueError naming the reason ("resample: input_too_large").

Threads: a Resampler is safe to share. Each call takes the object's own lock with the GIL
released, so concurrent calls run one after another, each as if alone; the stream order is the
order the calls took the lock (order them yourself if it matters).
"""

from typing import Final

from clutchcall_core._buffer import ReadableBuffer

QUALITY_VOIP: Final[int]
RATES: Final[tuple[int, ...]]

class Resampler:
    def __init__(self, in_rate: int, out_rate: int, channels: int = 1, quality: int = 3) -> None: ...
    def process(self, pcm: ReadableBuffer) -> bytes: ...
    def flush(self) -> bytes: ...
    def reset(self) -> None: ...
    @property
    def in_rate(self) -> int: ...
    @property
    def out_rate(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def input_latency(self) -> int: ...
    @property
    def output_latency(self) -> int: ...
