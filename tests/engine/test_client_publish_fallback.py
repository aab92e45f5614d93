"""A relay that refuses PUBLISH (NOT_SUPPORTED), as moq-relay does: the client's writer falls back to
PUBLISH_NAMESPACE and serves the relay's SUBSCRIBE itself."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from clutchcall.wire import moqt_d14 as wire
from clutchcall_engine.certs import make_self_signed
from clutchcall_runtime.moqt import versions
from clutchcall_runtime.moqt.session import Session, reason_phrase
from clutchcall_runtime.moqt.transport import ServerTls, Transport, bound_port, listen_quic
from moqt_support import LOOPBACK, Recorder, client, run, subscribe_msg, until

T = wire.ControlMessageType


class NamespaceOnlyRelay(Recorder):
    """Refuses PUBLISH; on PUBLISH_NAMESPACE subscribes to the announcer's uplink track."""

    def __init__(self) -> None:
        super().__init__()
        self.sink = Recorder()
        self.tasks: list[asyncio.Task[None]] = []

    def on_message(self, session: Session, code: int, msg: Any) -> None:
        super().on_message(session, code, msg)
        if code == T.PUBLISH:
            session.send(
                wire.PublishError(
                    request_id=msg.request_id,
                    error_code=wire.PublishErrorCode.NOT_SUPPORTED,
                    error_reason=reason_phrase("PUBLISH is not supported"),
                )
            )
        elif code == T.PUBLISH_NAMESPACE:
            session.send(wire.PublishNamespaceOk(request_id=msg.request_id))
            self.tasks.append(asyncio.ensure_future(self._subscribe(session, tuple(msg.track_namespace.fields))))

    async def _subscribe(self, session: Session, ns: tuple[bytes, ...]) -> None:
        ok = await session.request(lambda rid: subscribe_msg(rid, ns, b"uplink"))
        self.sink.request_id = ok.request_id
        session.add_inbound(ok.track_alias, self.sink)


def test_writer_falls_back_to_publish_namespace(tmp_path: Path) -> None:
    async def main() -> None:
        cert, key = make_self_signed()
        (tmp_path / "c.pem").write_bytes(cert)
        (tmp_path / "k.pem").write_bytes(key)
        relay = NamespaceOnlyRelay()

        def on_session(transport: Transport) -> None:
            Session(transport, relay).start()

        server = await listen_quic(
            LOOPBACK, 0, ServerTls(str(tmp_path / "c.pem"), str(tmp_path / "k.pem")), on_session, alpn=versions.D14.alpn
        )
        pub = await client(f"moqt://{LOOPBACK}:{bound_port(server)}", None)
        writer = await pub.publish(("voice", "CA1"), "uplink", capability="voice/pcmu")
        assert writer.via_namespace
        await until(lambda: bool(writer._outs), what="the relay's SUBSCRIBE answered")
        for i in range(5):
            writer.write(bytes([i]) * 20)
        await until(lambda: len(relay.sink.objects) == 5, what="objects at the relay")
        assert [o.payload for o in relay.sink.objects] == [bytes([i]) * 20 for i in range(5)]
        assert [c for c, _ in relay.messages] == [T.PUBLISH, T.PUBLISH_NAMESPACE]
        await pub.close()
        server.close()

    run(main())
