"""A supervisor on a live call (the legacy `barge`): who hears whom, and the per-call mixing.

Three parties: the caller (the carrier leg's RTP), the agent side (what arrives on voice/<sid>/downlink
and what goes out on voice/<sid>/uplink) and the supervisor (a second SIP leg of the same sid). What each
hears, per BargeMode (`HEARS`):

    listen   caller <- agent             agent <- caller               supervisor <- caller + agent
    whisper  caller <- agent             agent <- caller + supervisor  supervisor <- caller + agent
    barge    caller <- agent + super.    agent <- caller + supervisor  supervisor <- caller + agent

Every 20 ms tick of the call leg's clock takes at most one frame of each party, decodes what is mixed to
16-bit PCM through the core (G.711 or Opus, resampled to the mix rate when the legs' rates differ), adds
with saturation and re-encodes in the listener's codec. A party with no frame this tick is silence; a
listener who hears a single present party in its own codec gets that payload untouched; a listener who
hears nobody this tick gets nothing (as a leg without a conference sends nothing when nothing arrives).
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from clutchcall import BargeMode, Codec

from .sdp import FORMATS

if TYPE_CHECKING:
    import clutchcall_core

log = logging.getLogger("clutchcall.engine.sip.conference")

FRAME_MS = 20
AGENT_QUEUE_FRAMES = 5
"""Downlink frames held for the next ticks (100 ms): the downlink arrives in bursts, the ticks are even."""

Pcm = npt.NDArray[np.int16]


class Party(Enum):
    CALLER = "caller"
    AGENT = "agent"
    SUPERVISOR = "supervisor"


HEARS: dict[BargeMode, dict[Party, tuple[Party, ...]]] = {
    BargeMode.LISTEN: {
        Party.CALLER: (Party.AGENT,),
        Party.AGENT: (Party.CALLER,),
        Party.SUPERVISOR: (Party.CALLER, Party.AGENT),
    },
    BargeMode.WHISPER: {
        Party.CALLER: (Party.AGENT,),
        Party.AGENT: (Party.CALLER, Party.SUPERVISOR),
        Party.SUPERVISOR: (Party.CALLER, Party.AGENT),
    },
    BargeMode.BARGE: {
        Party.CALLER: (Party.AGENT, Party.SUPERVISOR),
        Party.AGENT: (Party.CALLER, Party.SUPERVISOR),
        Party.SUPERVISOR: (Party.CALLER, Party.AGENT),
    },
}


def mix(frames: list[Pcm]) -> Pcm:
    """The sample-wise sum of equal-length int16 frames, saturated to int16."""
    total = np.sum(np.stack(frames).astype(np.int32), axis=0)
    mixed: Pcm = np.clip(total, -32768, 32767).astype(np.int16)
    return mixed


def _clock_rate(codec: int) -> int:
    rate = next((f.clock_rate for f in FORMATS if f.codec == codec), None)
    if rate is None:
        raise ValueError(f"codec: a conference mixes PCMU, PCMA or Opus, got {codec}")
    return rate


class _Fifo:
    """Samples in, exactly `size` out per take (zero-padded at start-up): a resampler's output per call may
    be a few samples short of a frame while its delay line fills."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.buf = np.zeros(0, np.int16)
        self.dropped = 0  # samples past a backlog of two frames

    def put_take(self, samples: Pcm) -> Pcm:
        self.buf = np.concatenate([self.buf, samples])
        if len(self.buf) < self.size:
            self.buf = np.concatenate([np.zeros(self.size - len(self.buf), np.int16), self.buf])
        out, rest = self.buf[: self.size], self.buf[self.size :]
        self.dropped += max(0, len(rest) - 2 * self.size)
        self.buf = rest[: 2 * self.size]
        return out


class StreamCodec:
    """One direction of one party: payloads in its codec <-> PCM frames at the mix rate, through the core."""

    def __init__(self, codec: int, mix_rate: int) -> None:
        import clutchcall_core.g711
        import clutchcall_core.opus
        import clutchcall_core.resample

        self.codec = codec
        self.rate = _clock_rate(codec)
        self.mix_rate = mix_rate
        self.frame = mix_rate * FRAME_MS // 1000
        self.misfits = 0  # frames not 20 ms long: padded or cut to 20 ms
        g711 = clutchcall_core.g711
        self._g711_decode = g711.ulaw_decode if codec == Codec.G711_ULAW else g711.alaw_decode
        self._g711_encode = g711.ulaw_encode if codec == Codec.G711_ULAW else g711.alaw_encode
        self._opus_decoder: clutchcall_core.opus.Decoder | None = None
        self._opus_encoder: clutchcall_core.opus.Encoder | None = None
        if codec == Codec.OPUS:
            self._opus_decoder = clutchcall_core.opus.Decoder(self.rate, 1)
            self._opus_encoder = clutchcall_core.opus.Encoder(self.rate, 1, FRAME_MS)
        self._to_mix: clutchcall_core.resample.Resampler | None = None
        self._from_mix: clutchcall_core.resample.Resampler | None = None
        if self.rate != mix_rate:
            self._to_mix = clutchcall_core.resample.Resampler(self.rate, mix_rate)
            self._from_mix = clutchcall_core.resample.Resampler(mix_rate, self.rate)
            self._in_fifo, self._out_fifo = _Fifo(self.frame), _Fifo(self.rate * FRAME_MS // 1000)

    def decode(self, payload: bytes) -> Pcm:
        pcm = self._opus_decoder.decode(payload) if self._opus_decoder is not None else self._g711_decode(payload)
        samples = np.frombuffer(pcm, "<i2").astype(np.int16)
        if self._to_mix is not None:
            return self._in_fifo.put_take(np.frombuffer(self._to_mix.process(samples.tobytes()), "<i2"))
        return self._fit(samples, self.frame)

    def encode(self, pcm: Pcm) -> bytes:
        if self._from_mix is not None:
            pcm = self._out_fifo.put_take(np.frombuffer(self._from_mix.process(pcm.tobytes()), "<i2"))
        data = pcm.astype("<i2").tobytes()
        return self._opus_encoder.encode(data) if self._opus_encoder is not None else self._g711_encode(data)

    def _fit(self, samples: Pcm, size: int) -> Pcm:
        if len(samples) == size:
            return samples
        self.misfits += 1
        return np.concatenate([samples, np.zeros(max(0, size - len(samples)), np.int16)])[:size]


@dataclass
class Outputs:
    """One tick's payloads, each in its listener's codec; None: nothing to send this tick."""

    caller: bytes | None
    agent: bytes | None
    supervisor: bytes | None


class Mixer:
    """The mixing of one call with a supervisor, tick by tick; no I/O (see `Conference`)."""

    def __init__(self, mode: int, call_codec: int, supervisor_codec: int) -> None:
        if mode not in HEARS:
            raise ValueError(f"mode: expected listen, whisper or barge, got {mode}")
        self.mode = BargeMode(mode)
        self.codecs = {Party.CALLER: call_codec, Party.AGENT: call_codec, Party.SUPERVISOR: supervisor_codec}
        mix_rate = max(_clock_rate(call_codec), _clock_rate(supervisor_codec))
        self._in = {p: StreamCodec(c, mix_rate) for p, c in self.codecs.items()}
        self._out = {p: StreamCodec(c, mix_rate) for p, c in self.codecs.items()}
        self._heard = {p for heard in HEARS[self.mode].values() for p in heard}

    def tick(self, caller: bytes | None, agent: bytes | None, supervisor: bytes | None) -> Outputs:
        payloads = {Party.CALLER: caller, Party.AGENT: agent, Party.SUPERVISOR: supervisor}
        # every present party that someone hears is decoded each tick, so stateful decoders see the whole stream
        pcm = {p: self._in[p].decode(b) for p, b in payloads.items() if b is not None and p in self._heard}
        out: dict[Party, bytes | None] = {}
        for listener, heard in HEARS[self.mode].items():
            present = [p for p in heard if payloads[p] is not None]
            if not present:
                out[listener] = None
            elif len(present) == 1 and self.codecs[present[0]] == self.codecs[listener]:
                out[listener] = payloads[present[0]]
            else:
                out[listener] = self._out[listener].encode(mix([pcm[p] for p in present]))
        return Outputs(out[Party.CALLER], out[Party.AGENT], out[Party.SUPERVISOR])


@dataclass
class ConferenceStats:
    ticks: int = 0
    agent_dropped: int = 0  # downlink frames dropped past AGENT_QUEUE_FRAMES (oldest first)
    failed: int = 0  # ticks whose mixing raised (a payload the codec refused): that tick's mix is skipped


class Conference:
    """A supervisor attached to a call leg: the call leg's clock calls `tick` every 20 ms with the caller's
    frame and publishes what it returns on the uplink; the downlink's frames come in through `agent_frame`."""

    def __init__(
        self,
        mixer: Mixer,
        supervisor_frame: Callable[[], bytes | None],
        send_to_caller: Callable[[bytes], None],
        send_to_supervisor: Callable[[bytes], None],
        agent_queue_frames: int = AGENT_QUEUE_FRAMES,
    ) -> None:
        self.mixer = mixer
        self._supervisor_frame = supervisor_frame
        self._send_to_caller = send_to_caller
        self._send_to_supervisor = send_to_supervisor
        self._agent: collections.deque[bytes] = collections.deque()
        self._agent_max = agent_queue_frames
        self.stats = ConferenceStats()

    def agent_frame(self, payload: bytes) -> None:
        if len(self._agent) >= self._agent_max:
            self._agent.popleft()
            self.stats.agent_dropped += 1
        self._agent.append(payload)

    def tick(self, caller: bytes | None) -> bytes | None:
        """One 20 ms step: sends to the caller and the supervisor, returns the uplink's frame (or None)."""
        self.stats.ticks += 1
        agent = self._agent.popleft() if self._agent else None
        supervisor = self._supervisor_frame()
        try:
            out = self.mixer.tick(caller, agent, supervisor)
        except ValueError as exc:
            self.stats.failed += 1
            log.debug("conference tick skipped: %s", exc)
            return None
        if out.caller is not None:
            self._send_to_caller(out.caller)
        if out.supervisor is not None:
            self._send_to_supervisor(out.supervisor)
        return out.agent
