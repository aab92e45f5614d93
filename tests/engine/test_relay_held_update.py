"""SUBSCRIBE_UPDATE of a held SUBSCRIBE (one waiting for its publisher): the narrowing is kept and is what the
subscription uses once the publisher appears; an update that widens the held window closes the session."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from clutchcall.wire import moqt_d14 as wire
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.moqt.session import Session
from moqt_support import client, collect, engine_config, moqt_url, raw_session, run, subscribe_msg, token, until

Code = wire.SessionTerminationCode
NS = ("voice", "CA9")
NSB = (b"voice", b"CA9")


def _update(session: Session, target: int, start: tuple[int, int], end_group: int, **kw: Any) -> None:
    """Send SUBSCRIBE_UPDATE as the session's next request (no answer comes for it)."""
    rid = session._next_id
    session._next_id += 2
    session.send(
        wire.SubscribeUpdate(
            request_id=rid,
            subscription_request_id=target,
            start_location=wire.Location(group=start[0], object_=start[1]),
            end_group=end_group,
            subscriber_priority=kw.get("subscriber_priority", 128),
            forward=kw.get("forward", 1),
            parameters=[],
        )
    )


def test_update_of_a_held_subscribe_applies_when_the_publisher_appears(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path, held_subscribe_timeout_s=10.0)
        async with EngineServer(config) as srv:
            session, rec = await raw_session(srv, token(config))
            pending = asyncio.ensure_future(
                session.request(
                    lambda rid: subscribe_msg(
                        rid,
                        NSB,
                        b"uplink",
                        filter_type=wire.FilterType.ABSOLUTE_START,
                        start_location=wire.Location(group=0, object_=0),
                    )
                )
            )
            await until(lambda: any(p.held for p in srv.relay.peers.values()), what="the subscribe held")
            # Start an hour of groups ahead (groups are publish-time milliseconds), end two groups after it.
            later = int(time.time() * 1000) + 3_600_000
            _update(session, 0, (later, 0), later + 3, subscriber_priority=7)
            held = next(p for p in srv.relay.peers.values() if p.held).held[0]
            await until(lambda: held.subscriber_priority == 7, what="the update kept for the held subscribe")

            pub = await client(moqt_url(srv), token(config))
            writer = await pub.publish(NS, "uplink", objects_per_group=1)
            ok = await asyncio.wait_for(pending, 5)
            assert ok.request_id == 0
            track = srv.relay.tracks[(NSB, b"uplink")]
            (sub,) = [s for s in track.subscribers.values() if s.peer.session.id != pub.session.id]
            assert sub.start == (later, 0) and sub.end_group == later + 2
            assert sub.out.subscriber_priority == 7 and sub.out.forward

            # A plain subscriber hears what the publisher writes now; the narrowed one does not.
            control = await client(moqt_url(srv), token(config))
            heard = await control.subscribe(NS, "uplink")
            for i in range(3):
                writer.write(b"now%d" % i)
            got = await collect(heard, 3)
            assert [o.payload for o in got] == [b"now0", b"now1", b"now2"]
            assert rec.objects == []
            assert sub.out.objects_sent == 0
            session.close()
            await control.close()
            await pub.close()

    run(main())


def test_forward_0_on_a_held_subscribe_holds_objects_back(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path, held_subscribe_timeout_s=10.0)
        async with EngineServer(config) as srv:
            session, rec = await raw_session(srv, token(config))
            pending = asyncio.ensure_future(session.request(lambda rid: subscribe_msg(rid, NSB, b"uplink")))
            await until(lambda: any(p.held for p in srv.relay.peers.values()), what="the subscribe held")
            _update(session, 0, (0, 0), 0, forward=0)
            held = next(p for p in srv.relay.peers.values() if p.held).held[0]
            await until(lambda: held.forward == 0, what="the update kept for the held subscribe")
            pub = await client(moqt_url(srv), token(config))
            writer = await pub.publish(NS, "uplink", objects_per_group=1)
            await asyncio.wait_for(pending, 5)
            track = srv.relay.tracks[(NSB, b"uplink")]
            (sub,) = [s for s in track.subscribers.values() if s.peer.session.id != pub.session.id]
            assert not sub.out.forward
            last = writer.write(b"a")
            await until(lambda: track.largest == last, what="the relay saw the object")
            await asyncio.sleep(0.2)
            assert rec.objects == [] and sub.out.objects_sent == 0
            session.close()
            await pub.close()

    run(main())


def test_widening_a_held_subscribe_closes_the_session(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path, held_subscribe_timeout_s=10.0)
        async with EngineServer(config) as srv:
            session, rec = await raw_session(srv, token(config))
            start = wire.Location(group=10, object_=0)
            msg = subscribe_msg(
                0, NSB, b"uplink", filter_type=wire.FilterType.ABSOLUTE_RANGE, start_location=start, end_group=20
            )
            pending = asyncio.ensure_future(session.request(lambda rid: msg))
            await until(lambda: any(p.held for p in srv.relay.peers.values()), what="the subscribe held")
            _update(session, 0, (12, 0), 16)  # narrows to groups 12..15
            held = next(p for p in srv.relay.peers.values() if p.held).held[0]
            await until(lambda: held.end_group == 15, what="the narrowing kept")
            assert held.start == (12, 0)
            _update(session, 0, (11, 0), 16)  # the start may not move back
            code, _, _ = await asyncio.wait_for(rec.closed, 5)
            assert code == Code.PROTOCOL_VIOLATION
            pending.cancel()

    run(main())
