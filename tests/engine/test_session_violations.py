"""Bad input on the control stream: the offending session is closed with draft-14's code and one log
line saying what and where, while another publisher -> subscriber pair on the same relay keeps flowing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from clutchcall.wire import moqt_d14 as wire
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.moqt.client import Client, Subscription, TrackWriter
from moqt_support import (
    client,
    collect,
    engine_config,
    expect_answers,
    moqt_url,
    raw_session,
    run,
    subscribe_msg,
    token,
    until,
)

Code = wire.SessionTerminationCode
NS = (b"voice", b"CA1")


def control(msg: object) -> bytes:
    return wire.encode_control(msg)  # type: ignore[arg-type]


def parity(_: int) -> bytes:
    return control(subscribe_msg(1, NS, b"uplink"))  # a client's IDs are even


def skipped_id(_: int) -> bytes:
    return control(subscribe_msg(4, NS, b"uplink"))  # expected 0


def unknown_type(_: int) -> bytes:
    return bytes([0x3F, 0x00, 0x00])


def long_length(_: int) -> bytes:
    good = control(subscribe_msg(0, NS, b"uplink"))
    body = good[3:] + b"\x00"  # one byte more than the fields: trailing bytes inside the frame
    return good[:1] + len(body).to_bytes(2, "big") + body


def short_length(_: int) -> bytes:
    good = control(subscribe_msg(0, NS, b"uplink"))
    body = good[3:-1]  # the parameter count is cut off
    return good[:1] + len(body).to_bytes(2, "big") + body


def bad_forward(_: int) -> bytes:
    raw = bytearray(control(subscribe_msg(0, (b"a",), b"x")))
    # type(1) len(2) rid(1) ns(1+1+1) name(1+1) priority(1) order(1), then Forward
    assert raw[11] == 1
    raw[11] = 2
    return bytes(raw)


def oversized_namespace(_: int) -> bytes:
    return control(subscribe_msg(0, (b"v" * 3000, b"w" * 1100), b"uplink"))


def beyond_granted(granted: int) -> bytes:
    # IDs 0, 2, ... up to and including the first one at the granted maximum
    return b"".join(control(subscribe_msg(rid, NS, b"t%d" % rid)) for rid in range(0, granted + 1, 2))


def second_setup(_: int) -> bytes:
    return control(wire.ClientSetup(supported_versions=[wire.VERSION], parameters=[]))


CASES: list[tuple[str, Callable[[int], bytes], int, str]] = [
    ("parity", parity, Code.INVALID_REQUEST_ID, "request_id=1"),
    ("skipped_id", skipped_id, Code.INVALID_REQUEST_ID, "request_id=4"),
    ("unknown_type", unknown_type, Code.PROTOCOL_VIOLATION, "unknown message type 0x3f"),
    ("long_length", long_length, Code.PROTOCOL_VIOLATION, "trailing_bytes"),
    ("short_length", short_length, Code.PROTOCOL_VIOLATION, "offset="),
    ("malformed_forward", bad_forward, Code.PROTOCOL_VIOLATION, "forward"),
    ("oversized_namespace", oversized_namespace, Code.PROTOCOL_VIOLATION, "full track name of 4106 bytes"),
    ("too_many_requests", beyond_granted, Code.TOO_MANY_REQUESTS, "message=subscribe"),
    ("second_setup", second_setup, Code.PROTOCOL_VIOLATION, "a second client_setup"),
]


async def flowing_pair(url: str, tok: str) -> tuple[Client, Client, TrackWriter, Subscription]:
    pub, sub = await client(url, tok), await client(url, tok)
    writer = await pub.publish(("voice", "bystander"), "uplink")
    objects = await sub.subscribe(("voice", "bystander"), "uplink")
    return pub, sub, writer, objects


async def assert_flows(writer: TrackWriter, objects: Subscription, tag: int) -> None:
    payloads = [bytes([tag, i]) for i in range(5)]
    for p in payloads:
        writer.write(p)
    got = await collect(objects, 5)
    assert [o.payload for o in got] == payloads


@pytest.mark.parametrize(("build", "code", "logged"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_violation_closes_only_the_offender(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, build: Callable[[int], bytes], code: int, logged: str
) -> None:
    async def main() -> None:
        # few live requests per session, so the relay stops granting request IDs early
        config = engine_config(tmp_path, max_request_id_window=8, max_subscriptions_per_session=4)
        async with EngineServer(config) as srv:
            tok = token(config)
            pub, sub, writer, objects = await flowing_pair(moqt_url(srv), tok)
            await assert_flows(writer, objects, 1)
            bad, rec = await raw_session(srv, tok)
            expect_answers(bad, range(0, 64, 2))
            bad.transport.send_control(build(bad._peer_max_id))
            bad.transport.transmit()
            closed_code, reason, by_peer = await asyncio.wait_for(rec.closed, 5)
            assert (closed_code, by_peer) == (code, True), reason
            await until(lambda: len(srv.sessions()) == 2, what="the offender gone from the relay")
            await assert_flows(writer, objects, 2)
            await pub.close()
            await sub.close()

    with caplog.at_level(logging.WARNING, logger="clutchcall.moqt.session"):
        run(main())
    lines = [r.getMessage() for r in caplog.records if "moqt session closed" in r.getMessage()]
    expected = f"role=server code={Code.name_of(code)}"
    assert any(expected in line and logged in line for line in lines), lines


def test_flood_of_subscribes_is_cut_off_at_the_grant(tmp_path: Path) -> None:
    """A peer that keeps subscribing without waiting for MAX_REQUEST_ID is closed with TOO_MANY_REQUESTS;
    the relay holds at most max_subscriptions_per_session of its requests meanwhile."""

    async def main() -> None:
        config = engine_config(tmp_path, max_request_id_window=16, max_subscriptions_per_session=20)
        async with EngineServer(config) as srv:
            tok = token(config)
            pub, sub, writer, objects = await flowing_pair(moqt_url(srv), tok)
            bad, rec = await raw_session(srv, tok)
            expect_answers(bad, range(0, 2000, 2))
            flood = b"".join(wire.encode_control(subscribe_msg(rid, NS, b"flood%d" % rid)) for rid in range(0, 2000, 2))
            bad.transport.send_control(flood)
            bad.transport.transmit()
            closed_code, _, _ = await asyncio.wait_for(rec.closed, 5)
            assert closed_code == Code.TOO_MANY_REQUESTS
            peers = [p for p in srv.relay.peers.values() if p.session.id != 0]
            assert all(len(p.held) <= 20 for p in peers)
            await assert_flows(writer, objects, 3)
            await pub.close()
            await sub.close()

    run(main())


def test_requests_blocked_then_granted_after_unsubscribe(tmp_path: Path) -> None:
    """With its request IDs used up, a session sends REQUESTS_BLOCKED and waits; the relay grants more
    once a live request ends."""

    async def main() -> None:
        config = engine_config(tmp_path, max_request_id_window=1, max_subscriptions_per_session=2)
        async with EngineServer(config) as srv:
            session, _ = await raw_session(srv, token(config))
            assert session._peer_max_id == 2  # one request: ID 0
            server = srv.sessions()[0]
            held = srv.relay.peers[server].held
            tasks = [asyncio.ensure_future(session.request(lambda rid: subscribe_msg(rid, NS, b"a")))]
            await until(lambda: held.keys() == {0} and session._peer_max_id == 4, what="first held, ID 2 granted")
            tasks.append(asyncio.ensure_future(session.request(lambda rid: subscribe_msg(rid, NS, b"b"))))
            await until(lambda: held.keys() == {0, 2}, what="second held")
            tasks.append(asyncio.ensure_future(session.request(lambda rid: subscribe_msg(rid, NS, b"c"))))
            await until(lambda: server.counters.get("requests_blocked_received", 0) == 1, what="REQUESTS_BLOCKED")
            assert session._peer_max_id == 4 and not tasks[2].done()  # two live requests: no more IDs
            session.send(wire.Unsubscribe(request_id=0))  # ends the first (held) subscribe
            await until(lambda: session._peer_max_id > 4, what="a new MAX_REQUEST_ID")
            await until(lambda: held.keys() == {2, 4}, what="the third request sent and held")
            for task in tasks:
                task.cancel()
            session.close()

    run(main())
