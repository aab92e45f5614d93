"""PUBLISH_NAMESPACE then SUBSCRIBE (the relay subscribes upstream), SUBSCRIBE_UPDATE narrowing, and
Prometheus text at /metrics on the HTTP/3 port."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

from aioquic.asyncio.client import connect as quic_connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, H3Event, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import QuicEvent
from clutchcall.wire import moqt_d14 as wire
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.moqt.session import OutboundTrack, OutObject
from moqt_support import LOOPBACK, client, collect, engine_config, moqt_url, raw_session, run, token, until

Code = wire.SessionTerminationCode


def test_subscribe_reaches_a_namespace_publisher_through_the_relay(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            origin, rec = await raw_session(srv, token(config))
            await origin.request(
                lambda rid: wire.PublishNamespace(
                    request_id=rid, track_namespace=wire.TrackNamespace(fields=[b"voice", b"CA5"]), parameters=[]
                )
            )
            sub = await client(moqt_url(srv), token(config))
            pending = asyncio.ensure_future(sub.subscribe(("voice", "CA5"), "downlink"))
            await until(lambda: any(c == wire.ControlMessageType.SUBSCRIBE for c, _ in rec.messages), what="upstream")
            (up,) = [m for c, m in rec.messages if c == wire.ControlMessageType.SUBSCRIBE]
            assert (up.track_namespace.fields, up.track_name) == ([b"voice", b"CA5"], b"downlink")
            assert up.request_id % 2 == 1  # the relay is the server: odd request IDs
            origin.send(
                wire.SubscribeOk(
                    request_id=up.request_id, track_alias=40, expires=0, group_order=1, content_exists=0, parameters=[]
                )
            )
            objects = await asyncio.wait_for(pending, 5)
            out = OutboundTrack(origin, up.request_id, 40)
            origin.add_outbound(out)
            for i in range(4):
                out.push(
                    OutObject(
                        group=3,
                        subgroup=0,
                        object_id=i,
                        publisher_priority=1,
                        stream_type=0x14,
                        payload=b"x%d" % i,
                        prev_object_id=i - 1 if i else None,
                    )
                )
            got = await collect(objects, 4)
            assert [(o.group, o.object_id, o.payload) for o in got] == [(3, i, b"x%d" % i) for i in range(4)]
            await sub.close()
            origin.close()

    run(main())


def test_subscribe_update_narrows_and_may_not_widen(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            pub = await client(moqt_url(srv), token(config))
            writer = await pub.publish(("voice", "CA6"), "uplink", objects_per_group=2)
            session, rec = await raw_session(srv, token(config))
            ok = await session.request(
                lambda rid: wire.Subscribe(
                    request_id=rid,
                    track_namespace=wire.TrackNamespace(fields=[b"voice", b"CA6"]),
                    track_name=b"uplink",
                    subscriber_priority=1,
                    group_order=0,
                    forward=1,
                    filter_type=wire.FilterType.LARGEST_OBJECT,
                    parameters=[],
                )
            )
            server = srv.sessions()[-1]
            sub = next(iter(srv.relay.peers[server].subscriptions.values())).subscribers[(server.id, ok.request_id)]
            first = writer.write(b"a")
            # narrow: start at the next group, end after it (End Group in an update is end + 1)
            session.send(
                wire.SubscribeUpdate(
                    request_id=2,
                    subscription_request_id=ok.request_id,
                    start_location=wire.Location(group=first[0] + 1, object_=0),
                    end_group=first[0] + 2,
                    subscriber_priority=7,
                    forward=1,
                    parameters=[],
                )
            )
            session._next_id = 4
            await until(lambda: sub.out.subscriber_priority == 7, what="the update applied")
            assert sub.start == (first[0] + 1, 0) and sub.end_group == first[0] + 1
            # widening the end is a protocol violation
            session.send(
                wire.SubscribeUpdate(
                    request_id=4,
                    subscription_request_id=ok.request_id,
                    start_location=wire.Location(group=first[0] + 1, object_=0),
                    end_group=0,
                    subscriber_priority=7,
                    forward=1,
                    parameters=[],
                )
            )
            code, _, _ = await asyncio.wait_for(rec.closed, 5)
            assert code == Code.PROTOCOL_VIOLATION
            await pub.close()

    run(main())


class _H3Get(QuicConnectionProtocol):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.h3 = H3Connection(self._quic)
        self.status = 0
        self.body = b""
        self.done = asyncio.get_running_loop().create_future()

    def quic_event_received(self, event: QuicEvent) -> None:
        for ev in self.h3.handle_event(event):
            self._h3(ev)

    def _h3(self, ev: H3Event) -> None:
        if isinstance(ev, HeadersReceived):
            self.status = int(dict(ev.headers)[b":status"])
        elif isinstance(ev, DataReceived):
            self.body += ev.data
            if ev.stream_ended and not self.done.done():
                self.done.set_result(None)


async def http3_get(port: int, path: str) -> tuple[int, bytes]:
    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, verify_mode=ssl.CERT_NONE)
    async with quic_connect(LOOPBACK, port, configuration=config, create_protocol=_H3Get) as proto:
        assert isinstance(proto, _H3Get)
        sid = proto._quic.get_next_available_stream_id()
        headers = [
            (b":method", b"GET"),
            (b":scheme", b"https"),
            (b":authority", b"localhost"),
            (b":path", path.encode()),
        ]
        proto.h3.send_headers(sid, headers, end_stream=True)
        proto.transmit()
        await asyncio.wait_for(proto.done, 5)
        return proto.status, proto.body


def test_metrics_over_http3(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            pub = await client(moqt_url(srv), token(config))
            writer = await pub.publish(("voice", "CA3"), "uplink")
            sub = await client(moqt_url(srv), token(config))
            objects = await sub.subscribe(("voice", "CA3"), "uplink")
            for _ in range(3):
                writer.write(b"\x00" * 160)
            await collect(objects, 3)
            status, body = await http3_get(srv.http_port, "/metrics")
            assert status == 200
            text = body.decode()
            assert 'objects_in_total{namespace="voice/CA3",tenant="t1",track="uplink"} 3.0' in text
            assert 'objects_out_total{namespace="voice/CA3",tenant="t1",track="uplink"} 3.0' in text
            assert (await http3_get(srv.http_port, "/nothing"))[0] == 404
            await pub.close()
            await sub.close()

    run(main())
