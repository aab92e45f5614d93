"""AudioBridge capacity and latency, side by side with rtpengine transcoding the same legs (one run, ratios).

1. Capacity: legs of one transcoding direction, each fed one 20 ms frame per 20 ms (real time) into the
   relay's track, played out by the engine's clock (jitter buffer + core Transcoder + relay fan-out to
   one subscriber queue; QUIC I/O excluded), on one event loop = one core. N doubles, then bisects,
   until a clock round misses its 20 ms deadline. Also CPU per leg at a fixed N: legs per core =
   N / (CPU seconds / wall seconds), the figure measured the same way for rtpengine.
2. rtpengine (Debian rtpengine-daemon, user space: table = -1, loopback only): the same number of
   calls offered over its NG protocol with the same codec change, RTP sent in real time; its CPU
   from /proc gives legs per core.
3. The same legs through QUIC (--quic-legs N): an engine child process, gateway-like clients publishing the
   source frames and bridge-like clients subscribing in the target shape over loopback; legs per core by the
   engine's CPU, QUIC I/O included (as rtpengine's figure includes its UDP I/O), and the same load with no
   stage (relay only) beside it.
4. The same legs inside the engine's process (--engine-legs N), as its SIP gateway and agents make them: their
   clients reach the relay over loopback QUIC (what the engine did before) and in memory (what it does now),
   side by side; legs per core by the process's CPU, both clients included.
5. Latency over QUIC through the engine (in this process): G.711 object in -> pcm16 frame out of the
   bridge, and pcm16 in -> G.711 out, p50/p99.

    .venv/bin/python benchmarks/bridge/bench_bridge.py [--seconds 2] [--skip-rtpengine]

clutchcall_core must be importable ($CLUTCHCALL_CORE_PKG or the engine wheel installed).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests" / "bridge"), str(ROOT / "tests" / "engine"), str(ROOT / "benchmarks" / "relay")]
if os.environ.get("CLUTCHCALL_CORE_PKG"):
    sys.path.insert(0, os.environ["CLUTCHCALL_CORE_PKG"])
    # and for the engine child process of the QUIC rows
    _paths = [os.path.abspath(os.environ["CLUTCHCALL_CORE_PKG"]), os.environ.get("PYTHONPATH")]
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, _paths))

import clutchcall_core as core  # noqa: E402
from bridge_support import Codecs, sine  # noqa: E402
from clutchcall_engine.auth import verifier_for  # noqa: E402
from clutchcall_engine.config import EngineConfig  # noqa: E402
from clutchcall_engine.metrics import RelayMetrics  # noqa: E402
from clutchcall_engine.relay import Relay, RelayTrack, Subscriber  # noqa: E402
from clutchcall_runtime.bridge import AudioFormat  # noqa: E402
from clutchcall_runtime.moqt.session import MoqObject  # noqa: E402

PERIOD = 0.020
WARM_UP = 0.3  # seconds before the counted window: stage creation and the jitter buffers' first fill
SCENARIOS: list[tuple[str, AudioFormat, AudioFormat]] = [
    # The like-for-like row: rtpengine runs exactly this change (its pcm16 rows stand in mu-law <-> A-law).
    ("g711_ulaw -> g711_alaw", AudioFormat.of("g711_ulaw"), AudioFormat.of("g711_alaw")),
    ("g711_ulaw -> pcm16 16k", AudioFormat.of("g711_ulaw"), AudioFormat.of("pcm16", 16000)),
    ("pcm16 16k -> g711_ulaw", AudioFormat.of("pcm16", 16000), AudioFormat.of("g711_ulaw")),
    ("g711_ulaw -> opus 48k", AudioFormat.of("g711_ulaw"), AudioFormat.of("opus", 48000)),
    ("opus 48k -> g711_ulaw", AudioFormat.of("opus", 48000), AudioFormat.of("g711_ulaw")),
]


class NullQueue:
    """A subscriber queue that keeps nothing: the frames' count only. It takes each object's encoding, as a
    QUIC subscriber's send does (objects are encoded on first use), so that work stays in the figure."""

    count = 0

    def push(self, item: Any) -> None:
        NullQueue.count += len(item.body) > 0


async def run_legs(src: AudioFormat, dst: AudioFormat, n: int, seconds: float) -> tuple[bool, float]:
    """n legs for `seconds` of real time; (no round missed its deadline, CPU seconds per wall second)."""
    state = Path(tempfile.mkdtemp(prefix="bench-bridge-"))
    relay = Relay(EngineConfig(state_dir=state), verifier_for(EngineConfig(state_dir=state)), RelayMetrics())
    frames = Codecs(core).encode(src, sine(src.sample_rate, 1.0))
    sources = []
    for i in range(n):
        key = ((b"voice", f"CA{i}".encode()), b"uplink")
        track = RelayTrack(relay, key, src.tag, "t1")
        relay.tracks[key] = track
        out = relay.bridge.output_for(track, src, dst)
        out.subscribers[(0, 0)] = Subscriber(peer=None, request_id=0, out=NullQueue())  # type: ignore[arg-type]
        sources.append(track)
    bridge = relay.bridge
    loop = asyncio.get_running_loop()
    start = loop.time()
    feeder_late = 0
    missed_at_warm = 0
    start_cpu, start_wall = time.process_time(), start
    k = 0
    while loop.time() - start < seconds + WARM_UP:
        deadline = start + k * PERIOD
        await asyncio.sleep(max(0.0, deadline - loop.time()))
        if k == int(WARM_UP / PERIOD):  # stages made, buffers filled: from here every round counts
            missed_at_warm, feeder_late, start_cpu, start_wall = (
                bridge.clock_missed,
                0,
                time.process_time(),
                loop.time(),
            )
        if loop.time() - deadline > PERIOD:
            feeder_late += 1
        payload = frames[k % len(frames)]
        group, obj = 1000 + k // 50, k % 50
        for track in sources:
            track.on_object(MoqObject(group, 0, obj, 128, payload))
        k += 1
    cpu = time.process_time() - start_cpu
    wall = loop.time() - start_wall
    relay.bridge.close()
    shutil.rmtree(state, ignore_errors=True)
    return bridge.clock_missed == missed_at_warm and feeder_late == 0, cpu / wall


def capacity(src: AudioFormat, dst: AudioFormat, seconds: float) -> tuple[int, float]:
    """Largest n with no missed deadline (doubling, then bisection), and CPU/wall at that n."""
    good, bad, n = 0, 0, 25
    load = 0.0
    while bad == 0:
        ok, cpu = asyncio.run(run_legs(src, dst, n, seconds))
        if ok:
            good, load = n, cpu
            n *= 2
        else:
            bad = n
    while bad - good > max(4, good // 16):
        mid = (good + bad) // 2
        ok, cpu = asyncio.run(run_legs(src, dst, mid, seconds))
        if ok:
            good, load = mid, cpu
        else:
            bad = mid
    return good, load


# ---- rtpengine ----


def bencode(v: Any) -> bytes:
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    return b"d" + b"".join(bencode(k) + bencode(v[k]) for k in sorted(v)) + b"e"


def bdecode(data: bytes, i: int = 0) -> tuple[Any, int]:
    c = data[i : i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1 : end]), end + 1
    if c in (b"l", b"d"):
        items, i = [], i + 1
        while data[i : i + 1] != b"e":
            item, i = bdecode(data, i)
            items.append(item)
        return (items if c == b"l" else dict(zip(items[::2], items[1::2], strict=True))), i + 1
    colon = data.index(b":", i)
    n = int(data[i:colon])
    return data[colon + 1 : colon + 1 + n], colon + 1 + n


RTP_CODECS = {"g711_ulaw": ("PCMU/8000", 0), "g711_alaw": ("PCMA/8000", 8), "opus": ("opus/48000/2", 96)}
# rtpengine 10.5 here refuses L16 as a transcoding target ("List of codecs empty"), so the pcm16 rows run
# it on G.711 mu-law <-> A-law instead: a decode plus an encode per frame, more work than ours (one of the two).
PEER_SHAPES = {"pcm16": AudioFormat.of("g711_alaw")}


def sdp(port: int, codec: str) -> str:
    name, pt = RTP_CODECS[codec]
    fmtp = f"a=rtpmap:{pt} {name}\r\n" if pt >= 96 else ""
    return (
        f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP {pt}\r\n{fmtp}a=sendrecv\r\n"
    )


class Rtpengine:
    def __init__(self, workdir: Path, address: str = "127.0.0.1", cpu: int | None = None) -> None:
        """address: its one interface and NG listener; cpu: the one CPU it may run on (taskset)."""
        self.ng = (address, _free_udp_port(address))
        pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
        self.proc = subprocess.Popen(
            [
                *pin,
                "rtpengine",
                "--foreground",
                "--table=-1",
                "--no-fallback",
                f"--interface={address}",
                f"--listen-ng={self.ng[0]}:{self.ng[1]}",
                "--port-min=42000",
                "--port-max=52000",
                "--log-stderr",
                "--log-level=4",
                f"--pidfile={workdir / 'rtpengine.pid'}",
                "--num-threads=1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / "rtpengine.log", "wb"),  # noqa: SIM115
        )
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, 0))
        self.sock.settimeout(2.0)
        for _ in range(50):
            try:
                self.command({"command": "ping"})
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"rtpengine did not answer on {self.ng}; see {workdir / 'rtpengine.log'}")

    def command(self, body: dict[str, Any]) -> dict[bytes, Any]:
        cookie = b"%d" % random.getrandbits(40)
        self.sock.sendto(cookie + b" " + bencode(body), self.ng)
        while True:
            data, _ = self.sock.recvfrom(65536)
            if data.startswith(cookie + b" "):
                reply, _ = bdecode(data, len(cookie) + 1)
                if reply.get(b"result") not in (b"ok", b"pong"):
                    raise RuntimeError(f"rtpengine refused {body['command']}: {reply}")
                return reply

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)


def _free_udp_port(address: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def _media_port(reply: dict[bytes, Any]) -> int:
    for line in reply[b"sdp"].decode().splitlines():
        if line.startswith("m=audio "):
            return int(line.split()[1])
    raise RuntimeError("no m=audio in rtpengine's SDP")


def rtpengine_legs(src: AudioFormat, dst: AudioFormat, n: int, seconds: float, workdir: Path) -> float:
    """n calls transcoding src -> dst through rtpengine for `seconds`; its CPU seconds per wall second."""
    src, dst = PEER_SHAPES.get(src.codec, src), PEER_SHAPES.get(dst.codec, dst)
    engine = Rtpengine(workdir)
    socks_a, socks_b, targets = [], [], []
    try:
        for i in range(n):
            a, b = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2))
            a.bind(("127.0.0.1", 0))
            b.bind(("127.0.0.1", 0))
            a.setblocking(False)
            b.setblocking(False)
            call = f"bench-{i}-{random.getrandbits(32)}"
            engine.command(
                {
                    "command": "offer",
                    "call-id": call,
                    "from-tag": "a",
                    "sdp": sdp(a.getsockname()[1], src.codec),
                    "codec": {"transcode": [RTP_CODECS[dst.codec][0]]},
                    "flags": ["loop-protect"],
                }
            )
            answer = engine.command(  # its SDP, for A, holds the port A sends to
                {
                    "command": "answer",
                    "call-id": call,
                    "from-tag": "a",
                    "to-tag": "b",
                    "sdp": sdp(b.getsockname()[1], dst.codec),
                }
            )
            socks_a.append(a)
            socks_b.append(b)
            targets.append(("127.0.0.1", _media_port(answer)))
        frames = Codecs(core).encode(src, sine(src.sample_rate, 1.0))
        pt, out_pt = RTP_CODECS[src.codec][1], RTP_CODECS[dst.codec][1]
        spf = src.samples_per_frame
        cpu0, t0 = engine.cpu_seconds(), time.monotonic()
        received = 0
        k = 0
        while time.monotonic() - t0 < seconds:
            time.sleep(max(0.0, t0 + k * PERIOD - time.monotonic()))
            payload = frames[k % len(frames)]
            for i, a in enumerate(socks_a):
                packet = core.rtp.build(
                    payload, payload_type=pt, sequence=k & 0xFFFF, timestamp=(k * spf) & 0xFFFFFFFF, ssrc=i + 1
                )
                a.sendto(packet, targets[i])
            for b in socks_b:
                try:
                    while True:
                        packet = b.recv(2048)
                        received += (packet[1] & 0x7F) == out_pt  # transcoded, not passed through
                except BlockingIOError:
                    pass
            k += 1
        load = (engine.cpu_seconds() - cpu0) / (time.monotonic() - t0)
        if received == 0:
            raise RuntimeError(f"rtpengine sent no payload type {out_pt}: see its log")
        return load
    finally:
        engine.stop()
        for s in socks_a + socks_b:
            s.close()


# ---- legs through QUIC: the engine as a process of its own ----


async def feed_and_count(
    src: AudioFormat, writers: list[Any], subscriptions: list[Any], seconds: float, cpu: Callable[[], float]
) -> tuple[float, float]:
    """Write a `src` frame to every writer each 20 ms in real time and count what the subscriptions deliver over
    `seconds` after a warm-up (stages made, sessions warm). Returns (delivered fraction, `cpu()` seconds per wall
    second over that window)."""
    received = [0]
    counting = [False]

    async def read(it: Any) -> None:
        async for _ in it:
            received[0] += counting[0]

    readers = [asyncio.create_task(read(it)) for it in subscriptions]
    frames = Codecs(core).encode(src, sine(src.sample_rate, 1.0))
    loop = asyncio.get_running_loop()
    start = loop.time()
    k = sent = 0
    cpu0 = wall0 = 0.0
    while loop.time() - start < WARM_UP + 1.0 + seconds:
        await asyncio.sleep(max(0.0, start + k * PERIOD - loop.time()))
        if k == int((WARM_UP + 1.0) / PERIOD):
            counting[0], cpu0, wall0 = True, cpu(), loop.time()
        for w in writers:
            w.write(frames[k % len(frames)])
        sent += len(writers) * counting[0]
        k += 1
    load = (cpu() - cpu0) / (loop.time() - wall0)
    await asyncio.sleep(0.3)  # the last frames' playout and delivery
    counting[0] = False
    for task in readers:
        task.cancel()
    # a stage may emit a frame or two more than came in (concealment at the window's edges)
    return min(1.0, received[0] / max(sent, 1)), load


async def quic_legs(src: AudioFormat, dst: AudioFormat | None, n: int, seconds: float) -> tuple[float, float]:
    """n legs through an engine child process over QUIC: gateway-like clients publish `src` frames on
    voice/CA<i>/uplink in real time and bridge-like clients subscribe in `dst` (None: in `src`, the relay alone,
    no stage). Returns (delivered fraction, the engine's CPU seconds per wall second) over the measured window."""
    from bench_relay import TRACKS_PER_CLIENT, Ours, dial, proc_cpu_seconds

    state = Path(tempfile.mkdtemp(prefix="bench-bridge-quic-"))
    engine = Ours(state)
    engine.start()
    clients = []
    try:
        per = -(-n // TRACKS_PER_CLIENT)
        pubs = list(await asyncio.gather(*(dial(engine, reconnect=False) for _ in range(per))))
        subs = list(await asyncio.gather(*(dial(engine, reconnect=False) for _ in range(per))))
        clients = pubs + subs
        writers = [
            await pubs[i // TRACKS_PER_CLIENT].publish(("voice", f"CA{i}"), "uplink", capability=src.tag)
            for i in range(n)
        ]
        wanted = (dst or src).tag
        subscriptions = [
            await subs[i // TRACKS_PER_CLIENT].subscribe(("voice", f"CA{i}"), "uplink", capability=wanted)
            for i in range(n)
        ]
        return await feed_and_count(src, writers, subscriptions, seconds, lambda: proc_cpu_seconds(engine.pid))
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        engine.stop()
        shutil.rmtree(state, ignore_errors=True)


async def engine_legs(src: AudioFormat, dst: AudioFormat, n: int, seconds: float, via: str) -> tuple[float, float]:
    """n legs inside one engine process, as the engine's own clients make them: one gateway-like client publishes
    `src` frames on voice/CA<i>/uplink in real time (paced, as the SIP legs are) and one agent-like client
    subscribes in `dst`, both reaching the relay `via` "quic" (loopback QUIC, what the engine did before) or
    "memory" (the in-process transport it uses now). Returns (delivered fraction, this process's CPU seconds per
    wall second): the relay, the stages and both clients, all of which run in the engine's process."""
    from clutchcall_engine.server import EngineServer
    from moqt_support import client, engine_config, token

    state = Path(tempfile.mkdtemp(prefix="bench-bridge-engine-"))
    config = engine_config(state)
    try:
        async with EngineServer(config) as srv:
            srv.relay.bridge.paced_tenants.add("t1")  # as the SIP gateway's tenant is
            url = srv.internal_url if via == "memory" else f"moqt://127.0.0.1:{srv.moqt_port}"
            gateway = await client(url, token(config), reconnect=False)
            agents = await client(url, token(config), reconnect=False)
            try:
                writers = [await gateway.publish(("voice", f"CA{i}"), "uplink", capability=src.tag) for i in range(n)]
                subs = [await agents.subscribe(("voice", f"CA{i}"), "uplink", capability=dst.tag) for i in range(n)]
                return await feed_and_count(src, writers, subs, seconds, time.process_time)
            finally:
                await gateway.close()
                await agents.close()
    finally:
        shutil.rmtree(state, ignore_errors=True)


# ---- latency over QUIC ----


async def latency(frames_n: int = 250) -> dict[str, list[float]]:
    from clutchcall_engine.server import EngineServer
    from moqt_support import client, engine_config, moqt_url, token

    state = Path(tempfile.mkdtemp(prefix="bench-bridge-lat-"))
    config = engine_config(state)
    up_ms: list[float] = []
    down_ms: list[float] = []
    async with EngineServer(config) as srv:
        gw = await client(moqt_url(srv), token(config))
        app = await client(moqt_url(srv), token(config))
        uplink = await gw.publish(("voice", "CA1"), "uplink", capability="voice/g711_ulaw")
        sub_task = asyncio.create_task(gw.subscribe(("voice", "CA1"), "downlink", capability="voice/g711_ulaw"))
        bridge = await app.bridge.attach("CA1", codec="pcm16", sample_rate=8000)
        downlink = await sub_task
        code = [bytes([0x10 + i % 0x60]) * 160 for i in range(0x60)]
        by_pcm = {core.g711.ulaw_decode(c): i for i, c in enumerate(code)}
        by_code = {c: i for i, c in enumerate(code)}
        sent_at: dict[int, float] = {}
        back_at: dict[int, float] = {}
        loop = asyncio.get_running_loop()

        async def hear() -> None:
            async for frame in bridge:
                i = by_pcm.get(frame)
                if i is not None and i in sent_at:
                    up_ms.append((loop.time() - sent_at.pop(i)) * 1000)
                    back_at[i] = loop.time()
                    await bridge.send(frame)  # echo: pcm16 back, G.711 to the leg

        async def hear_back() -> None:
            async for obj in downlink:
                i = by_code.get(obj.payload)
                if i is not None and i in back_at:
                    down_ms.append((loop.time() - back_at.pop(i)) * 1000)

        tasks = [asyncio.create_task(hear()), asyncio.create_task(hear_back())]
        start = loop.time()
        for k in range(frames_n):
            await asyncio.sleep(max(0.0, start + k * PERIOD - loop.time()))
            sent_at[k % 0x60] = loop.time()
            uplink.write(code[k % 0x60])
        await asyncio.sleep(0.3)
        for t in tasks:
            t.cancel()
        await bridge.release()
        await gw.close()
        await app.close()
    shutil.rmtree(state, ignore_errors=True)
    return {"uplink (G.711 in -> pcm16 out)": up_ms, "downlink (pcm16 in -> G.711 out)": down_ms}


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=2.0, help="real time per trial")
    ap.add_argument("--fixed-legs", type=int, default=100, help="legs for the like-for-like CPU figure")
    ap.add_argument("--quic-legs", type=int, default=40, help="legs for the rows through QUIC (0: skip them)")
    ap.add_argument("--engine-legs", type=int, default=40, help="legs for the in-engine rows (0: skip them)")
    ap.add_argument("--skip-rtpengine", action="store_true")
    args = ap.parse_args()
    gc.freeze()  # as the engine process does once started (cli.py): full collections walk only the legs' objects
    print(f"clutchcall_core SIMD: {core.g711.simd_level()}; cores here: {os.cpu_count()} (shared)")
    have_rtpengine = shutil.which("rtpengine") is not None and not args.skip_rtpengine
    if not have_rtpengine and not args.skip_rtpengine:
        print("rtpengine: not installed (Debian rtpengine-daemon); its column is empty")
    head = f"{'ours: legs to 1st miss':>22} {'ours legs/core @N':>18} {'rtpengine legs/core @N':>23} {'ratio':>6}"
    print(f"\n{'direction':26} {head}")
    theirs_by_row: dict[str, float] = {}
    for name, src, dst in SCENARIOS:
        n_max, _ = capacity(src, dst, args.seconds)
        n = min(args.fixed_legs, max(n_max, 1))
        _, ours_load = asyncio.run(run_legs(src, dst, n, args.seconds))
        ours = n / max(ours_load, 1e-9)
        theirs_text, ratio_text = "-", "-"
        if have_rtpengine:
            try:
                with tempfile.TemporaryDirectory() as work:
                    load = rtpengine_legs(src, dst, n, args.seconds, Path(work))
                theirs = theirs_by_row[name] = n / max(load, 1e-9)
                theirs_text, ratio_text = f"{theirs:,.0f}", f"{ours / theirs:.2f}"
            except Exception as exc:  # report, do not hide, why the peer did not run
                theirs_text = f"failed: {exc}"[:60]
        peer = " rtpengine on mu-law<->A-law" if {src.codec, dst.codec} & set(PEER_SHAPES) else ""
        print(f"{name:26} {n_max:>22,} {ours:>18,.0f} {theirs_text:>23} {ratio_text:>6}   (N={n}){peer}")
    if args.quic_legs:
        n = args.quic_legs
        print(f"\nthe same legs through QUIC: an engine process, {n} legs in and out over loopback; legs per core by")
        print("the engine's CPU (its QUIC I/O included, as rtpengine's UDP I/O is); relay only = the same load without")
        print("a stage (subscribed in the source's codec)")
        print(f"{'direction':26} {'relay only':>10} {'bridged':>8} {'delivered':>9} {'bridged/rtpengine':>17}")
        for name, src, dst in SCENARIOS:
            _, relay_load = asyncio.run(quic_legs(src, None, n, args.seconds))
            delivered, load = asyncio.run(quic_legs(src, dst, n, args.seconds))
            ratio = f"{n / max(load, 1e-9) / theirs_by_row[name]:.2f}" if name in theirs_by_row else "-"
            print(
                f"{name:26} {n / max(relay_load, 1e-9):>10,.0f} {n / max(load, 1e-9):>8,.0f} "
                f"{delivered:>9.2%} {ratio:>17}"
            )
    if args.engine_legs:
        n = args.engine_legs
        print(f"\nin-engine legs: {n} legs from a gateway-like to an agent-like client inside the engine's process,")
        print("reaching the relay over loopback QUIC (as before) or in memory (now); legs per core by its CPU")
        head = f"{'via QUIC':>8} {'in memory':>9} {'ratio':>6} {'delivered':>9} {'memory/rtpengine':>16}"
        print(f"{'direction':26} {head}")
        for name, src, dst in SCENARIOS:
            _, quic_load = asyncio.run(engine_legs(src, dst, n, args.seconds, "quic"))
            delivered, load = asyncio.run(engine_legs(src, dst, n, args.seconds, "memory"))
            ours, before = n / max(load, 1e-9), n / max(quic_load, 1e-9)
            ratio = f"{ours / theirs_by_row[name]:.2f}" if name in theirs_by_row else "-"
            print(f"{name:26} {before:>8,.0f} {ours:>9,.0f} {ours / before:>6.2f} {delivered:>9.2%} {ratio:>16}")
    print("\nlatency over QUIC through the engine (loopback, one process), 250 frames each way:")
    for name, values in asyncio.run(latency()).items():
        print(f"  {name:34} n={len(values):3}  p50 {pct(values, 50):6.1f} ms  p99 {pct(values, 99):6.1f} ms")


if __name__ == "__main__":
    main()
