"""SUBSCRIBE filters at the relay: Next Group Start, Absolute Start (from the cache), Absolute Range (ends
with PUBLISH_DONE SUBSCRIPTION_ENDED), and datagram tracks through the relay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from clutchcall.wire import moqt_d14 as wire
from clutchcall_engine.server import EngineServer
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
    wt_url,
)

NSB = (b"voice", b"CA4")


def test_filters(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            tok = token(config)
            pub = await client(moqt_url(srv), tok)
            writer = await pub.publish(("voice", "CA4"), "uplink", objects_per_group=3)
            first = [writer.write(bytes([i])) for i in range(2)]  # group g: objects 0, 1
            g = first[0][0]
            track = srv.relay.tracks[(NSB, b"uplink")]
            await until(lambda: track.largest == first[-1], what="two objects at the relay")

            session, _ = await raw_session(srv, tok)
            sinks: dict[str, Recorder] = {}
            filters: dict[str, dict[str, Any]] = {
                "next_group": {"filter_type": wire.FilterType.NEXT_GROUP_START},
                "absolute_start": {
                    "filter_type": wire.FilterType.ABSOLUTE_START,
                    "start_location": wire.Location(group=g, object_=1),
                },
                "absolute_range": {
                    "filter_type": wire.FilterType.ABSOLUTE_RANGE,
                    "start_location": wire.Location(group=g, object_=0),
                    "end_group": g,
                },
            }
            for name, kw in filters.items():

                def build(rid: int, kw: dict[str, Any] = kw) -> wire.Subscribe:
                    return subscribe_msg(rid, NSB, b"uplink", **kw)

                ok = await session.request(build)
                sinks[name] = Recorder()
                sinks[name].request_id = ok.request_id
                session.add_inbound(ok.track_alias, sinks[name])
            rest = [writer.write(bytes([i])) for i in range(2, 6)]  # (g, 2), then group after g: 0, 1, 2
            g2 = rest[1][0]
            await until(lambda: len(sinks["next_group"].objects) == 3, what="next-group objects")
            assert [(o.group, o.object_id) for o in sinks["next_group"].objects] == [(g2, 0), (g2, 1), (g2, 2)]
            await until(lambda: len(sinks["absolute_start"].objects) == 5, what="absolute-start objects")
            locs = [(o.group, o.object_id) for o in sinks["absolute_start"].objects]
            assert locs == [(g, 1), (g, 2), (g2, 0), (g2, 1), (g2, 2)]  # (g, 1) came from the cache
            await until(lambda: bool(sinks["absolute_range"].done), what="the range's PUBLISH_DONE")
            assert sinks["absolute_range"].done[0][0] == wire.PublishDoneStatusCode.SUBSCRIPTION_ENDED
            # the range starts at (g, 0): two objects from the cache, then (g, 2); group g2 is past its end
            assert [(o.group, o.object_id) for o in sinks["absolute_range"].objects] == [(g, 0), (g, 1), (g, 2)]
            session.close()
            await pub.close()

    run(main())


@pytest.mark.parametrize("webtransport", [False, True], ids=["quic", "webtransport"])
def test_datagram_track_through_the_relay(tmp_path: Path, webtransport: bool) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            tok = token(config)
            url = wt_url(srv) if webtransport else moqt_url(srv)
            pub = await client(url, tok)
            sub = await client(url, tok)
            writer = await pub.publish(("voice", "CA4"), "frames", datagrams=True)
            objects = await sub.subscribe(("voice", "CA4"), "frames")
            await until(lambda: len(srv.relay.tracks[(NSB, b"frames")].subscribers) == 1)
            sent = [writer.write(bytes([i]) * 50) for i in range(5)]
            got = await collect(objects, 5)
            assert [(o.group, o.object_id) for o in got] == sent
            await pub.close()
            await sub.close()

    run(main())
