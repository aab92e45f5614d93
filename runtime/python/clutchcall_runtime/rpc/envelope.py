"""The legacy envelope RPC over QUIC (ALPN from the IDL: `clutchcall.wire.envelope.ALPN`).

Per the IDL, each call is one client-initiated bidirectional stream: request envelope(s), the last with
flag `final`; the answer is one response or error envelope (server streaming: event envelopes, then a
final response with an empty payload, or an error), then the server ends the stream.

The tenant token travels once per connection, before any call, as the IDL's envelope `auth` declares
(`clutchcall.services.ENVELOPE_AUTH`): the client's first stream carries a request envelope with its
method ID (no method may have it; the compiler checks) whose payload is the token in UTF-8; the server
answers an empty response, or an error (UNAUTHENTICATED) and closes the connection. Until then every
call is refused with UNAUTHENTICATED.

Bounds (server): connections, calls in flight per connection, bytes buffered per stream (the parser's
limit), queued client-stream requests, and unacknowledged bytes per server stream (a subscriber that
does not read is cut off, counted in `refused`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from typing import Any

from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.asyncio.server import QuicServer, serve
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import (
    ConnectionTerminated,
    QuicEvent,
    StopSendingReceived,
    StreamDataReceived,
    StreamReset,
)
from clutchcall import ErrorCode, ErrorStatus, Message
from clutchcall.errors import DecodeError
from clutchcall.services import ENVELOPE_AUTH, MethodDescriptor
from clutchcall.wire import envelope as wire

from ..moqt.errors import ConnectError
from ..moqt.transport import ServerTls, TlsOptions, _client_config, _close_dialed, _dial, _server_config
from .errors import ApiError
from .http3 import check_pin, peer_address
from .server import Dispatcher, Endpoint, RequestContext

log = logging.getLogger("clutchcall.rpc.envelope")

if ENVELOPE_AUTH is None or ENVELOPE_AUTH.token != "utf8_payload":
    raise ImportError(f"this runtime sends the envelope token as a UTF-8 payload; the IDL declares {ENVELOPE_AUTH}")
AUTH_METHOD_ID = ENVELOPE_AUTH.method_id
ALPN = wire.ALPN or "clutchcall-rpc/1"
Kind = wire.EnvelopeKind
FINAL = wire.EnvelopeFlag.FINAL
# QUIC application error codes of this protocol's connection closes.
CLOSE_UNAUTHENTICATED = 0x1
CLOSE_PROTOCOL_ERROR = 0x2
_MAX_PAYLOAD = 16 * 1024 * 1024


def envelope(
    kind: wire.EnvelopeKind, method_id: int, request_id: int, payload: bytes = b"", final: bool = True
) -> bytes:
    return wire.Envelope(
        kind=kind, flags=FINAL if final else 0, method_id=method_id, request_id=request_id, payload=payload
    ).encode()


def error_envelope(err: ApiError, method_id: int, request_id: int) -> bytes:
    return envelope(Kind.ERROR, method_id, request_id, err.to_status().encode())


@dataclass(frozen=True, slots=True)
class EnvelopeLimits:
    max_connections: int = 1024
    max_calls_per_connection: int = 128
    max_stream_buffer_bytes: int = _MAX_PAYLOAD + 64
    max_queued_requests: int = 64
    max_unacked_bytes: int = 4 << 20
    unacked_wait_s: float = 5.0


class _Call:
    """One call stream on the server."""

    __slots__ = ("method_id", "over_limit", "parser", "queue", "request_id", "task")

    def __init__(self, max_buffer: int) -> None:
        self.over_limit = False
        self.parser = wire.RpcParser(max_buffer)
        self.task: asyncio.Task[None] | None = None
        self.queue: asyncio.Queue[wire.Envelope | None] | None = None
        self.method_id = -1
        self.request_id = 0


class _EnvelopeServerConnection(QuicConnectionProtocol):
    def __init__(self, quic: QuicConnection, *, server: EnvelopeServer) -> None:
        super().__init__(quic)
        self.server = server
        self.calls: dict[int, _Call] = {}
        self.token: str | None = None
        self.principal: object | None = None
        self.authenticated = False
        self.counted = False
        self.transmit_pending = False

    # ---- events ----

    def quic_event_received(self, event: QuicEvent) -> None:
        if not self.counted:
            self.counted = True
            if not self.server._admit(self):
                return
        if isinstance(event, StreamDataReceived):
            self._data(event.stream_id, event.data, event.end_stream)
        elif isinstance(event, StreamReset | StopSendingReceived):  # the client gave up on the call
            call = self.calls.pop(event.stream_id, None)
            if call is not None and call.task is not None:
                call.task.cancel()
            if isinstance(event, StopSendingReceived):
                with contextlib.suppress(Exception):
                    self._quic.reset_stream(event.stream_id, event.error_code)
                    self.transmit()
        elif isinstance(event, ConnectionTerminated):
            for call in self.calls.values():
                if call.task is not None:
                    call.task.cancel()
            self.calls.clear()
            self.server._left(self)

    def _data(self, stream_id: int, data: bytes, end: bool) -> None:
        if stream_id & 2:  # unidirectional streams from a client carry nothing in this protocol
            return
        call = self.calls.get(stream_id)
        if call is None:
            call = _Call(self.server.limits.max_stream_buffer_bytes)
            # Over the bound, the stream is still parsed up to its first envelope, to answer with its IDs.
            call.over_limit = len(self.calls) >= self.server.limits.max_calls_per_connection
            self.calls[stream_id] = call
        try:
            envelopes = call.parser.feed(data)
            if end:
                call.parser.close()
        except DecodeError as exc:
            self.server.refused["malformed"] += 1
            self._refuse(stream_id, ApiError(ErrorCode.INVALID_ARGUMENT, f"bad envelope: {exc}"), call.method_id, 0)
            return
        for env in envelopes:
            if self.calls.get(stream_id) is not call:  # refused or answered: the rest of the stream is moot
                return
            self._envelope(stream_id, call, env)
        if end and call.queue is None and call.task is None and stream_id in self.calls:
            self._refuse(stream_id, ApiError(ErrorCode.INVALID_ARGUMENT, "the stream ended before a request"), 0, 0)

    def _envelope(self, stream_id: int, call: _Call, env: wire.Envelope) -> None:
        if call.over_limit:
            self.server.refused["calls_in_flight"] += 1
            err = ApiError(ErrorCode.RESOURCE_EXHAUSTED, "too many calls in flight on this connection")
            self._refuse(stream_id, err, env.method_id, env.request_id)
            return
        if env.kind != Kind.REQUEST or (call.method_id >= 0 and env.method_id != call.method_id):
            self.server.refused["malformed"] += 1
            err = ApiError(ErrorCode.INVALID_ARGUMENT, "expected a request envelope of this stream's method")
            self._refuse(stream_id, err, env.method_id, env.request_id)
            return
        if call.queue is not None:  # client streaming: later requests
            if call.queue.qsize() >= self.server.limits.max_queued_requests:
                self.server.refused["queued_requests"] += 1
                err = ApiError(ErrorCode.RESOURCE_EXHAUSTED, "too many requests queued on this stream")
                self._refuse(stream_id, err, env.method_id, env.request_id)
                return
            call.queue.put_nowait(env)
            if env.flags & FINAL:
                call.queue.put_nowait(None)
            return
        if call.task is not None:
            err = ApiError(ErrorCode.INVALID_ARGUMENT, "a request after the final one")
            self._refuse(stream_id, err, env.method_id, env.request_id)
            return
        call.method_id, call.request_id = env.method_id, env.request_id
        if env.method_id == AUTH_METHOD_ID:
            call.task = self._spawn(self._authenticate(stream_id, env))
            return
        try:
            if not self.authenticated:
                raise ApiError(ErrorCode.UNAUTHENTICATED, f"send the token (method {AUTH_METHOD_ID}) before any call")
            ep = self.server.dispatcher.endpoint(env.method_id)
        except ApiError as err:
            self._refuse(stream_id, self.server.dispatcher.count(err), env.method_id, env.request_id)
            return
        ctx = RequestContext(ep.method, "envelope", self.token, self.principal, peer_address(self._quic))
        if ep.method.streaming == "client":
            call.queue = asyncio.Queue(self.server.limits.max_queued_requests + 2)  # room for the end marker
            call.queue.put_nowait(env)
            if env.flags & FINAL:
                call.queue.put_nowait(None)
            call.task = self._spawn(self._client_stream(stream_id, call, ep, ctx))
        elif not env.flags & FINAL:
            self._refuse(stream_id, ApiError(ErrorCode.INVALID_ARGUMENT, "a unary request must be final"), 0, 0)
        elif ep.method.streaming == "server":
            call.task = self._spawn(self._server_stream(stream_id, env, ep, ctx))
        else:
            call.task = self._spawn(self._unary(stream_id, env, ep, ctx))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(coro)

    # ---- calls ----

    async def _authenticate(self, stream_id: int, env: wire.Envelope) -> None:
        try:
            token = env.payload.decode() if env.payload else None
            self.principal = await self.server.dispatcher.authenticate(token)
        except (ApiError, UnicodeDecodeError) as exc:
            err = exc if isinstance(exc, ApiError) else ApiError(ErrorCode.UNAUTHENTICATED, "the token is not UTF-8")
            self._send(stream_id, error_envelope(self.server.dispatcher.count(err), AUTH_METHOD_ID, env.request_id))
            self._quic.close(error_code=CLOSE_UNAUTHENTICATED, reason_phrase=err.message[:200])
            self.transmit()
            return
        self.token, self.authenticated = token, True
        self._send(stream_id, envelope(Kind.RESPONSE, AUTH_METHOD_ID, env.request_id))

    def _decode(self, method: MethodDescriptor, env: wire.Envelope) -> Message:
        return method.request_type.decode(env.payload)

    async def _unary(self, stream_id: int, env: wire.Envelope, ep: Endpoint, ctx: RequestContext) -> None:
        method = ep.method
        try:
            response: Message = await ep.fn(self._decode(method, env), ctx)
            out = envelope(Kind.RESPONSE, env.method_id, env.request_id, response.encode())
        except Exception as exc:
            out = error_envelope(self.server.dispatcher.as_api_error(exc, method), env.method_id, env.request_id)
        self._send(stream_id, out)

    async def _server_stream(self, stream_id: int, env: wire.Envelope, ep: Endpoint, ctx: RequestContext) -> None:
        method = ep.method
        events: AsyncIterator[Message] | None = None
        try:
            events = ep.fn(self._decode(method, env), ctx)
            assert events is not None
            async for event in events:
                self._send(
                    stream_id,
                    envelope(Kind.EVENT, env.method_id, env.request_id, event.encode(), final=False),
                    end=False,
                    now=False,  # events produced back to back leave in full packets
                )
                await self._drained(stream_id)
            out = envelope(Kind.RESPONSE, env.method_id, env.request_id)
        except _Behind:
            self.server.refused["slow_subscriber"] += 1
            out = error_envelope(
                ApiError(ErrorCode.RESOURCE_EXHAUSTED, "the stream's reader fell behind"), env.method_id, env.request_id
            )
        except Exception as exc:
            out = error_envelope(self.server.dispatcher.as_api_error(exc, method), env.method_id, env.request_id)
        finally:
            if events is not None and hasattr(events, "aclose"):
                with contextlib.suppress(Exception):
                    await events.aclose()
        self._send(stream_id, out)

    async def _drained(self, stream_id: int) -> None:
        """Wait while the stream holds more unacknowledged bytes than the bound; _Behind past the wait."""
        limits = self.server.limits
        stream = self._quic._streams.get(stream_id)
        if stream is None:
            return
        deadline = asyncio.get_running_loop().time() + limits.unacked_wait_s
        while len(stream.sender._buffer) > limits.max_unacked_bytes:
            if asyncio.get_running_loop().time() > deadline:
                raise _Behind
            await asyncio.sleep(0.01)

    async def _client_stream(self, stream_id: int, call: _Call, ep: Endpoint, ctx: RequestContext) -> None:
        method = ep.method
        queue = call.queue
        assert queue is not None

        async def requests() -> AsyncIterator[Message]:
            while (env := await queue.get()) is not None:
                yield self._decode(method, env)

        try:
            response: Message = await ep.fn(requests(), ctx)
            out = envelope(Kind.RESPONSE, call.method_id, call.request_id, response.encode())
        except Exception as exc:
            out = error_envelope(self.server.dispatcher.as_api_error(exc, method), call.method_id, call.request_id)
        self._send(stream_id, out)

    # ---- output ----

    def _send(self, stream_id: int, data: bytes, end: bool = True, now: bool = True) -> None:
        if end:
            self.calls.pop(stream_id, None)
        with contextlib.suppress(Exception):  # the stream or the connection may be gone
            self._quic.send_stream_data(stream_id, data, end_stream=end)
            if now:
                self.transmit()
            elif not self.transmit_pending:
                self.transmit_pending = True
                asyncio.get_running_loop().call_soon(self._transmit_now)

    def _transmit_now(self) -> None:
        self.transmit_pending = False
        with contextlib.suppress(Exception):
            self.transmit()

    def _refuse(self, stream_id: int, err: ApiError, method_id: int, request_id: int) -> None:
        call = self.calls.pop(stream_id, None)
        if call is not None and call.task is not None:
            call.task.cancel()
        self._send(stream_id, error_envelope(err, max(method_id, 0), request_id))


class _Behind(Exception):
    pass


class EnvelopeServer:
    """The envelope RPC listener: `await start(host, port, tls)`, `port`, `await stop()`."""

    def __init__(
        self, dispatcher: Dispatcher, *, limits: EnvelopeLimits | None = None, idle_timeout_s: float = 60.0
    ) -> None:
        self.dispatcher = dispatcher
        self.limits = limits or EnvelopeLimits()
        self.idle_timeout_s = idle_timeout_s
        self.refused: Counter[str] = Counter()
        """Connections, calls and streams refused by a bound, by reason."""
        self.connections: set[_EnvelopeServerConnection] = set()
        self._server: QuicServer | None = None
        self.port = 0

    async def start(self, host: str, port: int, tls: ServerTls) -> None:
        config = _server_config([ALPN], tls, self.idle_timeout_s)

        def factory(quic: QuicConnection, **_: object) -> QuicConnectionProtocol:
            return _EnvelopeServerConnection(quic, server=self)

        self._server = await serve(host, port, configuration=config, create_protocol=factory)
        assert self._server._transport is not None
        self.port = self._server._transport.get_extra_info("sockname")[1]

    def _admit(self, conn: _EnvelopeServerConnection) -> bool:
        if len(self.connections) >= self.limits.max_connections:
            self.refused["connections"] += 1
            conn._quic.close(error_code=CLOSE_PROTOCOL_ERROR, reason_phrase="too many connections")
            conn.transmit()
            return False
        self.connections.add(conn)
        return True

    def _left(self, conn: _EnvelopeServerConnection) -> None:
        self.connections.discard(conn)

    async def stop(self) -> None:
        for conn in list(self.connections):
            conn.close()
        self.connections.clear()
        if self._server is not None:
            self._server.close()
            self._server = None


# ---- client ----


class _Answer:
    __slots__ = ("queue",)

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[wire.Envelope | ApiError] = asyncio.Queue(size)


class _EnvelopeClientConnection(QuicConnectionProtocol):
    def __init__(self, quic: QuicConnection) -> None:
        super().__init__(quic)
        self.closed = False
        self._answers: dict[int, tuple[_Answer, wire.RpcParser]] = {}
        self._next_request_id = 1

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, StreamDataReceived):
            entry = self._answers.get(event.stream_id)
            if entry is None:
                return
            answer, parser = entry
            try:
                items: list[wire.Envelope | ApiError] = list(parser.feed(event.data))
                if event.end_stream:
                    parser.close()
            except DecodeError as exc:
                items = [ApiError(ErrorCode.INTERNAL, f"the server sent a bad envelope: {exc}")]
            for item in items:
                if answer.queue.full():  # the caller stopped reading: end its call instead of buffering without bound
                    self._answers.pop(event.stream_id, None)
                    with contextlib.suppress(asyncio.QueueEmpty):
                        answer.queue.get_nowait()
                    answer.queue.put_nowait(ApiError(ErrorCode.RESOURCE_EXHAUSTED, "events arrived faster than read"))
                    break
                answer.queue.put_nowait(item)
            if event.end_stream:
                self._answers.pop(event.stream_id, None)
        elif isinstance(event, StreamReset):
            entry = self._answers.pop(event.stream_id, None)
            if entry is not None and not entry[0].queue.full():
                entry[0].queue.put_nowait(ApiError(ErrorCode.UNAVAILABLE, "the server reset the stream"))
        elif isinstance(event, ConnectionTerminated):
            self.closed = True
            err = ApiError(ErrorCode.UNAVAILABLE, f"connection closed: {event.reason_phrase or event.error_code}")
            if event.error_code == CLOSE_UNAUTHENTICATED:
                err = ApiError(ErrorCode.UNAUTHENTICATED, event.reason_phrase)
            for answer, _ in self._answers.values():
                with contextlib.suppress(asyncio.QueueFull):
                    answer.queue.put_nowait(err)
            self._answers.clear()

    def open(self, max_answers: int) -> tuple[int, int, _Answer]:
        if self.closed:
            raise ApiError(ErrorCode.UNAVAILABLE, "the connection is closed")
        stream_id = self._quic.get_next_available_stream_id()
        request_id, self._next_request_id = self._next_request_id, self._next_request_id + 1
        answer = _Answer(max_answers)
        self._answers[stream_id] = (answer, wire.RpcParser(_MAX_PAYLOAD + 64))
        return stream_id, request_id, answer

    def write(self, stream_id: int, data: bytes, end: bool) -> None:
        self._quic.send_stream_data(stream_id, data, end_stream=end)
        self.transmit()

    def cancel(self, stream_id: int) -> None:
        """Give up on an unfinished call: STOP_SENDING tells the server to end it (our side is usually done)."""
        if self._answers.pop(stream_id, None) is not None and not self.closed:
            with contextlib.suppress(Exception):
                self._quic.stop_stream(stream_id, 0)
            with contextlib.suppress(Exception):
                self._quic.reset_stream(stream_id, 0)
            self.transmit()


async def _answer(answer: _Answer, method_id: int, request_id: int) -> wire.Envelope:
    item = await answer.queue.get()
    if isinstance(item, ApiError):
        raise item
    if item.request_id != request_id or item.method_id != method_id:
        raise ApiError(
            ErrorCode.INTERNAL, f"the server answered request {item.request_id} on request {request_id}'s stream"
        )
    if item.kind == Kind.ERROR:
        try:
            raise ApiError.from_status(ErrorStatus.decode(item.payload))
        except DecodeError as exc:
            raise ApiError(ErrorCode.INTERNAL, f"the server's ErrorStatus does not decode: {exc}") from None
    return item


class EnvelopeTransport:
    """Client side: one QUIC connection (made and authenticated on first use, remade after it closes)."""

    def __init__(
        self,
        host: str,
        port: int,
        tls: TlsOptions,
        token: str | None,
        *,
        connect_timeout_s: float = 5.0,
        max_queued_events: int = 1024,
    ) -> None:
        self.host, self.port, self.tls, self.token = host, port, tls, token
        self.connect_timeout_s = connect_timeout_s
        self.max_queued_events = max_queued_events
        self._conn: tuple[_EnvelopeClientConnection, asyncio.DatagramTransport] | None = None
        self._lock = asyncio.Lock()

    async def _connection(self) -> _EnvelopeClientConnection:
        async with self._lock:
            if self._conn is not None and not self._conn[0].closed:
                return self._conn[0]
            config = _client_config([ALPN], self.host, self.tls, 60.0)
            try:
                protocol, udp = await _dial(
                    self.host, self.port, config, _EnvelopeClientConnection, self.connect_timeout_s
                )
            except ConnectError as exc:
                raise ApiError(ErrorCode.UNAVAILABLE, str(exc)) from None
            assert isinstance(protocol, _EnvelopeClientConnection)
            check_pin(protocol, udp, self.tls)
            stream_id, request_id, answer = protocol.open(2)
            protocol.write(
                stream_id, envelope(Kind.REQUEST, AUTH_METHOD_ID, request_id, (self.token or "").encode()), True
            )
            try:
                async with asyncio.timeout(self.connect_timeout_s):
                    await _answer(answer, AUTH_METHOD_ID, request_id)
            except BaseException:
                protocol.close()
                udp.close()
                raise
            self._conn = (protocol, udp)
            return protocol

    async def unary(self, method: MethodDescriptor, request: Message) -> Message:
        conn = await self._connection()
        stream_id, request_id, answer = conn.open(2)
        try:
            conn.write(stream_id, envelope(Kind.REQUEST, method.id, request_id, request.encode()), True)
            env = await _answer(answer, method.id, request_id)
            return _decode_response(method, env.payload)
        finally:
            conn.cancel(stream_id)

    async def server_stream(self, method: MethodDescriptor, request: Message) -> AsyncIterator[Message]:
        conn = await self._connection()
        stream_id, request_id, answer = conn.open(self.max_queued_events)
        try:
            conn.write(stream_id, envelope(Kind.REQUEST, method.id, request_id, request.encode()), True)
            while True:
                env = await _answer(answer, method.id, request_id)
                if env.kind != Kind.EVENT:
                    return
                yield _decode_response(method, env.payload)
        finally:
            conn.cancel(stream_id)

    async def client_stream(self, method: MethodDescriptor, requests: AsyncIterator[Message]) -> Message:
        conn = await self._connection()
        stream_id, request_id, answer = conn.open(2)
        try:
            pending: Message | None = None
            async for request in requests:
                if pending is not None:
                    conn.write(
                        stream_id, envelope(Kind.REQUEST, method.id, request_id, pending.encode(), final=False), False
                    )
                pending = request
            last = (pending or method.request_type()).encode()
            conn.write(stream_id, envelope(Kind.REQUEST, method.id, request_id, last), True)
            env = await _answer(answer, method.id, request_id)
            return _decode_response(method, env.payload)
        finally:
            conn.cancel(stream_id)

    async def aclose(self) -> None:
        if self._conn is not None:
            protocol, udp = self._conn
            self._conn = None
            await _close_dialed(protocol, udp)


def _decode_response(method: MethodDescriptor, payload: bytes) -> Message:
    try:
        return method.response_type.decode(payload)
    except DecodeError as exc:
        raise ApiError(
            ErrorCode.INTERNAL, f"the server's {method.response_type.__name__} does not decode: {exc}"
        ) from None
