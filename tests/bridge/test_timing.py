"""Playout timing of a stage on a simulated clock: loss, late frames, jitter and underrun.

The source is G.711 mu-law (each frame a distinct constant code, so every output frame says which
input it came from) transcoded to pcm16 at 8 kHz, which is sample-exact: an output frame is either
one input frame decoded or concealment (silence), never a mix.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from bridge_support import DrivenStage, driven_stage, unclocked_relay
from clutchcall_engine.bridge.stage import JITTER_INITIAL_DEPTH, JITTER_MAX_DEPTH, PacedPlayout
from clutchcall_runtime.bridge import AudioFormat

SRC, DST = AudioFormat.of("g711_ulaw"), AudioFormat.of("pcm16", 8000)
SILENCE = bytes(DST.frame_bytes or 0)


def frame(i: int) -> bytes:
    return bytes([0x10 + i % 0x60]) * 160  # codes 0x10..0x6f: none decodes to 0 (silence)


def labels(core: ModuleType, out: list[bytes]) -> list[int | None]:
    """Which input each output frame was (None: concealment)."""
    by_pcm = {core.g711.ulaw_decode(frame(i)): i for i in range(0x60)}
    return [None if f == SILENCE else by_pcm[f] for f in out]


def stage(core: ModuleType, tmp_path: Path) -> DrivenStage:
    return driven_stage(unclocked_relay(core, tmp_path), SRC, DST)


def test_steady_stream_plays_in_order_with_one_frame_of_buffer(core: ModuleType, tmp_path: Path) -> None:
    s = stage(core, tmp_path)
    for i in range(30):
        s.feed(frame(i), i)
        s.tick()
    assert labels(core, s.out) == list(range(29))  # the first tick fills the buffer; then one frame per tick


def test_loss_costs_one_concealed_frame_and_no_backlog(core: ModuleType, tmp_path: Path) -> None:
    s = stage(core, tmp_path)
    for i in range(30):
        if i != 10:
            s.feed(frame(i), i)
        s.tick()
    expected: list[int | None] = [*range(10), None, *range(11, 29)]
    assert labels(core, s.out) == expected  # the slot of frame 10 is concealed; frame 11 keeps its slot
    assert s.counter("clutchcall_bridge_concealed_total", cause="loss") == 1


def test_late_frame_is_dropped_not_played_behind_time(core: ModuleType, tmp_path: Path) -> None:
    s = stage(core, tmp_path)
    for i in range(30):
        if i == 12:
            s.feed(frame(10), 10, direct=True)  # frame 10 arrives two periods late, after its slot was concealed
        if i != 10:
            s.feed(frame(i), i)
        s.tick()
    got = labels(core, s.out)
    assert got.count(10) == 0 and got.count(None) == 1
    assert got[-5:] == list(range(24, 29))  # no backlog: the stream ends where it would have
    assert s.counter("clutchcall_bridge_late_total") == 1


def test_burst_arrivals_play_out_at_the_clock(core: ModuleType, tmp_path: Path) -> None:
    """Frames arriving two at a time every 40 ms come out one per tick once the buffer has adapted."""
    s = stage(core, tmp_path)
    for i in range(0, 60, 2):
        s.feed(frame(i), i)
        s.feed(frame(i + 1), i + 1)
        s.tick(2)
    got = labels(core, s.out)
    played = [g for g in got if g is not None]
    assert played == sorted(played) and len(set(played)) == len(played)  # in order, none twice
    assert len(got) == 60  # two frames arrive before the first tick, so every tick plays: never skips or bunches
    # Adapting costs one concealed (stretch) frame per frame of added depth, no more. The core sizes the depth from
    # the delays' quantile: each frame is at most one period behind the fastest recent one, which the initial depth
    # already covers, so no frame is concealed (1 + 4 x the RFC 3550 jitter grew it by 3-4 frames, a stretch each).
    assert got.count(None) <= JITTER_MAX_DEPTH - JITTER_INITIAL_DEPTH
    assert None not in got[-30:]  # then it plays steadily


def test_underrun_keeps_the_clock_with_concealment(core: ModuleType, tmp_path: Path) -> None:
    s = stage(core, tmp_path)
    for i in range(10):
        s.feed(frame(i), i)
        s.tick()
    s.tick(15)  # the publisher goes quiet for 300 ms: every tick still emits a frame
    got = labels(core, s.out)
    assert got[:9] == list(range(9)) and got[9] == 9
    assert len(got) == 24 and got[10:] == [None] * 14
    assert s.counter("clutchcall_bridge_concealed_total", cause="underrun") == 14
    for i in range(10, 20):  # it comes back: playback resumes with no backlog of old frames
        s.feed(frame(i), i)
        s.tick()
    resumed = labels(core, s.out)[24:]
    assert [g for g in resumed if g is not None] == list(range(10, 10 + len([g for g in resumed if g is not None])))
    assert len(resumed) == 10


def test_opus_loss_is_concealed_by_plc_not_silence(core: ModuleType, tmp_path: Path) -> None:
    from bridge_support import Codecs, sine

    src = AudioFormat.of("opus", 16000)
    s = driven_stage(unclocked_relay(core, tmp_path), src, AudioFormat.of("pcm16", 16000))
    frames = Codecs(core).encode(src, sine(16000, 0.6))
    for i, f in enumerate(frames):
        if i != 20:
            s.feed(f, i)
        s.tick()
    concealed = s.out[19]  # the lost frame's slot (output lags input by one tick)
    assert len(concealed) == 640 and any(concealed)  # PLC continues the tone
    assert s.counter("clutchcall_bridge_concealed_total", cause="loss") == 1


# -- an already-paced source (the engine's SIP gateway): one playout point, the publisher's --

PACED_TENANT = "gateway"


def paced_stage(core: ModuleType, tmp_path: Path) -> DrivenStage:
    relay = unclocked_relay(core, tmp_path)
    relay.bridge.paced_tenants.add(PACED_TENANT)
    s = driven_stage(relay, SRC, DST, tenant=PACED_TENANT)
    assert s.stage.paced and isinstance(s.stage.jitter, PacedPlayout)  # no second jitter buffer
    return s


def test_only_the_paced_publisher_is_played_through(core: ModuleType, tmp_path: Path) -> None:
    relay = unclocked_relay(core, tmp_path)
    relay.bridge.paced_tenants.add(PACED_TENANT)
    s = driven_stage(relay, SRC, DST, tenant="t1")  # any other publisher keeps the stage's jitter buffer
    assert not s.stage.paced and not isinstance(s.stage.jitter, PacedPlayout)


def test_paced_frame_is_emitted_in_the_tick_it_arrives(core: ModuleType, tmp_path: Path) -> None:
    s = paced_stage(core, tmp_path)
    for i in range(30):
        s.feed(frame(i), i)
        s.tick()
        assert labels(core, s.out) == list(range(i + 1))  # no lag: frame i is out at the tick after its arrival


def test_paced_loss_conceals_its_slot_only(core: ModuleType, tmp_path: Path) -> None:
    s = paced_stage(core, tmp_path)
    for i in range(30):
        if i != 10:  # the leg had nothing to publish for this tick
            s.feed(frame(i), i)
        s.tick()
    assert labels(core, s.out) == [*range(10), None, *range(11, 30)]
    assert s.counter("clutchcall_bridge_concealed_total", cause="underrun") == 1


def test_paced_late_frame_is_dropped_and_the_next_keeps_its_slot(core: ModuleType, tmp_path: Path) -> None:
    s = paced_stage(core, tmp_path)
    for i in range(30):
        if i == 11:
            s.feed(frame(10), 10)  # frame 10 missed its tick (concealed); it comes with frame 11
        if i != 10:
            s.feed(frame(i), i)
        s.tick()
    assert labels(core, s.out) == [*range(10), None, *range(11, 30)]  # 10 never played, no backlog
    assert s.counter("clutchcall_bridge_late_total") == 1


def test_paced_out_of_order_and_duplicates_never_play_twice_or_backwards(core: ModuleType, tmp_path: Path) -> None:
    s = paced_stage(core, tmp_path)
    for i in range(5):
        s.feed(frame(i), i)
        s.tick()
    s.feed(frame(4), 4, direct=True)  # a copy of a played frame
    s.feed(frame(6), 6)
    s.feed(frame(5), 5, direct=True)  # older than the one held: its slot is taken
    s.tick()
    assert labels(core, s.out) == [0, 1, 2, 3, 4, 6]
    assert s.counter("clutchcall_bridge_late_total") == 1


def test_paced_bursts_never_build_a_backlog(core: ModuleType, tmp_path: Path) -> None:
    """Two frames in one period (a publisher catching up after a stall): the newer plays, the older is late."""
    s = paced_stage(core, tmp_path)
    for i in range(0, 40, 2):
        s.feed(frame(i), i)
        s.feed(frame(i + 1), i + 1)
        s.tick()
        assert labels(core, s.out)[-1] == i + 1  # always the newest: the delay never grows
    assert len(s.out) == 20 and s.counter("clutchcall_bridge_late_total") == 20


def test_paced_underrun_keeps_the_clock_and_resumes_on_time(core: ModuleType, tmp_path: Path) -> None:
    s = paced_stage(core, tmp_path)
    for i in range(10):
        s.feed(frame(i), i)
        s.tick()
    s.tick(15)
    for i in range(10, 20):
        s.feed(frame(i), i)
        s.tick()
    assert labels(core, s.out) == [*range(10), *[None] * 15, *range(10, 20)]
    assert s.counter("clutchcall_bridge_concealed_total", cause="underrun") == 15


def test_paced_sequence_numbers_wrap(core: ModuleType, tmp_path: Path) -> None:
    playout = PacedPlayout()
    for seq in (0xFFFE, 0xFFFF, 0, 1):
        assert playout.insert(seq, 0, 1, bytes([seq & 0xFF]), 0) == "inserted"
        assert playout.tick().payload == bytes([seq & 0xFF])
    assert playout.insert(0xFFFF, 0, 1, b"x", 0) == "late"
    assert playout.tick().kind == "wait"
