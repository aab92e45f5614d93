"""An agent bound to a call through an in-memory port: replay, barge-in flush, faults cut off alone, bounds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import numpy as np
import pytest
from clutchcall.enums import ErrorCode, TurnDetectionMode
from clutchcall.messages import AgentBinding, TurnDetection, VadSettings
from clutchcall_engine.agents import (
    Agent,
    AgentBinder,
    AgentBindError,
    AgentCall,
    AgentEvent,
    AgentLimits,
    AudioFrame,
    BargeIn,
    BinderSettings,
    PromptAgent,
    ReplayAgent,
    SpeechStarted,
    TurnEvent,
    TurnFinished,
)
from clutchcall_engine.agents.metrics import AgentCollector
from clutchcall_engine.agents.semantic import EndOfTurnJudge
from clutchcall_engine.agents.smart_turn import ModelUnavailable
from clutchcall_engine.agents.turn import SEMANTIC_PAUSE_MS
from speech_fixtures import Fixture

FRAME = 640  # 20 ms of pcm16 at 16 kHz


class MemoryPort:
    """A call's audio as the agent sees it: frames pushed in by the test, frames sent recorded with their time."""

    def __init__(self) -> None:
        self.uplink: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.sent: list[tuple[float, bytes]] = []
        self.released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (frame := await self.uplink.get()) is not None:
            yield frame

    async def send(self, frame: bytes) -> None:
        self.sent.append((time.perf_counter(), frame))

    async def release(self) -> None:
        self.released = True

    async def feed(self, frames: list[bytes], realtime: bool = False) -> None:
        for f in frames:
            await self.uplink.put(f)
            await asyncio.sleep(0.02 if realtime else 0)


class Harness:
    def __init__(self, agents: dict[str, Agent], limits: AgentLimits | None = None, **kw: object) -> None:
        self.ports: dict[str, MemoryPort] = {}
        self.events: list[tuple[str, TurnEvent]] = []
        self.event_times: list[float] = []
        settings = BinderSettings(limits=limits or AgentLimits(), **kw)  # type: ignore[arg-type]
        self.binder = AgentBinder(
            self._open, {k: (lambda _b, a=a: a) for k, a in agents.items()}, settings, observer=self._observe
        )

    async def _open(self, sid: str, rate: int, frame_ms: int) -> MemoryPort:
        assert (rate, frame_ms) == (16000, 20)
        self.ports[sid] = MemoryPort()
        return self.ports[sid]

    def _observe(self, sid: str, event: TurnEvent) -> None:
        self.events.append((sid, event))
        self.event_times.append(time.perf_counter())


async def _until(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_replay_agent_plays_back_the_turn_sample_exact(scenarios: dict[str, Fixture]) -> None:
    async def main() -> None:
        h = Harness({"replay": ReplayAgent()})
        session = await h.binder.bind("CA1", AgentBinding(agent_id="replay"))
        frames = scenarios["backchannels"].frames()[:100]  # "Can you hear me?" and its silence
        await h.ports["CA1"].feed(frames)
        await _until(lambda: session.stats.turns == 1)
        (turn,) = [e for _, e in h.events if isinstance(e, TurnFinished)]
        wanted = len(turn.audio) // FRAME
        await _until(lambda: len(h.ports["CA1"].sent) >= wanted)
        played = b"".join(f for _, f in h.ports["CA1"].sent[:wanted])
        assert played == turn.audio
        # paced in real time: n frames take (n - 1) x 20 ms, never a burst
        times = [t for t, _ in h.ports["CA1"].sent[:wanted]]
        assert times[-1] - times[0] >= (wanted - 1) * 0.02 * 0.9
        assert await h.binder.unbind("CA1") is True
        assert h.ports["CA1"].released and await h.binder.unbind("CA1") is False

    asyncio.run(main())


def test_barge_in_flushes_the_queued_answer(scenarios: dict[str, Fixture], prompt: np.ndarray) -> None:
    async def main() -> None:
        agent = PromptAgent(prompt.astype("<i2").tobytes())  # ~6 s of speech
        h = Harness({"prompt": agent})
        session = await h.binder.bind("CA2", AgentBinding(agent_id="prompt"))
        port = h.ports["CA2"]
        first = scenarios["backchannels"].frames()[:100]
        await port.feed(first)
        await _until(lambda: len(port.sent) >= 25)  # the agent is half a second into its answer
        assert session.agent_speaking
        await port.feed(scenarios["single"].frames()[25:80], realtime=True)  # the caller talks over it
        await _until(lambda: session.stats.barge_ins == 1)
        await asyncio.sleep(0.2)
        assert session.stats.flushed_frames > 100
        assert max(session.stats.flush_latency_ms) < 20.0  # frame in -> queue flushed and answer cancelled
        assert any(isinstance(e, BargeIn) for _, e in h.events)
        (barged_at,) = [t for t, (_, e) in zip(h.event_times, h.events, strict=True) if isinstance(e, BargeIn)]
        assert port.sent[-1][0] < barged_at + 0.025  # nothing sent after the barge-in but a frame in flight
        await h.binder.close()

    asyncio.run(main())


class Raising(Agent):
    async def handle(self, event: AgentEvent) -> AsyncIterator[bytes]:
        if isinstance(event, TurnFinished):
            raise RuntimeError("model exploded")
        yield b""


class Stalling(Agent):
    async def handle(self, event: AgentEvent) -> AsyncIterator[bytes]:
        if isinstance(event, TurnFinished):
            await asyncio.sleep(3600)
        yield b""


class YieldsText(Agent):
    async def handle(self, event: AgentEvent) -> AsyncIterator[bytes]:
        if isinstance(event, TurnFinished):
            yield "hello"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [(Raising(), "raised on TurnFinished"), (Stalling(), "stalled on TurnFinished"), (YieldsText(), "raised")],
)
def test_a_failing_agent_is_cut_off_alone(scenarios: dict[str, Fixture], bad: Agent, reason: str) -> None:
    async def main() -> None:
        h = Harness({"bad": bad, "replay": ReplayAgent()}, AgentLimits(chunk_timeout_s=0.3))
        bad_session = await h.binder.bind("BAD", AgentBinding(agent_id="bad"))
        good_session = await h.binder.bind("GOOD", AgentBinding(agent_id="replay"))
        frames = scenarios["backchannels"].frames()[:100]
        await asyncio.gather(h.ports["BAD"].feed(frames), h.ports["GOOD"].feed(frames))
        await asyncio.wait_for(bad_session.wait(), 5)
        assert bad_session.stats.cut_off is not None and reason in bad_session.stats.cut_off
        assert h.ports["BAD"].released
        assert h.binder.session("BAD") is None and ("BAD", bad_session.stats.cut_off) in h.binder.ended
        await _until(lambda: len(h.ports["GOOD"].sent) >= 20)  # the other call is answered all the same
        assert h.binder.session("GOOD") is good_session and good_session.stats.cut_off is None
        await h.binder.close()

    asyncio.run(main())


class SlowListener(Agent):
    wants_frames = True

    async def handle(self, event: AgentEvent) -> AsyncIterator[bytes]:
        if isinstance(event, AudioFrame):
            await asyncio.sleep(0.05)
        return
        yield b""


def test_bad_frames_and_a_slow_reader_are_counted(scenarios: dict[str, Fixture]) -> None:
    async def main() -> None:
        h = Harness({"slow": SlowListener()}, AgentLimits(events_queued=8))
        session = await h.binder.bind("CA3", AgentBinding(agent_id="slow"))
        port = h.ports["CA3"]
        await port.feed([bytes(100), bytes(FRAME + 2)] + [bytes(FRAME)] * 50)
        await _until(lambda: session.stats.frames_in == 52)
        assert session.stats.bad_frames == 2
        assert session.stats.frames_dropped >= 50 - 8 - 2
        assert session.stats.cut_off is None
        await port.uplink.put(None)  # the uplink ends (hang-up): the binding ends by itself
        await asyncio.wait_for(session.wait(), 5)
        assert port.released and len(h.binder) == 0

    asyncio.run(main())


def test_bind_errors_name_code_and_field() -> None:
    async def main() -> None:
        h = Harness({"replay": ReplayAgent()}, max_bindings=1)
        cases: list[tuple[str, AgentBinding, ErrorCode, str]] = [
            ("", AgentBinding(agent_id="replay"), ErrorCode.INVALID_ARGUMENT, "sid"),
            ("CA", AgentBinding(agent_id="nope"), ErrorCode.NOT_FOUND, "agent.agent_id"),
            (
                "CA",
                AgentBinding(agent_id="replay", turn_detection=TurnDetection(vad=VadSettings(threshold=-1.0))),
                ErrorCode.INVALID_ARGUMENT,
                "agent.turn_detection.vad.threshold",
            ),
        ]
        for sid, binding, code, field in cases:
            with pytest.raises(AgentBindError) as err:
                await h.binder.bind(sid, binding)
            assert (err.value.code, err.value.field) == (code, field)
        with pytest.raises(ValueError, match="agent_id"):
            h.binder.register("", lambda _b: ReplayAgent())
        h.binder.register("late", lambda _b: ReplayAgent())
        assert (await h.binder.bind("CA0", AgentBinding(agent_id="late"))).call.sid == "CA0"
        assert await h.binder.unbind("CA0")
        first = await h.binder.bind("CA1", AgentBinding(agent_id="replay"))
        again = await h.binder.bind("CA1", AgentBinding(agent_id="replay"))  # replaces, within the bound
        assert first is not again and first.port.released is True  # type: ignore[attr-defined]
        with pytest.raises(AgentBindError) as err:
            await h.binder.bind("CA2", AgentBinding(agent_id="replay"))
        assert err.value.code == ErrorCode.RESOURCE_EXHAUSTED and h.binder.refused_full == 1
        await h.binder.close()
        assert len(h.binder) == 0

    asyncio.run(main())


def test_bind_before_the_call_has_audio_is_unavailable() -> None:
    async def no_audio_yet(sid: str, rate: int, frame_ms: int) -> MemoryPort:
        raise TimeoutError("no publisher appeared in time")

    async def main() -> None:
        binder = AgentBinder(no_audio_yet, {"replay": lambda _b: ReplayAgent()})
        with pytest.raises(AgentBindError) as err:
            await binder.bind("CA5", AgentBinding(agent_id="replay"))
        assert err.value.code == ErrorCode.UNAVAILABLE and ErrorCode.UNAVAILABLE.retryable
        assert "CA5" in str(err.value) and binder.attach_failures == 1 and len(binder) == 0

    asyncio.run(main())


class EndsTurnsItself(Agent):
    """Mode manual: the agent decides the caller is done as soon as speech starts (a stand-in for a model)."""

    async def start(self, call: AgentCall) -> None:
        self.call = call

    async def handle(self, event: AgentEvent) -> AsyncIterator[bytes]:
        if isinstance(event, SpeechStarted):
            assert self.call.end_turn() is True
            assert self.call.end_turn() is False  # no turn left to end
        elif isinstance(event, TurnFinished):
            yield event.audio


def test_manual_mode_turns_end_when_the_agent_says(scenarios: dict[str, Fixture]) -> None:
    async def main() -> None:
        h = Harness({"manual": EndsTurnsItself()})
        td = TurnDetection(mode=TurnDetectionMode.MANUAL)
        session = await h.binder.bind("CA9", AgentBinding(agent_id="manual", turn_detection=td))
        await h.ports["CA9"].feed(scenarios["single"].frames())
        await _until(lambda: session.stats.turns >= 1 and len(h.ports["CA9"].sent) > 0)
        turn = next(e for _, e in h.events if isinstance(e, TurnFinished))
        assert turn.at_ms - turn.speech_started_ms <= 100  # ended at onset, not after any silence
        assert session.stats.cut_off is None
        await h.binder.close()

    asyncio.run(main())


# -- mode semantic ----------------------------------------------------------------------------------


class FixedModel:
    """An end-of-turn model that always answers `p` after `delay_s` (on the judge's thread), or raises."""

    def __init__(self, p: float, delay_s: float = 0.0, fail: bool = False) -> None:
        self.p, self.delay_s, self.fail = p, delay_s, fail
        self.calls: list[int] = []  # bytes of audio it was given

    def complete_probability(self, pcm16: bytes, sample_rate: int) -> float:
        assert sample_rate == 16000 and len(pcm16) % FRAME == 0
        self.calls.append(len(pcm16))
        time.sleep(self.delay_s)
        if self.fail:
            raise RuntimeError("model exploded")
        return self.p


class ReplayWithModel(ReplayAgent):
    def __init__(self, model: FixedModel) -> None:
        self.end_of_turn = model


SEMANTIC = AgentBinding(agent_id="a", turn_detection=TurnDetection(mode=TurnDetectionMode.SEMANTIC))


@pytest.mark.parametrize(
    ("p", "fail", "delay_s", "counts", "latency"),
    [
        (0.9, False, 0.0, (1, 0, 0, 0), (SEMANTIC_PAUSE_MS, 400)),  # complete: ends 200 ms into the pause, not at 500
        (0.1, False, 0.0, (0, 1, 0, 0), (4 * 500, 4 * 500 + 100)),  # unfinished: waits for the hold
        (0.9, True, 0.0, (0, 0, 1, 0), (500, 560)),  # the model raising: the silence rule, the agent not cut off
        (0.9, False, 0.8, (0, 0, 0, 1), (500, 560)),  # slower than the silence rule: the verdict is stale
    ],
    ids=["complete", "unfinished", "model-fails", "model-too-slow"],
)
def test_semantic_mode_asks_the_agents_model_at_each_pause(
    scenarios: dict[str, Fixture],
    p: float,
    fail: bool,
    delay_s: float,
    counts: tuple[int, int, int, int],
    latency: tuple[int, int],
) -> None:
    ends, holds = counts[:2]

    async def main() -> None:
        model = FixedModel(p, delay_s=delay_s, fail=fail)
        h = Harness({"a": ReplayWithModel(model)})
        session = await h.binder.bind("CA10", SEMANTIC)
        fixture = scenarios["single"]
        await h.ports["CA10"].feed(fixture.frames() + [bytes(FRAME)] * 100, realtime=True)
        await _until(lambda: session.stats.turns == 1 and h.binder.judge is not None and h.binder.judge.pending == 0)
        await asyncio.sleep(0.05)  # the last verdict applied
        turn = next(e for _, e in h.events if isinstance(e, TurnFinished))
        assert latency[0] <= turn.at_ms - turn.speech_ended_ms <= latency[1]
        assert len(turn.audio) >= FRAME * (fixture.turns[0][1] - fixture.turns[0][0]) // 20
        stats = session.stats
        assert (stats.semantic_ends, stats.semantic_holds, stats.semantic_unjudged, stats.semantic_stale) == counts
        assert model.calls and max(model.calls) <= 8000 // 20 * FRAME  # the last 8 s at most
        assert session.stats.cut_off is None
        judge = h.binder.judge
        assert judge is not None and judge.stats.failed == int(fail) and judge.pending == 0
        scraped = {m.name: m.samples[0].value for m in AgentCollector(h.binder).collect()}
        assert scraped["clutchcall_agent_semantic_ends"] == ends and scraped["clutchcall_agent_semantic_holds"] == holds
        assert scraped["clutchcall_agent_end_of_turn_failed"] == int(fail)
        assert scraped["clutchcall_agent_end_of_turn_pending"] == scraped["clutchcall_agent_end_of_turn_skipped"] == 0
        await h.binder.close()

    asyncio.run(main())


def test_semantic_bind_without_a_model_is_unimplemented_naming_the_mode() -> None:
    def missing() -> FixedModel:
        raise ModelUnavailable("no Smart Turn model at /nowhere (run `make semantic-model`)")

    async def main() -> None:
        h = Harness({"a": ReplayAgent()})
        h.binder.default_end_of_turn = missing
        with pytest.raises(AgentBindError) as err:
            await h.binder.bind("CA11", SEMANTIC)
        assert (err.value.code, err.value.field) == (ErrorCode.UNIMPLEMENTED, "agent.turn_detection.mode")
        assert "make semantic-model" in str(err.value) and "CA11" not in h.ports
        # server_vad needs no model; an agent with its own model needs not the engine's
        await h.binder.bind("CA12", AgentBinding(agent_id="a"))
        h.binder.register("own", lambda _b: ReplayWithModel(FixedModel(0.9)))
        await h.binder.bind("CA13", AgentBinding(agent_id="own", turn_detection=SEMANTIC.turn_detection))
        await h.binder.close()

    asyncio.run(main())


def test_the_judge_is_bounded_and_counts_what_it_skips() -> None:
    async def main() -> None:
        judge = EndOfTurnJudge(workers=1, max_pending=2)
        slow = FixedModel(0.9, delay_s=0.2)
        first = asyncio.ensure_future(judge.judge(slow, bytes(FRAME), 16000))
        second = asyncio.ensure_future(judge.judge(slow, bytes(FRAME), 16000))
        await asyncio.sleep(0)  # both submitted
        assert await judge.judge(slow, bytes(FRAME), 16000) is None  # a third finds no room
        assert judge.stats.skipped_full == 1 and judge.pending == 2
        second.cancel()  # a caller that stops waiting withdraws its queued inference
        assert await first is True
        await asyncio.sleep(0.05)
        assert judge.pending == 0 and len(slow.calls) == 1
        for bad in (float("nan"), 1.5, -0.1):
            assert await judge.judge(FixedModel(bad), bytes(FRAME), 16000) is None
        assert judge.stats.failed == 3 and judge.stats.judged == 1 and judge.stats.complete == 1
        judge.close()
        with pytest.raises(ValueError, match="max_pending"):
            EndOfTurnJudge(max_pending=0)

    asyncio.run(main())
