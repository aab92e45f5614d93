"""MoQT to a relay in the same process, without QUIC: `memory://NAME`.

The engine's own clients (the SIP gateway's legs, the agent runtime, push_audio) run in the relay's
process. Over loopback QUIC every frame they exchange is packetized, encrypted, sent, received,
decrypted and acknowledged twice in one process, which was most of an in-engine leg's cost. A
`MemoryTransport` pair carries the same MoQT bytes (the same sessions, parsers, token check and
scheduler on both sides) as method calls instead.

What it keeps of QUIC's behaviour, so the sessions cannot tell: writes are batched and delivered on
the next loop iteration (never re-entrantly), in write order; stream IDs are numbered as QUIC numbers
them; a write after FIN or RESET_STREAM, or after the peer's STOP_SENDING, is refused (and STOP_SENDING
is answered with RESET_STREAM, as aioquic does); `buffered_bytes()` is what is written and not yet
delivered, so the session's send budget bounds it as it bounds aioquic's buffers; closing delivers what
was written before the close, then the close. What it drops: TLS (nothing leaves the process), PING
(no idle timeout to defeat) and flow control (the receiving session parses on delivery into its own
bounded queues).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable

from .errors import ConnectError
from .transport import OnSession, Transport

log = logging.getLogger("clutchcall.moqt.memory")

_Delivery = Callable[["MemoryTransport"], None]


class MemoryTransport(Transport):
    """One end of an in-process pair (`pair()`)."""

    kind = "memory"

    def __init__(self, is_client: bool) -> None:
        super().__init__()
        self.is_client = is_client
        self.peer: MemoryTransport | None = None
        self._next_uni = 2 if is_client else 3  # RFC 9000 2.1: the low two bits are initiator and direction
        self._outbox: list[tuple[int, _Delivery]] = []  # (bytes, what the peer is told), in write order
        self._outbox_bytes = 0
        self._flush_scheduled = False
        # Our uni streams not yet ended by FIN or RESET_STREAM (STOP_SENDING resets them): a write to any other is
        # refused. Only open ones are remembered, so a long call's stream per group costs nothing once ended.
        self._open: set[int] = set()
        self._closed_locally = False
        self.on_close: Callable[[MemoryTransport], None] | None = None  # the listener forgets a closed end
        self._loop = asyncio.get_running_loop()

    # ---- writing ----

    def _post(self, size: int, delivery: _Delivery) -> None:
        self._outbox.append((size, delivery))
        self._outbox_bytes += size
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._outbox, self._outbox_bytes = self._outbox, [], 0
        peer = self.peer
        if peer is not None:
            for _, delivery in batch:
                if peer.closed and peer._closed_locally:
                    break  # a closed end takes nothing more (QUIC drops packets after its own close)
                try:
                    delivery(peer)
                except Exception:  # a handler's bug costs this delivery, as a raising protocol callback would
                    log.exception("in-process MoQT delivery failed")
        if batch and not self.closed and self.events is not None:
            self.events.on_writable()  # what the budget held back may go now

    def open_control_stream(self) -> None:
        self.control_stream_id = 0  # the client's first bidirectional stream

    def open_uni_stream(self) -> int:
        stream_id, self._next_uni = self._next_uni, self._next_uni + 4
        self._open.add(stream_id)
        return stream_id

    def send_control(self, data: bytes) -> None:
        if self.control_stream_id is None or self.closed:
            return
        self._post(len(data), lambda p: p._receive_control(data))

    def send_stream(self, stream_id: int, data: bytes, end: bool = False) -> bool:
        if self.closed:
            return False
        if stream_id not in self._open:
            self.stopped_writes += 1
            return False
        if end:
            self._open.discard(stream_id)
        self._post(len(data), lambda p: p._emit(lambda e: e.on_uni_stream_data(stream_id, data, end)))
        return True

    def reset_stream(self, stream_id: int, code: int) -> None:
        if self.closed or stream_id not in self._open:
            return
        self._open.discard(stream_id)
        self._post(0, lambda p: p._emit(lambda e: e.on_stream_reset(stream_id, code)))

    def stop_stream(self, stream_id: int, code: int) -> None:
        if not self.closed:
            self._post(0, lambda p: p._stop_sending(stream_id, code))

    def send_datagram(self, data: bytes) -> None:
        if not self.closed:
            self._post(len(data), lambda p: p._emit(lambda e: e.on_datagram(data)))

    def buffered_bytes(self) -> int:
        return self._outbox_bytes

    def transmit(self) -> None:
        """Nothing to do: the first write of a loop iteration already scheduled the batch's delivery."""

    def ping(self) -> None:
        """Nothing to do: an in-process pair has no idle timeout."""

    def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self._closed_locally = True
        self._post(0, lambda p: p._peer_closed(code, reason))
        if self.on_close is not None:
            self.on_close(self)

    # ---- what the peer's writes do here ----

    def _receive_control(self, data: bytes) -> None:
        if self.control_stream_id is None and not self.is_client:
            self.control_stream_id = 0
        self._emit(lambda e: e.on_control_data(data, False))

    def _stop_sending(self, stream_id: int, code: int) -> None:
        self.reset_stream(stream_id, code)  # as aioquic answers STOP_SENDING (an ended stream: nothing to do)

    def _peer_closed(self, code: int, reason: str) -> None:
        if not self.closed:
            self.closed = True
            self._emit(lambda e: e.on_closed(code, reason, True))
            if self.on_close is not None:
                self.on_close(self)


def pair() -> tuple[MemoryTransport, MemoryTransport]:
    """A connected (client, server) pair on the running loop."""
    client, server = MemoryTransport(is_client=True), MemoryTransport(is_client=False)
    client.peer, server.peer = server, client
    return client, server


class MemoryListener:
    """An in-process endpoint `memory://NAME`: each dial gives `on_session` the server end of a new pair."""

    _names = itertools.count(1)

    def __init__(self, on_session: OnSession, name: str | None = None) -> None:
        self.name = name or f"relay-{next(self._names)}"
        if self.name in _listeners:
            raise ValueError(f"memory://{self.name} is already listening")
        self.on_session = on_session
        self.live: set[MemoryTransport] = set()  # open server ends, closed with the listener
        _listeners[self.name] = self

    @property
    def url(self) -> str:
        return f"memory://{self.name}"

    def close(self) -> None:
        """Stop accepting and close every session still open, as closing a QUIC server does."""
        if _listeners.get(self.name) is self:
            del _listeners[self.name]
        for transport in list(self.live):
            transport.close(0, "listener closed")


_listeners: dict[str, MemoryListener] = {}


def listen_memory(on_session: OnSession, name: str | None = None) -> MemoryListener:
    """Accept in-process MoQT sessions at `memory://NAME` (a fresh name unless given)."""
    return MemoryListener(on_session, name)


class MemoryDialed:
    """A client's end of an in-process connection."""

    def __init__(self, transport: MemoryTransport) -> None:
        self._transport = transport

    @property
    def transport(self) -> Transport:
        return self._transport

    async def aclose(self) -> None:
        self._transport.close(0, "client closed")


async def dial_memory(name: str) -> MemoryDialed:
    """Connect to the in-process listener `name`; ConnectError if there is none (a stopped engine, say)."""
    listener = _listeners.get(name)
    if listener is None:
        raise ConnectError(f"cannot connect to memory://{name}: nothing listens there in this process")
    client, server = pair()
    listener.live.add(server)
    server.on_close = listener.live.discard
    listener.on_session(server)  # may refuse it at once (too many sessions): the client's session then sees the close
    return MemoryDialed(client)


__all__ = ["MemoryDialed", "MemoryListener", "MemoryTransport", "dial_memory", "listen_memory", "pair"]
