"""Turn detection: settings from the IDL, figures on labelled fixtures, and a property test of the state machine."""

from __future__ import annotations

import math

import pytest
from clutchcall.enums import TurnDetectionMode
from clutchcall.messages import BargeIn as BargeInSettings
from clutchcall.messages import TurnDetection, VadSettings
from clutchcall_engine.agents import (
    BargeIn,
    SpeechStarted,
    TurnDetector,
    TurnFinished,
    TurnSettings,
    TurnSettingsError,
)
from clutchcall_engine.agents.turn import (
    BARGE_IN_GAP_MS,
    MAX_SILENCE_DURATION_MS,
    MIN_TURN_SPEECH_MS,
    ONSET_MS,
    SEMANTIC_HOLD_FACTOR,
    SEMANTIC_PAUSE_MS,
    TurnPaused,
)
from evaluate import detector, score_turns
from hypothesis import given, settings
from hypothesis import strategies as st
from speech_fixtures import Fixture


def test_defaults_are_the_idls() -> None:
    s = TurnSettings.from_idl(None)
    assert s.mode == TurnDetection().mode_or_default() == TurnDetectionMode.SERVER_VAD
    assert s.threshold == VadSettings().threshold_or_default()
    assert s.prefix_padding_ms == VadSettings().prefix_padding_ms_or_default()
    assert s.silence_duration_ms == VadSettings().silence_duration_ms_or_default()
    assert s.barge_in == BargeInSettings().enabled_or_default()
    assert s.barge_in_min_speech_ms == BargeInSettings().min_speech_ms_or_default()
    assert TurnSettings.from_idl(TurnDetection(mode=TurnDetectionMode.UNSPECIFIED)).mode == TurnDetectionMode.SERVER_VAD


@pytest.mark.parametrize(
    ("td", "field"),
    [
        (TurnDetection(vad=VadSettings(threshold=1.5)), "turn_detection.vad.threshold"),
        (TurnDetection(vad=VadSettings(threshold=math.nan)), "turn_detection.vad.threshold"),
        (TurnDetection(vad=VadSettings(silence_duration_ms=0)), "turn_detection.vad.silence_duration_ms"),
        (TurnDetection(vad=VadSettings(silence_duration_ms=3_600_000)), "turn_detection.vad.silence_duration_ms"),
        (TurnDetection(vad=VadSettings(prefix_padding_ms=10_000)), "turn_detection.vad.prefix_padding_ms"),
        (TurnDetection(barge_in=BargeInSettings(min_speech_ms=99_999)), "turn_detection.barge_in.min_speech_ms"),
        (TurnDetection(mode=9), "turn_detection.mode"),
    ],
)
def test_bad_settings_name_their_field(td: TurnDetection, field: str) -> None:
    with pytest.raises(TurnSettingsError) as err:
        TurnSettings.from_idl(td)
    assert err.value.field == field
    assert str(err.value).startswith(field)


@pytest.mark.parametrize("accurate", [True, False], ids=["silero", "webrtc"])
@pytest.mark.parametrize("name", ["single", "pauses", "backchannels", "noisy_speech", "second_voice", "overlap"])
def test_every_turn_found_once_after_the_silence(scenarios: dict[str, Fixture], name: str, accurate: bool) -> None:
    fixture = scenarios[name]
    if not accurate and name == "noisy_speech":
        pytest.skip("webrtcvad alone ends a turn early in noise: reported by the benchmark, not a bound")
    score = score_turns(fixture, detector(accurate=accurate))
    silence = TurnSettings.from_idl(None).silence_duration_ms
    assert score.matched == score.true_turns == len(fixture.turns), score
    assert score.false_ends == 0, score
    assert all(silence <= lat <= silence + 200 for lat in score.latencies_ms), score.latencies_ms


def test_noise_alone_is_no_turn_with_silero(scenarios: dict[str, Fixture]) -> None:
    score = score_turns(scenarios["noise_only"], detector(accurate=True))
    assert score.detected == 0, score


def test_pause_inside_a_turn_ends_it_when_the_silence_is_shorter(scenarios: dict[str, Fixture]) -> None:
    """The 250 ms pause in 'pauses' is inside a turn at the default 500 ms; at 150 ms it is an end (a false one)."""
    td = TurnDetection(vad=VadSettings(silence_duration_ms=150))
    score = score_turns(scenarios["pauses"], detector(td=td))
    assert score.false_ends >= 1, score


def test_longer_silence_setting_moves_the_latency(scenarios: dict[str, Fixture]) -> None:
    td = TurnDetection(vad=VadSettings(silence_duration_ms=1000))
    score = score_turns(scenarios["single"], detector(td=td))
    assert score.matched == 1
    assert all(1000 <= lat <= 1200 for lat in score.latencies_ms), score.latencies_ms


def test_manual_mode_waits_for_end_turn(scenarios: dict[str, Fixture]) -> None:
    det = detector(td=TurnDetection(mode=TurnDetectionMode.MANUAL))
    events = [e for f in scenarios["pauses"].frames() for e in det.push(f)]
    assert not any(isinstance(e, TurnFinished) for e in events)
    assert any(isinstance(e, SpeechStarted) for e in events)
    finished = det.end_turn()
    assert finished is not None and det.end_turn() is None


def test_turn_audio_starts_with_the_prefix_padding(scenarios: dict[str, Fixture]) -> None:
    fixture = scenarios["single"]  # 500 ms of silence before the speech; default padding 300 ms
    det = detector()
    finished = [e for f in fixture.frames() for e in det.push(f) if isinstance(e, TurnFinished)]
    (turn,) = finished
    padding_ms = TurnSettings.from_idl(None).prefix_padding_ms
    start_ms = turn.at_ms - len(turn.audio) // 32
    assert turn.speech_started_ms - padding_ms - 20 <= start_ms <= turn.speech_started_ms - padding_ms + 20
    assert not turn.truncated


# -- the state machine alone, with a scripted VAD ------------------------------------------------


class ScriptedVad:
    sample_rate = 16000
    frame_ms = 20

    def __init__(self) -> None:
        self.next = False

    def is_speech(self, frame: bytes) -> bool:
        return self.next

    def reset(self) -> None:
        pass


@settings(max_examples=500, deadline=None)
@given(
    script=st.lists(st.tuples(st.booleans(), st.booleans()), max_size=400),
    silence_ms=st.integers(20, 600),
    min_speech_ms=st.integers(0, 300),
    barge=st.booleans(),
    manual=st.booleans(),
)
def test_state_machine_invariants(
    script: list[tuple[bool, bool]], silence_ms: int, min_speech_ms: int, barge: bool, manual: bool
) -> None:
    """A reference model of the rules in turn.py's docstring, frame by frame: onset, held turns over the agent
    (announced on a barge-in or ONSET_MS after the agent stops, re-anchored there), the silence, the drops."""
    td = TurnDetection(
        mode=TurnDetectionMode.MANUAL if manual else TurnDetectionMode.SERVER_VAD,
        vad=VadSettings(silence_duration_ms=silence_ms),
        barge_in=BargeInSettings(enabled=barge, min_speech_ms=min_speech_ms),
    )
    vad = ScriptedVad()
    det = TurnDetector(TurnSettings.from_idl(td), vad)
    in_turn = announced = False
    voiced_run = last_voiced_end = turn_voiced = clear = 0
    stretch_start = stretch_voiced = stretch_gap = barge_voiced = barge_gap = 0
    barged_this_playback = False
    for k, (voiced, speaking) in enumerate(script):
        vad.next = voiced
        events = det.push(bytes(640), agent_speaking=speaking)
        start, now = k * 20, (k + 1) * 20
        voiced_run = voiced_run + 1 if voiced else 0
        if voiced:
            last_voiced_end = now
            stretch_start = start if stretch_voiced == 0 else stretch_start
            stretch_voiced, stretch_gap = stretch_voiced + 20, 0
        else:
            stretch_gap += 20
            stretch_voiced = 0 if stretch_gap >= BARGE_IN_GAP_MS else stretch_voiced
        if not speaking:
            barged_this_playback, barge_voiced = False, 0
        elif voiced:
            barge_voiced, barge_gap = barge_voiced + 20, 0
        else:
            barge_gap += 20
            barge_voiced = 0 if barge_gap >= BARGE_IN_GAP_MS else barge_voiced
        started = [e for e in events if isinstance(e, SpeechStarted)]
        barges = [e for e in events if isinstance(e, BargeIn)]
        for e in barges:
            assert barge and speaking and not barged_this_playback and len(barges) == 1
            assert e.at_ms - e.speech_ms >= max(min_speech_ms, 20)
            barged_this_playback = True
        assert len(started) <= 1
        if in_turn:
            turn_voiced += 20 if voiced else 0
            if not announced:
                clear = 0 if speaking or stretch_voiced == 0 else clear + 20 * voiced
                if clear >= ONSET_MS:  # the agent stopped and the caller goes on: the turn takes the floor
                    assert started and started[0].speech_ms == stretch_start
                    announced, turn_voiced = True, stretch_voiced
                elif barges:  # a held turn barging in takes the floor from the barge's speech
                    assert started and started[0].speech_ms == barges[0].speech_ms
                    assert events.index(started[0]) < events.index(barges[0])
                    announced, turn_voiced = True, barge_voiced
                else:
                    assert not started
            else:
                assert not started
        elif voiced_run * 20 >= ONSET_MS:
            in_turn, announced, clear, turn_voiced = True, not (barge and speaking), 0, voiced_run * 20
            if announced:
                assert started and started[0].speech_ms == now - voiced_run * 20
            else:  # begun over the agent: held, unless it barges in on this very frame
                assert bool(started) == bool(barges)
                if barges:
                    announced, turn_voiced = True, barge_voiced
        else:
            assert not started
        finished = [e for e in events if isinstance(e, TurnFinished)]
        lapses = not manual or not announced
        if in_turn and lapses and now - last_voiced_end >= silence_ms:  # the turn ends on this frame, kept or not
            assert len(finished) == (announced and turn_voiced >= MIN_TURN_SPEECH_MS), (turn_voiced, announced)
            for e in finished:
                assert e.speech_ended_ms == last_voiced_end
                assert silence_ms <= e.at_ms - e.speech_ended_ms < silence_ms + 20
            in_turn = announced = False
        else:
            assert not finished
        assert det.in_turn == in_turn


def test_speech_over_the_agent_is_held_until_it_takes_the_floor() -> None:
    """A caller starting 100 ms before the agent's last word keeps the turn, from where the speech began; a
    backchannel while the agent talks raises nothing; a barge-in announces the turn from the barge's speech."""

    def run(
        speaking_until: int, *voiced: tuple[int, int], min_speech_ms: int = 150
    ) -> tuple[list[tuple[str, int]], int]:
        vad = ScriptedVad()
        det = TurnDetector(
            TurnSettings.from_idl(TurnDetection(barge_in=BargeInSettings(min_speech_ms=min_speech_ms))), vad
        )
        out = []
        for k in range(250):
            vad.next = any(start <= k * 20 < end for start, end in voiced)
            for e in det.push(bytes(640), agent_speaking=k * 20 < speaking_until):
                start = e.speech_started_ms if isinstance(e, TurnFinished) else e.speech_ms
                out.append((type(e).__name__, start))
        return out, det.dropped_backchannels

    assert run(1000, (900, 2900)) == ([("SpeechStarted", 900), ("TurnFinished", 900)], 0)
    # 140 ms of "mm-hmm" over the agent: under the default barge-in's 150 ms, over a turn's 120 ms
    assert run(3000, (900, 1040)) == ([], 1)
    assert run(3000, (1500, 2500)) == ([("SpeechStarted", 1500), ("BargeIn", 1500), ("TurnFinished", 1500)], 0)
    # an 80 ms leak holds a turn; 100 ms of speech after it barges in, but the turn counts only what barged in,
    # and 100 ms is under a turn's 120: dropped as short, not kept on the leak's speech
    events, _ = run(3000, (900, 980), (1200, 1300), min_speech_ms=100)
    assert events == [("SpeechStarted", 1200), ("BargeIn", 1200)]


def test_barge_in_gap_resets_the_count() -> None:
    td = TurnDetection(barge_in=BargeInSettings(min_speech_ms=100))
    vad = ScriptedVad()
    det = TurnDetector(TurnSettings.from_idl(td), vad)
    pattern = ([True] * 4 + [False] * (BARGE_IN_GAP_MS // 20)) * 5  # 80 ms bursts, each forgotten
    events = []
    for voiced in pattern:
        vad.next = voiced
        events += det.push(bytes(640), agent_speaking=True)
    assert not any(isinstance(e, BargeIn) for e in events)
    vad.next = True
    events = [e for _ in range(5) for e in det.push(bytes(640), agent_speaking=True)]
    assert sum(isinstance(e, BargeIn) for e in events) == 1


# -- mode semantic: pauses judged by an end-of-turn model ------------------------------------------


@settings(max_examples=400, deadline=None)
@given(
    runs=st.lists(st.tuples(st.booleans(), st.integers(1, 60)), max_size=24),
    verdicts=st.lists(st.tuples(st.sampled_from([True, False, None]), st.integers(0, 40)), max_size=40),
    silence_ms=st.integers(20, 800),
)
def test_semantic_pauses_and_verdicts(
    runs: list[tuple[bool, int]], verdicts: list[tuple[bool | None, int]], silence_ms: int
) -> None:
    """A reference model of mode semantic, frame by frame: one TurnPaused per pause once SEMANTIC_PAUSE_MS (or the
    silence, if shorter) has passed in a turn of MIN_TURN_SPEECH_MS; a verdict, arriving 0-40 frames later, acts
    only while that pause lasts: complete ends the turn, unfinished moves the backstop to the hold, none leaves the
    silence rule."""
    td = TurnDetection(mode=TurnDetectionMode.SEMANTIC, vad=VadSettings(silence_duration_ms=silence_ms))
    vad = ScriptedVad()
    det = TurnDetector(TurnSettings.from_idl(td), vad)
    pause_after = min(SEMANTIC_PAUSE_MS, silence_ms)
    hold_ms = min(MAX_SILENCE_DURATION_MS, SEMANTIC_HOLD_FACTOR * silence_ms)
    in_turn = pause_open = held = False
    voiced_run = last_voiced_end = turn_voiced = token = 0
    answers = iter(verdicts)
    pending: list[tuple[int, int, bool | None]] = []
    script = [voiced for voiced, frames in runs for _ in range(frames)]  # runs: pauses long enough to matter
    for k, voiced in enumerate(script):
        vad.next = voiced
        events = det.push(bytes(640))
        now = (k + 1) * 20
        voiced_run = voiced_run + 1 if voiced else 0
        if voiced:
            last_voiced_end, pause_open, held = now, False, False
        if in_turn:
            turn_voiced += 20 if voiced else 0
        elif voiced_run * 20 >= ONSET_MS:
            in_turn, turn_voiced = True, voiced_run * 20
        paused = [e for e in events if isinstance(e, TurnPaused)]
        finished = [e for e in events if isinstance(e, TurnFinished)]
        silent = now - last_voiced_end
        if in_turn and silent >= (hold_ms if held else silence_ms):
            assert not paused and len(finished) == (turn_voiced >= MIN_TURN_SPEECH_MS)
            in_turn = pause_open = held = False
        elif in_turn and not pause_open and silent >= pause_after and turn_voiced >= MIN_TURN_SPEECH_MS:
            assert not finished and len(paused) == 1
            token += 1
            assert paused[0].pause == token and paused[0].at_ms == now
            pause_open = True
            verdict = next(answers, None)
            if verdict is not None:
                pending.append((k + verdict[1], token, verdict[0]))
        else:
            assert not paused and not finished
        for _, pause, complete in [p for p in pending if p[0] == k]:
            active = in_turn and pause_open and pause == token
            if complete is True:
                ended = det.end_paused_turn(pause)
                assert (ended is not None) == active
                if ended is not None:
                    assert ended.speech_ended_ms == last_voiced_end and ended.at_ms == now
                    in_turn = pause_open = held = False
            elif complete is False:
                assert det.hold(pause) == active
                held = held or active
        assert det.in_turn == in_turn


def _semantic_run(verdict: bool | None, pause_ms: int, silence_ms: int = 500) -> list[tuple[str, int]]:
    """600 ms of speech, a pause of `pause_ms`, 600 ms more, then silence; the verdict comes 2 frames after each
    TurnPaused. (event, at_ms) in order."""
    vad = ScriptedVad()
    td = TurnDetection(mode=TurnDetectionMode.SEMANTIC, vad=VadSettings(silence_duration_ms=silence_ms))
    det = TurnDetector(TurnSettings.from_idl(td), vad)
    second = 600 + pause_ms
    out: list[tuple[str, int]] = []
    due: list[tuple[int, int]] = []
    for k in range((second + 600 + 3000) // 20):
        vad.next = k * 20 < 600 or second <= k * 20 < second + 600
        for e in det.push(bytes(640)):
            out.append((type(e).__name__, e.at_ms))
            if isinstance(e, TurnPaused):
                due.append((k + 2, e.pause))
        for _, pause in [d for d in due if d[0] == k]:
            if verdict is True and (ended := det.end_paused_turn(pause)) is not None:
                out.append(("TurnFinished", ended.at_ms))
            elif verdict is False:
                det.hold(pause)
    return out


def test_semantic_complete_ends_at_the_pause_and_unfinished_waits_for_the_backstop() -> None:
    # complete: the turn ends 200 ms into the first pause (+2 frames for the verdict), before the 500 ms rule
    assert _semantic_run(True, 700)[:3] == [("SpeechStarted", 60), ("TurnPaused", 800), ("TurnFinished", 840)]
    # unfinished: a 700 ms hesitation no longer ends the turn; after the last word the hold (4 x 500 ms) does
    events = _semantic_run(False, 700)
    assert [e for e, _ in events] == ["SpeechStarted", "TurnPaused", "TurnPaused", "TurnFinished"]
    assert events[-1][1] == 600 + 700 + 600 + SEMANTIC_HOLD_FACTOR * 500
    # no verdict (judge full, model failed): the silence rule, exactly as server_vad
    events = _semantic_run(None, 700)
    assert [(e, t) for e, t in events if e == "TurnFinished"] == [("TurnFinished", 1100), ("TurnFinished", 2400)]
    # a pause shorter than SEMANTIC_PAUSE_MS is not asked about
    assert [e for e, _ in _semantic_run(True, 160)][:3] == ["SpeechStarted", "TurnPaused", "TurnFinished"]
    assert _semantic_run(True, 160)[1][1] == 600 + 160 + 600 + SEMANTIC_PAUSE_MS


def test_a_verdict_for_a_pause_that_is_over_does_nothing() -> None:
    vad = ScriptedVad()
    det = TurnDetector(TurnSettings.from_idl(TurnDetection(mode=TurnDetectionMode.SEMANTIC)), vad)
    vad.next = True
    events = [e for _ in range(30) for e in det.push(bytes(640))]
    vad.next = False
    paused = [e for _ in range(10) for e in det.push(bytes(640)) if isinstance(e, TurnPaused)]
    assert len(paused) == 1 and [type(e) for e in events] == [SpeechStarted]
    vad.next = True
    det.push(bytes(640))  # the caller speaks again: that pause is over
    assert det.end_paused_turn(paused[0].pause) is None and det.hold(paused[0].pause) is False
    assert det.in_turn
    assert len(det.turn_audio(8000)) == 41 * 640 and len(det.turn_audio(100)) == 5 * 640
    vad.next = False
    second = [e for _ in range(10) for e in det.push(bytes(640)) if isinstance(e, TurnPaused)]
    assert len(second) == 1 and second[0].pause != paused[0].pause
    # the first pause's verdict arriving during the second pause must not act on it
    assert det.end_paused_turn(paused[0].pause) is None and det.hold(paused[0].pause) is False
    assert det.in_turn and det.hold(second[0].pause) is True
