"""The in-process transport (`clutchcall_runtime.moqt.memory`): QUIC's behaviour as the sessions see it, the
relay reached through it beside QUIC, and the engine's own clients using it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.moqt.client import parse_url
from clutchcall_runtime.moqt.errors import AuthenticationError, ConnectError, RequestError, SessionClosedError
from clutchcall_runtime.moqt.memory import MemoryTransport, dial_memory, listen_memory, pair
from clutchcall_runtime.moqt.session import SessionLimits
from clutchcall_runtime.moqt.transport import Transport
from moqt_support import client, collect, engine_config, moqt_url, run, token, until


class Events:
    """A TransportEvents that records, in order, what it is told."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, ...]] = []
        self.writable = 0

    def on_control_data(self, data: bytes, end: bool) -> None:
        self.seen.append(("control", data))

    def on_uni_stream_data(self, stream_id: int, data: bytes, end: bool) -> None:
        self.seen.append(("uni", stream_id, data, end))

    def on_stream_reset(self, stream_id: int, code: int) -> None:
        self.seen.append(("reset", stream_id, code))

    def on_datagram(self, data: bytes) -> None:
        self.seen.append(("datagram", data))

    def on_writable(self) -> None:
        self.writable += 1

    def on_closed(self, code: int, reason: str, by_peer: bool) -> None:
        self.seen.append(("closed", code, reason, by_peer))

    def on_protocol_error(self, reason: str) -> None:
        self.seen.append(("error", reason))


async def attached() -> tuple[Transport, Events, Transport, Events]:
    c, s = pair()
    ce, se = Events(), Events()
    c.attach(ce)
    s.attach(se)
    return c, ce, s, se


async def turn() -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)


def test_writes_arrive_on_the_next_iteration_in_order_and_count_as_buffered_until_then() -> None:
    async def main() -> None:
        c, ce, s, se = await attached()
        c.open_control_stream()
        c.send_control(b"setup")
        a, b = c.open_uni_stream(), c.open_uni_stream()
        assert (a, b) == (2, 6)  # client-initiated unidirectional: 2, 6, 10, ...
        assert s.open_uni_stream() == 3
        assert c.send_stream(a, b"one")
        assert c.send_stream(b, b"two", end=True)
        c.send_datagram(b"dg")
        assert se.seen == []  # nothing re-entrant: the peer hears it on the next loop iteration
        assert c.buffered_bytes() == len(b"setup" + b"one" + b"two" + b"dg")
        await turn()
        assert se.seen == [
            ("control", b"setup"),
            ("uni", a, b"one", False),
            ("uni", b, b"two", True),
            ("datagram", b"dg"),
        ]
        assert s.control_stream_id == 0
        assert c.buffered_bytes() == 0
        assert ce.writable == 1  # the sender's scheduler is told room was freed

    run(main())


def test_a_finished_or_reset_stream_refuses_writes_and_the_reset_reaches_the_peer() -> None:
    async def main() -> None:
        c, _, _, se = await attached()
        a, b = c.open_uni_stream(), c.open_uni_stream()
        assert c.send_stream(a, b"x", end=True)
        assert not c.send_stream(a, b"after fin")
        c.reset_stream(b, 7)
        assert not c.send_stream(b, b"after reset")
        assert c.stopped_writes == 2
        await turn()
        assert se.seen == [("uni", a, b"x", True), ("reset", b, 7)]
        assert not c.send_stream(1_000_002, b"never opened")
        for _ in range(1000):  # a long call: a stream per group, each ended
            c.send_stream(c.open_uni_stream(), b"g", end=True)
        assert isinstance(c, MemoryTransport) and not c._open  # ended streams are not remembered

    run(main())


def test_stop_sending_is_answered_with_a_reset_and_later_writes_are_refused() -> None:
    async def main() -> None:
        c, ce, s, _ = await attached()
        stream = s.open_uni_stream()
        assert s.send_stream(stream, b"a")
        await turn()
        c.stop_stream(stream, 0x3)
        await turn()
        assert not s.send_stream(stream, b"b")
        assert s.stopped_writes == 1
        await turn()
        assert ce.seen == [("uni", stream, b"a", False), ("reset", stream, 0x3)]  # as aioquic answers STOP_SENDING

    run(main())


def test_close_delivers_what_was_written_first_then_the_close_and_nothing_after() -> None:
    async def main() -> None:
        c, ce, s, se = await attached()
        stream = c.open_uni_stream()
        c.send_stream(stream, b"last words")
        c.close(0x10, "bye")
        assert not c.send_stream(stream, b"too late")
        s.send_datagram(b"to a closed end")  # written before the server heard the close
        await turn()
        assert se.seen == [("uni", stream, b"last words", False), ("closed", 0x10, "bye", True)]
        assert s.closed
        assert ce.seen == []  # the closed end takes nothing more, as QUIC drops packets after its own close

    run(main())


def test_events_before_attach_are_replayed() -> None:
    async def main() -> None:
        c, s = pair()
        c.open_control_stream()
        c.send_control(b"early")
        await turn()
        se = Events()
        s.attach(se)
        assert se.seen == [("control", b"early")]

    run(main())


def test_urls_and_dialing_nothing() -> None:
    assert parse_url("memory://relay-7").kind == "memory"
    assert parse_url("memory://relay-7").host == "relay-7"
    for bad in ("memory://", "memory://a/b"):
        with pytest.raises(ValueError, match="memory://NAME"):
            parse_url(bad)
    with pytest.raises(ValueError, match="memory://"):
        parse_url("udp://x:1")

    async def main() -> None:
        with pytest.raises(ConnectError, match="memory://nobody"):
            await dial_memory("nobody")
        listener = listen_memory(lambda t: None, name="taken")
        try:
            with pytest.raises(ValueError, match="already listening"):
                listen_memory(lambda t: None, name="taken")
        finally:
            listener.close()
        with pytest.raises(ConnectError):
            await dial_memory("taken")  # a closed listener is gone

    run(main())


def test_the_relay_serves_memory_and_quic_clients_alike(tmp_path: Path) -> None:
    """Objects published in process reach a QUIC subscriber and the other way round, unchanged."""

    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            inner = await client(srv.internal_url, token(config))
            outer = await client(moqt_url(srv), token(config))
            try:
                kinds = {peer.transport.kind for peer in srv.relay.peers}
                assert kinds == {"memory", "quic"}
                # two groups (50 and 10), within every queue bound
                payloads = [bytes([i]) * (1 + i * 3) for i in range(60)]
                for pub, sub, name in ((inner, outer, "a"), (outer, inner, "b")):
                    writer = await pub.publish(("voice", name), "uplink")
                    subscription = await sub.subscribe(("voice", name), "uplink")
                    reading = asyncio.ensure_future(collect(subscription, len(payloads), timeout=10))
                    await asyncio.sleep(0.05)
                    for p in payloads:
                        writer.write(p)
                    got = sorted(await reading, key=lambda o: (o.group, o.object_id))  # a stream per group
                    assert [o.payload for o in got] == payloads
                    assert [o.object_id for o in got] == [i % 50 for i in range(60)]
                    assert len({o.group for o in got}) == 2
            finally:
                await inner.close()
                await outer.close()
            await until(lambda: not srv._memory or not srv._memory.live, what="the listener forgets closed sessions")

    run(main())


def test_memory_clients_are_held_to_their_token_and_the_session_limit(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path, max_sessions=1)
        async with EngineServer(config) as srv:
            with pytest.raises(AuthenticationError):
                await client(srv.internal_url, "not-a-token", reconnect=False)
            narrow = await client(srv.internal_url, token(config, publish=("voice/CA1",)), reconnect=False)
            try:
                with pytest.raises(RequestError, match="does not allow publishing voice/CA2"):
                    await narrow.publish(("voice", "CA2"), "uplink")
                with pytest.raises(SessionClosedError, match="too many sessions"):  # the second is over the limit
                    await client(srv.internal_url, token(config), reconnect=False)
            finally:
                await narrow.close()

    run(main())


def test_a_burst_stays_within_the_send_budget(tmp_path: Path) -> None:
    """The session's scheduler bounds what a memory transport holds, as it bounds aioquic's buffers."""

    async def main() -> None:
        config = engine_config(tmp_path)
        budget = 8 * 1024
        async with EngineServer(config) as srv:
            limits = SessionLimits(send_budget=budget, queue_max_bytes=1 << 20)
            pub = await client(srv.internal_url, token(config), limits=limits)
            sub = await client(srv.internal_url, token(config))
            try:
                writer = await pub.publish(("voice", "burst"), "uplink")
                await sub.subscribe(("voice", "burst"), "uplink")  # objects flow once somebody subscribes
                assert pub.session is not None
                session = pub.session
                await until(lambda: bool(session.outbound), what="the relay's subscription at the publisher")
                transport = session.transport
                for _ in range(200):
                    writer.write(b"\x55" * 1000)  # 200 KB at once: the track's queue holds what the budget holds back
                (track,) = srv.relay.tracks.values()
                peak = 0
                for _ in range(500):
                    await asyncio.sleep(0)
                    peak = max(peak, transport.buffered_bytes())
                    if track.metrics.objects_in == 200:
                        break
                assert track.metrics.objects_in == 200  # all of it arrived, a budget's worth per loop iteration
                assert budget / 2 < peak <= budget + 1100  # the budget plus at most the one object that crossed it
                assert transport.buffered_bytes() == 0
            finally:
                await pub.close()
                await sub.close()

    run(main())


def test_the_engines_own_clients_reach_its_relay_in_process(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config, calls=True) as srv:
            assert srv.agents is not None
            assert srv.agents.url == srv.internal_url and srv.internal_url.startswith("memory://")
            inner = await srv.agents.client()
            assert inner.session is not None and inner.session.transport.kind == "memory"
            assert {peer.transport.kind for peer in srv.relay.peers} == {"memory"}
        assert srv._memory is None

    run(main())
