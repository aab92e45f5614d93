"""The session's view of a connection: raw QUIC (ALPN moq-00) or WebTransport over HTTP/3 (aioquic).

A `Transport` offers what a MoQT session needs (one bidirectional control stream, unidirectional
data streams, datagrams, close with a code) and reports what arrives to a `TransportEvents`
sink, the session. The session never sees aioquic, so both roles and both ways in share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import socket
import ssl
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from aioquic._buffer import Buffer, BufferReadError
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.asyncio.server import QuicServer, serve
from aioquic.buffer import encode_uint_var
from aioquic.h3.connection import H3_ALPN, FrameType, H3Connection
from aioquic.h3.events import DatagramReceived, DataReceived, H3Event, HeadersReceived, WebTransportStreamDataReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import (
    ConnectionTerminated,
    DatagramFrameReceived,
    QuicEvent,
    StopSendingReceived,
    StreamDataReceived,
    StreamReset,
)
from aioquic.quic.packet_builder import QuicPacketBuilder
from aioquic.quic.stream import QuicStream

from .errors import ConnectError
from .versions import WEBTRANSPORT_PATH

log = logging.getLogger("clutchcall.moqt.transport")

# CLOSE_WEBTRANSPORT_SESSION capsule (draft-ietf-webtrans-http3): carries the MoQT termination code.
_CLOSE_WEBTRANSPORT_SESSION = 0x2843
# HTTP/3 H3_NO_ERROR, for the QUIC close that follows a WebTransport session's capsule.
_H3_NO_ERROR = 0x100
# aioquic DATAGRAM frames: the draft requires the extension; 64 KiB is aioquic's own ceiling.
MAX_DATAGRAM_FRAME_SIZE = 65536


class TransportEvents(Protocol):
    """What a transport reports; implemented by the session."""

    def on_control_data(self, data: bytes, end: bool) -> None: ...
    def on_uni_stream_data(self, stream_id: int, data: bytes, end: bool) -> None: ...
    def on_stream_reset(self, stream_id: int, code: int) -> None: ...
    def on_datagram(self, data: bytes) -> None: ...
    def on_writable(self) -> None: ...
    def on_closed(self, code: int, reason: str, by_peer: bool) -> None: ...
    def on_protocol_error(self, reason: str) -> None: ...


class Transport(ABC):
    """One MoQT session's connection: QUIC, WebTransport, or in-process (`memory.py`).

    Writes are buffered until `transmit()` (or the transport's own next send) puts them on the way."""

    kind: str
    is_client: bool

    def __init__(self) -> None:
        self.events: TransportEvents | None = None
        self.control_stream_id: int | None = None
        self.closed = False
        self.stopped_writes = 0  # writes refused because the peer had stopped the stream
        self._pending_events: list[Callable[[TransportEvents], None]] = []

    def attach(self, events: TransportEvents) -> None:
        """Start reporting to `events`, replaying anything that arrived before."""
        self.events = events
        pending, self._pending_events = self._pending_events, []
        for deliver in pending:
            deliver(events)

    def _emit(self, deliver: Callable[[TransportEvents], None]) -> None:
        if self.events is None:
            self._pending_events.append(deliver)
        else:
            deliver(self.events)

    @abstractmethod
    def open_control_stream(self) -> None:
        """Client: open the control stream (the first bidirectional stream)."""

    @abstractmethod
    def open_uni_stream(self) -> int: ...

    @abstractmethod
    def send_datagram(self, data: bytes) -> None: ...

    @abstractmethod
    def close(self, code: int, reason: str) -> None:
        """Close the session with the draft's termination code."""

    @abstractmethod
    def send_control(self, data: bytes) -> None: ...

    @abstractmethod
    def send_stream(self, stream_id: int, data: bytes, end: bool = False) -> bool:
        """Write to a stream; False if the peer stopped it (or it was already finished or reset)."""

    @abstractmethod
    def reset_stream(self, stream_id: int, code: int) -> None: ...

    @abstractmethod
    def stop_stream(self, stream_id: int, code: int) -> None: ...

    @abstractmethod
    def buffered_bytes(self) -> int:
        """Bytes written and not yet delivered: the session's scheduler stops writing past its budget."""

    @abstractmethod
    def transmit(self) -> None: ...

    @abstractmethod
    def ping(self) -> None:
        """Keep an idle but wanted session (a subscriber waiting for its publisher) alive."""

    @property
    def peer_certificate_sha256(self) -> bytes | None:
        return None


class _AioquicTransport(Transport):
    """What QUIC and WebTransport share: writes buffered by aioquic until `transmit()` sends them."""

    def __init__(self, protocol: QuicConnectionProtocol) -> None:
        super().__init__()
        self.protocol = protocol
        self.quic: QuicConnection = protocol._quic

    def send_control(self, data: bytes) -> None:
        if self.control_stream_id is None or self.closed:
            return
        self.quic.send_stream_data(self.control_stream_id, data)

    def send_stream(self, stream_id: int, data: bytes, end: bool = False) -> bool:
        """Write to a stream; False if the peer stopped it (STOP_SENDING makes aioquic reset it)."""
        if self.closed:
            return False
        try:
            self.quic.send_stream_data(stream_id, data, end_stream=end)
        except RuntimeError:  # "after the stream was reset" or "after FIN"
            self.stopped_writes += 1
            return False
        return True

    def reset_stream(self, stream_id: int, code: int) -> None:
        if not self.closed:
            with contextlib.suppress(ValueError, AssertionError):
                self.quic.reset_stream(stream_id, code)

    def stop_stream(self, stream_id: int, code: int) -> None:
        if not self.closed:
            with contextlib.suppress(ValueError, AssertionError):
                self.quic.stop_stream(stream_id, code)

    def buffered_bytes(self) -> int:
        """Bytes written to streams and not yet acknowledged, plus datagrams not yet sent: what aioquic holds.

        aioquic buffers stream writes without bound, so the session's scheduler stops writing
        once this passes its budget. The sender's buffer is private; no public view exists.
        """
        streams = sum(len(s.sender._buffer) for s in self.quic._streams.values())
        return streams + sum(len(d) for d in self.quic._datagrams_pending)

    def transmit(self) -> None:
        if not self.closed:
            self.protocol.transmit()

    def ping(self) -> None:
        """A QUIC PING."""
        if not self.closed:
            self.quic.send_ping(0)
            self.protocol.transmit()

    @property
    def peer_certificate_sha256(self) -> bytes | None:
        cert = self.quic.tls._peer_certificate
        if cert is None:
            return None
        from cryptography.hazmat.primitives.serialization import Encoding

        return hashlib.sha256(cert.public_bytes(Encoding.DER)).digest()

    def _terminated(self, event: ConnectionTerminated) -> None:
        if not self.closed:
            self.closed = True
            self._emit(lambda e: e.on_closed(event.error_code, event.reason_phrase, True))


# ---- aioquic's connection, as MoQT uses it ----

# Unidirectional streams a peer may have open at once, unless the caller says otherwise; also the default of the
# session's own bound (SessionLimits.max_inbound_streams). MoQT opens one per subgroup, so a connection carrying
# more tracks than aioquic's default of 128 would otherwise have the excess wait, unseen, for another to close.
DEFAULT_MAX_UNI_STREAMS = 256
# HTTP/3's own unidirectional streams (control, QPACK encoder and decoder) come out of the same limit.
_H3_OWN_UNI_STREAMS = 3


class _Connection(QuicConnection):
    """aioquic's connection with RESET_STREAM held for a stream the peer's MAX_STREAMS does not allow yet.

    aioquic 1.7 writes RESET_STREAM for a stream it still holds blocked, and the peer must answer a frame
    for a stream beyond its limit by closing the connection with STREAM_LIMIT_ERROR (RFC 9000 4.6). The
    relay resets a subgroup's stream when its queue bound drops the group, so one such reset killed
    every track on the connection. Held, the reset goes out once the stream is allowed (it never carried
    data, so its final size is 0).
    """

    def _write_reset_stream_frame(self, builder: QuicPacketBuilder, stream: QuicStream) -> None:
        if stream.is_blocked:
            return  # reset_pending stays set: the next packet after MAX_STREAMS carries it
        super()._write_reset_stream_frame(builder=builder, stream=stream)


def _adopt(quic: QuicConnection, max_uni_streams: int) -> None:
    """Make an aioquic connection (ours or one aioquic's server made) a `_Connection` allowing `max_uni_streams`
    peer streams; before the handshake, whose transport parameters announce the limit."""
    quic.__class__ = _Connection
    limit = quic._local_max_streams_uni
    limit.value = limit.sent = max_uni_streams  # the transport parameters announce it: no MAX_STREAMS needed


# ---- raw QUIC ----


class QuicTransport(_AioquicTransport):
    """MoQT directly on QUIC: the control stream is the client's first bidirectional stream."""

    kind = "quic"

    def __init__(self, protocol: QuicConnectionProtocol, is_client: bool) -> None:
        super().__init__(protocol)
        self.is_client = is_client

    def open_control_stream(self) -> None:
        self.control_stream_id = self.quic.get_next_available_stream_id(is_unidirectional=False)

    def open_uni_stream(self) -> int:
        return self.quic.get_next_available_stream_id(is_unidirectional=True)

    def send_datagram(self, data: bytes) -> None:
        if not self.closed:
            self.quic.send_datagram_frame(data)

    def close(self, code: int, reason: str) -> None:
        if not self.closed:
            self.closed = True
            self.quic.close(error_code=code, reason_phrase=reason)
            self.protocol.transmit()

    def handle(self, event: QuicEvent) -> None:
        if isinstance(event, StreamDataReceived):
            sid = event.stream_id
            if sid & 2:  # unidirectional
                self._emit(lambda e: e.on_uni_stream_data(sid, event.data, event.end_stream))
            elif self.control_stream_id is None and not self.is_client:
                self.control_stream_id = sid
                self._emit(lambda e: e.on_control_data(event.data, event.end_stream))
            elif sid == self.control_stream_id:
                self._emit(lambda e: e.on_control_data(event.data, event.end_stream))
            else:
                self._emit(lambda e: e.on_protocol_error(f"a second bidirectional stream ({sid})"))
        elif isinstance(event, StreamReset):
            self._emit(lambda e: e.on_stream_reset(event.stream_id, event.error_code))
        elif isinstance(event, DatagramFrameReceived):
            self._emit(lambda e: e.on_datagram(event.data))
        elif isinstance(event, ConnectionTerminated):
            self._terminated(event)


class _MoqtQuicProtocol(QuicConnectionProtocol):
    """aioquic protocol that feeds a QuicTransport and tells it when ACKs may have freed room."""

    def __init__(
        self,
        quic: QuicConnection,
        *,
        is_client: bool,
        on_session: OnSession | None = None,
        max_uni_streams: int = DEFAULT_MAX_UNI_STREAMS,
    ) -> None:
        _adopt(quic, max_uni_streams)
        super().__init__(quic)
        self.moqt = QuicTransport(self, is_client)
        self._on_session = on_session

    def quic_event_received(self, event: QuicEvent) -> None:
        if self._on_session is not None and not self.moqt.is_client:
            on_session, self._on_session = self._on_session, None
            on_session(self.moqt)
        self.moqt.handle(event)

    def datagram_received(self, data: bytes | str, addr: object) -> None:
        super().datagram_received(data, addr)
        if self.moqt.events is not None and not self.moqt.closed:
            self.moqt.events.on_writable()


# ---- WebTransport over HTTP/3 ----


def _capsule(kind: int, payload: bytes) -> bytes:
    return encode_uint_var(kind) + encode_uint_var(len(payload)) + payload


class WebTransportTransport(_AioquicTransport):
    """MoQT inside a WebTransport session: streams and datagrams belong to the CONNECT stream's session."""

    kind = "webtransport"

    def __init__(self, protocol: QuicConnectionProtocol, h3: H3Connection, session_id: int, is_client: bool) -> None:
        super().__init__(protocol)
        self.h3 = h3
        self.session_id = session_id
        self.is_client = is_client
        self._capsules = bytearray()

    def open_control_stream(self) -> None:
        sid = self.h3.create_webtransport_stream(self.session_id, is_unidirectional=False)
        # aioquic marks a bidirectional WebTransport stream only on the side that receives its
        # header; on ours it would parse the peer's replies as HTTP/3 frames. Mark it here.
        with self.h3._get_or_create_stream(sid) as stream:
            stream.frame_type = FrameType.WEBTRANSPORT_STREAM
            stream.session_id = self.session_id
        self.control_stream_id = sid

    def open_uni_stream(self) -> int:
        return self.h3.create_webtransport_stream(self.session_id, is_unidirectional=True)

    def send_datagram(self, data: bytes) -> None:
        if not self.closed:
            self.h3.send_datagram(self.session_id, data)

    def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        payload = code.to_bytes(4, "big") + reason.encode()[:1024]
        with contextlib.suppress(Exception):  # the CONNECT stream may already be gone
            self.h3.send_data(self.session_id, _capsule(_CLOSE_WEBTRANSPORT_SESSION, payload), end_stream=True)
        self.protocol.transmit()
        # The capsule carries the code; give it a moment to leave before the QUIC close.
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, self._close_quic)

    def _close_quic(self) -> None:
        self.quic.close(error_code=_H3_NO_ERROR, reason_phrase="webtransport session closed")
        self.protocol.transmit()

    def handle_h3(self, event: H3Event) -> None:
        if isinstance(event, WebTransportStreamDataReceived):
            sid = event.stream_id
            if sid & 2:
                self._emit(lambda e: e.on_uni_stream_data(sid, event.data, event.stream_ended))
            elif self.control_stream_id is None and not self.is_client:
                self.control_stream_id = sid
                self._emit(lambda e: e.on_control_data(event.data, event.stream_ended))
            elif sid == self.control_stream_id:
                self._emit(lambda e: e.on_control_data(event.data, event.stream_ended))
            else:
                self._emit(lambda e: e.on_protocol_error(f"a second bidirectional stream ({sid})"))
        elif isinstance(event, DatagramReceived):
            self._emit(lambda e: e.on_datagram(event.data))
        elif isinstance(event, DataReceived) and event.stream_id == self.session_id:
            self._capsules += event.data
            self._read_capsules(event.stream_ended)

    def _emit_close(self, code: int, reason: str) -> None:
        self._emit(lambda e: e.on_closed(code, reason, True))

    def _read_capsules(self, ended: bool) -> None:
        buf = Buffer(data=bytes(self._capsules))
        while not buf.eof():
            start = buf.tell()
            try:
                kind = buf.pull_uint_var()
                payload = buf.pull_bytes(buf.pull_uint_var())
            except BufferReadError:
                buf.seek(start)
                break
            if kind == _CLOSE_WEBTRANSPORT_SESSION and len(payload) >= 4 and not self.closed:
                self.closed = True
                self._emit_close(int.from_bytes(payload[:4], "big"), payload[4:].decode(errors="replace"))
        del self._capsules[: buf.tell()]
        if ended and not self.closed:
            self.closed = True
            self._emit_close(0, "webtransport session ended")


OnSession = Callable[[Transport], None]
HttpHandler = Callable[[str], Awaitable[tuple[int, str, bytes]]]


class RequestSink(Protocol):
    """Takes a connection's plain HTTP/3 requests (REST): clutchcall_runtime.rpc.http3.H3Requests."""

    def on_headers(self, stream_id: int, headers: list[tuple[bytes, bytes]], ended: bool) -> None: ...
    def on_data(self, stream_id: int, data: bytes, ended: bool) -> bool: ...
    def on_reset(self, stream_id: int) -> None: ...
    def close(self) -> None: ...


RequestSinkFactory = Callable[[H3Connection, Callable[[], None]], RequestSink]


class _H3Protocol(QuicConnectionProtocol):
    """HTTP/3 with WebTransport: the server answers CONNECT /moq and plain GETs; the client opens /moq."""

    def __init__(
        self,
        quic: QuicConnection,
        *,
        is_client: bool,
        on_session: OnSession | None = None,
        http_handler: HttpHandler | None = None,
        requests: RequestSinkFactory | None = None,
        max_uni_streams: int = DEFAULT_MAX_UNI_STREAMS,
    ) -> None:
        _adopt(quic, max_uni_streams + _H3_OWN_UNI_STREAMS)
        super().__init__(quic)
        self.h3 = H3Connection(quic, enable_webtransport=True)
        self._requests = requests(self.h3, self.transmit) if requests is not None else None
        self.is_client = is_client
        self.moqt: WebTransportTransport | None = None
        self._on_session = on_session
        self._http_handler = http_handler
        self.connect_response: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._tasks: set[asyncio.Task[None]] = set()

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, ConnectionTerminated):
            if self._requests is not None:
                self._requests.close()
            if self.moqt is not None:
                self.moqt._terminated(event)
            if not self.connect_response.done():
                self.connect_response.set_exception(ConnectError(f"connection closed: {event.reason_phrase}"))
                self.connect_response.exception()  # a server's never-awaited future must not log
            return
        if isinstance(event, StreamReset | StopSendingReceived) and self._requests is not None:
            self._requests.on_reset(event.stream_id)  # a REST client gave up on its request or stream
        if isinstance(event, StreamReset) and self.moqt is not None:
            moqt = self.moqt
            moqt._emit(lambda e: e.on_stream_reset(event.stream_id, event.error_code))
        for h3_event in self.h3.handle_event(event):
            self._h3_event(h3_event)

    def _h3_event(self, event: H3Event) -> None:
        if isinstance(event, HeadersReceived):
            headers = dict(event.headers)
            if self.is_client:
                if not self.connect_response.done():
                    self.connect_response.set_result(int(headers.get(b":status", b"0") or 0))
                return
            if self._requests is not None and headers.get(b":method") != b"CONNECT":
                self._requests.on_headers(event.stream_id, event.headers, event.stream_ended)
                return
            self._request(event.stream_id, headers)
        elif (
            self._requests is not None
            and isinstance(event, DataReceived)
            and self._requests.on_data(event.stream_id, event.data, event.stream_ended)
        ):
            return
        elif self.moqt is not None:
            self.moqt.handle_h3(event)

    def _request(self, stream_id: int, headers: dict[bytes, bytes]) -> None:
        method = headers.get(b":method", b"").decode(errors="replace")
        path = headers.get(b":path", b"").decode(errors="replace")
        if method == "CONNECT" and headers.get(b":protocol") == b"webtransport":
            if path != WEBTRANSPORT_PATH or self.moqt is not None or self._on_session is None:
                self._respond(stream_id, 404, "text/plain", b"no such WebTransport endpoint\n")
                return
            self.h3.send_headers(stream_id, [(b":status", b"200"), (b"sec-webtransport-http3-draft", b"draft02")])
            self.transmit()
            self.moqt = WebTransportTransport(self, self.h3, stream_id, is_client=False)
            self._on_session(self.moqt)
            return
        if method == "GET" and self._http_handler is not None:
            handler = self._http_handler
            task = asyncio.get_running_loop().create_task(self._serve_get(handler, stream_id, path))
            self._tasks.add(task)  # the loop holds tasks weakly
            task.add_done_callback(self._tasks.discard)
            return
        self._respond(stream_id, 405 if method != "GET" else 404, "text/plain", b"not found\n")

    async def _serve_get(self, handler: HttpHandler, stream_id: int, path: str) -> None:
        try:
            status, content_type, body = await handler(path)
        except Exception:  # a handler bug is a 500 for this request, not a dead connection
            log.exception("http handler failed path=%s", path)
            status, content_type, body = 500, "text/plain", b"internal error\n"
        self._respond(stream_id, status, content_type, body)

    def _respond(self, stream_id: int, status: int, content_type: str, body: bytes) -> None:
        headers = [
            (b":status", str(status).encode()),
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        self.h3.send_headers(stream_id, headers)
        self.h3.send_data(stream_id, body, end_stream=True)
        self.transmit()

    def datagram_received(self, data: bytes | str, addr: object) -> None:
        super().datagram_received(data, addr)
        if self.moqt is not None and self.moqt.events is not None and not self.moqt.closed:
            self.moqt.events.on_writable()


# ---- listeners and dialers ----


@dataclass(frozen=True, slots=True)
class TlsOptions:
    """How a client checks the server: a CA file, a pinned SHA-256 of the DER certificate, or nothing (dev)."""

    cafile: str | None = None
    cert_sha256: bytes | None = None
    insecure: bool = False


def _client_config(alpn: list[str], server_name: str, tls: TlsOptions, idle_timeout: float) -> QuicConfiguration:
    config = QuicConfiguration(
        is_client=True,
        alpn_protocols=alpn,
        max_datagram_frame_size=MAX_DATAGRAM_FRAME_SIZE,
        server_name=server_name,
        idle_timeout=idle_timeout,
    )
    if tls.insecure or tls.cert_sha256 is not None:
        config.verify_mode = ssl.CERT_NONE  # the pin is checked after the handshake
    elif tls.cafile is not None:
        config.load_verify_locations(cafile=tls.cafile)
    return config


def _check_pin(transport: Transport, tls: TlsOptions) -> None:
    if tls.cert_sha256 is not None and transport.peer_certificate_sha256 != tls.cert_sha256:
        transport.close(0, "certificate pin mismatch")
        raise ConnectError("the server certificate does not match the pinned SHA-256")


class Connection(Protocol):
    """A client's connection, however it was dialed: its transport and how to release it."""

    @property
    def transport(self) -> Transport: ...

    async def aclose(self) -> None: ...


class Dialed:
    """A client connection over UDP: its transport and how to release it."""

    def __init__(self, transport: _AioquicTransport, udp: asyncio.DatagramTransport) -> None:
        self.transport = transport
        self._udp = udp

    async def aclose(self) -> None:
        await _close_dialed(self.transport.protocol, self._udp)


async def _close_dialed(protocol: QuicConnectionProtocol, udp: asyncio.DatagramTransport, grace_s: float = 1.0) -> None:
    """Close what `_dial` opened: the QUIC connection (waiting up to `grace_s` for CONNECTION_CLOSE to go out), then
    its UDP socket."""
    protocol.close()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(grace_s):
            await protocol.wait_closed()
    udp.close()


async def _dial(
    host: str,
    port: int,
    config: QuicConfiguration,
    factory: Callable[[QuicConnection], QuicConnectionProtocol],
    timeout: float,
) -> tuple[QuicConnectionProtocol, asyncio.DatagramTransport]:
    """Open a UDP socket, start the QUIC handshake and wait for it, at most `timeout` seconds."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        family, addr = infos[0][0], infos[0][4]
        local = "::" if family == socket.AF_INET6 else "0.0.0.0"
        udp, protocol = await loop.create_datagram_endpoint(
            lambda: factory(QuicConnection(configuration=config)), local_addr=(local, 0)
        )
    except OSError as exc:
        raise ConnectError(f"cannot connect to {host}:{port}: {exc}") from exc
    protocol.connect(addr)
    try:
        async with asyncio.timeout(timeout):
            await protocol.wait_connected()
    except (ConnectionError, TimeoutError, ssl.SSLError) as exc:
        protocol.close()
        udp.close()
        closed = protocol._quic._close_event  # the handshake's own reason, e.g. a certificate it refused
        why = closed.reason_phrase if closed is not None and closed.reason_phrase else str(exc) or type(exc).__name__
        raise ConnectError(f"cannot connect to {host}:{port}: {why}") from exc
    return protocol, udp


async def dial_quic(
    host: str,
    port: int,
    tls: TlsOptions,
    *,
    alpn: str,
    idle_timeout: float = 30.0,
    timeout: float = 2.0,
    max_uni_streams: int = DEFAULT_MAX_UNI_STREAMS,
) -> Dialed:
    """Raw QUIC to host:port with the draft's ALPN; the control stream is opened by the session.
    `max_uni_streams`: the data streams the server may have open to us at once."""
    config = _client_config([alpn], host, tls, idle_timeout)
    factory = partial(_MoqtQuicProtocol, is_client=True, max_uni_streams=max_uni_streams)
    protocol, udp = await _dial(host, port, config, factory, timeout)
    assert isinstance(protocol, _MoqtQuicProtocol)
    dialed = Dialed(protocol.moqt, udp)
    try:
        _check_pin(protocol.moqt, tls)
    except ConnectError:
        await dialed.aclose()
        raise
    return dialed


async def dial_webtransport(
    host: str,
    port: int,
    path: str,
    tls: TlsOptions,
    *,
    idle_timeout: float = 30.0,
    timeout: float = 2.0,
    max_uni_streams: int = DEFAULT_MAX_UNI_STREAMS,
) -> Dialed:
    """HTTP/3 to host:port, then an extended CONNECT (:protocol webtransport) to `path`."""
    config = _client_config(H3_ALPN, host, tls, idle_timeout)
    factory = partial(_H3Protocol, is_client=True, max_uni_streams=max_uni_streams)
    protocol, udp = await _dial(host, port, config, factory, timeout)
    assert isinstance(protocol, _H3Protocol)
    try:
        stream_id = protocol._quic.get_next_available_stream_id()
        protocol.h3.send_headers(
            stream_id,
            [
                (b":method", b"CONNECT"),
                (b":scheme", b"https"),
                (b":authority", f"{host}:{port}".encode()),
                (b":path", path.encode()),
                (b":protocol", b"webtransport"),
            ],
        )
        protocol.transmit()
        async with asyncio.timeout(timeout):
            status = await protocol.connect_response
        if status != 200:
            raise ConnectError(f"WebTransport CONNECT {path} answered {status}")
        protocol.moqt = WebTransportTransport(protocol, protocol.h3, stream_id, is_client=True)
        _check_pin(protocol.moqt, tls)
        return Dialed(protocol.moqt, udp)
    except (ConnectError, TimeoutError) as exc:
        protocol.close()
        udp.close()
        if isinstance(exc, ConnectError):
            raise
        raise ConnectError(f"WebTransport CONNECT {path}: no answer in {timeout} s") from exc


@dataclass(frozen=True, slots=True)
class ServerTls:
    certfile: str
    keyfile: str


def _server_config(alpn: list[str], tls: ServerTls, idle_timeout: float) -> QuicConfiguration:
    config = QuicConfiguration(
        is_client=False,
        alpn_protocols=alpn,
        max_datagram_frame_size=MAX_DATAGRAM_FRAME_SIZE,
        idle_timeout=idle_timeout,
    )
    config.load_cert_chain(tls.certfile, tls.keyfile)
    return config


async def listen_quic(
    host: str,
    port: int,
    tls: ServerTls,
    on_session: OnSession,
    *,
    alpn: str,
    idle_timeout: float = 30.0,
    max_uni_streams: int = DEFAULT_MAX_UNI_STREAMS,
) -> QuicServer:
    """Accept raw QUIC MoQT connections; `on_session` gets each new connection's transport.
    `max_uni_streams`: the data streams a client may have open at once."""
    config = _server_config([alpn], tls, idle_timeout)

    def factory(quic: QuicConnection, **_: object) -> QuicConnectionProtocol:
        return _MoqtQuicProtocol(quic, is_client=False, on_session=on_session, max_uni_streams=max_uni_streams)

    return await serve(host, port, configuration=config, create_protocol=factory)


async def listen_http3(
    host: str,
    port: int,
    tls: ServerTls,
    on_session: OnSession,
    http_handler: HttpHandler | None = None,
    *,
    idle_timeout: float = 30.0,
    requests: RequestSinkFactory | None = None,
    max_uni_streams: int = DEFAULT_MAX_UNI_STREAMS,
) -> QuicServer:
    """Accept HTTP/3: WebTransport CONNECT to /moq becomes a MoQT session; every other request goes to a
    `requests` sink when given (REST: `clutchcall_runtime.rpc.http3.h3_requests(app)`), else GETs to
    `http_handler`."""
    config = _server_config(H3_ALPN, tls, idle_timeout)

    def factory(quic: QuicConnection, **_: object) -> QuicConnectionProtocol:
        return _H3Protocol(
            quic,
            is_client=False,
            on_session=on_session,
            http_handler=http_handler,
            requests=requests,
            max_uni_streams=max_uni_streams,
        )

    return await serve(host, port, configuration=config, create_protocol=factory)


def bound_port(server: QuicServer) -> int:
    """The UDP port a listener is bound to (for port 0)."""
    assert server._transport is not None
    port: int = server._transport.get_extra_info("sockname")[1]
    return port
