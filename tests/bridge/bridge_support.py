"""Shared by the bridge tests and benchmarks/bridge: test signals, decoders, and a stage driven frame by frame."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from clutchcall_engine.auth import verifier_for
from clutchcall_engine.bridge import AudioBridge, BridgeMetrics, TranscodeStage
from clutchcall_engine.config import EngineConfig, Limits
from clutchcall_engine.metrics import RelayMetrics
from clutchcall_engine.relay import Relay, RelayTrack, Subscriber
from clutchcall_runtime.bridge import AudioFormat
from clutchcall_runtime.moqt.session import MoqObject

# Every shape the bridge carries: G.711 at 8 kHz, PCM and Opus at each IDL rate (mono, 20 ms).
SHAPES = [AudioFormat.of("g711_ulaw"), AudioFormat.of("g711_alaw")] + [
    AudioFormat.of(codec, rate) for codec in ("pcm16", "opus") for rate in (8000, 16000, 24000, 48000)
]


def shape_id(fmt: AudioFormat) -> str:
    return f"{fmt.codec}@{fmt.sample_rate // 1000}k"


def sine(rate: int, seconds: float, freq: float = 1000.0, dbfs: float = -12.0) -> np.ndarray:
    n = int(rate * seconds)
    amplitude = 32767 * 10 ** (dbfs / 20)
    return np.round(amplitude * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype("<i2")


def rms_dbfs(pcm: np.ndarray) -> float:
    x = pcm.astype(np.float64)
    return float(20 * np.log10(np.sqrt(np.mean(x * x)) / 32767 + 1e-12))


def dominant_hz(pcm: np.ndarray, rate: int) -> float:
    x = pcm.astype(np.float64) * np.hanning(len(pcm))
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.argmax(spectrum) * rate / len(pcm))


class Codecs:
    """Encode PCM into a shape's frames and decode frames back to PCM, with the core's codecs directly."""

    def __init__(self, core: ModuleType) -> None:
        self.core = core

    def encode(self, fmt: AudioFormat, pcm: np.ndarray) -> list[bytes]:
        n = fmt.samples_per_frame
        frames = [pcm[i : i + n].tobytes() for i in range(0, len(pcm) - n + 1, n)]
        if fmt.codec == "pcm16":
            return frames
        if fmt.codec == "g711_ulaw":
            return [self.core.g711.ulaw_encode(f) for f in frames]
        if fmt.codec == "g711_alaw":
            return [self.core.g711.alaw_encode(f) for f in frames]
        enc = self.core.opus.Encoder(fmt.sample_rate, fmt.channels, fmt.frame_ms)
        return [enc.encode(f) for f in frames]

    def decode(self, fmt: AudioFormat, frames: list[bytes]) -> np.ndarray:
        if fmt.codec == "pcm16":
            raw = b"".join(frames)
        elif fmt.codec == "g711_ulaw":
            raw = b"".join(self.core.g711.ulaw_decode(f) for f in frames)
        elif fmt.codec == "g711_alaw":
            raw = b"".join(self.core.g711.alaw_decode(f) for f in frames)
        else:
            dec = self.core.opus.Decoder(fmt.sample_rate, fmt.channels)
            raw = b"".join(dec.decode(f) for f in frames)
        return np.frombuffer(raw, dtype="<i2")


@dataclass
class Capture:
    """Stands in for a subscriber's queue on the stage's output track: records what the stage emits."""

    items: list[Any] = field(default_factory=list)

    def push(self, item: Any) -> None:
        self.items.append(item)

    @property
    def payloads(self) -> list[bytes]:
        return [i.payload for i in self.items if hasattr(i, "payload")]


@dataclass
class DrivenStage:
    """A stage on an unclocked AudioBridge: `feed` is an arrival, `tick` one frame period of the engine's clock."""

    stage: TranscodeStage
    source: RelayTrack
    capture: Capture
    metrics: BridgeMetrics
    bridge: AudioBridge
    now_us: int = 0  # the simulated wall clock: arrivals are stamped with it, each tick advances it one period

    def feed(self, payload: bytes, index: int, group: int = 1000, *, direct: bool = False) -> None:
        """Frame `index` arrives (50 per group, as publishers write them); `direct`: straight into the stage,
        as the relay would for an object of an older subgroup stream (the relay's own cache needs order)."""
        obj = MoqObject(group + index // 50, 0, index % 50, 128, payload)
        if direct:
            self.stage.on_object(obj)
        else:
            self.source.on_object(obj)

    def tick(self, n: int = 1) -> None:
        for _ in range(n):
            self.stage.tick()
            self.now_us += self.stage.source_format.frame_ms * 1000

    @property
    def out(self) -> list[bytes]:
        return self.capture.payloads

    def counter(self, name: str, **labels: str) -> float:
        value = self.bridge.relay.metrics.registry.get_sample_value(name, labels or None)
        return 0.0 if value is None else value


def unclocked_relay(core: ModuleType, state_dir: Path) -> Relay:
    config = EngineConfig(state_dir=state_dir, limits=dataclasses.replace(Limits()))
    relay = Relay(config, verifier_for(config), RelayMetrics())
    relay.bridge = AudioBridge(relay, relay.bridge.metrics, core, clocked=False)
    return relay


def driven_stage(
    relay: Relay, src: AudioFormat, dst: AudioFormat, sid: str = "CA1", *, tenant: str = "t1"
) -> DrivenStage:
    """A source track published in `src` (by `tenant`) and a stage transcoding it to `dst`, with one captured
    subscriber."""
    key = ((b"voice", sid.encode()), b"uplink")
    source = RelayTrack(relay, key, src.tag, tenant)
    relay.tracks[key] = source
    output = relay.bridge.output_for(source, src, dst)
    capture = Capture()
    output.subscribers[(0, 0)] = Subscriber(peer=None, request_id=0, out=capture)  # type: ignore[arg-type]
    stage = relay.bridge.stages[(id(source), dst.tag)]
    driven = DrivenStage(stage, source, capture, relay.bridge.metrics, relay.bridge)
    relay.bridge.now_us = lambda: driven.now_us
    return driven
