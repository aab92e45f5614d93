"""Relay features: held subscribes, capability routing, the slow-subscriber bound, FETCH from the cache,
TRACK_STATUS, and the /metrics endpoint."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from clutchcall.wire import moqt_d14 as wire
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.moqt.errors import RequestError
from clutchcall_runtime.moqt.session import capability_of, capability_params
from moqt_support import (
    Recorder,
    client,
    collect,
    engine_config,
    moqt_url,
    raw_session,
    run,
    subscribe_msg,
    token,
    until,
)

NS = ("voice", "CA7")
NSB = (b"voice", b"CA7")


def test_held_subscribe_is_satisfied_when_the_publisher_appears(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path, held_subscribe_timeout_s=5.0)
        async with EngineServer(config) as srv:
            sub = await client(moqt_url(srv), token(config))
            pending = asyncio.ensure_future(sub.subscribe(NS, "uplink"))
            await until(lambda: any(p.held for p in srv.relay.peers.values()), what="the subscribe held")
            assert not pending.done()
            pub = await client(moqt_url(srv), token(config))
            writer = await pub.publish(NS, "uplink")
            objects = await asyncio.wait_for(pending, 5)
            for i in range(5):
                writer.write(bytes([i]))
            assert [o.payload for o in await collect(objects, 5)] == [bytes([i]) for i in range(5)]
            await pub.close()
            await sub.close()

    run(main())


def test_held_subscribe_times_out_with_track_does_not_exist(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path, held_subscribe_timeout_s=0.3)
        async with EngineServer(config) as srv:
            sub = await client(moqt_url(srv), token(config))
            loop = asyncio.get_running_loop()
            start = loop.time()
            with pytest.raises(RequestError) as err:
                await sub.subscribe(NS, "nobody")
            assert err.value.code == wire.SubscribeErrorCode.TRACK_DOES_NOT_EXIST
            assert 0.25 <= loop.time() - start < 3.0
            assert not any(p.held for p in srv.relay.peers.values())
            await sub.close()

    run(main())


def test_capability_routing(tmp_path: Path) -> None:
    """SUBSCRIBE with a capability matches only a track with that tag; SUBSCRIBE_NAMESPACE with a
    capability filter is offered (PUBLISH) only the matching tracks, with their tag."""

    async def main() -> None:
        config = engine_config(tmp_path, held_subscribe_timeout_s=0.4)
        async with EngineServer(config) as srv:
            pub = await client(moqt_url(srv), token(config))
            pcmu = await pub.publish(NS, "uplink", capability="voice/pcmu")
            await pub.publish(("voice", "CA8"), "uplink", capability="voice/opus")
            sub = await client(moqt_url(srv), token(config))
            with pytest.raises(RequestError):
                await sub.subscribe(NS, "uplink", capability="voice/opus")  # held, never matched
            objects = await sub.subscribe(NS, "uplink", capability="voice/pcmu")
            pcmu.write(b"\xff" * 160)
            (obj,) = await collect(objects, 1)
            assert obj.capability == "voice/pcmu"

            session, rec = await raw_session(srv, token(config))
            ok = await session.request(
                lambda rid: wire.SubscribeNamespace(
                    request_id=rid,
                    track_namespace_prefix=wire.TrackNamespace(fields=[b"voice"]),
                    parameters=capability_params("voice/opus"),
                )
            )
            assert isinstance(ok, wire.SubscribeNamespaceOk)
            await until(lambda: any(c == wire.ControlMessageType.PUBLISH for c, _ in rec.messages), what="PUBLISH")
            await asyncio.sleep(0.1)
            offered = [m for c, m in rec.messages if c == wire.ControlMessageType.PUBLISH]
            assert [(m.track_namespace.fields, m.track_name) for m in offered] == [([b"voice", b"CA8"], b"uplink")]
            assert capability_of(offered[0].parameters) == "voice/opus"
            session.close()
            await pub.close()
            await sub.close()

    run(main())


def test_slow_subscriber_drops_oldest_groups_while_fast_one_gets_all(tmp_path: Path) -> None:
    async def main() -> None:
        # a small transport budget, so the relay's own bounded queue is what a stalled peer fills
        config = engine_config(tmp_path, session_buffer_bytes=4096, subscriber_queue_ms=200)
        async with EngineServer(config) as srv:
            tok = token(config)
            pub = await client(moqt_url(srv), tok)
            fast = await client(moqt_url(srv), tok)
            slow = await client(moqt_url(srv), tok)
            writer = await pub.publish(NS, "uplink", objects_per_group=5)  # 100 ms groups
            fast_objects = await fast.subscribe(NS, "uplink")
            await slow.subscribe(NS, "uplink")
            track = srv.relay.tracks[(NSB, b"uplink")]
            await until(lambda: len(track.subscribers) == 2, what="both subscribers attached")
            assert slow._dialed is not None
            udp: Any = slow._dialed._udp
            udp.pause_reading()  # the slow subscriber stops reading (and ACKing)
            sent = []
            for i in range(150):  # 3 s of 20 ms audio
                sent.append(writer.write(i.to_bytes(2, "big") * 80))
                await asyncio.sleep(0.02)
            got = await collect(fast_objects, len(sent), timeout=10)
            assert [(o.group, o.object_id) for o in got] == sent  # the fast subscriber missed nothing
            outs = [s.out for s in track.subscribers.values()]
            dropped = [o.dropped for o in outs]
            slow_drops = max(dropped, key=lambda d: d.groups)
            fast_drops = min(dropped, key=lambda d: d.groups)
            assert fast_drops.groups == 0 and fast_drops.objects == 0
            assert slow_drops.groups >= 5 and slow_drops.objects >= 5 * (slow_drops.groups - 2)
            # the queue stayed within its bounds the whole time
            assert all(o.queued_bytes <= config.limits.subscriber_queue_bytes for o in outs)
            text = srv.metrics.render().decode()
            assert "drops_total" in text
            await pub.close()
            await fast.close()
            await slow.close()

    run(main(), timeout=60)


def test_joining_fetch_and_standalone_fetch_from_the_cache(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            pub = await client(moqt_url(srv), token(config))
            writer = await pub.publish(NS, "uplink", objects_per_group=50)
            locations = [writer.write(bytes([i]) * 10) for i in range(7)]
            track = srv.relay.tracks[(NSB, b"uplink")]
            await until(lambda: track.largest == locations[-1], what="the relay saw all 7 objects")
            group = locations[0][0]

            session, _ = await raw_session(srv, token(config))
            ok = await session.request(lambda rid: subscribe_msg(rid, NSB, b"uplink"))
            assert ok.content_exists == 1 and ok.largest_location == wire.Location(group=group, object_=6)
            fetched = Recorder()
            fok = await session.request(
                lambda rid: wire.Fetch(
                    request_id=rid,
                    subscriber_priority=1,
                    group_order=0,
                    fetch_type=wire.FetchType.RELATIVE_JOINING,
                    joining_request_id=ok.request_id,
                    joining_start=0,
                    parameters=[],
                ),
                sink=fetched,
            )
            assert fok.end_location == wire.Location(group=group, object_=7)
            await until(lambda: len(fetched.objects) == 7, what="the joining fetch's objects")
            assert [(o.group, o.object_id, o.payload) for o in fetched.objects] == [
                (group, i, bytes([i]) * 10) for i in range(7)
            ]

            standalone = Recorder()
            await session.request(
                lambda rid: wire.Fetch(
                    request_id=rid,
                    subscriber_priority=1,
                    group_order=0,
                    fetch_type=wire.FetchType.STANDALONE,
                    track_namespace=wire.TrackNamespace(fields=list(NSB)),
                    track_name=b"uplink",
                    start_location=wire.Location(group=group, object_=2),
                    end_location=wire.Location(group=group, object_=5),
                    parameters=[],
                ),
                sink=standalone,
            )
            await until(lambda: len(standalone.objects) == 3, what="the standalone fetch's objects")
            assert [o.object_id for o in standalone.objects] == [2, 3, 4]

            status = await session.request(
                lambda rid: wire.TrackStatus(
                    request_id=rid,
                    track_namespace=wire.TrackNamespace(fields=list(NSB)),
                    track_name=b"uplink",
                    subscriber_priority=1,
                    group_order=0,
                    forward=0,
                    filter_type=wire.FilterType.LARGEST_OBJECT,
                    parameters=[],
                )
            )
            assert status.largest_location == wire.Location(group=group, object_=6)
            with pytest.raises(RequestError) as err:
                await session.request(
                    lambda rid: wire.Fetch(
                        request_id=rid,
                        subscriber_priority=1,
                        group_order=0,
                        fetch_type=wire.FetchType.RELATIVE_JOINING,
                        joining_request_id=998,
                        joining_start=0,
                        parameters=[],
                    )
                )
            assert err.value.code == wire.FetchErrorCode.INVALID_JOINING_REQUEST_ID
            session.close()
            await pub.close()

    run(main())
