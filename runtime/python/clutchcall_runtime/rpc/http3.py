"""HTTP/3 for REST (aioquic): `H3Requests` assembles requests on a connection and answers them through an
`HttpApp`; `listen_rest_h3` is a listener of its own, and the engine's HTTP/3 listener (which also carries
WebTransport) feeds its non-CONNECT requests to an `H3Requests` the same way. `Http3Transport` is the
client side: one QUIC connection, one request stream per call.

Bounds: body bytes per request (413) and requests in flight per connection (503); refusals are counted.
A streamed response (a server stream's NDJSON) is pulled from its producer only while the stream holds at
most `max_unacked_bytes` the client has not acknowledged; a client that acknowledges nothing for
`stream_stall_s` is cut off (`refused["slow_reader"]`), and one that resets the stream or sends
STOP_SENDING stops the producer. The client queues at most `max_queued_chunks` unread DATA frames of a
stream, then ends the call with RESOURCE_EXHAUSTED (aioquic opens the flow-control window as data
arrives, so the queue is the client's bound).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import Counter
from collections.abc import AsyncIterator, Callable

from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.asyncio.server import QuicServer, serve
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, H3Event, HeadersReceived
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import ConnectionTerminated, QuicEvent, StopSendingReceived, StreamReset
from clutchcall import ErrorCode
from cryptography.hazmat.primitives import serialization

from ..moqt.errors import ConnectError
from ..moqt.transport import ServerTls, TlsOptions, _client_config, _close_dialed, _dial, _server_config
from .errors import ApiError
from .rest import HttpRequest, HttpResponse, error_from_http, error_response
from .server import HttpApp

_H3_REQUEST_CANCELLED = 0x10C  # RFC 9114 H3_REQUEST_CANCELLED


def peer_address(quic: QuicConnection) -> str:
    """host:port of a QUIC connection's current peer ("" before it has one)."""
    paths = quic._network_paths
    if not paths:
        return ""
    addr = paths[0].addr
    return f"{addr[0]}:{addr[1]}"


class _Pending:
    __slots__ = ("body", "headers")

    def __init__(self, headers: list[tuple[str, str]]) -> None:
        self.headers = headers
        self.body = bytearray()


class H3Requests:
    """The request streams of one HTTP/3 connection: headers and body in, one response out per stream."""

    def __init__(
        self,
        h3: H3Connection,
        transmit: Callable[[], None],
        app: HttpApp,
        *,
        max_body_bytes: int = 1 << 20,
        max_in_flight: int = 64,
        refused: Counter[str] | None = None,
        max_unacked_bytes: int = 1 << 20,
        stream_stall_s: float = 5.0,
    ) -> None:
        self.h3 = h3
        self.transmit = transmit
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_in_flight = max_in_flight
        self.max_unacked_bytes = max_unacked_bytes
        self.stream_stall_s = stream_stall_s
        self.refused: Counter[str] = refused if refused is not None else Counter()
        self._pending: dict[int, _Pending] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._transmit_pending = False

    def on_headers(self, stream_id: int, headers: list[tuple[bytes, bytes]], ended: bool) -> None:
        if len(self._pending) + len(self._tasks) >= self.max_in_flight:
            self.refused["in_flight"] += 1
            self._respond(stream_id, error_response(ApiError(ErrorCode.UNAVAILABLE, "too many requests in flight")))
            return
        self._pending[stream_id] = _Pending([(k.decode(), v.decode(errors="replace")) for k, v in headers])
        if ended:
            self._dispatch(stream_id)

    def on_data(self, stream_id: int, data: bytes, ended: bool) -> bool:
        """Take a request stream's body bytes; False when the stream is not one of these requests."""
        pending = self._pending.get(stream_id)
        if pending is None:
            return stream_id in self._tasks
        pending.body += data
        if len(pending.body) > self.max_body_bytes:
            del self._pending[stream_id]
            self.refused["body"] += 1
            response = error_response(
                ApiError(ErrorCode.INVALID_ARGUMENT, f"the body is over {self.max_body_bytes} bytes")
            )
            response.status = 413
            self._respond(stream_id, response)
        elif ended:
            self._dispatch(stream_id)
        return True

    def on_reset(self, stream_id: int) -> None:
        """The client reset its request or sent STOP_SENDING: drop the request, stop its producer, and
        reset our side of the stream."""
        self._pending.pop(stream_id, None)
        task = self._tasks.pop(stream_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(Exception):
                self.h3._quic.reset_stream(stream_id, _H3_REQUEST_CANCELLED)
                self.transmit()

    def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
        self._pending.clear()

    def _dispatch(self, stream_id: int) -> None:
        pending = self._pending.pop(stream_id)
        pseudo = dict(pending.headers)
        request = HttpRequest(
            pseudo.get(":method", ""),
            pseudo.get(":path", "/"),
            [(k, v) for k, v in pending.headers if not k.startswith(":")],
            bytes(pending.body),
            "h3",
            peer_address(self.h3._quic),
        )
        task = asyncio.get_running_loop().create_task(self._serve(stream_id, request))
        self._tasks[stream_id] = task

    async def _serve(self, stream_id: int, request: HttpRequest) -> None:
        try:
            response = await self.app(request)
            if response.stream is not None:  # still in _tasks, so a reset or STOP_SENDING cancels it
                await self._send_stream(stream_id, response, response.stream)
                return
        finally:
            self._tasks.pop(stream_id, None)
        self._respond(stream_id, response)

    def _headers(self, response: HttpResponse, framing: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        return [
            (b":status", str(response.status).encode()),
            (b"content-type", response.content_type.encode()),
            *framing,
            *((k.encode(), v.encode()) for k, v in response.headers),
        ]

    def _respond(self, stream_id: int, response: HttpResponse) -> None:
        headers = self._headers(response, [(b"content-length", str(len(response.body)).encode())])
        with contextlib.suppress(Exception):  # the client may have gone; nothing to answer then
            self.h3.send_headers(stream_id, headers)
            self.h3.send_data(stream_id, response.body, end_stream=True)
            self.transmit()

    async def _send_stream(self, stream_id: int, response: HttpResponse, stream: AsyncIterator[bytes]) -> None:
        try:
            self.h3.send_headers(stream_id, self._headers(response, []))
            self.transmit()
            async for chunk in stream:
                self.h3.send_data(stream_id, chunk, end_stream=False)
                self._transmit_soon()  # lines produced back to back leave in full packets
                if not await self._drained(stream_id):
                    self.refused["slow_reader"] += 1
                    with contextlib.suppress(Exception):
                        self.h3._quic.reset_stream(stream_id, _H3_REQUEST_CANCELLED)
                        self.transmit()
                    return
            self.h3.send_data(stream_id, b"", end_stream=True)
            self.transmit()
        except Exception:  # the stream or the connection went away under us; the producer is closed below
            pass
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()  # type: ignore[attr-defined]

    def _transmit_soon(self) -> None:
        if not self._transmit_pending:
            self._transmit_pending = True
            asyncio.get_running_loop().call_soon(self._transmit_now)

    def _transmit_now(self) -> None:
        self._transmit_pending = False
        with contextlib.suppress(Exception):
            self.transmit()

    async def _drained(self, stream_id: int) -> bool:
        """Wait while the stream holds more unacknowledged bytes than the bound; False past the stall time."""
        stream = self.h3._quic._streams.get(stream_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.stream_stall_s
        while stream is not None and len(stream.sender._buffer) > self.max_unacked_bytes:
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True


def h3_requests(
    app: HttpApp,
    *,
    max_body_bytes: int = 1 << 20,
    max_in_flight: int = 64,
    refused: Counter[str] | None = None,
    max_unacked_bytes: int = 1 << 20,
    stream_stall_s: float = 5.0,
) -> Callable[[H3Connection, Callable[[], None]], H3Requests]:
    """A factory of per-connection `H3Requests` for an HTTP/3 listener that also carries other traffic
    (`moqt.transport.listen_http3(..., requests=h3_requests(app))`); `refused` counts across connections."""
    counts: Counter[str] = refused if refused is not None else Counter()

    def make(h3: H3Connection, transmit: Callable[[], None]) -> H3Requests:
        return H3Requests(
            h3,
            transmit,
            app,
            max_body_bytes=max_body_bytes,
            max_in_flight=max_in_flight,
            refused=counts,
            max_unacked_bytes=max_unacked_bytes,
            stream_stall_s=stream_stall_s,
        )

    return make


class _RestH3Server(QuicConnectionProtocol):
    def __init__(self, quic: QuicConnection, *, app: HttpApp, refused: Counter[str], max_body_bytes: int) -> None:
        super().__init__(quic)
        self.h3 = H3Connection(quic)
        self.requests = H3Requests(self.h3, self.transmit, app, max_body_bytes=max_body_bytes, refused=refused)

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, ConnectionTerminated):
            self.requests.close()
            return
        if isinstance(event, StreamReset | StopSendingReceived):
            self.requests.on_reset(event.stream_id)
        for h3_event in self.h3.handle_event(event):
            if isinstance(h3_event, HeadersReceived):
                self.requests.on_headers(h3_event.stream_id, h3_event.headers, h3_event.stream_ended)
            elif isinstance(h3_event, DataReceived):
                self.requests.on_data(h3_event.stream_id, h3_event.data, h3_event.stream_ended)


async def listen_rest_h3(
    host: str,
    port: int,
    tls: ServerTls,
    app: HttpApp,
    *,
    idle_timeout: float = 30.0,
    max_body_bytes: int = 1 << 20,
    refused: Counter[str] | None = None,
) -> QuicServer:
    """An HTTP/3 listener answering every request through `app`."""
    config = _server_config(H3_ALPN, tls, idle_timeout)
    counts: Counter[str] = refused if refused is not None else Counter()

    def factory(quic: QuicConnection, **_: object) -> QuicConnectionProtocol:
        return _RestH3Server(quic, app=app, refused=counts, max_body_bytes=max_body_bytes)

    return await serve(host, port, configuration=config, create_protocol=factory)


# ---- client ----


def check_pin(protocol: QuicConnectionProtocol, udp: asyncio.DatagramTransport, tls: TlsOptions) -> None:
    """Close a fresh connection whose server certificate is not the pinned one (UNAUTHENTICATED, not retried)."""
    if tls.cert_sha256 is None:
        return
    cert = protocol._quic.tls._peer_certificate
    der = cert.public_bytes(serialization.Encoding.DER) if cert is not None else b""
    if hashlib.sha256(der).digest() != tls.cert_sha256:
        protocol.close()
        udp.close()
        raise ApiError(ErrorCode.UNAUTHENTICATED, "the server's certificate does not match the pinned SHA-256")


StreamItem = int | bytes | ApiError | None
"""What a streamed response's queue carries: the status, body chunks, then None (the end) or an ApiError."""


class _H3Client(QuicConnectionProtocol):
    def __init__(self, quic: QuicConnection) -> None:
        super().__init__(quic)
        self.h3 = H3Connection(quic)
        self._waiting: dict[int, tuple[asyncio.Future[tuple[int, bytes]], list[int], bytearray]] = {}
        self._streams: dict[int, asyncio.Queue[StreamItem]] = {}
        self.closed = False

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, ConnectionTerminated):
            self.closed = True
            err = ApiError(ErrorCode.UNAVAILABLE, f"connection closed: {event.reason_phrase}")
            for fut, _, _ in self._waiting.values():
                if not fut.done():
                    fut.set_exception(err)
            self._waiting.clear()
            for queue in self._streams.values():
                _end(queue, err)
            self._streams.clear()
            return
        if isinstance(event, StreamReset) and event.stream_id in self._waiting:
            fut, _, _ = self._waiting.pop(event.stream_id)
            if not fut.done():
                fut.set_exception(ApiError(ErrorCode.UNAVAILABLE, f"the server reset the stream ({event.error_code})"))
            return
        if isinstance(event, StreamReset) and event.stream_id in self._streams:
            err = ApiError(ErrorCode.UNAVAILABLE, f"the server reset the stream ({event.error_code})")
            _end(self._streams.pop(event.stream_id), err)
            return
        for h3_event in self.h3.handle_event(event):
            self._h3_event(h3_event)

    def _stream_event(self, event: HeadersReceived | DataReceived, queue: asyncio.Queue[StreamItem]) -> None:
        if isinstance(event, HeadersReceived):
            item: StreamItem = int(dict(event.headers).get(b":status", b"0") or 0)
        else:
            item = event.data
        if queue.qsize() >= queue.maxsize - 1:  # the reader fell behind: end its call rather than buffer on
            self.cancel_stream(event.stream_id)
            _end(queue, ApiError(ErrorCode.RESOURCE_EXHAUSTED, "the stream's data arrived faster than it was read"))
            return
        if item != b"":
            queue.put_nowait(item)
        if event.stream_ended:
            self._streams.pop(event.stream_id, None)
            queue.put_nowait(None)

    def _h3_event(self, event: H3Event) -> None:
        if not isinstance(event, HeadersReceived | DataReceived):
            return
        queue = self._streams.get(event.stream_id)
        if queue is not None:
            self._stream_event(event, queue)
            return
        entry = self._waiting.get(event.stream_id)
        if entry is None:
            return
        fut, status, body = entry
        if isinstance(event, HeadersReceived):
            status[0] = int(dict(event.headers).get(b":status", b"0") or 0)
        else:
            body += event.data
        if event.stream_ended:
            del self._waiting[event.stream_id]
            if not fut.done():
                fut.set_result((status[0], bytes(body)))

    def open_stream(
        self,
        authority: str,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        max_queued: int,
    ) -> tuple[int, asyncio.Queue[StreamItem]]:
        """Send a request whose response is read as it arrives, through the returned bounded queue."""
        if self.closed:
            raise ApiError(ErrorCode.UNAVAILABLE, "the connection is closed")
        stream_id = self._quic.get_next_available_stream_id()
        queue: asyncio.Queue[StreamItem] = asyncio.Queue(max_queued + 2)  # room for the status and the end
        self._streams[stream_id] = queue
        self._send_request(stream_id, authority, method, target, headers, body)
        return stream_id, queue

    def cancel_stream(self, stream_id: int) -> None:
        """Give up on a streamed response: STOP_SENDING and a reset tell the server to stop producing."""
        if self._streams.pop(stream_id, None) is not None and not self.closed:
            with contextlib.suppress(Exception):
                self._quic.stop_stream(stream_id, _H3_REQUEST_CANCELLED)
            with contextlib.suppress(Exception):
                self._quic.reset_stream(stream_id, _H3_REQUEST_CANCELLED)
            self.transmit()

    def _send_request(
        self,
        stream_id: int,
        authority: str,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
    ) -> None:
        self.h3.send_headers(
            stream_id,
            [
                (b":method", method.encode()),
                (b":scheme", b"https"),
                (b":authority", authority.encode()),
                (b":path", target.encode()),
                *((k.encode(), v.encode()) for k, v in headers),
            ],
            end_stream=not body,
        )
        if body:
            self.h3.send_data(stream_id, body, end_stream=True)
        self.transmit()

    async def request(
        self, authority: str, method: str, target: str, headers: list[tuple[str, str]], body: bytes | None
    ) -> tuple[int, bytes]:
        stream_id = self._quic.get_next_available_stream_id()
        fut: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        self._waiting[stream_id] = (fut, [0], bytearray())
        self._send_request(stream_id, authority, method, target, headers, body)
        try:
            return await fut
        finally:
            self._waiting.pop(stream_id, None)


class Http3Transport:
    """Client side: one QUIC connection (made on first use, remade after it closes), a stream per request."""

    def __init__(
        self, host: str, port: int, tls: TlsOptions, *, connect_timeout_s: float = 5.0, max_queued_chunks: int = 1024
    ) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.connect_timeout_s = connect_timeout_s
        self.max_queued_chunks = max_queued_chunks
        self._conn: tuple[_H3Client, asyncio.DatagramTransport] | None = None
        self._lock = asyncio.Lock()

    async def _connection(self) -> _H3Client:
        async with self._lock:
            if self._conn is None or self._conn[0].closed:
                config = _client_config(H3_ALPN, self.host, self.tls, 30.0)
                try:
                    protocol, udp = await _dial(self.host, self.port, config, _H3Client, self.connect_timeout_s)
                except ConnectError as exc:
                    raise ApiError(ErrorCode.UNAVAILABLE, str(exc)) from None
                assert isinstance(protocol, _H3Client)
                check_pin(protocol, udp, self.tls)
                self._conn = (protocol, udp)
            return self._conn[0]

    async def request(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes | None
    ) -> tuple[int, bytes]:
        conn = await self._connection()
        return await conn.request(f"{self.host}:{self.port}", method, target, headers, body)

    async def stream(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes | None
    ) -> AsyncIterator[bytes]:
        """A 200 response's body as it arrives; any other status raises its ApiError. Closing the iterator
        early cancels the request stream (STOP_SENDING), which stops the server's producer."""
        conn = await self._connection()
        stream_id, queue = conn.open_stream(
            f"{self.host}:{self.port}", method, target, headers, body, self.max_queued_chunks
        )
        try:
            status = await queue.get()
            if not isinstance(status, int):
                raise status if isinstance(status, ApiError) else ApiError(ErrorCode.UNAVAILABLE, "no response")
            error_body = bytearray()
            while (item := await queue.get()) is not None:
                if isinstance(item, ApiError):
                    raise item
                assert isinstance(item, bytes)
                if status == 200:
                    yield item
                elif len(error_body) < 64 * 1024:
                    error_body += item
            if status != 200:
                raise error_from_http(status, bytes(error_body))
        finally:
            conn.cancel_stream(stream_id)

    async def aclose(self) -> None:
        if self._conn is not None:
            protocol, udp = self._conn
            self._conn = None
            await _close_dialed(protocol, udp)


def _end(queue: asyncio.Queue[StreamItem], err: ApiError) -> None:
    """End a streamed response with `err`, making room for it in a full queue (the reader sees it next)."""
    while queue.full():
        queue.get_nowait()
    queue.put_nowait(err)
