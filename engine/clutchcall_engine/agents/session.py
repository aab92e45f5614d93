"""One agent bound to one call: uplink frames -> turn detector -> agent -> paced downlink.

Three tasks per binding, sharing nothing with other bindings:

- listen: reads the uplink (pcm16 frames at the binding's rate), runs the turn detector, queues
  events for the agent, and on barge-in flushes the playout queue and cancels the answer in flight;
- agent: hands events to `Agent.handle` one at a time and queues what it yields, re-cut into frames;
- play: sends one queued frame per frame period in real time (no catch-up bursts after a stall)
  and tells the echo guard what was played.

Every queue is bounded: events waiting for the agent (`events_queued`; audio frames beyond it are
dropped and counted, a turn event that does not fit means the agent is stuck and it is cut off)
and audio waiting to be played (`playout_ms`; the agent waits for room). An agent that raises, or
takes longer than `chunk_timeout_s` to yield its next chunk, is cut off: its tasks end, its queued
audio is dropped, the port is released. The call itself is not touched.
Timeouts use `asyncio.timeout`, not `asyncio.wait_for`: on Python 3.11 wait_for loses a cancellation
that lands as the awaited call completes, and a barge-in's cancel or `stop()` would then be ignored.

In turn-detection mode semantic, each pause the detector reports (`TurnPaused`) is judged by the
end-of-turn model on the judge's threads (agents/semantic.py); the verdict ends the turn or holds it
open, if the caller is still silent in that pause when it comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import ClassVar, Protocol

from .agent import Agent, AgentCall, AgentEvent, AudioFrame
from .echo import EchoGuard
from .semantic import EndOfTurnJudge, EndOfTurnModel
from .turn import BargeIn, SpeechStarted, TurnDetector, TurnEvent, TurnFinished, TurnPaused
from .vad import frame_bytes

log = logging.getLogger(__name__)

MODEL_WINDOW_MS = 8_000  # the turn audio an end-of-turn model is given: Smart Turn reads the last 8 s


class AudioPort(Protocol):
    """The agent's side of a call's audio: pcm16 uplink frames in, pcm16 downlink frames out."""

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def send(self, frame: bytes) -> None: ...

    async def release(self) -> None: ...


@dataclasses.dataclass(frozen=True)
class AgentLimits:
    events_queued: int = 256
    playout_ms: int = 30_000
    chunk_timeout_s: float = 5.0
    send_timeout_s: float = 1.0

    def __post_init__(self) -> None:
        for name in ("events_queued", "playout_ms", "chunk_timeout_s", "send_timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"AgentLimits.{name} must be > 0, got {getattr(self, name)}")


@dataclasses.dataclass
class AgentStats:
    frames_in: int = 0
    bad_frames: int = 0  # uplink frames of the wrong size, skipped
    frames_dropped: int = 0  # audio frames the agent's event queue had no room for
    speech_started: int = 0
    turns: int = 0
    barge_ins: int = 0
    flushed_frames: int = 0  # queued downlink frames a barge-in dropped
    played_frames: int = 0
    echo_suppressed: int = 0
    semantic_ends: int = 0  # turns the end-of-turn model ended at a pause
    semantic_holds: int = 0  # pauses the model judged unfinished (the turn waited for more)
    semantic_unjudged: int = 0  # pauses with no verdict (judge full, model failed): the VAD's silence decided
    semantic_stale: int = 0  # verdicts that came after their pause ended (the caller spoke, or the silence rule won)
    flush_latency_ms: list[float] = dataclasses.field(default_factory=list)  # the last 64: frame in -> queue flushed
    cut_off: str | None = None  # why the agent was cut off, if it was

    # The fields that only ever grow: what /metrics exports (agents/metrics.py), summed over bindings.
    COUNTERS: ClassVar[tuple[str, ...]] = (
        "frames_in",
        "bad_frames",
        "frames_dropped",
        "speech_started",
        "turns",
        "barge_ins",
        "flushed_frames",
        "played_frames",
        "echo_suppressed",
        "semantic_ends",
        "semantic_holds",
        "semantic_unjudged",
        "semantic_stale",
    )

    def counters(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.COUNTERS}


EventObserver = Callable[[str, TurnEvent], None]


class AgentSession:
    def __init__(
        self,
        call: AgentCall,
        agent: Agent,
        detector: TurnDetector,
        port: AudioPort,
        *,
        limits: AgentLimits | None = None,
        echo: EchoGuard | None = None,
        observer: EventObserver | None = None,
        end_of_turn: tuple[EndOfTurnModel, EndOfTurnJudge] | None = None,
    ) -> None:
        self.call = dataclasses.replace(call, end_turn=self.end_turn)
        self.agent = agent
        self.detector = detector
        self.port = port
        self.limits = limits or AgentLimits()
        self.echo = echo
        self.observer = observer
        self.end_of_turn = end_of_turn  # mode semantic: the model and the judge that runs it
        self.stats = AgentStats()
        self._frame_bytes = frame_bytes(call.sample_rate, call.frame_ms)
        self._events: asyncio.Queue[AgentEvent] = asyncio.Queue(self.limits.events_queued)
        self._playout: deque[bytes] = deque()
        self._playout_max = max(1, self.limits.playout_ms // call.frame_ms)
        self._room = asyncio.Event()
        self._room.set()
        self._playing = False
        self._answer: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._verdicts: set[asyncio.Task[None]] = set()
        self._done = asyncio.Event()
        self._closing = False

    @property
    def agent_speaking(self) -> bool:
        return self._playing or bool(self._playout)

    async def start(self) -> None:
        await self.agent.start(self.call)
        name = self.call.sid
        self._tasks = [
            asyncio.create_task(self._listen(), name=f"agent-listen-{name}"),
            asyncio.create_task(self._serve_agent(), name=f"agent-{name}"),
            asyncio.create_task(self._play(), name=f"agent-play-{name}"),
        ]

    def end_turn(self) -> bool:
        """Finish the caller's turn now (your code or the agent deciding, modes manual and semantic)."""
        event = self.detector.end_turn()
        if event is not None:
            self._on_turn_event(event, time.perf_counter())
        return event is not None

    async def wait(self) -> None:
        """Until the session ended (uplink over, stopped, or the agent cut off)."""
        await self._done.wait()

    async def stop(self, reason: str | None = None) -> None:
        """End the binding: tasks cancelled, queued audio dropped, the agent told, the port released."""
        if self._closing:
            await self._done.wait()
            return
        self._closing = True
        if reason is not None:
            self.stats.cut_off = reason
            log.warning("agent %s on %s cut off: %s", type(self.agent).__name__, self.call.sid, reason)
        current = asyncio.current_task()
        tasks = [*self._tasks, self._answer, *self._verdicts]
        for task in tasks:
            if task is not None and task is not current:
                task.cancel()
        for task in tasks:
            if task is not None and task is not current:
                with contextlib.suppress(BaseException):
                    await task
        self._playout.clear()
        try:
            async with asyncio.timeout(self.limits.chunk_timeout_s):
                await self.agent.stop()
        except Exception as exc:  # the agent's own cleanup failing must not leak into the call
            log.warning("agent %s stop() failed: %r", self.call.sid, exc)
        with contextlib.suppress(Exception):
            await self.port.release()
        self._done.set()

    def _cut_off(self, reason: str) -> None:
        if not self._closing:
            asyncio.get_running_loop().create_task(self.stop(reason))

    # -- listen --------------------------------------------------------------------------------

    async def _listen(self) -> None:
        try:
            async for frame in self.port:
                received = time.perf_counter()
                self.stats.frames_in += 1
                if len(frame) != self._frame_bytes:
                    self.stats.bad_frames += 1
                    continue
                at_ms = self.detector.now_ms
                for event in self.detector.push(frame, agent_speaking=self.agent_speaking):
                    if isinstance(event, TurnPaused):
                        self._ask_model(event)
                    else:
                        self._on_turn_event(event, received)
                if self.agent.wants_frames:
                    self._offer(AudioFrame(at_ms=at_ms, pcm=frame))
            self.stats.echo_suppressed = self.detector.echo_suppressed
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("agent %s uplink failed: %r", self.call.sid, exc)
        self.stats.echo_suppressed = self.detector.echo_suppressed
        if not self._closing:
            asyncio.get_running_loop().create_task(self.stop())

    def _ask_model(self, paused: TurnPaused) -> None:
        if self.end_of_turn is None:
            self.stats.semantic_unjudged += 1
            return
        model, judge = self.end_of_turn
        audio = self.detector.turn_audio(MODEL_WINDOW_MS)
        task = asyncio.get_running_loop().create_task(
            self._apply_verdict(paused, judge.judge(model, audio, self.call.sample_rate))
        )
        self._verdicts.add(task)
        task.add_done_callback(self._verdicts.discard)

    async def _apply_verdict(self, paused: TurnPaused, verdict: Awaitable[bool | None]) -> None:
        complete = await verdict
        if complete is None:
            self.stats.semantic_unjudged += 1
        elif complete:
            finished = self.detector.end_paused_turn(paused.pause)
            if finished is not None:
                self.stats.semantic_ends += 1
                self._on_turn_event(finished, time.perf_counter())
            else:
                self.stats.semantic_stale += 1
        elif self.detector.hold(paused.pause):
            self.stats.semantic_holds += 1
        else:
            self.stats.semantic_stale += 1

    def _on_turn_event(self, event: SpeechStarted | TurnFinished | BargeIn, received: float) -> None:
        if isinstance(event, BargeIn):
            self.stats.barge_ins += 1
            self.stats.flushed_frames += len(self._playout)
            self._playout.clear()
            self._room.set()
            self._playing = False
            if self._answer is not None:
                self._answer.cancel()
            latencies = self.stats.flush_latency_ms
            latencies.append((time.perf_counter() - received) * 1000)
            del latencies[:-64]
        elif isinstance(event, SpeechStarted):
            self.stats.speech_started += 1
        elif isinstance(event, TurnFinished):
            self.stats.turns += 1
        self.stats.echo_suppressed = self.detector.echo_suppressed
        if self.observer is not None:
            self.observer(self.call.sid, event)
        self._offer(event)

    def _offer(self, event: AgentEvent) -> None:
        try:
            self._events.put_nowait(event)
        except asyncio.QueueFull:
            if isinstance(event, AudioFrame):
                self.stats.frames_dropped += 1
            else:
                self._cut_off(f"stalled: {self.limits.events_queued} events waiting")

    # -- agent ---------------------------------------------------------------------------------

    async def _serve_agent(self) -> None:
        while True:
            event = await self._events.get()
            self._answer = asyncio.create_task(self._answer_event(event))
            await asyncio.wait({self._answer})
            answer, self._answer = self._answer, None
            if answer.cancelled():
                continue  # a barge-in cut the answer short
            exc = answer.exception()
            if exc is not None:
                reason = "stalled" if isinstance(exc, TimeoutError) else "raised"
                self._cut_off(f"{reason} on {type(event).__name__}: {exc!r}")
                return

    async def _answer_event(self, event: AgentEvent) -> None:
        chunks = self.agent.handle(event)
        remainder = b""
        try:
            while True:
                try:
                    async with asyncio.timeout(self.limits.chunk_timeout_s):
                        chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
                if not isinstance(chunk, bytes | bytearray | memoryview):
                    raise TypeError(f"agent yielded {type(chunk).__name__}, expected pcm16 bytes")
                remainder += bytes(chunk)
                whole = len(remainder) - len(remainder) % self._frame_bytes
                for i in range(0, whole, self._frame_bytes):
                    await self._queue_frame(remainder[i : i + self._frame_bytes])
                remainder = remainder[whole:]
            if remainder:
                await self._queue_frame(remainder.ljust(self._frame_bytes, b"\0"))
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(self.limits.chunk_timeout_s):
                        await aclose()

    async def _queue_frame(self, frame: bytes) -> None:
        while len(self._playout) >= self._playout_max:
            self._room.clear()
            await self._room.wait()
        self._playout.append(frame)

    # -- play ----------------------------------------------------------------------------------

    async def _play(self) -> None:
        loop = asyncio.get_running_loop()
        period = self.call.frame_ms / 1000
        due = loop.time()
        while True:
            frame = self._playout.popleft() if self._playout else None
            if frame is not None:
                self._room.set()
                try:
                    async with asyncio.timeout(self.limits.send_timeout_s):
                        await self.port.send(frame)
                except Exception as exc:
                    self._cut_off(f"downlink send failed: {exc!r}")
                    return
                self.stats.played_frames += 1
            self._playing = frame is not None
            if self.echo is not None:
                self.echo.played(frame)
            due += period
            delay = due - loop.time()
            if delay < -period:
                due = loop.time()  # fell behind (a stalled loop): resume the clock, do not burst
                delay = 0
            await asyncio.sleep(max(0.0, delay))
