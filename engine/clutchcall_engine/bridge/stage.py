"""Transcoding stages and the playout clock that drives them.

One `TranscodeStage` per (source track, target shape): its own jitter buffer and core Transcoder,
never shared between tracks, so never between calls. Frames arriving from the source are checked
against the source's shape (a bad one is counted by reason and skipped; the leg goes on) and put in
the jitter buffer; the `PlayoutClock` ticks every stage once per source frame period and each tick
plays exactly one frame: the next one in order, concealment for a lost one (Opus PLC, silence for
PCM and G.711), or concealment again on underrun, so the output keeps its clock. A frame arriving
after its playout slot is dropped (late), never played behind time, so a transient loss costs one
frame of jitter, not a backlog. Frames go out through an ordinary RelayTrack, whose subscriber
queues are bounded like every other track's.

Latency: besides the jitter buffer's depth, a frame waits for its tick. A stage is ticked by the clock
whose phase comes next after its frames arrive: each frame period has
PHASES clocks, offset by period / PHASES, and a stage joins the first one at least PHASE_MARGIN_MS
after its first frame's arrival, and moves when its publisher's phase moves (`AudioBridge.follow`). So a
frame waits at most PHASE_MARGIN_MS + period / PHASES for its tick (7 ms at 20 ms), not a whole period,
for the price of PHASES timers per period, not one per stage.

One playout point per direction: a track that is already paced, published one frame per period by a
publisher that played it out of its own jitter buffer (the engine's SIP gateway: each leg keeps the
network-facing jitter buffer and ticks just after its RTP arrives, sip/media.py), is not buffered a
second time. Its stage plays through a `PacedPlayout`: each tick plays the frame that arrived since
the previous tick, conceals an empty slot (underrun) and drops a frame whose slot has passed (late),
so a frame waits only for its tick (PHASE_MARGIN_MS to PHASE_MARGIN_MS + period / PHASES), and the
output still keeps its clock. Which tracks are paced is a property of the publishing session the
engine itself vouches for (`AudioBridge.paced_tenants`: the tenant of the gateway's own token), not
of anything a client states or of jitter measured over a few frames, which could not tell a paced
source from a quiet moment of a jittery one. The other way round was weighed and not taken: the leg
publishing on arrival with the stage's buffer as the only one would put network timing on every
subscriber of the leg's own codec (they get the track without a stage) and take away the 20 ms
clock the barge mixing (sip/conference.py) runs on.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from clutchcall_runtime.bridge import AudioFormat
from clutchcall_runtime.moqt.session import MoqObject
from prometheus_client import CollectorRegistry, Counter, Gauge

from ..metrics import LoopCounter

if TYPE_CHECKING:
    from ..relay import Relay, RelayTrack

log = logging.getLogger("clutchcall.engine.bridge")

OBJECTS_PER_GROUP = 50  # one group per second of 20 ms frames, as the client's TrackWriter does
_GROUPS_REMEMBERED = 4  # source groups whose sequence base is kept, for objects that arrive out of order
JITTER_CAPACITY = 64  # slots (a power of two); 1.28 s of 20 ms frames
# Depth in frames: start playing after 2 (so a lost frame is concealed in its own slot instead of stalling the
# playout one frame), never below 1, at most 6 when the jitter grows.
JITTER_MIN_DEPTH, JITTER_INITIAL_DEPTH, JITTER_MAX_DEPTH = 1, 2, 6
PHASES = 4  # clocks per frame period, offset by period / PHASES
PHASE_MARGIN_MS = 2.0  # a stage's tick comes at least this long after its frames arrive (scheduling slack)
REPHASE_AFTER = 3  # a stage moves clock after this many arrivals in a row that wait too long for their tick
# A jitter-buffered stage follows its arrivals only while they come a period apart, give or take this much: a steady
# publisher (an agent pacing its frames, a client echoing a paced track) whose phase moved, not a jittery one.
STEADY_MS = PHASE_MARGIN_MS
OPUS_MAX_PACKET = 1275  # RFC 6716 section 3.4, R2: the largest Opus frame


class BridgeUnavailable(RuntimeError):
    """clutchcall_core (the engine wheel) is not importable, so the relay cannot transcode."""


class BridgeMetrics:
    """The bridge's counters, in the relay's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.stages = Gauge("clutchcall_bridge_stages", "Transcoding stages running", registry=r)
        self.frames_in = LoopCounter("clutchcall_bridge_frames_in", "Source frames accepted by a stage", r)
        self.frames_out = LoopCounter("clutchcall_bridge_frames_out", "Transcoded frames sent on", r)
        self.rejected = Counter(
            "clutchcall_bridge_rejected", "Source frames refused, by reason (the leg goes on)", ["reason"], registry=r
        )
        self.concealed = Counter(
            "clutchcall_bridge_concealed",
            "Frames filled by PLC or silence, by cause (loss, underrun)",
            ["cause"],
            registry=r,
        )
        self.late = Counter(
            "clutchcall_bridge_late", "Frames that arrived after their playout slot (dropped)", registry=r
        )
        self.refused = Counter(
            "clutchcall_bridge_refused",
            "SUBSCRIBE/PUBLISH refused for an unsupported shape, by field",
            ["field"],
            registry=r,
        )
        self.clock_missed = Counter(
            "clutchcall_bridge_clock_missed", "Clock ticks that finished after their frame deadline", registry=r
        )
        self.ticks_skipped = Counter(
            "clutchcall_bridge_ticks_skipped",
            "Stage ticks (frames out) skipped when a clock that missed its deadline re-anchored",
            registry=r,
        )


@dataclass(frozen=True)
class PacedFrame:
    kind: str  # "frame", or "wait" when nothing arrived for this tick (underrun once playing)
    payload: bytes | None = None


class PacedPlayout:
    """The playout of an already-paced source: one slot, the frame that arrived since the previous tick.

    Same calls as the core's JitterBuffer (insert, tick), so the stage drives either. Sequence numbers are
    16-bit and compared modulo 2^16. A frame older than one already played or held is late; a newer frame
    arriving while one is held displaces it (the held one's slot passed unplayed: it is late, and the
    stream stays on time instead of keeping a frame of backlog).
    """

    def __init__(self) -> None:
        self._held: tuple[int, bytes] | None = None
        self._played: int | None = None

    @staticmethod
    def _newer(sequence: int, than: int) -> bool:
        return 0 < (sequence - than) & 0xFFFF < 0x8000

    def insert(self, sequence: int, timestamp: int, ssrc: int, payload: bytes, arrival_us: int) -> str:
        if self._played is not None and not self._newer(sequence, self._played):
            return "duplicate" if sequence == self._played else "late"
        if self._held is not None:
            if sequence == self._held[0]:
                return "duplicate"
            if not self._newer(sequence, self._held[0]):
                return "late"
            self._held = (sequence, bytes(payload))
            return "displaced"
        self._held = (sequence, bytes(payload))
        return "inserted"

    def tick(self) -> PacedFrame:
        if self._held is None:
            return PacedFrame("wait")
        self._played, payload = self._held
        self._held = None
        return PacedFrame("frame", payload)


@dataclass(eq=False)
class TranscodeStage:
    """Source track in one shape -> an output RelayTrack in another, played out on the bridge's clock."""

    bridge: AudioBridge
    source: RelayTrack
    source_format: AudioFormat
    target: AudioFormat
    output: RelayTrack
    transcoder: Any
    jitter: Any
    started: bool = False
    closed: bool = False
    phased: bool = False  # moved to the clock whose phase follows its arrivals
    paced: bool = False  # the source is already paced: `jitter` is a PacedPlayout, not a second jitter buffer
    misphased: int = 0  # arrivals in a row that waited too long for their tick (steady ones, if not paced)
    last_arrival: float | None = None  # loop time of the previous arrival (a jitter-buffered stage's steadiness)
    skipped: int = 0  # ticks its clock skipped re-anchoring after a stall (no frame out for those periods)
    _group_base: dict[int, int] = field(default_factory=dict)
    _next_seq: int = 0
    _out_group: int = field(default_factory=lambda: int(time.time() * 1000))
    _out_object: int = 0
    priority: int = 128
    # The source shape's frame size (None: Opus, variable) and samples per frame, read on every object.
    _frame_bytes: int | None = field(init=False)
    _samples_per_frame: int = field(init=False)

    def __post_init__(self) -> None:
        self._frame_bytes = self.source_format.frame_bytes
        self._samples_per_frame = self.source_format.samples_per_frame

    # -- the source's objects (the relay calls these as for any subscriber) --

    def on_object(self, obj: MoqObject) -> None:
        payload = obj.payload
        if self.closed or not payload:  # status-only objects (end of group etc.) carry no audio
            return
        if len(payload) != self._frame_bytes:
            reason = self._check(payload)
            if reason is not None:
                self.bridge.metrics.rejected.labels(reason).inc()
                return
        seq = self._sequence(obj.group, obj.object_id)
        if seq is None:
            self.bridge.metrics.late.inc()
            return
        spf = self._samples_per_frame
        outcome = self.jitter.insert(seq & 0xFFFF, (seq * spf) & 0xFFFFFFFF, 1, payload, self.bridge.now_us())
        self.priority = obj.publisher_priority
        if not self.phased:
            self.phased = True
            self.bridge.rephase(self)
        else:
            self.bridge.follow(self)
        if outcome in ("late", "displaced"):  # displaced: the frame held before this one is the late one
            self.bridge.metrics.late.inc()
        if outcome not in ("late", "duplicate"):
            self.bridge.metrics.frames_in.inc()

    def on_done(self, status: int, reason: str) -> None:
        """The source track ended: end the output track's subscriptions too."""
        self.close()
        self.bridge.relay.end_track(self.output, status, reason)

    def _check(self, payload: bytes) -> str | None:
        """Why the payload does not fit the source's shape, or None."""
        fmt = self.source_format
        expected = self._frame_bytes
        if expected is not None:
            return None if len(payload) == expected else "frame_size"
        if len(payload) > OPUS_MAX_PACKET:
            return "opus_too_large"
        try:
            duration = self.bridge.core.opus.packet_frames(payload, fmt.sample_rate)
        except ValueError:
            return "opus_invalid"
        return None if duration == fmt.samples_per_frame // fmt.channels else "opus_duration"

    def _sequence(self, group: int, object_id: int) -> int | None:
        """A gap-preserving frame number from (group, object): groups follow each other, objects count within."""
        base = self._group_base.get(group)
        if base is None:
            if self._group_base and group < max(self._group_base):
                return None  # an object of a group older than those remembered
            base = self._next_seq
            self._group_base[group] = base
            while len(self._group_base) > _GROUPS_REMEMBERED:
                del self._group_base[min(self._group_base)]
        seq = base + object_id
        self._next_seq = max(self._next_seq, seq + 1)
        return seq

    # -- the clock --

    def tick(self) -> None:
        """Play one source frame period."""
        if not self.output.subscribers:  # the last subscriber left
            self.close()
            return
        frame = self.jitter.tick()
        kind = frame.kind
        if kind == "frame":
            self.started = True
            try:
                frames = self.transcoder.process(frame.payload)
            except ValueError:  # passed the size check but the decoder refused it
                self.bridge.metrics.rejected.labels("undecodable").inc()
                frames = self.transcoder.process_lost()
        elif kind == "loss" or self.started:
            self.bridge.metrics.concealed.labels("loss" if kind == "loss" else "underrun").inc()
            frames = self.transcoder.process_lost()
        else:
            return  # still filling before the first frame
        for payload in frames:
            self._emit(payload)

    def _emit(self, payload: bytes) -> None:
        if self._out_object >= OBJECTS_PER_GROUP:
            self._out_group = max(self._out_group + 1, int(time.time() * 1000))
            self._out_object = 0
        self.output.on_object(MoqObject(self._out_group, 0, self._out_object, self.priority, payload))
        self._out_object += 1
        self.bridge.metrics.frames_out.inc()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.bridge.forget(self)


class PlayoutClock:
    """Ticks every stage of one frame period on deadlines (start + n * period), not on sleeps, so it never drifts.

    A round that ends after its deadline is counted (clock_missed): the deadline-miss point is
    what benchmarks/bridge measures. After a stall the clock re-anchors instead of bursting ticks.
    """

    def __init__(self, period_ms: int, metrics: BridgeMetrics, phase_s: float = 0.0) -> None:
        self.period = period_ms / 1000
        self.phase = phase_s  # ticks fall at loop times congruent to this, modulo the period
        self.metrics = metrics
        self.stages: list[TranscodeStage] = []
        self.missed = 0
        self.rounds = 0
        self.max_round_s = 0.0
        self.task: asyncio.Task[None] | None = None

    def add(self, stage: TranscodeStage) -> None:
        self.stages.append(stage)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = self._next_tick(loop.time())
        while self.stages:
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            started = loop.time()
            for stage in list(self.stages):
                try:
                    stage.tick()
                except Exception:  # one broken stage must not stop every other leg's clock
                    log.exception("transcoding stage failed; closing it")
                    stage.close()
            ended = loop.time()
            self.rounds += 1
            self.max_round_s = max(self.max_round_s, ended - started)
            deadline += self.period
            if ended > deadline:
                self.missed += 1
                self.metrics.clock_missed.inc()
                anchored = self._next_tick(ended)
                skipped = round((anchored - deadline) / self.period)
                for stage in self.stages:
                    stage.skipped += skipped
                self.metrics.ticks_skipped.inc(skipped * len(self.stages))
                deadline = anchored

    def _next_tick(self, after: float) -> float:
        """The first tick of this clock's phase after `after`."""
        delta = (self.phase - after) % self.period
        return after + (delta or self.period)


def load_core() -> ModuleType:
    try:
        return importlib.import_module("clutchcall_core")
    except ImportError as exc:
        raise BridgeUnavailable(f"transcoding needs clutchcall_core (the engine wheel, bindings/): {exc}") from exc


class AudioBridge:
    """The relay's transcoding: stages by (source track, target tag), and one clock per frame period."""

    def __init__(
        self,
        relay: Relay,
        metrics: BridgeMetrics,
        core: ModuleType | None = None,
        *,
        clocked: bool = True,
        now_us: Callable[[], int] = lambda: time.monotonic_ns() // 1000,
    ) -> None:
        self.relay = relay
        self.now_us = now_us  # arrival times for the jitter buffers
        self.metrics = metrics
        self._core = core
        self.clocked = clocked  # False: the caller ticks the stages (tests drive time frame by frame)
        self.stages: dict[tuple[int, str], TranscodeStage] = {}
        self.clocks: dict[tuple[int, int], PlayoutClock] = {}  # (frame_ms, phase index)
        self._stage_clock: dict[TranscodeStage, PlayoutClock] = {}
        self.paced_tenants: set[str] = set()  # publishers whose tracks are already paced (the engine's SIP gateway)

    @property
    def core(self) -> ModuleType:
        if self._core is None:
            self._core = load_core()
        return self._core

    def output_for(self, source: RelayTrack, source_format: AudioFormat, target: AudioFormat) -> RelayTrack:
        """The track a subscriber asking for `target` attaches to: the stage's output, made on first use."""
        key = (id(source), target.tag)
        stage = self.stages.get(key)
        if stage is not None and not stage.closed:
            return stage.output
        from ..relay import RelayTrack  # the relay imports this module

        core = self.core
        transcoder = core.transcode.Transcoder(source_format.as_core_shape(), target.as_core_shape())
        paced = source.tenant in self.paced_tenants
        jitter: Any = PacedPlayout()
        if not paced:
            jitter = core.jitter.JitterBuffer(
                capacity=JITTER_CAPACITY,
                max_payload=source_format.frame_bytes or OPUS_MAX_PACKET,
                clock_rate=source_format.sample_rate,
                frame_ms=source_format.frame_ms,
                min_depth=JITTER_MIN_DEPTH,
                initial_depth=JITTER_INITIAL_DEPTH,
                max_depth=JITTER_MAX_DEPTH,
            )
        output = RelayTrack(self.relay, source.key, target.tag, source.tenant)
        output.group_order = source.group_order
        stage = TranscodeStage(self, source, source_format, target, output, transcoder, jitter, paced=paced)
        self.stages[key] = stage
        source.taps.append(stage)
        self._join(stage, self._clock(source_format.frame_ms, 0))
        self.metrics.stages.inc()
        log.info(
            "transcoding stage %s -> %s for %r%s", source_format.tag, target.tag, source.key[1], " (paced)" * paced
        )
        return output

    def forget(self, stage: TranscodeStage) -> None:
        key = (id(stage.source), stage.target.tag)
        if self.stages.get(key) is stage:
            del self.stages[key]
            self.metrics.stages.dec()
        if stage in stage.source.taps:
            stage.source.taps.remove(stage)
        clock = self._stage_clock.pop(stage, None)
        if clock is not None and stage in clock.stages:
            clock.stages.remove(stage)

    def _clock(self, frame_ms: int, index: int) -> PlayoutClock:
        clock = self.clocks.get((frame_ms, index))
        if clock is None:
            phase = index * frame_ms / 1000 / PHASES
            clock = self.clocks[(frame_ms, index)] = PlayoutClock(frame_ms, self.metrics, phase)
        return clock

    def _join(self, stage: TranscodeStage, clock: PlayoutClock) -> None:
        old = self._stage_clock.get(stage)
        if old is not None and stage in old.stages:
            old.stages.remove(stage)
        self._stage_clock[stage] = clock
        if self.clocked:
            clock.add(stage)
        else:
            clock.stages.append(stage)

    def rephase(self, stage: TranscodeStage) -> None:
        """Move a stage to the clock whose next tick follows its frames' arrival by PHASE_MARGIN_MS or more."""
        if not self.clocked:
            return  # tests tick the stages themselves
        frame_ms = stage.source_format.frame_ms
        period = frame_ms / 1000
        wanted = (asyncio.get_running_loop().time() + PHASE_MARGIN_MS / 1000) % period
        index = math.ceil(wanted / (period / PHASES) - 1e-9) % PHASES
        self._join(stage, self._clock(frame_ms, index))

    def follow(self, stage: TranscodeStage) -> None:
        """A stage's arrival: after REPHASE_AFTER in a row that wait longer than a phase allows for their
        tick, or that come within half the margin before it (the publisher's clock moved, e.g. a leg re-aligned
        to its RTP), move it to the clock that fits. The second kind matters as much: frames landing on the
        tick itself fall either side of it by the loop's scheduling, and each one just after leaves its slot
        concealed and is then displaced (late) by the next; alternating sides, neither kind alone comes in a row.

        A jitter-buffered stage counts only arrivals that come a period after the previous one (within STEADY_MS):
        its buffer absorbs a jittery source's spread, and following that would move its clock at random. A steady
        one whose phase moved (a client echoing a paced uplink after the leg re-aligned) would otherwise wait up to a
        period more for every tick for the rest of the call."""
        clock = self._stage_clock.get(stage)
        if not self.clocked or clock is None:
            return
        now = asyncio.get_running_loop().time()
        if not stage.paced:
            last, stage.last_arrival = stage.last_arrival, now
            if last is None or abs(now - last - clock.period) > STEADY_MS / 1000:
                stage.misphased = 0
                return
        wait = (clock.phase - now) % clock.period
        if PHASE_MARGIN_MS / 2000 <= wait <= 2 * PHASE_MARGIN_MS / 1000 + clock.period / PHASES:
            stage.misphased = 0
            return
        stage.misphased += 1
        if stage.misphased >= REPHASE_AFTER:
            stage.misphased = 0
            self.rephase(stage)

    @property
    def clock_missed(self) -> int:
        """Clock rounds that ended after their deadline, over every clock."""
        return sum(clock.missed for clock in self.clocks.values())

    def close(self) -> None:
        for stage in list(self.stages.values()):
            stage.close()
        for clock in self.clocks.values():
            if clock.task is not None:
                clock.task.cancel()
