"""The SIP leg's uplink clock on a simulated clock: its 20 ms ticks follow its RTP's arrivals by the margin (so a
frame waits for its tick by PHASE_MARGIN_MS, not by an arbitrary phase of up to a period), re-aligned after an
underrun. These fail if the leg goes back to ticking at the phase it happened to start at."""

from __future__ import annotations

import asyncio
import itertools
import random
from pathlib import Path

import pytest
from clutchcall import Codec
from clutchcall_engine.bridge.stage import PHASE_MARGIN_MS
from clutchcall_engine.config import Address, EngineConfig
from clutchcall_engine.relay import RelayTrack
from clutchcall_engine.server import EngineServer
from clutchcall_engine.sip.media import FRAME_MS, LEG_JITTER_INITIAL_DEPTH, ArrivalClock, RtpLeg
from clutchcall_runtime.bridge import AudioFormat
from sip_support import LOOPBACK, free_port, sip_config

PERIOD = FRAME_MS / 1000
MARGIN = PHASE_MARGIN_MS / 1000


def run_ticks(clock: ArrivalClock, arrivals: list[float], until: float) -> list[tuple[float, float | None]]:
    """Arrivals and ticks in time order; each tick with the latest arrival before it (None: none yet)."""
    ticks: list[tuple[float, float | None]] = []
    pending = sorted(arrivals)
    last: float | None = None
    while clock.next_tick < until:
        if pending and pending[0] < clock.next_tick:
            last = pending.pop(0)
            clock.arrival(last)
            continue
        ticks.append((clock.next_tick, last))
        clock.advance()
    return ticks


@pytest.mark.parametrize("offset_ms", [0.0, 4.0, 9.5, 13.0, 19.9])
def test_ticks_follow_the_first_packet_by_the_margin(offset_ms: float) -> None:
    rng = random.Random(offset_ms)
    start, jitter = 100.0, 0.0005
    arrivals = [start + 0.05 + offset_ms / 1000 + k * PERIOD + rng.uniform(0, jitter) for k in range(200)]
    ticks = run_ticks(ArrivalClock(start), arrivals, arrivals[-1])
    played = [(t, a) for t, a in ticks if a is not None]
    assert played[0][0] == pytest.approx(arrivals[0] + MARGIN)
    for tick, arrival in played:  # each tick follows the packet before it by the margin (give or take the jitter)
        assert 0 < tick - arrival <= MARGIN + jitter
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(ticks)]
    assert all(g == pytest.approx(PERIOD) for g in gaps[3:])  # a steady 20 ms clock once aligned


def test_before_any_packet_the_clock_runs_from_its_start() -> None:
    clock = ArrivalClock(5.0)
    assert [clock.next_tick, clock.advance(), clock.advance()] == pytest.approx([5.02, 5.04, 5.06])


def test_an_underrun_realigns_to_the_packets_new_phase() -> None:
    clock = ArrivalClock(0.0)
    first = [0.0031 + k * PERIOD for k in range(10)]
    later = [first[-1] + 0.5 + 0.011 + k * PERIOD for k in range(10)]  # after a pause, 11 ms later in the period
    ticks = run_ticks(clock, first, first[-1] + 0.3)
    clock.realign()  # what RtpLeg.tick_frame does on an underrun
    ticks = run_ticks(clock, later, later[-1])
    played = [(t, a) for t, a in ticks if a is not None and a >= later[0]]
    assert played and all(0 < t - a <= MARGIN + 1e-9 for t, a in played)


def test_without_realign_a_moved_phase_is_not_followed() -> None:
    """The converse: the first packet alone fixes the phase (the test above would fail without realign)."""
    clock = ArrivalClock(0.0)
    run_ticks(clock, [0.0031], 0.1)
    ticks = run_ticks(clock, [0.511 + k * PERIOD for k in range(5)], 0.62)
    assert any(t - a > MARGIN for t, a in ticks if a is not None and a > 0.5)


def test_the_leg_realigns_when_its_jitter_buffer_underruns(core_pkg_root: object) -> None:
    import clutchcall_core

    leg = RtpLeg(lambda digit, ms: None)
    leg.negotiate(("127.0.0.1", 9), 1, 0, None)  # G.711 mu-law
    assert leg.jitter is not None and leg.jitter.stats()["target_depth"] == LEG_JITTER_INITIAL_DEPTH
    leg.clock = ArrivalClock(0.0)
    leg.clock.arrival(0.001)
    for seq in range(3):
        packet = clutchcall_core.rtp.build(bytes(160), payload_type=0, sequence=seq, timestamp=160 * seq, ssrc=7)
        leg.jitter.insert_rtp(packet, 1000 + 20_000 * seq)
    kinds = []
    for _ in range(4):
        kinds.append(leg.tick_frame() is not None)
        if kinds[-1]:
            assert leg.clock.aligned  # playing: the phase stays
    assert kinds == [True, True, True, False] and not leg.clock.aligned  # the underrun: the next packet re-aligns


def test_the_engines_gateway_publishes_a_paced_uplink(tmp_path: Path, core_pkg_root: object) -> None:
    """The engine's own gateway's uplink gets a stage without a second jitter buffer; any other publisher's keeps
    one. Fails if the server stops vouching for its gateway's tracks (the uplink would be buffered twice)."""

    async def main() -> None:
        config = EngineConfig(
            moqt_addr=Address(LOOPBACK, 0),
            http_addr=Address(LOOPBACK, 0),
            state_dir=tmp_path,
            sip=sip_config(free_port()),
        )
        async with EngineServer(config, calls=True) as srv:
            assert srv.sip is not None and srv.sip.bridge is not None
            writer = await srv.sip.bridge.publish_uplink("CA1", "voice/g711_ulaw")
            key = ((b"voice", b"CA1"), b"uplink")
            for _ in range(100):
                if key in srv.relay.tracks:
                    break
                await asyncio.sleep(0.02)
            track = srv.relay.tracks[key]
            stage = srv.relay.bridge.output_for(track, AudioFormat.of("g711_ulaw"), AudioFormat.of("pcm16", 16000))
            assert srv.relay.bridge.stages[(id(track), AudioFormat.of("pcm16", 16000).tag)].paced, stage
            other = RelayTrack(srv.relay, ((b"voice", b"CA2"), b"uplink"), "voice/g711_ulaw", "acme")
            srv.relay.bridge.output_for(other, AudioFormat.of("g711_ulaw"), AudioFormat.of("pcm16", 16000))
            assert not srv.relay.bridge.stages[(id(other), AudioFormat.of("pcm16", 16000).tag)].paced
            writer.close()
            srv.relay.bridge.close()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_a_stretch_drops_nothing_behind_time(core_pkg_root: object) -> None:
    """A stretch (one waiting tick while the buffer grows its depth for more jitter, frames still held) is not a
    stall: what the buffer holds is on time, so nothing is dropped behind time after it, and every tick but the
    stretches plays a frame. Fails if the leg takes every waiting tick for an underrun."""
    import clutchcall_core

    leg = RtpLeg(lambda digit, ms: None)
    leg.negotiate(("127.0.0.1", 9), Codec.G711_ULAW, 0, None)
    assert leg.jitter is not None
    leg.clock = ArrivalClock(0.0)
    leg.clock.arrival(0.001)

    def insert(seq: int, late_ms: int) -> None:
        packet = clutchcall_core.rtp.build(bytes(160), payload_type=0, sequence=seq, timestamp=160 * seq, ssrc=7)
        assert leg.jitter is not None
        leg.jitter.insert_rtp(packet, 1000 + 20_000 * seq + late_ms * 1000)

    seq, played, ahead = 0, 0, 4
    for tick in range(60):
        while seq < tick + ahead:  # always frames ahead: never an underrun
            # From the 10th packet on, every other one 65 ms late: the buffer, playing by then, grows past the
            # frames it holds (the core sizes from the delays' quantile, so jitter from the start would only
            # make it buffer deeper before playing, with no stretch).
            insert(seq, 65 * (seq % 2) if seq >= 10 else 0)
            seq += 1
        stretches = leg.jitter.stats()["stretches"]
        played += leg.tick_frame() is not None
        if leg.jitter.stats()["stretches"] > stretches:
            ahead += 3  # early packets right after a stretch: the buffer is above its target for a while
    stats = leg.jitter.stats()
    assert stats["stretches"] > 0 and stats["underruns"] == 0 and stats["target_depth"] > LEG_JITTER_INITIAL_DEPTH
    assert leg.stats.behind_time == 0, (leg.stats, stats)
    assert played == 60 - stats["stretches"]  # each stretch is one tick without a frame


@pytest.mark.parametrize("per_tick", [10, 2])  # the held-back packets all at once, or two a tick
def test_a_burst_after_an_underrun_is_not_kept_as_delay(core_pkg_root: object, per_tick: int) -> None:
    """The carrier's packets stop for 120 ms (a network or host stall) and then come in a burst: the buffer
    re-fills past its target, and played in order those frames would keep the stall as delay until the core's
    shrinking (a frame a second) took it back. What the buffer holds beyond its target in the ticks after the
    refill is dropped (counted: behind_time), so it is back at its target at once. Fails if the leg plays the
    burst behind time, or drops only what came before its first frame after the refill."""
    import clutchcall_core

    leg = RtpLeg(lambda digit, ms: None)
    leg.negotiate(("127.0.0.1", 9), Codec.G711_ULAW, 0, None)
    jitter = leg.jitter
    assert jitter is not None
    seq, played, excess_ticks = 0, 0, 0  # excess: ticks at which the buffer held more than its target
    for tick in range(100):
        if tick < 40 or tick >= 46:  # nothing from tick 40 to 45, then the held-back packets, per_tick a tick
            for _ in range(per_tick if tick >= 46 else 1):
                if seq > tick:
                    break
                packet = clutchcall_core.rtp.build(bytes([seq % 256]) * 160, payload_type=0, sequence=seq,
                                                   timestamp=160 * seq, ssrc=7)  # fmt: skip
                jitter.insert_rtp(packet, tick * 20_000)
                seq += 1
        payload = leg.tick_frame()
        played = payload[0] if payload is not None else played
        stats = jitter.stats()
        excess_ticks += tick > 46 and stats["depth"] > stats["target_depth"]
    stats = jitter.stats()
    assert stats["underruns"] == 1 and excess_ticks <= 2, (excess_ticks, stats)
    assert leg.stats.behind_time >= 3, (leg.stats, stats)
    assert played == 99 - stats["target_depth"] + 1  # the last frame played is the target's depth behind the newest


def test_an_underrun_after_stretches_in_a_row_is_still_caught_up(core_pkg_root: object) -> None:
    """The buffer grows its target by several frames at once (a stretch tick each, in a row); later the carrier
    stalls and its held-back packets come in a burst. That underrun is told from a stretch (every stretch was
    counted), so the burst is dropped behind time. Fails if only the first of the stretches in a row is seen."""
    import clutchcall_core

    leg = RtpLeg(lambda digit, ms: None)
    leg.negotiate(("127.0.0.1", 9), Codec.G711_ULAW, 0, None)
    jitter = leg.jitter
    assert jitter is not None
    seq, kinds = 0, ""
    for tick in range(120):
        if tick < 60 or tick >= 70:  # a stall from tick 60 to 69, then the held-back packets at once
            while seq <= tick:
                # Early on, every other packet 120 ms late: the core sizes from the delays' 99th percentile over
                # 500 packets, so it takes 5 of them (not one) to raise the target, then by several frames at once.
                late_ms = 120 * (seq % 2 == 0) if seq < 50 else 0
                at_us = 1000 + 20_000 * seq + late_ms * 1000 if seq < 60 else tick * 20_000 + 1000
                packet = clutchcall_core.rtp.build(bytes(160), payload_type=0, sequence=seq, timestamp=160 * seq,
                                                   ssrc=7)  # fmt: skip
                jitter.insert_rtp(packet, at_us)
                seq += 1
        stretches = jitter.stats()["stretches"]
        played = leg.tick_frame() is not None
        kinds += "S" if jitter.stats()["stretches"] > stretches else "." if played else "w"
    assert "SS" in kinds and jitter.stats()["underruns"] == 1, kinds
    assert leg.stats.behind_time >= 3, (kinds, leg.stats)
