"""Publish -> relay -> subscribe end to end, through the Python client, over raw QUIC and WebTransport."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from clutchcall_engine.server import EngineServer
from moqt_support import client, collect, engine_config, moqt_url, run, token, until, wt_url

NS = ("voice", "CA12")


@pytest.mark.parametrize("webtransport", [False, True], ids=["quic", "webtransport"])
def test_objects_arrive_equal_in_order_with_group_boundaries(tmp_path: Path, webtransport: bool) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            url = wt_url(srv) if webtransport else moqt_url(srv)
            pub = await client(url, token(config))
            sub = await client(url, token(config))
            writer = await pub.publish(NS, "uplink", capability="voice/pcmu", objects_per_group=5)
            objects = await sub.subscribe(NS, "uplink")
            sent = [bytes([i]) * 160 for i in range(23)]
            locations = []
            for payload in sent:
                locations.append(writer.write(payload))
                await asyncio.sleep(0.002)
            got = await collect(objects, len(sent))
            # one stream per group keeps a group's objects in order; QUIC may interleave two groups'
            # streams, so across a boundary only the set is fixed
            got.sort(key=lambda o: (o.group, o.object_id))
            assert [o.payload for o in got] == sent
            assert [(o.group, o.object_id) for o in got] == locations
            # 5 objects per group: groups change exactly every 5 objects, object IDs restart at 0
            groups = sorted({o.group for o in got})
            assert len(groups) == 5
            assert all(o.object_id == i % 5 for i, o in enumerate(got))
            assert {o.capability for o in got} == {"voice/pcmu"}
            await pub.close()
            await sub.close()

    run(main())


def test_fan_out_shares_one_encoding(tmp_path: Path) -> None:
    """Three subscribers get every object; the relay encoded each object once (shared bytes)."""

    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            pub = await client(moqt_url(srv), token(config))
            subs = [await client(moqt_url(srv), token(config)) for _ in range(3)]
            writer = await pub.publish(NS, "downlink")
            iters = [await s.subscribe(NS, "downlink") for s in subs]
            track = srv.relay.tracks[((b"voice", b"CA12"), b"downlink")]
            await until(lambda: len(track.subscribers) == 3, what="three subscribers attached")
            seen: list[object] = []
            original_push = type(next(iter(track.subscribers.values())).out).push

            def spy(self: object, item: object) -> None:
                seen.append(item)
                original_push(self, item)  # type: ignore[arg-type]

            for sub in track.subscribers.values():
                sub.out.push = spy.__get__(sub.out)  # type: ignore[method-assign]
            for i in range(10):
                writer.write(bytes([i]) * 40)
            results = [await collect(it, 10) for it in iters]
            for got in results:
                assert [o.payload for o in got] == [bytes([i]) * 40 for i in range(10)]
            # each object reached the three queues as the very same object (encoded once)
            assert len(seen) == 30
            for i in range(10):
                assert seen[3 * i] is seen[3 * i + 1] is seen[3 * i + 2]
            for c in (pub, *subs):
                await c.close()

    run(main())


def test_clean_close_delivers_every_object_then_ends_the_subscription(tmp_path: Path) -> None:
    """The publisher writes and closes at once: every queued object still arrives, then PUBLISH_DONE
    (TRACK_ENDED, after the counted streams) ends the subscriber's iterator."""

    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            pub = await client(moqt_url(srv), token(config))
            sub = await client(moqt_url(srv), token(config))
            writer = await pub.publish(NS, "uplink", objects_per_group=7)
            objects = await sub.subscribe(NS, "uplink")
            sent = [writer.write(bytes([i]) * 100) for i in range(40)]  # six groups: six streams
            await pub.close()
            got = [(o.group, o.object_id) async for o in objects]  # ends on PUBLISH_DONE
            assert sorted(got) == sent
            await sub.close()

    run(main())
