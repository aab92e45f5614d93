"""Session data plane and setup rules between two bare sessions on loopback (no relay)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from clutchcall.wire import moqt_d14 as wire
from clutchcall_runtime.moqt.errors import ProtocolViolation
from clutchcall_runtime.moqt.session import EndOfSubgroup, OutboundTrack, OutObject, SessionLimits
from moqt_support import Recorder, run, session_pair, until

Code = wire.SessionTerminationCode


def objects(group: int, n: int, datagram: bool = False) -> list[OutObject]:
    return [
        OutObject(
            group=group,
            subgroup=0,
            object_id=i,
            publisher_priority=1,
            stream_type=0x14,
            payload=bytes([i]) * 30,
            prev_object_id=i - 1 if i else None,
            datagram=datagram,
        )
        for i in range(n)
    ]


def test_stream_for_an_alias_not_yet_known_waits_for_it(tmp_path: Path) -> None:
    async def main() -> None:
        pair, server = await session_pair(tmp_path, client_limits=SessionLimits(parked_timeout=0.3))
        assert pair.server and pair.client
        for alias in (7, 9):
            out = OutboundTrack(pair.server, alias, alias)
            pair.server.add_outbound(out)
            for o in objects(1, 3):
                out.push(o)
            out.push(EndOfSubgroup(1, 0))  # FIN the stream
        await until(lambda: pair.client is not None and len(pair.client._in_streams) == 2, what="two parked streams")
        sink = Recorder()
        pair.client.add_inbound(7, sink)
        assert [(o.group, o.object_id, o.payload) for o in sink.objects] == [(1, i, bytes([i]) * 30) for i in range(3)]
        await until(lambda: pair.client is not None and pair.client.counters.get("streams_unknown_alias") == 1)
        assert pair.client._in_streams == {}
        pair.client.close()
        server.close()

    run(main())


def test_objects_as_datagrams(tmp_path: Path) -> None:
    async def main() -> None:
        pair, server = await session_pair(tmp_path)
        assert pair.server and pair.client
        sink = Recorder()
        pair.client.add_inbound(3, sink)
        out = OutboundTrack(pair.server, 1, 3)
        pair.server.add_outbound(out)
        for o in objects(5, 4, datagram=True):
            out.push(o)
        await until(lambda: len(sink.objects) == 4, what="four datagram objects")
        assert all(o.datagram for o in sink.objects)
        assert sorted((o.group, o.object_id, o.payload) for o in sink.objects) == [
            (5, i, bytes([i]) * 30) for i in range(4)
        ]
        pair.client.close()
        server.close()

    run(main())


def test_unknown_data_stream_type_closes_the_session(tmp_path: Path) -> None:
    async def main() -> None:
        pair, server = await session_pair(tmp_path)
        assert pair.server and pair.client and pair.client_rec
        t = pair.server.transport
        sid = t.open_uni_stream()
        t.send_stream(sid, bytes([0x16, 1, 1, 0]))  # 0x16 is not a draft-14 stream type
        t.transmit()
        code, reason, by_peer = await asyncio.wait_for(pair.client_rec.closed, 5)
        assert (code, by_peer) == (Code.PROTOCOL_VIOLATION, False)
        assert "unknown stream type" in reason
        server.close()

    run(main())


def test_malformed_datagram_closes_the_session(tmp_path: Path) -> None:
    async def main() -> None:
        pair, server = await session_pair(tmp_path)
        assert pair.server and pair.client and pair.client_rec
        pair.server.transport.send_datagram(bytes([0x3F, 1]))
        pair.server.transport.transmit()
        code, _, _ = await asyncio.wait_for(pair.client_rec.closed, 5)
        assert code == Code.PROTOCOL_VIOLATION
        server.close()

    run(main())


def test_version_negotiation_failure(tmp_path: Path) -> None:
    """A server that answers with a version the client did not offer: VERSION_NEGOTIATION_FAILED."""

    async def main() -> None:
        pair, server = await session_pair(tmp_path)
        assert pair.client and pair.client_rec
        # replay the handshake on a fresh parser, as if SERVER_SETUP had named draft-13
        pair.client.setup_done = False
        pair.client.on_control_data(
            wire.encode_control(wire.ServerSetup(selected_version=0xFF00000D, parameters=[])), False
        )
        code, reason, by_peer = await asyncio.wait_for(pair.client_rec.closed, 5)
        assert (code, by_peer) == (Code.VERSION_NEGOTIATION_FAILED, False)
        assert "0xff00000d" in reason
        server.close()

    run(main())


def test_goaway_rules(tmp_path: Path) -> None:
    async def main() -> None:
        pair, server = await session_pair(tmp_path)
        assert pair.server and pair.client and pair.server_rec and pair.client_rec
        pair.server.goaway(b"moqt://elsewhere:4443")
        await until(lambda: pair.client is not None and pair.client.goaway_uri == b"moqt://elsewhere:4443")
        # a client may not name a URI
        pair.client.send(wire.Goaway(new_session_uri=b"moqt://x"))
        code, _, _ = await asyncio.wait_for(pair.server_rec.closed, 5)
        assert code == Code.PROTOCOL_VIOLATION
        server.close()

    run(main())


def test_duplicate_track_alias_closes_the_session(tmp_path: Path) -> None:
    async def main() -> None:
        pair, server = await session_pair(tmp_path)
        assert pair.server and pair.client and pair.server_rec
        pair.client.add_inbound(5, Recorder())
        with pytest.raises(ProtocolViolation):
            pair.client.add_inbound(5, Recorder())
        code, _, by_peer = await asyncio.wait_for(pair.server_rec.closed, 5)
        assert (code, by_peer) == (Code.DUPLICATE_TRACK_ALIAS, True)
        server.close()

    run(main())


def test_an_object_is_encoded_on_first_use_and_its_size_never_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    """The relay makes an OutObject per object in; one that only feeds taps or the cache is never encoded,
    and the queue and cache bounds count it the same before and after it is."""
    encodes: list[int] = []
    real = OutObject.encode_with_delta

    def counted(self: OutObject, delta: int) -> bytes:
        encodes.append(delta)
        return real(self, delta)

    monkeypatch.setattr(OutObject, "encode_with_delta", counted)
    first, second = objects(4, 2)
    assert encodes == [] and first.size == second.size == 30 + 16
    assert second.body == wire.SubgroupObject(object_id_delta=0, payload=bytes([1]) * 30).encode(has_extensions=False)
    assert second.body is second.body and encodes == [0] and second.size == 46
    ext = [wire.KeyValuePair(type_=2, int_value=7)]
    with_ext = OutObject(
        group=1, subgroup=0, object_id=5, publisher_priority=1, stream_type=0x15, payload=b"x" * 10, extensions=ext
    )
    assert with_ext.size == len(with_ext.body) and encodes == [0, 5]  # extensions count at their encoded size
