"""The RTP fast path beside rtpengine relaying the same calls on the same veth pair: packets per second per core.

One single-queue veth pair like bench_fastpath's (`ccra<pid>` in the root namespace, `ccrb<pid>` in namespace
`ccrn<pid>`, a /30 of 100.64.0.0/10 picked by pid, permanent neighbours). The relay runs in the root namespace
pinned to CPU 1, bound to the veth address only; the generator runs in the namespace pinned to CPU 0. For each
relay in turn (our engine with one shard on AF_XDP, io_uring and recvmmsg; rtpengine 10.5 in user space,
`--table=-1`, its calls made with NG offer/answer through bench_bridge's client): N calls, two legs each, one
172-byte RTP packet (G.711 u-law, 20 ms) into every leg each 20 ms (50 pkt/s per leg each way), both legs
latched from their first packet. Counted over the window: packets relayed (returned to the generator), the
relay's CPU seconds from /proc (our shard thread; rtpengine's whole process) and machine softirq from /proc/stat
(on veth the receive stack runs in softirq on the sender's CPU, so it is charged back in a second column).

    .venv/bin/python benchmarks/fastpath/bench_rtpengine.py [--calls 200] [--seconds 5]   # root

The generator is Python (one socket per leg, like bench_bridge): bench_fastpath's C++ generator sends to a fixed
port plan, and rtpengine picks its ports in the SDP it answers. Teardown: the namespace and the veth pair are
deleted in a finally (and on SIGTERM); the whole run is bounded by the generator's --seconds plus set-up time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "bridge"))
from bench_bridge import Rtpengine, _media_port  # noqa: E402  (also puts $CLUTCHCALL_CORE_PKG on sys.path)
from clutchcall_core import relay  # noqa: E402

PERIOD = 0.020
PAYLOAD = b"\xff" * 160  # 20 ms of G.711 u-law silence: 12 + 160 = 172 bytes
WARM_UP = 0.5
RELAY_CPU, GEN_CPU = 1, 0
GEN_PORT0 = 30000  # the generator's leg i sends from peer_ip:GEN_PORT0 + i (the ports rtpengine's SDPs name)
OUR_BACKENDS = ("af_xdp", "io_uring", "recvmmsg")


class Topology:
    """The veth pair and the namespace; `close` deletes both (the veth goes with the namespace)."""

    def __init__(self) -> None:
        pid = os.getpid()
        self.ns, self.host_if, self.peer_if = f"ccrn{pid}", f"ccra{pid}", f"ccrb{pid}"
        base = (pid % 1048576) * 4
        net = f"100.{64 + base // 65536}.{base // 256 % 256}."
        self.host_ip, self.peer_ip = net + str(base % 256 + 1), net + str(base % 256 + 2)

    def create(self) -> None:
        b = ["ip", "-n", self.ns]
        host_mac, peer_mac = "02:cc:fb:00:00:01", "02:cc:fb:00:00:02"
        for cmd in (
            ["ip", "netns", "add", self.ns],
            (
                f"ip link add {self.host_if} numtxqueues 1 numrxqueues 1 type veth"
                f" peer name {self.peer_if} numtxqueues 1 numrxqueues 1 netns {self.ns}"
            ).split(),
            ["ip", "link", "set", self.host_if, "address", host_mac],
            [*b, "link", "set", self.peer_if, "address", peer_mac],
            ["ip", "addr", "add", f"{self.host_ip}/30", "dev", self.host_if],
            [*b, "addr", "add", f"{self.peer_ip}/30", "dev", self.peer_if],
            [*b, "link", "set", "lo", "up"],
            ["ip", "link", "set", self.host_if, "up"],
            [*b, "link", "set", self.peer_if, "up"],
            ["ip", "neigh", "replace", self.peer_ip, "lladdr", peer_mac, "dev", self.host_if, "nud", "permanent"],
            [*b, "neigh", "replace", self.host_ip, "lladdr", host_mac, "dev", self.peer_if, "nud", "permanent"],
        ):
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip()}")

    def close(self) -> None:
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True, check=False)


# ---- the generator (a child process inside the namespace) ----


def generate(spec: dict[str, Any]) -> dict[str, int]:
    """One socket per leg (call c: legs 2c and 2c+1) sends a packet each 20 ms to its target; what comes back
    after the warm-up is counted. Prints "window" when the counted window opens, then its counts as JSON."""
    socks = []
    for leg in range(len(spec["targets"])):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((spec["peer_ip"], GEN_PORT0 + leg))
        s.setblocking(False)
        socks.append(s)
    targets = [(spec["host_ip"], port) for port in spec["targets"]]
    sent = returned = unsent = 0
    worst_lag = 0.0
    t0 = time.monotonic()
    end = t0 + WARM_UP + spec["seconds"]
    counting = False
    k = 0
    while (now := time.monotonic()) < end:
        if not counting and now >= t0 + WARM_UP:
            counting = True
            print("window", flush=True)
        if counting:
            worst_lag = max(worst_lag, now - (t0 + k * PERIOD))
        header = struct.pack("!BBHI", 0x80, 0, k & 0xFFFF, (k * 160) & 0xFFFFFFFF)
        for i, (s, target) in enumerate(zip(socks, targets, strict=True)):
            try:
                s.sendto(header + struct.pack("!I", i + 1) + PAYLOAD, target)
                sent += counting
            except BlockingIOError:  # our own socket buffer full: counted, not retried
                unsent += counting
        deadline = t0 + (k + 1) * PERIOD
        while True:  # drain until nothing is waiting or this round's slot is nearly over
            got = 0
            for s in socks:
                try:
                    while True:
                        s.recv(2048)
                        got += 1
                except BlockingIOError:
                    pass
            returned += got if counting else 0
            if got == 0 or time.monotonic() >= deadline - 0.002:
                break
        time.sleep(max(0.0, deadline - time.monotonic()))
        k += 1
    return {"sent": sent, "unsent": unsent, "returned": returned, "lag_us": int(worst_lag * 1e6)}


# ---- the relays under test ----


def softirq_seconds() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()
    return int(fields[7]) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """CPU time of one thread, or of every thread of pid, from schedstat (ns; /proc/.../stat counts 10 ms ticks)."""
    tids = [tid] if tid is not None else [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    total = 0
    for t in tids:
        with contextlib.suppress(FileNotFoundError):  # a thread that ended between the listing and the read
            total += int(Path(f"/proc/{pid}/task/{t}/schedstat").read_text().split()[0])
    return total / 1e9


@dataclass
class Row:
    relay: str
    sent: int
    unsent: int
    returned: int
    seconds: float
    relay_cpu: float
    softirq: float
    lag_us: int

    @property
    def pps(self) -> float:
        return self.returned / self.seconds

    @property
    def per_core(self) -> float:
        return self.returned / self.relay_cpu if self.relay_cpu else float("nan")

    @property
    def per_core_sirq(self) -> float:
        return self.returned / (self.relay_cpu + self.softirq)


def drive(net: Topology, name: str, targets: list[int], seconds: float, relay_cpu: Callable[[], float]) -> Row:
    """Runs the generator in the namespace against `targets`; relay_cpu() is the relay's CPU seconds so far."""
    spec = {"host_ip": net.host_ip, "peer_ip": net.peer_ip, "targets": targets, "seconds": seconds}
    child = subprocess.Popen(
        ["ip", "netns", "exec", net.ns, "taskset", "-c", str(GEN_CPU), sys.executable, __file__, "--generate"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    child.stdin.write(json.dumps(spec))
    child.stdin.close()
    # Sample the relay's CPU and softirq when the child's counted window opens and when it closes.
    assert child.stdout is not None
    samples = []
    line = ""
    try:
        for _ in range(2):
            line = child.stdout.readline()
            samples.append((time.monotonic(), relay_cpu(), softirq_seconds()))
        child.wait(timeout=10)
    finally:
        if child.poll() is None:  # interrupted: the generator must not outlive the run
            child.kill()
            child.wait()
    if child.returncode != 0 or not line:
        raise RuntimeError(f"{name}: the generator failed (exit {child.returncode})")
    counts = json.loads(line)
    (t0, c0, s0), (t1, c1, s1) = samples
    return Row(name, counts["sent"], counts["unsent"], counts["returned"], t1 - t0, c1 - c0, s1 - s0, counts["lag_us"])


def ours(net: Topology, backend: str, calls: int, seconds: float) -> Row:
    before = set(os.listdir("/proc/self/task"))
    port0 = 20000
    with relay.Engine(
        backend=backend, ifname=net.host_if, port_lo=port0, port_hi=port0 + 2 * calls, shards=1, cpus=[RELAY_CPU]
    ) as engine:
        if engine.backend != backend:
            raise RuntimeError(f"{backend}: the engine started {engine.backend}: {engine.fallback_reason}")
        shard = next(int(t) for t in set(os.listdir("/proc/self/task")) - before)
        for c in range(calls):
            legs = [relay.Leg((net.host_ip, port0 + 2 * c + side)) for side in range(2)]
            engine.add_call(c + 1, legs[0], legs[1])
        row = drive(
            net,
            f"ours {backend}",
            list(range(port0, port0 + 2 * calls)),
            seconds,
            lambda: cpu_seconds(os.getpid(), shard),
        )
        mode = f" ({engine.xdp_mode})" if backend == "af_xdp" else ""
        row.relay += mode
        return row


def sdp(ip: str, port: int) -> str:
    return f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\na=sendrecv\r\n"


def rtpengine(net: Topology, calls: int, seconds: float, workdir: Path) -> Row:
    engine = Rtpengine(workdir, address=net.host_ip, cpu=RELAY_CPU)
    try:
        targets = []
        for c in range(calls):
            call = f"fastpath-{os.getpid()}-{c}"
            a_port, b_port = GEN_PORT0 + 2 * c, GEN_PORT0 + 2 * c + 1
            offer = engine.command(
                {"command": "offer", "call-id": call, "from-tag": "a", "sdp": sdp(net.peer_ip, a_port)}
            )
            answer = engine.command(
                {"command": "answer", "call-id": call, "from-tag": "a", "to-tag": "b", "sdp": sdp(net.peer_ip, b_port)}
            )
            targets += [_media_port(answer), _media_port(offer)]  # A sends where the answer says, B to the offer's
        return drive(net, "rtpengine (user space)", targets, seconds, lambda: cpu_seconds(engine.proc.pid))
    finally:
        engine.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=200, help="calls per relay (2 legs, 50 pkt/s each way per leg)")
    ap.add_argument("--seconds", type=float, default=5.0, help="the counted window per relay")
    ap.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)  # the child in the namespace
    args = ap.parse_args()
    if args.generate:
        print(json.dumps(generate(json.load(sys.stdin))))
        return
    if not 1 <= args.calls <= 5000 or not 1.0 <= args.seconds <= 60.0:
        ap.error("--calls must be in 1..5000 and --seconds in 1..60")
    if shutil.which("rtpengine") is None:
        sys.exit("bench_rtpengine: rtpengine is not installed (Debian rtpengine-daemon)")
    if os.geteuid() != 0:
        sys.exit("bench_rtpengine: needs root (veth, a network namespace, XDP)")
    net = Topology()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench_rtpengine: SIGTERM"))
    rows: list[Row] = []
    try:
        net.create()
        for backend in OUR_BACKENDS:
            rows.append(ours(net, backend, args.calls, args.seconds))
        with tempfile.TemporaryDirectory(prefix="bench-rtpengine-") as work:
            rows.append(rtpengine(net, args.calls, args.seconds, Path(work)))
    finally:
        net.close()
    peer = rows[-1]
    print(f"{args.calls} calls ({100 * args.calls} pkt/s in, as many out), {args.seconds:g} s, 172-byte RTP, veth")
    print(
        f"{'relay':<24} {'sent':>8} {'unsent':>6} {'relayed':>8} {'pkt/s':>8} {'relay CPU':>9} {'sirq s':>7} "
        f"{'pkt/CPU-s':>10} {'pkt/(CPU+sirq)':>14} {'ratio':>12} {'gen lag ms':>10}"
    )
    for r in rows:
        ratio = f"{r.per_core / peer.per_core:.2f}/{r.per_core_sirq / peer.per_core_sirq:.2f}"
        print(
            f"{r.relay:<24} {r.sent:>8} {r.unsent:>6} {r.returned:>8} {r.pps:>8.0f} "
            f"{r.relay_cpu:>9.3f} {r.softirq:>7.3f} "
            f"{r.per_core:>10.0f} {r.per_core_sirq:>14.0f} {ratio:>12} {r.lag_us / 1000:>10.1f}"
        )
    print("ratio: pkt/CPU-s / rtpengine's, pkt/(CPU+sirq) / rtpengine's (same run)")


if __name__ == "__main__":
    main()
