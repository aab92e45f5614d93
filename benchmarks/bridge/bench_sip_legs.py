"""Whole bridged SIP legs per core: RTP in -> the leg -> an agent -> the leg -> RTP out, beside rtpengine.

Each leg is the gateway's own `RtpLeg` (sip/media.py: the core's RTP parser and jitter buffer, the leg's 20 ms
clock aligned to its packets) bridged through the engine's relay as a call is (`MoqtBridge` over the engine's
in-process client), with an echo agent on the engine's agent client: it hears the caller in pcm16 16 kHz (the
relay's stage transcodes) and sends every frame back, which the relay transcodes to G.711 for the leg, which
sends it as RTP. So a leg is both directions of a call, each transcoded twice, as `make demo`'s call is; only
SIP signalling is left out. The engine side runs in a child process (`--child`); this process is the carrier:
one G.711 mu-law packet per leg per 20 ms, in real time, and it counts what comes back. `--via quic` has the
engine's clients reach its relay over loopback QUIC, as the engine did before it used `memory://` (default: both,
side by side).

Figures: legs per core at a fixed N (N / the child's CPU seconds per wall second), and the largest N with no
frame lost to time (doubling, then bisection): every packet sent in the window comes back, no clock round
of the relay's stages ends after its deadline, and no leg drops frames behind time. rtpengine (Debian
rtpengine-daemon, user space, one thread) does the same calls both ways (mu-law -> A-law and back) at N.

    CLUTCHCALL_CORE_PKG=$PWD/build/bindings/pkg .venv/bin/python benchmarks/bridge/bench_sip_legs.py [--legs 100]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# bench_bridge sets up the paths (the core module, the tests' helpers, bench_relay) and has the rtpengine harness
from bench_bridge import PERIOD, RTP_CODECS, Codecs, Rtpengine, _media_port, core, sdp, sine
from bench_relay import proc_cpu_seconds
from clutchcall_runtime.bridge import AudioFormat

WARM_UP = 1.5  # seconds before the counted window: bridges attached, jitter buffers filled, stages phased
ULAW = AudioFormat.of("g711_ulaw")
AGENT = AudioFormat.of("pcm16", 16000)


# ---- the engine side (child process) ----


async def engine_side(n: int, carrier: tuple[str, int], via: str) -> None:
    from clutchcall import Codec
    from clutchcall_engine.server import EngineServer
    from clutchcall_engine.sip.media import MoqtBridge, RtpLeg
    from moqt_support import client, engine_config, token

    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory(prefix="bench-sip-legs-") as state:
        config = engine_config(Path(state))
        async with EngineServer(config) as srv:
            srv.relay.bridge.paced_tenants.add("t1")  # the SIP gateway's tenant is: its legs' uplinks come paced
            # the engine's own clients reach its relay in memory; "quic" is how they did before (loopback QUIC)
            url = srv.internal_url if via == "memory" else f"moqt://127.0.0.1:{srv.moqt_port}"
            gateway = await client(url, token(config))
            agents = await client(url, token(config))
            bridge = MoqtBridge(gateway)
            legs: list[RtpLeg] = []
            echoes: list[asyncio.Task[None]] = []

            async def echo(sid: str) -> None:
                heard = await agents.subscribe(("voice", sid), "uplink", capability=AGENT.tag)
                said = await agents.publish(("voice", sid), "downlink", capability=AGENT.tag)
                async for obj in heard:
                    said.write(obj.payload)

            for i in range(n):
                leg = RtpLeg(lambda digit, ms: None)
                await loop.create_datagram_endpoint(lambda leg=leg: leg, local_addr=("127.0.0.1", 0))
                assert leg.transport is not None
                leg.port = leg.transport.get_extra_info("sockname")[1]
                leg.negotiate(carrier, Codec.G711_ULAW, 0, None)
                leg.start_bridge(bridge, f"CA{i}")
                legs.append(leg)
                echoes.append(asyncio.create_task(echo(f"CA{i}")))
            gc.freeze()  # as the engine process does once started (cli.py)
            print("PORTS " + ",".join(str(leg.port) for leg in legs), flush=True)
            await loop.run_in_executor(None, sys.stdin.readline)  # the carrier's "stop"
            behind = sum(leg.stats.behind_time for leg in legs)
            late = sum(leg.jitter.stats()["late_losses"] for leg in legs if leg.jitter is not None)
            summary = {"clock_missed": srv.relay.bridge.clock_missed, "behind_time": behind, "late": late}
            print("SUMMARY " + json.dumps(summary), flush=True)
            for task in echoes:
                task.cancel()
            for leg in legs:
                await leg.close()
            await gateway.close()
            await agents.close()


# ---- the carrier (this process) ----


def run_legs(n: int, seconds: float, via: str = "memory") -> dict[str, Any]:
    """n legs for `seconds` counted; the child's load, what came back, and its own counts of frames lost to time."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", str(n), str(sock.getsockname()[1]), "--via", via],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        line = child.stdout.readline()
        if not line.startswith("PORTS "):
            raise RuntimeError(f"the engine side did not start: {line!r}")
        targets = [("127.0.0.1", int(p)) for p in line.split()[1].split(",")]
        frames = Codecs(core).encode(ULAW, sine(8000, 1.0))
        counted = False
        sent = received = 0
        cpu0 = t_count = 0.0
        t0 = time.monotonic()
        k = 0
        while time.monotonic() - t0 < WARM_UP + seconds:
            time.sleep(max(0.0, t0 + k * PERIOD - time.monotonic()))
            if not counted and time.monotonic() - t0 >= WARM_UP:
                counted, cpu0, t_count = True, proc_cpu_seconds(child.pid), time.monotonic()
            payload = frames[k % len(frames)]
            for i, target in enumerate(targets):
                packet = core.rtp.build(
                    payload, payload_type=0, sequence=k & 0xFFFF, timestamp=(k * 160) & 0xFFFFFFFF, ssrc=i + 1
                )
                sock.sendto(packet, target)
            sent += n * counted
            try:
                while True:
                    sock.recv(2048)
                    received += counted
            except BlockingIOError:
                pass
            k += 1
        load = (proc_cpu_seconds(child.pid) - cpu0) / (time.monotonic() - t_count)
        child.stdin.write("stop\n")
        child.stdin.flush()
        summary: dict[str, Any] = {}
        for line in child.stdout:
            if line.startswith("SUMMARY "):
                summary = json.loads(line.split(" ", 1)[1])
                break
        child.wait(30)
        # the echo lags the send by the path's latency (about 2 frames each way): those frames are still on the way
        return {"n": n, "load": load, "returned": min(1.0, received / max(sent - 6 * n, 1)), **summary}
    finally:
        if child.poll() is None:
            child.kill()
        sock.close()


def clean(result: dict[str, Any]) -> bool:
    return bool(
        result["returned"] >= 0.999
        and result.get("clock_missed", 1) == 0
        and result.get("behind_time", 1) == 0
        and result["load"] < 0.95
    )


def capacity(seconds: float, via: str, start: int = 50) -> int:
    good, bad, n = 0, 0, start
    while bad == 0:
        if clean(run_legs(n, seconds, via)):
            good, n = n, n * 2
        else:
            bad = n
    while bad - good > max(4, good // 16):
        mid = (good + bad) // 2
        if clean(run_legs(mid, seconds, via)):
            good = mid
        else:
            bad = mid
    return good


def rtpengine_duplex(n: int, seconds: float) -> float:
    """rtpengine transcoding n calls both ways (mu-law -> A-law and back); its CPU seconds per wall second."""
    alaw = AudioFormat.of("g711_alaw")
    with tempfile.TemporaryDirectory() as work:
        engine = Rtpengine(Path(work))
        socks: list[tuple[socket.socket, socket.socket]] = []
        to_b: list[tuple[str, int]] = []
        to_a: list[tuple[str, int]] = []
        try:
            for i in range(n):
                a, b = (
                    socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
                    socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
                )
                for s in (a, b):
                    s.bind(("127.0.0.1", 0))
                    s.setblocking(False)
                call = f"duplex-{i}-{os.getpid()}-{time.monotonic_ns()}"
                offer = engine.command(
                    {
                        "command": "offer",
                        "call-id": call,
                        "from-tag": "a",
                        "sdp": sdp(a.getsockname()[1], "g711_ulaw"),
                        "codec": {"transcode": [RTP_CODECS["g711_alaw"][0]]},
                        "flags": ["loop-protect"],
                    }
                )
                answer = engine.command(
                    {
                        "command": "answer",
                        "call-id": call,
                        "from-tag": "a",
                        "to-tag": "b",
                        "sdp": sdp(b.getsockname()[1], "g711_alaw"),
                    }
                )
                socks.append((a, b))
                to_b.append(("127.0.0.1", _media_port(answer)))  # where A sends
                to_a.append(("127.0.0.1", _media_port(offer)))  # where B sends
            up = Codecs(core).encode(ULAW, sine(8000, 1.0))
            down = Codecs(core).encode(alaw, sine(8000, 1.0))
            cpu0, t0 = engine.cpu_seconds(), time.monotonic()
            k = 0
            while time.monotonic() - t0 < seconds:
                time.sleep(max(0.0, t0 + k * PERIOD - time.monotonic()))
                seq, ts = k & 0xFFFF, (k * 160) & 0xFFFFFFFF
                for i, (a, b) in enumerate(socks):
                    up_packet = core.rtp.build(up[k % len(up)], payload_type=0, sequence=seq, timestamp=ts, ssrc=i + 1)
                    down_packet = core.rtp.build(
                        down[k % len(down)], payload_type=8, sequence=seq, timestamp=ts, ssrc=i + 70_000
                    )
                    a.sendto(up_packet, to_b[i])
                    b.sendto(down_packet, to_a[i])
                for a, b in socks:
                    for s in (a, b):
                        try:
                            while True:
                                s.recv(2048)
                        except BlockingIOError:
                            pass
                k += 1
            return (engine.cpu_seconds() - cpu0) / (time.monotonic() - t0)
        finally:
            engine.stop()
            for a, b in socks:
                a.close()
                b.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--legs", type=int, default=100, help="legs for the CPU figure")
    ap.add_argument("--seconds", type=float, default=3.0, help="counted real time per trial")
    ap.add_argument("--skip-capacity", action="store_true")
    ap.add_argument("--skip-rtpengine", action="store_true")
    ap.add_argument(
        "--via", choices=["memory", "quic", "both"], default="both", help="how the engine's clients reach it"
    )
    ap.add_argument("--child", nargs=2, type=int, metavar=("N", "CARRIER_PORT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        asyncio.run(engine_side(args.child[0], ("127.0.0.1", args.child[1]), args.via))
        return
    n = args.legs
    vias = ["quic", "memory"] if args.via == "both" else [args.via]
    ours = 0.0
    for via in vias:  # memory last: the figure compared with rtpengine
        result = run_legs(n, args.seconds, via)
        ours = n / max(result["load"], 1e-9)
        print(f"ours, clients via {via}: {n} legs, engine CPU {result['load']:.2f} of a core -> {ours:,.0f} legs/core")
        print(f"  {result}")
    if not args.skip_rtpengine:
        theirs = n / max(rtpengine_duplex(n, args.seconds), 1e-9)
        print(f"rtpengine: {n} calls mu-law <-> A-law both ways -> {theirs:,.0f} legs/core")
        print(f"ours / rtpengine: {ours / theirs:.2f}")
    if not args.skip_capacity:
        for via in vias:
            print(f"ours, clients via {via}: legs to the first frame lost to time: {capacity(args.seconds, via):,}")


if __name__ == "__main__":
    main()
