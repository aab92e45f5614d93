"""Latency over the whole SIP path: carrier RTP in -> bridge frame out at an SDK client, and back.

The engine (EngineServer, in this process) with its SIP gateway dials a carrier: SIPp answers the INVITE
(engine/examples/demo/carrier.xml) and this script is the carrier's media, a plain UDP socket sending one
G.711 mu-law RTP packet per 20 ms, each frame one constant code out of 96 (a pattern recognisable after
resampling: a frame's median sample is its code's level). An SDK client attaches with
`client.bridge.attach(sid, codec="pcm16", sample_rate=16000)` and echoes every frame back. Measured per frame:
uplink = RTP sent by the carrier -> the pcm16 frame at the client (the leg's jitter buffer and clock, MoQT to
the relay, the transcoding stage, MoQT to the client); downlink = the client's send -> the RTP packet at the
carrier (MoQT to the relay, the stage, MoQT to the gateway, RTP). Everything shares one event loop, as in
bench_bridge.py's latency part.

`--netem "delay 20ms 10ms distribution normal loss 2%"` puts the carrier (SIPp and its RTP socket) in a network
namespace of this script's own behind a link with that jitter and loss both ways (tests/sip/jitter_link.py:
Linux netem on a veth pair, or, on a kernel without sch_netem, a user-space delay line drawing netem's delays;
the output says which). The engine-added latency is then reported apart from the network's: each packet's
one-way network delay is measured (the carrier's send -> the engine leg's datagram_received for the uplink,
the leg's send -> the carrier's receive for the downlink; one process, one monotonic clock), and the engine's
share is uplink: arrival at the engine's RTP socket -> pcm16 frame at the client, downlink: the client's send
-> the engine's RTP send. With it come the playout counters: packets dropped late, frames concealed (loss,
underrun) and the jitter buffers' final depth.

    PYTHONPATH=build/bindings/pkg .venv/bin/python benchmarks/bridge/bench_sip_latency.py [--frames 400]
    sudo ... bench_sip_latency.py --netem "delay 20ms 10ms distribution normal" [--frames 1500]

Run it against another checkout of the engine (before/after) with PYTHONPATH=<that>/engine:build/bindings/pkg.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "engine" / "examples" / "demo"), str(ROOT / "tests" / "sip")]

import clutchcall_core as core  # noqa: E402
import clutchcall_engine  # noqa: E402
import numpy as np  # noqa: E402
from clutchcall import CallStatus  # noqa: E402
from clutchcall.rpc import ApiClient  # noqa: E402
from clutchcall_engine.agents.echo import EchoGuard  # noqa: E402
from clutchcall_engine.agents.turn import TurnDetector, TurnSettings  # noqa: E402
from clutchcall_engine.agents.vad import GatedVad  # noqa: E402
from clutchcall_engine.auth import load_or_create_dev_key, mint_token  # noqa: E402
from clutchcall_engine.config import Address  # noqa: E402
from clutchcall_engine.server import EngineServer  # noqa: E402
from clutchcall_engine.sip.media import RtpLeg  # noqa: E402
from clutchcall_runtime.moqt.client import connect  # noqa: E402
from demo import HERE, LOOPBACK, free_port, loopback_config, offered_media  # type: ignore[import-not-found]  # noqa: E402
from jitter_link import JitterLink, NetemSpec, can_emulate  # noqa: E402

FRAME_S = 0.020
CODES = [bytes([0x10 + i]) * 160 for i in range(0x60)]  # mu-law codes with levels >= 16 apart
LEVELS = np.array([np.frombuffer(core.g711.ulaw_decode(c), dtype="<i2")[0] for c in CODES], dtype=np.float64)
MATCH_WITHIN_S = 1.0  # a code recurs every 1.92 s: a later event further than this from an earlier is no match

Event = tuple[float, int]  # (monotonic time, key: a code index or an RTP sequence number)


def pattern(pcm: bytes) -> int | None:
    """The code index whose level a frame's median sample is nearest to (None for silence)."""
    median = float(np.median(np.frombuffer(pcm, dtype="<i2")))
    i = int(np.argmin(np.abs(LEVELS - median)))
    return i if abs(LEVELS[i] - median) < 8 else None


def delays_ms(earlier: list[Event], later: list[Event]) -> list[tuple[float, float]]:
    """(time of the later event, ms since its earlier event of the same key) for each later event whose key's
    latest unmatched earlier event is at most MATCH_WITHIN_S before it; each earlier event is matched once."""
    waiting: dict[int, deque[float]] = defaultdict(deque)
    out: list[tuple[float, float]] = []
    events = sorted([(t, 0, k) for t, k in earlier] + [(t, 1, k) for t, k in later])
    for t, is_later, key in events:
        queue = waiting[key]
        if not is_later:
            queue.append(t)
            continue
        while queue and t - queue[0] > MATCH_WITHIN_S:
            queue.popleft()
        if queue:
            out.append((t, (t - queue.pop()) * 1000))
            queue.clear()  # older copies of this key are superseded
    return out


class Carrier(asyncio.DatagramProtocol):
    """The carrier's RTP: sends CODES in turn, logs each packet out (by code and sequence) and each one in."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.peer: tuple[str, int] | None = None
        self.sent: list[Event] = []  # by code index
        self.sent_seq: list[Event] = []  # by RTP sequence number
        self.code_of_seq: dict[int, int] = {}
        self.received: list[Event] = []  # downlink packets, by code index
        self.ssrc, self.seq, self.ts = (secrets.randbelow(1 << n) for n in (32, 16, 32))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        now = time.monotonic()
        i = pattern(core.g711.ulaw_decode(core.rtp.parse(data).payload))
        if i is not None:
            self.received.append((now, i))

    def send(self, i: int) -> None:
        assert self.transport is not None and self.peer is not None
        packet = core.rtp.build(CODES[i], payload_type=0, sequence=self.seq, timestamp=self.ts, ssrc=self.ssrc)
        now = time.monotonic()
        self.sent.append((now, i))
        self.sent_seq.append((now, self.seq))
        self.code_of_seq[self.seq] = i
        self.seq, self.ts = (self.seq + 1) & 0xFFFF, (self.ts + 160) & 0xFFFFFFFF
        self.transport.sendto(packet, self.peer)


@dataclass
class EngineTaps:
    """When the engine's legs received each RTP packet (by sequence) and sent each one (payload kept)."""

    arrived: list[Event] = field(default_factory=list)
    sent: list[tuple[float, bytes]] = field(default_factory=list)


@contextlib.contextmanager
def tapped_legs() -> Iterator[EngineTaps]:
    """Timestamps at the engine's RTP socket: RtpLeg's receive and send, wrapped for the run (one clock with the
    carrier's, so a packet's network delay is measured, not assumed)."""
    taps = EngineTaps()
    received, send_frame = RtpLeg.datagram_received, RtpLeg.send_frame

    def datagram_received(leg: RtpLeg, data: bytes, addr: tuple[str | object, int]) -> None:
        if len(data) >= 4:
            taps.arrived.append((time.monotonic(), int.from_bytes(data[2:4], "big")))
        received(leg, data, addr)

    def sent(leg: RtpLeg, payload: bytes, samples: int) -> None:
        taps.sent.append((time.monotonic(), payload))
        send_frame(leg, payload, samples)

    setattr(RtpLeg, "datagram_received", datagram_received)  # noqa: B010  # patched for the run only
    setattr(RtpLeg, "send_frame", sent)  # noqa: B010
    try:
        yield taps
    finally:
        setattr(RtpLeg, "datagram_received", received)  # noqa: B010
        setattr(RtpLeg, "send_frame", send_frame)  # noqa: B010


def turn_detector() -> TurnDetector:
    """The turn detection a bound agent runs on the uplink, with the IDL's defaults: the webrtcvad gate,
    Silero, and the echo guard."""
    settings = TurnSettings.from_idl(None)
    vad = GatedVad(16000, 20, threshold=settings.threshold, accurate=True)
    return TurnDetector(settings, vad, EchoGuard(16000, 20))


@dataclass
class Result:
    """One run's per-frame figures (ms) and the playout counters at its end."""

    up: list[float]  # carrier send -> frame at the client
    down: list[float]  # client send -> RTP at the carrier
    up_engine: list[tuple[float, float]]  # (client time, ms): arrival at the engine's socket -> frame at the client
    up_network: list[float]
    down_engine: list[float]  # client send -> the engine's RTP send
    down_network: list[float]
    frames: list[tuple[float, int | None]]  # every frame at the client: (time, code index or None: concealed)
    window: tuple[float, float]  # the carrier's first and last send
    leg_ticks: tuple[int, int]  # the leg jitter buffer's ticks at the first and the last send
    leg_sent: tuple[int, int]  # RTP packets the leg had sent to the carrier at the 51st send and at the last
    leg_jitter: dict[str, int]  # the leg's jitter buffer (uplink): core JitterBuffer.stats()
    leg_behind_time: int  # slots the leg dropped at playout after a stall (they had passed)
    stage_jitter: dict[str, int]  # the downlink stage's jitter buffer
    bridge: dict[str, float]  # the relay's bridge counters (both stages) as the last frame is sent, and
    # clock_missed: playout rounds that ended after their deadline (the loop stalled; each re-anchors the clock),
    # uplink_skipped, downlink_skipped: the ticks (frames out) each direction's stage lost to those re-anchorings
    link: dict[str, Any]  # the delay line's own counts (packets forwarded, dropped), if one was used

    def frames_between(self, start: float, end: float) -> list[int | None]:
        return [code for t, code in self.frames if start <= t < end]


def bridge_counters(server: EngineServer) -> dict[str, float]:
    registry = server.metrics.registry
    counters = {"late": registry.get_sample_value("clutchcall_bridge_late_total") or 0.0}
    counters["clock_missed"] = float(server.relay.bridge.clock_missed)
    for direction, paced in (("uplink", True), ("downlink", False)):
        stages = server.relay.bridge.stages.values()
        counters[f"{direction}_skipped"] = float(sum(getattr(s, "skipped", 0) for s in stages if s.paced == paced))
    for cause in ("loss", "underrun"):
        labels = {"cause": cause}
        counters[f"concealed_{cause}"] = registry.get_sample_value("clutchcall_bridge_concealed_total", labels) or 0.0
    return counters


async def measure(work: Path, frames: int, vad: bool = False, link: JitterLink | None = None) -> Result:
    sip_port, sipp_port, media_port = (free_port(socket.SOCK_DGRAM) for _ in range(3))
    config = loopback_config(work, sip_port, sipp_port)
    carrier_ip = LOOPBACK
    if link is not None:  # the carrier behind the link: SIP and RTP both cross it
        carrier_ip = link.peer_v4
        sip = dataclasses.replace(
            config.sip,
            listen=Address(link.host_v4, sip_port),
            trunk=Address(carrier_ip, sipp_port),
            rtp_host=link.host_v4,
        )
        config = dataclasses.replace(config, sip=sip)
    server = EngineServer(config, calls=True)
    await server.start()
    assert server.calls is not None and server.sip is not None
    in_ns = ["ip", "netns", "exec", link.ns] if link is not None else []
    sipp = subprocess.Popen(
        [
            *in_ns,
            *("sipp", "-sf", str(HERE / "carrier.xml"), "-i", carrier_ip, "-p", str(sipp_port), "-m", "1"),
            *("-key", "rtpport", str(media_port), "-mp", str(free_port(socket.SOCK_DGRAM))),
            *("-timeout", "60s", "-timeout_error", "-nostdin", "-trace_msg", "-message_file", str(work / "sipp.log")),
        ],
        cwd=work,
        stdout=subprocess.DEVNULL,
    )
    loop = asyncio.get_running_loop()
    if link is not None:
        transport, carrier = await loop.create_datagram_endpoint(Carrier, sock=link.udp_socket(media_port))
    else:
        transport, carrier = await loop.create_datagram_endpoint(Carrier, local_addr=(LOOPBACK, media_port))
    token = mint_token(
        load_or_create_dev_key(config.state_dir),
        tenant="bench",
        publish=["voice"],
        subscribe=["voice"],
        ttl_s=3600,
        audience=config.audience,
    )
    api = ApiClient.connect_rest(f"http://{LOOPBACK}:{server.calls.rest_port}", token=token)
    app = await connect(f"moqt://{LOOPBACK}:{server.moqt_port}", token, insecure=True)
    heard: list[tuple[float, int | None]] = []
    echoed: list[Event] = []
    try:
        with tapped_legs() as taps:
            call = await api.calls.originate(to="+15550100", from_="+15550199", idempotency_key=secrets.token_hex(8))
            for _ in range(300):
                if (await api.calls.get(sid=call.sid)).status == CallStatus.IN_PROGRESS and offered_media(
                    work / "sipp.log"
                ):
                    break
                await asyncio.sleep(0.05)
            carrier.peer = offered_media(work / "sipp.log")
            media = server.sip.legs[call.sid].media
            assert media is not None and media.jitter is not None
            bridge = await app.bridge.attach(call.sid, codec="pcm16", sample_rate=16000)

            detector = turn_detector() if vad else None

            async def echo() -> None:
                async for frame in bridge:
                    if detector is not None:  # as a bound agent does: every uplink frame through turn detection
                        detector.push(frame)
                    i = pattern(frame)
                    now = time.monotonic()
                    heard.append((now, i))
                    if i is not None:
                        echoed.append((now, i))
                    await bridge.send(frame)  # every frame, concealment too: the downlink is a steady stream

            echoing = asyncio.create_task(echo())
            start = time.monotonic()
            for k in range(frames):
                await asyncio.sleep(max(0.0, start + k * FRAME_S - time.monotonic()))
                carrier.send(k % len(CODES))
                if k == 0:
                    ticks_at_start = media.jitter.stats()["ticks"]
                if k == min(50, frames - 1):  # a second in: the downlink is flowing
                    sent_at_1s = media.stats.sent
            window = (carrier.sent[0][0], carrier.sent[-1][0])
            leg_jitter = cast(dict[str, int], dict(media.jitter.stats()))  # at the last send: its depth then
            behind_time = getattr(media.stats, "behind_time", 0)  # older engines (before/after runs) lack it
            leg_ticks, leg_sent = (ticks_at_start, leg_jitter["ticks"]), (sent_at_1s, media.stats.sent)
            stage_jitter = next(
                (dict(s.jitter.stats()) for s in server.relay.bridge.stages.values() if not s.paced), {}
            )
            counters = bridge_counters(server)
            await asyncio.sleep(0.5)
            echoing.cancel()
            await api.calls.hangup(sid=call.sid)
            with contextlib.suppress(Exception):
                await bridge.release()
    finally:
        transport.close()
        await app.close()
        with contextlib.suppress(Exception):
            await api.aclose()
        try:
            async with asyncio.timeout(10):
                await asyncio.to_thread(sipp.wait)
        except TimeoutError:
            sipp.kill()
        await server.stop(0.5)
    heard_codes = [(t, i) for t, i in heard if i is not None]
    arrived = [(t, carrier.code_of_seq[s]) for t, s in taps.arrived if s in carrier.code_of_seq]
    engine_sent = [(t, i) for t, p in taps.sent if (i := pattern(core.g711.ulaw_decode(p))) is not None]
    return Result(
        up=[ms for _, ms in delays_ms(carrier.sent, heard_codes)],
        down=[ms for _, ms in delays_ms(echoed, carrier.received)],
        up_engine=delays_ms(arrived, heard_codes),
        up_network=[ms for _, ms in delays_ms(carrier.sent_seq, taps.arrived)],
        down_engine=[ms for _, ms in delays_ms(echoed, engine_sent)],
        down_network=[ms for _, ms in delays_ms(engine_sent, carrier.received)],
        frames=heard,
        window=window,
        leg_ticks=leg_ticks,
        leg_sent=leg_sent,
        leg_jitter=leg_jitter,
        leg_behind_time=behind_time,
        stage_jitter=stage_jitter,
        bridge=counters,
        link=link.counts() if link is not None else {},
    )


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else float("nan")


def line(name: str, values: list[float]) -> str:
    return (
        f"{name}: n={len(values):4}  p50 {pct(values, 50):6.1f}  p95 {pct(values, 95):6.1f}  "
        f"p99 {pct(values, 99):6.1f} ms"
    )


def report(result: Result, link: JitterLink | None) -> None:
    start, end = result.window
    window = result.frames_between(start + 0.2, end + 0.1)  # after the first frame's trip, to the last one's
    print(
        f"frames at the client over the {end - start:.2f} s sent: {len(window)} "
        f"({len(window) / (end - start) * 20e-3:.3f} per 20 ms), of them concealed (silence) {window.count(None)}"
    )
    print(line("uplink   RTP sent -> pcm16 frame out   ", result.up))
    print(line("downlink pcm16 frame in -> RTP received", result.down))
    if link is None:
        return
    print(line("uplink   network (carrier -> engine)   ", result.up_network))
    print(line("uplink   engine: socket -> frame out   ", [ms for _, ms in result.up_engine]))
    print(line("downlink engine: frame in -> RTP sent  ", result.down_engine))
    print(line("downlink network (engine -> carrier)   ", result.down_network))
    leg, stage = result.leg_jitter, result.stage_jitter
    print(
        f"uplink leg jitter buffer: late {leg['late_losses']}  lost (concealed) {leg['losses']}  underruns "
        f"{leg['underruns']}  stretches {leg['stretches']}  discarded {leg['discarded']}  dropped behind time "
        f"{result.leg_behind_time}  final depth "
        f"{leg['depth']} (target {leg['target_depth']})  jitter {leg['jitter_us'] / 1000:.1f} ms"
    )
    if stage:
        print(
            f"downlink stage jitter buffer: late {stage['late_losses']}  lost {stage['losses']}  underruns "
            f"{stage['underruns']}  final depth {stage['depth']} (target {stage['target_depth']})  jitter "
            f"{stage['jitter_us'] / 1000:.1f} ms"
        )
    b = result.bridge
    print(
        f"bridge stages (both ways): late {b['late']:.0f}  concealed loss {b['concealed_loss']:.0f}  "
        f"underrun {b['concealed_underrun']:.0f}  clock rounds missed {b['clock_missed']:.0f} (uplink ticks "
        f"skipped {b['uplink_skipped']:.0f}, downlink {b['downlink_skipped']:.0f})"
    )
    if link.report:
        print(f"link ({link.backend}): {link.report}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=400, help="frames sent by the carrier (20 ms each)")
    ap.add_argument("--vad", action="store_true", help="pass every uplink frame through an agent's turn detection")
    ap.add_argument(
        "--netem",
        metavar="SPEC",
        help="the carrier in a namespace behind this jitter and loss, netem's words (\"delay 20ms 10ms "
        'distribution normal loss 2%%"; "delay 0ms": the namespace without impairment)',
    )
    ap.add_argument("--seed", type=int, default=1, help="the delay line's random seed (netem draws its own)")
    args = ap.parse_args()
    gc.freeze()  # as the engine process does once started (cli.py)
    print(f"engine: {Path(clutchcall_engine.__file__).parent}")
    link = None
    if args.netem is not None:
        try:
            spec = NetemSpec.parse(args.netem)
        except ValueError as e:
            ap.error(str(e))
        why = can_emulate()
        if why:
            ap.error(f"--netem: {why}")
        link = JitterLink(spec, seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-sip-latency-") as tmp, link or contextlib.nullcontext():
        if link is not None:
            print(f"link: {link.backend}, {link.spec.text!r} both ways")
        result = asyncio.run(measure(Path(tmp), args.frames, args.vad, link))
    report(result, link)


if __name__ == "__main__":
    main()
