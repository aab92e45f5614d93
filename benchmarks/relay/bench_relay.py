"""Our engine's relay beside moq-relay (crates.io) on the same loopback, in one run.

Both relays run as child processes; this process is the load generator for both (our Python client,
clutchcall_runtime.moqt.client: PUBLISH to our relay, PUBLISH_NAMESPACE to moq-relay, which refuses
PUBLISH). Objects are 160 bytes (one 20 ms G.711 frame) at 50 per second per track, one group per
second. Payloads carry the send time (CLOCK_MONOTONIC, shared by processes), so latency is measured end
to end through each relay by the same client code.

  (a) delivered objects/s per relay core, 1:1 and 1:10 fan-out, tracks doubled until delivery falls
      below 99.9%; "per relay core" = delivered/s divided by the relay's CPU utilisation (its user+sys
      seconds over wall seconds), so a relay that is not CPU-bound is not flattered or punished.
  (b) latency p50/p99 at 80% of the largest load that held 99.9%.
  (c) isolation: the same load with one extra subscriber that reads at a tenth of the rate (a child
      process that blocks 90% of the time); the others' p99 with and without it, the relay's RSS.
  (d) memory per idle session (RSS delta over N idle sessions).
  (e) reconnect after a relay restart: time until each of 50 subscribers gets an object written
      after the restart, p50/p95.
  --profile: a cProfile of our relay under the 1:1 load at the last passing step, top functions.

    python benchmarks/relay/bench_relay.py                 # about 5 minutes
    python benchmarks/relay/bench_relay.py --quick         # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pstats
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from clutchcall_engine.auth import load_or_create_dev_key, mint_token
from clutchcall_engine.config import DEFAULT_AUDIENCE
from clutchcall_engine.process import EngineProcess, moq_relay_binary
from clutchcall_runtime.moqt.client import Backoff, Client, Subscription, TrackWriter, connect

MOQ_RELAY = moq_relay_binary()
PAYLOAD = 160
RATE = 50  # objects per second per track
HEADER = struct.Struct("!IIq")  # track, sequence, send time (ns, CLOCK_MONOTONIC)
TRACKS_PER_CLIENT = 20
CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Relay(Protocol):
    """A relay in a child process: start, stop, restart on the same port, its pid, its client URL."""

    name: str
    token: str | None

    def start(self) -> None: ...
    def stop(self) -> None: ...
    @property
    def pid(self) -> int: ...
    @property
    def url(self) -> str: ...


class Ours:
    name = "ours"

    def __init__(self, state: Path, python_args: tuple[str, ...] = ()) -> None:
        self.engine = EngineProcess(state, "--limit", "max_sessions=5000", python_args=python_args)
        key = load_or_create_dev_key(state)
        self.token = mint_token(
            key, tenant="bench", publish=[""], subscribe=[""], ttl_s=86400, audience=DEFAULT_AUDIENCE
        )

    def start(self) -> None:
        self.engine.start()

    def stop(self) -> None:
        self.engine.stop()

    @property
    def pid(self) -> int:
        return self.engine.pid

    @property
    def url(self) -> str:
        return f"moqt://127.0.0.1:{self.engine.moqt_port}"


class MoqRelay:
    name = "moq-relay"
    token: str | None = None

    def __init__(self) -> None:
        self.port = free_udp_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # The grant is bench/**: under ** moq-relay would send SUBSCRIBE_NAMESPACE with an empty prefix,
        # which draft-14 forbids. It refuses tokens it cannot verify, so clients connect without one.
        args = ["--listen", f"127.0.0.1:{self.port}", "--listen-tls-generate", "localhost"]
        args += ["--listen-version", "moq-transport-14", "--auth-public", "bench/**", "--log-level", "error"]
        assert MOQ_RELAY is not None
        self.proc = subprocess.Popen([str(MOQ_RELAY), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # it prints nothing when ready; clients also retry

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"moqt://127.0.0.1:{self.port}"


async def dial(relay: Relay, *, reconnect: bool = True) -> Client:
    for _ in range(50):
        with contextlib.suppress(Exception):
            return await connect(
                relay.url, relay.token, insecure=True, reconnect=reconnect, backoff=Backoff(initial=0.1, cap=5.0)
            )
        await asyncio.sleep(0.1)
    return await connect(relay.url, relay.token, insecure=True, reconnect=reconnect)


@dataclass
class Load:
    """T tracks at 50 obj/s, each subscribed by `fanout` subscriber clients (plus optional extras)."""

    relay: Relay
    tracks: int
    fanout: int
    pubs: list[Client] = field(default_factory=list)
    subs: list[Client] = field(default_factory=list)
    writers: list[TrackWriter] = field(default_factory=list)
    iters: list[Subscription] = field(default_factory=list)
    received: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    window: tuple[int, int] = (1 << 62, 1 << 62)  # send times (ns) counted
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def setup(self) -> None:
        n_pub = -(-self.tracks // TRACKS_PER_CLIENT)
        self.pubs = list(await asyncio.gather(*(dial(self.relay) for _ in range(n_pub))))
        self.writers = list(
            await asyncio.gather(
                *(
                    self.pubs[t // TRACKS_PER_CLIENT].publish(("bench", f"t{t}"), "a", objects_per_group=RATE)
                    for t in range(self.tracks)
                )
            )
        )
        per_fan = -(-self.tracks // TRACKS_PER_CLIENT)
        self.subs = list(await asyncio.gather(*(dial(self.relay) for _ in range(per_fan * self.fanout))))
        for f in range(self.fanout):
            for t in range(self.tracks):
                sub = self.subs[f * per_fan + t // TRACKS_PER_CLIENT]
                self.iters.append(await sub.subscribe(("bench", f"t{t}"), "a"))
        self.tasks = [asyncio.create_task(self._read(it)) for it in self.iters]

    async def _read(self, it: Subscription) -> None:
        async for obj in it:
            _, _, sent = HEADER.unpack_from(obj.payload)
            # Count what was SENT inside the window, whenever it arrives (a lagging run must not count
            # its warm-up backlog as delivered).
            if self.window[0] <= sent < self.window[1]:
                self.received += 1
                self.latencies_ms.append((time.monotonic_ns() - sent) / 1e6)

    async def run(self, seconds: float, warmup: float = 1.0, drain: float = 1.0) -> tuple[float, float]:
        """Publish for warmup+seconds; returns (delivered fraction, relay CPU utilisation) of the measured part."""
        pad = b"." * (PAYLOAD - HEADER.size)
        interval = 1.0 / RATE
        loop = asyncio.get_running_loop()
        start = loop.time()
        tick = 0
        sent_measured = 0
        cpu0 = wall0 = 0.0
        measuring = False
        while loop.time() - start < warmup + seconds:
            if not measuring and loop.time() - start >= warmup:
                measuring, cpu0, wall0 = True, proc_cpu_seconds(self.relay.pid), time.monotonic()
                self.window = (time.monotonic_ns(), 1 << 62)
            for t, w in enumerate(self.writers):
                w.write(HEADER.pack(t, tick, time.monotonic_ns()) + pad)
            if measuring:
                sent_measured += len(self.writers)
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * interval - loop.time()))
        self.window = (self.window[0], time.monotonic_ns())
        util = (proc_cpu_seconds(self.relay.pid) - cpu0) / (time.monotonic() - wall0)
        await asyncio.sleep(drain)  # objects of the window still in flight
        return self.received / max(1, sent_measured * self.fanout), util

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(c.close() for c in self.pubs + self.subs), return_exceptions=True)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def throughput(relay: Relay, fanout: int, start_tracks: int, max_tracks: int, seconds: float) -> dict[str, float]:
    """(a): double the tracks until delivery < 99.9%; the best passing step's delivered/s per relay core."""
    best: dict[str, float] = {}
    tracks = start_tracks
    while tracks <= max_tracks:
        relay.start()
        load = Load(relay, tracks, fanout)
        try:
            await load.setup()
            delivered, util = await load.run(seconds)
        finally:
            await load.close()
            relay.stop()
        rate = delivered * tracks * RATE * fanout
        print(
            f"  {relay.name:9} 1:{fanout:<2} tracks {tracks:4}: delivered {delivered:.4%}, {rate:8.0f} obj/s, "
            f"relay CPU {util:.0%}, p99 {pct(load.latencies_ms, 0.99):.1f} ms",
            flush=True,
        )
        if delivered < 0.999:
            best.setdefault("limit_tracks", tracks)
            best["limit_relay_cpu"] = util
            break
        best.update(tracks=tracks, per_s=rate, relay_cpu=util, per_core=rate / max(util, 1e-3))
        tracks *= 2
    return best


async def latency(relay: Relay, tracks: int, fanout: int, seconds: float) -> dict[str, float]:
    relay.start()
    load = Load(relay, tracks, fanout)
    try:
        await load.setup()
        delivered, _ = await load.run(seconds)
    finally:
        await load.close()
        relay.stop()
    return {
        "tracks": tracks,
        "p50": pct(load.latencies_ms, 0.5),
        "p99": pct(load.latencies_ms, 0.99),
        "delivered": delivered,
    }


SLOW_SUBSCRIBER = """
import asyncio, sys, time
from clutchcall_runtime.moqt.client import connect
async def main():
    c = await connect(sys.argv[1], sys.argv[2] or None, insecure=True)
    tracks = int(sys.argv[3])
    its = [await c.subscribe(("bench", f"t{t}"), "a") for t in range(tracks)]
    async def read(it):
        async for _ in it:
            pass
    for it in its:
        asyncio.ensure_future(read(it))
    while True:  # the whole process (socket reads included) runs 10% of the time
        await asyncio.sleep(0.01)
        time.sleep(0.09)
asyncio.run(main())
"""


async def isolation(relay: Relay, tracks: int, seconds: float) -> dict[str, float]:
    """(c): the others' p99 without and with one subscriber reading at a tenth of the rate; RSS over the run."""
    out: dict[str, float] = {}
    for slow in (False, True):
        relay.start()
        load = Load(relay, tracks, 1)
        proc = None
        try:
            await load.setup()
            if slow:
                proc = subprocess.Popen(
                    [sys.executable, "-c", SLOW_SUBSCRIBER, relay.url, relay.token or "", str(tracks)]
                )
                await asyncio.sleep(1.0)
            rss0 = proc_rss(relay.pid)
            delivered, _ = await load.run(seconds)
            rss1 = proc_rss(relay.pid)
        finally:
            if proc is not None:
                proc.kill()
                proc.wait()
            await load.close()
            relay.stop()
        key = "slow" if slow else "base"
        out[f"{key}_p99"] = pct(load.latencies_ms, 0.99)
        out[f"{key}_delivered"] = delivered
        out[f"{key}_rss_growth_mb"] = (rss1 - rss0) / 2**20
    return out


async def idle_memory(relay: Relay, sessions: int) -> float:
    relay.start()
    try:
        await asyncio.sleep(0.5)
        before = proc_rss(relay.pid)
        clients: list[Client] = []
        for i in range(0, sessions, 50):
            clients += await asyncio.gather(*(dial(relay) for _ in range(min(50, sessions - i))))
        await asyncio.sleep(1.0)
        per = (proc_rss(relay.pid) - before) / sessions
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        return per
    finally:
        relay.stop()


async def reconnect(relay: Relay, pairs: int) -> dict[str, float]:
    """(e): 50 publisher/subscriber pairs; restart; time until each subscriber gets a post-restart object."""
    relay.start()
    load = Load(relay, pairs, 1)
    try:
        await load.setup()
        for task in load.tasks:
            task.cancel()
        restarted = 0.0
        first: list[float] = [0.0] * pairs

        async def read(i: int) -> None:
            async for obj in load.iters[i]:
                _, _, sent = HEADER.unpack_from(obj.payload)
                if restarted and sent / 1e9 > restarted:
                    first[i] = time.monotonic()
                    return

        readers = [asyncio.create_task(read(i)) for i in range(pairs)]

        async def write() -> None:
            pad = b"." * (PAYLOAD - HEADER.size)
            tick = 0
            while True:
                for t, w in enumerate(load.writers):
                    w.write(HEADER.pack(t, tick, time.monotonic_ns()) + pad)
                tick += 1
                await asyncio.sleep(1 / RATE)

        writer = asyncio.create_task(write())
        await asyncio.sleep(1.0)
        relay.stop()
        relay.start()
        restarted = time.monotonic()
        await asyncio.wait(readers, timeout=30)
        for task in [*readers, writer]:
            task.cancel()
        delays = [t - restarted for t in first if t]
        return {"back": len(delays) / pairs, "p50_s": pct(delays, 0.5), "p95_s": pct(delays, 0.95)}
    finally:
        await load.close()
        relay.stop()


def profile_top(path: Path, n: int = 14) -> list[str]:
    """The functions with the most self time, leaving out the event loop's idle wait and start-up."""
    stats: dict[Any, Any] = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    idle = ("poll", "builtins.exec", "builtins.compile", "_imp.", "marshal")
    rows = []
    for func, (_cc, nc, tt, ct, _callers) in sorted(stats.items(), key=lambda kv: -kv[1][2]):
        if any(word in func[2] for word in idle):
            continue
        rows.append(f"{tt:6.2f}s self {ct:6.2f}s cum {nc:8d} calls  {func[2]} ({Path(func[0]).name}:{func[1]})")
        if len(rows) == n:
            break
    return rows


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--no-profile", action="store_true")
    args = ap.parse_args()
    if MOQ_RELAY is None:
        sys.exit("moq-relay is not built: run `make moq-relay` (or set $MOQ_RELAY)")
    seconds = 2.0 if args.quick else args.seconds
    max_tracks = 40 if args.quick else 640
    state = Path(tempfile.mkdtemp(prefix="bench-relay-"))
    relays: list[Relay] = [Ours(state), MoqRelay()]
    results: dict[str, dict[str, Any]] = {r.name: {} for r in relays}

    print("(a) delivered objects/s per relay core (160 B at 50/s per track)", flush=True)
    for fanout in (1, 10):
        for relay in relays:
            start = 10 if fanout == 1 else 2
            results[relay.name][f"a_1:{fanout}"] = await throughput(relay, fanout, start, max_tracks, seconds)
    load_tracks = {r.name: max(1, int(0.8 * float(results[r.name]["a_1:1"].get("tracks", 10)))) for r in relays}
    common = min(load_tracks.values())  # the same offered load through both
    print(f"(b) latency at 80% of the load that held 99.9% ({common} tracks, 1:1, the lower of the two)", flush=True)
    for relay in relays:
        results[relay.name]["b_latency"] = await latency(relay, common, 1, seconds)
        print(f"  {relay.name:9} {results[relay.name]['b_latency']}", flush=True)
    print("(c) isolation: one subscriber at a tenth of the rate", flush=True)
    for relay in relays:
        results[relay.name]["c_isolation"] = await isolation(relay, min(common, 40), seconds)
        print(f"  {relay.name:9} {results[relay.name]['c_isolation']}", flush=True)
    print("(d) memory per idle session", flush=True)
    for relay in relays:
        results[relay.name]["d_bytes_per_idle_session"] = await idle_memory(relay, 100 if args.quick else 500)
        print(f"  {relay.name:9} {results[relay.name]['d_bytes_per_idle_session']:,.0f} bytes", flush=True)
    print("(e) reconnect after a relay restart (50 pairs)", flush=True)
    for relay in relays:
        results[relay.name]["e_reconnect"] = await reconnect(relay, 10 if args.quick else 50)
        print(f"  {relay.name:9} {results[relay.name]['e_reconnect']}", flush=True)

    if not args.no_profile:
        prof = state / "engine.prof"
        profiled = Ours(state, python_args=("-m", "cProfile", "-o", str(prof)))
        # at the heaviest load ours held (1:10), where the relay works hardest
        tracks = int(results["ours"]["a_1:10"].get("tracks", 2))
        profiled.start()
        load = Load(profiled, tracks, 10)
        await load.setup()
        await load.run(seconds)
        await load.close()
        profiled.stop()
        results["ours"]["profile_top"] = profile_top(prof) if prof.exists() else ["(no profile written)"]

    print(json.dumps(results, indent=1, default=str))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    ours, peer = results["ours"], results["moq-relay"]
    print("\nratios ours / moq-relay (same run, same loopback, same client):")
    for key in ("a_1:1", "a_1:10"):
        o, p = ours[key].get("per_core"), peer[key].get("per_core")
        if o and p:
            print(f"  {key} delivered/s per relay core: {o:,.0f} vs {p:,.0f} = {o / p:.2f}")
    o_b, p_b = ours["b_latency"], peer["b_latency"]
    print(f"  (b) p50 {o_b['p50']:.2f} vs {p_b['p50']:.2f} ms, p99 {o_b['p99']:.2f} vs {p_b['p99']:.2f} ms")
    o_d, p_d = ours["d_bytes_per_idle_session"], peer["d_bytes_per_idle_session"]
    print(f"  (d) bytes per idle session: {o_d:,.0f} vs {p_d:,.0f} = {o_d / p_d:.2f}")
    print(f"  (e) reconnect p50/p95: {ours['e_reconnect']} vs {peer['e_reconnect']}")


if __name__ == "__main__":
    asyncio.run(main())
