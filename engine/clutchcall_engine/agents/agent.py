"""The agent interface, and the example agents.

An agent is told about the call it serves (`start`), then gets events in order through `handle`:
`AudioFrame` (only when `wants_frames` is true), `SpeechStarted`, `TurnFinished` (with the turn's
audio) and `BargeIn`. `handle` is an async generator: whatever pcm16 it yields (any length, the
call's sample rate, mono) is queued for the caller and played in real time. A barge-in flushes the
queue and cancels the generator still answering. The engine cuts an agent off when it raises or
when it takes longer than the session's `chunk_timeout_s` to yield its next chunk.

In turn-detection mode semantic the agent's `end_of_turn` model, if it has one, judges the caller's
pauses (agents/semantic.py); otherwise the engine's Smart Turn model does.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from typing import ClassVar

from clutchcall.messages import AgentBinding

from .semantic import EndOfTurnModel
from .turn import BargeIn, SpeechStarted, TurnFinished


@dataclasses.dataclass(frozen=True)
class AudioFrame:
    at_ms: int  # stream time of the frame's start
    pcm: bytes


AgentEvent = AudioFrame | SpeechStarted | TurnFinished | BargeIn


def _no_turn() -> bool:
    return False


@dataclasses.dataclass(frozen=True)
class AgentCall:
    sid: str
    binding: AgentBinding
    sample_rate: int
    frame_ms: int
    end_turn: Callable[[], bool] = _no_turn
    """Finish the caller's turn now (modes manual and semantic); True if there was one. Set by the session."""


class Agent(ABC):
    wants_frames: ClassVar[bool] = False
    end_of_turn: EndOfTurnModel | None = None  # mode semantic: this agent's own model, instead of the engine's

    async def start(self, call: AgentCall) -> None:  # noqa: B027 - optional hook
        """Called once before the first event."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Called once when the binding ends (unbind, hang-up, or the agent was cut off)."""

    @abstractmethod
    def handle(self, event: AgentEvent) -> AsyncIterator[bytes]:
        """Answer one event with audio (an async generator; yield nothing to stay silent)."""


class ReplayAgent(Agent):
    """Plays back each finished turn, as heard (prefix padding included): an echo test for a line."""

    async def handle(self, event: AgentEvent) -> AsyncIterator[bytes]:
        if isinstance(event, TurnFinished):
            yield event.audio


class PromptAgent(Agent):
    """Answers each finished turn with the same prompt (pcm16 at the call's rate)."""

    def __init__(self, prompt: bytes) -> None:
        if len(prompt) % 2:
            raise ValueError(f"prompt: {len(prompt)} bytes is not whole 16-bit samples")
        self.prompt = prompt

    async def handle(self, event: AgentEvent) -> AsyncIterator[bytes]:
        if isinstance(event, TurnFinished):
            yield self.prompt
