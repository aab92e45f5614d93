"""A call leg's RTP, terminated through the core (clutchcall_core: RTP parser, jitter buffer) and bridged
to the call's MoQT tracks: what the carrier sends goes out on voice/<sid>/uplink after the jitter
buffer, what arrives on voice/<sid>/downlink is sent to the carrier as RTP. RFC 4733 telephone
events become DTMF reports (one per event, on its first end packet).

Latency: the leg's jitter buffer is the uplink's one playout point (the relay's stage plays the
gateway's paced track through without a second buffer: bridge/stage.py). It starts at
LEG_JITTER_INITIAL_DEPTH frames (and adapts to the measured jitter as the core does), and the leg's
20 ms tick follows its packets: the `ArrivalClock` puts it PHASE_MARGIN_MS after the first packet's
arrival, and again after an underrun (the carrier's clock drifted, or the stream paused), so a frame
waits for its tick by the margin, not by an arbitrary phase of up to a period. The downlink arrives
already played out by the stage's clock and goes out as RTP at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast

from ..bridge.stage import PHASE_MARGIN_MS
from .sdp import FORMATS, codec_name

if TYPE_CHECKING:
    import clutchcall_core

    from .conference import Conference

log = logging.getLogger("clutchcall.engine.sip.media")

Addr = tuple[str, int]
FRAME_MS = 20
DTMF_DIGITS = "0123456789*#ABCD"
# Two frames (so a lost frame is concealed in its own slot), not the core's default three: the core raises it
# when the packets' delays ask for more (1 + their 99th percentile in frames, up to its max_depth of 6).
LEG_JITTER_INITIAL_DEPTH = 2
# Ticks after an underrun or reset in which what the buffer holds beyond its target is dropped: a stall's held-back
# packets come in a burst, but not all in one go (the loop reads one datagram per turn, among its other work).
CATCH_UP_TICKS = 10


class ArrivalClock:
    """When a leg's 20 ms ticks fall (loop time, seconds): one per period, a margin after its packets arrive.

    Until the first packet it ticks from its start (the barge mixing runs on it with no caller audio). The
    first packet, and the first after `realign()` (an underrun), moves the next tick to arrival + margin; from
    there ticks are deadlines a period apart, never drifting, kept (catching up) through a stall.
    """

    def __init__(self, start: float, period_s: float = FRAME_MS / 1000, margin_s: float = PHASE_MARGIN_MS / 1000):
        self.period = period_s
        self.margin = margin_s
        self.next_tick = start + period_s
        self.aligned = False

    def arrival(self, now: float) -> bool:
        """A media packet arrived at `now`; True when that moved the next tick."""
        if self.aligned:
            return False
        self.aligned = True
        self.next_tick = now + self.margin
        return True

    def realign(self) -> None:
        self.aligned = False

    def advance(self) -> float:
        """The tick at `next_tick` ran: the next one."""
        self.next_tick += self.period
        return self.next_tick


class UplinkWriter(Protocol):
    def write(self, payload: bytes, *, end_of_group: bool = False) -> tuple[int, int]: ...

    def close(self) -> None: ...


class AudioBridge(Protocol):
    """The MoQT side of a call: `clutchcall_runtime`'s client against the engine's relay, or a test double."""

    async def publish_uplink(self, sid: str, capability: str) -> UplinkWriter: ...

    def downlink(self, sid: str, capability: str) -> AsyncIterator[bytes]: ...


class MoqtBridge:
    """An AudioBridge over one MoQT client session (`clutchcall_runtime.moqt.client.Client`)."""

    def __init__(self, client: object, retry_s: float = 0.5) -> None:
        from clutchcall_runtime.moqt.client import Client

        assert isinstance(client, Client)
        self.client = client
        self.retry_s = retry_s

    async def publish_uplink(self, sid: str, capability: str) -> UplinkWriter:
        return await self.client.publish(("voice", sid), "uplink", capability=capability)

    async def downlink(self, sid: str, capability: str) -> AsyncIterator[bytes]:
        """The downlink in the leg's codec: the relay transcodes to the capability asked for."""
        from clutchcall_runtime.moqt.errors import RequestError

        while True:  # the downlink's publisher may come later than the call: resubscribe until it does
            try:
                sub = await self.client.subscribe(("voice", sid), "downlink", capability=capability)
            except RequestError:
                await asyncio.sleep(self.retry_s)
                continue
            async for obj in sub:
                yield obj.payload
            await asyncio.sleep(self.retry_s)


@dataclass
class MediaStats:
    received: int = 0
    malformed: int = 0
    foreign: int = 0  # an unnegotiated payload type (any source address is taken: carriers behind NAT move)
    sent: int = 0
    published: int = 0
    dtmf: int = 0
    behind_time: int = 0  # slots (frames, or gaps) dropped at playout after a stall: passed (RtpLeg._drop_behind_time)


class RtpLeg(asyncio.DatagramProtocol):
    """One RTP socket of the port range, for one call."""

    def __init__(self, on_dtmf: Callable[[str, int], None]) -> None:
        import clutchcall_core  # the core is needed only once a call has media, not to import the engine

        self.core = clutchcall_core
        self.on_dtmf = on_dtmf
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0
        self.remote: Addr | None = None
        self.codec = 0
        self.payload_type = 0
        self.telephone_event_pt: int | None = None
        self.clock_rate = 8000
        self.sending = True
        self.stats = MediaStats()
        self.jitter: clutchcall_core.jitter.JitterBuffer | None = None
        self.conference: Conference | None = None  # a supervisor's mixing (barge); runs on this leg's clock
        self._dtmf_seen: set[int] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self.clock: ArrivalClock | None = None  # the uplink's ticks, once bridged
        self._tick_timer: asyncio.TimerHandle | None = None
        self._writer: UplinkWriter | None = None
        self._playing = False  # the jitter buffer played a frame since its last underrun
        self._stretches = 0  # its count of stretch ticks when last seen
        self._catching_up = 0  # ticks left, after an underrun or a reset, in which frames behind time are dropped
        self._ssrc = random.getrandbits(32)
        self._seq = random.getrandbits(16)
        self._ts = random.getrandbits(32)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def negotiate(self, remote: Addr, codec: int, payload_type: int, telephone_event_pt: int | None) -> None:
        fmt = next(f for f in FORMATS if f.codec == codec)
        if self.jitter is None or self.clock_rate != fmt.clock_rate:
            self.jitter = self.core.jitter.JitterBuffer(
                clock_rate=fmt.clock_rate, frame_ms=FRAME_MS, initial_depth=LEG_JITTER_INITIAL_DEPTH
            )
            self._playing, self._stretches, self._catching_up = False, 0, 0
        self.remote, self.codec, self.payload_type = remote, codec, payload_type
        self.telephone_event_pt, self.clock_rate = telephone_event_pt, fmt.clock_rate

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        try:
            packet = self.core.rtp.parse(data)
        except ValueError:
            self.stats.malformed += 1
            return
        self.stats.received += 1
        if packet.payload_type == self.telephone_event_pt and self.telephone_event_pt is not None:
            self._telephone_event(packet.timestamp, packet.payload)
        elif packet.payload_type == self.payload_type and self.jitter is not None:
            self.jitter.insert_rtp(data, int(time.monotonic() * 1e6))
            if self.clock is not None and self.clock.arrival(asyncio.get_running_loop().time()):
                self._schedule_tick()
        else:
            self.stats.foreign += 1

    def _telephone_event(self, timestamp: int, payload: bytes) -> None:
        if len(payload) < 4:
            self.stats.malformed += 1
            return
        event, flags, duration = payload[0], payload[1], int.from_bytes(payload[2:4], "big")
        if not flags & 0x80 or timestamp in self._dtmf_seen or event >= len(DTMF_DIGITS):
            return  # not the end yet, an end retransmission (RFC 4733 2.5.1.4), or not a DTMF event
        if len(self._dtmf_seen) >= 64:
            self._dtmf_seen.clear()
        self._dtmf_seen.add(timestamp)
        self.stats.dtmf += 1
        self.on_dtmf(DTMF_DIGITS[event], duration * 1000 // self.clock_rate)

    def start_bridge(self, bridge: AudioBridge, sid: str) -> None:
        self._tasks.append(asyncio.create_task(self._uplink(bridge, sid)))
        self._tasks.append(asyncio.create_task(self._downlink(bridge, sid)))

    async def _uplink(self, bridge: AudioBridge, sid: str) -> None:
        self._writer = await bridge.publish_uplink(sid, f"voice/{codec_name(self.codec)}")
        loop = asyncio.get_running_loop()
        self.clock = ArrivalClock(loop.time())
        self._schedule_tick()
        try:
            await loop.create_future()  # the ticks run on timers until close() cancels this task
        finally:
            self.clock = None  # a packet arriving while the leg closes schedules no tick
            if self._tick_timer is not None:
                self._tick_timer.cancel()
            self._writer.close()

    def _schedule_tick(self) -> None:
        assert self.clock is not None
        if self._tick_timer is not None:
            self._tick_timer.cancel()
        self._tick_timer = asyncio.get_running_loop().call_at(self.clock.next_tick, self._tick)

    def _tick(self) -> None:
        assert self.clock is not None and self._writer is not None
        self.clock.advance()
        self._schedule_tick()
        try:
            payload = self.tick_frame()
            if self.conference is not None:
                payload = self.conference.tick(payload)
            if payload is not None:
                self._writer.write(payload)
                self.stats.published += 1
        except Exception:  # a failing tick must not stop the leg's clock
            log.exception("uplink tick failed")

    def tick_frame(self) -> bytes | None:
        """This 20 ms period's frame out of the jitter buffer (None: nothing to play, or not negotiated yet)."""
        if self.jitter is None:
            return None
        frame = self.jitter.tick()
        if frame.kind != "wait":
            self._playing = True
            if self._catching_up:
                self._catching_up -= 1
                frame = self._drop_behind_time(frame)
        else:
            # A wait while playing: an underrun or a reset (a stall's held-back packets may follow in a burst), or a
            # stretch (the buffer growing its depth for more jitter, frames still held: nothing is behind time; it
            # may stretch several ticks in a row, hence the count kept at every wait). Either way the next packet
            # sets the phase again: after a stretch that takes its extra frame of delay back when the packet comes
            # early in the period, which at 10 ms of jitter kept the engine's uplink 20 ms faster with no more late
            # frames (benchmarks/README).
            stretches = self.jitter.stats()["stretches"]
            if self._playing:
                self._playing = False
                if self.clock is not None:
                    self.clock.realign()
                if stretches == self._stretches:
                    self._catching_up = CATCH_UP_TICKS
            self._stretches = stretches
        return frame.payload if frame.kind == "frame" else None

    def _drop_behind_time(self, frame: clutchcall_core.jitter.Frame) -> clutchcall_core.jitter.Frame:
        """A frame played in the first CATCH_UP_TICKS after re-buffering, with the buffer beyond its target depth:
        packets held back by a stall (the network's, or this host's while the leg's clock stopped) coming in a burst
        on top of the refill. Their slots have passed: played, they would keep the stall's length as delay for as
        long as the core's shrinking takes (a frame a second), so they are dropped now, oldest first (counted)."""
        assert self.jitter is not None
        stats = self.jitter.stats()
        for _ in range(stats["depth"] - stats["target_depth"]):
            self.stats.behind_time += 1
            frame = self.jitter.tick()
        return frame

    @property
    def bridged(self) -> bool:
        return bool(self._tasks)

    @property
    def frame_samples(self) -> int:
        return self.clock_rate * FRAME_MS // 1000

    async def _downlink(self, bridge: AudioBridge, sid: str) -> None:
        async for payload in bridge.downlink(sid, f"voice/{codec_name(self.codec)}"):
            if self.conference is not None:
                self.conference.agent_frame(payload)  # sent to the caller by the conference's tick
            else:
                self.send_frame(payload, self.frame_samples)

    def send_frame(self, payload: bytes, samples: int) -> None:
        if self.transport is None or self.remote is None:
            return
        if not self.sending:  # on hold: the media clock runs on, so the timestamp jumps when we resume (RFC 3550)
            self._ts = (self._ts + samples) & 0xFFFFFFFF
            return
        packet = self.core.rtp.build(
            payload, payload_type=self.payload_type, sequence=self._seq, timestamp=self._ts, ssrc=self._ssrc
        )
        self._seq = (self._seq + 1) & 0xFFFF
        self._ts = (self._ts + samples) & 0xFFFFFFFF
        self.transport.sendto(packet, self.remote)
        self.stats.sent += 1

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.transport is not None:
            self.transport.close()


class PortRange:
    """The RTP ports (even numbers of [first, last]) handed to calls; a call takes one until it ends."""

    def __init__(self, host: str, first: int, last: int) -> None:
        self.host = host
        self.free = list(range(first + (first & 1), last + 1, 2))
        random.shuffle(self.free)
        self.exhausted = 0

    async def open(self, make: Callable[[], RtpLeg]) -> RtpLeg:
        loop = asyncio.get_running_loop()
        for _ in range(len(self.free)):
            port = self.free.pop()
            try:
                _, leg = await loop.create_datagram_endpoint(make, local_addr=(self.host, port))
            except OSError:
                self.free.insert(0, port)  # taken by someone else: try it again later
                continue
            leg.port = port
            return leg
        self.exhausted += 1
        raise OSError("no free RTP port in the configured range")

    def release(self, port: int) -> None:
        if port:
            self.free.append(port)


BridgeFactory = Callable[[], Awaitable[AudioBridge]]


def relay_bridge(url: str, token: str, cert_sha256: str | None) -> BridgeFactory:
    """A BridgeFactory connecting one MoQT client (auto-reconnecting) to the engine's own relay (`url`: memory://… in
    process, or moqt://… where the relay is elsewhere)."""

    async def factory() -> AudioBridge:
        from clutchcall_runtime.moqt.client import connect

        return MoqtBridge(await connect(url, token, cert_sha256=cert_sha256))

    return factory
