"""The playout clocks' phases: a stage is ticked soon after its frames arrive, not up to a whole period later."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from bridge_support import Capture, sine
from clutchcall_engine.auth import verifier_for
from clutchcall_engine.bridge.stage import (
    PHASE_MARGIN_MS,
    PHASES,
    REPHASE_AFTER,
    AudioBridge,
    PlayoutClock,
    TranscodeStage,
)
from clutchcall_engine.config import EngineConfig, Limits
from clutchcall_engine.metrics import RelayMetrics
from clutchcall_engine.relay import Relay, RelayTrack, Subscriber
from clutchcall_runtime.bridge import AudioFormat
from clutchcall_runtime.moqt.session import MoqObject

SRC, DST = AudioFormat.of("g711_ulaw"), AudioFormat.of("pcm16", 16000)


def clocked_relay(core: ModuleType, state_dir: Path) -> Relay:
    config = EngineConfig(state_dir=state_dir, limits=dataclasses.replace(Limits()))
    relay = Relay(config, verifier_for(config), RelayMetrics())
    relay.bridge = AudioBridge(relay, relay.bridge.metrics, core)
    return relay


@pytest.mark.parametrize("offset_ms", [0.0, 3.0, 7.5, 12.0, 19.0])
def test_stage_joins_the_clock_that_ticks_next_after_its_arrivals(
    core: ModuleType, tmp_path: Path, offset_ms: float
) -> None:
    asyncio.run(_joins(core, tmp_path, offset_ms))


async def _joins(core: ModuleType, tmp_path: Path, offset_ms: float) -> None:
    relay = clocked_relay(core, tmp_path)
    bridge = relay.bridge
    key = ((b"voice", b"CA1"), b"uplink")
    source = RelayTrack(relay, key, SRC.tag, "t1")
    relay.tracks[key] = source
    output = bridge.output_for(source, SRC, DST)
    capture = Capture()
    output.subscribers[(0, 0)] = Subscriber(peer=None, request_id=0, out=capture)  # type: ignore[arg-type]
    stage = bridge.stages[(id(source), DST.tag)]
    loop = asyncio.get_running_loop()
    period = SRC.frame_ms / 1000
    obj = MoqObject(1, 0, 0, 128, core.g711.ulaw_encode(sine(8000, 0.02)))  # made before the arrival is timed
    await asyncio.sleep((offset_ms / 1000 - loop.time()) % period)  # arrive at this phase of the period
    arrival = loop.time()
    source.on_object(obj)
    clocks = [c for c in bridge.clocks.values() if stage in c.stages]
    assert len(clocks) == 1  # on exactly one clock
    wait = (clocks[0].phase - arrival) % period  # from the arrival to that clock's next tick
    # slack: the stage reads the clock a little after the test did (on a loaded machine, tens of microseconds)
    assert PHASE_MARGIN_MS / 1000 - 1e-6 <= wait <= (PHASE_MARGIN_MS / 1000 + period / PHASES) + 5e-4
    bridge.close()


def test_clock_ticks_on_its_phase() -> None:
    asyncio.run(_ticks())


async def _ticks() -> None:
    from clutchcall_engine.bridge.stage import BridgeMetrics, PlayoutClock
    from prometheus_client import CollectorRegistry

    ticks: list[float] = []
    loop = asyncio.get_running_loop()

    class Probe:
        def tick(self) -> None:
            ticks.append(loop.time())

        def close(self) -> None:
            pass

    clock = PlayoutClock(20, BridgeMetrics(CollectorRegistry()), phase_s=0.015)
    clock.add(Probe())  # type: ignore[arg-type]
    await asyncio.sleep(0.25)
    clock.stages.clear()
    await asyncio.sleep(0.03)
    assert len(ticks) >= 5
    # every tick falls at (or just after: the loop's scheduling) 15 ms into a 20 ms period
    assert all(((t - 0.015) % 0.02) < 0.01 for t in ticks), [round(t % 0.02 * 1000, 1) for t in ticks]


def test_paced_stage_follows_its_publisher_when_the_phase_moves(core: ModuleType, tmp_path: Path) -> None:
    asyncio.run(_follows(core, tmp_path))


async def _follows(core: ModuleType, tmp_path: Path) -> None:
    """A leg re-aligns its clock to its RTP (after an underrun): its frames now arrive just after the stage's tick.
    The paced stage moves to the clock that follows them after REPHASE_AFTER such arrivals, not one more."""
    relay = clocked_relay(core, tmp_path)
    bridge = relay.bridge
    bridge.paced_tenants.add("gateway")
    key = ((b"voice", b"CA1"), b"uplink")
    source = RelayTrack(relay, key, SRC.tag, "gateway")
    relay.tracks[key] = source
    output = bridge.output_for(source, SRC, DST)
    output.subscribers[(0, 0)] = Subscriber(peer=None, request_id=0, out=Capture())  # type: ignore[arg-type]
    stage = bridge.stages[(id(source), DST.tag)]
    assert stage.paced
    loop = asyncio.get_running_loop()
    period = SRC.frame_ms / 1000
    payload = core.g711.ulaw_encode(sine(8000, 0.02))

    def clock_wait(arrival: float) -> float:
        (clock,) = [c for c in bridge.clocks.values() if stage in c.stages]
        return (clock.phase - arrival) % period

    source.on_object(MoqObject(1, 0, 0, 128, payload))
    (first_clock,) = [c for c in bridge.clocks.values() if stage in c.stages]
    for k in range(1, REPHASE_AFTER + 1):
        await asyncio.sleep((first_clock.phase + 0.003 - loop.time()) % period)  # now just after that clock's tick
        arrival = loop.time()
        moved_before = clock_wait(arrival) <= (PHASE_MARGIN_MS / 1000 + period / PHASES) + 1e-3
        assert not moved_before, "a stage kept on its clock until then waits longer than a phase allows"
        source.on_object(MoqObject(1, 0, k, 128, payload))
    wait = clock_wait(arrival)
    assert PHASE_MARGIN_MS / 1000 - 1e-6 <= wait <= (PHASE_MARGIN_MS / 1000 + period / PHASES) + 5e-4
    bridge.close()


@dataclasses.dataclass
class PatchedClockStage:
    """One stage on a clocked bridge whose loop clock reads `now` (arrivals placed to the microsecond; sleeping
    cannot place them below a millisecond). Nothing may be awaited while it is in use."""

    bridge: AudioBridge
    source: RelayTrack
    stage: TranscodeStage
    now: float
    period: float

    def clock(self) -> PlayoutClock:
        (clock,) = [c for c in self.bridge.clocks.values() if self.stage in c.stages]
        return clock

    def next_tick(self) -> float:
        return self.now + (self.clock().phase - self.now) % self.period

    def arrive(self, at: float, object_id: int, payload: bytes) -> None:
        self.now = at
        self.source.on_object(MoqObject(1, 0, object_id, 128, payload))


@contextlib.contextmanager
def stage_on_a_patched_clock(
    core: ModuleType, tmp_path: Path, source_format: AudioFormat, target: AudioFormat, *, paced: bool
) -> Iterator[PatchedClockStage]:
    relay = clocked_relay(core, tmp_path)
    bridge = relay.bridge
    if paced:
        bridge.paced_tenants.add("gateway")
    key = ((b"voice", b"CA1"), b"uplink")
    source = RelayTrack(relay, key, source_format.tag, "gateway" if paced else "client")
    relay.tracks[key] = source
    output = bridge.output_for(source, source_format, target)
    output.subscribers[(0, 0)] = Subscriber(peer=None, request_id=0, out=Capture())  # type: ignore[arg-type]
    stage = bridge.stages[(id(source), target.tag)]
    assert stage.paced == paced
    loop = asyncio.get_running_loop()
    harness = PatchedClockStage(bridge, source, stage, loop.time(), source_format.frame_ms / 1000)
    loop.time = lambda: harness.now  # type: ignore[method-assign]
    try:
        yield harness
    finally:
        del loop.time
        bridge.close()


def test_paced_stage_leaves_a_clock_whose_tick_its_frames_straddle(core: ModuleType, tmp_path: Path) -> None:
    asyncio.run(_straddles(core, tmp_path))


async def _straddles(core: ModuleType, tmp_path: Path) -> None:
    """The publisher's frames land on the stage's tick, alternately just before it and just after (by the loop's
    scheduling): each one after leaves its slot concealed and is displaced by the next. The stage moves to a
    clock that follows them after REPHASE_AFTER such arrivals. Fails if only arrivals waiting too long count
    (the ones just before the tick would reset the count every other frame, and it would never move)."""
    payload = core.g711.ulaw_encode(sine(8000, 0.02))
    with stage_on_a_patched_clock(core, tmp_path, SRC, DST, paced=True) as h:
        h.arrive(h.now, 0, payload)
        first = h.clock()
        tick = h.next_tick()
        for k in range(1, REPHASE_AFTER + 1):
            assert h.clock() is first, f"moved after {k - 1} arrivals"
            h.arrive(tick + k * h.period + (-0.0003 if k % 2 else 0.0003), k, payload)  # just before, then after
        moved = h.clock()
        wait = (moved.phase - h.now) % h.period
    assert moved is not first
    assert PHASE_MARGIN_MS / 1000 - 1e-9 <= wait <= PHASE_MARGIN_MS / 1000 + h.period / PHASES + 1e-9


@pytest.mark.parametrize("steady", [True, False])
def test_a_jitter_buffered_stage_follows_a_steady_publisher_only(
    core: ModuleType, tmp_path: Path, steady: bool
) -> None:
    asyncio.run(_buffered_follows(core, tmp_path, steady))


async def _buffered_follows(core: ModuleType, tmp_path: Path, steady: bool) -> None:
    """A client echoing a paced track: its frames come a period apart, but after the leg re-aligned its clock they
    come just after the (jitter-buffered) stage's tick, so each waits most of a period more. Steady, the stage moves
    to the clock that follows them after REPHASE_AFTER such arrivals (fails if only paced stages follow: it kept
    that wait for the rest of the call). Jittery (periods of 15 and 25 ms, each arrival as late for its tick), it
    keeps its clock: its buffer absorbs the spread (fails if the steadiness is not asked)."""
    payload = sine(16000, 0.02).tobytes()
    with stage_on_a_patched_clock(core, tmp_path, DST, SRC, paced=False) as h:
        h.arrive(h.now, 0, payload)
        first = h.clock()
        tick = h.next_tick()
        # the publisher's phase moved: from now on its frames come 3 ms after that clock's ticks
        arrivals = [tick + k * h.period + 0.003 for k in range(1, REPHASE_AFTER + 2)]
        if not steady:
            arrivals = [t + (h.period / 4 if k % 2 else 0.0) for k, t in enumerate(arrivals)]  # 15 and 25 ms apart
        for k, t in enumerate(arrivals, start=1):
            assert (first.phase - t) % h.period > 2 * PHASE_MARGIN_MS / 1000 + h.period / PHASES  # too long a wait
            h.arrive(t, k, payload)
            if k < REPHASE_AFTER + 1:  # the first arrival sets the period the next are measured against
                assert h.clock() is first, f"moved after {k} arrivals"
        moved = h.clock()
        wait = (moved.phase - h.now) % h.period
    if steady:
        assert moved is not first
        assert PHASE_MARGIN_MS / 1000 - 1e-9 <= wait <= PHASE_MARGIN_MS / 1000 + h.period / PHASES + 1e-9
    else:
        assert moved is first


def test_a_stalled_clock_counts_the_ticks_it_skips() -> None:
    asyncio.run(_stalls())


async def _stalls() -> None:
    """A round that overruns its deadline by a few periods re-anchors the clock (no burst of catch-up ticks); the
    ticks it skips are frames its stages never sent, counted per stage and in the metric. Fails if they are not
    counted, or counted for a clock that kept its deadlines."""
    import time

    from clutchcall_engine.bridge.stage import BridgeMetrics
    from prometheus_client import CollectorRegistry

    loop = asyncio.get_running_loop()
    ticks: list[float] = []

    class Probe:
        skipped = 0

        def tick(self) -> None:
            ticks.append(loop.time())
            if len(ticks) == 3:
                time.sleep(0.075)  # the loop stalls: this round ends three to four periods late

        def close(self) -> None:
            pass

    registry = CollectorRegistry()
    clock = PlayoutClock(20, BridgeMetrics(registry), phase_s=0.0)
    probe = Probe()
    clock.add(probe)  # type: ignore[arg-type]
    await asyncio.sleep(0.4)
    clock.stages.clear()
    await asyncio.sleep(0.03)
    span = round((ticks[-1] - ticks[0]) / 0.020)  # periods from the first tick to the last
    assert clock.missed >= 1 and probe.skipped >= 3
    assert len(ticks) - 1 + probe.skipped == span  # every period either ticked or was counted skipped
    assert registry.get_sample_value("clutchcall_bridge_ticks_skipped_total") == probe.skipped
