"""HTTP/1.1 for REST: a server on asyncio streams with h11 (so curl and any HTTP library can call the
control plane), and the client transport on httpx.

Bounds: connections (`max_connections`; past it a 503 and close), header bytes (h11's incomplete
event limit: 431), body bytes (413), idle time between requests. Refusals are counted in `refused`.

A streamed response (a server stream's NDJSON) goes out in chunked transfer coding, one chunk per line,
pulled from the producer only as the socket drains (the transport's write buffer is the bound); a client
that reads nothing for `stream_stall_s` is cut off (`refused["slow_reader"]`), and one that closes the
connection stops the producer at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections import Counter
from collections.abc import AsyncIterator
from http import HTTPStatus

import h11
import httpx
from clutchcall import ErrorCode

from .errors import ApiError
from .rest import HttpRequest, HttpResponse, error_from_http, error_response
from .server import HttpApp

log = logging.getLogger("clutchcall.rpc.http1")

_READ = 65536


class Http1Server:
    """REST (or any `HttpApp`) over HTTP/1.1 with keep-alive; `await start()`, `port`, `await stop()`."""

    def __init__(
        self,
        app: HttpApp,
        *,
        max_connections: int = 1024,
        max_header_bytes: int = 16384,
        max_body_bytes: int = 1 << 20,
        idle_timeout_s: float = 30.0,
        stream_stall_s: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.app = app
        self.stream_stall_s = stream_stall_s
        self.max_connections = max_connections
        self.max_header_bytes = max_header_bytes
        self.max_body_bytes = max_body_bytes
        self.idle_timeout_s = idle_timeout_s
        self.ssl_context = ssl_context
        self.refused: Counter[str] = Counter()
        """Requests and connections refused by a bound, by reason."""
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._accept, host, port, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            if len(self._connections) > self.max_connections:
                self.refused["connections"] += 1
                busy = error_response(ApiError(ErrorCode.UNAVAILABLE, "too many connections"))
                await _send_and_close(h11.Connection(h11.SERVER), reader, writer, busy)
                return
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        except asyncio.CancelledError:  # stop(): the connection ends here, not in asyncio's stream callback
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        peer_text = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else ""
        leftover = b""
        while True:
            # h11 parses each request; the response is written directly (h11's validation of our own
            # headers doubled the cost), so each keep-alive cycle starts a fresh parser with what is left.
            # h11's own size limit is a backstop; ours answers 431 before it trips.
            conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self.max_header_bytes + _READ)
            if leftover:
                conn.receive_data(leftover)
            try:
                request = await self._read_request(conn, reader, peer_text)
            except h11.RemoteProtocolError as exc:
                self.refused["malformed"] += 1
                response = error_response(ApiError(ErrorCode.INVALID_ARGUMENT, f"bad HTTP/1.1 request: {exc}"))
                response.status = exc.error_status_hint
                await _send_and_close(conn, reader, writer, response)
                return
            except _HeadersTooLarge:
                self.refused["headers"] += 1
                too_big = ApiError(ErrorCode.INVALID_ARGUMENT, f"the headers are over {self.max_header_bytes} bytes")
                response = error_response(too_big)
                response.status = 431
                await _send_and_close(conn, reader, writer, response)
                return
            except _TooLarge:
                self.refused["body"] += 1
                response = error_response(
                    ApiError(ErrorCode.INVALID_ARGUMENT, f"the body is larger than {self.max_body_bytes} bytes")
                )
                response.status = 413
                await _send_and_close(conn, reader, writer, response)
                return
            if request is None:
                return
            response = await self.app(request)
            keep_alive = conn.their_state is not h11.MUST_CLOSE
            leftover, closed = conn.trailing_data
            if response.stream is not None:
                sent_all, more = await self._send_stream(request, response.stream, response, keep_alive, reader, writer)
                keep_alive, leftover = keep_alive and sent_all, leftover + more
            else:
                writer.write(_serialize(request, response, keep_alive))
                await writer.drain()
            if not keep_alive or closed:
                return

    async def _send_stream(
        self,
        request: HttpRequest,
        stream: AsyncIterator[bytes],
        response: HttpResponse,
        keep_alive: bool,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> tuple[bool, bytes]:
        """Send `stream` chunked; (whether it ended normally, bytes the client sent meanwhile)."""
        sent = bytearray()
        task = asyncio.current_task()
        assert task is not None
        left = False

        async def client_leaves() -> None:
            # EOF means the client went away: cancel the send wherever it waits (usually on the producer).
            # Anything else is a pipelined request, kept within the bounds.
            nonlocal left
            with contextlib.suppress(ConnectionError, OSError):
                while len(sent) <= self.max_header_bytes + self.max_body_bytes:
                    data = await reader.read(_READ)
                    if not data:
                        break
                    sent.extend(data)
            left = True
            task.cancel()

        watcher = asyncio.ensure_future(client_leaves())
        high_water = writer.transport.get_write_buffer_limits()[1]
        try:
            writer.write(_head(response, [("transfer-encoding", "chunked")], keep_alive))
            async for chunk in stream:
                if writer.transport.is_closing():  # the connection broke; the watcher may not have seen it yet
                    return False, b""
                writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                if writer.transport.get_write_buffer_size() > high_water:  # drain only blocks past it
                    try:
                        async with asyncio.timeout(self.stream_stall_s):
                            await writer.drain()
                    except TimeoutError:
                        self.refused["slow_reader"] += 1
                        return False, b""
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True, bytes(sent)
        except asyncio.CancelledError:
            if not left:
                raise
            task.uncancel()
            return False, b""
        finally:
            watcher.cancel()
            with contextlib.suppress(Exception):
                await stream.aclose()  # type: ignore[attr-defined]

    async def _read_request(self, conn: h11.Connection, reader: asyncio.StreamReader, peer: str) -> HttpRequest | None:
        head: h11.Request | None = None
        body = bytearray()
        head_bytes = 0
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                async with asyncio.timeout(self.idle_timeout_s if head is None else 30.0):
                    data = await reader.read(_READ)
                if head is None:
                    head_bytes += len(data)
                    if head_bytes > self.max_header_bytes + self.max_body_bytes:
                        raise _HeadersTooLarge
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Request):
                if sum(len(k) + len(v) + 4 for k, v in event.headers) > self.max_header_bytes:
                    raise _HeadersTooLarge
                head = event
                length = next((v for k, v in event.headers if k == b"content-length"), None)
                if length is not None and int(length) > self.max_body_bytes:
                    raise _TooLarge
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > self.max_body_bytes:
                    raise _TooLarge
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                return HttpRequest(
                    head.method.decode(),
                    head.target.decode(errors="replace"),
                    [(k.decode(), v.decode(errors="replace")) for k, v in head.headers],
                    bytes(body),
                    "h1",
                    peer,
                )
            elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return None


class _TooLarge(Exception):
    pass


class _HeadersTooLarge(Exception):
    pass


def _head(response: HttpResponse, framing: list[tuple[str, str]], keep_alive: bool) -> bytes:
    headers = [
        ("content-type", response.content_type),
        *framing,
        *response.headers,
        *([] if keep_alive else [("connection", "close")]),
    ]
    for name, value in headers:
        if any(c in name or c in value for c in "\r\n\0"):
            raise ValueError(f"response header {name!r} holds a line break or NUL")
    reason = _REASONS.get(response.status, "")
    head = f"HTTP/1.1 {response.status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("latin-1")


def _serialize(request: HttpRequest, response: HttpResponse, keep_alive: bool) -> bytes:
    head = _head(response, [("content-length", str(len(response.body)))], keep_alive)
    return head + (b"" if request.method == "HEAD" else response.body)


_REASONS = {s.value: s.phrase for s in HTTPStatus}


def _response_bytes(conn: h11.Connection, response: HttpResponse) -> bytes:
    headers = [
        ("content-type", response.content_type),
        ("content-length", str(len(response.body))),
        *response.headers,
    ]
    out = conn.send(h11.Response(status_code=response.status, headers=headers)) or b""
    out += conn.send(h11.Data(data=response.body)) or b""
    out += conn.send(h11.EndOfMessage()) or b""
    return out


async def _send_and_close(
    conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, response: HttpResponse
) -> None:
    """Answer and close; read what the client still sends for a moment (a lingering close), since closing
    with unread bytes makes the kernel reset the connection before the client reads the answer."""
    response.headers.append(("connection", "close"))
    with contextlib.suppress(h11.LocalProtocolError, ConnectionError, TimeoutError, OSError):
        if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            writer.write(_response_bytes(conn, response))
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(0.2):
            await reader.read(_READ)


class Http1Transport:
    """Client side: one httpx connection pool to the base URL."""

    def __init__(self, base_url: str, *, verify: ssl.SSLContext | bool = True, timeout_s: float = 10.0) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, verify=verify, timeout=timeout_s)
        # A stream may be quiet for as long as its producer has nothing to say: no read timeout there.
        self._stream_timeout = httpx.Timeout(timeout_s, read=None)

    async def stream(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes | None
    ) -> AsyncIterator[bytes]:
        """A 200 response's body as it arrives (TCP flow control holds the server back while we do not
        read); any other status raises its ApiError. Closing the iterator closes the connection."""
        try:
            async with self._client.stream(
                method, target, headers=headers, content=body, timeout=self._stream_timeout
            ) as response:
                if response.status_code != 200:
                    raise error_from_http(response.status_code, await _head_of(response))
                async for chunk in response.aiter_bytes():
                    yield chunk
        except httpx.TimeoutException as exc:
            raise ApiError(ErrorCode.DEADLINE_EXCEEDED, f"{method} {target}: {exc!r}") from None
        except httpx.TransportError as exc:
            raise ApiError(ErrorCode.UNAVAILABLE, f"{method} {target}: {exc!r}") from None

    async def request(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes | None
    ) -> tuple[int, bytes]:
        try:
            response = await self._client.request(method, target, headers=headers, content=body)
        except httpx.TimeoutException as exc:
            raise ApiError(ErrorCode.DEADLINE_EXCEEDED, f"{method} {target}: {exc!r}") from None
        except httpx.TransportError as exc:
            raise ApiError(ErrorCode.UNAVAILABLE, f"{method} {target}: {exc!r}") from None
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self._client.aclose()


_ERROR_BODY = 64 * 1024


async def _head_of(response: httpx.Response) -> bytes:
    """At most the first 64 KiB of an error body (an ErrorStatus is far smaller; a proxy's page may not be)."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= _ERROR_BODY:
            break
    return bytes(body[:_ERROR_BODY])
