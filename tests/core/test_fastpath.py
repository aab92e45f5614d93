"""The RTP fast path end to end, on a real veth pair with the far end in a network namespace:
the engine (clutchcall_core.relay, started from Python) relays calls on AF_XDP, io_uring and
recvmmsg, and every test runs on each of the three.

What is shown, per backend:
  - every packet of every call reaches its owning shard (counted there: per-call rx equals what
    the peers sent, and whatever landed on another shard was handed off and processed) and comes
    back out on the other leg byte for byte (FORWARD), IPv4 and IPv6;
  - a transcoding call (u-law <-> A-law) comes out frame for frame through the jitter buffer,
    with A-law payloads equal to the G.711 conversion of what was sent;
  - traffic that is not ours (other ports, non-RTP payloads, TCP) still reaches the kernel;
  - with backend "auto" and no usable interface, the engine falls back and says why.
Skips only where the kernel refuses (not root, no AF_XDP), with the reason printed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from fastpath_net import VethPair, can_make_netns  # beside this file (pytest puts tests/core on sys.path)

BACKENDS = ["af_xdp", "io_uring", "recvmmsg"]
PORT_LO, PORT_HI = 40000, 40999


@pytest.fixture
def net(request: pytest.FixtureRequest) -> Iterator[VethPair]:
    why = can_make_netns()
    if why:
        pytest.skip(why)
    pair = VethPair()
    request.addfinalizer(pair.close)  # torn down even if the test body raises
    with pair.open():
        yield pair


def start_engine(core: ModuleType, backend: str, net: VethPair, shards: int = 2) -> Any:
    try:
        return core.relay.Engine(backend=backend, ifname=net.host_if, port_lo=PORT_LO, port_hi=PORT_HI,
                                 shards=shards, pin=False)  # fmt: skip
    except RuntimeError as e:
        msg = str(e)
        if backend == "af_xdp" and any(k in msg for k in ("not permitted", "not supported", "EPERM", "EOPNOTSUPP")):
            pytest.skip(f"the kernel refused AF_XDP: {msg}")
        raise


def leg(core: ModuleType, local: tuple[str, int], remote: tuple[str, int], codec: str, pt: int) -> Any:
    return core.relay.Leg(local=local, remote=remote, codec=codec, payload_type=pt)


def call_plan(net: VethPair, n_calls: int, count: int, v6: bool = False) -> list[dict[str, Any]]:
    host, peer = (net.host_v6, net.peer_v6) if v6 else (net.host_v4, net.peer_v4)
    return [
        {
            "id": 100 + i,
            "a_peer": [peer, 5000 + 2 * i],
            "b_peer": [peer, 6000 + 2 * i],
            "a_relay": [host, PORT_LO + 4 * i],
            "b_relay": [host, PORT_LO + 4 * i + 2],
            "count": count,
        }
        for i in range(n_calls)
    ]


def add_calls(core: ModuleType, engine: Any, plan: list[dict[str, Any]], codec_a: str = "g711_ulaw",
              codec_b: str = "g711_ulaw") -> None:  # fmt: skip
    for c in plan:
        a = leg(core, tuple(c["a_relay"]), tuple(c["a_peer"]), codec_a, c.get("pt_a", 0))
        b = leg(core, tuple(c["b_relay"]), tuple(c["b_peer"]), codec_b, c.get("pt_b", 0))
        engine.add_call(c["id"], a, b)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
def test_every_packet_reaches_its_shard_and_comes_back_out(core: ModuleType, net: VethPair, backend: str,
                                                           v6: bool) -> None:  # fmt: skip
    engine = start_engine(core, backend, net)
    with engine:
        assert engine.backend == backend
        assert engine.fallback_reason == ""
        plan = call_plan(net, n_calls=8, count=150, v6=v6)
        add_calls(core, engine, plan)
        report = net.run_peer({"calls": plan, "interval_ms": 2.0, "linger_ms": 400})
        total = 0
        for ci, c in enumerate(plan):
            sent_a, sent_b = report["sent"][ci]
            got_a, got_b = report["got"][ci]
            # FORWARD: what a sent comes out at b, byte for byte and in order, and vice versa.
            assert got_b == sent_a, f"call {c['id']}: leg a -> b lost or changed packets"
            assert got_a == sent_b, f"call {c['id']}: leg b -> a lost or changed packets"
            st = engine.call_stats(c["id"])
            for side, sent in (("a", sent_a), ("b", sent_b)):
                s = st[side]
                assert s["rx_packets"] == len(sent), (c["id"], side, s)
                assert s["handoff_in"] == s["handoff_out"], (c["id"], side, s)  # none lost between shards
                assert s["malformed"] == s["foreign_source"] == s["tx_dropped"] == 0, s
            assert st["a"]["tx_packets"] == len(sent_b) and st["b"]["tx_packets"] == len(sent_a)
            total += len(sent_a) + len(sent_b)
        shards = engine.shard_stats()
        assert sum(s["rx_packets"] for s in shards) == total
        assert sum(s["tx_packets"] for s in shards) == total
        assert sum(s["handoff_out"] for s in shards) == sum(s["handoff_in"] for s in shards)
        assert all(s["ring_overruns"] == 0 and s["unknown_port"] == 0 for s in shards), shards
        if backend == "af_xdp":
            # Flows spread over both RX queues, so some packets landed on the shard that does not
            # own their call and were handed off (2**-32 odds of this being wrong by chance).
            assert sum(s["handoff_out"] for s in shards) > 0, shards
            assert engine.xdp_mode, "AF_XDP reports its XDP and bind modes"
            print(f"AF_XDP: {engine.xdp_mode}; hand-offs {[s['handoff_out'] for s in shards]}")
        else:
            # Sockets: the owner shard holds the leg's socket; the kernel delivers straight to it.
            assert sum(s["handoff_out"] for s in shards) == 0, shards
        for c in plan:
            final = engine.remove_call(c["id"])
            assert final["a"]["rx_packets"] == c["count"]
        assert engine.call_ids() == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_transcoding_call_comes_out_frame_for_frame(core: ModuleType, net: VethPair, backend: str) -> None:
    engine = start_engine(core, backend, net)
    with engine:
        plan = call_plan(net, n_calls=2, count=50)
        for c in plan:
            c["pt_a"], c["pt_b"] = 0, 8
        add_calls(core, engine, plan, codec_a="g711_ulaw", codec_b="g711_alaw")
        report = net.run_peer({"calls": plan, "interval_ms": 20.0, "linger_ms": 600})
        g711 = core.g711
        for ci, c in enumerate(plan):
            sent_a, sent_b = ([bytes.fromhex(h) for h in x] for x in report["sent"][ci])
            got_a, got_b = ([bytes.fromhex(h) for h in x] for x in report["got"][ci])
            assert len(got_b) == len(sent_a) == 50, f"call {c['id']}: {len(got_b)} of 50 u-law frames came out"
            assert len(got_a) == len(sent_b) == 50, f"call {c['id']}: {len(got_a)} of 50 A-law frames came out"
            for direction, (sent, got, pt_out, convert) in {
                "a->b": (sent_a, got_b, 8, lambda p: g711.alaw_encode(g711.ulaw_decode(p))),
                "b->a": (sent_b, got_a, 0, lambda p: g711.ulaw_encode(g711.alaw_decode(p))),
            }.items():
                ssrc = got[0][8:12]
                for i, (s, g) in enumerate(zip(sent, got, strict=True)):
                    assert g[1] & 0x7F == pt_out, (direction, i)
                    assert g[8:12] == ssrc, (direction, i)
                    assert int.from_bytes(g[2:4], "big") == (int.from_bytes(got[0][2:4], "big") + i) & 0xFFFF
                    assert bytes(g[12:]) == bytes(convert(s[12:])), f"{direction} frame {i}"
            st = engine.call_stats(c["id"])
            assert st["transcoding"]
            assert st["a"]["concealed"] == st["b"]["concealed"] == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_other_traffic_still_reaches_the_kernel(core: ModuleType, net: VethPair, backend: str) -> None:
    engine = start_engine(core, backend, net)
    with engine:
        add_calls(core, engine, call_plan(net, n_calls=1, count=1))
        out_of_range = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        in_range = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            out_of_range.bind((net.host_v4, 9999))
            in_range.bind((net.host_v4, PORT_HI - 1))  # in the RTP range, but no call uses it
            tcp.bind((net.host_v4, PORT_HI - 3))  # TCP on an RTP port: not UDP, so the kernel's
            tcp.listen(1)
            for s in (out_of_range, in_range, tcp):
                s.settimeout(5.0)
            script = (
                "import socket\n"
                "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                f"s.sendto(b'not rtp, other port', ('{net.host_v4}', 9999))\n"
                # In range, but not RTP v2 (first byte 0x00): the classifier passes it on.
                f"s.sendto(b'\\x00 not rtp, rtp port', ('{net.host_v4}', {PORT_HI - 1}))\n"
                f"t = socket.create_connection(('{net.host_v4}', {PORT_HI - 3}), timeout=5)\n"
                "t.sendall(b'tcp ok')\n"
                "t.close()\n"
            )
            subprocess.run(["ip", "netns", "exec", net.ns, sys.executable, "-c", script], check=True, timeout=30)
            assert out_of_range.recv(100) == b"not rtp, other port"
            assert in_range.recv(100) == b"\x00 not rtp, rtp port"
            conn, _ = tcp.accept()
            with conn:
                conn.settimeout(5.0)
                assert conn.recv(100) == b"tcp ok"
        finally:
            out_of_range.close()
            in_range.close()
            tcp.close()


def test_auto_falls_back_and_says_why(core: ModuleType, net: VethPair) -> None:
    with core.relay.Engine(backend="auto", ifname="nosuchif0", port_lo=PORT_LO, port_hi=PORT_HI, shards=2,
                           pin=False) as engine:  # fmt: skip
        assert engine.backend in ("io_uring", "recvmmsg")
        assert "af_xdp refused" in engine.fallback_reason and "nosuchif0" in engine.fallback_reason
        assert engine.fallback_reason.endswith(f"using {engine.backend}")
    with pytest.raises(RuntimeError, match=r"af_xdp: .*nosuchif0"):
        core.relay.Engine(backend="af_xdp", ifname="nosuchif0", port_lo=PORT_LO, port_hi=PORT_HI)
    with pytest.raises(ValueError, match="unknown backend 'dpdk'"):
        core.relay.Engine(backend="dpdk")


@pytest.mark.parametrize("backend", ["af_xdp"])
def test_control_plane_errors_are_named(core: ModuleType, net: VethPair, backend: str) -> None:
    with start_engine(core, backend, net) as engine:
        a = leg(core, (net.host_v4, PORT_LO), (net.peer_v4, 5000), "g711_ulaw", 0)
        b = leg(core, (net.host_v4, PORT_LO + 2), (net.peer_v4, 5002), "g711_ulaw", 0)
        engine.add_call(1, a, b)
        with pytest.raises(ValueError, match="call 1 already exists"):
            engine.add_call(1, a, b)
        far = leg(core, (net.host_v4, 50000), (net.peer_v4, 5004), "g711_ulaw", 0)
        with pytest.raises(ValueError, match="outside the RTP range"):
            engine.add_call(2, far, b)
        with pytest.raises(ValueError, match="unknown codec 'g729'"):
            engine.add_call(3, leg(core, (net.host_v4, PORT_LO + 8), (net.peer_v4, 5006), "g729", 18), b)
        with pytest.raises(KeyError):
            engine.remove_call(42)
        time.sleep(0.01)
        assert engine.call_ids() == [1]


@pytest.mark.parametrize(("queues", "shards"), [(2, 1), (4, 2)])
def test_af_xdp_with_fewer_shards_than_queues_serves_every_queue(core: ModuleType, request: pytest.FixtureRequest,
                                                                 queues: int, shards: int) -> None:  # fmt: skip
    # An XSK receives only from its own queue: with fewer shards than RX queues, each shard owns
    # several queues (an XskGroup), or the calls hashed to a queue without an XSK would be lost.
    why = can_make_netns()
    if why:
        pytest.skip(why)
    net = VethPair(queues=queues)
    request.addfinalizer(net.close)
    net.open()
    engine = start_engine(core, "af_xdp", net, shards=shards)
    with engine:
        assert engine.backend == "af_xdp" and engine.shard_count == shards and engine.fallback_reason == ""
        plan = call_plan(net, n_calls=12, count=60)
        add_calls(core, engine, plan)
        report = net.run_peer({"calls": plan, "interval_ms": 1.0, "linger_ms": 300})
        for ci, c in enumerate(plan):
            sent_a, sent_b = report["sent"][ci]
            got_a, got_b = report["got"][ci]
            assert (got_b, got_a) == (sent_a, sent_b), f"call {c['id']}: packets lost or changed"
        stats = engine.shard_stats()
        assert sum(s["rx_packets"] for s in stats) == sum(2 * c["count"] for c in plan), stats
        assert sum(s["handoff_out"] for s in stats) == sum(s["handoff_in"] for s in stats)
        if shards > 1:
            assert sum(s["handoff_out"] for s in stats) > 0, stats  # flows do cross shards


@pytest.mark.parametrize("shards", [1, 2])
def test_af_xdp_restarts_at_once_and_relays_after_each(core: ModuleType, request: pytest.FixtureRequest,
                                                       shards: int) -> None:  # fmt: skip
    # Stop and start again at once on the same veth queues, with traffic just relayed: the kernel
    # frees the old XSKs asynchronously, and the engine waits out the EBUSY instead of failing.
    why = can_make_netns()
    if why:
        pytest.skip(why)
    net = VethPair(queues=shards)
    request.addfinalizer(net.close)
    net.open()
    # Background RTP to ports no call uses, all along (the XSKs are busy when they close, which is
    # when the kernel is slowest to let the queue go), as fast as one Python loop sends.
    flood = subprocess.Popen(
        ["ip", "netns", "exec", net.ns, sys.executable, "-c",
         "import socket, time\n"
         "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
         "p = bytes([0x80, 0]) + bytes(170)\n"
         "while True:\n"
         f"    for port in range({PORT_HI - 15}, {PORT_HI + 1}):\n"
         f"        s.sendto(p, ('{net.host_v4}', port))\n"
         "    time.sleep(0.0001)\n"],
    )  # fmt: skip
    request.addfinalizer(flood.kill)
    for rnd in range(8):
        engine = start_engine(core, "af_xdp", net, shards=shards)
        with engine:
            assert engine.backend == "af_xdp" and engine.fallback_reason == ""
            plan = call_plan(net, n_calls=2, count=20)
            add_calls(core, engine, plan)
            report = net.run_peer({"calls": plan, "interval_ms": 1.0, "linger_ms": 200})
            for ci, c in enumerate(plan):
                sent_a, sent_b = report["sent"][ci]
                got_a, got_b = report["got"][ci]
                assert (got_b, got_a) == (sent_a, sent_b), f"round {rnd}, call {c['id']}"
            for s in engine.shard_stats():
                assert s["kernel_rx_dropped"] == s["kernel_rx_ring_full"] == s["io"]["rx_dropped"] == 0, s


def _cpu_list(cpus: list[int]) -> str:
    parts: list[str] = []
    i = 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        parts.append(str(cpus[i]) if j == i else f"{cpus[i]}-{cpus[j]}")
        i = j + 1
    return ",".join(parts)


def _task_ids() -> set[int]:
    return {int(t) for t in os.listdir("/proc/self/task")}


def test_shards_run_on_the_listed_cpus(core: ModuleType) -> None:
    allowed = sorted(os.sched_getaffinity(0))
    cpus = list(reversed(allowed))[:4]  # shard 0 not on the first CPU when there are two or more
    before = _task_ids()
    with core.relay.Engine(backend="recvmmsg", port_lo=PORT_LO, port_hi=PORT_HI, shards=len(cpus),
                           cpus=cpus) as engine:  # fmt: skip
        assert [s["cpu"] for s in engine.shard_stats()] == cpus
        # The shard threads themselves are pinned there (recvmmsg starts no other thread).
        pinned = sorted(next(iter(os.sched_getaffinity(t))) for t in _task_ids() - before)
        assert pinned == sorted(cpus)
        assert all(len(os.sched_getaffinity(t)) == 1 for t in _task_ids() - before)
    with core.relay.Engine(backend="recvmmsg", port_lo=PORT_LO, port_hi=PORT_HI) as engine:
        # Defaults: one shard per CPU of the affinity mask, pinned in order.
        assert [s["cpu"] for s in engine.shard_stats()] == allowed[:64]


def test_cpus_outside_the_mask_are_refused(core: ModuleType) -> None:
    allowed = sorted(os.sched_getaffinity(0))
    outside = allowed[-1] + 1
    mask = _cpu_list(allowed)
    with pytest.raises(RuntimeError, match=rf"cpu {outside} is not in this process's CPU affinity mask \({mask}\)"):
        core.relay.Engine(backend="recvmmsg", port_lo=PORT_LO, port_hi=PORT_HI, shards=1, cpus=[outside])
    with pytest.raises(RuntimeError, match=rf"cpu {allowed[0]} is listed twice in cpus"):
        core.relay.Engine(backend="recvmmsg", port_lo=PORT_LO, port_hi=PORT_HI, cpus=[allowed[0], allowed[0]])
    with pytest.raises(RuntimeError, match="cpus given but pin is off"):
        core.relay.Engine(backend="recvmmsg", port_lo=PORT_LO, port_hi=PORT_HI, cpus=[allowed[0]], pin=False)


def test_af_xdp_umem_sizes_are_configurable_and_checked(core: ModuleType, net: VethPair) -> None:
    with pytest.raises(RuntimeError, match=r"rx_frames must be a power of two in 64\.\.262144 \(got 1000\)"):
        core.relay.Engine(backend="af_xdp", ifname=net.host_if, port_lo=PORT_LO, port_hi=PORT_HI, shards=1,
                          pin=False, xsk_rx_frames=1000)  # fmt: skip
    try:
        engine = core.relay.Engine(backend="af_xdp", ifname=net.host_if, port_lo=PORT_LO, port_hi=PORT_HI,
                                   shards=2, pin=False, xsk_rx_frames=64, xsk_tx_frames=64)  # fmt: skip
    except RuntimeError as e:
        if any(k in str(e) for k in ("not permitted", "not supported", "EPERM", "EOPNOTSUPP")):
            pytest.skip(f"the kernel refused AF_XDP: {e}")
        raise
    with engine:
        # The smallest UMEM still relays paced traffic exactly (the shard keeps the fill ring full).
        plan = call_plan(net, n_calls=2, count=100)
        add_calls(core, engine, plan)
        report = net.run_peer({"calls": plan, "interval_ms": 1.0, "linger_ms": 300})
        for ci in range(len(plan)):
            sent_a, sent_b = report["sent"][ci]
            got_a, got_b = report["got"][ci]
            assert (got_b, got_a) == (sent_a, sent_b)
        assert all(s["kernel_rx_dropped"] == 0 for s in engine.shard_stats())
