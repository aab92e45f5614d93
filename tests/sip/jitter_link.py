"""A network with real jitter and loss between a carrier and the engine: a network namespace of the test's (or
the benchmark's) own, joined to the root namespace by a point-to-point link whose packets are delayed, both
ways, by the model of Linux netem (`delay D [J] [distribution normal|uniform] [loss L%]`).

Two ways to the same model, chosen by what the kernel has:
- netem: a veth pair (tests/core/fastpath_net.py) with `tc qdisc add ... root netem <spec>` on both ends;
- a delay line, for kernels built without sch_netem (CONFIG_NET_SCH_NETEM unset, as on the development VM): a
  TUN device on each side and a child process that reads every IP packet from one and writes it into the other
  after its own random delay, drawn as netem draws it (D + J x N(0, 1), or uniform in D +- J; never below 0)
  and released in order of release time, so a jitter that is large beside the packet spacing reorders
  packets, as netem's time-sorted queue does. The child runs at a real-time priority when it may, so its
  timers are not the host's scheduling noise.
Either way the packets cross two real IP stacks and sockets. `close()` removes everything (the namespace, the
links, the child) and is safe to call twice; use the link as a context manager so a failure still cleans up.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import heapq
import importlib.util
import json
import os
import random
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, TypeVar

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
_TOKEN = re.compile(r"^(\d+(?:\.\d+)?)(us|ms|s)?$")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, None: 1.0}


@dataclass(frozen=True)
class NetemSpec:
    """The impairment, in netem's words: `delay 20ms 10ms distribution normal loss 2%` ("" = none)."""

    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    distribution: str = "uniform"  # netem's default when a jitter is given without a distribution
    loss_pct: float = 0.0
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> NetemSpec:
        words = text.split()
        values: dict[str, Any] = {"text": " ".join(words)}
        i = 0

        def number(what: str, unit: bool) -> float:
            nonlocal i
            if i >= len(words):
                raise ValueError(f"netem spec {text!r}: {what} needs a value")
            word = words[i]
            match = _TOKEN.match(word.rstrip("%")) if not unit else _TOKEN.match(word)
            if match is None or (not unit and match.group(2)):
                raise ValueError(f"netem spec {text!r}: {what} {word!r} is not a {'time' if unit else 'percentage'}")
            i += 1
            return float(match.group(1)) * (_UNIT_MS[match.group(2)] if unit else 1.0)

        while i < len(words):
            word = words[i]
            i += 1
            if word == "delay":
                values["delay_ms"] = number("delay", unit=True)
                if i < len(words) and _TOKEN.match(words[i]):
                    values["jitter_ms"] = number("jitter", unit=True)
            elif word == "distribution":
                if i >= len(words) or words[i] not in ("normal", "uniform"):
                    raise ValueError(f"netem spec {text!r}: distribution must be normal or uniform")
                values["distribution"] = words[i]
                i += 1
            elif word == "loss":
                if i < len(words) and words[i] == "random":
                    i += 1
                values["loss_pct"] = number("loss", unit=False)
                if not 0 <= values["loss_pct"] <= 100:
                    raise ValueError(f"netem spec {text!r}: loss {values['loss_pct']}% is not in 0..100")
            else:
                raise ValueError(f"netem spec {text!r}: {word!r} is not supported (delay, distribution, loss)")
        return cls(**values)

    def draw_delay_s(self, rng: random.Random) -> float:
        if self.jitter_ms == 0:
            return self.delay_ms / 1000
        if self.distribution == "normal":
            ms = rng.gauss(self.delay_ms, self.jitter_ms)
        else:
            ms = rng.uniform(self.delay_ms - self.jitter_ms, self.delay_ms + self.jitter_ms)
        return max(0.0, ms) / 1000

    def tc_args(self) -> list[str]:
        """The same impairment as `tc qdisc ... netem` arguments."""
        args = ["delay", f"{self.delay_ms}ms"]
        if self.jitter_ms:
            args += [f"{self.jitter_ms}ms", "distribution", self.distribution]
        return args + (["loss", f"{self.loss_pct}%"] if self.loss_pct else [])


def can_emulate() -> str:
    """Empty if this process may build a link (netem or the delay line), else why not."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth or TUN devices, tc)"
    if not Path("/dev/net/tun").exists() and not _has_netem():
        return "neither netem (sch_netem) nor /dev/net/tun is available"
    return ""


def _has_netem() -> bool:
    """Whether the kernel takes a netem qdisc (tried on a throwaway veth pair of our own)."""
    name = f"cjq{os.getpid() % 100000}"
    made = subprocess.run(["ip", "link", "add", name, "type", "veth", "peer", "name", name + "p"], capture_output=True)
    if made.returncode != 0:
        return False
    try:
        tried = subprocess.run(
            ["tc", "qdisc", "add", "dev", name, "root", "netem", "delay", "1ms"], capture_output=True
        )
        return tried.returncode == 0
    finally:
        subprocess.run(["ip", "link", "del", name], capture_output=True)


def _run(*cmd: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"setting up the jitter link failed: {' '.join(cmd)}: {done.stderr.strip()}")


def _fastpath_net() -> ModuleType:
    """tests/core/fastpath_net.py (its VethPair), loaded by path: tests/core is not a package."""
    module = sys.modules.get("fastpath_net")
    if module is None:
        spec = importlib.util.spec_from_file_location(
            "fastpath_net", Path(__file__).parents[1] / "core" / "fastpath_net.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["fastpath_net"] = module  # its dataclasses look their module up there
        spec.loader.exec_module(module)
    return module


def in_netns(ns: str, make: Callable[[], T]) -> T:
    """`make()` run on a thread that entered namespace `ns` (a socket made there stays in it)."""
    libc = ctypes.CDLL(None, use_errno=True)
    result: list[T] = []
    failure: list[BaseException] = []

    def enter_and_make() -> None:
        try:
            with open(f"/var/run/netns/{ns}") as handle:
                if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
                    errno = ctypes.get_errno()
                    raise OSError(errno, f"setns into {ns}: {os.strerror(errno)}")
            result.append(make())
        except BaseException as e:  # handed to the caller's thread
            failure.append(e)

    thread = threading.Thread(target=enter_and_make, name=f"netns-{ns}")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


@dataclass
class JitterLink:
    """The namespace `ns` at peer_v4, the root namespace at host_v4, `spec` applied to packets both ways."""

    spec: NetemSpec = field(default_factory=NetemSpec)
    seed: int = 1
    prefer_netem: bool = True
    tag: str = field(default_factory=lambda: f"cj{os.getpid() % 100000}")
    subnet: int = field(default_factory=lambda: 16 + (os.getpid() + 53) % 200)
    backend: str = ""  # "netem" or "delay line", once open
    report: dict[str, Any] = field(default_factory=dict)  # the delay line's counts, after close
    _veth: Any = None
    _child: subprocess.Popen[str] | None = None

    @property
    def ns(self) -> str:
        return f"{self.tag}ns"

    @property
    def host_v4(self) -> str:
        return f"10.{self.subnet}.0.1"

    @property
    def peer_v4(self) -> str:
        return f"10.{self.subnet}.0.2"

    def open(self) -> JitterLink:
        self.close()
        try:
            if self.prefer_netem and _has_netem():
                self._open_netem()
            else:
                self._open_delay_line()
        except BaseException:
            self.close()
            raise
        return self

    def _open_netem(self) -> None:
        veth = _fastpath_net().VethPair(tag=self.tag, queues=1, subnet=self.subnet)
        self._veth = veth.open()
        self.backend = "netem"
        _run("tc", "qdisc", "add", "dev", veth.host_if, "root", "netem", *self.spec.tc_args())
        _run("ip", "netns", "exec", self.ns, "tc", "qdisc", "add", "dev", veth.peer_if, "root", "netem",
             *self.spec.tc_args())  # fmt: skip

    def _open_delay_line(self) -> None:
        host_if, peer_if = f"{self.tag}h", f"{self.tag}p"
        config = {"spec": self.spec.__dict__, "seed": self.seed, "host_if": host_if, "peer_if": peer_if}
        self._child = subprocess.Popen(
            [sys.executable, __file__, json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self._child.stdout is not None
        if self._child.stdout.readline().strip() != "ready":
            raise RuntimeError(
                f"the delay line did not start: {self._child.stderr.read() if self._child.stderr else ''}"
            )
        self.backend = "delay line"
        _run("ip", "netns", "add", self.ns)
        _run("ip", "link", "set", peer_if, "netns", self.ns)
        _run("ip", "addr", "add", self.host_v4, "peer", self.peer_v4, "dev", host_if)
        _run("ip", "link", "set", host_if, "up")
        n = ("ip", "-n", self.ns)
        _run(*n, "addr", "add", self.peer_v4, "peer", self.host_v4, "dev", peer_if)
        _run(*n, "link", "set", peer_if, "up")
        _run(*n, "link", "set", "lo", "up")

    def counts(self) -> dict[str, Any]:
        """The delay line's packets forwarded and dropped so far, by direction (empty with netem)."""
        if self._child is None or self._child.stdin is None:
            return {}
        self._child.stdin.write("counts\n")
        self._child.stdin.flush()
        assert self._child.stdout is not None
        counts: dict[str, Any] = json.loads(self._child.stdout.readline())
        return counts

    def close(self) -> None:
        if self._veth is not None:
            self._veth.close()
            self._veth = None
        if self._child is not None:
            child, self._child = self._child, None
            try:
                out, _ = child.communicate(timeout=5)  # EOF on its stdin: it prints its counts and exits
                last = out.strip().splitlines()[-1:] or ["{}"]
                self.report = json.loads(last[0])
            except (subprocess.TimeoutExpired, json.JSONDecodeError):
                child.kill()
                child.wait()
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", f"{self.tag}h"], capture_output=True, check=False)

    def __enter__(self) -> JitterLink:
        return self.open()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def udp_socket(self, port: int = 0) -> socket.socket:
        """A non-blocking UDP socket in the namespace, bound to peer_v4:port."""

        def make() -> socket.socket:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((self.peer_v4, port))
            sock.setblocking(False)
            return sock

        return in_netns(self.ns, make)


# ---- the delay line (a child process: python jitter_link.py '<config json>') ----


def _tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def delay_line(config: dict[str, Any]) -> None:
    spec = NetemSpec(**config["spec"])
    rng = random.Random(config["seed"])
    host, peer = _tun(config["host_if"]), _tun(config["peer_if"])
    with contextlib.suppress(OSError):  # precise timers when allowed; SCHED_FIFO sleeps in select like any other
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    counts = {"uplink": [0, 0], "downlink": [0, 0]}  # forwarded, dropped (peer -> host is the uplink)
    pending: list[tuple[float, int, int, bytes]] = []  # (release time, arrival order, out fd, packet)
    order = 0
    print("ready", flush=True)
    stdin = sys.stdin.fileno()
    while True:
        timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else None
        readable, _, _ = select.select([host, peer, stdin], [], [], timeout)
        if stdin in readable:
            if not os.read(stdin, 4096):
                break  # the parent closed the link
            print(json.dumps(report(counts)), flush=True)  # asked for the counts so far
        now = time.monotonic()
        for fd in (host, peer):
            if fd not in readable:
                continue
            packet = os.read(fd, 65535)
            direction = counts["uplink" if fd == peer else "downlink"]
            if spec.loss_pct and rng.random() * 100 < spec.loss_pct:
                direction[1] += 1
                continue
            order += 1
            heapq.heappush(pending, (now + spec.draw_delay_s(rng), order, host if fd == peer else peer, packet))
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, out, packet = heapq.heappop(pending)
            with contextlib.suppress(OSError):  # the far side is going down
                os.write(out, packet)
                counts["uplink" if out == host else "downlink"][0] += 1
    print(json.dumps(report(counts)), flush=True)


def report(counts: dict[str, list[int]]) -> dict[str, dict[str, int]]:
    return {k: {"forwarded": v[0], "dropped": v[1]} for k, v in counts.items()}


if __name__ == "__main__":
    delay_line(json.loads(sys.argv[1]))
