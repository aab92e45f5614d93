"""A throwaway two-host network for the fast-path tests: a veth pair whose root-side end the
engine attaches to, and whose peer end lives in a network namespace the test creates.

Everything is named after the test process's pid (so parallel runs never collide), both ends
get 2 RX/TX queues (so RSS-style spreading over queues, and the relay's hand-off between
shards, are exercised), IPv4 and IPv6 addresses, and static (permanent) neighbour entries both
ways, so ARP/ND never interferes with the traffic. ``close()`` deletes the namespace and the link
and is called from ``__exit__`` and from a pytest finalizer, so a failing test still tears it down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

PEER_SCRIPT = Path(__file__).with_name("rtp_peer.py")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def can_make_netns() -> str:
    """Empty if this process may create namespaces and veths, else why not."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth, XDP)"
    try:
        _ip("-V")
    except FileNotFoundError:
        return "iproute2 ('ip') is not installed"
    return ""


@dataclass
class VethPair:
    tag: str = field(default_factory=lambda: f"cc{os.getpid() % 100000}")
    queues: int = 2
    subnet: int = field(default_factory=lambda: 16 + os.getpid() % 200)
    up: bool = False

    @property
    def ns(self) -> str:
        return f"{self.tag}ns"

    @property
    def host_if(self) -> str:
        return f"{self.tag}h"

    @property
    def peer_if(self) -> str:
        return f"{self.tag}p"

    @property
    def host_v4(self) -> str:
        return f"10.{self.subnet}.0.1"

    @property
    def peer_v4(self) -> str:
        return f"10.{self.subnet}.0.2"

    @property
    def host_v6(self) -> str:
        return f"fd00:cc:{self.subnet}::1"

    @property
    def peer_v6(self) -> str:
        return f"fd00:cc:{self.subnet}::2"

    def _mac(self, name: str, netns: bool) -> str:
        cmd = ["-n", self.ns] if netns else []
        out = _ip(*cmd, "-j", "link", "show", name).stdout
        return str(json.loads(out)[0]["address"])

    def open(self) -> VethPair:
        self.close()  # leftovers of a crashed run with the same pid
        q = str(self.queues)
        try:
            _ip("netns", "add", self.ns)
            _ip("link", "add", self.host_if, "numtxqueues", q, "numrxqueues", q, "type", "veth",
                "peer", "name", self.peer_if, "numtxqueues", q, "numrxqueues", q, "netns", self.ns)  # fmt: skip
            n = ["-n", self.ns]
            _ip("link", "set", self.host_if, "up")
            _ip(*n, "link", "set", "lo", "up")
            _ip(*n, "link", "set", self.peer_if, "up")
            _ip("addr", "add", f"{self.host_v4}/24", "dev", self.host_if)
            _ip(*n, "addr", "add", f"{self.peer_v4}/24", "dev", self.peer_if)
            _ip("addr", "add", f"{self.host_v6}/64", "dev", self.host_if, "nodad")
            _ip(*n, "addr", "add", f"{self.peer_v6}/64", "dev", self.peer_if, "nodad")
            host_mac, peer_mac = self._mac(self.host_if, False), self._mac(self.peer_if, True)
            for addr in (self.peer_v4, self.peer_v6):
                _ip("neigh", "replace", addr, "lladdr", peer_mac, "dev", self.host_if, "nud", "permanent")
            for addr in (self.host_v4, self.host_v6):
                _ip(*n, "neigh", "replace", addr, "lladdr", host_mac, "dev", self.peer_if, "nud", "permanent")
        except subprocess.CalledProcessError as e:
            self.close()
            raise RuntimeError(f"setting up the test network failed: {' '.join(e.cmd)}: {e.stderr}") from e
        self.up = True
        return self

    def close(self) -> None:
        _ip("link", "del", self.host_if, check=False)
        _ip("netns", "del", self.ns, check=False)
        self.up = False

    def __enter__(self) -> VethPair:
        return self.open()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def run_peer(self, config: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
        """Runs rtp_peer.py inside the namespace with `config` on stdin; returns its report."""
        done = subprocess.run(
            ["ip", "netns", "exec", self.ns, sys.executable, str(PEER_SCRIPT)],
            input=json.dumps(config),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"rtp_peer failed ({done.returncode}): {done.stderr[-4000:]}")
        report: dict[str, Any] = json.loads(done.stdout)
        return report
