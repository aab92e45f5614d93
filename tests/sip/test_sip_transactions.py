"""RFC 3261 transaction timers of the gateway, observed on the wire from a raw UDP peer (T1 = 50 ms,
so T2 = 400 ms, 64*T1 = 3.2 s): A doubling until B, E capped at T2, G capped at T2 until the ACK,
the 2xx retransmitted until its ACK (RFC 6026) and a call without ACK torn down."""

from __future__ import annotations

import asyncio
import itertools
import socket

import pytest
from clutchcall import CallStatus, Codec, EndReason
from clutchcall_engine.sip import sdp
from clutchcall_engine.sip.message import Request, Response, parse, response_to
from sip_support import LOOPBACK, RecordingEvents, gateway, sip_config

T1 = 0.05


def run(coro: object, timeout: float = 30.0) -> None:
    async def bounded() -> None:
        assert asyncio.iscoroutine(coro)
        await asyncio.wait_for(coro, timeout)

    asyncio.run(bounded())


class Peer:
    """A raw UDP SIP peer on loopback recording what arrives, with arrival times."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, 0))
        self.sock.setblocking(False)
        self.port = int(self.sock.getsockname()[1])

    async def receive(self, seconds: float) -> list[tuple[float, Request | Response]]:
        loop = asyncio.get_running_loop()
        got: list[tuple[float, Request | Response]] = []
        end = loop.time() + seconds
        while (left := end - loop.time()) > 0:
            try:
                data = await asyncio.wait_for(loop.sock_recv(self.sock, 65535), left)
            except TimeoutError:
                break
            got.append((loop.time(), parse(data)))
        return got

    def send(self, msg: Request | Response, port: int) -> None:
        self.sock.sendto(msg.serialize(), (LOOPBACK, port))


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def assert_intervals(observed: list[float], expected: list[float]) -> None:
    assert len(observed) == len(expected), (observed, expected)
    for got, want in zip(observed, expected, strict=True):
        assert want * 0.7 - 0.01 <= got <= want * 1.3 + 0.06, (observed, expected)


def test_invite_client_timer_a_doubles_until_timer_b() -> None:
    async def main() -> None:
        peer = Peer()
        events = RecordingEvents()
        async with gateway(sip_config(peer.port, t1_s=T1), events) as gw:
            await gw.dial("CA-b", "acme", "+15550001", "+15550100", Codec.G711_ULAW, 30.0)
            got = await peer.receive(64 * T1 + 0.5)
            invites = [(t, m) for t, m in got if isinstance(m, Request) and m.method == "INVITE"]
            assert len({m.top_via.branch for _, m in invites}) == 1
            assert_intervals(gaps([t for t, _ in invites]), [T1 * 2**k for k in range(6)])  # 7 sends in 64*T1
            await events.until(lambda: bool(events.statuses.get("CA-b")), what="timer B")
            assert events.statuses["CA-b"] == [(CallStatus.FAILED, EndReason.NETWORK_ERROR)]

    run(main())


def _answer(invite: Request, to_tag: str, contact_port: int) -> Response:
    offer = sdp.parse(invite.body)
    body = sdp.build(LOOPBACK, 49170, 1, [(Codec.G711_ULAW, offer.payload_types[0])])
    resp = response_to(invite, 200, "OK", to_tag=to_tag, body=body)
    resp.headers.add("contact", f"<sip:carrier@{LOOPBACK}:{contact_port}>")
    resp.headers.add("content-type", "application/sdp")
    return resp


def test_non_invite_client_timer_e_caps_at_t2_until_timer_f() -> None:
    async def main() -> None:
        peer = Peer()
        events = RecordingEvents()
        async with gateway(sip_config(peer.port, t1_s=T1), events) as gw:
            await gw.dial("CA-e", "acme", "+15550001", "+15550100", Codec.G711_ULAW, 30.0)
            (_, invite), *_ = await peer.receive(0.04)
            assert isinstance(invite, Request)
            peer.send(_answer(invite, "carrier1", peer.port), gw.port)
            got = await peer.receive(0.3)
            assert any(isinstance(m, Request) and m.method == "ACK" for _, m in got)
            await gw.hangup("CA-e")
            got = await peer.receive(64 * T1 + 0.5)
            byes = [t for t, m in got if isinstance(m, Request) and m.method == "BYE"]
            # E: T1, 2T1, 4T1, then T2 = 8T1 until F at 64*T1: 0.05 .1 .2 .4 .4 .4 .4 .4 .4 (sum 2.75) ...
            expected = [T1, 2 * T1, 4 * T1] + [8 * T1] * 7
            assert_intervals(gaps(byes)[:9], expected[:9])
            assert events.statuses["CA-e"][-1] == (CallStatus.COMPLETED, EndReason.API_HANGUP)

    run(main())


def _invite(port: int, *, body: bytes, content_type: str, branch: str = "z9hG4bKraw1") -> Request:
    text = (
        f"INVITE sip:+15550199@{LOOPBACK} SIP/2.0\r\nVia: SIP/2.0/UDP {LOOPBACK}:{port};branch={branch}\r\n"
        f"From: <sip:+15550100@{LOOPBACK}>;tag=raw\r\nTo: <sip:+15550199@{LOOPBACK}>\r\nCall-ID: raw-{branch}\r\n"
        f"CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:raw@{LOOPBACK}:{port}>\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    msg = parse(text)
    assert isinstance(msg, Request)
    return msg


def _ack(invite: Request, final: Response) -> Request:
    headers = invite.headers.copy()
    headers.set("to", final.headers.get("to") or "")
    headers.set("cseq", "1 ACK")
    headers.remove("content-type")
    return Request(headers, b"", "ACK", invite.uri)


def test_invite_server_timer_g_retransmits_the_final_until_the_ack() -> None:
    async def main() -> None:
        peer = Peer()
        async with gateway(sip_config(peer.port, t1_s=T1), RecordingEvents()) as gw:
            invite = _invite(peer.port, body=b"hello", content_type="text/plain")
            peer.send(invite, gw.port)
            got = await peer.receive(1.2)
            finals = [(t, m) for t, m in got if isinstance(m, Response) and m.status == 415]
            assert_intervals(gaps([t for t, _ in finals])[:4], [T1, 2 * T1, 4 * T1, 8 * T1])
            peer.send(_ack(invite, finals[0][1]), gw.port)
            await peer.receive(0.1)
            assert await peer.receive(1.0) == []  # the ACK stopped G; nothing more

    run(main())


@pytest.mark.parametrize("acked", [True, False])
def test_inbound_2xx_retransmitted_until_ack_or_call_torn_down(acked: bool) -> None:
    async def main() -> None:
        peer = Peer()
        events = RecordingEvents()
        async with gateway(sip_config(peer.port, t1_s=T1), events) as gw:
            offer = sdp.build(LOOPBACK, 49170, 1, [(Codec.G711_ULAW, 0)])
            invite = _invite(peer.port, body=offer, content_type="application/sdp", branch=f"z9hG4bKok{acked}")
            peer.send(invite, gw.port)
            got = await peer.receive(0.5)
            oks = [(t, m) for t, m in got if isinstance(m, Response) and m.status == 200]
            assert len(oks) >= 3  # 0, T1, 3T1, 7T1 within 0.5 s
            assert_intervals(gaps([t for t, _ in oks])[:3], [T1, 2 * T1, 4 * T1])
            if acked:
                peer.send(_ack(invite, oks[0][1]), gw.port)
                await peer.receive(0.1)
                assert [m for _, m in await peer.receive(0.8) if isinstance(m, Response)] == []
                await events.until(lambda: bool(events.statuses.get("CA-in-1")), what="in progress")
                assert events.statuses["CA-in-1"] == [(CallStatus.IN_PROGRESS, None)]
            else:
                got = await peer.receive(64 * T1 + 0.5)
                assert any(isinstance(m, Request) and m.method == "BYE" for _, m in got)
                await events.until(lambda: bool(events.statuses.get("CA-in-1")), what="teardown")
                assert events.statuses["CA-in-1"] == [(CallStatus.FAILED, EndReason.NETWORK_ERROR)]

    run(main())
