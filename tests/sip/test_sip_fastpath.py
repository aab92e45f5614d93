"""sip_rtp calls on the core's relay engine, against two SIPp parties (fastpath.py).

The parties' RTP endpoints are sockets of the test, named in their SDP ([rtpport]): each party sends its
known packets from the port its SDP announced (symmetric RTP, as carriers do) and the test reads what
arrives there. (SIPp 3.6's pcap player sends from source port 0 unless its own [media_port] is in the SDP,
and then SIPp itself holds the port the relay sends to, so nothing could check what a party receives.)

- transfer(pstn_number) of an outbound sip_rtp call: the B2BUA dials B through the trunk (a stateless test
  router sends each number to its SIPp), relays A<->B byte for byte (FORWARD), the relay's call_stats count
  the packets and A's Python RTP leg sees none after the switch; B's BYE ends both. B busy: the transfer
  fails with 486, the call goes on in Python with A, and hangup ends it.
- [sip] forward: an inbound call to +15550001 is dialed to +15550002; B's 180 reaches A as 180; a PCMU
  caller and a PCMA target are transcoded (each A-law payload is exactly the core's G.711 table mapping of
  the mu-law one); A's BYE ends both. A busy target is A's 486.
Backends: recvmmsg and io_uring on loopback; AF_XDP on a veth pair whose peer end is in a network namespace the
test makes (both SIPp parties and their RTP in it; skipped without root), for the forward flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from clutchcall import CallStatus, Codec, DefaultApp, EndReason
from clutchcall_engine.config import Address
from clutchcall_engine.sip.gateway import SignallingError, SipGateway
from clutchcall_engine.sip.metrics import SipCollector
from rtp_fixtures import parse_rtp, rtp, tone_frames, ulaw_encode_sample
from sip_support import LOOPBACK, SIPP, RecordingEvents, finished, free_port, gateway, scenario_with, sip_config, sipp

pytestmark = pytest.mark.skipif(SIPP is None, reason="unreachable: make system-deps installs sip-tester")
S, R = CallStatus, EndReason
BACKENDS = ["recvmmsg", "io_uring"]
PACKETS = 50
WAIT_BYE = """  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>"""
SEND_BYE = """  <pause milliseconds="6000"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+15550100@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>"""


def run(coro: object, timeout: float = 90.0) -> None:
    async def bounded() -> None:
        assert asyncio.iscoroutine(coro)
        await asyncio.wait_for(coro, timeout)

    asyncio.run(bounded())


class TrunkRouter(asyncio.DatagramProtocol):
    """A stateless trunk on loopback: the gateway's INVITE goes to the SIPp of its Request-URI's number, later
    messages of that Call-ID follow it; whatever a SIPp sends comes back to the gateway from the trunk."""

    def __init__(self, routes: dict[str, int], gateway_addr: tuple[str, int]) -> None:
        self.routes, self.gateway_addr = routes, gateway_addr
        self.by_call_id: dict[str, int] = {}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        if addr[1] != self.gateway_addr[1]:
            self.transport.sendto(data, self.gateway_addr)
            return
        text = data.decode(errors="replace")
        call_id = re.search(r"^(?:Call-ID|i)\s*:\s*(\S+)", text, re.M | re.I)
        if call_id is None:
            return
        port = self.by_call_id.get(call_id.group(1))
        if port is None:
            number = re.match(r"INVITE sip:([^@;]+)@", text)
            port = self.routes.get(number.group(1), 0) if number else 0
            if not port:
                return
            self.by_call_id[call_id.group(1)] = port
        self.transport.sendto(data, (LOOPBACK, port))


@contextlib.asynccontextmanager
async def router(routes: dict[str, int], gateway_port: int, port: int) -> AsyncIterator[TrunkRouter]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(
        lambda: TrunkRouter(routes, (LOOPBACK, gateway_port)), local_addr=(LOOPBACK, port)
    )
    try:
        yield proto
    finally:
        transport.close()


def rtp_socket() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((LOOPBACK, 0))
    s.setblocking(False)
    return s


def ulaw_packets(ssrc: int, seed: int) -> list[bytes]:
    """PACKETS 20 ms PCMU packets of a sweep (each party a different one)."""
    frames = tone_frames(PACKETS + seed)[seed:]
    payloads = [bytes(ulaw_encode_sample(s) for s in frame) for frame in frames]
    return [rtp(p, 0, 1000 * seed + i, 160 * i, ssrc, i == 0) for i, p in enumerate(payloads)]


async def play(sock: socket.socket, packets: list[bytes], to: tuple[str, int]) -> None:
    loop = asyncio.get_running_loop()
    for packet in packets:
        await loop.sock_sendto(sock, packet, to)
        await asyncio.sleep(0.02)


async def drain(sock: socket.socket, quiet_s: float = 0.5) -> list[bytes]:
    loop = asyncio.get_running_loop()
    out = []
    while True:
        try:
            out.append(await asyncio.wait_for(loop.sock_recv(sock, 2048), quiet_s))
        except TimeoutError:
            return out


async def statuses(events: RecordingEvents, sid: str, n: int, what: str) -> list[tuple[int, int | None]]:
    await events.until(lambda: len(events.statuses.get(sid, [])) >= n, what=what)
    return events.statuses[sid]


def metric(gw: SipGateway, name: str, **labels: str) -> float:
    for family in SipCollector(gw).collect():
        for sample in family.samples:
            if sample.name.removesuffix("_total") == name and sample.labels == labels:
                return float(sample.value)
    raise AssertionError(f"no metric {name} {labels}")


@pytest.mark.parametrize(
    ("backend", "ended_by"), [("recvmmsg", "second party"), ("io_uring", "second party"), ("recvmmsg", "sdk")]
)
def test_transfer_relays_both_parties_byte_for_byte(backend: str, ended_by: str, tmp_path: Path) -> None:
    async def main() -> None:
        trunk, port_a, port_b, port_busy = free_port(), free_port(), free_port(), free_port()
        events = RecordingEvents()
        sock_a, sock_b = rtp_socket(), rtp_socket()
        config = sip_config(trunk, relay_backend=backend)
        async with gateway(config, events) as gw:
            routes = {"+15550001": port_a, "+15550002": port_b, "+15550003": port_busy}
            async with router(routes, gw.port, trunk):
                keys = {"rtpport": str(sock_a.getsockname()[1])}
                party_a = await sipp("uas_answer.xml", local_port=port_a, keys=keys)
                b_keys = {"rtpport": str(sock_b.getsockname()[1]), "audio_pt": "0", "audio_rtpmap": "PCMU/8000"}
                b_scenario = scenario_with(tmp_path, "uas_party_bye.xml", hold_ms="5000")
                party_b = await sipp(
                    b_scenario if ended_by == "second party" else "uas_party.xml", local_port=port_b, keys=b_keys
                )
                await asyncio.sleep(0.3)
                await gw.dial("CA1", "acme", "+15550001", "+15550100", Codec.G711_ULAW, 10.0, DefaultApp.SIP_RTP)
                await events.until(lambda: (S.IN_PROGRESS, None) in events.statuses.get("CA1", []), what="answer")
                leg = gw.legs["CA1"]
                assert leg.media is not None
                python_leg, a_port = leg.media, leg.media.port
                # answered, no second party yet: A's RTP is terminated in Python as for any call
                await play(sock_a, ulaw_packets(0xA, 1)[:5], (LOOPBACK, a_port))
                await asyncio.sleep(0.1)
                assert python_leg.stats.received == 5

                await gw.transfer("CA1", "+15550002")
                assert gw.fastpath.backend == backend
                second = leg.second
                assert second is not None and second.media is not None and leg.relayed
                b_port = second.media.port
                from_a, from_b = ulaw_packets(0xA, 1), ulaw_packets(0xB, 2)
                await asyncio.gather(play(sock_a, from_a, (LOOPBACK, a_port)), play(sock_b, from_b, (LOOPBACK, b_port)))
                at_b, at_a = await asyncio.gather(drain(sock_b), drain(sock_a))
                assert at_b == from_a  # FORWARD: byte for byte, header included
                assert at_a == from_b
                relay_id = gw.fastpath.calls["CA1"].relay_id
                stats = gw.fastpath.engine.call_stats(relay_id)
                assert not stats["transcoding"]
                assert (stats["a"]["rx_packets"], stats["b"]["tx_packets"]) == (PACKETS, PACKETS)
                assert (stats["b"]["rx_packets"], stats["a"]["tx_packets"]) == (PACKETS, PACKETS)
                assert python_leg.stats.received == 5  # nothing reached Python after the switch
                assert metric(gw, "clutchcall_sip_relay_packets", direction="first_to_second") == PACKETS
                assert metric(gw, "clutchcall_sip_relay_calls") == 1

                # B hangs up (or the SDK does): both get our BYE, the call completes, the relay lets the ports go
                if ended_by == "sdk":
                    await gw.hangup("CA1")
                code_b, err_b = await finished(party_b)
                code_a, err_a = await finished(party_a)
                assert (code_a, code_b) == (0, 0), err_a + err_b
                assert await statuses(events, "CA1", 3, "end") == [
                    (S.RINGING, None),
                    (S.IN_PROGRESS, None),
                    (S.COMPLETED, R.CALLEE_HANGUP if ended_by == "second party" else R.API_HANGUP),
                ]
                await asyncio.sleep(0.1)
                assert not gw.legs and not gw.fastpath.calls
                assert metric(gw, "clutchcall_sip_relay_calls") == 0
                assert metric(gw, "clutchcall_sip_relay_packets", direction="second_to_first") == PACKETS
                assert a_port in gw.ports.free and b_port in gw.ports.free

        sock_a.close()
        sock_b.close()

    run(main())


def test_transfer_to_a_busy_party_fails_and_the_call_goes_on(tmp_path: Path) -> None:
    async def main() -> None:
        trunk, port_a, port_busy = free_port(), free_port(), free_port()
        events = RecordingEvents()
        sock_a = rtp_socket()
        config = sip_config(trunk, relay_backend="recvmmsg")
        async with gateway(config, events) as gw, router({"+15550001": port_a, "+15550003": port_busy}, gw.port, trunk):
            party_a = await sipp("uas_answer.xml", local_port=port_a, keys={"rtpport": str(sock_a.getsockname()[1])})
            busy = await sipp(
                scenario_with(tmp_path, "uas_reject.xml", code="486", reason="Busy Here"), local_port=port_busy
            )
            await asyncio.sleep(0.3)
            await gw.dial("CA2", "acme", "+15550001", "+15550100", Codec.G711_ULAW, 10.0, DefaultApp.SIP_RTP)
            await events.until(lambda: (S.IN_PROGRESS, None) in events.statuses.get("CA2", []), what="answer")
            leg = gw.legs["CA2"]
            assert leg.media is not None
            with pytest.raises(SignallingError, match="486 Busy Here"):
                await gw.transfer("CA2", "+15550003")
            code, err = await finished(busy)
            assert code == 0, err
            assert leg.second is None and not leg.relayed and not gw.fastpath.calls
            # still the call it was: A's RTP reaches its Python leg, the call is in progress
            await play(sock_a, ulaw_packets(0xA, 1)[:10], (LOOPBACK, leg.media.port))
            await asyncio.sleep(0.1)
            assert leg.media.stats.received == 10
            assert events.statuses["CA2"] == [(S.RINGING, None), (S.IN_PROGRESS, None)]
            assert metric(gw, "clutchcall_sip_second_party_failures", stage="dial") == 1
            await gw.hangup("CA2")
            code, err = await finished(party_a)
            assert code == 0, err
            assert (await statuses(events, "CA2", 3, "end"))[-1] == (S.COMPLETED, R.API_HANGUP)
        sock_a.close()

    run(main())


def forwarded_call(tmp_path: Path, *, ok: bool) -> str:
    """uac_forwarded.xml filled in for an answered call (A hangs up after 3.5 s) or a refused one (486)."""
    return scenario_with(
        tmp_path,
        "uac_forwarded.xml",
        ringing='<recv response="180"/>' if ok else "",
        final="200" if ok else "486",
        ack_uri="[next_url]" if ok else "sip:[service]@[remote_ip]:[remote_port]",
        ending=SEND_BYE if ok else "",
    )


def frames_missing(received: list[bytes], expected: list[bytes]) -> int:
    """How many `expected` frames did not arrive, given that those that did arrived exactly and in order. A
    transcoding relay re-times the stream through a jitter buffer, so concealment frames may come between
    them (before, after, or in place of a packet that came after its playout tick on a loaded machine)."""
    position = {frame: i for i, frame in enumerate(expected)}
    matched = [position[frame] for frame in received if frame in position]
    assert matched == sorted(set(matched)), "frames out of order or repeated"
    return len(expected) - len(matched)


@pytest.mark.parametrize("backend", BACKENDS)
def test_forward_transcodes_pcmu_caller_to_pcma_target(backend: str, tmp_path: Path) -> None:
    import clutchcall_core.g711 as g711

    async def main() -> None:
        trunk = free_port()
        events = RecordingEvents()
        sock_a, sock_b = rtp_socket(), rtp_socket()
        config = sip_config(trunk, relay_backend=backend, forward=(("+15550001", "+15550002"),))
        async with gateway(config, events) as gw:
            b_keys = {"rtpport": str(sock_b.getsockname()[1]), "audio_pt": "8", "audio_rtpmap": "PCMA/8000"}
            party_b = await sipp("uas_party.xml", local_port=trunk, keys=b_keys)
            await asyncio.sleep(0.3)
            a_keys = {"rtpport": str(sock_a.getsockname()[1]), "audio_pt": "0", "audio_rtpmap": "PCMU/8000"}
            party_a = await sipp(
                forwarded_call(tmp_path, ok=True),
                local_port=free_port(),
                remote=(LOOPBACK, gw.port),
                keys=a_keys,
                extra=["-s", "+15550001"],
            )
            await events.until(lambda: bool(events.inbound), what="inbound call")
            sid = events.inbound[0][4]
            assert events.default_apps[sid] == DefaultApp.SIP_RTP
            await events.until(lambda: (S.IN_PROGRESS, None) in events.statuses.get(sid, []), what="answer")
            for _ in range(100):
                if sid in gw.fastpath.calls:
                    break
                await asyncio.sleep(0.01)
            leg = gw.legs[sid]
            assert leg.media is not None and leg.second is not None and leg.second.media is not None
            a_port, b_port = leg.media.port, leg.second.media.port
            from_a = ulaw_packets(0xA, 1)
            alaw = [g711.alaw_encode(g711.ulaw_decode(parse_rtp(p)[3])) for p in ulaw_packets(0xB, 2)]
            from_b = [rtp(p, 8, 2000 + i, 160 * i, 0xB, i == 0) for i, p in enumerate(alaw)]
            await asyncio.gather(play(sock_a, from_a, (LOOPBACK, a_port)), play(sock_b, from_b, (LOOPBACK, b_port)))
            at_b, at_a = await asyncio.gather(drain(sock_b), drain(sock_a))
            assert {parse_rtp(p)[0] for p in at_b} == {8} and {parse_rtp(p)[0] for p in at_a} == {0}
            # mu-law -> A-law through the core's G.711 is a table mapping: each frame exactly
            expected_b = [g711.alaw_encode(g711.ulaw_decode(parse_rtp(p)[3])) for p in from_a]
            expected_a = [g711.ulaw_encode(g711.alaw_decode(parse_rtp(p)[3])) for p in from_b]
            stats = gw.fastpath.engine.call_stats(gw.fastpath.calls[sid].relay_id)
            # every frame arrived exactly, but those the relay's jitter buffer counted late (none, unloaded)
            assert frames_missing([parse_rtp(p)[3] for p in at_b], expected_b) <= stats["a"]["late_losses"]
            assert frames_missing([parse_rtp(p)[3] for p in at_a], expected_a) <= stats["b"]["late_losses"]
            assert stats["a"]["late_losses"] + stats["b"]["late_losses"] <= 5
            assert stats["transcoding"]
            assert (stats["a"]["rx_packets"], stats["b"]["rx_packets"]) == (PACKETS, PACKETS)
            assert leg.media.stats.received == 0  # the caller's RTP never went through Python
            assert metric(gw, "clutchcall_sip_relayed_calls", mode="transcode") == 1

            # A hangs up: B gets our BYE, the call completes as the caller's hangup
            code_a, err_a = await finished(party_a)
            code_b, err_b = await finished(party_b)
            assert (code_a, code_b) == (0, 0), err_a + err_b
            assert await statuses(events, sid, 2, "end") == [(S.IN_PROGRESS, None), (S.COMPLETED, R.CALLER_HANGUP)]
            await asyncio.sleep(0.1)
            assert not gw.legs and not gw.fastpath.calls
            assert metric(gw, "clutchcall_sip_relay_packets", direction="first_to_second") >= PACKETS
        sock_a.close()
        sock_b.close()

    run(main())


def test_forward_to_a_busy_target_is_the_callers_486(tmp_path: Path) -> None:
    async def main() -> None:
        trunk = free_port()
        events = RecordingEvents()
        sock_a = rtp_socket()
        config = sip_config(trunk, relay_backend="recvmmsg", forward=(("+15550001", "+15550002"),))
        async with gateway(config, events) as gw:
            busy = await sipp(
                scenario_with(tmp_path, "uas_reject.xml", code="486", reason="Busy Here"), local_port=trunk
            )
            await asyncio.sleep(0.3)
            keys = {"rtpport": str(sock_a.getsockname()[1]), "audio_pt": "0", "audio_rtpmap": "PCMU/8000"}
            party_a = await sipp(
                forwarded_call(tmp_path, ok=False),
                local_port=free_port(),
                remote=(LOOPBACK, gw.port),
                keys=keys,
                extra=["-s", "+15550001"],
            )
            code_a, err_a = await finished(party_a)
            code_b, err_b = await finished(busy)
            assert (code_a, code_b) == (0, 0), err_a + err_b  # SIPp A checked the 486
            sid = events.inbound[0][4]
            assert await statuses(events, sid, 1, "end") == [(S.FAILED, R.BUSY)]
            await asyncio.sleep(0.1)
            assert not gw.legs and not gw.fastpath.calls
            assert gw.fastpath._engine is None  # nothing was relayed: the engine never started
        sock_a.close()

    run(main())


def _fastpath_net() -> Any:
    """tests/core/fastpath_net.py (a veth pair with its peer in a network namespace of the test's own)."""
    spec = importlib.util.spec_from_file_location(
        "fastpath_net", Path(__file__).parents[1] / "core" / "fastpath_net.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fastpath_net", module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_forward_on_af_xdp_in_a_network_namespace(tmp_path: Path) -> None:
    """The forward flow with the relay on AF_XDP: both SIPp parties and their RTP live in a namespace of this
    test behind a veth pair; the relay engine attaches to the root-side end (relay_ifname)."""
    net_module = _fastpath_net()
    why = net_module.can_make_netns()
    if why:
        pytest.skip(why)
    net = net_module.VethPair(tag=f"cs{os.getpid() % 100000}", subnet=16 + (os.getpid() + 97) % 200)

    async def main() -> None:
        events = RecordingEvents()
        config = sip_config(
            5080,
            listen=Address(net.host_v4, 0),
            trunk=Address(net.peer_v4, 5080),
            rtp_host=net.host_v4,
            rtp_ports=(24_000, 24_199),  # below the ephemeral range, where the gateway's SIP port is
            relay_backend="af_xdp",
            relay_ifname=net.host_if,
            forward=(("+15550001", "+15550002"),),
        )
        port_a, port_b = 30_000, 30_002  # the parties' RTP, inside the namespace
        async with gateway(config, events) as gw:
            b_keys = {"rtpport": str(port_b), "audio_pt": "0", "audio_rtpmap": "PCMU/8000"}
            party_b = await sipp("uas_party.xml", local_port=5080, keys=b_keys, host=net.peer_v4, netns=net.ns)
            await asyncio.sleep(0.3)
            a_keys = {"rtpport": str(port_a), "audio_pt": "0", "audio_rtpmap": "PCMU/8000"}
            party_a = await sipp(
                forwarded_call(tmp_path, ok=True),
                local_port=5070,
                remote=(net.host_v4, gw.port),
                keys=a_keys,
                extra=["-s", "+15550001"],
                host=net.peer_v4,
                netns=net.ns,
            )
            await events.until(lambda: bool(events.inbound), what="inbound call")
            sid = events.inbound[0][4]
            await events.until(lambda: (S.IN_PROGRESS, None) in events.statuses.get(sid, []), what="answer")
            for _ in range(100):
                if sid in gw.fastpath.calls:
                    break
                await asyncio.sleep(0.01)
            assert gw.fastpath.backend == "af_xdp"
            leg = gw.legs[sid]
            assert leg.media is not None and leg.second is not None and leg.second.media is not None
            plan = {
                "id": 7,
                "a_peer": [net.peer_v4, port_a],
                "a_relay": [net.host_v4, leg.media.port],
                "b_peer": [net.peer_v4, port_b],
                "b_relay": [net.host_v4, leg.second.media.port],
                "count": PACKETS,
                "payload_len": 160,
            }
            report = await asyncio.to_thread(net.run_peer, {"calls": [plan], "interval_ms": 20.0, "linger_ms": 400})
            (sent_a, sent_b), (got_a, got_b) = report["sent"][0], report["got"][0]
            assert got_b == sent_a and got_a == sent_b  # FORWARD over AF_XDP, byte for byte
            stats = gw.fastpath.engine.call_stats(gw.fastpath.calls[sid].relay_id)
            assert (stats["a"]["rx_packets"], stats["b"]["rx_packets"]) == (PACKETS, PACKETS)
            code_a, err_a = await finished(party_a)
            code_b, err_b = await finished(party_b)
            assert (code_a, code_b) == (0, 0), err_a + err_b
            assert (await statuses(events, sid, 2, "end"))[-1] == (S.COMPLETED, R.CALLER_HANGUP)

    with net:
        run(main())


def test_sdk_originates_a_sip_rtp_call_and_transfers_it_onto_the_relay(tmp_path: Path) -> None:
    """Through the engine: the SDK originates with default_app sip_rtp, transfer(pstn_number) is the B2BUA's (the
    stored call now goes to B), /metrics shows the relay's counters, and the SDK's hangup ends both parties."""
    from clutchcall.rpc import ApiClient
    from clutchcall_engine.auth import load_or_create_dev_key, mint_token
    from clutchcall_engine.config import EngineConfig
    from clutchcall_engine.server import EngineServer

    async def main() -> None:
        trunk, port_a, port_b = free_port(), free_port(), free_port()
        sock_a, sock_b = rtp_socket(), rtp_socket()
        config = EngineConfig(
            moqt_addr=Address(LOOPBACK, 0),
            http_addr=Address(LOOPBACK, 0),
            rest_addr=Address(LOOPBACK, 0),
            rpc_addr=Address(LOOPBACK, 0),
            state_dir=tmp_path,
            sip=sip_config(trunk, relay_backend="recvmmsg"),
        )
        async with EngineServer(config, calls=True) as srv:
            assert srv.calls is not None and srv.sip is not None
            gw = srv.sip
            key = load_or_create_dev_key(tmp_path)
            token = mint_token(key, tenant="acme", publish=(), subscribe=(), ttl_s=600, audience=config.audience)
            api = ApiClient.connect_rest(f"http://{LOOPBACK}:{srv.calls.rest_port}", token=token)
            async with router({"+15550001": port_a, "+15550002": port_b}, gw.port, trunk):
                party_a = await sipp(
                    "uas_answer.xml", local_port=port_a, keys={"rtpport": str(sock_a.getsockname()[1])}
                )
                b_keys = {"rtpport": str(sock_b.getsockname()[1]), "audio_pt": "0", "audio_rtpmap": "PCMU/8000"}
                party_b = await sipp("uas_party.xml", local_port=port_b, keys=b_keys)
                await asyncio.sleep(0.3)
                call = await api.calls.originate(to="+15550001", from_="+15550100", default_app=DefaultApp.SIP_RTP)
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 15
                while (await api.calls.get(sid=call.sid)).status != S.IN_PROGRESS:
                    assert loop.time() < deadline, "never answered"
                    await asyncio.sleep(0.05)
                moved = await api.calls.transfer(sid=call.sid, pstn_number="+15550002")
                assert (moved.sid, moved.to, moved.status) == (call.sid, "+15550002", S.IN_PROGRESS)
                leg = gw.legs[call.sid]
                assert leg.relayed and leg.media is not None and leg.second is not None
                assert leg.second.media is not None
                from_a = ulaw_packets(0xA, 1)
                await play(sock_a, from_a, (LOOPBACK, leg.media.port))
                assert await drain(sock_b) == from_a
                text = srv.metrics.render().decode()
                assert f'clutchcall_sip_relay_packets_total{{direction="first_to_second"}} {PACKETS}.0' in text
                assert 'clutchcall_sip_relayed_calls_total{mode="forward"} 1.0' in text
                ended = await api.calls.hangup(sid=call.sid)
                assert ended.status == S.COMPLETED
                code_a, err_a = await finished(party_a)
                code_b, err_b = await finished(party_b)
                assert (code_a, code_b) == (0, 0), err_a + err_b
                assert (await api.calls.get(sid=call.sid)).end_reason == R.API_HANGUP
                assert not gw.fastpath.calls
            await api.aclose()
        sock_a.close()
        sock_b.close()

    run(main())


def _tone(samples: bytes, rate: int, amplitude: float) -> tuple[float, float]:
    """(dominant frequency, level in dB against a sine of `amplitude`) of 16-bit PCM past its first 100 ms."""
    import numpy as np

    pcm = np.frombuffer(bytes(samples), "<i2").astype(float)[rate // 10 :]
    spectrum = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm))))
    dominant = float(np.fft.rfftfreq(len(pcm), 1 / rate)[int(np.argmax(spectrum))])
    return dominant, float(20 * np.log10(np.sqrt(np.mean(pcm**2)) / (amplitude / np.sqrt(2))))


def test_forward_transcodes_g711_caller_to_opus_target(tmp_path: Path) -> None:
    """PCMU caller, opus/48000/2 target: the relay decodes, resamples and re-encodes each way; a 1 kHz sine at
    -10 dBFS arrives as a 1 kHz sine at that level (within 1.5 dB: G.711 and Opus are lossy) both ways."""
    import clutchcall_core.g711 as g711
    import clutchcall_core.opus as opus
    import numpy as np

    amplitude, tone_hz = 0.316 * 32767, 1000.0

    def sine(rate: int) -> bytes:
        n = np.arange(PACKETS * rate // 50)
        return (amplitude * np.sin(2 * np.pi * tone_hz * n / rate)).astype("<i2").tobytes()

    pcmu = g711.ulaw_encode(sine(8000))
    from_a = [rtp(pcmu[i * 160 : (i + 1) * 160], 0, i, 160 * i, 0xA, i == 0) for i in range(PACKETS)]
    encoder, wide = opus.Encoder(48_000, 1, 20), sine(48_000)
    frame_bytes = 960 * 2
    from_b = [
        rtp(encoder.encode(wide[i * frame_bytes : (i + 1) * frame_bytes]), 111, i, 960 * i, 0xB, i == 0)
        for i in range(PACKETS)
    ]

    async def main() -> None:
        trunk = free_port()
        events = RecordingEvents()
        sock_a, sock_b = rtp_socket(), rtp_socket()
        config = sip_config(trunk, relay_backend="recvmmsg", forward=(("+15550001", "+15550002"),))
        async with gateway(config, events) as gw:
            b_keys = {"rtpport": str(sock_b.getsockname()[1]), "audio_pt": "111", "audio_rtpmap": "opus/48000/2"}
            party_b = await sipp("uas_party.xml", local_port=trunk, keys=b_keys)
            await asyncio.sleep(0.3)
            a_keys = {"rtpport": str(sock_a.getsockname()[1]), "audio_pt": "0", "audio_rtpmap": "PCMU/8000"}
            party_a = await sipp(
                forwarded_call(tmp_path, ok=True),
                local_port=free_port(),
                remote=(LOOPBACK, gw.port),
                keys=a_keys,
                extra=["-s", "+15550001"],
            )
            await events.until(lambda: bool(events.inbound), what="inbound call")
            sid = events.inbound[0][4]
            for _ in range(500):
                if sid in gw.fastpath.calls:
                    break
                await asyncio.sleep(0.01)
            leg = gw.legs[sid]
            assert leg.media is not None and leg.second is not None and leg.second.media is not None
            await asyncio.gather(
                play(sock_a, from_a, (LOOPBACK, leg.media.port)),
                play(sock_b, from_b, (LOOPBACK, leg.second.media.port)),
            )
            at_b, at_a = await asyncio.gather(drain(sock_b), drain(sock_a))
            assert gw.fastpath.engine.call_stats(gw.fastpath.calls[sid].relay_id)["transcoding"]
            code_a, err_a = await finished(party_a)
            code_b, err_b = await finished(party_b)
            assert (code_a, code_b) == (0, 0), err_a + err_b
        sock_a.close()
        sock_b.close()
        assert {parse_rtp(p)[0] for p in at_b} == {111} and {parse_rtp(p)[0] for p in at_a} == {0}
        assert len(at_b) >= PACKETS - 2 and len(at_a) >= PACKETS - 2
        decoder = opus.Decoder(48_000, 1)
        hz, level = _tone(b"".join(decoder.decode(parse_rtp(p)[3]) for p in at_b), 48_000, amplitude)
        assert abs(hz - tone_hz) < 5 and abs(level) < 1.5, (hz, level)
        hz, level = _tone(g711.ulaw_decode(b"".join(parse_rtp(p)[3] for p in at_a)), 8000, amplitude)
        assert abs(hz - tone_hz) < 5 and abs(level) < 1.5, (hz, level)

    run(main())


@pytest.mark.parametrize("cut_by", ["sdk hangup", "ring timeout"])
def test_a_ringing_new_party_is_cancelled(cut_by: str) -> None:
    """The new party rings (uas_ring_cancel.xml expects our CANCEL): the SDK hangs the call up (both end: A gets
    BYE, B CANCEL), or forward_ring_timeout_s passes (B gets CANCEL, the call goes on with A)."""

    async def main() -> None:
        trunk, port_a, port_b = free_port(), free_port(), free_port()
        events = RecordingEvents()
        sock_a = rtp_socket()
        config = sip_config(trunk, relay_backend="recvmmsg", forward_ring_timeout_s=1.0)
        async with gateway(config, events) as gw, router({"+15550001": port_a, "+15550002": port_b}, gw.port, trunk):
            party_a = await sipp("uas_answer.xml", local_port=port_a, keys={"rtpport": str(sock_a.getsockname()[1])})
            party_b = await sipp("uas_ring_cancel.xml", local_port=port_b)
            await asyncio.sleep(0.3)
            await gw.dial("CA3", "acme", "+15550001", "+15550100", Codec.G711_ULAW, 10.0, DefaultApp.SIP_RTP)
            await events.until(lambda: (S.IN_PROGRESS, None) in events.statuses.get("CA3", []), what="answer")
            leg = gw.legs["CA3"]
            transfer = asyncio.create_task(gw.transfer("CA3", "+15550002"))
            if cut_by == "sdk hangup":
                for _ in range(200):
                    if leg.second is not None and leg.second.provisional:
                        break
                    await asyncio.sleep(0.01)
                await gw.hangup("CA3")
            with pytest.raises(SignallingError, match="487" if cut_by == "sdk hangup" else "408"):
                await transfer
            code_b, err_b = await finished(party_b)
            assert code_b == 0, err_b  # SIPp B got the CANCEL
            assert leg.second is None and not gw.fastpath.calls and not gw.fastpath._seconds
            assert metric(gw, "clutchcall_sip_second_party_failures", stage="dial") == 1
            if cut_by == "ring timeout":
                assert gw.legs["CA3"] is leg and leg.media is not None and not leg.relayed  # A goes on as before
                await gw.hangup("CA3")
            code_a, err_a = await finished(party_a)
            assert code_a == 0, err_a
            assert events.statuses["CA3"][-1] == (S.COMPLETED, R.API_HANGUP)
        sock_a.close()

    run(main())
