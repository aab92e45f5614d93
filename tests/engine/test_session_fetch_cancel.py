"""FETCH_CANCEL (draft-14 9.19): the publisher resets the fetch's stream with CANCELLED and forgets the
request; a second FETCH_CANCEL of it, or one of a request ID never fetched, is ignored."""

from __future__ import annotations

from pathlib import Path

from clutchcall.wire import moqt_d14 as wire
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.moqt.session import MoqObject
from moqt_support import Recorder, client, engine_config, moqt_url, raw_session, run, token, until

NS = ("voice", "CA7")
NSB = (b"voice", b"CA7")
OBJECT_BYTES = 60_000
OBJECTS = 250  # 15 MB: far more than loopback QUIC delivers in the round trip FETCH_CANCEL takes


def test_fetch_cancel_resets_a_large_fetch_mid_stream(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path, track_cache_bytes=OBJECTS * (OBJECT_BYTES + 64))
        async with EngineServer(config) as srv:
            pub = await client(moqt_url(srv), token(config))
            writer = await pub.publish(NS, "uplink", objects_per_group=1000)
            first = writer.write(b"x")
            track = srv.relay.tracks[(NSB, b"uplink")]
            await until(lambda: track.largest == first, what="the relay saw the first object")
            # Fill the cache through the track's sink interface: a 15 MB upload would only slow the test.
            for oid in range(1, OBJECTS):
                track.on_object(MoqObject(first[0], 0, oid, 128, bytes([oid % 256]) * OBJECT_BYTES))

            session, _ = await raw_session(srv, token(config))
            resets: list[tuple[int, int]] = []
            on_reset = session.on_stream_reset

            def record_reset(stream_id: int, code: int) -> None:
                resets.append((stream_id, code))
                on_reset(stream_id, code)

            session.on_stream_reset = record_reset  # type: ignore[method-assign]
            fetched = Recorder()
            fok = await session.request(
                lambda rid: wire.Fetch(
                    request_id=rid,
                    subscriber_priority=1,
                    group_order=0,
                    fetch_type=wire.FetchType.STANDALONE,
                    track_namespace=wire.TrackNamespace(fields=list(NSB)),
                    track_name=b"uplink",
                    start_location=wire.Location(group=first[0], object_=0),
                    end_location=wire.Location(group=first[0] + 1, object_=0),
                    parameters=[],
                ),
                sink=fetched,
            )
            assert fok.end_location == wire.Location(group=first[0], object_=OBJECTS)
            relay_side = next(p.session for p in srv.relay.peers.values() if not p.published)
            session.cancel_fetch(fok.request_id)
            await until(lambda: relay_side.counters.get("fetch_cancelled") == 1, what="the relay took FETCH_CANCEL")
            await until(lambda: bool(resets), what="the fetch stream reset")
            assert [code for _, code in resets] == [wire.DataStreamResetCode.CANCELLED]
            assert len(fetched.objects) < OBJECTS, "the whole fetch arrived: nothing was cancelled mid-stream"

            # The request is forgotten: cancelling it again, or a request ID never fetched, is ignored.
            session.send(wire.FetchCancel(request_id=fok.request_id))
            session.send(wire.FetchCancel(request_id=fok.request_id + 1000))
            await until(lambda: relay_side.counters.get("fetch_cancel_unknown") == 2, what="both ignored")
            assert relay_side.counters["fetch_cancelled"] == 1
            assert not relay_side.closed.done() and not session.closed.done()
            session.close()
            await pub.close()

    run(main(), timeout=60)
