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

    PYTHONPATH=build/bindings/pkg .venv/bin/python benchmarks/bridge/bench_sip_latency.py [--frames 400]

Run it against another checkout of the engine (before/after) with PYTHONPATH=<that>/engine:build/bindings/pkg.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "engine" / "examples" / "demo")]

import clutchcall_core as core  # noqa: E402
import clutchcall_engine  # noqa: E402
import numpy as np  # noqa: E402
from clutchcall import CallStatus  # noqa: E402
from clutchcall.rpc import ApiClient  # noqa: E402
from clutchcall_engine.agents.echo import EchoGuard  # noqa: E402
from clutchcall_engine.agents.turn import TurnDetector, TurnSettings  # noqa: E402
from clutchcall_engine.agents.vad import GatedVad  # noqa: E402
from clutchcall_engine.auth import load_or_create_dev_key, mint_token  # noqa: E402
from clutchcall_engine.server import EngineServer  # noqa: E402
from clutchcall_runtime.moqt.client import connect  # noqa: E402
from demo import HERE, LOOPBACK, free_port, loopback_config, offered_media  # noqa: E402

FRAME_S = 0.020
CODES = [bytes([0x10 + i]) * 160 for i in range(0x60)]  # mu-law codes with levels >= 16 apart
LEVELS = np.array([np.frombuffer(core.g711.ulaw_decode(c), dtype="<i2")[0] for c in CODES], dtype=np.float64)


def pattern(pcm: bytes) -> int | None:
    """The code index whose level a frame's median sample is nearest to (None for silence)."""
    median = float(np.median(np.frombuffer(pcm, dtype="<i2")))
    i = int(np.argmin(np.abs(LEVELS - median)))
    return i if abs(LEVELS[i] - median) < 8 else None


class Carrier(asyncio.DatagramProtocol):
    """The carrier's RTP: sends CODES in turn, timestamps each packet out and each downlink packet in."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.peer: tuple[str, int] | None = None
        self.sent_at: dict[int, float] = {}  # code index -> when the carrier sent it
        self.echoed_at: dict[int, float] = {}  # code index -> when the client sent it back
        self.down_ms: list[float] = []
        self.ssrc, self.seq, self.ts = (secrets.randbelow(1 << n) for n in (32, 16, 32))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        packet = core.rtp.parse(data)
        i = pattern(core.g711.ulaw_decode(packet.payload))
        sent = self.echoed_at.pop(i, None) if i is not None else None  # a frame's first packet only
        if sent is not None:
            self.down_ms.append((time.monotonic() - sent) * 1000)

    def send(self, i: int) -> None:
        assert self.transport is not None and self.peer is not None
        packet = core.rtp.build(CODES[i], payload_type=0, sequence=self.seq, timestamp=self.ts, ssrc=self.ssrc)
        self.seq, self.ts = (self.seq + 1) & 0xFFFF, (self.ts + 160) & 0xFFFFFFFF
        self.sent_at[i] = time.monotonic()
        self.transport.sendto(packet, self.peer)


def turn_detector() -> TurnDetector:
    """The turn detection a bound agent runs on the uplink, with the IDL's defaults: the webrtcvad gate,
    Silero, and the echo guard."""
    settings = TurnSettings.from_idl(None)
    vad = GatedVad(16000, 20, threshold=settings.threshold, accurate=True)
    return TurnDetector(settings, vad, EchoGuard(16000, 20))


async def measure(work: Path, frames: int, vad: bool = False) -> tuple[list[float], list[float]]:
    sip_port, sipp_port, media_port = (free_port(socket.SOCK_DGRAM) for _ in range(3))
    config = loopback_config(work, sip_port, sipp_port)
    server = EngineServer(config, calls=True)
    await server.start()
    assert server.calls is not None
    sipp = subprocess.Popen(
        [
            *("sipp", "-sf", str(HERE / "carrier.xml"), "-i", LOOPBACK, "-p", str(sipp_port), "-m", "1"),
            *("-key", "rtpport", str(media_port), "-mp", str(free_port(socket.SOCK_DGRAM))),
            *("-timeout", "60s", "-timeout_error", "-nostdin", "-trace_msg", "-message_file", str(work / "sipp.log")),
        ],
        cwd=work,
        stdout=subprocess.DEVNULL,
    )
    loop = asyncio.get_running_loop()
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
    up_ms: list[float] = []
    try:
        call = await api.calls.originate(to="+15550100", from_="+15550199", idempotency_key=secrets.token_hex(8))
        for _ in range(300):
            if (await api.calls.get(sid=call.sid)).status == CallStatus.IN_PROGRESS and offered_media(
                work / "sipp.log"
            ):
                break
            await asyncio.sleep(0.05)
        carrier.peer = offered_media(work / "sipp.log")
        bridge = await app.bridge.attach(call.sid, codec="pcm16", sample_rate=16000)

        detector = turn_detector() if vad else None

        async def echo() -> None:
            async for frame in bridge:
                if detector is not None:  # as a bound agent does: every uplink frame through turn detection
                    detector.push(frame)
                i = pattern(frame)
                if i is not None and i in carrier.sent_at:
                    now = time.monotonic()
                    up_ms.append((now - carrier.sent_at.pop(i)) * 1000)
                    carrier.echoed_at[i] = now
                    await bridge.send(frame)

        echoing = asyncio.create_task(echo())
        start = time.monotonic()
        for k in range(frames):
            await asyncio.sleep(max(0.0, start + k * FRAME_S - time.monotonic()))
            carrier.send(k % len(CODES))
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
            await asyncio.wait_for(asyncio.to_thread(sipp.wait), 10)
        except TimeoutError:
            sipp.kill()
        await server.stop(0.5)
    return up_ms, carrier.down_ms


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=400, help="frames sent by the carrier (20 ms each)")
    ap.add_argument("--vad", action="store_true", help="pass every uplink frame through an agent's turn detection")
    args = ap.parse_args()
    print(f"engine: {Path(clutchcall_engine.__file__).parent}")
    with tempfile.TemporaryDirectory(prefix="bench-sip-latency-") as tmp:
        up, down = asyncio.run(measure(Path(tmp), args.frames, args.vad))
    for name, values in (("uplink   RTP in -> pcm16 frame out", up), ("downlink pcm16 frame in -> RTP out", down)):
        print(
            f"{name}: n={len(values):3}  p50 {pct(values, 50):6.1f}  p95 {pct(values, 95):6.1f}  "
            f"p99 {pct(values, 99):6.1f} ms"
        )


if __name__ == "__main__":
    main()
