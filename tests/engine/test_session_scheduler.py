"""The session's send side without a network: a fake transport that holds what the session writes.

Priorities and group order decide which queued object goes first; each outbound queue stays within
its bounds by dropping the oldest whole groups, and every object is accounted for (sent, queued or
counted as dropped)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from clutchcall.wire import moqt_d14 as wire
from clutchcall_runtime.moqt.session import OutboundTrack, OutObject, Session, SessionLimits
from clutchcall_runtime.moqt.transport import Transport
from hypothesis import given, settings
from hypothesis import strategies as st
from moqt_support import Recorder


class FakeLoop:
    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    def call_soon(self, *_: Any) -> None:
        return None  # the test pumps by hand

    def call_later(self, *_: Any) -> asyncio.Handle:
        return cast(asyncio.Handle, type("H", (), {"cancel": lambda self: None})())

    def create_future(self) -> asyncio.Future[Any]:
        return asyncio.get_event_loop_policy().get_event_loop().create_future()


class FakeTransport:
    kind = "quic"
    is_client = False
    closed = False

    def __init__(self) -> None:
        self.writes: list[tuple[int, bytes, bool]] = []
        self.resets: list[int] = []
        self.held = 0  # bytes "unacknowledged"
        self._next = 3

    def attach(self, events: Any) -> None:
        pass

    def open_uni_stream(self) -> int:
        self._next += 4
        return self._next

    def send_stream(self, stream_id: int, data: bytes, end: bool = False) -> None:
        self.writes.append((stream_id, data, end))
        self.held += len(data)

    def reset_stream(self, stream_id: int, code: int) -> None:
        self.resets.append(stream_id)

    def send_control(self, data: bytes) -> None:
        pass

    def buffered_bytes(self) -> int:
        return self.held

    def transmit(self) -> None:
        pass


def make_session(limits: SessionLimits) -> tuple[Session, FakeTransport, FakeLoop]:
    async def build() -> Session:
        return Session(cast(Transport, transport), Recorder(), limits=limits)

    transport = FakeTransport()
    session = asyncio.run(build())
    loop = FakeLoop()
    session.loop = cast(asyncio.AbstractEventLoop, loop)
    return session, transport, loop


def obj(group: int, object_id: int, size: int = 100, priority: int = 128) -> OutObject:
    return OutObject(
        group=group,
        subgroup=0,
        object_id=object_id,
        publisher_priority=priority,
        stream_type=0x14,
        payload=bytes(size),
        prev_object_id=object_id - 1 if object_id else None,
    )


def sent_groups(transport: FakeTransport) -> list[tuple[int, int]]:
    """(alias, group) of each stream's header, in the order streams were started."""
    out = []
    for _, data, _ in transport.writes:
        if data and data[0] == 0x14:  # a stream's first write: header and first object
            header = wire.DataParser().feed(data)[0]
            assert isinstance(header, wire.SubgroupHeader)
            out.append((header.track_alias, header.group_id))
    return out


def test_subscriber_priority_then_group_order_decide_what_goes_first() -> None:
    session, transport, _ = make_session(SessionLimits(send_budget=1, queue_max_bytes=1 << 20, queue_max_ms=1e9))
    low = OutboundTrack(session, 0, alias=1, subscriber_priority=200)
    high = OutboundTrack(session, 2, alias=2, subscriber_priority=10)
    newest_first = OutboundTrack(session, 4, alias=3, subscriber_priority=100, group_order=wire.GroupOrder.DESCENDING)
    for t in (low, high, newest_first):
        session.add_outbound(t)
    transport.held = 10**9  # nothing may be written yet
    for g in (1, 2, 3):
        low.push(obj(g, 0))
        newest_first.push(obj(g, 0))
        high.push(obj(g, 0))
    session._pump()
    assert transport.writes == []
    while any(t.has_items() for t in (low, high, newest_first)):
        transport.held = 0  # an ACK frees room for exactly one object
        session.on_writable()
    assert sent_groups(transport) == [(2, 1), (2, 2), (2, 3), (3, 3), (3, 2), (3, 1), (1, 1), (1, 2), (1, 3)]


def test_publisher_priority_breaks_ties_between_equal_subscribers() -> None:
    session, transport, _ = make_session(SessionLimits(send_budget=1, queue_max_bytes=1 << 20, queue_max_ms=1e9))
    a = OutboundTrack(session, 0, alias=1)
    b = OutboundTrack(session, 2, alias=2)
    transport.held = 10**9
    a.push(obj(1, 0, priority=50))
    b.push(obj(1, 0, priority=5))
    while a.has_items() or b.has_items():
        transport.held = 0
        session.on_writable()
    assert [alias for alias, _ in sent_groups(transport)] == [2, 1]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(1, 400), st.floats(0, 0.08), st.booleans()),
        min_size=1,
        max_size=120,
    )
)
def test_queue_bounds_drop_whole_oldest_groups_and_account_for_everything(
    steps: list[tuple[bool, int, float, bool]],
) -> None:
    limits = SessionLimits(send_budget=1, queue_max_bytes=2000, queue_max_ms=200)
    session, transport, loop = make_session(limits)
    drops: list[tuple[int, int]] = []
    track = OutboundTrack(session, 0, alias=1, on_drop=lambda n, b: drops.append((n, b)))
    session.add_outbound(track)
    transport.held = 10**9
    group, object_id = 0, 0
    for pushed, (new_group, size, advance, ack) in enumerate(steps, start=1):
        if new_group:
            group, object_id = group + 1, 0
        loop.now += advance
        track.push(obj(group, object_id, size))
        object_id += 1
        if ack:
            transport.held = 0
            session.on_writable()
            transport.held = 10**9
        assert track.queued_bytes <= limits.queue_max_bytes
        queued = [item for q in track.groups.values() for _, item in q]
        assert all(item.group > track.dropped_through for item in queued)  # dropped groups leave whole
        assert track.queued_objects == len(queued)
        assert pushed == track.objects_sent + len(queued) + track.dropped.objects
        assert sum(n for n, _ in drops) == track.dropped.objects
        if queued:
            assert (loop.now - min(t for q in track.groups.values() for t, _ in q)) * 1000 <= limits.queue_max_ms
