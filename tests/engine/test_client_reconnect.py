"""The client across a relay restart on the same port: objects flow again, none is delivered twice."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from clutchcall.wire import moqt_d14 as wire
from clutchcall_engine.auth import DEV_KEY_FILE
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.moqt.client import Backoff, parse_url
from moqt_support import LOOPBACK, client, collect, engine_config, run, token, until


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.parametrize("webtransport", [False, True], ids=["quic", "webtransport"])
def test_reconnect_after_relay_restart_without_duplicates(tmp_path: Path, webtransport: bool) -> None:
    async def main() -> None:
        config = engine_config(tmp_path, moqt_port=free_udp_port(), http_port=free_udp_port())
        url = (
            f"https://{LOOPBACK}:{config.http_addr.port}/moq"
            if webtransport
            else f"moqt://{LOOPBACK}:{config.moqt_addr.port}"
        )
        srv = EngineServer(config)
        await srv.start()
        tok = token(config)
        pub = await client(url, tok, backoff=Backoff(initial=0.05, cap=0.3))
        sub = await client(url, tok, backoff=Backoff(initial=0.05, cap=0.3))
        writer = await pub.publish(("voice", "CA1"), "uplink", objects_per_group=10)
        objects = await sub.subscribe(("voice", "CA1"), "uplink")
        received: list[tuple[int, int]] = []
        stop = asyncio.Event()

        async def read() -> None:
            async for obj in objects:
                received.append((obj.group, obj.object_id))

        async def write() -> None:
            while not stop.is_set():
                writer.write(b"\x00" * 160)
                await asyncio.sleep(0.02)

        reader = asyncio.ensure_future(read())
        producer = asyncio.ensure_future(write())
        await until(lambda: len(received) >= 20, what="objects before the restart")
        before = len(received)
        await srv.stop()
        await asyncio.sleep(0.3)
        srv = EngineServer(config)  # the same ports, certificate and signing key
        await srv.start()
        await until(lambda: pub.reconnects >= 1 and sub.reconnects >= 1, timeout=10, what="both clients back")
        await until(lambda: len(received) >= before + 40, timeout=10, what="objects after the restart")
        stop.set()
        await producer
        assert len(received) == len(set(received)), "an object was delivered twice"
        assert objects.floor is not None and objects.floor >= received[before - 1]  # the re-subscribe's floor
        assert sub.error is None and pub.error is None
        await pub.close()
        await sub.close()
        reader.cancel()
        await srv.stop()

    run(main(), timeout=60)


def test_parse_url() -> None:
    assert parse_url("moqt://relay.example:4443").kind == "quic"
    ep = parse_url("https://relay.example:4433/moq")
    assert (ep.kind, ep.host, ep.port, ep.path) == ("webtransport", "relay.example", 4433, "/moq")
    with pytest.raises(ValueError, match="scheme"):
        parse_url("http://x")
    with pytest.raises(ValueError, match="port"):
        parse_url("moqt://x:notaport")


def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    b = Backoff(initial=0.1, cap=5.0)
    for attempt in range(12):
        bound = min(5.0, 0.1 * 2**attempt)
        delays = [b.delay(attempt) for _ in range(200)]
        assert all(0.0 <= d <= bound for d in delays)
        assert max(delays) > bound * 0.7  # full jitter spans the range


def test_subscription_outlives_a_publisher_that_returns_late(tmp_path: Path) -> None:
    """After a restart the subscriber is back first; its SUBSCRIBE times out at the relay (held 0.2 s) and is
    retried until a new publisher (a restarted process: later group IDs) appears. Nothing is delivered twice."""

    async def main() -> None:
        config = engine_config(tmp_path, moqt_port=free_udp_port(), held_subscribe_timeout_s=0.2)
        url = f"moqt://{LOOPBACK}:{config.moqt_addr.port}"
        srv = EngineServer(config)
        await srv.start()
        tok = token(config)
        pub = await client(url, tok)
        sub = await client(url, tok)
        writer = await pub.publish(("voice", "CA2"), "uplink")
        objects = await sub.subscribe(("voice", "CA2"), "uplink")
        before = [writer.write(b"a") for _ in range(3)]
        got = await collect(objects, 3)
        assert [(o.group, o.object_id) for o in got] == before
        pub.reconnect = False  # the publisher dies (no PUBLISH_DONE, so the track is not over)
        assert pub.session is not None
        pub.session.transport.close(wire.SessionTerminationCode.INTERNAL_ERROR, "publisher crashed")
        await srv.stop()
        srv = EngineServer(config)
        await srv.start()
        await until(lambda: sub.reconnects == 1, what="the subscriber back")
        await asyncio.sleep(1.0)  # several held-SUBSCRIBE timeouts and retries
        pub2 = await client(url, tok)
        writer2 = await pub2.publish(("voice", "CA2"), "uplink")
        track = ((b"voice", b"CA2"), b"uplink")
        await until(
            lambda: track in srv.relay.tracks and bool(srv.relay.tracks[track].subscribers), what="resubscribed"
        )
        after = [writer2.write(b"b") for _ in range(3)]
        got = await collect(objects, 3)
        assert [(o.group, o.object_id) for o in got] == after
        assert sub.error is None
        await pub2.close()
        await sub.close()
        await srv.stop()

    run(main(), timeout=60)


def test_dedup_floor_only_drops_repeats_across_a_reconnect() -> None:
    from typing import cast

    from clutchcall_runtime.moqt.client import Client, Subscription
    from clutchcall_runtime.moqt.session import MoqObject

    def obj(group: int, object_id: int) -> MoqObject:
        return MoqObject(group=group, subgroup=0, object_id=object_id, publisher_priority=1, payload=b"x")

    sub = Subscription(cast(Client, None), [b"voice"], b"t", None, depth=100)
    for loc in [(1, 0), (1, 1), (2, 0), (1, 2), (2, 1)]:  # (1, 2) is a group tail that lost a stream race
        sub.on_object(obj(*loc))
    assert [(o.group, o.object_id) for o in sub._queue] == [(1, 0), (1, 1), (2, 0), (1, 2), (2, 1)]
    assert sub.last == (2, 1)
    sub.floor = sub.last  # what a re-subscribe does
    for loc in [(2, 1), (1, 2), (2, 2), (3, 0)]:
        sub.on_object(obj(*loc))
    assert [(o.group, o.object_id) for o in sub._queue][5:] == [(2, 2), (3, 0)]
    assert sub.duplicates == 2


def test_goaway_moves_the_client_to_the_named_relay(tmp_path: Path) -> None:
    async def main() -> None:
        old_config = engine_config(tmp_path / "old")
        new_config = engine_config(tmp_path / "new")
        (tmp_path / "old").mkdir()
        (tmp_path / "new").mkdir()
        tok = token(old_config)  # creates the development signing key; the new relay trusts the same one
        (tmp_path / "new" / DEV_KEY_FILE).symlink_to(tmp_path / "old" / DEV_KEY_FILE)
        async with EngineServer(old_config) as old, EngineServer(new_config) as new:
            sub = await client(f"moqt://{LOOPBACK}:{old.moqt_port}", tok)
            old.sessions()[0].goaway(f"moqt://{LOOPBACK}:{new.moqt_port}".encode())
            await until(lambda: sub.reconnects == 1 and len(new.sessions()) == 1, what="the client at the new relay")
            assert sub.endpoint.port == new.moqt_port
            await sub.close()

    run(main())
