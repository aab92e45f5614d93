"""The AudioBridge inside the relay: transcoding on intent.

A subscriber states the audio shape it wants as its SUBSCRIBE's capability tag
(`clutchcall_runtime.bridge`: ``voice/pcm16;rate=16000``). When the track is published in another
shape, the relay attaches the subscriber to a `TranscodeStage` for (track, shape) instead of the
track itself: the stage taps the source's objects, plays them out through a jitter buffer on the
engine's clock and transcodes each frame with clutchcall_core. See `stage.py`.
"""

from .stage import AudioBridge, BridgeMetrics, TranscodeStage

__all__ = ["AudioBridge", "BridgeMetrics", "TranscodeStage"]
