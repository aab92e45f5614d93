"""A real SIP call through real network jitter and loss (jitter_link.py: netem, or its delay line where the kernel
has no netem): the engine dials a SIPp carrier in a namespace of this test's own, the carrier's RTP crosses the
link both ways, and an SDK client attaches to the call's bridge and echoes every frame, as
benchmarks/bridge/bench_sip_latency.py measures it (its `measure` runs the call; this test holds it to what the
seeds promise): the bridge's frames keep pace and the latency does not creep up (no backlog), late packets are
dropped and counted, a lost packet costs one frame while the leg's clock keeps ticking, and the caller's audio
arrives, frame by frame in order."""

from __future__ import annotations

import asyncio
import faulthandler
import importlib.util
import itertools
import statistics
import sys
from pathlib import Path
from types import ModuleType

import pytest
from jitter_link import JitterLink, NetemSpec, can_emulate
from sip_support import SIPP

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bridge" / "bench_sip_latency.py"
# Heavy jitter beside the 20 ms frame spacing (so packets reorder and some miss their slot) and 3 % loss.
SPEC = "delay 60ms 30ms distribution normal loss 3%"
FRAMES = 500  # 10 s of caller audio
CODES = 96  # the benchmark's distinct frame patterns, sent in turn
# A run whose playout clocks skipped more ticks than this (the host stalled the event loop for over half a second in
# all: other work on a shared machine) says nothing about the engine's timing; it is run once more, then skipped.
STARVED_TICKS = 25


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_sip_latency", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_sip_latency"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_a_call_through_jitter_and_loss_keeps_its_clock(tmp_path: Path, core_pkg_root: object) -> None:
    why = can_emulate() or ("" if SIPP else "sipp (Debian sip-tester) is not installed")
    if why:
        pytest.skip(why)
    b = bench()
    faulthandler.dump_traceback_later(100)  # a hang (seen once under heavy load) leaves its stacks in the log
    for attempt in range(2):
        with JitterLink(NetemSpec.parse(SPEC), seed=12) as link:
            result = asyncio.run(asyncio.wait_for(b.measure(tmp_path / str(attempt), FRAMES, link=link), 60))
        starved = result.bridge["uplink_skipped"] + result.bridge["downlink_skipped"]
        if starved <= STARVED_TICKS:
            break
    else:
        faulthandler.cancel_dump_traceback_later()
        pytest.skip(f"the host starved this process twice ({starved:.0f} playout ticks skipped): timing not judged")
    faulthandler.cancel_dump_traceback_later()
    start, end = result.window
    leg, stages = result.leg_jitter, result.bridge

    # Pace: after the first second, the client gets one frame per 20 ms (concealment included), no more, no less,
    # but for the ticks the stage's clock skipped when the loop stalled (counted; the machine is shared).
    paced = result.frames_between(start + 1.0, end)
    skipped = stages["uplink_skipped"]
    assert abs(len(paced) + skipped - (end - start - 1.0) / 0.020) <= 3, (len(paced), skipped, end - start)

    # No backlog: ~20 packets lost and some late over the call; if each cost a frame of delay for good, the
    # engine's latency (median over a second) would grow by 400 ms. It may grow by the buffer's adaptation (it has
    # mostly adapted by the second second) and a loop stall of this shared machine: 3 frames at most. And it is
    # explained by the leg's jitter buffer (its target depth) plus the stage's tick, the loopback hops and a stall.
    def engine_ms(t0: float, t1: float) -> float:
        return float(statistics.median(ms for t, ms in result.up_engine if t0 <= t < t1))

    second, last = engine_ms(start + 1.0, start + 2.0), engine_ms(end - 1.0, end + 0.5)
    assert last <= second + 60.0, (second, last, leg)
    assert last <= leg["target_depth"] * 20 + 50, (last, leg)

    # Late packets are dropped at playout and counted (the leg's late_losses, the stage's late): whether any come
    # late here depends on the buffer's quantile and the draws (about 1 % expected, none is a correct outcome), so
    # their count enters the concealment bound below; core/jitter's LossAtItsTickThenLateArrivalIsLateLoss proves
    # the drop and the count deterministically.

    # A lost packet costs one frame: the frames concealed at the client are no more than the packets the link
    # dropped (SIP's few included) plus those counted late and the buffer's own deliberate slips; each loss the
    # leg saw was concealed in its slot; and the leg's clock ticked every 20 ms all along, as did its RTP out.
    dropped = result.link["uplink"]["dropped"] if result.link else 0
    concealed = result.frames_between(start + 0.2, end + 0.1).count(None)
    slips = leg["stretches"] + leg["discarded"] + leg["underruns"] + leg["late_losses"] + result.leg_behind_time
    slips += int(stages["late"] + stages["uplink_skipped"])
    assert leg["losses"] > 0 and dropped > 0, (leg, result.link)
    assert concealed <= dropped + slips + 2, (concealed, dropped, leg, stages)
    window_ticks = (end - start) / 0.020
    leg_ticks = result.leg_ticks[1] - result.leg_ticks[0] - result.leg_behind_time  # drops tick the buffer too
    realigned = leg["underruns"] + leg["resets"]  # each moves the tick once, by less than a period
    assert abs(leg_ticks - window_ticks) <= 2 + realigned, (result.leg_ticks, result.leg_behind_time, leg)
    rtp_out = result.leg_sent[1] - result.leg_sent[0] + stages["downlink_skipped"]  # from the 51st frame sent
    assert abs(rtp_out - (window_ticks - 50)) <= 3, (result.leg_sent, stages, window_ticks)

    # The audio arrives: the caller's frames at the client, each once and in the order sent (a frame played twice
    # or behind a later one would step back), all but the lost, late and dropped ones.
    codes = [code for _, code in result.frames if code is not None]
    steps = [(b_ - a) % CODES for a, b_ in itertools.pairwise(codes)]
    assert all(1 <= step < CODES // 2 for step in steps), [s for s in steps if not 1 <= s < CODES // 2]
    assert len(codes) >= FRAMES - dropped - slips - 2, (len(codes), dropped, slips)
