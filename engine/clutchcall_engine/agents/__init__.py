"""Agents bound to calls: voice-activity detection, turn detection with barge-in, the agent interface."""

from .agent import Agent, AgentCall, AgentEvent, AudioFrame, PromptAgent, ReplayAgent
from .binding import AgentBinder, AgentBindError, BinderSettings
from .echo import EchoGuard
from .session import AgentLimits, AgentSession, AgentStats, AudioPort
from .turn import BargeIn, SpeechStarted, TurnDetector, TurnEvent, TurnFinished, TurnSettings, TurnSettingsError
from .vad import GatedVad, SileroVad, VadError, WebRtcVad

__all__ = [
    "Agent",
    "AgentBindError",
    "AgentBinder",
    "AgentCall",
    "AgentEvent",
    "AgentLimits",
    "AgentSession",
    "AgentStats",
    "AudioFrame",
    "AudioPort",
    "BargeIn",
    "BinderSettings",
    "EchoGuard",
    "GatedVad",
    "PromptAgent",
    "ReplayAgent",
    "SileroVad",
    "SpeechStarted",
    "TurnDetector",
    "TurnEvent",
    "TurnFinished",
    "TurnSettings",
    "TurnSettingsError",
    "VadError",
    "WebRtcVad",
]
