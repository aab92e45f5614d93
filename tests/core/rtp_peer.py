"""The far end of the fast-path tests, run inside the test's network namespace: for each call it
plays both peers (leg a's and leg b's), sends RTP from each towards the relay and records what
comes back. Config (JSON on stdin)::

    {"calls": [{"id": 1, "a_peer": [ip, port], "a_relay": [ip, port],
                "b_peer": [ip, port], "b_relay": [ip, port], "count": 200,
                "payload_len": 160, "pt_a": 0, "pt_b": 0}],
     "interval_ms": 1.0, "linger_ms": 500, "timeout_s": 20}

Every call sends `count` packets from each peer, round-robin over calls, one round every
`interval_ms`. Packet i of a call's leg x carries sequence i, SSRC = id*2 (+1 for leg b), and a
payload derived from (id, leg, i), so the test can say exactly which packet is missing. The
report (JSON on stdout) lists, per call and per peer, the hex of every packet sent and received.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import sys
import time
from typing import Any


def rtp(seq: int, ts: int, ssrc: int, pt: int, payload: bytes) -> bytes:
    return struct.pack("!BBHII", 0x80, pt & 0x7F, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload


def payload(call_id: int, leg: int, i: int, n: int) -> bytes:
    return bytes((call_id * 131 + leg * 71 + i * 7 + k) & 0xFF for k in range(n))


def main() -> None:
    cfg: dict[str, Any] = json.load(sys.stdin)
    socks: dict[int, tuple[int, int]] = {}  # fd -> (call index, leg)
    objs: list[list[socket.socket]] = []
    sent: list[list[list[str]]] = []
    got: list[list[list[str]]] = []
    for ci, call in enumerate(cfg["calls"]):
        pair = []
        for leg in (0, 1):
            ip, port = call["a_peer" if leg == 0 else "b_peer"]
            s = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind((ip, port))
            s.setblocking(False)
            socks[s.fileno()] = (ci, leg)
            pair.append(s)
        objs.append(pair)
        sent.append([[], []])
        got.append([[], []])

    poller = select.poll()
    for fd in socks:
        poller.register(fd, select.POLLIN)

    def drain(wait_ms: float) -> None:
        for fd, _ in poller.poll(wait_ms):
            ci, leg = socks[fd]
            s = objs[ci][leg]
            while True:
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    break
                got[ci][leg].append(data.hex())

    interval = float(cfg.get("interval_ms", 1.0))
    count = max(int(c["count"]) for c in cfg["calls"])
    next_round = time.monotonic()
    for i in range(count):
        for ci, call in enumerate(cfg["calls"]):
            if i >= int(call["count"]):
                continue
            n = int(call.get("payload_len", 160))
            for leg in (0, 1):
                relay = call["a_relay" if leg == 0 else "b_relay"]
                pt = int(call.get("pt_a" if leg == 0 else "pt_b", 0))
                pkt = rtp(i, 1000 + 160 * i, int(call["id"]) * 2 + leg, pt, payload(int(call["id"]), leg, i, n))
                objs[ci][leg].sendto(pkt, (relay[0], relay[1]))
                sent[ci][leg].append(pkt.hex())
        next_round += interval / 1000.0
        while True:
            left = next_round - time.monotonic()
            drain(max(left * 1000.0, 0.0))
            if left <= 0:
                break
    # Keep receiving until everything expected came back, the line went quiet, or time is up.
    deadline = time.monotonic() + float(cfg.get("timeout_s", 20))
    linger = float(cfg.get("linger_ms", 500)) / 1000.0
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        before = sum(len(g[0]) + len(g[1]) for g in got)
        drain(20)
        after = sum(len(g[0]) + len(g[1]) for g in got)
        if after != before:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > linger:
            break
    json.dump({"sent": sent, "got": got}, sys.stdout)


if __name__ == "__main__":
    main()
