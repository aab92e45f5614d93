"""Adaptive jitter buffer for one RTP stream: insert() on each arrival, tick() once per frame
period (frame_ms). Each tick gives a Frame of kind 'frame' (payload in sequence order), 'loss'
(run PLC; that sequence number is consumed) or 'wait' (buffering).

Settings are keywords, each checked by name with its range ("capacity: 100 is not a power of two
in 16..32768"). Memory: 24 bytes per slot at construction, and capacity x max_payload bytes of
payload space reserved (up to 2 GiB at 32768 x 65535) but resident only as payloads are stored.

Threads: a JitterBuffer is safe to share. Each call takes the object's own lock (the calls are
short, so the GIL is kept); tick() copies the payload out under it, so a frame never changes after
it is returned.
"""

from typing import Literal, TypedDict

from clutchcall_core._buffer import ReadableBuffer

Outcome = Literal["inserted", "inserted_after_reset", "duplicate", "late"]

class Stats(TypedDict):
    received: int
    released: int
    losses: int
    late_losses: int
    duplicates: int
    resets: int
    reset_dropped: int
    discarded: int
    rejected: int
    underruns: int
    stretches: int
    ticks: int
    buffered: int
    target_depth: int
    depth: int
    delay_ms: int
    jitter: int
    jitter_us: int

class Frame:
    @property
    def kind(self) -> Literal["frame", "loss", "wait"]: ...
    @property
    def sequence(self) -> int: ...
    @property
    def ext_seq(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def marker(self) -> bool: ...
    @property
    def payload(self) -> bytes | None: ...

class JitterBuffer:
    def __init__(
        self,
        *,
        capacity: int = 128,
        max_payload: int = 1500,
        clock_rate: int = 8000,
        frame_ms: int = 20,
        min_depth: int = 2,
        max_depth: int = 6,
        initial_depth: int = 3,
        reset_threshold: int = 100,
        decrease_hold_ticks: int = 50,
        shrink_window_ticks: int = 50,
        target_quantile_permille: int = 990,
    ) -> None: ...
    def insert(
        self, sequence: int, timestamp: int, ssrc: int, payload: ReadableBuffer, arrival_us: int, marker: bool = False
    ) -> Outcome: ...
    def insert_rtp(self, packet: ReadableBuffer, arrival_us: int) -> Outcome: ...
    def tick(self) -> Frame: ...
    def reset(self) -> None: ...
    def stats(self) -> Stats: ...
