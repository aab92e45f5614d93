"""The RTP fast path: shards (one thread per core) relaying calls over AF_XDP, io_uring or
recvmmsg. Packets never enter Python; this module starts and stops the engine, adds and removes
calls, and reads the counters.

Threads: an Engine is safe to share: add_call, remove_call, the stats and stop() may be called
from any threads at once (each call holds its own reference to the engine with the GIL released;
after stop() they raise, naming the stopped engine). Integer arguments are checked by name.
"""

from typing import TypedDict

class LegStats(TypedDict):
    rx_packets: int
    rx_bytes: int
    tx_packets: int
    tx_bytes: int
    malformed: int
    foreign_source: int
    tx_dropped: int
    ssrc_changes: int
    late_losses: int
    concealed: int
    transcode_errors: int
    handoff_out: int
    handoff_in: int
    ring_lost: int

class CallStats(TypedDict):
    id: int
    shard: int
    transcoding: bool
    a: LegStats
    b: LegStats

class IoStats(TypedDict):
    rx_packets: int
    rx_bytes: int
    tx_packets: int
    tx_bytes: int
    rx_dropped: int
    tx_dropped: int
    wakeups: int

class ShardStats(TypedDict):
    shard: int
    cpu: int
    calls: int
    rx_packets: int
    rx_bytes: int
    tx_packets: int
    tx_bytes: int
    tx_dropped: int
    unknown_port: int
    handoff_out: int
    handoff_in: int
    handoff_refused: int
    ring_overruns: int
    ring_lost: int
    loops: int
    idle_waits: int
    kernel_rx_dropped: int
    kernel_rx_ring_full: int
    kernel_fill_ring_empty: int
    io: IoStats

class Leg:
    """One leg of a call: our (ip, port), the peer's (None or port 0: learned from its first
    packet), and its audio (codec 'g711_ulaw', 'g711_alaw', 'opus' or 'pcm16')."""

    def __init__(
        self,
        local: tuple[str, int],
        remote: tuple[str, int] | None = None,
        codec: str = "g711_ulaw",
        sample_rate: int = 0,
        channels: int = 1,
        frame_ms: int = 20,
        payload_type: int = 0,
    ) -> None: ...
    @property
    def codec(self) -> str: ...
    @property
    def payload_type(self) -> int: ...

class Engine:
    """backend: 'auto' (AF_XDP on ifname, else io_uring, else recvmmsg; fallback_reason says
    why), 'af_xdp', 'io_uring' or 'recvmmsg'. RuntimeError if nothing could start.

    cpus: the CPUs shard i is pinned to (cpus[i % len(cpus)]); empty: the process's affinity
    mask (os.sched_getaffinity), in order. Each must be in that mask and listed once (else
    RuntimeError). shards=0: one per CPU in that list. xsk_rx_frames / xsk_tx_frames: AF_XDP
    UMEM frames per RX queue (powers of two, 64..262144; 0: 8192 RX + 4096 TX, 24 MiB).

    Memory, fixed by these settings and linear in shards: handoff_depth is the number of hand-off
    frags (2 KiB each) in flight toward one shard from all the others together, a power of two in
    16..262144, and at least 16 x (shards - 1 rounded up to a power of two); the rings take about
    shards x handoff_depth x 2 KiB (4096: 8 MiB per shard). Anything else, or rings larger than
    the machine's RAM, is refused at once (RuntimeError naming handoff_depth and the MiB needed).
    max_calls (1..2**24) costs nothing up front: call slots are allocated as calls arrive."""

    def __init__(
        self,
        backend: str = "auto",
        ifname: str = "",
        port_lo: int = 16384,
        port_hi: int = 32767,
        shards: int = 0,
        busy_poll: bool = False,
        pin: bool = True,
        max_calls: int = 16384,
        handoff_depth: int = 4096,
        cpus: list[int] = ...,
        xsk_rx_frames: int = 0,
        xsk_tx_frames: int = 0,
    ) -> None: ...
    @property
    def backend(self) -> str: ...
    @property
    def fallback_reason(self) -> str: ...
    @property
    def xdp_mode(self) -> str: ...
    @property
    def shard_count(self) -> int: ...
    def add_call(self, id: int, a: Leg, b: Leg) -> None: ...
    def remove_call(self, id: int) -> CallStats: ...
    def call_stats(self, id: int) -> CallStats: ...
    def call_ids(self) -> list[int]: ...
    def shard_stats(self) -> list[ShardStats]: ...
    def stop(self) -> None: ...
    def __enter__(self) -> Engine: ...
    def __exit__(self, *args: object) -> None: ...
